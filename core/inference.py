"""Classify pictures with a checkpoint: the one inference path of the Draw tab, the CLI and benchmarks.

A model's head is ``log_softmax`` (nll) or raw logits (ce); ``softmax`` of either gives the same
probabilities, so callers never need to know which.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.checkpoint import Checkpoint, load_checkpoint
from core.errors import CheckpointError
from core.preprocess import Preprocessed, canvas_to_input
from core.resources import bundled_model_file, current_model_file

log = logging.getLogger(__name__)

# Confidence below which the app says "not sure" and names the two likeliest digits.
LOW_CONFIDENCE = 0.5


@dataclass
class Prediction:
    """The answer for one picture. ``is_empty`` pictures have no ink: digit -1, all zeros."""

    digit: int
    confidence: float
    probabilities: list[float]
    is_empty: bool = False

    @property
    def runner_up(self) -> int:
        """The second most likely digit (for "not sure: 4 or 9?")."""
        order = np.argsort(self.probabilities)[::-1]
        return int(order[1])

    @property
    def is_confident(self) -> bool:
        return not self.is_empty and self.confidence >= LOW_CONFIDENCE

    def describe(self) -> str:
        """Plain words: "7 (98.1%)", "not sure: 4 or 9? (41.0%)" or "nothing drawn"."""
        if self.is_empty:
            return "nothing drawn"
        if self.is_confident:
            return f"{self.digit} ({self.confidence:.1%})"
        return f"not sure: {self.digit} or {self.runner_up}? ({self.confidence:.1%})"


EMPTY_PREDICTION = Prediction(digit=-1, confidence=0.0, probabilities=[0.0] * 10, is_empty=True)


class Classifier:
    """A checkpoint's model built once, in eval mode, answering batches of pictures."""

    def __init__(self, checkpoint: Checkpoint, device: torch.device | str = "cpu") -> None:
        self.checkpoint = checkpoint
        self.device = torch.device(device)
        self.model = checkpoint.build(self.device)

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

    def preprocess(self, image: np.ndarray, *, center: bool = True) -> Preprocessed:
        """``canvas_to_input`` with this model's normalisation."""
        return canvas_to_input(image, center=center, normalization=self.normalization)

    def predict(self, images: Sequence[np.ndarray], *, center: bool = True) -> list[Prediction]:
        """One prediction per picture, in order; the model runs once for the whole batch."""
        return self.predict_preprocessed(
            [self.preprocess(image, center=center) for image in images]
        )

    def predict_preprocessed(self, items: Sequence[Preprocessed]) -> list[Prediction]:
        """Predictions for already preprocessed pictures (empty ones get ``EMPTY_PREDICTION``)."""
        tensors = [item.tensor for item in items if not item.is_empty and item.tensor is not None]
        probabilities = self.probabilities(torch.stack(tensors)) if tensors else np.zeros((0, 10))
        results: list[Prediction] = []
        row = 0
        for item in items:
            if item.is_empty or item.tensor is None:
                results.append(EMPTY_PREDICTION)
                continue
            probs = probabilities[row]
            row += 1
            digit = int(np.argmax(probs))
            results.append(Prediction(digit, float(probs[digit]), [float(p) for p in probs]))
        return results

    @torch.inference_mode()
    def probabilities(self, batch: torch.Tensor, chunk: int = 1024) -> np.ndarray:
        """Softmax probabilities (N, 10) for a batch of normalised (N, 1, 28, 28) inputs."""
        outputs = []
        for start in range(0, len(batch), chunk):
            part = batch[start : start + chunk].to(self.device, dtype=torch.float32)
            outputs.append(torch.softmax(self.model(part), dim=1).cpu())
        return torch.cat(outputs).numpy().astype(np.float64)

    def saliency(self, tensor: torch.Tensor, target: int | None = None) -> np.ndarray:
        """|d score / d input| for the predicted (or ``target``) class, 28x28 scaled to 0..1.

        The score is the class's log-probability: the same autograd the loss playground shows,
        pointed at the input instead of the weights. Bright pixels are where a change of ink
        would change the answer most.
        """
        x = tensor.detach().reshape(1, 1, 28, 28).to(self.device, dtype=torch.float32)
        x.requires_grad_(True)
        with torch.enable_grad():
            log_probs = torch.log_softmax(self.model(x), dim=1)
            cls = int(log_probs.argmax(dim=1)) if target is None else int(target)
            (grad,) = torch.autograd.grad(log_probs[0, cls], x)
        heat = grad.abs().reshape(28, 28).cpu().numpy()
        peak = float(heat.max())
        return (heat / peak).astype(np.float32) if peak > 0 else heat.astype(np.float32)


def default_checkpoint() -> Checkpoint:
    """The model the app and the CLI use unless told otherwise.

    The user's saved current model when it loads, else the bundled default model.
    """
    current = current_model_file()
    if current.is_file():
        try:
            return load_checkpoint(current)
        except CheckpointError as exc:
            log.warning("ignoring the saved current model: %s", exc)
    bundled = bundled_model_file()
    if not bundled.is_file():
        raise CheckpointError(
            f"no model available: the bundled model {str(bundled)!r} is missing; "
            "train one with 'python main.py train' or rerun tools/train_default_model.py"
        )
    return load_checkpoint(bundled)
