"""Ready-made tensors: the seed notebook's own examples, presets that teach one thing each, and
random examples.

The seed notebook ("Cross Entropy Loss vs Negative Log Likelihood Loss", semilleroCV's
deep-learning-notes) printed its ``torch.rand`` tensors to 4 decimals; :data:`SEED_EXAMPLES` are
those printed tensors, and on them both forms give the figures it printed, :data:`SEED_LOSSES`
(1.6802 and 0.7907), in float32 and float64. This module is the one source of those figures:
``core.selftest`` and the tests import them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from core.losses.options import BINARY, CLASS, PROBABILITY
from core.losses.registry import get_pair

# The seed notebook's printed tensors: (prediction, target) as plain lists.
SEED_EXAMPLES: dict[str, tuple[list, list]] = {
    "ce-nll": (
        [
            [0.4499, 0.8788, 0.5056, 0.1445, 0.0907],
            [0.4715, 0.6950, 0.8860, 0.1334, 0.2139],
            [0.1923, 0.5645, 0.9867, 0.4618, 0.1355],
        ],
        [0, 1, 4],
    ),
    "bce-logits": ([[0.1320], [0.3074], [0.6341]], [[0.0], [1.0], [0.0]]),
}
# What the seed notebook printed for both forms of each pair, to 4 decimals.
SEED_LOSSES: dict[str, float] = {"ce-nll": 1.6802, "bce-logits": 0.7907}


@dataclass(frozen=True)
class LossPreset:
    """A ready-made case for the playground: which pair, which tensors, what it teaches."""

    title: str
    pair: str
    prediction: list
    target: list
    lesson: str


CONFIDENT_WRONG = ([[9.0, 0.5, -2.0], [0.2, 8.5, 0.1], [-1.0, 0.0, 7.5]], [2, 0, 1])
SOFT_TARGETS = [[0.0, 0.0, 0.0, 0.2, 0.8], [0.0, 0.0, 0.1, 0.9, 0.0], [0.7, 0.0, 0.0, 0.0, 0.3]]
SEED_CE, SEED_BCE = SEED_EXAMPLES["ce-nll"], SEED_EXAMPLES["bce-logits"]

_PRESETS = (
    LossPreset(
        "Seed example: CE",
        "ce-nll",
        *SEED_CE,
        "The seed notebook's printed tensors: 1.6802 for both forms, as it printed.",
    ),
    LossPreset(
        "Seed example: BCE",
        "bce-logits",
        *SEED_BCE,
        "The seed notebook's printed tensors: 0.7907 for both forms, as it printed.",
    ),
    LossPreset(
        "Large logits: Sigmoid+BCE saturates",
        "bce-logits",
        [[25.0], [-30.0], [40.0], [-18.0]],
        [[0.0], [1.0], [0.0], [1.0]],
        "Sigmoid rounds to exactly 1 and log(1 - 1) = -inf is clamped to -100: the composed "
        "loss is wrong and its gradient vanishes. At x = -30, σ(1 − σ) is below the 1e-12 "
        "that BCELoss's backward divides by, so the gradient is −0.0234, not −0.25 (notes "
        "above the gradients). BCEWithLogitsLoss stays exact.",
    ),
    LossPreset(
        "Large logits: naive softmax overflows",
        "ce-naive",
        [[100.0, 2.0, -1.0], [3.0, 0.5, 90.0], [1.0, 2.0, 3.0]],
        [0, 2, 1],
        "exp(100) is inf in float32, inf / inf is NaN: the textbook formula gives NaN where "
        "CrossEntropyLoss, which subtracts the row max first, gives the exact loss. Switch "
        "the dtype to float64 (exp fits up to 709) and both agree.",
    ),
    LossPreset(
        "Confident wrong answer",
        "ce-nll",
        *CONFIDENT_WRONG,
        "Every row is sure of the wrong class: the loss is about the logit gap (~9) and "
        "the gradient pushes the wrong logit down and the true one up.",
    ),
    LossPreset(
        "Uniform logits",
        "ce-nll",
        [[0.0] * 5 for _ in range(3)],
        [0, 2, 4],
        "Equal logits mean softmax = 1/C for every class, so the loss is log C = "
        "log 5 = 1.6094 whatever the target.",
    ),
    LossPreset(
        "Mistake: softmax applied twice",
        "ce-on-probs",
        *CONFIDENT_WRONG,
        "CrossEntropyLoss on probabilities: the loss is stuck near log C and the "
        "gradients are tiny, although every answer is confidently wrong.",
    ),
    LossPreset(
        "Mistake: NLLLoss on raw logits",
        "nll-on-logits",
        *SEED_CE,
        "NLLLoss just negates the true logit: a negative 'loss' and no gradient for the "
        "other classes.",
    ),
    LossPreset(
        "Harmless: CE after LogSoftmax",
        "ce-after-logsoftmax",
        *SEED_CE,
        "log_softmax is idempotent, so the extra LogSoftmax changes nothing.",
    ),
    LossPreset(
        "Soft targets (label mixing)",
        "ce-soft",
        SEED_CE[0],
        SOFT_TARGETS,
        "Each target row is a distribution over the classes.",
    ),
)
PRESETS: dict[str, LossPreset] = {p.title: p for p in _PRESETS}


def default_example(pair: str) -> tuple[list, list]:
    """The tensors the playground shows first for ``pair``."""
    kind = get_pair(pair).target_kind
    if kind == BINARY:
        return SEED_BCE
    if kind == PROBABILITY:
        return SEED_CE[0], SOFT_TARGETS
    return SEED_CE


def onehot(targets: list[int], classes: int) -> list[list[float]]:
    """Class indices as probability rows (1.0 at the class), for the ce-soft pair."""
    return [[1.0 if c == label else 0.0 for c in range(classes)] for label in targets]


def random_example(
    pair: str, rows: int, cols: int, seed: int, *, normal: bool = False, scale: float = 1.0
) -> tuple[list, list]:
    """Random tensors rounded to 4 decimals (what the grid shows is exactly what is computed).

    ``torch.rand`` (uniform in [0, 1), as the seed notebook did) or ``torch.randn * scale``.
    """
    kind = get_pair(pair).target_kind
    generator = torch.Generator().manual_seed(seed)
    shape = (rows, cols)
    if normal:
        x = torch.randn(shape, generator=generator, dtype=torch.float64) * scale
    else:
        x = torch.rand(shape, generator=generator, dtype=torch.float64)
    prediction = [[round(float(v), 4) for v in row] for row in x]
    if kind == CLASS:
        target: list = torch.randint(cols, (rows,), generator=generator).tolist()
    elif kind == BINARY:
        target = torch.randint(0, 2, shape, generator=generator).double().tolist()
    else:
        t = torch.rand(shape, generator=generator, dtype=torch.float64)
        t = t / t.sum(dim=1, keepdim=True)
        target = [[round(float(v), 4) for v in row] for row in t]
    return prediction, target


def seed_example(pair: str) -> LossPreset:
    """The seed notebook's printed tensors for ``pair``'s kind of target, with the sentence
    that is true of them: the BCE seed for a binary pair, the CE seed's logits with one-hot
    rows for a probability target, the CE seed for a class target (on another pair than
    ce-nll the sentence says whether its composed form gives the seed's 1.6802)."""
    spec = get_pair(pair)
    if spec.target_kind == BINARY:
        return PRESETS["Seed example: BCE"]
    x, y = SEED_CE
    if spec.target_kind == PROBABILITY:
        return LossPreset(
            "Seed example: CE, one-hot targets",
            spec.name,
            x,
            onehot(y, len(x[0])),
            "The seed's logits with one-hot targets: the same 1.6802 as with class indices.",
        )
    if spec.name == "ce-nll":
        return PRESETS["Seed example: CE"]
    other = "gives the same" if spec.agrees else "does not give it"
    return LossPreset(
        "Seed example: CE",
        spec.name,
        x,
        y,
        "The seed notebook's printed tensors: CrossEntropyLoss gives 1.6802; "
        f"{spec.composed_label} {other}.",
    )


def is_seed_example(prediction: list | None, target: list | None) -> bool:
    """Whether the tensors are one of the seed notebook's examples (the CE seed's targets as
    class indices or as one-hot rows)."""
    if prediction is None or target is None:
        return False
    x, y = SEED_CE
    if prediction == x:
        return target in (y, onehot(y, len(x[0])))
    return (prediction, target) == tuple(SEED_BCE)
