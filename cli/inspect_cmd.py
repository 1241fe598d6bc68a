"""``inspect IMAGE [--model PATH] [--json]``: what each layer of the model does with one digit.

The contract: the digit, then per declared stage (``core.training.models.StageSpec``) its ``name``,
``kind`` (conv, dense, logits), ``shape``, ``active_fraction`` (share of ReLUs above zero, null
for a layer without ReLUs) and ``top_units`` (index and value, strongest first; a conv unit is a
channel scored by its strongest response). With ``--json`` the last stdout line is one object
``{"digit", "class_name", "confidence", "probabilities", "looks_like_digit", "ood_score",
"layers": [...]}`` (``class_name``: the class's name from ``core.data.datasets``, "7" for a
digit model, "Sneaker" for Fashion-MNIST; ``looks_like_digit`` and ``ood_score`` exactly as
``classify`` gives them: false means "this does not look like a digit to the model"). A picture that cannot be read or
holds no ink is one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import argparse

from cli import add_command, add_model_option
from core import json_output
from core.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "inspect",
        description="Run one digit picture through the model and report every layer: its "
        "shape, the share of its ReLUs that fire, and its most active units. The picture is "
        "preprocessed as for 'classify' (cropped, fitted to 20x20, centred by mass).",
    )
    parser.add_argument("image", metavar="IMAGE", help="picture file of one digit")
    add_model_option(parser)
    parser.add_argument("--json", action="store_true", help="end with one JSON object")
    parser.set_defaults(func=run)


def _shape_text(shape: list[int]) -> str:
    return "x".join(str(n) for n in shape)


def print_text(record: dict) -> None:
    """The human-readable table: one line per layer, strongest units last."""
    print(f"answer: {record['answer']}")
    print(f"{'layer':<12}{'kind':<8}{'shape':<11}{'active':>8}  top units (index: value)")
    for layer in record["layers"]:
        active = layer["active_fraction"]
        active_text = "-" if active is None else f"{active:.1%}"
        units = ", ".join(f"{u['index']}: {u['value']:.3g}" for u in layer["top_units"])
        print(
            f"{layer['name']:<12}{layer['kind']:<8}{_shape_text(layer['shape']):<11}"
            f"{active_text:>8}  {units}"
        )


def _with_class_name(record: dict, checkpoint: object) -> dict:
    """``record`` with ``class_name`` right after ``digit``."""
    from core.data.datasets import checkpoint_info
    from core.inference.answer import class_name

    name = class_name(checkpoint_info(checkpoint), record["digit"])
    out: dict = {}
    for key, value in record.items():
        out[key] = value
        if key == "digit":
            out["class_name"] = name
    return out


def _with_verdict(record: dict, prediction: object, checkpoint: object) -> dict:
    """``record`` with ``looks_like_digit`` and ``ood_score`` after ``probabilities`` (the same
    answer ``classify`` gives) and, for the text output only, the one-line ``answer``."""
    from core.data.datasets import checkpoint_info
    from core.inference.answer import describe

    out: dict = {}
    for key, value in record.items():
        out[key] = value
        if key == "probabilities":
            out["looks_like_digit"] = prediction.looks_like_digit
            score = prediction.ood_score
            out["ood_score"] = None if score is None else round(score, 4)
    out["answer"] = describe(prediction, checkpoint_info(checkpoint))
    return out


def run(args: argparse.Namespace) -> int:
    from core.inference.answer import centre_pictures_for
    from core.inference.classifier import Classifier, default_checkpoint
    from core.inference.image_io import read_picture
    from core.inspection.activations import inspect_tensor
    from core.storage.checkpoint import load_checkpoint

    picture = read_picture(args.image)
    checkpoint = load_checkpoint(args.model) if args.model else default_checkpoint()
    classifier = Classifier(checkpoint)
    # Digits are centred as MNIST's were; a Fashion-MNIST/KMNIST picture is only resized.
    item = classifier.preprocess(picture.pixels, center=centre_pictures_for(checkpoint))
    if picture.is_blank or item.is_empty or item.tensor is None:
        raise UserError(f"no digit found: {picture.name} is blank")
    temperature = classifier.temperature  # calibrated, as 'classify' answers
    record = inspect_tensor(
        classifier.model, checkpoint.model_name, item.tensor, temperature=temperature
    ).to_json()
    record = _with_class_name(record, checkpoint)
    record = _with_verdict(record, classifier.predict_preprocessed([item])[0], checkpoint)
    if args.json:
        print(json_output.dumps({k: v for k, v in record.items() if k != "answer"}))
    else:
        print_text(record)
    return 0
