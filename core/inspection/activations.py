"""What happens inside a model: activations per stage, weights as pictures, gradient flow.

Everything renders from the stages the model registry declares (``core.training.models.StageSpec``): a
forward hook on each stage's module reads its output, so a new model needs no code here. One
module serves the ``inspect`` command, the "Inside the network" tab and the trainer's opt-in
gradient statistics. Results are plain data (numpy arrays, floats, lists), never live tensors,
so they cross threads and print as JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import UserError
from core.training.models import MODELS, StageKind, StageSpec

TOP_UNITS = 5


def stages_of(model_name: str) -> tuple[StageSpec, ...]:
    """The registry's stages for ``model_name`` (a ``UserError`` for a model without any)."""
    spec = MODELS.get(model_name)
    if spec is None or not spec.stages:
        raise UserError(f"model {model_name!r} declares no stages to inspect")
    return spec.stages


def stage_by_name(model_name: str, name: str) -> StageSpec:
    for stage in stages_of(model_name):
        if stage.name == name:
            return stage
    raise UserError(f"model {model_name!r} has no stage {name!r}")


@contextmanager
def capture(model: nn.Module, stages: Sequence[StageSpec]) -> Iterator[dict[str, torch.Tensor]]:
    """Forward hooks on the stages' modules while the block runs; outputs land in the dict.

    The hooks are removed on exit, so the model runs at full speed everywhere else (the Draw
    tab's classifier is the same model object).
    """
    outputs: dict[str, torch.Tensor] = {}
    modules = dict(model.named_modules())
    handles = []
    for stage in stages:
        if stage.module not in modules:
            raise UserError(f"the model has no module {stage.module!r} for stage {stage.name!r}")

        def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor, key=stage.name) -> None:
            outputs[key] = output.detach()

        handles.append(modules[stage.module].register_forward_hook(hook))
    try:
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def unit_scores(values: torch.Tensor, kind: StageKind) -> torch.Tensor:
    """One score per unit and digit, (N, units): a dense unit's value; a conv channel's maximum
    over its map (a filter is a detector: where it fires most is what it found)."""
    if kind == "conv":
        return values.flatten(2).amax(dim=2)
    return values.flatten(1)


@dataclass
class LayerActivation:
    """One stage's values for one digit. ``values`` has ``shape`` (after the activation);
    ``active_fraction`` is the share of ReLUs above zero (``None`` for a layer without ReLUs);
    ``top_units`` the (unit index, score) of the strongest units, strongest first."""

    name: str
    kind: StageKind
    shape: tuple[int, ...]
    values: np.ndarray
    active_fraction: float | None
    top_units: list[tuple[int, float]]
    about: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "shape": list(self.shape),
            "active_fraction": (
                None if self.active_fraction is None else round(self.active_fraction, 6)
            ),
            "top_units": [{"index": i, "value": round(v, 6)} for i, v in self.top_units],
        }


@dataclass
class Inspection:
    """A digit's path through the network: each stage in forward order, then the answer."""

    model_name: str
    digit: int
    probabilities: list[float]
    layers: list[LayerActivation] = field(default_factory=list)

    def layer(self, name: str) -> LayerActivation:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "digit": self.digit,
            "confidence": round(self.probabilities[self.digit], 6),
            "probabilities": [round(p, 6) for p in self.probabilities],
            "layers": [layer.to_json() for layer in self.layers],
        }


def _layer(stage: StageSpec, values: torch.Tensor, top_k: int) -> LayerActivation:
    scores = unit_scores(values, stage.kind)[0]
    k = min(top_k, scores.numel())
    top = torch.topk(scores, k)
    active = None
    if stage.activation == "relu":
        active = float((values > 0).float().mean())
    return LayerActivation(
        name=stage.name,
        kind=stage.kind,
        shape=tuple(values.shape[1:]),
        values=values[0].float().cpu().numpy(),
        active_fraction=active,
        top_units=[(int(i), float(v)) for v, i in zip(top.values, top.indices, strict=True)],
        about=stage.about,
    )


@torch.inference_mode()
def inspect_tensor(
    model: nn.Module,
    model_name: str,
    tensor: torch.Tensor,
    top_k: int = TOP_UNITS,
    temperature: float = 1.0,
) -> Inspection:
    """Run one normalised (1, 28, 28) input through ``model`` and read every declared stage.

    ``probabilities`` are ``softmax(logits / temperature)``: pass the classifier's calibration
    temperature so the answer reads as the Draw tab and ``classify`` give it."""
    stages = stages_of(model_name)
    device = next(model.parameters()).device
    x = tensor.detach().reshape(1, 1, 28, 28).to(device, dtype=torch.float32)
    with capture(model, stages) as outputs:
        model(x)
    logits = outputs[stages[-1].name].double().cpu()[0]
    probabilities = torch.softmax(logits / temperature, dim=0).tolist()
    layers = [_layer(stage, outputs[stage.name], top_k) for stage in stages]
    digit = int(np.argmax(probabilities))
    return Inspection(model_name, digit, probabilities, layers)


@torch.inference_mode()
def stage_outputs(
    model: nn.Module, model_name: str, inputs: torch.Tensor, names: Sequence[str], chunk: int = 500
) -> dict[str, torch.Tensor]:
    """The named stages' outputs for a batch of normalised inputs (N, 28, 28) or (N, 1, 28, 28),
    computed ``chunk`` digits at a time, concatenated on the CPU."""
    stages = [stage_by_name(model_name, name) for name in names]
    device = next(model.parameters()).device
    parts: dict[str, list[torch.Tensor]] = {stage.name: [] for stage in stages}
    for start in range(0, len(inputs), chunk):
        x = inputs[start : start + chunk].reshape(-1, 1, 28, 28).to(device, dtype=torch.float32)
        with capture(model, stages) as outputs:
            model(x)
        for stage in stages:
            parts[stage.name].append(outputs[stage.name].float().cpu())
    return {name: torch.cat(values) for name, values in parts.items()}


class Cancelled(Exception):
    """A long pass stopped because its caller asked (``should_stop`` returned True)."""


@torch.inference_mode()
def scan(
    model: nn.Module,
    model_name: str,
    inputs: torch.Tensor,
    keep: Sequence[str] = (),
    chunk: int = 250,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """One pass over ``inputs``: every stage's per-unit scores, (N, units) each, and the whole
    outputs of the ``keep`` stages, (N, ...) each, on the CPU. Whole feature maps are kept only
    where asked (a CNN's first maps are 50 KB a digit). ``should_stop`` is asked between chunks;
    when it says so the pass raises ``Cancelled``."""
    stages = stages_of(model_name)
    device = next(model.parameters()).device
    scores: dict[str, list[torch.Tensor]] = {stage.name: [] for stage in stages}
    kept: dict[str, list[torch.Tensor]] = {name: [] for name in keep}
    for start in range(0, len(inputs), chunk):
        if should_stop is not None and should_stop():
            raise Cancelled()
        x = inputs[start : start + chunk].reshape(-1, 1, 28, 28).to(device, dtype=torch.float32)
        with capture(model, stages) as outputs:
            model(x)
        for stage in stages:
            scores[stage.name].append(unit_scores(outputs[stage.name], stage.kind).float().cpu())
            if stage.name in kept:
                kept[stage.name].append(outputs[stage.name].float().cpu())
    joined = {name: torch.cat(parts) for name, parts in scores.items()}
    return joined, {name: torch.cat(parts) for name, parts in kept.items()}


def strongest(scores: dict[str, torch.Tensor], k: int = 8) -> dict[str, np.ndarray]:
    """Per stage, the ``k`` rows with the highest score of each unit: (units, k), strongest
    first."""
    return {
        name: torch.topk(table.t(), min(k, len(table)), dim=1).indices.numpy()
        for name, table in scores.items()
    }


def top_exciting(
    model: nn.Module, model_name: str, inputs: torch.Tensor, k: int = 8, chunk: int = 250
) -> dict[str, np.ndarray]:
    """For every stage, the ``k`` inputs that excite each unit most: stage -> (units, k) indices
    into ``inputs``, strongest first."""
    return strongest(scan(model, model_name, inputs, chunk=chunk)[0], k)


# ---------------------------------------------------------------------------- weights


def tile(maps: np.ndarray, columns: int | None = None, pad: int = 1) -> np.ndarray:
    """(N, H, W) maps as one 2-D mosaic, ``pad`` NaN pixels between tiles (views draw NaN as
    background). Columns default to a near-square grid."""
    maps = np.asarray(maps, dtype=np.float32)
    count, height, width = maps.shape
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    mosaic = np.full(
        (rows * (height + pad) - pad, columns * (width + pad) - pad), np.nan, np.float32
    )
    for index in range(count):
        r, c = divmod(index, columns)
        y, x = r * (height + pad), c * (width + pad)
        mosaic[y : y + height, x : x + width] = maps[index]
    return mosaic


def grid_shape(count: int) -> tuple[int, int]:
    """Rows and columns for ``count`` dense values shown as a compact block (128 -> 8x16)."""
    rows = int(np.floor(np.sqrt(count)))
    while count % rows:
        rows -= 1
    return rows, count // rows


def _module(model: nn.Module, name: str) -> nn.Module:
    modules = dict(model.named_modules())
    if name not in modules:
        raise UserError(f"the model has no module {name!r}")
    return modules[name]


def input_shape(model_name: str, stage_name: str) -> tuple[int, ...]:
    """The shape of what a stage's weights read: the picture for the first layer, else the
    previous stage's output (post-activation), as declared by the registry."""
    stages = stages_of(model_name)
    names = [s.name for s in stages]
    index = names.index(stage_by_name(model_name, stage_name).name)
    target = stages[index].weights
    for previous in reversed(stages[:index]):
        if previous.weights != target and previous.activation is not None:
            return stage_shapes(model_name)[previous.name]
    return (1, 28, 28)


def unit_template(model: nn.Module, model_name: str, stage_name: str, unit: int) -> np.ndarray:
    """A unit's incoming weights as a 2-D picture: 28x28 for an MLP's first layer, the filter
    (k x k, or a mosaic over input channels) for a conv unit, the previous layer's layout for
    a dense unit (a mosaic of 7x7 maps after a conv stage, a compact block after a dense one)."""
    stage = stage_by_name(model_name, stage_name)
    weight = _module(model, stage.weights).weight.detach().float().cpu()
    if not 0 <= unit < weight.shape[0]:
        raise UserError(f"stage {stage_name!r} has no unit {unit}")
    row = weight[unit]
    if row.dim() == 3:  # conv filter (C_in, k, k)
        return row[0].numpy() if row.shape[0] == 1 else tile(row.numpy())
    shape = input_shape(model_name, stage_name)
    if int(np.prod(shape)) != row.numel():
        return row.reshape(grid_shape(row.numel())).numpy()
    if len(shape) == 3:
        return row.reshape(shape)[0].numpy() if shape[0] == 1 else tile(row.reshape(shape).numpy())
    return row.reshape(grid_shape(row.numel())).numpy()


def first_layer_templates(model: nn.Module, model_name: str) -> np.ndarray:
    """Every first-layer unit's incoming weights as pictures, (units, h, w): an MLP's 784 weights
    as 28x28, a CNN's 5x5 filters. What a learner watches form during training."""
    stage = stages_of(model_name)[0]
    weight = _module(model, stage.weights).weight.detach().float().cpu()
    if weight.dim() == 4:
        return weight[:, 0].numpy().copy()
    return weight.reshape(weight.shape[0], 28, 28).numpy().copy()


@dataclass
class WeightHistogram:
    """The distribution of one layer's weights (``counts`` over the bins between ``edges``)."""

    name: str
    counts: list[int]
    edges: list[float]
    mean: float
    std: float


def weight_layers(model_name: str) -> list[str]:
    """The weight-holding modules of the declared stages, in forward order, each once."""
    names: list[str] = []
    for stage in stages_of(model_name):
        if stage.weights not in names:
            names.append(stage.weights)
    return names


def weight_histograms(model: nn.Module, model_name: str, bins: int = 40) -> list[WeightHistogram]:
    result = []
    for name in weight_layers(model_name):
        values = _module(model, name).weight.detach().float().cpu().flatten().numpy()
        counts, edges = np.histogram(values, bins=bins)
        result.append(
            WeightHistogram(
                name,
                counts.tolist(),
                edges.astype(float).tolist(),
                float(values.mean()),
                float(values.std()),
            )
        )
    return result


@cache
def stage_shapes(model_name: str) -> dict[str, tuple[int, ...]]:
    """Each stage's per-digit output shape, found once by running a fresh model on a blank input."""
    from core.training.models import build_model

    stages = stages_of(model_name)
    model = build_model(model_name).eval()
    with torch.inference_mode(), capture(model, stages) as outputs:
        model(torch.zeros(1, 1, 28, 28))
    return {stage.name: tuple(outputs[stage.name].shape[1:]) for stage in stages}


# ----------------------------------------------------------------------- gradient flow

# A layer's gradient is "vanishing" below this share of the largest layer's gradient norm, and
# an update "explodes" when one step changes a layer's weights by more than this share of them.
VANISHING_SHARE = 0.01
EXPLODING_UPDATE = 0.1
MOSTLY_DEAD = 0.5
# Gradient reports at most this often (5 a second: the templates visibly form, the cost stays
# small at any report cadence).
REPORT_INTERVAL_S = 0.2
# Units whose every probe digit gives exactly zero are dead; this many test digits probe.
DEAD_PROBE_DIGITS = 1000


@dataclass
class LayerFlow:
    """One layer's gradient flow at one step: ``update_ratio`` is ||W_after - W_before|| / ||W||,
    the share of its weights one optimizer step changed (around 1e-3 is healthy)."""

    name: str
    grad_norm: float
    weight_norm: float
    update_ratio: float


@dataclass
class GradientReport:
    """Opt-in trainer event, at most every ``GradientMonitor.min_interval_s``: the flow per weight
    layer (forward order) and a copy of the first layer's templates (units, h, w)."""

    epoch: int
    step: int
    layers: list[LayerFlow]
    templates: np.ndarray | None = None


@dataclass
class DeadReluReport:
    """Opt-in trainer event after each epoch: per ReLU stage, the share of units that output zero
    for every probe digit (a dead unit gets no gradient and never recovers)."""

    epoch: int
    dead_fraction: dict[str, float]


class GradientMonitor:
    """Gradient-flow statistics for a training run, cheap enough to leave on.

    The trainer calls ``observe`` in place of ``optimizer.step()`` on report steps: when a report
    is due it snapshots the weights, steps, and measures the norms with one device sync; else it
    only steps. ``min_interval_s`` bounds the cost on fast runs (0: every report, for tests).
    """

    def __init__(
        self, model: nn.Module, model_name: str, min_interval_s: float | None = None
    ) -> None:
        self.model = model
        self.model_name = model_name
        self.min_interval_s = REPORT_INTERVAL_S if min_interval_s is None else min_interval_s
        modules = dict(model.named_modules())
        self.names = weight_layers(model_name)
        self.weights = [modules[name].weight for name in self.names]
        self._last = -float("inf")

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.min_interval_s

    def observe(self, step_fn: Callable[[], Any], epoch: int, step: int) -> GradientReport | None:
        """Run ``step_fn`` (the optimizer step); return a report when one was due."""
        if not self.due():
            step_fn()
            return None
        self._last = time.monotonic()
        with torch.no_grad():
            before = [w.detach().clone() for w in self.weights]
            grads = [w.grad if w.grad is not None else torch.zeros_like(w) for w in self.weights]
            grad_norms = torch._foreach_norm(grads)
            step_fn()
            weight_norms = torch._foreach_norm([w.detach() for w in self.weights])
            delta_norms = torch._foreach_norm(torch._foreach_sub(before, self.weights))
            table = torch.stack([*grad_norms, *weight_norms, *delta_norms]).double().cpu()
        values = table.reshape(3, -1).tolist()  # note: the one device sync per report
        layers = [
            LayerFlow(name, g, w, d / w if w > 0 else 0.0)
            for name, g, w, d in zip(self.names, *values, strict=True)
        ]
        templates = first_layer_templates(self.model, self.model_name)
        return GradientReport(epoch, step, layers, templates)

    def dead_relus(self, epoch: int, inputs: torch.Tensor) -> DeadReluReport:
        """Dead-unit shares over the first ``DEAD_PROBE_DIGITS`` of ``inputs`` (normalised)."""
        stages = [s for s in stages_of(self.model_name) if s.activation == "relu"]
        probe = inputs[:DEAD_PROBE_DIGITS]
        was_training = self.model.training
        self.model.eval()
        try:
            outputs = stage_outputs(self.model, self.model_name, probe, [s.name for s in stages])
        finally:
            self.model.train(was_training)
        dead = {}
        for stage in stages:
            alive = unit_scores(outputs[stage.name], stage.kind).amax(0) > 0
            dead[stage.name] = 1.0 - float(alive.float().mean())
        return DeadReluReport(epoch, dead)


def flow_notes(report: GradientReport, dead: DeadReluReport | None = None) -> list[str]:
    """Plain-words warnings for a learner: vanishing or exploding gradients, dead ReLUs."""
    notes = []
    largest = max((layer.grad_norm for layer in report.layers), default=0.0)
    vanishing = []
    for layer in report.layers:
        if not np.isfinite(layer.grad_norm) or not np.isfinite(layer.update_ratio):
            notes.append(f"{layer.name}: gradients are NaN or infinite: the run has diverged.")
        elif layer.update_ratio > EXPLODING_UPDATE:
            notes.append(
                f"{layer.name}: one step changes {layer.update_ratio:.0%} of its weights: "
                "gradients explode; lower the learning rate."
            )
        elif largest > 0 and layer.grad_norm < VANISHING_SHARE * largest:
            vanishing.append(layer)
    if vanishing:
        names = ", ".join(layer.name for layer in vanishing)
        shares = [layer.grad_norm / largest for layer in vanishing]
        span = (
            f"{min(shares):.0e}" if len(shares) == 1 else f"{min(shares):.0e} to {max(shares):.0e}"
        )
        one = len(vanishing) == 1
        notes.append(
            f"{names}: {'its gradient is' if one else 'gradients'} {span} of the largest layer's: "
            + (
                "it vanishes on the way back, so this layer barely learns."
                if one
                else "they vanish on the way back, so these layers barely learn."
            )
        )
    for name, fraction in dead.dead_fraction.items() if dead else ():
        if fraction > MOSTLY_DEAD:
            notes.append(
                f"{name}: {fraction:.0%} of its ReLUs are dead (zero for every digit): they no "
                "longer learn; a lower learning rate avoids killing them."
            )
    return notes
