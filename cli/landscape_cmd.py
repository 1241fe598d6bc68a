"""``landscape --model PATH [--grid N] [--span S] [--seed K] [--samples N] [--json]``.

Defaults fit the model (``LandscapeSettings.for_model``): an MLP 1,000 digits and an 11 x 11 slice,
a CNN 400 digits, a 9 x 9 slice and a 21-point line (each of its passes costs 30-100x more).

The loss landscape of a saved model (``core.training.landscape``): the loss on the straight line
from its initial weights (alpha 0) to its trained weights (alpha 1) and on to alpha 1.5, for
training and test digits; and the training loss on an N x N slice centred on the trained weights
along two filter-normalised random directions (biases and batch norm left out, running statistics
kept). Scored on a fixed subset of ``--samples`` training and test digits chosen with ``--seed``.

``--json`` ends with one object: ``line`` [[alpha, loss], ...] (alpha 0 and 1 included),
``line_test``, ``grid`` {"size": N, "loss": N x N, "x", "y", "centre_loss", "min_loss"}, ``init``
(where the alpha 0 weights came from), ``seconds``.
"""

from __future__ import annotations

import argparse
import sys

from cli import add_command, add_model_option
from core import json_output
from core.data.mnist import DATASET_CHOICES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "landscape",
        description="The loss landscape of a saved model (Li et al. 2018): a line from the "
        "initial weights (alpha 0) through the trained ones (alpha 1) to alpha 1.5, and a slice "
        "along two filter-normalised random directions centred on the trained weights.",
    )
    add_model_option(parser)
    parser.add_argument(
        "--grid", type=int, metavar="N", help="odd N: N x N slice (11 for an MLP, 9 for a CNN)"
    )
    parser.add_argument(
        "--span", type=float, default=1.0, metavar="S", help="the slice reaches -S..S (1.0)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="directions and digit subset (1): same seed, same map"
    )
    parser.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help="training and test digits (1000 for an MLP, 400 for a CNN: 30-100x dearer a digit)",
    )
    parser.add_argument("--dataset", choices=DATASET_CHOICES, default="auto")
    parser.add_argument("--data-dir", metavar="DIR", help="folder holding MNIST/raw")
    parser.add_argument("--json", action="store_true", help="end with one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.data.mnist import load_mnist
    from core.inference.classifier import default_checkpoint
    from core.storage.checkpoint import load_checkpoint
    from core.training.landscape import (
        LINE_READING,
        SLICE_READING,
        LandscapeSettings,
        compute_landscape,
        initial_state_for,
    )

    checkpoint = load_checkpoint(args.model) if args.model else default_checkpoint()
    chosen = {"grid": args.grid, "samples": args.samples}
    settings = LandscapeSettings.for_model(
        checkpoint.model_name,
        span=args.span,
        seed=args.seed,
        **{name: value for name, value in chosen.items() if value is not None},
    ).validate()
    data = load_mnist(args.dataset, args.data_dir)
    seed = checkpoint.config.get("seed") if isinstance(checkpoint.config, dict) else None
    initial, note = initial_state_for(checkpoint.model_name, checkpoint.loss, seed, None)
    if not args.json:
        print(f"landscape of {checkpoint.summary()} on {data.description}...", file=sys.stderr)
    choose_threads(checkpoint.model_name)
    result = compute_landscape(
        checkpoint.build("cpu"), checkpoint.model_name, data, initial, settings, init_note=note
    )
    record = result.to_json() | {"model": checkpoint.model_name, "dataset": data.description}
    if args.json:
        print(json_output.dumps(record))
        return 0
    _print_text(result, record, LINE_READING, SLICE_READING)
    return 0


def _print_text(result, record: dict, line_reading: str, slice_reading: str) -> None:
    print(f"alpha 0 = {result.init_note}; alpha 1 = the trained weights")
    print("alpha   train loss   test loss")
    for (alpha, train), (_, test) in zip(result.line, result.line_test, strict=True):
        if abs(alpha * 10 - round(alpha * 10)) < 1e-6:
            print(f"{alpha:5.2f}   {train:10.4f}   {test:9.4f}")
    best = min(result.line, key=lambda point: point[1])
    print(f"lowest training loss on the line at alpha {best[0]:.2f}")
    print(line_reading)
    grid = record["grid"]
    print(
        f"{grid['size']}x{grid['size']} slice ({result.directions} directions, span "
        f"{result.grid_x[-1]:g}): centre {grid['centre_loss']:.4f}, lowest {grid['min_loss']:.4f}, "
        f"highest {max(max(row) for row in result.grid_loss):.4f}"
    )
    print(slice_reading)
    print(
        f"{result.train_samples:,} training and {result.test_samples:,} test digits, "
        f"{result.seconds:.1f} s"
    )


def choose_threads(model_name: str) -> None:
    """The trainer's rule: one thread for the MLP (a second only waits), a few for a CNN."""
    import torch

    from core.training.train_types import TrainConfig
    from core.training.trainer import choose_threads

    torch.set_num_threads(choose_threads(TrainConfig(model=model_name), torch.device("cpu")))
