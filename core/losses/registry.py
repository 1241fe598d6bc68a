"""The registry of loss pairs: a fused PyTorch loss next to the composition it is equivalent to
(or is mistaken for), declared once and rendered by the tab, the ``loss`` CLI and the tests.

For the *common mistakes* ``fused`` is the correct reference and ``composed`` the look-alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import InputError
from core.losses.forms import (
    LossForm,
    Views,
    bce_of_sigmoid,
    bce_with_logits,
    ce_of_log_softmax,
    ce_of_softmax,
    cross_entropy,
    double_softmax_views,
    fused_softmax_steps,
    idempotent_views,
    logits_bce_steps,
    manual,
    naive_steps,
    naive_views,
    nll_of_log_softmax,
    nll_of_naive_softmax,
    nll_of_raw,
    raw_nll_views,
    raw_steps,
    sigmoid_steps,
    sigmoid_views,
    soft,
    soft_cross_entropy_fused,
    softmax_then_fused_steps,
    softmax_views,
)
from core.losses.options import BINARY, CLASS, PROBABILITY, LossOptions

__all__ = ["BINARY", "CLASS", "PAIRS", "PROBABILITY", "LossPair", "get_pair"]


@dataclass(frozen=True)
class LossPair:
    """Two forms of a loss on the same (prediction, target). For mistakes, ``fused`` is correct.

    ``options`` lists the options that apply to the pair at all; ``cannot`` maps an option to
    the sentence saying why the composed form cannot honour it (it then ignores that option).
    ``code_fused``/``code_composed`` are PyTorch expressions used by :func:`pytorch_code`.
    ``hint`` says what to look for in the gradients; ``steps_fused``/``steps_composed`` list the
    intermediate tensors each form computes, in order, so an overflow can be named.
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
    intermediates: Views
    code_fused: str
    code_composed: str
    hint: str
    steps_fused: Views
    steps_composed: Views
    cannot: dict[str, str] = field(default_factory=dict)
    helpers: str = ""

    def ignored_options(self, options: LossOptions) -> dict[str, str]:
        """Options set away from their default that the composed form cannot honour."""
        active = options.active()
        return {k: v for k, v in self.cannot.items() if k in active}


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
        intermediates=softmax_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="nn.NLLLoss({nll})(nn.LogSoftmax(dim=1)(x), y)",
        hint="What to notice: without weights or smoothing each gradient row is (softmax(x) − onehot(y)) / N, so it sums to 0; compare it with softmax(x) on the left. The true class is the one blue cell.",
        steps_fused=fused_softmax_steps,
        steps_composed=fused_softmax_steps,
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
        intermediates=sigmoid_views,
        code_fused="nn.BCEWithLogitsLoss({bce_logits})(x, t)",
        code_composed="nn.BCELoss({bce})(nn.Sigmoid()(x), t)",
        hint="What to notice: the gradient is (sigmoid(x) − t) / N. When sigmoid saturates, the composed gradient shrinks or becomes 0: training stops learning from that sample.",
        steps_fused=logits_bce_steps,
        steps_composed=sigmoid_steps,
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
        composed=soft,
        intermediates=softmax_views,
        code_fused="nn.CrossEntropyLoss({soft})(x, t)",
        code_composed="soft_cross_entropy(x, t{soft_call})",
        hint="What to notice: the gradient is (softmax(x) − t) / N; a one-hot target row gives exactly the class-index loss.",
        steps_fused=fused_softmax_steps,
        steps_composed=fused_softmax_steps,
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
        composed=manual,
        intermediates=softmax_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="manual_cross_entropy(x, y{manual_call})",
        hint="What to notice: the hand-written formula needs torch.logsumexp to stay exact; with exp().sum().log() large logits would overflow to inf (the ce-naive pair shows it).",
        steps_fused=fused_softmax_steps,
        steps_composed=fused_softmax_steps,
        helpers=MANUAL_CE_SOURCE,
    ),
    LossPair(
        name="ce-naive",
        title="CrossEntropyLoss vs log(softmax) written naively",
        fused_label="CrossEntropyLoss(x, y)",
        composed_label="NLLLoss(log(exp(x) / exp(x).sum(1)), y)",
        target_kind=CLASS,
        prediction_meaning=LOGITS,
        target_meaning=CLASS_TARGET,
        formula="log softmax(x)_c = log(exp(x_c) / Σ_k exp(x_k)): exp(89) is inf in float32",
        explanation=(
            "The textbook formula, typed as written: exp(x) / exp(x).sum() then log. The maths "
            "is cross-entropy, but exp overflows to inf above x ≈ 88.7 in float32 (709.8 in "
            "float64), inf / inf is NaN, and the loss is NaN. CrossEntropyLoss subtracts the row "
            "maximum first (the log-sum-exp trick), so it never overflows: scale the logits up "
            "to watch the naive form break."
        ),
        agrees=True,
        mistake=False,
        options=CE_OPTIONS,
        fused=cross_entropy,
        composed=nll_of_naive_softmax,
        intermediates=naive_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="nn.NLLLoss({nll})(torch.log(torch.exp(x) / torch.exp(x).sum(1, keepdim=True)), y)",
        hint=(
            "What to notice: while every logit is below about 88 the two forms agree to "
            "float rounding; one logit above it (try 100 in a cell, or Random normal × 50) "
            "makes exp(x) inf and the naive loss NaN, and the verdict names that step."
        ),
        steps_fused=fused_softmax_steps,
        steps_composed=naive_steps,
        cannot={
            "label_smoothing": "NLLLoss has no label_smoothing, so the composed form ignores it"
        },
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
        intermediates=double_softmax_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="nn.CrossEntropyLoss({ce})(nn.Softmax(dim=1)(x), y)",
        hint="What to notice: the look-alike's gradients are orders of magnitude smaller, and its loss cannot drop much below log C, however right the model is.",
        steps_fused=fused_softmax_steps,
        steps_composed=softmax_then_fused_steps,
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
        intermediates=raw_nll_views,
        code_fused="nn.NLLLoss({nll})(nn.LogSoftmax(dim=1)(x), y)",
        code_composed="nn.NLLLoss({nll})(x, y)",
        hint="What to notice: the look-alike's gradient is −1/N at the true class and 0 everywhere else: nothing pushes the wrong classes down.",
        steps_fused=fused_softmax_steps,
        steps_composed=raw_steps,
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
        intermediates=idempotent_views,
        code_fused="nn.CrossEntropyLoss({ce})(x, y)",
        code_composed="nn.CrossEntropyLoss({ce})(nn.LogSoftmax(dim=1)(x), y)",
        hint="What to notice: log_softmax(log_softmax(x)) = log_softmax(x) in exact maths, so values and gradients agree; in floats the second pass may round the last bits (the verdict says which).",
        steps_fused=fused_softmax_steps,
        steps_composed=fused_softmax_steps,
    ),
]

PAIRS: dict[str, LossPair] = {pair.name: pair for pair in _PAIRS}


def get_pair(name: str) -> LossPair:
    try:
        return PAIRS[name]
    except KeyError:
        raise InputError(
            f"unknown pair {name!r}; choose one of {', '.join(PAIRS)}", field="pair"
        ) from None
