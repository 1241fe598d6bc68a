"""Where shipped resources and user files live, from source and when frozen by PyInstaller.

This is the one helper every layer uses to find files, so the packaged app and a checkout
behave the same.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core import APP_ID


def app_root() -> Path:
    """The folder holding ``resources/``: the bundle dir when frozen, else the repository."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource, e.g. ``resource_path("models", "default.pt")``."""
    return app_root().joinpath("resources", *parts)


def user_data_dir() -> Path:
    """Per-user folder for datasets and saved models (``DIGIT_LAB_DATA_DIR`` overrides)."""
    override = os.environ.get("DIGIT_LAB_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def default_mnist_dir() -> Path:
    """Default folder for full MNIST in torchvision's layout (``DIR/MNIST/raw``)."""
    return user_data_dir() / "data"


def current_model_file() -> Path:
    """Where earlier versions kept their single current model. The model library
    (``core.storage.model_library``, in ``models/library/``) imports it once and holds the choice now."""
    return user_data_dir() / "models" / "current.pt"


def bundled_model_file() -> Path:
    """The default model shipped with the app (trained on the bundled sample)."""
    return resource_path("models", "default_cnn.pt")


def sample_data_dir() -> Path:
    """The bundled MNIST sample in torchvision's raw layout (``.../MNIST/raw/*-ubyte.gz``)."""
    return resource_path("mnist_sample")
