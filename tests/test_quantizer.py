"""Executable specification of quantizer.py (the paper's latent quantization)."""
import pytest
import torch

from quantizer import LatentQuantizer, commitment_loss, quantization_loss, straight_through


def brute_force_nearest(z, books):
    """Independent reference: loop over every coordinate and every value."""
    idx = torch.zeros(z.shape, dtype=torch.long)
    for b in range(z.shape[0]):
        for j in range(z.shape[1]):
            best = None
            for v in range(books.shape[1]):
                d = abs(z[b, j].item() - books[j, v].item())
                if best is None or d < best:  # strict: ties keep the lowest index
                    best, idx[b, j] = d, v
    return idx


def test_init_is_evenly_spaced_from_minus_half_to_half():
    q = LatentQuantizer(4, 5)
    expected = torch.tensor([-0.5, -0.25, 0.0, 0.25, 0.5]).repeat(4, 1)
    assert torch.allclose(q.codebooks(), expected)


def test_nearest_value_equals_brute_force_search():
    torch.manual_seed(0)
    q = LatentQuantizer(6, 7)
    with torch.no_grad():
        q.values.add_(0.1 * torch.randn_like(q.values))  # each dimension its own (unsorted) codebook
    z = torch.randn(50, 6)
    _, idx = q(z)
    assert torch.equal(idx, brute_force_nearest(z, q.codebooks()))


def test_ties_go_to_the_lowest_index():
    q = LatentQuantizer(1, 3)  # values -0.5, 0, 0.5
    _, idx = q(torch.tensor([[-0.25], [0.25]]))
    assert idx.flatten().tolist() == [0, 1]


def test_codes_lie_on_each_dimensions_own_grid():
    torch.manual_seed(1)
    q = LatentQuantizer(3, 4)
    with torch.no_grad():
        q.values.copy_(torch.tensor([[0.0, 1, 2, 3], [10, 20, 30, 40], [-1, -2, -3, -4]]))
    z_q, _ = q(torch.randn(100, 3) * 20)
    for j in range(3):
        assert set(z_q[:, j].tolist()) <= set(q.values[j].tolist())


def test_indices_and_values_agree_after_the_codebook_has_moved():
    torch.manual_seed(2)
    q = LatentQuantizer(5, 6)
    opt = torch.optim.SGD(q.parameters(), lr=0.5)
    for _ in range(5):
        z = torch.randn(32, 5)
        z_q, _ = q(z)
        opt.zero_grad()
        quantization_loss(z, z_q).backward()
        opt.step()
    z_q, idx = q(torch.randn(64, 5))
    assert torch.equal(z_q, q.codebooks()[torch.arange(5), idx])
    assert not torch.allclose(q.codebooks(), LatentQuantizer(5, 6).codebooks())  # it did move


def test_straight_through_forward_value_is_the_quantized_value():
    q = LatentQuantizer(3, 5)
    z_c = torch.randn(8, 3)
    z_q, _ = q(z_c)
    # equal up to float round-off (z_c + (z_q - z_c)); this is why evaluation uses indices, never this tensor
    assert torch.allclose(straight_through(z_c, z_q), z_q, atol=1e-6)


def test_straight_through_gradient_to_encoder_output_is_identity():
    q = LatentQuantizer(3, 5)
    z_c = torch.randn(8, 3, requires_grad=True)
    z_q, _ = q(z_c)
    upstream = torch.randn(8, 3)
    (straight_through(z_c, z_q) * upstream).sum().backward()
    assert torch.allclose(z_c.grad, upstream)
    assert q.values.grad is None or torch.count_nonzero(q.values.grad) == 0  # nothing reaches the codebook


def test_quantization_loss_moves_only_codebook():
    q = LatentQuantizer(3, 5)
    z_c = torch.randn(8, 3, requires_grad=True)
    z_q, _ = q(z_c)
    quantization_loss(z_c, z_q).backward()
    assert z_c.grad is None
    assert torch.count_nonzero(q.values.grad) > 0


def test_commitment_loss_moves_only_encoder():
    q = LatentQuantizer(3, 5)
    z_c = torch.randn(8, 3, requires_grad=True)
    z_q, _ = q(z_c)
    commitment_loss(z_c, z_q).backward()
    assert q.values.grad is None or torch.count_nonzero(q.values.grad) == 0
    assert torch.allclose(z_c.grad, 2 * (z_c - z_q).detach() / z_c.numel())


def test_equal_weights_do_not_cancel_the_encoder_gradient():
    """A popular library puts both losses on the straight-through output; then the encoder gradients cancel."""
    q = LatentQuantizer(3, 5)
    z_c = torch.randn(8, 3, requires_grad=True)
    z_q, _ = q(z_c)
    (quantization_loss(z_c, z_q) + commitment_loss(z_c, z_q)).backward()
    assert torch.allclose(z_c.grad, 2 * (z_c - z_q).detach() / z_c.numel())
    assert z_c.grad.abs().sum() > 0


def test_codebook_values_learn_unless_frozen():
    torch.manual_seed(3)
    for learnable in (True, False):
        q = LatentQuantizer(4, 5, learnable=learnable)
        before = q.values.detach().clone()
        params = [p for p in q.parameters() if p.requires_grad]
        if params:
            opt = torch.optim.Adam(params, lr=0.05)
        for _ in range(3):
            z = torch.randn(16, 4)
            z_q, _ = q(z)
            loss = quantization_loss(z, z_q)
            if params:
                opt.zero_grad()
                loss.backward()
                opt.step()
        assert (not torch.equal(before, q.values.detach())) == learnable


def test_global_codebook_is_shared_by_every_dimension():
    q = LatentQuantizer(4, 5, global_codebook=True)
    assert q.values.shape == (1, 5)
    z = torch.randn(30, 4)
    z_q, _ = q(z)
    quantization_loss(z, z_q).backward()
    assert q.values.grad.shape == (1, 5)
    assert set(z_q.flatten().tolist()) <= set(q.values.flatten().tolist())


def test_samples_are_uniform_over_each_codebook():
    torch.manual_seed(4)
    q = LatentQuantizer(2, 4)
    with torch.no_grad():
        q.values[1] = torch.tensor([7.0, 8, 9, 10])
    z, idx = q.sample(8000)
    assert set(z[:, 1].tolist()) == {7.0, 8.0, 9.0, 10.0}
    freq = torch.bincount(idx[:, 0], minlength=4).float() / 8000
    assert torch.allclose(freq, torch.full((4,), 0.25), atol=0.02)


def test_usage_counts_the_fraction_of_values_used():
    q = LatentQuantizer(2, 4)
    idx = torch.tensor([[0, 3], [1, 3], [0, 3]])
    assert q.usage(idx).tolist() == [0.5, 0.25]


def test_wrong_latent_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected z_c of shape \(B, 3\)"):
        LatentQuantizer(3, 5)(torch.randn(4, 2))
