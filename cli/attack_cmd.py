"""``attack IMAGE [--model M] [--method fgsm|pgd|pixels] [--target D] [--out ADV.png] [--json]``.

The smallest change to a picture that flips the model's answer (``core.inference.attack``). The
picture is read as ``classify`` reads it (``read_paper``); the altered picture is saved as an
8-bit PNG that ``classify`` reads back as ``adversarial_digit``. ``--json`` prints one object with
``digit``, ``adversarial_digit``, ``flipped``, ``epsilon`` (largest change of a pixel, 0..1),
``pixels_changed``, ``out`` (the saved path or null) and the probabilities before and after.
Exit 0 when the answer flipped, 1 when the search found no change that flips it (the result is
still printed), 2 for a mistake in the command (one ``error:`` line).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli import EXIT_FAILED, EXIT_OK, add_command, add_model_option
from core import json_output
from core.errors import UserError

METHOD_HELP = (
    "fgsm: one step along the gradient's sign; pgd: ten projected steps (stronger, default); "
    "pixels: the fewest dots, painted one at a time"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "attack",
        description="Fool the model: find the smallest change to a picture that changes the "
        "model's answer, through the same preprocessing as 'classify'. Save it with --out and "
        "'classify' reads the altered picture as the new digit.",
    )
    parser.add_argument("image", metavar="IMAGE", help="picture file of a digit")
    add_model_option(parser)
    parser.add_argument(
        "--method", choices=("fgsm", "pgd", "pixels"), default="pgd", help=METHOD_HELP
    )
    parser.add_argument(
        "--target",
        type=int,
        metavar="D",
        help="make the model answer this digit (default: any digit but its own answer)",
    )
    parser.add_argument("--out", metavar="ADV.png", help="save the altered picture (8-bit PNG)")
    parser.add_argument("--json", action="store_true", help="one JSON object on one line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.data.datasets import checkpoint_info
    from core.inference.attack import attack
    from core.inference.classifier import Classifier, default_checkpoint
    from core.inference.preprocess import read_paper
    from core.storage.checkpoint import load_checkpoint

    out = _checked_out(args.out, args.image)
    checkpoint = load_checkpoint(args.model) if args.model else default_checkpoint()
    if not checkpoint_info(checkpoint).fit_like_mnist:
        raise UserError("attack works on digit models (their pictures are cropped and centred)")
    paper = read_paper(args.image)
    result = attack(Classifier(checkpoint), paper.pixels, args.method, target=args.target)
    if out is not None:
        save_png(result.adversarial_picture, out)
    if args.json:
        print(json_output.dumps(result.to_json(None if out is None else str(out))))
    else:
        _print_text(result, out)
    return EXIT_OK if result.flipped else EXIT_FAILED


def _checked_out(out: str | None, image: str) -> Path | None:
    """The ``--out`` path, refused early (before the model loads) when it cannot be written."""
    if out is None:
        return None
    path = Path(out)
    if path.suffix.lower() != ".png":
        raise UserError(f"--out must name a .png file (8-bit, lossless), not {path.name}")
    if not path.parent.is_dir():
        raise UserError(f"cannot write {out}: the folder {path.parent} does not exist")
    if Path(image).exists() and path.exists() and path.resolve() == Path(image).resolve():
        raise UserError("--out would overwrite the picture being attacked; choose another name")
    return path


def save_png(pixels, path: Path) -> Path:  # noqa: ANN001 (numpy array)
    """Write an (H, W) uint8 picture as a grayscale PNG, atomically."""
    import numpy as np
    from PIL import Image

    from core.storage.atomic import atomic_path

    try:
        with atomic_path(path, suffix=".png") as tmp:
            Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(tmp, "PNG")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _print_text(result, out: Path | None) -> None:  # noqa: ANN001 (AttackResult)
    before = f"{result.digit} ({result.probabilities[result.digit]:.1%})"
    after = (
        f"{result.adversarial_digit} "
        f"({result.adversarial_probabilities[result.adversarial_digit]:.1%})"
    )
    verdict = "fooled" if result.flipped else "not fooled"
    print(f"{result.method}: {verdict}: {before} -> {after}")
    print(
        f"  epsilon {result.epsilon:.4f} ({round(result.epsilon * 255)}/255), "
        f"{result.pixels_changed} pixels changed, {result.seconds:.2f} s"
    )
    if out is not None:
        print(f"  saved {out}")
    print(f"  {result.explanation}")
