"""The prepared GPU check (not a test): throughput of the paper nets, each speed option on and off, and a short
QLAE run at paper scale, with the projected time of the paper's 200k steps. Prints a small table; < 5 minutes on
a current datacenter GPU.

    python tests/gpu_check.py            # on the GPU: paper nets, 64 px, batch 128
    python tests/gpu_check.py --tiny     # the same script at a tiny size on the CPU, without torch.compile
                                         # (tests/test_train.py runs this inside lab/gpu_session.sh)
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import train  # noqa: E402
from bench_train import benchmark  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tiny", action="store_true", help="cpu nets, 32 px, batch 8, a few steps: checks the script")
    p.add_argument("--run-steps", type=int, default=0, help="steps of the short QLAE run (default 3000; tiny 20)")
    a = p.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() and not a.tiny else "cpu"
    if a.tiny:
        size = ["--net", "cpu", "--resolution", "32", "--batch-size", "8"]
        run_steps, nets, eval_size = a.run_steps or 20, "cpu", 500
    else:
        size = ["--net", "paper", "--resolution", "64", "--batch-size", "128"]
        run_steps, nets, eval_size = a.run_steps or 3000, "paper", 10_000
    t0 = time.time()
    bench_args = train.parse_args([*size, "--device", device, "--out-dir", "-"])
    rows = benchmark(bench_args, [nets], *((2, 1, False) if a.tiny else (10, 3, True)))  # tiny: no compile (slow)
    fastest = min((r for r in rows if r["model"] == "qlae"), key=lambda r: r["step_ms"])
    flags = {"channels_last": "--channels-last", "compile": "--compile", "bf16": "--bf16"}
    speed = [flags[o] for o in fastest["options"].split("+") if o in flags]
    with tempfile.TemporaryDirectory() as out:
        t1 = time.time()
        result = train.main([*size, "--model", "qlae", "--steps", str(run_steps), "--device", device, "--eval-size",
                             str(eval_size), "--log-every", str(max(1, run_steps // 5)), "--out-dir", out, *speed])
        run_seconds = time.time() - t1
        metrics = [json.loads(line) for line in open(os.path.join(out, "metrics.jsonl"))]
    rate = metrics[-1]["img_per_s"]
    projection_h = 200_000 * (128 if not a.tiny else 8) / rate / 3600
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    print(f"\n| check ({name}, torch {torch.__version__}) | value |\n|---|---|")
    for r in rows:
        print(f"| {r['net']} {r['model']} {r['options']}: images/s (data share) | {r['img_per_s']:.0f} "
              f"({100 * r['data_share']:.1f} %) |")
    print(f"| fastest QLAE options | {' '.join(speed) or 'none'} |")
    print(f"| short QLAE run: {run_steps} steps, wall incl. eval | {run_seconds:.0f} s |")
    print(f"| its training throughput | {rate:.0f} images/s |")
    print(f"| projected 200k steps at batch {128 if not a.tiny else 8} | {projection_h:.2f} h |")
    print(f"| its PSNR / InfoM / InfoE / InfoC | {result['psnr']:.1f} / {result.get('infom', float('nan')):.2f} / "
          f"{result.get('infoe', float('nan')):.2f} / {result.get('infoc', float('nan')):.2f} |")
    print(f"| total wall | {time.time() - t0:.0f} s |")
    return {"rows": rows, "run": result, "img_per_s": rate, "projection_h": projection_h}


if __name__ == "__main__":
    main()
