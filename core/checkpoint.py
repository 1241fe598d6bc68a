"""Checkpoint files: one per model, plain data only, written atomically, read weights-only.

The file is ``torch.save`` of a dict of plain Python data and tensors. It is read only with
``torch.load(..., weights_only=True)``: a file that would need code to unpickle is refused, and
no code in it runs. There is deliberately no fallback to ``weights_only=False``.
"""

from __future__ import annotations

import math
import os
import pickle
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core import __version__
from core.atomic import atomic_path
from core.errors import CheckpointError
from core.models import LOSS_CHOICES, MODELS, build_model

FORMAT = "digit-lab-checkpoint"
FORMAT_VERSION = 1
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


@dataclass
class Checkpoint:
    """A trained model and what is needed to trust and reuse it."""

    model_name: str
    loss: str
    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    dataset: str = ""
    normalization: tuple[float, float] = (MNIST_MEAN, MNIST_STD)
    app_version: str = __version__

    @classmethod
    def from_model(cls, model: nn.Module, model_name: str, loss: str, **kwargs: Any) -> Checkpoint:
        state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
        return cls(model_name=model_name, loss=loss, state_dict=state, **kwargs)

    def build(self, device: torch.device | str = "cpu") -> nn.Module:
        """The model with these weights, in eval mode, on ``device``."""
        model = build_model(self.model_name, self.loss)
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as exc:
            raise CheckpointError(
                f"weights do not fit model {self.model_name!r}: {str(exc).splitlines()[0]}"
            ) from None
        return model.to(device).eval()

    @property
    def test_accuracy(self) -> float | None:
        value = self.metrics.get("test_accuracy")
        return float(value) if value is not None else None

    def summary(self) -> str:
        """One line for the UI: name, dataset, accuracy."""
        acc = self.test_accuracy
        acc_text = f"{acc:.1%} test accuracy" if acc is not None else "accuracy unknown"
        dataset = self.dataset or "unknown data"
        return (
            f"{MODELS[self.model_name].title if self.model_name in MODELS else self.model_name}"
            f" ({self.loss}) trained on {dataset}, {acc_text}"
        )


def _plain(value: Any) -> Any:
    """Dataclasses and tuples to dicts and lists, so weights-only loading accepts them."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write ``checkpoint`` to ``path`` atomically (temp file in the same folder, then replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_name": checkpoint.model_name,
        "loss": checkpoint.loss,
        "state_dict": checkpoint.state_dict,
        "config": _plain(checkpoint.config),
        "metrics": _plain(checkpoint.metrics),
        "dataset": checkpoint.dataset,
        "normalization": [float(x) for x in checkpoint.normalization],
        "app_version": checkpoint.app_version,
    }
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
    except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as RuntimeError
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckpointError(f"could not write the model file {path}: {detail}") from None
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint safely; any problem becomes a ``CheckpointError`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file {str(path)!r} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "unsafe content"
        raise CheckpointError(
            f"{path.name} was refused: it would need to run code to load "
            f"(only plain weights are accepted): {first[:200]}"
        ) from None
    except (
        Exception
    ) as exc:  # arbitrary bytes can trip the reader anywhere (KeyError, IndexError...)
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path.name} is not a Digit Lab model file ({detail})") from None
    return _from_payload(payload, path.name)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _from_payload(payload: Any, name: str) -> Checkpoint:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{name} is not a Digit Lab model file")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer Digit Lab (format {version}); "
            f"this version reads format {FORMAT_VERSION}"
        )
    model_name = payload.get("model_name")
    loss = payload.get("loss")
    state = payload.get("state_dict")
    if model_name not in MODELS:
        raise CheckpointError(f"{name} holds an unknown model {model_name!r}")
    if loss not in LOSS_CHOICES:
        raise CheckpointError(f"{name} holds an unknown loss {loss!r}")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{name} has no usable weights")
    if not all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()):
        raise CheckpointError(f"{name} has weights that are NaN or infinite (a diverged run?)")
    config = payload.get("config") or {}
    metrics = payload.get("metrics") or {}
    if not isinstance(config, dict) or not isinstance(metrics, dict):
        raise CheckpointError(f"{name} has malformed settings or metrics")
    accuracy = metrics.get("test_accuracy")
    if accuracy is not None and not (_is_number(accuracy) and 0 <= accuracy <= 1):
        raise CheckpointError(f"{name} states a test accuracy {accuracy!r} that is not in 0..1")
    norm = payload.get("normalization") or [MNIST_MEAN, MNIST_STD]
    if not (
        isinstance(norm, list | tuple)
        and len(norm) == 2
        and all(_is_number(v) for v in norm)
        and norm[1] > 0
    ):
        raise CheckpointError(f"{name} has a malformed normalisation {norm!r} (need mean, std > 0)")
    checkpoint = Checkpoint(
        model_name=model_name,
        loss=loss,
        state_dict=state,
        config=dict(config),
        metrics=dict(metrics),
        dataset=str(payload.get("dataset") or ""),
        normalization=(float(norm[0]), float(norm[1])),
        app_version=str(payload.get("app_version") or ""),
    )
    checkpoint.build()  # refuse weights that do not fit the model now, not at first use
    return checkpoint
