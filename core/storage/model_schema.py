"""The schema of a model file's fields besides the weights, checked before anything is built.

``core.storage.checkpoint`` checks the weights against the registry model; this module checks
everything else a file can carry: the normalisation, the settings and metrics records, and the
"is this a digit?" statistics (``core.inference.ood``'s payload) — types, shapes, finite
ranges, dense CPU tensors. A field that fails is a ``CheckpointError`` in one sentence, so a
forged or damaged file is refused at load time and never becomes the current model (before,
``method`` as a list, ``fitted_on`` of ``inf`` or class means of shape (0, K) raised a
traceback, or gave NaN probabilities on every stroke).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from core.errors import CheckpointError

NORMALIZATION_MEAN = (-1e3, 1e3)  # inputs are 0..1; a mean far outside means a broken file
NORMALIZATION_STD = (1e-3, 1e3)  # 1e-308 would turn every input into +-inf
MAX_STAT = 1e8  # no detector statistic (means, precisions, scales) comes near
MAX_COUNT = 10_000_000  # digits a detector could have been fitted on
MAX_RECORD_DEPTH = 4  # settings and metrics are flat records with a few small lists
MAX_RECORD_ITEMS = 10_000
CLASSES = 10
IMAGE_PIXELS = 28 * 28


def is_number(value: Any, low: float = -math.inf, high: float = math.inf) -> bool:
    """A real, finite int or float (not a bool) in ``low..high``."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def check_normalization(norm: Any, name: str) -> tuple[float, float]:
    """(mean, std) within sane finite ranges."""
    if not (isinstance(norm, list | tuple) and len(norm) == 2):
        raise CheckpointError(f"{name} has a malformed normalisation (need mean and std)")
    mean, std = norm
    if not (is_number(mean, *NORMALIZATION_MEAN) and is_number(std, *NORMALIZATION_STD)):
        raise CheckpointError(
            f"{name} has a normalisation ({mean!r:.30}, {std!r:.30}) outside the sane range "
            f"(mean within {NORMALIZATION_MEAN[1]:g} of 0, std {NORMALIZATION_STD[0]:g}.."
            f"{NORMALIZATION_STD[1]:g})"
        )
    return float(mean), float(std)


def check_record(value: Any, name: str, what: str, depth: int = 0) -> None:
    """Plain, finite data: text keys; text, finite numbers, bools, None, lists and dicts of them."""
    if depth > MAX_RECORD_DEPTH:
        raise CheckpointError(f"{name} has {what} nested too deeply")
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise CheckpointError(f"{name} has {what} holding a non-finite number")
        return
    if isinstance(value, list | tuple):
        items = value
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise CheckpointError(f"{name} has {what} under names that are not text")
        items = list(value.values())
    else:
        raise CheckpointError(f"{name} has {what} holding {type(value).__name__}, not plain data")
    if len(items) > MAX_RECORD_ITEMS:
        raise CheckpointError(f"{name} has {what} with too many entries")
    for item in items:
        check_record(item, name, what, depth + 1)


def check_tensor_basics(tensor: Any, key: str, name: str) -> None:
    """A dense tensor on the CPU (``meta`` or other devices hold no usable numbers)."""
    if not isinstance(tensor, torch.Tensor) or tensor.layout != torch.strided:
        raise CheckpointError(f"{name} has {key[:40]!r} that is not a plain dense tensor")
    if tensor.device.type != "cpu":
        raise CheckpointError(
            f"{name} has {key[:40]!r} on the {tensor.device.type!r} device; model files hold "
            "CPU tensors"
        )


def layer_widths(model: nn.Module) -> dict[str, int]:
    """What each detector layer reads, in features: the input, the first and last dense layers."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    widths = {"input": IMAGE_PIXELS}
    if linears:
        widths["first"] = linears[0].in_features
        widths["last"] = linears[-1].in_features
    return widths


def _stat_array(value: Any, key: str, name: str) -> torch.Tensor:
    check_tensor_basics(value, key, name)
    if not value.is_floating_point() or value.is_complex():
        raise CheckpointError(f"{name} has detector statistic {key!r} that is not real numbers")
    if value.numel() and not (torch.isfinite(value).all() and float(value.abs().max()) <= MAX_STAT):
        raise CheckpointError(f"{name} has detector statistic {key!r} that is not finite")
    return value


def _check_mahalanobis(payload: Any, layer: str, width: int, name: str) -> None:
    """centre (D,), basis (D, K), class_means (10, K), precision (K, K); 1 <= K <= D."""
    if not isinstance(payload, dict) or payload.get("layer") != layer:
        raise CheckpointError(f"{name} has detector statistics for the wrong layer")
    arrays = {}
    for key in ("centre", "basis", "class_means", "precision"):
        arrays[key] = _stat_array(payload.get(key), key, name)
    basis = arrays["basis"]
    k = basis.shape[1] if basis.dim() == 2 else 0
    shapes = {
        "centre": (width,),
        "basis": (width, k),
        "class_means": (CLASSES, k),
        "precision": (k, k),
    }
    for key, shape in shapes.items():
        if k < 1 or k > width or tuple(arrays[key].shape) != shape:
            raise CheckpointError(
                f"{name} has detector statistic {key!r} of shape {tuple(arrays[key].shape)}; "
                f"this model's {layer!r} layer needs {shape if k >= 1 else 'a width of 1 or more'}"
            )


def check_ood(ood: Any, model: nn.Module, name: str) -> None:
    """The "is this a digit?" statistics: every field's type, range and shape for this model."""
    from core.inference.ood import METHODS  # the detector's own table of methods

    if not isinstance(ood, dict):
        raise CheckpointError(f"{name} has malformed 'is this a digit' statistics")
    method = ood.get("method")
    if not isinstance(method, str) or method not in METHODS:
        raise CheckpointError(
            f"{name} has an unknown 'is this a digit' method {str(method)[:40]!r}"
        )
    uses_energy, layers = METHODS[method]
    for key in ("fitted_on", "held_out"):
        value = ood.get(key, 0)
        if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT):
            raise CheckpointError(f"{name} states {key} {str(value)[:30]!r}, not a count of digits")
    if not is_number(ood.get("threshold"), -MAX_STAT, MAX_STAT):
        raise CheckpointError(f"{name} has a detector threshold that is not a finite number")
    scales = ood.get("scales")
    if not (
        isinstance(scales, list | tuple)
        and len(scales) == int(uses_energy) + len(layers)
        and all(
            isinstance(pair, list | tuple)
            and len(pair) == 2
            and is_number(pair[0], -MAX_STAT, MAX_STAT)
            and is_number(pair[1], 1e-12, MAX_STAT)
            for pair in scales
        )
    ):
        raise CheckpointError(f"{name} has malformed detector scales")
    if not isinstance(ood.get("source", ""), str):
        raise CheckpointError(f"{name} has a detector source that is not text")
    stored = ood.get("mahalanobis") or []
    if not isinstance(stored, list | tuple) or len(stored) != len(layers):
        raise CheckpointError(f"{name} has detector statistics for the wrong number of layers")
    widths = layer_widths(model)
    for payload, layer in zip(stored, layers, strict=True):
        if layer not in widths:
            raise CheckpointError(f"{name} has detector statistics for a layer this model lacks")
        _check_mahalanobis(payload, layer, widths[layer], name)
