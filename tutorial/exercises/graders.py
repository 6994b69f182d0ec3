"""Graders for the exercises: each takes the function(s) a student wrote and raises AssertionError with a
helpful message when something is wrong. They check hand-computed answers and properties, not agreement with
the project's code, so tests/test_tutorial.py can run the same graders on the project's own implementation
(they must pass) and on wrong answers (they must fail)."""
import hashlib
import math

import numpy as np
import torch


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def call(fn, *args):
    try:
        return fn(*args)
    except NotImplementedError:
        raise AssertionError(f"{fn.__name__} is not written yet (it raises NotImplementedError)") from None


# ----------------------------------------------------------------------------------------------- step 2
def grade_nearest_value(nearest_value):
    books = torch.tensor([[-0.5, 0.0, 0.25, 1.0], [2.0, -1.0, 0.5, 0.0]])  # (n_z=2, n_v=4), unsorted on purpose
    z_c = torch.tensor([[0.12, 0.2], [-0.3, 1.6], [0.9, -0.4]])  # (B=3, n_z=2)
    out = call(nearest_value, z_c, books)
    expect(isinstance(out, tuple) and len(out) == 2, "return a pair (z_q, indices)")
    z_q, idx = out
    expect(tuple(idx.shape) == (3, 2) and tuple(z_q.shape) == (3, 2),
           f"z_q and indices should both be (B, n_z) = (3, 2); got {tuple(z_q.shape)} and {tuple(idx.shape)}")
    expect(not idx.dtype.is_floating_point, f"indices should be integers, got {idx.dtype}")
    want = torch.tensor([[1, 3], [0, 0], [3, 3]])
    for b in range(3):
        for j in range(2):
            expect(idx[b, j] == want[b, j],
                   f"z_c[{b}, {j}] = {z_c[b, j]:.2f} with latent {j}'s codebook {books[j].tolist()}: expected index "
                   f"{want[b, j]} (value {books[j, want[b, j]]:.2f}), got {idx[b, j]}. Each latent uses its OWN "
                   "codebook row, and the distance is |z - v|.")
    expect(torch.equal(z_q, torch.gather(books.expand(3, -1, -1), 2, want[..., None]).squeeze(2)),
           "z_q should hold the codebook values at the chosen indices")
    tie = call(nearest_value, torch.tensor([[0.125]]), torch.tensor([[0.0, 0.25, 0.5]]))[1]
    expect(tie.item() == 0, "a tie (0.125 is as far from 0.0 as from 0.25) goes to the LOWEST index, as argmin does")


def grade_straight_through(straight_through):
    z_c = torch.tensor([[0.3, -0.7]], requires_grad=True)
    values = torch.tensor([0.25, -0.5], requires_grad=True)  # stands in for the codebook
    z_q = values[None] * 1.0  # (1, 2), depends on the codebook only
    out = call(straight_through, z_c, z_q)
    expect(torch.allclose(out, z_q), f"the forward value must be z_q = {z_q.tolist()}, got {out.tolist()}")
    (out * torch.tensor([[2.0, 3.0]])).sum().backward()
    expect(z_c.grad is not None and torch.allclose(z_c.grad, torch.tensor([[2.0, 3.0]])),
           "the gradient must reach z_c unchanged (as if quantization were the identity); got "
           f"{None if z_c.grad is None else z_c.grad.tolist()}")
    expect(values.grad is None or values.grad.abs().max() == 0,
           "no gradient may reach the codebook through the straight-through path (use .detach())")


def grade_losses(quantization_loss, commitment_loss):
    for name, fn, moves, still in (("quantization_loss", quantization_loss, "codebook", "encoder"),
                                   ("commitment_loss", commitment_loss, "encoder", "codebook")):
        z_c = torch.tensor([[0.3, -0.7], [0.1, 0.0]], requires_grad=True)  # the encoder's output
        values = torch.tensor([[0.25, -0.5], [0.0, 0.5]], requires_grad=True)  # its nearest codebook values
        loss = call(fn, z_c, values * 1.0)
        want = ((z_c - values) ** 2).mean().item()
        expect(abs(loss.item() - want) < 1e-6, f"{name}: the value should be the mean of (z_c - z_q)^2 = {want:.5f}, "
                                               f"got {loss.item():.5f}")
        loss.backward()
        grads = {"encoder": z_c.grad, "codebook": values.grad}
        expect(grads[moves] is not None and grads[moves].abs().sum() > 0, f"{name} must move the {moves}")
        expect(grads[still] is None or grads[still].abs().sum() == 0,
               f"{name} must not move the {still}: detach the {still}'s side")


def grade_param_groups(param_groups):
    from train import build_model

    torch.manual_seed(0)
    model = build_model("qlae", (3, 32, 32), 4, "cpu")
    groups = call(param_groups, model, 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    seen = {}
    for g in groups:
        for p in g["params"]:
            expect(id(p) not in seen, f"{names[id(p)]} is in two groups")
            seen[id(p)] = g.get("weight_decay", None)
    expect(set(seen) == set(names), f"every parameter must be in a group; missing: "
                                     f"{sorted(names[i] for i in set(names) - set(seen))[:4]}")
    decayed = {names[i] for i, wd in seen.items() if wd == 0.1}
    plain = {names[i] for i, wd in seen.items() if wd == 0.0}
    for name, where in (("decoder.const", decayed), ("encoder.convs.0.weight", decayed),
                        ("encoder.convs.1.weight", decayed), ("encoder.head.weight", decayed),
                        ("encoder.head.bias", plain), ("encoder.convs.1.bias", plain), ("quantizer.values", plain)):
        kind = "decayed (weight_decay 0.1)" if where is decayed else "not decayed (weight_decay 0.0)"
        expect(name in where, f"{name} should be {kind}. Hint: the InstanceNorm scale is named '.weight' and its "
                              "shift '.bias'; the decoder's learned constant input is a weight too.")


# ----------------------------------------------------------------------------------------------- step 4
def grade_mutual_info(mutual_info):
    a = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    b = np.array([0, 0, 1, 1, 0, 1, 1, 0])  # agrees with a on 6 of 8
    p = np.array([[3, 1], [1, 3]]) / 8
    want = sum(p[i, j] * math.log(p[i, j] / 0.25) for i in range(2) for j in range(2))
    got = call(mutual_info, a, b)
    expect(abs(got - want) < 1e-9, f"I(a; b) for the table [[3, 1], [1, 3]] / 8 is {want:.6f} nats, got {got}. "
                                   "Use natural logs and the joint, not conditional, probabilities.")
    expect(abs(call(mutual_info, a, a) - math.log(2)) < 1e-9, "I(a; a) = H(a) = log 2 for a fair binary a")
    expect(abs(call(mutual_info, a, b) - call(mutual_info, b, a)) < 1e-12, "mutual information is symmetric")
    expect(abs(call(mutual_info, a * 7 + 3, b) - want) < 1e-9, "relabelling values (7a + 3) must not change it")


def grade_knn_mutual_info(knn_mutual_info):
    rng = np.random.default_rng(1)
    s = rng.integers(0, 2, 2000)
    z = s + 0.5 * rng.standard_normal(2000)  # true I = 0.3368 nats (numerical integration)
    got = call(knn_mutual_info, z, s, 10)
    expect(abs(got - 0.3368) < 0.03, f"two classes at distance 1 with noise std 0.5 share 0.337 nats; got {got:.4f}. "
                                     "Check: the k-th neighbour is searched among SAME-label points; m counts "
                                     "points of ANY label strictly within that distance (the point itself too).")
    indep = call(knn_mutual_info, rng.standard_normal(2000), s, 10)
    expect(abs(indep) < 0.03, f"an independent z should give about 0; got {indep:.4f}")


def grade_infom(infom):
    expect(abs(call(infom, np.eye(3)) - 1) < 1e-9, "one source per latent (the identity) is perfectly modular: 1")
    expect(abs(call(infom, np.full((3, 4), 0.2))) < 1e-9, "every latent spread evenly over the 3 sources is chance: 0")
    nmi = np.array([[0.8, 0.1], [0.2, 0.1]])
    # latent 0: max/sum = 0.8; latent 1: 0.5; mean 0.65; rescaled with n = 2 sources: (0.65 - 0.5) / 0.5
    got = call(infom, nmi)
    expect(abs(got - 0.3) < 1e-9, f"for NMI [[0.8, 0.1], [0.2, 0.1]] expected 0.3, got {got}. Per LATENT (column): "
                                  "max over sources / sum over sources; then rescale by the number of SOURCES.")


def grade_null_cross_entropy(null_cross_entropy):
    labels = np.array([0] * 70 + [1] * 20 + [2] * 10)
    h = -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1))
    got = call(null_cross_entropy, labels, False)
    expect(abs(got - h) < 1e-6, f"unweighted: the best constant prediction is the class frequencies and its "
                                f"cross-entropy is H(labels) = {h:.4f}; got {got}")
    got = call(null_cross_entropy, labels, True)
    expect(abs(got - math.log(3)) < 1e-6, f"class-balanced: every class weighs the same in total, the best constant "
                                          f"prediction is uniform and its weighted cross-entropy is log K = "
                                          f"{math.log(3):.4f}; got {got}")


def grade_gaussian_kl(gaussian_kl):
    mu = torch.tensor([[0.0, 1.0, -2.0]])
    sigma = torch.tensor([[1.0, 0.5, 2.0]])
    got = call(gaussian_kl, mu, sigma)
    expect(tuple(got.shape) == (1, 3), f"return the KL per dimension, shape (B, n_z) = (1, 3); got {tuple(got.shape)}")
    want = torch.distributions.kl_divergence(torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0, 1))
    expect(torch.allclose(got, want, atol=1e-6), f"KL(N(mu, sigma^2) || N(0, 1)) should be {want.tolist()}, got "
                                                 f"{got.tolist()}. Note sigma is a standard deviation, not a variance.")
    expect(abs(got[0, 0].item()) < 1e-7, "the standard normal against itself has KL 0")


# The answer is stored as a hash, so this file does not give it away.
WHAT_WOULD_CONTRADICT = "420519e845e82813ca04bea2c67799419f389fed8b3933e0332e56963b43f93a"


def grade_why_weight_decay(answer):
    expect(isinstance(answer, str) and answer.strip().lower() in "abcd" and len(answer.strip()) == 1,
           f"ANSWER should be one letter, a, b, c or d; got {answer!r}")
    digest = hashlib.sha256(("ex10-contradiction:" + answer.strip().lower()).encode()).hexdigest()
    expect(digest == WHAT_WOULD_CONTRADICT, "not this one: that observation is what the explanation predicts, or "
                                             "says nothing about it. Which one could only happen if small weights "
                                             "did NOT force each value to keep one meaning?")


# ----------------------------------------------------------------------------------------------- steps 3-6
def grade_decay_time_constant(left_after, steps_until):
    got = call(left_after, 1e-3, 0.1, 10_000)
    expect(abs(got - 0.9999 ** 10_000) < 1e-9, f"left_after(1e-3, 0.1, 10 000) should be (1 - 1e-3 * 0.1) ** 10 000 = "
                                                f"{0.9999 ** 10_000:.4f}, got {got}. AdamW's decoupled decay multiplies "
                                                "by (1 - lr * wd) each step: the learning rate is part of it.")
    expect(abs(got - math.exp(-1)) < 1e-4, "after one time constant 1 / (lr wd), about 1/e should be left")
    expect(abs(call(left_after, 1e-3, 0.1, 0) - 1) < 1e-12, "after 0 steps the whole weight is left")
    half = call(steps_until, 0.5, 1e-3, 0.1)
    expect(abs(half - math.log(0.5) / math.log(1 - 1e-4)) < 1e-6,
           f"steps_until(0.5, 1e-3, 0.1) should be log 0.5 / log(1 - 1e-4) = {math.log(0.5) / math.log(1 - 1e-4):.1f} "
           f"steps (about 0.69 time constants), got {half}")
    for fraction, lr, wd in ((0.1, 2e-4, 1e-3), (0.9, 1e-3, 1.0)):
        steps = call(steps_until, fraction, lr, wd)
        expect(abs(call(left_after, lr, wd, steps) - fraction) < 1e-9,
               f"left_after(lr, wd, steps_until(f, lr, wd)) should give back f = {fraction}: the two are inverses")


def _ratio(nmi, axis):
    n = nmi.shape[axis]
    return ((nmi.max(axis) / nmi.sum(axis)).mean() - 1 / n) / (1 - 1 / n)


def grade_lowest_infoc(lowest_infoc, example):
    for n_s, n_z in ((2, 4), (3, 6), (6, 12), (4, 4), (2, 10)):
        want = (n_s - 1) / (n_z - 1)
        got = call(lowest_infoc, n_s, n_z)
        expect(abs(got - want) < 1e-9, f"lowest_infoc({n_s}, {n_z}): got {got}. With InfoM = 1 each latent belongs to "
                                       "one source; a source's max / sum is smallest when its NMI is spread evenly "
                                       "over as many latents as possible, and every source needs at least one. Write "
                                       "that ratio for n_z / n_s latents per source, then rescale.")
        nmi = np.asarray(call(example, n_s, n_z), dtype=float)
        expect(nmi.shape == (n_s, n_z), f"example({n_s}, {n_z}) should be an (n_s, n_z) array, got {nmi.shape}")
        expect(((nmi >= 0) & (nmi <= 1)).all() and (nmi.sum(0) > 0).all(),
               "NMI values lie in [0, 1] and every latent must be active (a non-zero column)")
        expect(abs(_ratio(nmi, 0) - 1) < 1e-9, f"example({n_s}, {n_z}) should have InfoM = 1: one non-zero per column")
        expect(abs(_ratio(nmi, 1) - want) < 1e-9, f"example({n_s}, {n_z}) has InfoC {_ratio(nmi, 1):.4f}, not the "
                                                  f"lowest, {want:.4f}")


def grade_infoe(infoe):
    rng = np.random.default_rng(0)
    s = np.stack([rng.integers(0, 3, 600), rng.integers(0, 4, 600)], 1)
    perfect = s + 0.01 * rng.standard_normal(s.shape)
    got = float(call(infoe, perfect, s))
    expect(got > 0.99, f"latents that determine every source should give InfoE near 1, got {got:.4f}")
    unrelated = rng.standard_normal((600, 2))
    got = float(call(infoe, unrelated, s))
    expect(abs(got) < 0.02, f"latents independent of the sources should give InfoE near 0, got {got:.4f}")
    skewed = np.where(rng.random(600) < 0.8, 0, rng.integers(1, 3, 600))[:, None]  # 80 % class 0
    z = np.where(skewed == 0, 0.0, rng.standard_normal((600, 1)))
    got = float(call(infoe, z, skewed))
    from infomec import logistic_cross_entropy

    h = logistic_cross_entropy((z - z.mean(0)) / z.std(0), skewed[:, 0])[0]
    want = (math.log(3) - h) / math.log(3)
    expect(abs(got - want) < 1e-3, f"on a skewed source (80 % one class) InfoE should be {want:.4f}, got {got:.4f}. "
                                   "With class-balanced weights the best latent-free model predicts every class "
                                   "equally: H_null = log K, not the entropy of the labels.")


def grade_gradient_penalty(gradient_penalty):
    w, b = torch.tensor([3.0, 4.0], requires_grad=True), torch.tensor(0.5, requires_grad=True)
    real, fake = torch.tensor([[1.0, 2.0], [0.0, -1.0]]), torch.tensor([[0.0, 0.0], [2.0, 2.0]])
    eps = torch.tensor([0.25, 0.5])
    got = call(gradient_penalty, lambda x: x @ w + b, real, fake, eps)
    expect(torch.is_tensor(got) and got.dim() == 0, "return a scalar tensor (the mean over the batch)")
    expect(abs(got.item() - 16.0) < 1e-5, f"a linear critic <w, x> + b has gradient w everywhere: (|w| - 1)^2 = "
                                          f"(5 - 1)^2 = 16 for w = (3, 4), got {got.item():.4f}")
    expect(got.requires_grad, "the penalty must be differentiable with respect to the critic's parameters: ask "
                              "torch.autograd.grad for create_graph=True")
    got.backward()
    expect(w.grad is not None and torch.allclose(w.grad, torch.tensor([2 * 4 * 3 / 5, 2 * 4 * 4 / 5])),
           "the penalty's gradient must reach the critic's parameters (create_graph=True): d/dw (|w| - 1)^2 = "
           f"2 (|w| - 1) w / |w| = (4.8, 6.4); got {None if w.grad is None else w.grad.tolist()}")
    x_hat = eps[:, None] * real + (1 - eps[:, None]) * fake
    want = ((x_hat.norm(dim=1) - 1) ** 2).mean()
    got = call(gradient_penalty, lambda x: 0.5 * (x ** 2).sum(1), real, fake, eps)
    expect(abs(got.item() - want.item()) < 1e-5,
           f"for D(x) = |x|^2 / 2 the gradient at x_hat is x_hat itself, so the penalty is mean (|x_hat| - 1)^2 = "
           f"{want.item():.4f} with x_hat = eps * real + (1 - eps) * fake; got {got.item():.4f}")
    images = torch.ones(2, 1, 2, 2)
    got = call(gradient_penalty, lambda x: x.flatten(1).sum(1), images, 0 * images, eps)
    expect(abs(got.item() - 1.0) < 1e-5, "the norm is over ALL of an example's numbers: for D(x) = sum of 4 pixels the "
                                         f"gradient norm is 2, penalty (2 - 1)^2 = 1; got {got.item():.4f}")


def grade_total_correlation(gaussian_total_correlation):
    got = float(call(gaussian_total_correlation, np.diag([1.0, 4.0, 0.25])))
    expect(abs(got) < 1e-10, f"independent latents (a diagonal covariance) have TC 0, got {got}")
    for rho in (0.5, 0.9):
        C = np.array([[1.0, rho], [rho, 1.0]])
        want = -0.5 * math.log(1 - rho ** 2)
        got = float(call(gaussian_total_correlation, C))
        expect(abs(got - want) < 1e-9, f"two unit-variance latents with correlation {rho}: TC = -1/2 log(1 - rho^2) = "
                                       f"{want:.4f}, got {got:.4f}. TC = 1/2 (sum_j log C_jj - log det C).")
    got = float(call(gaussian_total_correlation, np.array([[4.0, 1.8], [1.8, 9.0]])))
    expect(abs(got + 0.5 * math.log(1 - 0.3 ** 2)) < 1e-9, "TC does not depend on the latents' scales, only on their "
                                                            f"correlations (here 0.3); got {got:.4f}")


def grade_style_modulation(modulate):
    torch.manual_seed(0)
    h = torch.randn(2, 3, 4, 4) * 5 + 2
    style = torch.nn.Linear(2, 6)
    with torch.no_grad():
        style.weight.zero_()
        style.bias.copy_(torch.tensor([2.0, 0.5, -1.0, 1.0, -3.0, 0.25]))  # scale (2, 0.5, -1), shift (1, -3, 0.25)
    out = call(modulate, h, torch.zeros(2, 2), style)
    expect(tuple(out.shape) == (2, 3, 4, 4), f"the output has h's shape (2, 3, 4, 4), got {tuple(out.shape)}")
    mean, std = out.mean((2, 3)), out.var((2, 3), unbiased=False).sqrt()
    expect(torch.allclose(mean[0], torch.tensor([1.0, 0.0, 0.25]), atol=1e-4),
           f"each channel's mean over the image must be its shift after the ReLU: (1, 0, 0.25); got "
           f"{[round(v, 3) for v in mean[0].tolist()]}. Normalise h first (then its mean is 0), take the first "
           "half of ReLU(style(w)) as scale and the second as shift.")
    expect(torch.allclose(std[0], torch.tensor([2.0, 0.5, 0.0]), atol=1e-3),
           f"each channel's standard deviation must be its scale after the ReLU: (2, 0.5, 0); got "
           f"{[round(v, 3) for v in std[0].tolist()]}. Is h normalised per example AND channel, with unbiased=False?")
    expect(torch.allclose(out[:, 2], torch.full_like(out[:, 2], 0.25), atol=1e-5),
           "a negative pre-activation scale is clipped to 0 by the ReLU: that channel is switched off (constant)")


_RUNS = {}


def _train_vector(model_name, loss=None, seed=0, steps=2000):
    """Train on the vector benchmark with train.py (the QLAE with `loss` in place of the project's objective) and
    return its eval.json. The AE's run is kept for the session: it does not depend on the student."""
    import json
    import tempfile

    import train

    if model_name == "ae" and ("ae", seed) in _RUNS:
        return _RUNS[("ae", seed)]
    project_objective = train.model_loss  # the QLAE trains on `loss`; everything else as train.py does it
    if loss is not None:
        train.model_loss = lambda args, model, x, *rest: ((loss(model, x), {}) if args.model == "qlae"
                                                          else project_objective(args, model, x, *rest))
    try:
        with tempfile.TemporaryDirectory() as out:
            train.main(["--dataset", "vector", "--model", model_name, "--seed", str(seed), "--steps", str(steps),
                        "--batch-size", "128", "--log-every", str(steps), "--eval-size", "2000", "--out-dir", out])
            result = json.load(open(f"{out}/eval.json"))
    finally:
        train.model_loss = project_objective
    if model_name == "ae":
        _RUNS[("ae", seed)] = result
    return result


def grade_train_qlae(qlae_loss, more_modular):
    import models
    import quantizer
    import train

    torch.manual_seed(0)
    model = train.build_model("qlae", (16,), 6)
    x = torch.rand(8, 16)
    got = call(qlae_loss, model, x)
    expect(torch.is_tensor(got) and got.dim() == 0, "qlae_loss should return one scalar tensor")
    z_c = model.encoder(x)
    z_q, _ = model.quantizer(z_c)
    recon = models.reconstruction_loss(model.decoder(quantizer.straight_through(z_c, z_q)), x)
    want = recon + 0.01 * quantizer.quantization_loss(z_c, z_q) + 0.01 * quantizer.commitment_loss(z_c, z_q)
    expect(abs(got.item() - want.item()) < 1e-5, f"the loss should be {want.item():.5f} (reconstruction of the decoder "
                                                 f"fed z_q, + 0.01 quantization + 0.01 commitment), got {got.item():.5f}")
    model.zero_grad()
    got.backward()
    encoder_grad = sum(p.grad.abs().sum().item() for p in model.encoder.parameters() if p.grad is not None)
    model.zero_grad()
    (0.01 * quantizer.commitment_loss(model.encoder(x), z_q.detach())).backward()
    commit_only = sum(p.grad.abs().sum().item() for p in model.encoder.parameters() if p.grad is not None)
    expect(encoder_grad > 2 * commit_only, "the reconstruction's gradient must reach the encoder: feed the decoder "
                                           "straight_through(z_c, z_q), whose value is z_q and whose gradient flows to "
                                           "z_c (the decoder fed z_q alone leaves the encoder only the commitment loss)")
    expect(more_modular in ("ae", "qlae"), f'set MORE_MODULAR to "ae" or "qlae" (your prediction), got {more_modular!r}')
    ae, ql = _train_vector("ae"), _train_vector("qlae", qlae_loss)
    expect(ql["psnr"] > 30 and ql["infoe"] > 0.99, f"your QLAE did not learn: PSNR {ql['psnr']:.1f} dB, InfoE "
                                                   f"{ql['infoe']:.3f} (the project's reaches about 39 dB and 1.000)")
    winner = "qlae" if ql["infom"] > ae["infom"] else "ae"
    print(f"measured on vector, seed 0, 2 000 steps: InfoM AE {ae['infom']:.3f}, QLAE {ql['infom']:.3f}; "
          f"InfoE AE {ae['infoe']:.3f}, QLAE {ql['infoe']:.3f}")
    expect(more_modular == winner, f"your QLAE trains well, but the prediction missed: measured InfoM AE "
                                   f"{ae['infom']:.3f}, QLAE {ql['infom']:.3f}. Set MORE_MODULAR to what was "
                                   "measured, and think about why (how many sources, how they are mixed, how each "
                                   "model's latents are scored).")


GRADERS = {  # exercise module -> (grader, names the student defines)
    "ex01_nearest_value": (grade_nearest_value, ["nearest_value"]),
    "ex02_straight_through": (grade_straight_through, ["straight_through"]),
    "ex03_two_losses": (grade_losses, ["quantization_loss", "commitment_loss"]),
    "ex04_param_groups": (grade_param_groups, ["param_groups"]),
    "ex05_plugin_mi": (grade_mutual_info, ["mutual_info"]),
    "ex06_knn_mi": (grade_knn_mutual_info, ["knn_mutual_info"]),
    "ex07_infom": (grade_infom, ["infom"]),
    "ex08_infoe_null": (grade_null_cross_entropy, ["null_cross_entropy"]),
    "ex09_gaussian_kl": (grade_gaussian_kl, ["gaussian_kl"]),
    "ex10_why_weight_decay": (grade_why_weight_decay, ["ANSWER"]),
    "ex11_decay_time_constant": (grade_decay_time_constant, ["left_after", "steps_until"]),
    "ex12_lowest_infoc": (grade_lowest_infoc, ["lowest_infoc", "example"]),
    "ex13_infoe_end_to_end": (grade_infoe, ["infoe"]),
    "ex14_gradient_penalty": (grade_gradient_penalty, ["gradient_penalty"]),
    "ex15_total_correlation": (grade_total_correlation, ["gaussian_total_correlation"]),
    "ex16_style_modulation": (grade_style_modulation, ["modulate"]),
    "ex17_train_qlae": (grade_train_qlae, ["qlae_loss", "MORE_MODULAR"]),
}
