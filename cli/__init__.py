"""Headless command line: ``python main.py loss|train|evaluate|classify ...``.

Each subcommand lives in its own module exposing ``register(subparsers)``; ``COMMANDS`` names
them with a one-line help, so ``--help`` and ``--version`` list the commands without importing
any of them (and so without torch). Only the chosen command's module is imported.

The contract, for every command: a mistake the user can make is one ``error: ...`` line on
stderr and exit code 2; Ctrl+C at any moment (even while torch is still importing) is
``error: interrupted`` and exit 130; a reader that closes the pipe ends the output quietly while
the work itself (a training run and its saved model) still completes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# command name -> (module that registers it, one-line help for the listing)
COMMANDS: dict[str, tuple[str, str]] = {
    "loss": (
        "cli.loss_cmd",
        "compare a fused loss with its composition (values, gradients, grad_fn)",
    ),
    "train": ("cli.train_cmd", "train a model on MNIST (or the bundled sample) and save it"),
    "evaluate": ("cli.train_cmd", "evaluate a saved model on the test set"),
    "export-script": (
        "cli.export_cmd",
        "write a training run as a standalone PyTorch script (runs with torchrun too)",
    ),
    "classify": ("cli.classify_cmd", "classify digit pictures with the current (or a given) model"),
    "inspect": ("cli.inspect_cmd", "show what each layer of the model does with one digit picture"),
    "attack": (
        "cli.attack_cmd",
        "find the smallest change to a digit picture that fools the model",
    ),
    "map": ("cli.map_cmd", "map the test digits' hidden layer to 2-D (PCA) with its 5-NN accuracy"),
    "download": ("cli.download_cmd", "download full MNIST (about 11 MB) into the data folder"),
    "landscape": ("cli.landscape_cmd", "the loss around a trained model: a line and a 2-D slice"),
    "lr-find": ("cli.lr_find_cmd", "find a good learning rate with a short growing-rate run"),
    "lessons": (
        "cli.lessons_cmd",
        "list the lessons, print a lesson template, or check a lesson file",
    ),
}


# The --model option of every command that reads one saved model: its help written once.
MODEL_HELP = "model file (default: the app's current model, else the bundled one)"


def add_command(subparsers: argparse._SubParsersAction, name: str, **kwargs: Any) -> ArgumentParser:
    """Register subcommand ``name`` with its one-line help from ``COMMANDS``.

    Every ``register()`` calls this instead of ``add_parser``, so the line that ``--help`` lists
    (without importing the command) is the line the command itself shows: written once.
    """
    return subparsers.add_parser(name, help=COMMANDS[name][1], **kwargs)


def add_model_option(parser: argparse.ArgumentParser, more: str = "", **kwargs: Any) -> None:
    """``--model PATH``: the model a command uses instead of the app's current one.

    ``more`` adds what only this command does with it (after "; "); ``kwargs`` go to
    ``add_argument`` (e.g. ``action="append"`` for a command that takes several models).
    """
    text = f"{MODEL_HELP}; {more}" if more else MODEL_HELP
    parser.add_argument("--model", metavar="PATH", help=text, **kwargs)


class CliError(Exception):
    """Raised by the parser instead of exiting, so callers (and tests) decide what happens."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, no usage dump
        raise CliError(f"{message} (see '{self.prog} --help')")


def build_parser(command: str | None = None) -> ArgumentParser:
    """The parser; only ``command``'s module is imported (the others are listed by name)."""
    from core import __version__

    parser = ArgumentParser(
        prog="digit-lab",
        description="Digit Lab: run without arguments for the app, or use a subcommand headless.",
    )
    parser.add_argument("--version", action="version", version=f"digit-lab {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="build the app offscreen and check losses, training and the "
        "default model; exit 0 only when all pass",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=ArgumentParser
    )
    if command in COMMANDS:
        importlib.import_module(COMMANDS[command][0]).register(subparsers)
    for name, (_module, help_text) in COMMANDS.items():
        if name not in subparsers.choices:  # listed by name only; never parsed
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str]) -> int:
    """Run one command; the exit code follows the contract in the module docstring."""
    from cli.output import run_guarded  # stdout and stderr that never raise (cli/output.py)

    def run() -> int:
        try:
            return _run(list(argv))
        except KeyboardInterrupt:
            return fail("interrupted", EXIT_INTERRUPTED)

    return run_guarded(run, fail, EXIT_FAILED)


def _run(argv: list[str]) -> int:
    from core.errors import UserError

    command = next((arg for arg in argv if not arg.startswith("-")), None)
    try:
        args = build_parser(command).parse_args(argv)
    except CliError as exc:
        return fail(str(exc))
    if args.self_test:
        from cli.selftest import run_self_test

        return run_self_test()
    if not getattr(args, "func", None):
        build_parser().print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or EXIT_OK)
    except UserError as exc:
        return fail(str(exc))
