"""Training speed, measured (not a test): images/s and the share of a step spent making data, AE vs QLAE, and
each speed option (lab/runs.py, speed_setup) on and off.

    python tests/bench_train.py                          # cpu, small and paper nets, 32 px, batch 64, this device
    python tests/bench_train.py --nets cpu,paper --resolution 64 --batch-size 128 --device cuda

Any train.py flag (--resolution, --batch-size, --device, --dataset) sets what is timed.
"""
import dataclasses
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402

import data  # noqa: E402
import models  # noqa: E402
import train  # noqa: E402
from lab import runs  # noqa: E402


def benchmark(args, nets=("cpu", "small", "paper"), steps=10, repeats=3, compile=True):
    """Training throughput, the share of a step spent making data, QLAE vs AE, and each speed option on vs off.
    All settings of one net are timed alternately in the same process (best of `repeats` rounds of `steps`), so
    their ratios are not skewed by drift in the machine's speed. Prints one table; returns its rows."""
    device = torch.device(args.device)
    dataset = data.get_dataset(args.dataset, args.resolution)
    generator = torch.Generator(device).manual_seed(0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    options = [("ae", {}), ("qlae", {}), ("qlae", {"channels_last": True})] + [("qlae", {"compile": True})] * compile
    if device.type == "cuda":
        options += [("qlae", {"bf16": True}), ("qlae", {"channels_last": True, "bf16": True})]
        options += [("qlae", {"channels_last": True, "bf16": True, "compile": True})] * compile
    print(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}), torch "
          f"{torch.__version__}, threads {torch.get_num_threads()}, {args.dataset} {dataset.image_shape}, "
          f"batch {args.batch_size}")
    print(f"{'net':6s} {'model':5s} {'options':28s} {'step ms':>8s} {'img/s':>8s} {'data %':>7s} {'vs qlae':>8s}")
    rows = []
    for net in nets:
        timed = []
        for name, opts in options:
            torch.manual_seed(0)
            model = train.build_model(name, dataset.image_shape, 2 * len(dataset.factor_sizes), net).to(device)
            run_args = dataclasses.replace(args, model=name, **opts)
            prepare, autocast = runs.speed_setup(run_args, model)
            timed.append((run_args, model, train.make_optimizers(run_args, model), prepare, autocast))

        def step(run_args, model, optimizers, prepare, autocast):  # one autoencoder step, as train.py's loop takes it
            t0 = time.perf_counter()
            x, _ = dataset.sample(args.batch_size, generator)
            x = prepare(x)
            sync()
            t1 = time.perf_counter()
            with autocast():
                loss, _ = train.model_loss(run_args, model, x, len(dataset))
            train.update(optimizers["model"], loss, run_args.grad_clip)
            sync()
            return t1 - t0, time.perf_counter() - t0

        best, failed = [(math.inf, 0.0)] * len(timed), set()
        for i, run in enumerate(timed):
            try:
                for _ in range(3):
                    step(*run)  # warm-up (and compilation)
            except Exception as e:  # e.g. torch.compile on a machine without a working C compiler: left out
                print(f"{net} {'+'.join(options[i][1])}: failed ({type(e).__name__}: {str(e)[:160]!r}); left out")
                failed.add(i)
        for _ in range(repeats):
            for i, run in enumerate(timed):
                if i in failed:
                    continue
                times = [step(*run) for _ in range(steps)]
                total, data_time = sum(t for _, t in times), sum(d for d, _ in times)
                best[i] = min(best[i], (total, data_time))
        plain_qlae = best[1][0]
        for i, ((name, opts), (total, data_time)) in enumerate(zip(options, best)):
            if i in failed:
                continue
            label = "+".join(opts) or "-"
            row = {"net": net, "model": name, "options": label, "step_ms": 1000 * total / steps,
                   "img_per_s": steps * args.batch_size / total, "data_share": data_time / total,
                   "vs_qlae": total / plain_qlae}
            rows.append(row)
            print(f"{net:6s} {name:5s} {label:28s} {row['step_ms']:8.1f} {row['img_per_s']:8.0f} "
                  f"{100 * row['data_share']:7.1f} {row['vs_qlae']:8.3f}")
    return rows


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    nets = ["cpu", "small", "paper"]
    if "--nets" in argv:
        i = argv.index("--nets")
        nets = argv[i + 1].split(",")
        del argv[i:i + 2]
    unknown = set(nets) - set(models.NETS)
    if unknown:
        sys.exit(f"error: --nets must name nets from {sorted(models.NETS)}, got {sorted(unknown)}")
    return benchmark(train.parse_args([*argv, "--out-dir", "-"]), nets)


if __name__ == "__main__":
    main()
