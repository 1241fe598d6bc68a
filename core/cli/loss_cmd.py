"""Subcommand module (filled in by its issue)."""

from __future__ import annotations


def register(subparsers) -> None:  # noqa: ANN001
    pass
