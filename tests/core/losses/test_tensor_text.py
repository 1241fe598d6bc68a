"""Typed tensors are parsed as data; anything malformed is an InputError saying where."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from core.losses import PAIRS, LossOptions, compare
from core.losses.tensor_text import (
    as_class_index,
    format_number,
    parse_class_index,
    parse_json_tensor,
    parse_number,
    validate_grid,
)


def test_parses_grids_lists_and_scalars():
    assert parse_json_tensor("[[1, 2.5], [-3, 1e-3]]") == [[1.0, 2.5], [-3.0, 0.001]]
    assert parse_json_tensor("[0, 1, 2]") == [0.0, 1.0, 2.0]
    assert parse_json_tensor(" 3 ") == 3.0


@pytest.mark.parametrize(
    ("text", "row", "col", "words"),
    [
        ("", None, None, "empty"),
        ("   ", None, None, "empty"),
        ("[]", None, None, "empty list"),
        ("[[1, 2], [3]]", 1, None, "ragged"),
        ("[[1, 2], []]", 1, None, "empty row"),
        ('[[1, "x"]]', 0, 1, "text, not a number"),
        ("[[1, true]]", 0, 1, "not a number"),
        ("[[1, null]]", 0, 1, "null"),
        ("[[1, NaN]]", 0, 1, "NaN"),
        ("[Infinity]", 0, None, "Infinity"),
        ("[[1, 1e999]]", 0, 1, "not finite"),
        ("[[[1]]]", 0, 0, "nested"),
        ("[1, [2]]", 0, None, "single number"),
        ("[[1, 2]", None, None, "not valid JSON"),
        ("__import__('os')", None, None, "not valid JSON"),
        ('{"a": 1}', None, None, "an object"),
        ("[" * 100_000, None, None, "JSON"),
    ],
)
def test_bad_text_names_the_problem_and_the_cell(text, row, col, words):
    with pytest.raises(InputError) as info:
        parse_json_tensor(text, field="prediction")
    assert (info.value.row, info.value.col) == (row, col)
    assert words in str(info.value)
    assert str(info.value).startswith("prediction")


def test_flat_only_fields_reject_grids():
    with pytest.raises(InputError, match="flat list"):
        parse_json_tensor("[[1]]", field="weight", max_ndim=1)


@pytest.mark.parametrize("text", ["abc", "", "nan", "inf", "-Infinity", "1,5", "0x10"])
def test_cells_reject_non_numbers(text):
    with pytest.raises(InputError) as info:
        parse_number(text, field="prediction", row=2, col=3)
    assert (info.value.row, info.value.col) == (2, 3)
    assert "prediction[2][3]" in str(info.value)


def test_cells_accept_numbers_and_class_indices():
    assert parse_number(" -1.5e2 ") == -150.0
    assert parse_class_index("3", row=0) == 3
    assert parse_class_index("2.0", row=0) == 2
    with pytest.raises(InputError, match="whole number"):
        parse_class_index("2.5", row=1)


def test_format_number():
    assert format_number(1.68021619) == "1.6802"
    assert format_number(0) == "0"
    assert format_number(1e-9) == "1.000e-09"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_text_never_raises_anything_but_input_error(text):
    for parse in (parse_json_tensor, parse_number):
        with contextlib.suppress(InputError):
            parse(text)


json_like = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=2)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_like)
def test_random_json_text_never_raises_anything_but_input_error(data):
    try:
        text = json.dumps(data)
    except ValueError:
        return
    with contextlib.suppress(InputError):
        validate_grid(parse_json_tensor(text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(PAIRS)),
    json_like,
    json_like,
    st.sampled_from(["mean", "sum", "none"]),
)
def test_compare_on_random_data_raises_only_input_error(pair, prediction, target, reduction):
    try:
        result = compare(pair, prediction, target, LossOptions(reduction=reduction))
    except InputError:
        return
    assert result.pair == pair


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[0.1, 2.0], [3, 4]]", [[0.1, 2.0], [3.0, 4.0]]),
        (
            "tensor([[0.4499, 0.8788],\n        [0.4715, 0.6950]], requires_grad=True)",
            [[0.4499, 0.8788], [0.4715, 0.695]],
        ),
        ("tensor([[0.],\n        [1.],\n        [0.]])", [[0.0], [1.0], [0.0]]),
        ("tensor([0, 1, 4])", [0.0, 1.0, 4.0]),
        ("0.1\t2.0\n3\t4\n", [[0.1, 2.0], [3.0, 4.0]]),
        ("1, 2, 3", [1.0, 2.0, 3.0]),
        ("  7 ", 7.0),
    ],
)
def test_pasted_tensors_in_json_torch_or_spreadsheet_form(text, expected):
    from core.losses.tensor_text import parse_tensor_text

    assert parse_tensor_text(text, field="prediction") == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[1, 2], [3]]", "ragged"),
        ("1\t2\n3\tx", "prediction[1][1]"),
        ("", "empty"),
        ("[NaN]", "NaN"),
    ],
)
def test_bad_pastes_are_input_errors_with_a_place(text, words):
    from core.losses.tensor_text import parse_tensor_text

    with pytest.raises(InputError, match=words.replace("[", r"\[")):
        parse_tensor_text(text, field="prediction")


def test_copied_tensor_text_reads_back_exactly_through_the_cli_parser():
    from core.losses.tensor_text import format_tensor_text

    values = [[0.1, 1 / 3], [-2.5e-7, 1e30]]
    assert parse_json_tensor(format_tensor_text(values)) == values


def test_class_index_must_fit_in_int64():
    with pytest.raises(InputError, match="64-bit"):
        as_class_index(1e20)
    assert as_class_index(2.0**62) == 2**62
