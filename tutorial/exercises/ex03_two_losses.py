"""Exercise 3 (step 2): the quantization and commitment losses.

Both have the value mean((z_c - z_q)^2) over all elements, but:
- quantization_loss must move only the codebook values (z_q's side), not the encoder;
- commitment_loss must move only the encoder (z_c's side), not the codebook.

Grade it:  python -m pytest tutorial/exercises -k ex03
Question to think about: what goes wrong if both losses are computed on the straight-through output?
"""


def quantization_loss(z_c, z_q):
    raise NotImplementedError


def commitment_loss(z_c, z_q):
    raise NotImplementedError
