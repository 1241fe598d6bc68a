"""The loss engine against direct torch.nn.functional calls and the seed notebook's figures."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from core.errors import InputError, UserError
from core.losses import (
    PAIRS,
    SEED_EXAMPLES,
    SEED_LOSSES,
    LossOptions,
    compare,
    log_scales,
    pytorch_code,
    stability_sweep,
    sweep_summary,
)

CE_X, CE_Y = SEED_EXAMPLES["ce-nll"]
BCE_X, BCE_T = SEED_EXAMPLES["bce-logits"]
SOFT_T = [[0.1, 0.2, 0.3, 0.2, 0.2], [0.0, 0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0, 0.5]]


def inputs_for(name: str) -> tuple[list, list]:
    kind = PAIRS[name].target_kind
    if kind == "binary":
        return BCE_X, BCE_T
    if kind == "probability":
        return CE_X, SOFT_T
    return CE_X, CE_Y


def test_registry_has_the_required_pairs_and_mistakes():
    for name in ("ce-nll", "bce-logits", "ce-soft", "ce-manual"):
        assert PAIRS[name].agrees and not PAIRS[name].mistake
    assert not PAIRS["ce-on-probs"].agrees and not PAIRS["nll-on-logits"].agrees
    assert PAIRS["ce-after-logsoftmax"].mistake and PAIRS["ce-after-logsoftmax"].agrees
    for pair in PAIRS.values():
        assert pair.formula and pair.explanation and pair.fused_label and pair.composed_label


@pytest.mark.parametrize("name", ["ce-nll", "bce-logits"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_seed_examples_give_the_seed_figures(name, dtype):
    result = compare(name, *SEED_EXAMPLES[name], LossOptions(dtype=dtype))
    assert f"{result.fused.value:.4f}" == f"{SEED_LOSSES[name]:.4f}"
    assert f"{result.composed.value:.4f}" == f"{SEED_LOSSES[name]:.4f}"
    assert result.agree


def test_seed_figures_literally():
    assert round(compare("ce-nll", CE_X, CE_Y).fused.value, 4) == 1.6802
    assert round(compare("ce-nll", CE_X, CE_Y).composed.value, 4) == 1.6802
    assert round(compare("bce-logits", BCE_X, BCE_T).fused.value, 4) == 0.7907
    assert round(compare("bce-logits", BCE_X, BCE_T).composed.value, 4) == 0.7907


def direct(name: str, form: str, x, t, o: LossOptions) -> torch.Tensor:
    """The same computation written with torch.nn.functional, independently of core.losses."""
    w = None if o.weight is None else torch.tensor(o.weight, dtype=x.dtype)
    pw = None if o.pos_weight is None else torch.tensor(o.pos_weight, dtype=x.dtype)
    r, ii, ls = o.reduction, o.ignore_index, o.label_smoothing
    ce = lambda inp: F.cross_entropy(  # noqa: E731
        inp, t, weight=w, ignore_index=ii, reduction=r, label_smoothing=ls
    )
    nll = lambda inp: F.nll_loss(inp, t, weight=w, ignore_index=ii, reduction=r)  # noqa: E731
    table = {
        ("ce-nll", "fused"): lambda: ce(x),
        ("ce-nll", "composed"): lambda: nll(F.log_softmax(x, 1)),
        ("ce-manual", "fused"): lambda: ce(x),
        ("ce-manual", "composed"): lambda: ce(x),  # must equal torch's CE, options included
        ("ce-soft", "fused"): lambda: F.cross_entropy(
            x, t, weight=w, reduction=r, label_smoothing=ls
        ),
        ("ce-soft", "composed"): lambda: F.cross_entropy(
            x, t, weight=w, reduction=r, label_smoothing=ls
        ),
        ("bce-logits", "fused"): lambda: F.binary_cross_entropy_with_logits(
            x, t, weight=w, pos_weight=pw, reduction=r
        ),
        ("bce-logits", "composed"): lambda: F.binary_cross_entropy(
            torch.sigmoid(x), t, weight=w, reduction=r
        ),
        ("ce-on-probs", "fused"): lambda: ce(x),
        ("ce-on-probs", "composed"): lambda: ce(F.softmax(x, 1)),
        ("nll-on-logits", "fused"): lambda: nll(F.log_softmax(x, 1)),
        ("nll-on-logits", "composed"): lambda: nll(x),
        ("ce-naive", "fused"): lambda: ce(x),
        ("ce-naive", "composed"): lambda: nll(torch.log(x.exp() / x.exp().sum(1, keepdim=True))),
        ("ce-after-logsoftmax", "fused"): lambda: ce(x),
        ("ce-after-logsoftmax", "composed"): lambda: ce(F.log_softmax(x, 1)),
    }
    return table[(name, form)]()


def options_for(name: str) -> list[LossOptions]:
    pair = PAIRS[name]
    cols = len(inputs_for(name)[0][0])
    variants = [LossOptions(reduction=r) for r in ("mean", "sum", "none")]
    weight = [0.5 + i * 0.25 for i in range(cols)]
    if "weight" in pair.options:
        variants += [LossOptions(reduction=r, weight=weight) for r in ("mean", "none")]
    if "ignore_index" in pair.options:
        variants.append(LossOptions(ignore_index=3, weight=weight))
    if "label_smoothing" in pair.options and "label_smoothing" not in pair.cannot:
        variants.append(LossOptions(label_smoothing=0.2, weight=weight, ignore_index=0))
        variants.append(LossOptions(label_smoothing=0.1, reduction="sum"))
    if "pos_weight" in pair.options and "pos_weight" not in pair.cannot:
        variants.append(LossOptions(pos_weight=[3.0]))
    variants.append(LossOptions(dtype="float64", reduction="sum"))
    return variants


CASES = [(name, o) for name in PAIRS for o in options_for(name)]


@pytest.mark.parametrize(
    ("name", "options"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)]
)
def test_values_and_gradients_equal_direct_torch_calls(name, options):
    x_list, t_list = inputs_for(name)
    result = compare(name, x_list, t_list, options)
    dtype = torch.float64 if options.dtype == "float64" else torch.float32
    target_dtype = torch.long if PAIRS[name].target_kind == "class" else dtype
    for form, got in (("fused", result.fused), ("composed", result.composed)):
        x = torch.tensor(x_list, dtype=dtype, requires_grad=True)
        t = torch.tensor(t_list, dtype=target_dtype)
        expected = direct(name, form, x, t, options)
        (grad,) = torch.autograd.grad(expected.sum(), x)
        value = torch.tensor(got.value, dtype=dtype)
        assert torch.allclose(value, expected.detach(), rtol=1e-5, atol=1e-6), form
        assert torch.allclose(torch.tensor(got.grad, dtype=dtype), grad, rtol=1e-5, atol=1e-6)
        if options.reduction == "none":
            assert isinstance(got.value, list)
        else:
            assert isinstance(got.value, float)
        assert torch.tensor(got.grad).shape == x.shape
    assert result.agree == PAIRS[name].agrees
    assert result.value_diff == pytest.approx(
        (torch.tensor(result.fused.value) - torch.tensor(result.composed.value)).abs().max().item()
    )


def test_grad_fn_names_are_the_ones_torch_prints():
    ce = compare("ce-nll", CE_X, CE_Y)
    assert (ce.fused.grad_fn, ce.composed.grad_fn) == ("NllLossBackward0", "NllLossBackward0")
    bce = compare("bce-logits", BCE_X, BCE_T)
    assert bce.fused.grad_fn == "BinaryCrossEntropyWithLogitsBackward0"
    assert bce.composed.grad_fn == "BinaryCrossEntropyBackward0"


def test_mistakes_disagree_and_log_softmax_is_idempotent():
    assert not compare("ce-on-probs", CE_X, CE_Y).agree
    wrong = compare("nll-on-logits", CE_X, CE_Y)
    assert not wrong.agree
    assert wrong.composed.value == pytest.approx(-sum(CE_X[i][y] for i, y in enumerate(CE_Y)) / 3)
    harmless = compare("ce-after-logsoftmax", CE_X, CE_Y)
    assert harmless.agree and harmless.value_diff < 1e-6 and harmless.grad_diff < 1e-6


def test_intermediates_are_probabilities_and_log_probabilities():
    result = compare("ce-nll", CE_X, CE_Y)
    probs = torch.tensor(result.intermediates["softmax(x)"])
    assert torch.allclose(probs.sum(1), torch.ones(3))
    assert torch.allclose(torch.tensor(result.intermediates["log_softmax(x)"]), probs.log())
    bce = compare("bce-logits", BCE_X, BCE_T)
    assert torch.allclose(
        torch.tensor(bce.intermediates["sigmoid(x)"]), torch.sigmoid(torch.tensor(BCE_X))
    )


def test_options_the_composed_form_cannot_honour_are_said_plainly():
    smoothed = compare("ce-nll", CE_X, CE_Y, LossOptions(label_smoothing=0.1))
    assert any("cannot honour label_smoothing" in n for n in smoothed.notes)
    assert not smoothed.agree
    plain_nll = F.nll_loss(F.log_softmax(torch.tensor(CE_X), 1), torch.tensor(CE_Y))
    assert smoothed.composed.value == pytest.approx(plain_nll.item())
    manual = compare("ce-manual", CE_X, CE_Y, LossOptions(label_smoothing=0.1))
    assert manual.agree and not manual.notes
    pos = compare("bce-logits", BCE_X, BCE_T, LossOptions(pos_weight=[2.0]))
    assert any("cannot honour pos_weight" in n for n in pos.notes)
    soft = compare("ce-soft", CE_X, SOFT_T, LossOptions(ignore_index=1))
    assert any("ignore_index does not apply" in n for n in soft.notes)


def test_ignored_rows_get_no_gradient():
    result = compare("ce-nll", CE_X, [4, -100, 0])
    assert result.fused.grad[1] == [0.0] * 5 and result.agree


def test_reduction_none_gradient_is_gradient_of_the_sum():
    none = compare("ce-nll", CE_X, CE_Y, LossOptions(reduction="none"))
    total = compare("ce-nll", CE_X, CE_Y, LossOptions(reduction="sum"))
    assert len(none.fused.value) == 3
    assert torch.allclose(torch.tensor(none.fused.grad), torch.tensor(total.fused.grad))


def test_tensors_are_accepted_as_well_as_lists():
    result = compare("ce-nll", torch.tensor(CE_X), torch.tensor(CE_Y))
    assert round(result.fused.value, 4) == 1.6802


def test_large_logits_sigmoid_bce_saturates_but_with_logits_stays_exact():
    x = [[25.0], [-30.0], [40.0]]
    t = [[0.0], [1.0], [0.0]]
    result = compare("bce-logits", x, t, LossOptions(reduction="none"))
    assert [v[0] for v in result.fused.value] == pytest.approx([25.0, 30.0, 40.0], rel=1e-6)
    assert result.composed.value[0][0] == pytest.approx(100.0)  # log(0) clamped to -100
    assert not result.agree


def test_stability_sweep_shows_where_the_forms_part():
    sweep = stability_sweep("bce-logits", BCE_X, BCE_T)
    assert sweep.scales[0] == pytest.approx(1) and sweep.scales[-1] == pytest.approx(1000)
    exact = [
        F.binary_cross_entropy_with_logits(
            torch.tensor(BCE_X, dtype=torch.float64) * s, torch.tensor(BCE_T, dtype=torch.float64)
        ).item()
        for s in sweep.scales
    ]
    assert sweep.fused["float32"] == pytest.approx(exact, rel=1e-5)
    assert sweep.difference("float32")[0] < 1e-6
    assert sweep.difference("float32")[-1] > 100  # clamped at -100 while the truth is ~277
    assert sweep.difference("float64")[-1] > 100
    ce = stability_sweep("ce-nll", CE_X, CE_Y, scales=log_scales(points=5))
    assert max(ce.difference("float32")) < 1e-3
    assert all(math.isfinite(v) for v in ce.fused["float64"])


CODE_CASES = [
    ("ce-nll", LossOptions()),
    ("ce-nll", LossOptions(reduction="none", weight=[1, 2, 1, 1, 1], ignore_index=3)),
    ("bce-logits", LossOptions(pos_weight=[2.0], weight=[0.5])),
    ("ce-soft", LossOptions(label_smoothing=0.1, weight=[1, 2, 3, 4, 5])),
    ("ce-manual", LossOptions(label_smoothing=0.2, weight=[1, 2, 1, 1, 3], ignore_index=0)),
    ("ce-on-probs", LossOptions(reduction="sum")),
    ("nll-on-logits", LossOptions(dtype="float64")),
    ("ce-after-logsoftmax", LossOptions()),
]


@pytest.mark.parametrize(("name", "options"), CODE_CASES, ids=[c[0] for c in CODE_CASES])
def test_pytorch_code_runs_and_reproduces_the_comparison(name, options):
    result = compare(name, *inputs_for(name), options)
    code = pytorch_code(result)
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # our own generated code, not user input
    for form, got in (("fused", result.fused), ("composed", result.composed)):
        value = namespace[form].detach()
        assert torch.allclose(value, torch.tensor(got.value, dtype=value.dtype), atol=1e-7)
        grad = namespace[f"grad_{form}"]
        assert torch.allclose(grad, torch.tensor(got.grad, dtype=grad.dtype), atol=1e-7)
        assert type(namespace[form].grad_fn).__name__ == got.grad_fn


BAD = [
    ("ce-nll", [[1, 2], [3]], [0, 1], "prediction", 1, None, "ragged"),
    ("ce-nll", [], [0], "prediction", None, None, "empty"),
    ("ce-nll", [[1, "a"]], [0], "prediction", 0, 1, "not a number"),
    ("ce-nll", [[1, float("nan")]], [0], "prediction", 0, 1, "not finite"),
    ("ce-nll", [[1, 2]], [2], "target", 0, None, "out of range"),
    ("ce-nll", [[1, 2], [1, 2]], [0, -1], "target", 1, None, "out of range"),
    ("ce-nll", [[1, 2]], [0.5], "target", 0, None, "whole number"),
    ("ce-nll", [[1, 2]], [0, 1], "target", 1, None, "1 row"),
    ("ce-nll", [[1, 2]], [[0, 1]], "target", None, None, "ce-soft"),
    ("ce-nll", [1, 2], [0], "prediction", None, None, "grid"),
    ("ce-nll", [[1], [2]], [0, 0], "prediction", None, 0, "at least 2"),
    ("bce-logits", [[1, 2]], [[0, 1.5]], "target", 0, 1, "between 0 and 1"),
    ("bce-logits", [[1, 2]], [[0, 1]], "target", None, None, None),
    ("bce-logits", [[1], [2]], [[0]], "target", None, None, "shape"),
    ("ce-soft", [[1, 2]], [[0.5, -0.5]], "target", 0, 1, "between 0 and 1"),
]


@pytest.mark.parametrize(("pair", "x", "t", "field", "row", "col", "words"), BAD)
def test_bad_input_is_one_clear_input_error(pair, x, t, field, row, col, words):
    if words is None:
        compare(pair, x, t)  # a valid control case
        return
    with pytest.raises(InputError) as info:
        compare(pair, x, t)
    assert info.value.field == field
    assert (info.value.row, info.value.col) == (row, col)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        LossOptions(reduction="average"),
        LossOptions(label_smoothing=1.5),
        LossOptions(weight=[1, 2]),
        LossOptions(weight=[1, -1, 1, 1, 1]),
        LossOptions(weight=[1, 1, 1, 1, 1], ignore_index=1.5),  # type: ignore[arg-type]
        LossOptions(dtype="float16"),
        LossOptions(weight=[1, 0, 1, 1, 0], reduction="mean", ignore_index=0),
    ],
)
def test_bad_options_are_user_errors(options):
    with pytest.raises(UserError):
        compare("ce-nll", CE_X, CE_Y, options)


def test_unknown_pair():
    with pytest.raises(InputError, match="unknown pair 'focal'"):
        compare("focal", CE_X, CE_Y)


def test_all_rows_ignored_with_mean_is_an_error_not_nan():
    with pytest.raises(InputError, match="ignore_index"):
        compare("ce-nll", CE_X, [-100, -100, -100])


# ------------------------------------------------------------------ the seed notebook's tensors
def test_seed_examples_are_the_notebooks_printed_tensors():
    # Printed by the seed notebook (torch.rand(3, 5) with targets 0, 1, 4; torch.rand(3, 1)).
    assert CE_X[0] == [0.4499, 0.8788, 0.5056, 0.1445, 0.0907]
    assert CE_X[2] == [0.1923, 0.5645, 0.9867, 0.4618, 0.1355] and CE_Y == [0, 1, 4]
    assert BCE_X == [[0.1320], [0.3074], [0.6341]] and BCE_T == [[0.0], [1.0], [0.0]]


def test_selftest_uses_the_one_copy_of_the_seed_figures():
    import core.selftest

    assert not hasattr(core.selftest, "SEED_LOSSES")  # no second copy
    assert core.selftest.make_loss_check("ce-nll")().startswith("fused 1.6802, composed 1.6802")


# ------------------------------------------------------------------ overflow named
@pytest.mark.parametrize(
    ("pair", "prediction", "target", "options", "field", "words"),
    [
        ("ce-nll", [[1e39, 0.0]], [0], LossOptions(), "prediction", "1e39, which does not fit"),
        ("bce-logits", [[-5e38]], [[1.0]], LossOptions(), "prediction", "float32"),
        ("ce-nll", [[1.0, 0.0]], [0], LossOptions(weight=[1e39, 1.0]), "weight", "use float64"),
        ("bce-logits", [[1.0]], [[1.0]], LossOptions(pos_weight=[4e38]), "pos_weight", "3.4e38"),
    ],
)
def test_a_value_too_large_for_the_dtype_is_a_clear_error(
    pair, prediction, target, options, field, words
):
    with pytest.raises(InputError) as info:
        compare(pair, prediction, target, options)
    assert info.value.field == field and words in str(info.value)
    assert "does not fit in float32 (largest 3.4e38)" in str(info.value)
    options.dtype = "float64"  # the same value fits in float64 and is computed
    assert compare(pair, prediction, target, options).fused.grad_fn


@pytest.mark.parametrize(
    ("target", "ignore_index"),
    [([0], -9223372036854775809), ([1e20], 10**20), ([0], 2**63)],
)
def test_ignore_index_beyond_64_bits_is_one_user_error(target, ignore_index):
    with pytest.raises(InputError) as info:
        compare("ce-nll", [[1.0, 0.0]], target, LossOptions(ignore_index=ignore_index))
    assert "64-bit" in str(info.value)


def test_a_huge_class_target_is_out_of_range_not_an_overflow():
    with pytest.raises(InputError, match="out of range|64-bit"):
        compare("ce-nll", [[1.0, 0.0]], [1e20])
    with pytest.raises(InputError, match="64-bit"):
        compare("ce-nll", [[1.0, 0.0]], [1e300], LossOptions(ignore_index=5))


def test_naive_cross_entropy_agrees_at_small_logits_and_names_exp_when_it_overflows():
    small = compare("ce-naive", CE_X, CE_Y)
    assert small.agree and small.overflow is None and round(small.composed.value, 4) == 1.6802
    big = compare("ce-naive", [[100.0, 2.0, -1.0], [1.0, 2.0, 3.0]], [0, 1])
    assert math.isfinite(big.fused.value) and math.isnan(big.composed.value)
    assert not big.agree
    assert big.overflow.startswith("in NLLLoss(log(exp(x)")
    assert "exp(x) is inf in float32 at prediction[0][0] = 100" in big.overflow
    assert "rounding" not in big.overflow
    fine = compare(
        "ce-naive", [[100.0, 2.0, -1.0], [1.0, 2.0, 3.0]], [0, 1], LossOptions(dtype="float64")
    )
    assert fine.agree and fine.overflow is None


def test_overflow_in_a_weighted_loss_names_the_per_sample_step():
    result = compare(
        "ce-nll",
        [[1.0, 0.0], [0.0, 9.0]],
        [1, 0],
        LossOptions(weight=[3e38, 3e38], reduction="sum"),
    )
    assert result.overflow is not None and "per-sample loss is inf" in result.overflow


def test_naive_sweep_visibly_parts_from_the_fused_form():
    sweep = stability_sweep("ce-naive", CE_X, CE_Y)
    assert all(math.isfinite(v) for v in sweep.fused["float32"] + sweep.fused["float64"])
    broken32 = sweep.non_finite_scale("float32")
    broken64 = sweep.non_finite_scale("float64")
    # exp overflows above 88.7 (float32) and 709.8 (float64); the largest seed logit is 0.9867.
    assert 88.7 / 0.9867 <= broken32 < 1.2 * 88.7 / 0.9867
    assert 709.8 / 0.9867 <= broken64 < 1.2 * 709.8 / 0.9867
    summary = sweep_summary(sweep)
    assert "float32: the composed form is not finite from s ≈" in summary
    assert sweep.parting_scale("float32") == broken32


def test_sweep_summary_for_identical_and_parting_forms():
    assert "identical at every s" in sweep_summary(stability_sweep("ce-nll", CE_X, CE_Y))
    bce = sweep_summary(stability_sweep("bce-logits", BCE_X, BCE_T))
    assert bce.startswith("float32: the forms part from s ≈")


def test_bce_saturation_notes_explain_the_composed_gradient():
    result = compare("bce-logits", [[25.0], [-30.0], [40.0], [-18.0]], [[0.0], [1.0], [0.0], [1.0]])
    assert round(result.composed.grad[1][0], 4) == -0.0234  # torch's backward floor at work
    text = " ".join(result.notes)
    assert (
        "x[0][0] = 25: Sigmoid rounds to exactly 1" in text
        and "clamps log 0 = −inf to −100" in text
    )
    assert "x[1][0] = -30" in text and "1e-12" in text and "-0.0234 (exact: -0.2500)" in text
    assert [(v.row, v.col) for v in result.saturated] == [(0, 0), (1, 0), (2, 0)]
    assert not compare("bce-logits", BCE_X, BCE_T).notes  # nothing saturates at the seed


def test_every_pair_has_a_hint_and_no_dead_target_name():
    for pair in PAIRS.values():
        assert pair.hint.startswith("What to notice")
        assert not hasattr(pair, "target_name")
