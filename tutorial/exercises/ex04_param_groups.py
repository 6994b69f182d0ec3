"""Exercise 4 (step 3): AdamW's two parameter groups.

Write param_groups(model, weight_decay) for torch.optim.AdamW: a list of dicts {"params": [...],
"weight_decay": ...}. Decayed (weight_decay as given): every weight matrix and conv kernel, every norm SCALE and
the decoder's learned constant input. Not decayed (0.0): every bias, every norm SHIFT and the codebook values
(parameters whose names start with "quantizer."). Every parameter in exactly one group.
Look at [name for name, _ in model.named_parameters()] of a QLAE first (train.build_model("qlae", ...)).

Grade it:  python -m pytest tutorial/exercises -k ex04
"""


def param_groups(model, weight_decay):
    raise NotImplementedError
