"""Loss pairs: a fused PyTorch loss next to the composition it is equivalent to (or is mistaken for).

Each :class:`LossPair` knows its two forms, what the prediction and target mean, a formula and
a short explanation. :func:`compare` runs both forms on the same tensors with autograd and
returns values, gradients with respect to the prediction, ``grad_fn`` names and intermediates,
so the GUI, the ``loss`` CLI and the tests all show the same numbers. For the *common mistakes*
``fused`` is the correct reference and ``composed`` the look-alike that goes wrong.

Seed example. The seed notebook printed CE 1.6802 for ``CrossEntropyLoss`` and for
``NLLLoss(LogSoftmax(x))``, and 0.7907 for ``BCEWithLogitsLoss`` and ``BCELoss(Sigmoid(x))``, on
tensors made with ``torch.rand``; the notebook itself is not available. We brute-forced
``torch.manual_seed(s)`` for s in 0..200, N 1..8, C 2..10 with ``torch.rand`` logits and
``randint``/``random_``/``rand``-derived targets: a few isolated shapes hit one figure by chance
but no seed gave both, so we do not claim to have found the originals. :data:`SEED_EXAMPLES` is
therefore a *reconstruction*: ``torch.rand(3, 5)`` / ``torch.randint(5, (3,))`` after
``torch.manual_seed(2266)`` and ``torch.rand(4, 1)`` / ``torch.randint(0, 2, (4, 1))`` after
``torch.manual_seed(2880)``, rounded to the 4 decimals a notebook prints, chosen because those
rounded tensors give exactly 1.6802 and 0.7907 in float32 and float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from core.errors import InputError
from core.json_output import finite_or_none
from core.tensor_text import as_class_index, format_number, plural, validate_grid

REDUCTIONS = ("mean", "sum", "none")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# Tolerances for "the two forms agree", per dtype: (relative, absolute).
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-12)}

CLASS, PROBABILITY, BINARY = "class", "probability", "binary"


# ---------------------------------------------------------------------------------- options
@dataclass
class LossOptions:
    """Options torch's losses take; each pair uses those it supports and reports the rest.

    ``weight``: per-class weights (C,) for CE/NLL, per-column for BCE. ``pos_weight``: per-column
    weight of the positive term (BCEWithLogitsLoss only). ``dtype``: "float32" or "float64".
    """

    reduction: str = "mean"
    weight: Sequence[float] | None = None
    label_smoothing: float = 0.0
    ignore_index: int = -100
    pos_weight: Sequence[float] | None = None
    dtype: str = "float32"

    def validate(self) -> LossOptions:
        if self.reduction not in REDUCTIONS:
            raise InputError(
                f"unknown reduction {self.reduction!r}; choose mean, sum or none",
                field="reduction",
            )
        if self.dtype not in DTYPES:
            raise InputError(
                f"unknown dtype {self.dtype!r}; choose float32 or float64", field="dtype"
            )
        smoothing = self.label_smoothing
        if not (isinstance(smoothing, int | float) and 0.0 <= smoothing <= 1.0):
            raise InputError(
                f"label smoothing must be between 0 and 1, got {smoothing}", field="label_smoothing"
            )
        if isinstance(self.ignore_index, bool) or not isinstance(self.ignore_index, int):
            raise InputError(
                f"ignore index must be a whole number, got {self.ignore_index!r}",
                field="ignore_index",
            )
        for name in ("weight", "pos_weight"):
            values = getattr(self, name)
            if values is None:
                continue
            checked = validate_grid(list(values), field=name, max_ndim=1)
            if isinstance(checked, float):
                checked = [checked]
            if any(v < 0 for v in checked):
                bad = next(i for i, v in enumerate(checked) if v < 0)
                raise InputError(
                    f"{name}[{bad}] is negative; weights must be >= 0", field=name, row=bad
                )
            setattr(self, name, [float(v) for v in checked])
        return self

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]


# ------------------------------------------------------------------------------ the forms
def _tensor(values: Sequence[float] | None, like: torch.Tensor) -> torch.Tensor | None:
    return None if values is None else torch.tensor(values, dtype=like.dtype)


def _ce_kwargs(
    o: LossOptions, x: torch.Tensor, *, smoothing: bool = True, ignore: bool = True
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"weight": _tensor(o.weight, x), "reduction": o.reduction}
    if ignore:
        kwargs["ignore_index"] = o.ignore_index
    if smoothing:
        kwargs["label_smoothing"] = float(o.label_smoothing)
    return kwargs


def cross_entropy(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x))(x, y)


def soft_cross_entropy_fused(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x, ignore=False))(x, t)


def nll_of_log_softmax(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.NLLLoss(**_ce_kwargs(o, x, smoothing=False))(nn.LogSoftmax(dim=1)(x), y)


def nll_of_raw(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.NLLLoss(**_ce_kwargs(o, x, smoothing=False))(x, y)


def ce_of_softmax(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x))(nn.Softmax(dim=1)(x), y)


def ce_of_log_softmax(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x))(nn.LogSoftmax(dim=1)(x), y)


def manual_cross_entropy(
    x: torch.Tensor,
    y: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy written out: ``-(x[i, y_i] - logsumexp(x_i))``, plus torch's options."""
    n_classes = x.shape[1]
    log_p = x - torch.logsumexp(x, dim=1, keepdim=True)  # log-softmax by hand
    keep = y != ignore_index
    safe_y = torch.where(keep, y, 0)
    w = torch.ones(n_classes, dtype=x.dtype) if weight is None else weight
    w_y = w[safe_y] * keep  # weight of each row's true class; 0 for ignored rows
    nll = -log_p.gather(1, safe_y[:, None]).squeeze(1) * w_y
    smooth = -(log_p * w).sum(dim=1) * keep  # label smoothing spreads over all classes
    loss = (1 - label_smoothing) * nll + label_smoothing / n_classes * smooth
    if reduction == "mean":
        return loss.sum() / w_y.sum()
    if reduction == "sum":
        return loss.sum()
    return loss


def soft_cross_entropy(
    x: torch.Tensor,
    t: torch.Tensor,
    weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy against probability targets: ``-(t * LogSoftmax(x)).sum(1)``, reduced."""
    n_classes = x.shape[1]
    t = t * (1 - label_smoothing) + label_smoothing / n_classes
    w = 1.0 if weight is None else weight
    loss = -(t * w * nn.LogSoftmax(dim=1)(x)).sum(dim=1)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _manual(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return manual_cross_entropy(
        x, y, _tensor(o.weight, x), o.ignore_index, float(o.label_smoothing), o.reduction
    )


def _soft(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return soft_cross_entropy(x, t, _tensor(o.weight, x), float(o.label_smoothing), o.reduction)


def bce_with_logits(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    loss = nn.BCEWithLogitsLoss(
        weight=_tensor(o.weight, x), pos_weight=_tensor(o.pos_weight, x), reduction=o.reduction
    )
    return loss(x, t)


def bce_of_sigmoid(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.BCELoss(weight=_tensor(o.weight, x), reduction=o.reduction)(nn.Sigmoid()(x), t)


# ------------------------------------------------------------------------------ intermediates
Intermediates = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def _softmax_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"softmax(x)": torch.softmax(x, 1), "log_softmax(x)": torch.log_softmax(x, 1)}


def _double_softmax_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    p = torch.softmax(x, 1)
    return {
        "softmax(x)": p,
        "softmax(softmax(x))": torch.softmax(p, 1),
        "log_softmax(softmax(x))": torch.log_softmax(p, 1),
    }


def _raw_nll_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "log_softmax(x)": torch.log_softmax(x, 1),
        "softmax(x)": torch.softmax(x, 1),
        "x (used as log-probs)": x,
    }


def _idempotent_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    log_p = torch.log_softmax(x, 1)
    return {
        "log_softmax(x)": log_p,
        "log_softmax(log_softmax(x))": torch.log_softmax(log_p, 1),
        "softmax(x)": torch.softmax(x, 1),
    }


def _sigmoid_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "sigmoid(x)": torch.sigmoid(x),
        "log sigmoid(x)": nn.functional.logsigmoid(x),
        "log(1 - sigmoid(x))": nn.functional.logsigmoid(-x),
    }


# ------------------------------------------------------------------------------ the registry
LossForm = Callable[[torch.Tensor, torch.Tensor, LossOptions], torch.Tensor]


@dataclass(frozen=True)
class LossPair:
    """Two forms of a loss on the same (prediction, target). For mistakes, ``fused`` is correct.

    ``options`` lists the options that apply to the pair at all; ``cannot`` maps an option to
    the sentence saying why the composed form cannot honour it (it then ignores that option).
    ``code_fused``/``code_composed`` are PyTorch expressions used by :func:`pytorch_code`.
    """

    name: str
    title: str
    fused_label: str
    composed_label: str
    target_kind: str
    prediction_meaning: str
    target_meaning: str
    formula: str
    explanation: str
    agrees: bool
    mistake: bool
    options: tuple[str, ...]
    fused: LossForm
    composed: LossForm
    intermediates: Intermediates
    code_fused: str
    code_composed: str
    cannot: dict[str, str] = field(default_factory=dict)
    helpers: str = ""

    @property
    def target_name(self) -> str:
        return "y" if self.target_kind == CLASS else "t"

    def ignored_options(self, options: LossOptions) -> dict[str, str]:
        """Options set away from their default that the composed form cannot honour."""
        active = _active_options(options)
        return {k: v for k, v in self.cannot.items() if k in active}


def _active_options(o: LossOptions) -> set[str]:
    active = set()
    if o.weight is not None:
        active.add("weight")
    if o.label_smoothing:
        active.add("label_smoothing")
    if o.ignore_index != -100:
        active.add("ignore_index")
    if o.pos_weight is not None:
        active.add("pos_weight")
    return active


CE_OPTIONS = ("reduction", "weight", "label_smoothing", "ignore_index")
NLL_OPTIONS = ("reduction", "weight", "ignore_index")
SOFT_OPTIONS = ("reduction", "weight", "label_smoothing")
BCE_OPTIONS = ("reduction", "weight", "pos_weight")
CLASS_TARGET = "y: one class index per row, shape (N,), each in 0..C-1"
LOGITS = "x: raw scores (logits), shape (N, C), one row per sample"

MANUAL_CE_SOURCE = """\
def manual_cross_entropy(x, y, weight=None, ignore_index=-100, label_smoothing=0.0,
                         reduction="mean"):
    n_classes = x.shape[1]
    log_p = x - torch.logsumexp(x, dim=1, keepdim=True)  # log-softmax by hand
    keep = y != ignore_index
    safe_y = torch.where(keep, y, 0)
    w = torch.ones(n_classes, dtype=x.dtype) if weight is None else weight
    w_y = w[safe_y] * keep  # weight of each row's true class; 0 for ignored rows
    nll = -log_p.gather(1, safe_y[:, None]).squeeze(1) * w_y  # -(x[i, y_i] - logsumexp(x_i))
    smooth = -(log_p * w).sum(dim=1) * keep  # label smoothing spreads over all classes
    loss = (1 - label_smoothing) * nll + label_smoothing / n_classes * smooth
    if reduction == "mean":
        return loss.sum() / w_y.sum()
    if reduction == "sum":
        return loss.sum()
    return loss
"""

SOFT_CE_SOURCE = """\
def soft_cross_entropy(x, t, weight=None, label_smoothing=0.0, reduction="mean"):
    n_classes = x.shape[1]
    t = t * (1 - label_smoothing) + label_smoothing / n_classes
    w = 1.0 if weight is None else weight
    loss = -(t * w * nn.LogSoftmax(dim=1)(x)).sum(dim=1)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
"""

_PAIRS = [
    LossPair(
        name="ce-nll",
        title="CrossEntropyLoss = LogSoftmax + NLLLoss",
        fused_label="CrossEntropyLoss(x, y)",
        composed_label="NLLLoss(LogSoftmax(x), y)",
        target_kind=CLASS,
        prediction_meaning=LOGITS,
        target_meaning=CLASS_TARGET,
        formula="loss_i = -log softmax(x_i)[y_i] = -(x[i, y_i] - logsumexp(x_i))",
        explanation=(
            "CrossEntropyLoss is LogSoftmax followed by NLLLoss in one call: same value, same "
            "gradient, and even the same grad_fn (NllLossBackward0). Feed it raw logits; a model "
            "whose last layer is LogSoftmax uses NLLLoss instead."
        ),
        agrees=True,
        mistake=False,
        options=CE_OPTIONS,
        fused=cross_entropy,
        composed=nll_of_log_softmax,
        intermediates=_softmax_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="nn.NLLLoss({nll})(nn.LogSoftmax(dim=1)(x), y)",
        cannot={
            "label_smoothing": "NLLLoss has no label_smoothing, so the composed form ignores it "
            "(the ce-manual pair writes the smoothing out by hand)"
        },
    ),
    LossPair(
        name="bce-logits",
        title="BCEWithLogitsLoss = Sigmoid + BCELoss (until it saturates)",
        fused_label="BCEWithLogitsLoss(x, t)",
        composed_label="BCELoss(Sigmoid(x), t)",
        target_kind=BINARY,
        prediction_meaning="x: raw scores (logits), any shape; one column per yes/no question",
        target_meaning="t: targets in [0, 1], same shape as x",
        formula="loss = -(t·log σ(x) + (1-t)·log(1-σ(x))) = max(x,0) - t·x + log(1+e^-|x|)",
        explanation=(
            "Mathematically equal, but Sigmoid rounds to exactly 0 or 1 for large |x| (about 17 "
            "in float32), log then gives -inf and BCELoss clamps it to -100. BCEWithLogitsLoss "
            "uses the log-sum-exp form and stays exact: scale the logits up to see them part."
        ),
        agrees=True,
        mistake=False,
        options=BCE_OPTIONS,
        fused=bce_with_logits,
        composed=bce_of_sigmoid,
        intermediates=_sigmoid_views,
        code_fused="nn.BCEWithLogitsLoss({bce_logits})(x, t)",
        code_composed="nn.BCELoss({bce})(nn.Sigmoid()(x), t)",
        cannot={"pos_weight": "BCELoss has no pos_weight, so the composed form ignores it"},
    ),
    LossPair(
        name="ce-soft",
        title="CrossEntropyLoss with probability targets",
        fused_label="CrossEntropyLoss(x, t)",
        composed_label="-(t · LogSoftmax(x)).sum(1)",
        target_kind=PROBABILITY,
        prediction_meaning=LOGITS,
        target_meaning="t: a probability per class, shape (N, C), rows usually sum to 1",
        formula="loss_i = -Σ_c t[i, c] · log softmax(x_i)[c]",
        explanation=(
            "Given a (N, C) float target, CrossEntropyLoss treats each row as a distribution "
            "(soft labels, mixup, distillation). A one-hot row gives the same loss as the class "
            "index. ignore_index does not apply to probability targets."
        ),
        agrees=True,
        mistake=False,
        options=SOFT_OPTIONS,
        fused=soft_cross_entropy_fused,
        composed=_soft,
        intermediates=_softmax_views,
        code_fused="nn.CrossEntropyLoss({soft})(x, t)",
        code_composed="soft_cross_entropy(x, t{soft_call})",
        helpers=SOFT_CE_SOURCE,
    ),
    LossPair(
        name="ce-manual",
        title="CrossEntropyLoss by hand",
        fused_label="CrossEntropyLoss(x, y)",
        composed_label="-(x[i, y_i] - logsumexp(x_i))",
        target_kind=CLASS,
        prediction_meaning=LOGITS,
        target_meaning=CLASS_TARGET,
        formula="loss_i = logsumexp(x_i) - x[i, y_i]; mean = Σ w[y_i]·loss_i / Σ w[y_i]",
        explanation=(
            "What cross-entropy computes: how far the true class's logit is below the "
            "log-sum-exp of the row. Written by hand with torch.logsumexp it is stable; the "
            "weighted mean divides by the weights of the true classes, as torch does."
        ),
        agrees=True,
        mistake=False,
        options=CE_OPTIONS,
        fused=cross_entropy,
        composed=_manual,
        intermediates=_softmax_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="manual_cross_entropy(x, y{manual_call})",
        helpers=MANUAL_CE_SOURCE,
    ),
    LossPair(
        name="ce-on-probs",
        title="Mistake: CrossEntropyLoss on probabilities (softmax twice)",
        fused_label="CrossEntropyLoss(x, y)",
        composed_label="CrossEntropyLoss(Softmax(x), y)",
        target_kind=CLASS,
        prediction_meaning=LOGITS,
        target_meaning=CLASS_TARGET,
        formula="wrong: -log softmax(softmax(x_i))[y_i]",
        explanation=(
            "CrossEntropyLoss applies its own softmax. Giving it probabilities applies softmax "
            "twice: values in [0, 1] become nearly uniform, the loss stays near log C however "
            "right the model is, and the gradients shrink, so training crawls."
        ),
        agrees=False,
        mistake=True,
        options=CE_OPTIONS,
        fused=cross_entropy,
        composed=ce_of_softmax,
        intermediates=_double_softmax_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="nn.CrossEntropyLoss({ce})(nn.Softmax(dim=1)(x), y)",
    ),
    LossPair(
        name="nll-on-logits",
        title="Mistake: NLLLoss on raw logits",
        fused_label="NLLLoss(LogSoftmax(x), y)",
        composed_label="NLLLoss(x, y)",
        target_kind=CLASS,
        prediction_meaning=LOGITS,
        target_meaning=CLASS_TARGET,
        formula="wrong: loss_i = -x[i, y_i] (no normalisation)",
        explanation=(
            "NLLLoss only picks -input[i, y_i]; it expects log-probabilities. On raw logits it "
            "just rewards a large true logit: the loss can go negative without bound and the "
            "other classes get no gradient at all."
        ),
        agrees=False,
        mistake=True,
        options=NLL_OPTIONS,
        fused=nll_of_log_softmax,
        composed=nll_of_raw,
        intermediates=_raw_nll_views,
        code_fused="nn.NLLLoss({nll})(nn.LogSoftmax(dim=1)(x), y)",
        code_composed="nn.NLLLoss({nll})(x, y)",
    ),
    LossPair(
        name="ce-after-logsoftmax",
        title="Harmless: CrossEntropyLoss after LogSoftmax",
        fused_label="CrossEntropyLoss(x, y)",
        composed_label="CrossEntropyLoss(LogSoftmax(x), y)",
        target_kind=CLASS,
        prediction_meaning=LOGITS,
        target_meaning=CLASS_TARGET,
        formula="log_softmax(log_softmax(x)) = log_softmax(x)",
        explanation=(
            "Looks like the softmax-twice mistake but is not: log-softmax is idempotent "
            "(subtracting logsumexp again subtracts log 1 = 0), so the value and gradient are "
            "unchanged. Wasted work, not a bug."
        ),
        agrees=True,
        mistake=True,
        options=CE_OPTIONS,
        fused=cross_entropy,
        composed=ce_of_log_softmax,
        intermediates=_idempotent_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="nn.CrossEntropyLoss({ce})(nn.LogSoftmax(dim=1)(x), y)",
    ),
]

PAIRS: dict[str, LossPair] = {pair.name: pair for pair in _PAIRS}

# Reconstructed seed tensors (see the module docstring): (prediction, target) as plain lists.
SEED_EXAMPLES: dict[str, tuple[list, list]] = {
    "ce-nll": (
        [
            [0.0665, 0.9973, 0.7418, 0.7888, 0.0821],
            [0.5228, 0.3944, 0.3935, 0.3486, 0.4601],
            [0.9523, 0.6209, 0.1026, 0.0532, 0.7745],
        ],
        [4, 3, 0],
    ),
    "bce-logits": (
        [[0.2948], [0.2055], [0.5146], [0.6065]],
        [[0.0], [0.0], [1.0], [0.0]],
    ),
}
SEED_FIGURES = {"ce-nll": 1.6802, "bce-logits": 0.7907}


def get_pair(name: str) -> LossPair:
    try:
        return PAIRS[name]
    except KeyError:
        raise InputError(
            f"unknown pair {name!r}; choose one of {', '.join(PAIRS)}", field="pair"
        ) from None


# ------------------------------------------------------------------------------ results
@dataclass
class FormResult:
    """One form's outcome. ``value``: float, or a list for reduction "none"; ``grad`` is the
    gradient of the loss (of its sum for "none") with respect to the prediction."""

    label: str
    value: float | list[float]
    grad: list
    grad_fn: str


@dataclass
class LossComparison:
    pair: str
    options: LossOptions
    fused: FormResult
    composed: FormResult
    value_diff: float
    grad_diff: float
    agree: bool
    intermediates: dict[str, list]
    notes: list[str]
    prediction: list
    target: list

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (non-finite numbers become null, with a note)."""
        data = asdict(self)
        return finite_or_none(data)


# ------------------------------------------------------------------------------ validation
def _as_list(value: torch.Tensor | list | float, field: str) -> Any:
    if isinstance(value, torch.Tensor):
        if value.dim() > 2:
            raise InputError(
                f"{field} has {value.dim()} dimensions; at most 2 are supported", field=field
            )
        value = value.detach().cpu().tolist()
    return validate_grid(value, field=field)


def prepare_inputs(
    pair: LossPair, prediction: Any, target: Any, options: LossOptions
) -> tuple[list, list]:
    """Check prediction and target against what the pair needs; return them as plain lists.

    Every problem is an ``InputError`` naming the element (``target[2]``) so the GUI can mark it.
    """
    x = _as_list(prediction, "prediction")
    if isinstance(x, float):
        raise InputError(
            "prediction is a single number; give a list of rows, e.g. [[0.2, 0.8]]",
            field="prediction",
        )
    t = _as_list(target, "target")
    shape = (len(x), len(x[0])) if isinstance(x[0], list) else (len(x),)
    if pair.target_kind in (CLASS, PROBABILITY):
        if len(shape) != 2:
            raise InputError(
                f"prediction must be a grid of logits, one row per sample (N×C); got a flat "
                f"list of {shape[0]} — wrap it in [ ] for one sample",
                field="prediction",
            )
        if shape[1] < 2:
            raise InputError(
                "prediction has 1 column; a classification needs at least 2 classes (columns)",
                field="prediction",
                col=0,
            )
    _check_option_shapes(pair, shape, options)
    n = shape[0]
    if pair.target_kind == CLASS:
        if isinstance(t, float):
            t = [t]
        if isinstance(t[0], list):
            raise InputError(
                f"target must be one class index per row, a flat list of {plural(n, 'whole number')}; got "
                f"a {len(t)}×{len(t[0])} grid (probability targets are the ce-soft pair)",
                field="target",
            )
        if len(t) != n:
            raise InputError(
                f"target has {len(t)} class {'index' if len(t) == 1 else 'indices'} but "
                f"prediction has {plural(n, 'row')}",
                field="target",
                row=min(len(t), n) if len(t) > n else None,
            )
        classes = shape[1]
        uses_ignore = "ignore_index" in pair.options
        checked = []
        for i, value in enumerate(t):
            index = as_class_index(value, field="target", row=i)
            if not (0 <= index < classes) and not (uses_ignore and index == options.ignore_index):
                raise InputError(
                    f"target[{i}] is class {index}, out of range: prediction has {classes} "
                    f"classes, so use 0..{classes - 1}",
                    field="target",
                    row=i,
                )
            checked.append(index)
        if (
            uses_ignore
            and options.reduction == "mean"
            and all(v == options.ignore_index for v in checked)
        ):
            raise InputError(
                f"every target equals ignore_index {options.ignore_index}, so the "
                "mean over no rows is undefined",
                field="target",
                row=0,
            )
        if options.weight is not None and options.reduction == "mean":
            kept = [v for v in checked if not (uses_ignore and v == options.ignore_index)]
            if sum(options.weight[v] for v in kept) == 0:
                raise InputError(
                    "the weights of the target classes sum to 0, so the weighted mean is undefined",
                    field="weight",
                )
        t = checked
    else:
        t_shape = (
            ()
            if isinstance(t, float)
            else (len(t), len(t[0]))
            if isinstance(t[0], list)
            else (len(t),)
        )
        if t_shape != shape:
            raise InputError(
                f"target has shape {_shape_text(t_shape)} but must match the prediction's "
                f"{_shape_text(shape)}",
                field="target",
            )
        for i, row in enumerate(t):
            for j, value in enumerate(row if isinstance(row, list) else [row]):
                if not 0.0 <= value <= 1.0:
                    col = j if isinstance(row, list) else None
                    loc = f"target[{i}]" + (f"[{j}]" if col is not None else "")
                    raise InputError(
                        f"{loc} is {value:g}; targets must be probabilities between 0 and 1",
                        field="target",
                        row=i,
                        col=col,
                    )
    return x, t


def _shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if not shape else "×".join(str(s) for s in shape)


def _check_option_shapes(pair: LossPair, shape: tuple[int, ...], o: LossOptions) -> None:
    columns = shape[-1]
    for name in ("weight", "pos_weight"):
        values = getattr(o, name)
        if values is None or name not in pair.options:
            continue
        allowed = {columns} if pair.target_kind != BINARY else {1, columns}
        if len(values) not in allowed:
            raise InputError(
                f"{name} has {len(values)} values but the prediction has {columns} "
                f"{'classes' if pair.target_kind != BINARY else 'columns'}",
                field=name,
            )


# ------------------------------------------------------------------------------ compare
def compare(
    pair: str,
    prediction: torch.Tensor | list,
    target: torch.Tensor | list,
    options: LossOptions | None = None,
) -> LossComparison:
    """Run both forms of ``pair`` with autograd and report values, gradients and grad_fns.

    Raises ``InputError`` (a ``UserError``) for malformed tensors, shapes or options.
    """
    spec = get_pair(pair)
    options = (options or LossOptions()).validate()
    x_list, t_list = prepare_inputs(spec, prediction, target, options)
    dtype = options.torch_dtype
    t = _target_tensor(spec, t_list, dtype)

    results = []
    for form, label in ((spec.fused, spec.fused_label), (spec.composed, spec.composed_label)):
        x = torch.tensor(x_list, dtype=dtype, requires_grad=True)
        loss = form(x, t, options)
        grad_fn = type(loss.grad_fn).__name__ if loss.grad_fn is not None else "None"
        (grad,) = torch.autograd.grad(loss.sum(), x)
        results.append(
            (loss.detach(), grad, FormResult(label, _value(loss), grad.tolist(), grad_fn))
        )
    (fused_loss, fused_grad, fused), (composed_loss, composed_grad, composed) = results

    value_diff = float((fused_loss.double() - composed_loss.double()).abs().max())
    grad_diff = float((fused_grad.double() - composed_grad.double()).abs().max())
    rtol, atol = TOLERANCES[options.dtype]
    agree = bool(
        torch.allclose(fused_loss, composed_loss, rtol=rtol, atol=atol)
        and torch.allclose(fused_grad, composed_grad, rtol=rtol, atol=atol)
    )
    with torch.no_grad():
        x = torch.tensor(x_list, dtype=dtype)
        intermediates = {name: v.tolist() for name, v in spec.intermediates(x).items()}
    return LossComparison(
        pair=spec.name,
        options=options,
        fused=fused,
        composed=composed,
        value_diff=value_diff,
        grad_diff=grad_diff,
        agree=agree,
        intermediates=intermediates,
        notes=_notes(spec, options, t_list),
        prediction=x_list,
        target=t_list,
    )


def _target_tensor(spec: LossPair, t_list: list, dtype: torch.dtype) -> torch.Tensor:
    if spec.target_kind == CLASS:
        return torch.tensor(t_list, dtype=torch.long)
    return torch.tensor(t_list, dtype=dtype)


def _value(loss: torch.Tensor) -> float | list[float]:
    return loss.detach().tolist() if loss.dim() else float(loss.detach())


def _notes(spec: LossPair, options: LossOptions, t_list: list) -> list[str]:
    notes = [
        f"{spec.composed_label} cannot honour {name}: {why}"
        for name, why in spec.ignored_options(options).items()
    ]
    active = _active_options(options)
    for name in sorted(active - set(spec.options)):
        notes.append(f"{name} does not apply to {spec.name}; both forms ignore it")
    if spec.target_kind == PROBABILITY:
        for i, row in enumerate(t_list):
            total = sum(row)
            if abs(total - 1.0) > 1e-3:
                notes.append(f"target[{i}] sums to {total:.4g}, not 1 (allowed, but unusual)")
                break
    return notes


# ------------------------------------------------------------------------------ stability
@dataclass
class StabilitySweep:
    """Both forms' losses as the logits are scaled by s, per dtype ("float32", "float64").

    Reduction "none" is summed so each point is one number.
    """

    pair: str
    scales: list[float]
    fused: dict[str, list[float]]
    composed: dict[str, list[float]]

    def difference(self, dtype: str) -> list[float]:
        return [abs(a - b) for a, b in zip(self.fused[dtype], self.composed[dtype], strict=True)]


def log_scales(lo: float = 1.0, hi: float = 1000.0, points: int = 61) -> list[float]:
    step = (math.log10(hi) - math.log10(lo)) / (points - 1)
    return [10 ** (math.log10(lo) + i * step) for i in range(points)]


def stability_sweep(
    pair: str,
    prediction: torch.Tensor | list,
    target: torch.Tensor | list,
    options: LossOptions | None = None,
    scales: Sequence[float] | None = None,
) -> StabilitySweep:
    """Loss of both forms for ``s * prediction`` over ``scales`` (default 1..1000, log-spaced)."""
    spec = get_pair(pair)
    options = (options or LossOptions()).validate()
    x_list, t_list = prepare_inputs(spec, prediction, target, options)
    scales = list(scales) if scales is not None else log_scales()
    fused: dict[str, list[float]] = {}
    composed: dict[str, list[float]] = {}
    with torch.no_grad():
        for name, dtype in DTYPES.items():
            x = torch.tensor(x_list, dtype=dtype)
            t = _target_tensor(spec, t_list, dtype)
            s = torch.tensor(scales, dtype=dtype).view(-1, *([1] * x.dim()))
            fused[name] = [float(spec.fused(x * k, t, options).sum()) for k in s]
            composed[name] = [float(spec.composed(x * k, t, options).sum()) for k in s]
    return StabilitySweep(spec.name, scales, fused, composed)


# ------------------------------------------------------------------------------ code
def _literal(values: Any) -> str:
    return repr(values)


def pytorch_code(comparison: LossComparison) -> str:
    """A runnable script reproducing ``comparison`` with plain PyTorch calls."""
    spec = PAIRS[comparison.pair]
    o = comparison.options
    dtype_arg = ", dtype=torch.float64" if o.dtype == "float64" else ""
    lines = [
        f"# Digit Lab loss playground: {spec.name} ({spec.title})",
        "import torch",
        "import torch.nn as nn",
        "",
    ]
    if spec.helpers:
        lines += [spec.helpers, ""]
    lines.append(
        f"x = torch.tensor({_literal(comparison.prediction)}{dtype_arg}, requires_grad=True)"
    )
    if spec.target_kind == CLASS:
        lines.append(f"y = torch.tensor({_literal(comparison.target)})")
    else:
        lines.append(f"t = torch.tensor({_literal(comparison.target)}{dtype_arg})")
    if o.weight is not None:
        lines.append(f"weight = torch.tensor({_literal(list(o.weight))}{dtype_arg})")
    if o.pos_weight is not None:
        lines.append(f"pos_weight = torch.tensor({_literal(list(o.pos_weight))}{dtype_arg})")
    kw = _code_kwargs(spec, o)
    lines += [
        "",
        f"fused = {spec.code_fused.format(**kw)}",
        f"composed = {spec.code_composed.format(**kw)}",
        "(grad_fused,) = torch.autograd.grad(fused.sum(), x)",
        "(grad_composed,) = torch.autograd.grad(composed.sum(), x)",
        "",
        f"print({spec.fused_label!r}, fused, type(fused.grad_fn).__name__)",
        f"print({spec.composed_label!r}, composed, type(composed.grad_fn).__name__)",
        "print('value difference', (fused - composed).abs().max().item())",
        "print('largest gradient difference', (grad_fused - grad_composed).abs().max().item())",
    ]
    return "\n".join(lines) + "\n"


def _code_kwargs(spec: LossPair, o: LossOptions) -> dict[str, str]:
    weight = "weight=weight" if o.weight is not None else ""
    ignore = f"ignore_index={o.ignore_index}" if o.ignore_index != -100 else ""
    smoothing = f"label_smoothing={float(o.label_smoothing)!r}" if o.label_smoothing else ""
    pos = "pos_weight=pos_weight" if o.pos_weight is not None else ""
    reduction = f"reduction={o.reduction!r}"

    def join(*parts: str) -> str:
        return ", ".join(p for p in parts if p)

    applies = set(spec.options)
    smoothing = smoothing if "label_smoothing" in applies else ""
    ignore = ignore if "ignore_index" in applies else ""
    pos = pos if "pos_weight" in applies else ""
    return {
        "ce": join(weight, ignore, smoothing, reduction),
        "soft": join(weight, smoothing, reduction),
        "nll": join(weight, ignore, reduction),
        "bce_logits": join(weight, pos, reduction),
        "bce": join(weight, reduction),
        "manual_call": "".join(", " + p for p in (weight, ignore, smoothing, reduction) if p),
        "soft_call": "".join(", " + p for p in (weight, smoothing, reduction) if p),
    }


def format_value(value: float | list) -> str:
    """A loss value (a number, or nested lists for reduction "none") with 4 decimals."""
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return format_number(value)


# ------------------------------------------------------------------------------ examples
@dataclass(frozen=True)
class LossPreset:
    """A ready-made case for the playground: which pair, which tensors, what it teaches."""

    title: str
    pair: str
    prediction: list
    target: list
    lesson: str


CONFIDENT_WRONG = ([[9.0, 0.5, -2.0], [0.2, 8.5, 0.1], [-1.0, 0.0, 7.5]], [2, 0, 1])
PRESETS: dict[str, LossPreset] = {
    p.title: p
    for p in (
        LossPreset(
            "Seed example: CE",
            "ce-nll",
            *SEED_EXAMPLES["ce-nll"],
            "The seed notebook's tensors (reconstructed): 1.6802 for both forms.",
        ),
        LossPreset(
            "Seed example: BCE",
            "bce-logits",
            *SEED_EXAMPLES["bce-logits"],
            "The seed notebook's tensors (reconstructed): 0.7907 for both forms.",
        ),
        LossPreset(
            "Large logits: Sigmoid+BCE saturates",
            "bce-logits",
            [[25.0], [-30.0], [40.0], [-18.0]],
            [[0.0], [1.0], [0.0], [1.0]],
            "Sigmoid rounds to exactly 1 and log(1 - 1) = -inf is clamped to -100: the "
            "composed loss is wrong and its gradient vanishes. BCEWithLogitsLoss stays exact.",
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
            *SEED_EXAMPLES["ce-nll"],
            "NLLLoss just negates the true logit: a negative 'loss' and no gradient for the "
            "other classes.",
        ),
        LossPreset(
            "Harmless: CE after LogSoftmax",
            "ce-after-logsoftmax",
            *SEED_EXAMPLES["ce-nll"],
            "log_softmax is idempotent, so the extra LogSoftmax changes nothing.",
        ),
        LossPreset(
            "Soft targets (label mixing)",
            "ce-soft",
            SEED_EXAMPLES["ce-nll"][0],
            [[0.0, 0.0, 0.0, 0.2, 0.8], [0.0, 0.0, 0.1, 0.9, 0.0], [0.7, 0.0, 0.0, 0.0, 0.3]],
            "Each target row is a distribution over the classes.",
        ),
    )
}


def default_example(pair: str) -> tuple[list, list]:
    """The tensors the playground shows first for ``pair``."""
    kind = get_pair(pair).target_kind
    if kind == BINARY:
        return SEED_EXAMPLES["bce-logits"]
    if kind == PROBABILITY:
        return PRESETS["Soft targets (label mixing)"].prediction, PRESETS[
            "Soft targets (label mixing)"
        ].target
    return SEED_EXAMPLES["ce-nll"]


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
