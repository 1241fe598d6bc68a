"""Two models, one drawing: side by side, and "turn it" -- where an MLP breaks and a CNN holds.

``side_by_side`` reads one picture with several classifiers through the app's one preprocessing
path and the classifier's own saliency (``Classifier.saliency_map``): both answers, both
probability vectors, whether and where they disagree. ``turn_sweep`` turns the drawing step by
step (the picture rotated -45..45 degrees, then preprocessed as the app would) and shifts the
28x28 input the model sees (+-8 px; shifting the picture itself would be undone by the
centring), and records each model's probabilities along the way. MNIST's digits are centred
by their centre of mass, so a fully connected network has never seen a digit 3 px off; a CNN's
shared filters and pooling make it hold longer (FACTS: a 2 px shift drops an MLP to 71 %, a
CNN to 90 %).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from core.device import one_intra_op_thread
from core.errors import UserError
from core.inference.answer import describe
from core.inference.classifier import Classifier, Prediction
from core.inference.preprocess import SIZE, Preprocessed, background_level, to_unit_float

ANGLES = np.arange(-45, 46, 5)  # degrees, counter-clockwise positive
SHIFTS = np.arange(-8, 9, 1)  # pixels of the 28x28 input, right / down positive


@dataclass
class ModelReading:
    """One model's reading of the picture: its answer, probabilities and saliency (28x28, 0..1;
    ``saliency_peak`` is the largest |d logit / d input| it stands for)."""

    name: str
    prediction: Prediction
    probabilities: np.ndarray
    saliency: np.ndarray
    saliency_peak: float


@dataclass
class SideBySide:
    """Several models on one picture. ``input`` is the 28x28 picture they all see (0..1).

    ``agree``: every model gives the same answer. ``probability_gap`` is the first model's
    probabilities minus the second's (per digit); ``widest_gap_digit`` the digit they differ on
    most. ``saliency_gap`` is the first model's saliency minus the second's: where one looks and
    the other does not. ``summary`` says it in a sentence.
    """

    readings: list[ModelReading]
    input: np.ndarray
    agree: bool
    probability_gap: np.ndarray
    widest_gap_digit: int
    saliency_gap: np.ndarray
    summary: str
    seconds: float


def _centred(picture: np.ndarray, classifier: Classifier) -> np.ndarray:
    item = classifier.preprocess(picture)
    if item.is_empty:
        raise UserError("nothing drawn: the picture holds no ink to compare the models on")
    return np.asarray(item.steps["centred"], dtype=np.float32)


def _normalised(centred: np.ndarray, classifier: Classifier) -> torch.Tensor:
    """(N, 28, 28) pictures in 0..1 as this classifier's (N, 1, 28, 28) input."""
    mean, std = classifier.normalization
    batch = torch.from_numpy(np.ascontiguousarray(centred, dtype=np.float32))
    return ((batch - mean) / std).reshape(-1, 1, SIZE, SIZE)


def side_by_side(
    classifiers: Sequence[Classifier], picture: np.ndarray, names: Sequence[str] = ()
) -> SideBySide:
    """Read ``picture`` (the canvas, or ``read_paper(...).pixels``) with each classifier.

    Needs at least two classifiers; ``names`` label them (default "model 1", "model 2", ...).
    Raises ``UserError`` for a picture with no ink.
    """
    if len(classifiers) < 2:
        raise UserError("side by side needs two models")
    started = time.perf_counter()
    labels = list(names) or [f"model {i + 1}" for i in range(len(classifiers))]
    centred = _centred(picture, classifiers[0])
    readings = []
    with one_intra_op_thread():
        for name, classifier in zip(labels, classifiers, strict=True):
            tensor = _normalised(centred[None], classifier)[0]
            (prediction,) = classifier.predict_preprocessed(
                [Preprocessed(tensor=tensor, is_empty=False)]
            )
            heat, peak = classifier.saliency_map(tensor, prediction.digit)
            readings.append(
                ModelReading(
                    name, prediction, np.asarray(prediction.probabilities), heat, float(peak)
                )
            )
    first, second = readings[0], readings[1]
    gap = first.probabilities - second.probabilities
    agree = len({r.prediction.digit for r in readings}) == 1
    return SideBySide(
        readings=readings,
        input=centred,
        agree=agree,
        probability_gap=gap,
        widest_gap_digit=int(np.argmax(np.abs(gap))),
        saliency_gap=(first.saliency - second.saliency).astype(np.float32),
        summary=_summary(readings, agree),
        seconds=time.perf_counter() - started,
    )


def _summary(readings: list[ModelReading], agree: bool) -> str:
    answers = ", ".join(f"{r.name} reads {describe(r.prediction)}" for r in readings)
    if agree:
        return f"They agree: {answers}."
    return (
        f"They disagree: {answers}. The saliency maps show which pixels each answer "
        "leans on; where they differ, the models learned different cues."
    )


@dataclass
class TurnSweep:
    """Each model's probabilities while the drawing is turned and shifted step by step.

    ``rotated[m, a]`` is model ``m``'s probabilities (10,) with the picture turned ``angles[a]``
    degrees (counter-clockwise positive); ``shifted_x[m, s]`` / ``shifted_y[m, s]`` with the
    28x28 input moved ``shifts[s]`` pixels right / down. ``*_inputs`` are the 28x28 pictures
    (0..1) the models saw at each step; ``digits[m]`` is each model's answer unturned.
    """

    names: list[str]
    angles: np.ndarray
    shifts: np.ndarray
    rotated: np.ndarray
    shifted_x: np.ndarray
    shifted_y: np.ndarray
    rotated_inputs: np.ndarray
    shifted_x_inputs: np.ndarray
    shifted_y_inputs: np.ndarray
    digits: list[int]
    seconds: float

    def holds(self, model: int, kind: str = "rotated") -> tuple[float, float]:
        """The range of angles (or shifts) around 0 over which ``model`` keeps its answer.

        ``kind`` is "rotated", "shifted_x" or "shifted_y"; contiguous from the unturned step.
        """
        steps = self.angles if kind == "rotated" else self.shifts
        answers = getattr(self, kind)[model].argmax(axis=1)
        centre = int(np.argmin(np.abs(steps)))
        keep = answers == self.digits[model]
        low = high = centre
        while low > 0 and keep[low - 1]:
            low -= 1
        while high < len(steps) - 1 and keep[high + 1]:
            high += 1
        return float(steps[low]), float(steps[high])


def _rotated_pictures(picture: np.ndarray, angles: np.ndarray) -> list[np.ndarray]:
    """The picture turned by each angle, the corners filled with its background grey."""
    unit = to_unit_float(picture)
    fill = float(background_level(unit))
    source = Image.fromarray(unit.astype(np.float32))
    return [
        np.asarray(
            source.rotate(float(a), resample=Image.Resampling.BILINEAR, expand=True, fillcolor=fill)
        )
        for a in angles
    ]


def shifted(centred: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """A 28x28 picture moved ``dx`` px right and ``dy`` px down; what leaves the field is lost."""
    out = np.zeros_like(centred)
    h, w = centred.shape
    src = centred[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0], max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def turn_sweep(
    classifiers: Sequence[Classifier],
    picture: np.ndarray,
    names: Sequence[str] = (),
    *,
    angles: np.ndarray = ANGLES,
    shifts: np.ndarray = SHIFTS,
) -> TurnSweep:
    """Turn and shift ``picture`` step by step and read every step with every classifier.

    One batch per model; a turned picture whose ink vanished (it cannot, short of a blank
    picture) would raise ``UserError`` like an empty one.
    """
    if not classifiers:
        raise UserError("turning the drawing needs at least one model")
    started = time.perf_counter()
    reference = classifiers[0]
    centred = _centred(picture, reference)
    rotated_inputs = np.stack([_centred(p, reference) for p in _rotated_pictures(picture, angles)])
    x_inputs = np.stack([shifted(centred, int(s), 0) for s in shifts])
    y_inputs = np.stack([shifted(centred, 0, int(s)) for s in shifts])
    every = np.concatenate([centred[None], rotated_inputs, x_inputs, y_inputs])
    with one_intra_op_thread():
        probabilities = np.stack([c.probabilities(_normalised(every, c)) for c in classifiers])
    a, s = len(angles), len(shifts)
    return TurnSweep(
        names=list(names) or [f"model {i + 1}" for i in range(len(classifiers))],
        angles=np.asarray(angles, dtype=float),
        shifts=np.asarray(shifts, dtype=float),
        rotated=probabilities[:, 1 : 1 + a],
        shifted_x=probabilities[:, 1 + a : 1 + a + s],
        shifted_y=probabilities[:, 1 + a + s :],
        rotated_inputs=rotated_inputs,
        shifted_x_inputs=x_inputs,
        shifted_y_inputs=y_inputs,
        digits=[int(p.argmax()) for p in probabilities[:, 0]],
        seconds=time.perf_counter() - started,
    )
