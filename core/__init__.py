"""Digit Lab engine: losses, data, models, training, checkpoints, preprocessing, inference.

Nothing in this package imports Qt (a test enforces it), so the same code runs in the GUI,
the CLI, the tests, the benchmarks and the packaged app.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("digit-lab")
except metadata.PackageNotFoundError:  # frozen app or a plain checkout
    __version__ = "0.1.0"

APP_NAME = "Digit Lab"
APP_ID = "digit-lab"
