"""``loss``: compare the two forms of a loss pair on tensors given as JSON.

python main.py loss --pair ce-nll --prediction '[[0.1, 0.9], [0.8, 0.2]]' --target '[1, 0]' --json
python main.py loss --list-pairs

Tensors are parsed as JSON data (never evaluated); any problem becomes one ``error: ...`` line
and exit code 2 through the ``UserError`` handling in ``cli``.
"""

from __future__ import annotations

import argparse

from cli import add_command
from core import json_output
from core.errors import UserError
from core.losses import PAIRS, REDUCTIONS, LossComparison, LossOptions, compare, format_value
from core.losses.tensor_text import format_number, parse_json_tensor


def register(subparsers) -> None:  # noqa: ANN001 (argparse's private subparsers type)
    parser = add_command(
        subparsers,
        "loss",
        description="Compare the two forms of a loss pair on the same prediction and target.",
    )
    parser.add_argument("--pair", help=f"one of: {', '.join(PAIRS)}")
    parser.add_argument("--prediction", metavar="JSON", help="logits, e.g. '[[0.2, 1.5, -0.3]]'")
    parser.add_argument(
        "--target",
        metavar="JSON",
        help="class indices '[1]' (ce-nll, ce-manual, ce-naive, mistakes) or probabilities "
        "shaped like the prediction (ce-soft, bce-logits)",
    )
    parser.add_argument("--reduction", choices=REDUCTIONS, default="mean")
    parser.add_argument("--weight", metavar="JSON", help="class weights, e.g. '[1, 2, 1]'")
    parser.add_argument("--label-smoothing", type=float, default=0.0, metavar="EPS")
    parser.add_argument("--ignore-index", type=int, default=-100, metavar="INDEX")
    parser.add_argument("--pos-weight", metavar="JSON", help="BCE weight of positives per column")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--list-pairs", action="store_true", help="list the pairs and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.list_pairs:
        print_pairs(as_json=args.json)
        return 0
    missing = [
        flag
        for flag, value in (
            ("--pair", args.pair),
            ("--prediction", args.prediction),
            ("--target", args.target),
        )
        if value is None
    ]
    if missing:
        raise UserError(f"loss needs {', '.join(missing)} (or --list-pairs to see the pairs)")
    options = LossOptions(
        reduction=args.reduction,
        weight=_vector(args.weight, "weight"),
        label_smoothing=args.label_smoothing,
        ignore_index=args.ignore_index,
        pos_weight=_vector(args.pos_weight, "pos_weight"),
        dtype=args.dtype,
    )
    result = compare(
        args.pair,
        parse_json_tensor(args.prediction, field="prediction"),
        parse_json_tensor(args.target, field="target"),
        options,
    )
    if args.json:
        print(json_output.dumps(comparison_json(result)))
    else:
        print(comparison_table(result))
    return 0


def _vector(text: str | None, field: str) -> list[float] | None:
    if text is None:
        return None
    value = parse_json_tensor(text, field=field, max_ndim=1)
    return [value] if isinstance(value, float) else value


def comparison_json(result: LossComparison) -> dict:
    data = result.to_dict()
    data["reduction"] = result.options.reduction
    data["expected_agree"] = PAIRS[result.pair].agrees
    return data


def _grid_lines(grid: list, indent: str = "    ") -> list[str]:
    rows = grid if grid and isinstance(grid[0], list) else [[v] for v in grid]
    cells = [[format_number(v) for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    return [indent + "  ".join(c.rjust(width) for c in row) for row in cells]


def comparison_table(result: LossComparison) -> str:
    pair = PAIRS[result.pair]
    f, c = result.fused, result.composed
    width = max(len(f.label), len(f.grad_fn), 12) + 2
    rows = [
        ("form", f.label, c.label),
        ("value", format_value(f.value), format_value(c.value)),
        ("grad_fn", f.grad_fn, c.grad_fn),
    ]
    verdict = "yes" if result.agree else "NO"
    if result.overflow:
        expected = "a result is not finite, see below"
    else:
        expected = "as expected" if result.agree == pair.agrees else "unexpected"
    lines = [f"{pair.name}: {pair.title}", f"reduction: {result.options.reduction}", ""]
    lines += [f"{name:<15}{a:<{width}}{b}" for name, a, b in rows]
    lines += [
        f"{'value diff':<15}{result.value_diff:.3g}",
        f"{'max grad diff':<15}{result.grad_diff:.3g}",
        f"{'agree':<15}{verdict} ({expected})",
        *([f"{'not finite':<15}{result.overflow}"] if result.overflow else []),
        "",
        f"gradient of {f.label} w.r.t. x:",
        *_grid_lines(f.grad),
        f"gradient of {c.label} w.r.t. x:",
        *_grid_lines(c.grad),
    ]
    lines += ["", pair.explanation]
    lines += [f"note: {n}" for n in result.notes]
    return "\n".join(lines)


def print_pairs(as_json: bool = False) -> None:
    if as_json:
        data = [
            {
                "name": p.name,
                "title": p.title,
                "fused": p.fused_label,
                "composed": p.composed_label,
                "target": p.target_kind,
                "agrees": p.agrees,
                "mistake": p.mistake,
                "options": list(p.options),
                "formula": p.formula,
                "explanation": p.explanation,
            }
            for p in PAIRS.values()
        ]
        print(json_output.dumps(data))
        return
    name_w = max(len(n) for n in PAIRS) + 2
    fused_w = max(len(p.fused_label) for p in PAIRS.values()) + 2
    comp_w = max(len(p.composed_label) for p in PAIRS.values()) + 2
    print(
        f"{'pair':<{name_w}}{'fused / reference':<{fused_w}}"
        f"{'composed / look-alike':<{comp_w}}agree"
    )
    for p in PAIRS.values():
        agree = "yes" if p.agrees else "no (mistake)"
        print(f"{p.name:<{name_w}}{p.fused_label:<{fused_w}}{p.composed_label:<{comp_w}}{agree}")
