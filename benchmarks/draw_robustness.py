"""Does preprocessing make a drawn digit look like MNIST? Accuracy on redrawn test digits.

    .venv/bin/python benchmarks/draw_robustness.py [--model PATH] [--limit N] [--json]
    .venv/bin/python benchmarks/draw_robustness.py --ood [--per-kind 100] [--json]

Each of the bundled sample's 1,000 test digits is redrawn as a canvas picture (280x280, dark
ink on white, as the Draw tab renders) in several ways, then classified through the app's one
path (``canvas_to_input`` + ``Classifier``). The baseline is the model on the original 28x28
digits with no preprocessing at all. Goal: every variant within 3 points of the baseline.
The same variants without the MNIST steps (plain resize of the whole canvas) show why they
are there.

``--ood`` measures "is this a digit?" instead (``core.inference.ood``): each method is fitted on the
bundled sample's training digits, then the share flagged is counted on the 1,000 test digits
(never used for fitting), on the same digits redrawn on a 280x280 canvas, and on generated
non-digit drawings (``core.inference.ood.probe_drawings``, a seed the tests do not use). The separation is
the ROC AUC between test digits and drawings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.mnist import load_sample  # noqa: E402
from core.inference.classifier import Classifier, default_checkpoint  # noqa: E402
from core.inference.ood import (  # noqa: E402
    CHECK_DIGITS,
    FLAG_RATE,
    METHODS,
    THRESHOLD_DIGITS,
    OodStats,
    digit_inputs,
    fit_ood,
    model_outputs,
    probe_drawings,
)
from core.inference.preprocess import canvas_to_input  # noqa: E402
from core.storage.checkpoint import load_checkpoint  # noqa: E402

CANVAS = 280
GOAL_POINTS = 3.0


def _paper(ink: Image.Image, top: int, left: int) -> np.ndarray:
    """Paste light-on-dark ``ink`` onto black at (top, left); return dark-on-light paper."""
    paper = Image.new("L", (CANVAS, CANVAS), 0)
    paper.paste(ink, (left, top))
    return 255 - np.asarray(paper)


def _scaled(digit: np.ndarray, size: int) -> Image.Image:
    return Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR)


def _ink_only(digit: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(digit.max(axis=1) > 40)
    cols = np.flatnonzero(digit.max(axis=0) > 40)
    return digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def variants(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Ways to redraw a 28x28 digit as a 280x280 canvas picture."""

    def scaled_up(d: np.ndarray) -> np.ndarray:  # the whole 28x28 field, 10x
        return _paper(_scaled(d, CANVAS), 0, 0)

    def off_centre(d: np.ndarray) -> np.ndarray:  # 140 px, pushed towards a corner
        size = 140
        top, left = (int(v) for v in rng.integers(0, CANVAS - size, 2))
        return _paper(_scaled(d, size), top, left)

    def small(d: np.ndarray) -> np.ndarray:  # 56 px (ink ~40 px) anywhere
        size = 56
        top, left = (int(v) for v in rng.integers(0, CANVAS - size, 2))
        return _paper(_scaled(d, size), top, left)

    def large(d: np.ndarray) -> np.ndarray:  # the ink alone fills the canvas
        ink = _ink_only(d)
        h, w = ink.shape
        scale = (CANVAS - 4) / max(h, w)
        big = Image.fromarray(ink).resize(
            (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BILINEAR
        )
        return _paper(big, (CANVAS - big.height) // 2, (CANVAS - big.width) // 2)

    def thick(d: np.ndarray) -> np.ndarray:  # 200 px with strokes ~10 px fatter
        return _paper(_scaled(d, 200).filter(ImageFilter.MaxFilter(11)), 40, 40)

    def inverted(d: np.ndarray) -> np.ndarray:  # light ink on a dark background
        return 255 - _paper(_scaled(d, 200), 40, 40)

    return {
        "scaled up": scaled_up,
        "off-centre": off_centre,
        "small": small,
        "large": large,
        "thick": thick,
        "inverted": inverted,
    }


def _auroc(negatives: np.ndarray, positives: np.ndarray) -> float:
    """P(score of a drawing > score of a digit): 1.0 separates perfectly, 0.5 is chance."""
    values = np.concatenate([negatives, positives])
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    positive_ranks = ranks[len(negatives) :].sum()
    n_pos, n_neg = len(positives), len(negatives)
    return float((positive_ranks - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def measure_ood(checkpoint, per_kind: int, seed: int, flag_rate: float) -> dict:  # noqa: ANN001
    """Flag rates and separation of every method in ``core.inference.ood.METHODS``."""
    model = checkpoint.build()
    norm = checkpoint.normalization
    data = load_sample()
    check = data.test_images[CHECK_DIGITS]
    test_inputs, _ = digit_inputs(check, norm)
    rng = np.random.default_rng(seed)
    redraw = variants(rng)["scaled up"]
    redrawn = [canvas_to_input(redraw(d), normalization=norm) for d in check.numpy()]
    redrawn_inputs = torch.stack([item.tensor for item in redrawn if item.tensor is not None])
    probes = {
        kind: torch.stack([canvas_to_input(p, normalization=norm).tensor for p in pictures])
        for kind, pictures in probe_drawings(per_kind, seed=seed + 1000).items()
    }
    outputs = {
        "test": model_outputs(model, test_inputs),
        "redrawn": model_outputs(model, redrawn_inputs),
    } | {kind: model_outputs(model, x) for kind, x in probes.items()}
    fitted = {
        method: fit_ood(
            model,
            data.train_images,
            data.train_labels,
            normalization=norm,
            method=method,
            flag_rate=flag_rate,
            threshold_images=data.test_images[THRESHOLD_DIGITS],
        )
        for method in METHODS
    }
    stored = getattr(checkpoint, "ood", None)
    if stored:
        fitted["stored in the model file"] = OodStats.from_payload(stored)
    rows = [_ood_row(name, stats, outputs, list(probes)) for name, stats in fitted.items()]
    return {
        "model": checkpoint.summary(),
        "flag_rate_on_threshold_digits": flag_rate,
        "test_digits": len(test_inputs),
        "drawings": per_kind * len(probes),
        "methods": rows,
    }


def _ood_row(name: str, stats: OodStats, outputs: dict, kinds: list[str]) -> dict:
    scores = {key: stats.score(out) for key, out in outputs.items()}
    flagged = {key: float(np.mean(v > stats.threshold)) for key, v in scores.items()}
    drawings = np.concatenate([scores[k] for k in kinds])
    return {
        "method": name,
        "auroc": round(_auroc(scores["test"], drawings), 4),
        "test_digits_flagged": round(flagged["test"], 4),
        "redrawn_digits_flagged": round(flagged["redrawn"], 4),
        "drawings_flagged": round(float(np.mean(drawings > stats.threshold)), 4),
        "by_kind": {k: round(flagged[k], 3) for k in kinds},
    }


def print_ood(summary: dict) -> None:
    print(
        f"{summary['model']}\n  statistics from the training digits; threshold: "
        f"{summary['flag_rate_on_threshold_digits']:.0%} of the even-numbered test digits flagged; "
        f"'test' = the {summary['test_digits']} odd-numbered ones, never used"
    )
    print(f"  {'method':<26} {'AUROC':>6} {'test':>6} {'redrawn':>8} {'drawings':>9}  by kind")
    for r in summary["methods"]:
        kinds = ", ".join(f"{k} {v:.0%}" for k, v in r["by_kind"].items())
        print(
            f"  {r['method']:<26} {r['auroc']:>6.3f} {r['test_digits_flagged']:>6.1%} "
            f"{r['redrawn_digits_flagged']:>8.1%} {r['drawings_flagged']:>9.1%}  {kinds}"
        )


def held_out_digits(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The 5,000 MNIST training digits the bundled model held out of training (the fixed split
    ``tools/train_default_model.py`` uses, the bundled sample's digits excluded): a second set
    of digits it never saw, beside the sample's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from train_default_model import Recipe, prepare

    split = prepare(folder, Recipe())
    return split.held_images, split.held_labels


def measure_robustness(checkpoint, limit: int, seed: int, digits=None) -> dict:  # noqa: ANN001
    """Accuracy on test digits (the sample's, or ``digits``) redrawn in each of ``variants``,
    with and without the MNIST preprocessing, against the model on the original 28x28 digits."""
    classifier = Classifier(checkpoint, ood=None)
    if digits is None:
        data = load_sample()
        digits = (data.test_images, data.test_labels)
    images, labels = digits[0], digits[1].numpy()
    if limit:
        images, labels = images[:limit], labels[:limit]
    started = time.perf_counter()
    mean, std = classifier.normalization
    original = (images.float() / 255.0 - mean) / std
    baseline = float(
        np.mean(classifier.probabilities(original.unsqueeze(1)).argmax(axis=1) == labels)
    )
    rows = []
    for name, redraw in variants(np.random.default_rng(seed)).items():
        pictures = [redraw(d) for d in images.numpy()]
        accuracy = {}
        for center in (True, False):
            predictions = classifier.predict(pictures, center=center)
            accuracy[center] = float(np.mean([p.digit for p in predictions] == labels))
        rows.append(
            {
                "variant": name,
                "accuracy": round(accuracy[True], 4),
                "points_below_baseline": round((baseline - accuracy[True]) * 100, 2),
                "within_goal": (baseline - accuracy[True]) * 100 <= GOAL_POINTS,
                "accuracy_without_preprocessing": round(accuracy[False], 4),
            }
        )
    return {
        "model": checkpoint.summary(),
        "digits": len(labels),
        "baseline_accuracy_28x28": round(baseline, 4),
        "variants": rows,
        "goal_points": GOAL_POINTS,
        "all_within_goal": all(r["within_goal"] for r in rows),
        "seconds": round(time.perf_counter() - started, 1),
    }


def print_robustness(summary: dict) -> None:
    print(f"{summary['model']}; {summary['digits']} test digits")
    print(f"  original 28x28 digits: {summary['baseline_accuracy_28x28']:.1%}")
    print(f"  {'variant':<12} {'preprocessed':>12} {'vs 28x28':>9} {'plain resize':>13}")
    for r in summary["variants"]:
        print(
            f"  {r['variant']:<12} {r['accuracy']:>12.1%} {-r['points_below_baseline']:>+8.1f}p"
            f" {r['accuracy_without_preprocessing']:>13.1%}"
        )
    verdict = "all within" if summary["all_within_goal"] else "NOT all within"
    print(f"  {verdict} {GOAL_POINTS:.0f} points of the 28x28 accuracy ({summary['seconds']} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="checkpoint (default: the app's default)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N test digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--ood", action="store_true", help="measure 'is this a digit?' instead")
    parser.add_argument("--per-kind", type=int, default=100, help="drawings of each kind (--ood)")
    parser.add_argument("--flag-rate", type=float, default=FLAG_RATE)
    parser.add_argument(
        "--held-out",
        type=Path,
        metavar="MNIST_DIR",
        help="use the bundled model's 5,000 held-out MNIST training digits from this folder "
        "(e.g. ../shared/mnist-train) instead of the sample's test digits, which it trained on",
    )
    args = parser.parse_args(argv)

    checkpoint = load_checkpoint(args.model) if args.model else default_checkpoint()
    if args.ood:
        summary = measure_ood(checkpoint, args.per_kind, args.seed, args.flag_rate)
        print(json.dumps(summary)) if args.json else print_ood(summary)
    else:
        digits = held_out_digits(args.held_out) if args.held_out else None
        summary = measure_robustness(checkpoint, args.limit, args.seed, digits)
        print(json.dumps(summary)) if args.json else print_robustness(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
