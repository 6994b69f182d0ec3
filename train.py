"""Train a QLAE (or a baseline, or a (QL)InfoWGAN-GP) on a benchmark, then evaluate it (PSNR, codebook usage,
InfoMEC) and draw it.

    python train.py                      # QLAE on the 32 px Shapes3D analogue, CPU-sized (see README for time)
    python train.py --model ae           # the same with a plain autoencoder
    python train.py --model qlinfogan    # QLInfoWGAN-GP: the GAN family (5 critic steps per generator step)
    python train.py --preset paper       # the paper's scale for one GPU: paper nets, 64 px, batch 128, 200k steps
    python train.py --help               # every flag

Paper: Hsu et al., NeurIPS 2023, the method (weight decay) and the appendix (training details). The second half of
the method is the optimiser: AdamW with an unusually high decoupled weight decay (0.1 for QLAE), on every weight
matrix, kernel, norm scale and the decoder's constant input; biases, norm shifts and the codebook values are not
decayed. Weight decay keeps the networks small, so they cannot memorise an arbitrary map from the grid of codes
to images; together with the few values per latent, the cheapest fit is one where each value means the same
thing everywhere, i.e. a disentangled one. Gradients of the decayed group are clipped ELEMENT-WISE to [-1, 1].

Run folder (--out-dir): config.json, metrics.jsonl, ckpt.pt (a plain dict), eval.json, eval_latents.npz, figures.
Run safety (flag checks, lock, checkpoints, resume) is lab/runs.py; figures lab/figures.py; baselines lab/baselines.py.

Deviations from the paper / reference code: the default run is CPU-sized (32 px, "cpu" nets, batch 64, 6 000
steps); --preset paper restores the paper's setting.
"""
import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass, field

import torch

import data
import models
from lab import baselines, figures, infomec_tools, real_data, runs
from quantizer import LatentQuantizer

# ----------------------------------------------------------------------------------------------------------
# The paper's recipe, from its appendix and the authors' configs. AdamW, constant lr 1e-3, betas (0.9, 0.999);
# decayed gradients clipped element-wise to [-1, 1]; batch 128, 200 000 steps (--preset paper); each has a flag.
WEIGHT_DECAY = {  # AdamW's decoupled weight decay per model (--weight-decay): the second half of the method
    "qlae": 0.1,  # "unusually high": keeps the nets too small to memorise an arbitrary map from codes to images
    "ae": 0.0, "vae": 0.0, "tcvae": 0.0, "bioae": 1e-4, "vqvae": 0.01,  # the baselines' own settings
    "infogan": 1e-4, "qlinfogan": 1e-3,
}
BASELINE_WEIGHTS = {"beta": 3.0, "beta_tc": 3.0, "activity_weight": 0.01}  # beta-VAE, beta-TCVAE, BioAE (Shapes3D)
PER_DATASET = {  # where the paper's setting for a dataset differs from the two tables above (Shapes3D's)
    "mpi3d": {"beta": 0.1, "beta_tc": 0.3, "weight_decay": {"qlae": 0.001}},
    "falcor3d": {"beta": 10.0, "weight_decay": {"qlinfogan": 1e-4}},
    "isaac3d": {"beta": 0.3, "beta_tc": 1.0, "activity_weight": 0.1},
}  # (the procedural benchmarks, dsprites and npz: files take Shapes3D's values)
PAPER_PRESET = {"net": "paper", "resolution": 64, "batch_size": 128, "steps": 200_000, "lr": 1e-3,
                "log_every": 1000, "ckpt_every": 5000}  # --preset paper (the CPU default: Args below)
GAN_OPTIMISER = {"lr": 2e-4, "adam_beta1": 0.0, "adam_beta2": 0.9}  # the GANs' (and batch 64 at the paper's scale)
MODELS = ("ae", "qlae", "vae", "tcvae", "bioae", "vqvae", "infogan", "qlinfogan")
GANS = ("infogan", "qlinfogan")


def flag(default, help):
    return field(default=default, metadata={"help": help})


@dataclass
class Args:
    model: str = flag("qlae", "qlae (quantized latent), ae, vae (beta-VAE), tcvae (beta-TCVAE), bioae, vqvae, "
                              "infogan (InfoWGAN-GP), qlinfogan (QLInfoWGAN-GP)")
    dataset: str = flag("shapes3d", "shapes3d (procedural Shapes3D analogue), dsprites, vector (tiny, for tests); "
                                    "with --data-dir a real dataset (dsprites, shapes3d, mpi3d_toy, mpi3d_realistic, "
                                    "mpi3d_real, mpi3d_complex, falcor3d, isaac3d); or npz:PATH for your own data")
    data_dir: str = flag("", "folder holding a real dataset's downloaded file(s); empty = procedural data")
    preset: str = flag("cpu", "cpu: small and fast (defaults below); paper: PAPER_PRESET (paper nets, 64 px, ...)")
    resolution: int = flag(32, "image side for shapes3d (a multiple of 16, >= 32); dsprites is 64")
    net: str = flag("cpu", "network size: cpu (fast), small (paper's small variant) or paper (12-layer nets)")
    steps: int = flag(6000, "optimiser steps (GANs: critic steps, one generator step per 5)")
    batch_size: int = flag(64, "images per step")
    lr: float = flag(1e-3, "AdamW learning rate (constant); GANs default to 2e-4")
    adam_beta1: float = flag(0.9, "AdamW beta1; GANs default to 0")
    adam_beta2: float = flag(0.999, "AdamW beta2; GANs default to 0.9")
    grad_clip: float = flag(1.0, "element-wise gradient clip of the decayed group: each entry to [-c, c]")
    weight_decay: float = flag(-1.0, "AdamW decoupled weight decay on the decayed group; -1 = the paper's value "
                                     "(WEIGHT_DECAY, then PER_DATASET: qlae 0.1, on MPI3D 0.001; ae 0)")
    beta: float = flag(-1.0, "beta-VAE KL weight; -1 = the paper's value for the dataset (Shapes3D: 3)")
    beta_tc: float = flag(-1.0, "beta-TCVAE total-correlation weight; -1 = the paper's (Shapes3D: 3)")
    activity_weight: float = flag(-1.0, "BioAE activity (mean z^2) weight; -1 = the paper's (0.01)")
    quantization_weight: float = flag(0.01, "QLAE / QLInfoWGAN-GP quantization loss (moves the codebook values)")
    commitment_weight: float = flag(0.01, "QLAE / QLInfoWGAN-GP commitment loss (moves the encoder)")
    vq_codebook_weight: float = flag(1.0, "VQ-VAE codebook loss (its original paper's value)")
    vq_commitment_weight: float = flag(0.25, "VQ-VAE commitment loss (its original paper's value)")
    gp_weight: float = flag(10.0, "GANs: gradient penalty")
    latent_weight: float = flag(200.0, "GANs: latent (code) reconstruction, InfoGAN's term")
    critic_steps: int = flag(5, "GANs: critic updates per generator update")
    values_per_latent: int = flag(10, "values in each latent's scalar codebook (qlae, qlinfogan)")
    n_latents: int = flag(0, "number of latents; 0 = 2 x the number of sources")
    global_codebook: bool = flag(False, "ablation: one scalar codebook shared by every latent (qlae, qlinfogan)")
    frozen_values: bool = flag(False, "ablation: the codebook values stay at their initial grid (qlae, qlinfogan)")
    seed: int = flag(0, "seeds the weights and the training batches")
    device: str = flag("auto", "auto (cuda, then mps, then cpu), cpu, cuda or mps")
    out_dir: str = flag("", "run folder; empty = runs/MODEL-DATASET-sSEED-TIME")
    resume: bool = flag(False, "continue from OUT_DIR/ckpt.pt (same flags; --steps may grow)")
    log_every: int = flag(250, "steps between progress lines (and metrics.jsonl entries)")
    ckpt_every: int = flag(1000, "steps between checkpoints (one is always written at the end)")
    eval_size: int = flag(10_000, "images in the fixed evaluation set (fewer if the dataset is smaller)")
    eval_every: int = flag(0, "steps between learning-curve evaluations (InfoMEC in both flavours, PSNR, codebook "
                              "usage and range, decayed weights' norm) to curves.jsonl and curves.png; 0 = off")
    channels_last: bool = flag(False, "speed: channels-last memory layout (lab/runs.py, speed_setup)")
    compile: bool = flag(False, "speed: torch.compile the encoder and decoder (autoencoders only)")
    bf16: bool = flag(False, "speed: bfloat16 autocast of the forward pass (for GPUs)")
    active_fraction: float = flag(1 / 20, "standalone InfoMEC's pruning of continuous latents: active if range > "
                                          "max range x this (the training flavour's 1/8 is in infomec.FLAVOURS)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for f in dataclasses.fields(Args):
        name = "--" + f.name.replace("_", "-")
        if f.type is bool:
            parser.add_argument(name, action="store_true", help=f.metadata["help"])
        else:
            parser.add_argument(name, type=f.type, default=f.default, help=f.metadata["help"])
    args, given = Args(**vars(parser.parse_args(argv))), runs.given_flags(argv)  # unknown flags are an error
    preset = PAPER_PRESET if args.preset == "paper" else {}
    if args.model in GANS:
        preset = {**preset, **GAN_OPTIMISER, **({"batch_size": 64} if args.preset == "paper" else {})}
    for name, value in preset.items():  # a flag given explicitly wins over the preset
        if "--" + name.replace("_", "-") not in given:
            setattr(args, name, value)
    recipe = PER_DATASET.get("mpi3d" if args.dataset.startswith("mpi3d") else args.dataset, {})
    if args.weight_decay == -1:
        args.weight_decay = recipe.get("weight_decay", {}).get(args.model, WEIGHT_DECAY.get(args.model, 0.0))
    for name, value in BASELINE_WEIGHTS.items():
        if getattr(args, name) == -1:
            setattr(args, name, recipe.get(name, value))
    runs.check_args(parser, args, given, MODELS, GANS)  # flag ranges and combinations: refused before any work
    if args.data_dir or args.dataset not in ("shapes3d", "vector"):
        args.resolution = 64  # every other dataset is 64 px
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    args.out_dir = args.out_dir or runs.default_out_dir(args)
    return args


# ----------------------------------------------------------------------------------------------------------
# Which model, which objective: a plain switch on --model (the baselines come from lab/baselines.py).
def build_model(model, image_shape, n_latents, net="cpu", values_per_latent=10, learnable_values=True,
                global_codebook=False):
    if model in ("qlae", "qlinfogan"):
        codebook = LatentQuantizer(n_latents, values_per_latent, learnable_values, global_codebook)
    if model == "qlae":
        return models.QLAE(image_shape, n_latents, net, codebook)
    elif model in ("ae", "bioae"):
        return models.AE(image_shape, n_latents, net)
    elif model == "infogan":
        return models.InfoGAN(image_shape, n_latents, net)
    elif model == "qlinfogan":
        return models.InfoGAN(image_shape, n_latents, net, codebook)
    elif model in ("vae", "tcvae"):
        return baselines.VAE(image_shape, n_latents, net)
    elif model == "vqvae":
        return baselines.VQVAE(image_shape, n_latents, net)
    raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def model_loss(args, model, x, dataset_size=None):
    """An autoencoder's objective and its weights: returns (loss, dict of logged floats)."""
    if args.model == "qlae":  # reconstruction + 0.01 quantization + 0.01 commitment
        return models.qlae_loss(model, x, args.quantization_weight, args.commitment_weight)
    elif args.model == "ae":
        return models.ae_loss(model, x)
    elif args.model == "vae":
        return baselines.vae_loss(model, x, args.beta)
    elif args.model == "tcvae":
        return baselines.tcvae_loss(model, x, args.beta_tc, dataset_size)
    elif args.model == "bioae":
        return baselines.bioae_loss(model, x, args.activity_weight)
    elif args.model == "vqvae":
        return baselines.vqvae_loss(model, x, args.vq_codebook_weight, args.vq_commitment_weight)
    raise ValueError(f"unknown autoencoder {args.model!r} (the GANs train with gan_step)")


# ----------------------------------------------------------------------------------------------------------
# The optimiser: the paper's two parameter groups, element-wise clipping of the decayed one.
def param_groups(model, weight_decay, prefixes=("",)):
    """decayed: weights, kernels, norm scales, the decoder's constant; not decayed: biases, norm shifts, codebooks.
    Only parameters whose names start with one of `prefixes` (the GANs' two optimisers each take their part)."""
    decayed, plain = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad or not name.startswith(prefixes):
            continue  # a frozen codebook, or the other optimiser's part
        (plain if name.endswith("bias") or name.startswith("quantizer.") else decayed).append(p)
    return [{"params": decayed, "weight_decay": weight_decay, "name": "decayed"},
            {"params": plain, "weight_decay": 0.0, "name": "not_decayed"}]


def clip_decayed_gradients(optimizer, limit=1.0):
    """Element-wise clipping to [-limit, limit], on the decayed group only (not a global-norm clip)."""
    for group in optimizer.param_groups:
        if group["name"] == "decayed":
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.clamp_(-limit, limit)


def make_optimizers(args, model):
    """One AdamW for an autoencoder. Two for a GAN: the critic's (trunk, value head; its latent head is the Q-head)
    and the generator's (decoder and codebooks: the codebooks are updated with the generator)."""
    betas = (args.adam_beta1, args.adam_beta2)
    if args.model not in GANS:
        return {"model": torch.optim.AdamW(param_groups(model, args.weight_decay), lr=args.lr, betas=betas)}
    parts = {"critic": ("encoder.", "value_head."), "generator": ("decoder.", "quantizer.")}
    return {name: torch.optim.AdamW(param_groups(model, args.weight_decay, prefixes), lr=args.lr, betas=betas)
            for name, prefixes in parts.items()}


def update(optimizer, loss, clip):
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    clip_decayed_gradients(optimizer, clip)
    optimizer.step()


def gan_step(args, model, optimizers, x, step, generator, autocast=contextlib.nullcontext):
    """One critic update on real x and fresh codes; every critic_steps-th step (5) also one generator update.
    The weights (gradient penalty 10, latent 200, QL 0.01 and 0.01) are read from args by name."""
    with torch.no_grad():
        z = model.sample_codes(len(x), generator)  # (B, n_z)
    with autocast():
        loss, logs = models.critic_loss(model, x, z, vars(args), generator)
    update(optimizers["critic"], loss, args.grad_clip)  # moves only the critic's part
    if step % args.critic_steps == 0:
        with autocast():
            g_loss, g_logs = models.generator_loss(model, model.sample_codes(len(x), generator), vars(args))
        update(optimizers["generator"], g_loss, args.grad_clip)
        logs.update(g_logs)
    return loss, logs


# ----------------------------------------------------------------------------------------------------------
# Evaluation: PSNR, codebook usage and InfoMEC (in both of the authors' flavours) on a fixed set, plus figures.
def weight_summary(model):
    """What weight decay acts on: the L2 norm of every decayed parameter together, and (quantized models) the
    mean range max - min of a latent's codebook values."""
    decayed = param_groups(model, 0.0)[0]["params"]
    summary = {"decayed_norm": torch.sqrt(sum(p.detach().float().pow(2).sum() for p in decayed)).item()}
    if model.scalar_quantized:
        books = model.quantizer.codebooks().detach()  # (n_z, n_v)
        summary["codebook_range"] = (books.max(1).values - books.min(1).values).mean().item()
    return summary


@torch.no_grad()
def evaluate(args, model, dataset, out_dir, figures_too=True, latents_name="eval_latents.npz"):
    """PSNR, codebook usage and InfoMEC (both flavours) on the fixed evaluation set; keeps the set's latents
    (`latents_name`) and draws the figures. Touches no random stream that training uses."""
    model.eval()
    indices = data.eval_indices(dataset, args.eval_size).to(next(model.parameters()).device)  # (N,) every run's
    factors, codes, psnrs = dataset.index_to_factors(indices), [], []  # (N, n_s)
    for chunk in indices.split(500):
        x = dataset.render_index(chunk)  # (b, C, H, W)
        codes.append(model.codes(x).cpu())
        psnrs.append(models.psnr(model.reconstruct(x), x) * len(chunk))
    codes, values = torch.cat(codes), None  # (N, n_z): integer indices (quantized models) or continuous z
    if model.scalar_quantized:  # the quantized values z_q = codebook_j[code_j], for the training-time flavour
        values = model.quantizer.codebooks().cpu().gather(1, codes.t()).t().numpy()  # (N, n_z)
    result = {"psnr": sum(psnrs) / len(factors), "n_eval": len(factors), **weight_summary(model)}
    if model.discrete:  # quantized models are scored on their integer indices
        result["codebook_usage"] = model.quantizer.usage(codes.to(indices.device)).mean().item()
    sources = factors.cpu().numpy()
    runs.save_latents(os.path.join(out_dir, latents_name), sources, codes.numpy(), values)
    standalone = runs.score_into(result, sources, codes.numpy(), values, model.discrete, args.active_fraction)
    if figures_too and standalone is not None:  # the panel's title adds the three scores
        infomec_tools.plot_nmi(standalone, os.path.join(out_dir, "nmi.png"), dataset.factor_names, title=args.model)
    if figures_too and len(dataset.image_shape) == 3:  # images: reconstructions and (but for VQ-VAE) traversals
        figures.draw_figures(model, dataset, indices[:8], codes, out_dir)
    model.train()
    return result


# ----------------------------------------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    print("config:", json.dumps(dataclasses.asdict(args)))
    torch.manual_seed(args.seed)
    try:  # data.get_dataset's procedural benchmark, or with --data-dir or npz:PATH a file (lab/real_data.py)
        dataset = real_data.open_dataset(args.dataset, args.resolution, args.data_dir or None)
    except (ValueError, ImportError) as e:
        sys.exit(f"error: {e}")
    model = build_model(args.model, dataset.image_shape, args.n_latents or 2 * len(dataset.factor_sizes), args.net,
                        args.values_per_latent, not args.frozen_values, args.global_codebook).to(args.device)
    prepare, autocast = runs.speed_setup(args, model)  # the speed flags, all off by default
    optimizers = make_optimizers(args, model)
    generator = torch.Generator(args.device).manual_seed(args.seed)  # the training batches' random stream
    with runs.run_folder_lock(args.out_dir):  # one process per run folder
        start, seconds_before = runs.resume(args, model, optimizers, generator)  # (0, 0.0) unless --resume
        runs.write_json(runs.config_of(args), os.path.join(args.out_dir, "config.json"))
        print(f"{args.model} on {args.dataset} {dataset.image_shape}, {model.n_latents} latents, "
              f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M params, run folder {args.out_dir}")

        # ------------------------------------------------------------------------------------------ training
        model.train()
        t_start, t_data, images, sums, counts, logs, eval_seconds = time.time(), 0.0, 0, {}, {}, {}, 0.0
        for step in range(start + 1, args.steps + 1):
            t0 = time.time()  # sample
            x = prepare(dataset.sample(args.batch_size, generator)[0])  # (B, C, H, W) on the device
            t_data += time.time() - t0
            if args.model in GANS:  # step: a critic update (and every 5th step a generator update)
                loss, logs = gan_step(args, model, optimizers, x, step, generator, autocast)
            else:  # step: one update of the autoencoder's objective
                with autocast():
                    loss, logs = model_loss(args, model, x, len(dataset))
                update(optimizers["model"], loss, args.grad_clip)
            runs.check_finite(loss, step, args)
            images += args.batch_size
            for k, v in {"loss": loss.item(), **logs}.items():  # log: means over the interval
                sums[k], counts[k] = sums.get(k, 0.0) + v, counts.get(k, 0) + 1
            if step % args.log_every == 0 or step == args.steps:
                means = {k: v / counts[k] for k, v in sums.items()}
                runs.log(args, step, means, images, t_data, time.time() - t_start - eval_seconds)
                sums, counts = {}, {}
            if args.eval_every and step % args.eval_every == 0 and step < args.steps:  # a curve point, before the
                t0, rng = time.time(), torch.get_rng_state()  # checkpoint (a resume redoes it); random state put back
                result = evaluate(args, model, dataset, args.out_dir, False, runs.curve_latents(args.out_dir, step))
                torch.set_rng_state(rng)
                eval_seconds += time.time() - t0
                runs.curve_point(args.out_dir, step, result)
            if step % args.ckpt_every == 0 or step == args.steps:  # checkpoint
                train_seconds = seconds_before + time.time() - t_start - eval_seconds
                runs.checkpoint(args, model, optimizers, generator, step, logs, train_seconds)
        train_seconds = seconds_before + time.time() - t_start - eval_seconds

        # ---------------------------------------------------------------------------------------- evaluation
        t0 = time.time()
        with runs.evaluation_guard(args):  # a full disk here: one line of advice; the weights are saved
            result = evaluate(args, model, dataset, args.out_dir)
            result.update({"steps": args.steps, "train_seconds": train_seconds, "eval_seconds": time.time() - t0})
            if args.eval_every:
                runs.curve_point(args.out_dir, args.steps, result)
                figures.plot_curves([[runs.read_jsonl(os.path.join(args.out_dir, "curves.jsonl"))]],
                                    os.path.join(args.out_dir, "curves.png"), [args.model])
            runs.write_json(result, os.path.join(args.out_dir, "eval.json"))
    shown = lambda r: json.dumps({k: round(v, 4) for k, v in r.items() if isinstance(v, float)})  # the scores
    print("final:", shown(result))  # top level: the standalone InfoMEC; then the training-time flavour's
    print("final, training-time flavour:", shown(result.get("training_flavour", {})))
    print(f"figures (PNG) and eval.json in {args.out_dir}")
    return result


if __name__ == "__main__":
    main()
