"""``classify IMAGE [IMAGE ...] [--model PATH] [--json]``: read digits from picture files.

A contract other checks rely on: one result per image, in order; ``--json`` prints one object per
line with ``path``, ``digit``, ``class_name`` (the class's name: "7" for a digit model,
"Sneaker" for a Fashion-MNIST one, see ``core.data.datasets``), ``confidence``, ``probabilities``, ``looks_like_digit`` (false:
"this does not look like a digit to the model", see ``core.inference.ood``) and ``ood_score`` (or
``error``). An unreadable image is reported and skipped, the rest are still classified, and the
exit code is 1 at the end. The model is loaded once; images go through it in chunks of
``CHUNK``, each printed as soon as it is done, so memory does not grow with the number of
images.

With ``--model`` given twice or more (``--model A --model B``) every picture is read by every
model: ``--json`` prints one object per picture with ``path``, ``models`` (one record as above
per model, in order, each with ``model``: its path) and ``agree`` (every model gives the same
answer). The single-model output is unchanged.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cli import EXIT_FAILED, EXIT_OK, add_command, add_model_option
from core import json_output
from core.errors import UserError

if TYPE_CHECKING:
    from core.data.datasets import DatasetInfo
    from core.inference.classifier import Classifier, Prediction

CHUNK = 64  # images per model batch: one chunk of inputs in memory at a time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "classify",
        description="Classify pictures of handwritten digits (PNG, JPEG, BMP, ...; any size, "
        "dark-on-light or light-on-dark). Each picture is preprocessed as MNIST was: cropped, "
        "fitted to 20x20 and centred by its centre of mass in 28x28.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="picture files to classify")
    add_model_option(
        parser,
        "give it twice (--model A --model B) to read every picture with both models",
        action="append",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--no-center",
        action="store_true",
        help="skip MNIST-style cropping and centring (plain resize; for comparison; always so "
        "for a Fashion-MNIST or KMNIST model, whose pictures fill their frame)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.data.datasets import checkpoint_info
    from core.inference.answer import centre_pictures
    from core.inference.classifier import Classifier, default_checkpoint
    from core.storage.checkpoint import load_checkpoint

    models = args.model or []
    if len(models) > 1:
        return run_several(args, models)
    checkpoint = load_checkpoint(models[0]) if models else default_checkpoint()
    classifier = Classifier(checkpoint)
    info = checkpoint_info(checkpoint)
    args.no_center = not centre_pictures(info, wanted=not args.no_center)
    failed = False
    for start in range(0, len(args.images), CHUNK):
        paths = args.images[start : start + CHUNK]
        for path, outcome in zip(paths, classify_files(classifier, paths, args), strict=True):
            failed |= isinstance(outcome, str)
            _print(path, outcome, args.json, info)
        sys.stdout.flush()
    return EXIT_FAILED if failed else EXIT_OK


def run_several(args: argparse.Namespace, models: list[str]) -> int:
    """Every picture read by every model in ``models`` (paths), one line per picture."""
    from core.data.datasets import checkpoint_info
    from core.inference.answer import centre_pictures
    from core.inference.classifier import Classifier
    from core.storage.checkpoint import load_checkpoint

    readers = []
    for path in models:
        checkpoint = load_checkpoint(path)
        info = checkpoint_info(checkpoint)
        centre = centre_pictures(info, wanted=not args.no_center)
        readers.append(
            (path, Classifier(checkpoint), info, argparse.Namespace(no_center=not centre))
        )
    failed = False
    for start in range(0, len(args.images), CHUNK):
        paths = args.images[start : start + CHUNK]
        columns = [classify_files(c, paths, options) for _, c, _, options in readers]
        for row, path in enumerate(paths):
            outcomes = [column[row] for column in columns]
            failed |= any(isinstance(outcome, str) for outcome in outcomes)
            _print_several(path, outcomes, readers, args.json)
        sys.stdout.flush()
    return EXIT_FAILED if failed else EXIT_OK


def _print_several(path: str, outcomes: list, readers: list, as_json: bool) -> None:
    from core.inference.answer import describe

    problem = next((outcome for outcome in outcomes if isinstance(outcome, str)), None)
    if problem is not None:
        _print(path, problem, as_json, readers[0][2])
        return
    agree = len({outcome.digit for outcome in outcomes}) == 1
    if as_json:
        records = [
            {"model": model, **_record(outcome, info)}
            for outcome, (model, _, info, _) in zip(outcomes, readers, strict=True)
        ]
        print(json_output.dumps({"path": path, "models": records, "agree": agree}))
        return
    answers = " | ".join(
        f"{model}: {describe(outcome, info)}"
        for outcome, (model, _, info, _) in zip(outcomes, readers, strict=True)
    )
    print(f"{path}: {answers} ({'agree' if agree else 'disagree'})")


def classify_files(
    classifier: Classifier, paths: list[str], args: argparse.Namespace
) -> list[Prediction | str]:
    """A prediction, or the one-sentence reason there is none, for each path, in order.

    Each picture goes through ``core.inference.preprocess.read_paper`` (the Draw tab's reader) and the
    classifier's preprocessing without its intermediate steps, so memory holds one chunk of
    28x28 inputs, not every picture's crops.
    """
    from core.inference.preprocess import blank_message, read_paper

    outcomes: list[Prediction | str] = []
    items = []
    for path in paths:
        try:
            paper = read_paper(path)
        except UserError as exc:
            outcomes.append(str(exc))
            continue
        item = classifier.preprocess(paper.pixels, center=not args.no_center, keep_steps=False)
        if item.is_empty:
            outcomes.append("no digit found: " + blank_message(paper.name))
            continue
        outcomes.append(None)  # filled in below, after one batch through the model
        items.append(item)
    answers = iter(classifier.predict_preprocessed(items))
    return [next(answers) if outcome is None else outcome for outcome in outcomes]


def _print(path: str, outcome: Prediction | str, as_json: bool, info: DatasetInfo) -> None:
    from core.inference.answer import class_name, describe

    if isinstance(outcome, str):
        if as_json:
            print(json_output.dumps({"path": path, "error": outcome}))
        else:
            print(f"{path}: error: {outcome}")
        return
    name = class_name(info, outcome.digit)
    if not as_json:
        named = "" if info.shows_digits else f" [class {outcome.digit}: {name}]"
        print(f"{path}: {describe(outcome, info)}{named}")
        return
    print(json_output.dumps({"path": path, **_record(outcome, info)}))


def _record(outcome: Prediction, info: DatasetInfo) -> dict:
    """One answer as the JSON contract names it (without ``path``)."""
    from core.inference.answer import class_name

    return {
        "digit": outcome.digit,
        "class_name": class_name(info, outcome.digit),
        "confidence": round(outcome.confidence, 6),
        "probabilities": [round(p, 6) for p in outcome.probabilities],
        "looks_like_digit": outcome.looks_like_digit,
        "ood_score": None if outcome.ood_score is None else round(outcome.ood_score, 4),
    }
