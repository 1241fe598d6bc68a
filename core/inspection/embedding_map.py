"""The hidden-layer map: the test digits as the network's penultimate layer sees them, in 2-D.

Each test digit's values in the last hidden stage (``ModelSpec.embedding_stage``: 64 numbers for
the MLP, 128 for the CNN) are projected onto their two main directions with PCA
(``torch.pca_lowrank``, seeded, signs fixed, so the same model always gives the same map). Digits
the network tells apart land apart; the 5-nearest-neighbour accuracy of the labels *in the 2-D
map* says how well two dimensions already separate them. The projection is kept (mean and
components), so a newly drawn digit can be placed on the same map as a moving marker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.data.mnist import MnistData, normalize
from core.errors import UserError
from core.inspection.activations import stage_outputs
from core.storage.atomic import write_text_atomic
from core.training.models import MODELS

KNN_K = 5
PCA_SEED = 0


@dataclass
class Projection:
    """A fitted 2-D PCA: ``(features - mean) @ components`` gives map coordinates."""

    mean: np.ndarray  # (D,)
    components: np.ndarray  # (D, 2)
    explained: tuple[float, float]  # share of the variance along each axis

    def project(self, features: np.ndarray | torch.Tensor) -> np.ndarray:
        values = np.asarray(features, dtype=np.float32).reshape(-1, self.mean.shape[0])
        return (values - self.mean) @ self.components


@dataclass
class EmbeddingMap:
    """One point per digit: ``points`` (N, 2), the true ``labels`` and the model's
    ``predictions``. ``seconds`` is the whole build (forward pass, PCA, 5-NN measure);
    ``projection_seconds`` the part after the forward pass."""

    model_name: str
    stage: str
    points: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    projection: Projection
    knn_accuracy: float
    seconds: float
    projection_seconds: float

    @property
    def misclassified(self) -> np.ndarray:
        return self.labels != self.predictions

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to_csv(self) -> str:
        lines = ["x,y,label,prediction"]
        for (x, y), label, pred in zip(self.points, self.labels, self.predictions, strict=True):
            lines.append(f"{x:.6g},{y:.6g},{int(label)},{int(pred)}")
        return "\n".join(lines) + "\n"

    def write_csv(self, path: str | Path) -> Path:
        """Write ``x,y,label,prediction`` per digit, atomically."""
        try:
            return write_text_atomic(path, self.to_csv())
        except OSError as exc:
            raise UserError(f"could not write {path}: {exc.strerror or exc}") from None


def fit_pca(features: torch.Tensor) -> Projection:
    """Two principal directions of ``features`` (N, D) by ``torch.pca_lowrank``.

    Deterministic: the randomised range finder runs under a fixed seed without touching the
    caller's random state, and each axis is turned so its largest loading is positive.
    """
    features = features.float()
    q = min(4, features.shape[0], features.shape[1])  # two axes plus slack for the range finder
    if q < 2:
        raise UserError("a map needs at least two digits and a layer with two or more units")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(PCA_SEED)
        _u, s, v = torch.pca_lowrank(features, q=q, center=True, niter=2)
    components = v[:, :2].clone()
    flip = torch.sign(components.gather(0, components.abs().argmax(0, keepdim=True)))
    components *= torch.where(flip == 0, torch.ones_like(flip), flip)
    total = float(((features - features.mean(0)) ** 2).sum()) or 1.0
    variance = (s[:2] ** 2).tolist()
    return Projection(
        mean=features.mean(0).numpy(),
        components=components.numpy(),
        explained=(variance[0] / total, variance[1] / total),
    )


def nearest_brute(points: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` nearest other points of each of ``rows`` (default all), nearest first, by
    computing every distance: (len(rows), k) indices."""
    xy = torch.as_tensor(np.asarray(points, dtype=np.float64))
    rows = np.arange(len(xy)) if rows is None else rows
    result = []
    for start in range(0, len(rows), 1024):
        part = torch.as_tensor(rows[start : start + 1024])
        distances = torch.cdist(xy[part], xy)
        distances[torch.arange(len(part)), part] = float("inf")  # leave the point itself out
        result.append(distances.topk(k, dim=1, largest=False).indices.numpy())
    return np.concatenate(result) if result else np.zeros((0, k), np.int64)


def nearest_grid(points: np.ndarray, k: int) -> np.ndarray:
    """The same as ``nearest_brute`` for all points, in about linear time: points are binned in
    square cells holding ~3 points each and only the 3x3 cells around a point are searched.
    A result is kept only when its k-th distance is within one cell side (then nothing outside
    the 3x3 block can be nearer); the few other points fall back to ``nearest_brute``."""
    xy = np.asarray(points, dtype=np.float64)
    n = len(xy)
    low = xy.min(0)
    span = np.maximum(xy.max(0) - low, 1e-12)
    side = max(float(np.sqrt(span[0] * span[1] * 3.0 / n)), float(span.max()) / 4096, 1e-12)
    cells = np.floor((xy - low) / side).astype(np.int64)
    columns = int(cells[:, 1].max()) + 3
    cell_id = (cells[:, 0] + 1) * columns + (cells[:, 1] + 1)  # a margin of empty cells
    order = np.argsort(cell_id, kind="stable")
    sorted_ids = cell_id[order]
    owners, candidates = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            target = cell_id + dx * columns + dy
            first = np.searchsorted(sorted_ids, target, "left")
            count = np.searchsorted(sorted_ids, target, "right") - first
            owner = np.repeat(np.arange(n), count)
            offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
            owners.append(owner)
            candidates.append(order[np.repeat(first, count) + offset])
    owner, candidate = np.concatenate(owners), np.concatenate(candidates)
    keep = owner != candidate
    owner, candidate = owner[keep], candidate[keep]
    distance = ((xy[owner] - xy[candidate]) ** 2).sum(1)
    by_distance = np.argsort(distance, kind="stable")
    ranked = by_distance[np.argsort(owner[by_distance], kind="stable")]  # by owner, then distance
    owner, candidate, distance = owner[ranked], candidate[ranked], distance[ranked]
    group_start = np.searchsorted(owner, np.arange(n), "left")
    group_size = np.searchsorted(owner, np.arange(n), "right") - group_start
    result = np.zeros((n, k), np.int64)
    enough = group_size >= k
    picks = group_start[enough, None] + np.arange(k)
    result[enough] = candidate[picks]
    exact = np.zeros(n, bool)
    exact[enough] = distance[picks[:, -1]] <= side * side
    redo = np.flatnonzero(~exact)
    if len(redo):
        result[redo] = nearest_brute(xy, k, redo)
    return result


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = KNN_K) -> float:
    """Leave-one-out k-nearest-neighbour accuracy of ``labels`` in the plane (majority vote,
    ties to the nearest neighbour's label)."""
    y = np.asarray(labels, dtype=np.int64)
    n = len(y)
    if n <= k:
        raise UserError(f"a {k}-nearest-neighbour measure needs more than {k} digits, got {n}")
    neighbours = y[nearest_grid(points, k)]  # nearest first
    classes = int(y.max()) + 1
    votes = np.zeros((n, classes))
    np.add.at(votes, (np.repeat(np.arange(n), k), neighbours.ravel()), 1.0)
    votes[np.arange(n), neighbours[:, 0]] += 0.5  # tie-break towards the nearest
    return float((votes.argmax(1) == y).mean())


def _stages(model_name: str) -> tuple[str, str]:
    stage = MODELS[model_name].embedding_stage
    if stage is None:
        raise UserError(f"model {model_name!r} declares no hidden stage to map")
    return stage.name, next(s.name for s in MODELS[model_name].stages if s.kind == "logits")


def map_from_outputs(
    model_name: str,
    features: torch.Tensor,
    logits: torch.Tensor,
    labels: torch.Tensor,
    forward_seconds: float,
) -> EmbeddingMap:
    """The map from the embedding stage's outputs (N, ...) and the logits (N, 10)."""
    started = time.perf_counter()
    features = features.flatten(1)
    projection = fit_pca(features)
    points = projection.project(features)
    label_array = labels.cpu().numpy().astype(np.int64)
    accuracy = knn_accuracy(points, label_array)
    projection_seconds = time.perf_counter() - started
    return EmbeddingMap(
        model_name=model_name,
        stage=_stages(model_name)[0],
        points=points,
        labels=label_array,
        predictions=logits.argmax(1).numpy().astype(np.int64),
        projection=projection,
        knn_accuracy=accuracy,
        seconds=forward_seconds + projection_seconds,
        projection_seconds=projection_seconds,
    )


def _check(images: torch.Tensor, labels: torch.Tensor) -> None:
    if len(images) != len(labels) or len(images) == 0:
        raise UserError("a map needs test digits with one label each")


def build_map(
    model: nn.Module, model_name: str, images: torch.Tensor, labels: torch.Tensor
) -> EmbeddingMap:
    """The map of ``images`` (uint8 (N, 28, 28), as in ``MnistData``) for ``model``."""
    stage, logits = _stages(model_name)
    _check(images, labels)
    started = time.perf_counter()
    outputs = stage_outputs(model, model_name, normalize(images), [stage, logits])
    elapsed = time.perf_counter() - started
    return map_from_outputs(model_name, outputs[stage], outputs[logits], labels, elapsed)


def map_test_digits(model: nn.Module, model_name: str, data: MnistData) -> EmbeddingMap:
    """The map of ``data``'s test split."""
    return build_map(model, model_name, data.test_images, data.test_labels)


@dataclass
class ReferenceDigits:
    """What the inspector shows beside the learner's digit: the map of the test digits and, per
    stage, the test digits that excite each unit most (``exemplars``: stage -> (units, k))."""

    description: str
    images: np.ndarray  # uint8 (N, 28, 28), light ink on dark as in MNIST
    map: EmbeddingMap
    exemplars: dict[str, np.ndarray]


def build_reference(
    model: nn.Module,
    model_name: str,
    data: MnistData,
    k: int = 8,
    should_stop: Callable[[], bool] | None = None,
) -> ReferenceDigits:
    """The map and the exemplars of ``data``'s test split from one forward pass (still seconds
    for 10,000 CNN digits: run it off the GUI thread, on a model of its own, since hooks are per
    model)."""
    from core.inspection.activations import scan, strongest

    stage, logits = _stages(model_name)
    _check(data.test_images, data.test_labels)
    started = time.perf_counter()
    inputs = normalize(data.test_images)
    scores, kept = scan(model, model_name, inputs, keep=(stage, logits), should_stop=should_stop)
    elapsed = time.perf_counter() - started
    emap = map_from_outputs(model_name, kept[stage], kept[logits], data.test_labels, elapsed)
    return ReferenceDigits(data.description, data.test_images.numpy(), emap, strongest(scores, k))
