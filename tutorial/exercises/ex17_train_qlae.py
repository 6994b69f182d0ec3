"""Exercise 17 (step 3): assemble the QLAE objective, train it against an AE, and test a prediction.

Write qlae_loss(model, x) -> a scalar loss tensor, for a models.QLAE (parts: model.encoder, model.quantizer,
model.decoder):
    z_c = the encoder's continuous latent; z_q, indices = the quantizer's snapped values (model.quantizer(z_c));
    the reconstruction loss of the decoder fed z_q, with the gradient passed straight through to z_c;
    plus 0.01 x the quantization loss and 0.01 x the commitment loss (the paper's weights).
The pieces are the project's: quantizer.straight_through, quantizer.quantization_loss, quantizer.commitment_loss
and models.reconstruction_loss (decoder logits, x).

Then predict before you grade: on the `vector` benchmark (3 sources with 5, 4 and 6 values, mixed by a fixed
random network into 16 numbers), after 2 000 steps, which model is more modular (higher InfoM), the plain AE or
the QLAE? Set MORE_MODULAR to "ae" or "qlae". The grader trains both, with your loss for the QLAE (seed 0, about
20 seconds on a laptop CPU), checks that your QLAE learned, and tells you what it measured. Whatever the answer,
ask why: what does this benchmark have that Shapes3D (step 5) does not, or lack?

Grade it:  python -m pytest tutorial/exercises -k ex17
"""
import models  # noqa: F401
import quantizer  # noqa: F401

MORE_MODULAR = ""


def qlae_loss(model, x):
    raise NotImplementedError
