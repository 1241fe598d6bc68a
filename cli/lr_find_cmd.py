"""``lr-find [train's options...] [--iterations N] [--json]``: fastai's learning-rate finder.

A copy of the run's model (its seeded starting weights) trains for ``--iterations`` batches while
the learning rate grows exponentially from 1e-7 to 10, stopping when the smoothed loss blows up
(``core.training.lr_find``). ``--json`` ends with one object: ``suggested_lr`` (the rate at the
lowest smoothed loss / 10, fastai's "minimum" rule), ``minimum_lr``, ``valley_lr``,
``steepest_lr``, ``curve`` [[lr, smoothed loss], ...], ``points``, ``decades``, ``diverged``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cli import add_command
from core import json_output


def register(subparsers: Any) -> None:
    from cli.train_cmd import add_config_arguments

    parser = add_command(
        subparsers,
        "lr-find",
        description="Train a copy of the model for about 100 batches while the learning rate "
        "grows from 1e-7 to 10; suggest the rate at the lowest loss divided by 10. Takes the "
        "train command's options (model, optimizer, momentum, batch size, seed, data).",
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--iterations", type=int, default=100, metavar="N", help="batches to try (100)"
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cli.train_cmd import config_from_args
    from core.data.mnist import load_mnist
    from core.training.lr_find import READING, LrFindSettings, find_lr_for_config

    config = config_from_args(args)
    settings = LrFindSettings(iterations=args.iterations).validate()
    data = load_mnist(config.dataset, config.data_dir)
    if not args.json:
        print(
            f"lr-find: {config.model}, {config.optimizer}, batch {config.batch_size} on "
            f"{data.description}...",
            file=sys.stderr,
        )
    from cli.landscape_cmd import choose_threads

    choose_threads(config.model)
    result = find_lr_for_config(config, data, settings)
    record = result.to_json() | {
        "model": config.model,
        "optimizer": config.optimizer,
        "batch_size": config.batch_size,
        "default_lr": config.lr,
        "dataset": data.description,
    }
    if args.json:
        print(json_output.dumps(record))
        return 0
    for lr, loss in result.curve[:: max(1, len(result.curve) // 20)]:
        print(f"lr {lr:9.2e}   loss {loss:.4f}")
    print(
        f"suggested learning rate {result.suggested_lr:.3g} (lowest loss at "
        f"{result.minimum_lr:.3g}, divided by 10); valley {result.valley_lr:.3g}, steepest "
        f"{result.steepest_lr:.3g}; your setting {config.lr:g}"
        + ("; stopped when the loss blew up" if result.diverged else "")
    )
    print(READING)
    return 0
