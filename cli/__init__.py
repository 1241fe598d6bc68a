"""Headless command line: ``python main.py loss|train|evaluate|classify ...``.

Each subcommand lives in its own module exposing ``register(subparsers)``; the parser raises
one-line errors (``error: ...`` on stderr, exit code 2) instead of argparse's usage dump, and a
``UserError`` anywhere below becomes the same kind of line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from core import __version__
from core.errors import UserError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """Raised by the parser instead of exiting, so callers (and tests) decide what happens."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, no usage dump
        raise CliError(f"{message} (see '{self.prog} --help')")


def build_parser() -> ArgumentParser:
    from cli import classify_cmd, loss_cmd, train_cmd

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
    for module in (loss_cmd, train_cmd, classify_cmd):
        module.register(subparsers)
    return parser


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str]) -> int:
    try:
        args = build_parser().parse_args(list(argv))
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
    except KeyboardInterrupt:
        return fail("interrupted", 130)
