"""The ``loss`` CLI contract: flags, JSON keys, readable table, one-line errors with exit 2."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main as cli_main
from core.losses import PAIRS, SEED_EXAMPLES
from tests.helpers import run_main

CE_X, CE_Y = (json.dumps(v) for v in SEED_EXAMPLES["ce-nll"])
BCE_X, BCE_T = (json.dumps(v) for v in SEED_EXAMPLES["bce-logits"])


def run_inline(capsys, *args: str) -> tuple[int, str, str]:
    code = cli_main(["loss", *args])
    out, err = capsys.readouterr()
    return code, out, err


def dotted(data: dict, path: str):
    for key in path.split("."):
        data = data[key]
    return data


def test_json_contract_in_a_real_process():
    result = run_main("loss", "--pair", "ce-nll", "--prediction", CE_X, "--target", CE_Y, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for path in (
        "pair",
        "fused.value",
        "composed.value",
        "fused.grad",
        "composed.grad",
        "fused.grad_fn",
        "composed.grad_fn",
        "value_diff",
        "grad_diff",
    ):
        dotted(data, path)
    assert data["pair"] == "ce-nll"
    assert round(data["fused"]["value"], 4) == round(data["composed"]["value"], 4) == 1.6802
    assert data["fused"]["grad_fn"] == data["composed"]["grad_fn"] == "NllLossBackward0"
    assert len(data["fused"]["grad"]) == 3 and len(data["fused"]["grad"][0]) == 5


def test_bad_input_in_a_real_process_is_one_line_exit_2():
    result = run_main(
        "loss", "--pair", "ce-nll", "--prediction", "[[1, 2], [3]]", "--target", "[0, 1]"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_values_and_grads_match_torch(capsys):
    code, out, _ = run_inline(
        capsys, "--pair", "bce-logits", "--prediction", BCE_X, "--target", BCE_T, "--json"
    )
    assert code == 0
    data = json.loads(out)
    x = torch.tensor(json.loads(BCE_X), requires_grad=True)
    t = torch.tensor(json.loads(BCE_T))
    expected = F.binary_cross_entropy_with_logits(x, t)
    expected.backward()
    assert data["fused"]["value"] == pytest.approx(expected.item())
    assert round(data["composed"]["value"], 4) == 0.7907
    assert torch.allclose(torch.tensor(data["fused"]["grad"]), x.grad)
    assert data["composed"]["grad_fn"] == "BinaryCrossEntropyBackward0"


def test_reduction_none_gives_lists_and_the_gradient_of_the_sum(capsys):
    code, out, _ = run_inline(
        capsys,
        "--pair",
        "ce-nll",
        "--prediction",
        CE_X,
        "--target",
        CE_Y,
        "--reduction",
        "none",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert isinstance(data["fused"]["value"], list) and len(data["composed"]["value"]) == 3
    x = torch.tensor(json.loads(CE_X), requires_grad=True)
    F.cross_entropy(x, torch.tensor(json.loads(CE_Y)), reduction="none").sum().backward()
    assert torch.allclose(torch.tensor(data["composed"]["grad"]), x.grad)


def test_option_flags(capsys):
    code, out, _ = run_inline(
        capsys,
        "--pair",
        "ce-manual",
        "--prediction",
        CE_X,
        "--target",
        "[4, 3, -1]",
        "--weight",
        "[1, 2, 3, 4, 5]",
        "--label-smoothing",
        "0.1",
        "--ignore-index",
        "-1",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    x = torch.tensor(json.loads(CE_X))
    expected = F.cross_entropy(
        x,
        torch.tensor([4, 3, -1]),
        weight=torch.tensor([1.0, 2, 3, 4, 5]),
        label_smoothing=0.1,
        ignore_index=-1,
    )
    assert data["fused"]["value"] == pytest.approx(expected.item())
    assert data["agree"] is True
    code, out, _ = run_inline(
        capsys,
        "--pair",
        "bce-logits",
        "--prediction",
        BCE_X,
        "--target",
        BCE_T,
        "--pos-weight",
        "[3]",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and any("pos_weight" in n for n in data["notes"])


def test_readable_table(capsys):
    code, out, _ = run_inline(capsys, "--pair", "ce-nll", "--prediction", CE_X, "--target", CE_Y)
    assert code == 0
    assert "CrossEntropyLoss(x, y)" in out and "NLLLoss(LogSoftmax(x), y)" in out
    assert out.count("1.6802") == 2 and "NllLossBackward0" in out and "agree" in out
    code, out, _ = run_inline(
        capsys, "--pair", "nll-on-logits", "--prediction", CE_X, "--target", CE_Y
    )
    assert "NO (as expected)" in out


def test_list_pairs(capsys):
    code, out, _ = run_inline(capsys, "--list-pairs")
    assert code == 0
    for name in PAIRS:
        assert name in out
    lines = out.strip().splitlines()
    column = lines[0].index("agree")  # the last column lines up, whatever the label lengths
    assert all(line[column - 2 : column] == "  " for line in lines[1:])
    assert all(line[column:].startswith(("yes", "no")) for line in lines[1:])
    code, out, _ = run_inline(capsys, "--list-pairs", "--json")
    assert [p["name"] for p in json.loads(out)] == list(PAIRS)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--pair", "focal", "--prediction", "[[1, 2]]", "--target", "[0]"], "unknown pair"),
        (["--pair", "ce-nll", "--prediction", "[[1, two]]", "--target", "[0]"], "JSON"),
        (
            ["--pair", "ce-nll", "--prediction", '[[1, "two"]]', "--target", "[0]"],
            "prediction[0][1]",
        ),
        (["--pair", "ce-nll", "--prediction", "[[1, 2], [3]]", "--target", "[0, 1]"], "ragged"),
        (["--pair", "ce-nll", "--prediction", "[]", "--target", "[]"], "empty"),
        (["--pair", "ce-nll", "--prediction", "", "--target", "[0]"], "empty"),
        (["--pair", "ce-nll", "--prediction", "[[1, NaN]]", "--target", "[0]"], "NaN"),
        (["--pair", "ce-nll", "--prediction", "[[1, Infinity]]", "--target", "[0]"], "Infinity"),
        (["--pair", "ce-nll", "--prediction", "[[1, 2]]", "--target", "[5]"], "out of range"),
        (["--pair", "ce-nll", "--prediction", "[[1, 2]]", "--target", "[0.5]"], "whole number"),
        (["--pair", "ce-nll", "--prediction", "[[1, 2]]", "--target", "[0, 1]"], "target"),
        (
            ["--pair", "bce-logits", "--prediction", "[[1, 2]]", "--target", "[[0, 2]]"],
            "between 0 and 1",
        ),
        (["--pair", "bce-logits", "--prediction", "[[1, 2]]", "--target", "[0, 1]"], "shape"),
        (["--pair", "ce-nll", "--prediction", "[[1, 2]]"], "--target"),
        (
            [
                "--pair",
                "ce-nll",
                "--prediction",
                "[[1, 2]]",
                "--target",
                "[0]",
                "--reduction",
                "avg",
            ],
            "invalid choice",
        ),
        (
            ["--pair", "ce-nll", "--prediction", "[[1, 2]]", "--target", "[0]", "--weight", "[1]"],
            "weight",
        ),
        (
            [
                "--pair",
                "ce-nll",
                "--prediction",
                "[[1, 2]]",
                "--target",
                "[0]",
                "--label-smoothing",
                "2",
            ],
            "label smoothing",
        ),
        (
            [
                "--pair",
                "ce-nll",
                "--prediction",
                "__import__('os').system('echo hi')",
                "--target",
                "[0]",
            ],
            "not valid JSON",
        ),
    ],
)
def test_bad_input_is_exit_2_and_one_error_line(capsys, args, words):
    code, out, err = run_inline(capsys, *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert words in lines[0]


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_table_for_every_pair_and_reduction(capsys, name, reduction):
    kind = PAIRS[name].target_kind
    prediction, target = {
        "class": ("[[0.5, 1.5, -1.0], [2.0, 0.1, 0.3]]", "[2, 0]"),
        "probability": ("[[0.5, 1.5, -1.0], [2.0, 0.1, 0.3]]", "[[0, 0.5, 0.5], [1, 0, 0]]"),
        "binary": ("[[0.5, -3.0], [2.0, 40.0]]", "[[0, 1], [1, 0]]"),
    }[kind]
    code, out, err = run_inline(
        capsys,
        "--pair",
        name,
        "--prediction",
        prediction,
        "--target",
        target,
        "--reduction",
        reduction,
    )
    assert code == 0, err
    assert "grad_fn" in out and f"reduction: {reduction}" in out
    code, out, err = run_inline(
        capsys,
        "--pair",
        name,
        "--prediction",
        prediction,
        "--target",
        target,
        "--reduction",
        reduction,
        "--json",
    )
    data = json.loads(out)
    assert isinstance(data["fused"]["value"], list) == (reduction == "none")
    assert (
        torch.tensor(data["composed"]["grad"]).shape == torch.tensor(json.loads(prediction)).shape
    )


TENSOR_TEXT = st.one_of(
    st.text(max_size=30),
    st.recursive(
        st.floats(allow_nan=True) | st.integers(-5, 5) | st.booleans() | st.none(),
        lambda children: st.lists(children, max_size=4),
        max_leaves=10,
    ).map(json.dumps),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(sorted(PAIRS)),
    TENSOR_TEXT,
    TENSOR_TEXT,
    st.sampled_from(["mean", "sum", "none"]),
    st.booleans(),
)
def test_random_cli_input_is_answered_or_one_error_line(
    capsys, pair, prediction, target, reduction, as_json
):
    args = [
        "--pair",
        pair,
        "--prediction",
        prediction,
        "--target",
        target,
        "--reduction",
        reduction,
    ] + (["--json"] if as_json else [])
    code, out, err = run_inline(capsys, *args)
    if code == 0:
        assert out and not err
        if as_json:
            json.loads(out)
    else:
        assert code == 2 and not out
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["--prediction", "[[1e39, 0]]", "--target", "[0]"],
            "1e39, which does not fit in float32 (largest 3.4e38): use float64",
        ),
        (["--prediction", "[[1, 0]]", "--target", "[0]", "--weight", "[1e39, 1]"], "weight[0]"),
        (
            [
                "--prediction",
                "[[1, 0]]",
                "--target",
                "[0]",
                "--ignore-index",
                "-9223372036854775809",
            ],
            "64-bit",
        ),
        (
            [
                "--prediction",
                "[[1, 0]]",
                "--target",
                "[1e20]",
                "--ignore-index",
                "100000000000000000000",
            ],
            "64-bit",
        ),
    ],
)
def test_overflowing_numbers_are_one_error_line_in_a_real_process(args, words):
    result = run_main("loss", "--pair", "ce-nll", *args)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]


def test_float64_accepts_what_float32_cannot_hold(capsys):
    code, out, _ = run_inline(
        capsys,
        "--pair",
        "ce-nll",
        "--prediction",
        "[[1e39, 0]]",
        "--target",
        "[0]",
        "--dtype",
        "float64",
        "--json",
    )
    assert code == 0 and json.loads(out)["fused"]["value"] == 0.0


def test_table_names_the_step_that_overflowed(capsys):
    code, out, _ = run_inline(
        capsys, "--pair", "ce-naive", "--prediction", "[[100, 0]]", "--target", "[0]"
    )
    assert code == 0
    assert "unexpected" not in out and "rounding" not in out
    assert "not finite     in NLLLoss(log(exp(x)" in out and "exp(x) is inf in float32" in out
