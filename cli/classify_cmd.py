"""``classify IMAGE [IMAGE ...] [--model PATH] [--json]``: read digits from picture files.

A contract other checks rely on: one result per image, in order; ``--json`` prints one object per
line with ``path``, ``digit``, ``confidence`` and ``probabilities`` (or ``error``). An unreadable
image is reported and skipped, the rest are still classified, and the exit code is 1 at the end.
The model is loaded once and all readable images go through it as one batch.
"""

from __future__ import annotations

import argparse
import sys

from cli import EXIT_FAILED, EXIT_OK
from core import json_output
from core.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="classify digit pictures with the current (or a given) model",
        description="Classify pictures of handwritten digits (PNG, JPEG, BMP, ...; any size, "
        "dark-on-light or light-on-dark). Each picture is preprocessed as MNIST was: cropped, "
        "fitted to 20x20 and centred by its centre of mass in 28x28.",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="picture files to classify")
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="checkpoint to use (default: the app's current model, else the bundled one)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--no-center",
        action="store_true",
        help="skip MNIST-style cropping and centring (plain resize; for comparison)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.checkpoint import load_checkpoint
    from core.inference import Classifier, default_checkpoint
    from core.preprocess import load_image_file

    checkpoint = load_checkpoint(args.model) if args.model else default_checkpoint()
    classifier = Classifier(checkpoint)

    errors: dict[int, str] = {}
    preprocessed = {}
    for index, path in enumerate(args.images):
        try:
            preprocessed[index] = classifier.preprocess(
                load_image_file(path), center=not args.no_center
            )
        except UserError as exc:
            errors[index] = str(exc)
    predictions = dict(
        zip(preprocessed, classifier.predict_preprocessed(list(preprocessed.values())), strict=True)
    )
    for index, prediction in predictions.items():
        if prediction.is_empty:
            errors[index] = "no digit found: the picture is blank"

    for index, path in enumerate(args.images):
        if index in errors:
            if args.json:
                print(json_output.dumps({"path": path, "error": errors[index]}))
            else:
                print(f"{path}: error: {errors[index]}")
            continue
        prediction = predictions[index]
        if args.json:
            record = {
                "path": path,
                "digit": prediction.digit,
                "confidence": round(prediction.confidence, 6),
                "probabilities": [round(p, 6) for p in prediction.probabilities],
            }
            print(json_output.dumps(record))
        else:
            print(f"{path}: {prediction.describe()}")
    sys.stdout.flush()
    return EXIT_FAILED if errors else EXIT_OK
