"""Exercise 10 (steps 3 and 5): what would contradict the paper's explanation?

The paper explains why its QLAE needs weight decay: small weights cannot afford an arbitrary, memorised map from
every combination of codes to an image, so the cheapest fit reuses each codebook value with one meaning. A
good explanation says what we should NOT see. Which one of these observations would contradict it? Set ANSWER
to one letter.

(a) With weight decay, the norm of the decayed weights ends smaller than without it.
(b) The learned codebook values spread far beyond their initial range [-0.5, 0.5].
(c) Given time for the decay to act (several time constants 1 / (lr * wd)), QLAE without weight decay is as
    modular (InfoM) as QLAE with it, seed after seed.
(d) With weight decay, reconstruction is slightly worse than without it.

Then look at the data: the weight-decay study (results/wd-study/README.md: 30 000 steps, three time constants,
seven seeds per arm; the figure, the tables at 6 000 and 30 000 steps, InfoM seed by seed and the paired test).
Does it contradict the explanation at this scale, support it, or neither? Readings to weigh: compared seed with
seed, weight decay raises InfoM by about 0.08 from step 9 000 on, the 95% interval above 0; yet one seed in seven
goes the other way, the two arms' unpaired intervals only just part at 30 000, and with the first three seeds
alone nothing was shown. What does pairing by seed buy, why was the test written down before the last runs, and
what would you change (steps, nets, resolution, dataset) to learn how large the effect is at the paper's scale?

Grade it:  python -m pytest tutorial/exercises -k ex10
"""

ANSWER = ""
