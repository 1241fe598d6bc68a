"""Classify pictures with a checkpoint: the one inference path of the Draw tab, the CLI and benchmarks.

A model's head is ``log_softmax`` (nll) or raw logits (ce); ``softmax`` of either gives the same
probabilities, so callers never need to know which.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from core.inference.ood import OodStats, model_outputs, ood_stats_for, output_layer
from core.inference.preprocess import Preprocessed, canvas_to_input
from core.resources import bundled_model_file
from core.storage.checkpoint import Checkpoint
from core.storage.model_library import current_checkpoint

log = logging.getLogger(__name__)

# Confidence below which the app says "not sure" and names the two likeliest digits.
LOW_CONFIDENCE = 0.5


@dataclass
class Prediction:
    """The answer for one picture. ``is_empty`` pictures have no ink: digit -1, all zeros.

    ``logits`` are the output layer's raw scores (before any ``log_softmax``); ``probabilities``
    are their softmax (after the model's calibration temperature, if it has one).
    ``ood_score`` is ``core.inference.ood``'s "how unlike a digit" score (None when the model has no
    statistics); ``looks_like_digit`` is False when it is above the model's threshold.
    In words: ``core.inference.answer`` (``describe``, ``answer_text``).
    """

    digit: int
    confidence: float
    probabilities: list[float]
    is_empty: bool = False
    logits: list[float] = field(default_factory=list)
    ood_score: float | None = None
    looks_like_digit: bool = True

    @property
    def runner_up(self) -> int:
        """The second most likely digit (for "not sure: 4 or 9?")."""
        order = np.argsort(self.probabilities)[::-1]
        return int(order[1])

    @property
    def is_confident(self) -> bool:
        return not self.is_empty and self.looks_like_digit and self.confidence >= LOW_CONFIDENCE


EMPTY_PREDICTION = Prediction(digit=-1, confidence=0.0, probabilities=[0.0] * 10, is_empty=True)

AUTO = "auto"


def checkpoint_temperature(checkpoint: Checkpoint) -> float:
    """The calibration temperature a checkpoint carries (MODELS' field), else 1 (none)."""
    value = getattr(checkpoint, "temperature", None)
    if value is None:
        value = checkpoint.metrics.get("temperature")
    try:
        temperature = float(value) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
    return temperature if np.isfinite(temperature) and temperature > 0 else 1.0


class Classifier:
    """A checkpoint's model built once, in eval mode, answering batches of pictures.

    ``ood``: the "is this a digit" statistics; ``"auto"`` takes them from the checkpoint, or
    fits them once on the bundled sample (``core.inference.ood.ood_stats_for``, on first use); ``None``
    answers without that verdict. ``temperature``: ``"auto"`` uses the checkpoint's calibration
    temperature; ``1.0`` shows the raw softmax.
    """

    def __init__(
        self,
        checkpoint: Checkpoint,
        device: torch.device | str = "cpu",
        *,
        ood: OodStats | str | None = AUTO,
        temperature: float | str = AUTO,
    ) -> None:
        self.checkpoint = checkpoint
        self.device = torch.device(device)
        self.model = checkpoint.build(self.device)
        self._ood = ood
        self.temperature = (
            checkpoint_temperature(checkpoint) if temperature == AUTO else float(temperature)
        )

    @property
    def ood_stats(self) -> OodStats | None:
        """The detector's statistics, resolved (and, for "auto", fitted) at first use."""
        if self._ood == AUTO:
            self._ood = ood_stats_for(self.checkpoint, self.model)
        return self._ood if isinstance(self._ood, OodStats) else None

    def set_ood(self, stats: OodStats | None) -> None:
        """Use ``stats`` from now on (the GUI fits them in a worker thread, then hands them in)."""
        self._ood = stats

    def warm_up(self) -> None:
        """Run the model once on a blank input: the first call allocates and picks kernels
        (~100+ ms), which would otherwise be the user's first stroke."""
        picture = np.zeros((280, 280), dtype=np.uint8)
        picture[60:220, 130:150] = 255
        item = self.preprocess(picture)
        self.predict_preprocessed([item])
        self.saliency(item.tensor)

    @property
    def normalization(self) -> tuple[float, float]:
        return self.checkpoint.normalization

    def preprocess(
        self, image: np.ndarray, *, center: bool = True, keep_steps: bool = True
    ) -> Preprocessed:
        """``canvas_to_input`` with this model's normalisation."""
        return canvas_to_input(
            image, center=center, normalization=self.normalization, keep_steps=keep_steps
        )

    def predict(self, images: Sequence[np.ndarray], *, center: bool = True) -> list[Prediction]:
        """One prediction per picture, in order; the model runs once for the whole batch."""
        return self.predict_preprocessed(
            [self.preprocess(image, center=center, keep_steps=False) for image in images]
        )

    def predict_preprocessed(self, items: Sequence[Preprocessed]) -> list[Prediction]:
        """Predictions for already preprocessed pictures (empty ones get ``EMPTY_PREDICTION``)."""
        tensors = [item.tensor for item in items if not item.is_empty and item.tensor is not None]
        answers = iter(self._answer(torch.stack(tensors)) if tensors else [])
        return [
            EMPTY_PREDICTION if item.is_empty or item.tensor is None else next(answers)
            for item in items
        ]

    def _answer(self, batch: torch.Tensor) -> list[Prediction]:
        outputs = model_outputs(self.model, batch)
        probabilities = torch.softmax(outputs.logits.double() / self.temperature, dim=1).numpy()
        stats = self.ood_stats
        scores = stats.score(outputs) if stats is not None else None
        results = []
        for row, probs in enumerate(probabilities):
            digit = int(np.argmax(probs))
            score = None if scores is None else float(scores[row])
            results.append(
                Prediction(
                    digit,
                    float(probs[digit]),
                    [float(p) for p in probs],
                    logits=[float(v) for v in outputs.logits[row]],
                    ood_score=score,
                    looks_like_digit=score is None or bool(score <= stats.threshold),
                )
            )
        return results

    @torch.inference_mode()
    def probabilities(self, batch: torch.Tensor, chunk: int = 1024) -> np.ndarray:
        """Softmax probabilities (N, 10) for a batch of normalised (N, 1, 28, 28) inputs."""
        logits = model_outputs(self.model, batch, chunk).logits.double()
        return torch.softmax(logits / self.temperature, dim=1).numpy()

    def saliency(self, tensor: torch.Tensor, target: int | None = None) -> np.ndarray:
        """|d logit / d input| for the predicted (or ``target``) class, 28x28 scaled to 0..1."""
        return self.saliency_map(tensor, target)[0]

    def saliency_map(
        self, tensor: torch.Tensor, target: int | None = None
    ) -> tuple[np.ndarray, float]:
        """The saliency scaled to 0..1, and its peak |d logit / d input| (what 1.0 stands for).

        The score is the class's logit (its raw output, before softmax): the same autograd the
        loss playground shows, pointed at the input instead of the weights. Not the
        log-probability: once the model is 99.99 % sure its gradient is ~1e-10 everywhere and
        the map is noise. Bright pixels are where a change of ink would change the class's
        score most; the peak is per unit of normalised input (one unit is 0.31 of full ink).
        """
        x = tensor.detach().reshape(1, 1, 28, 28).to(self.device, dtype=torch.float32)
        x.requires_grad_(True)
        captured: list[torch.Tensor] = []
        handle = output_layer(self.model).register_forward_hook(
            lambda _m, _i, output: captured.append(output)
        )
        try:
            with torch.enable_grad():
                self.model(x)
                logits = captured[0]
                cls = int(logits.argmax(dim=1)) if target is None else int(target)
                (grad,) = torch.autograd.grad(logits[0, cls], x)
        finally:
            handle.remove()
        heat = grad.abs().reshape(28, 28).cpu().numpy()
        peak = float(heat.max())
        scaled = heat / peak if peak > 0 else heat
        return scaled.astype(np.float32), peak


def default_checkpoint() -> Checkpoint:
    """The model the app and the CLI use unless told otherwise.

    The learner's choice in the model library (``core.storage.model_library``), else the bundled model;
    when a chosen model cannot be used the reason is logged and the bundled model answers.
    """
    choice = current_checkpoint(bundled=bundled_model_file())
    if choice.reason:
        log.warning("using the bundled model: %s", choice.reason)
    return choice.checkpoint
