"""Fool the model: the smallest change to a picture that flips the classifier's answer.

The attack works on what the app really reads, not on a 28x28 tensor nobody sees. The picture
(the canvas, or a file as ``core.inference.preprocess.read_paper`` lays it out) goes through the
classifier's one preprocessing path (``canvas_to_input``): find the ink, crop it, fit it in 20x20,
centre it by its centre of mass. For a given picture that path is a fixed crop, a linear resize
and a fixed shift, so ``model_input`` rebuilds it in torch and the gradient reaches every pixel
of the *picture*. The geometry is re-read from the current picture before each gradient step
(a change can move the ink's box or its centre of mass by a pixel), every candidate is an 8-bit
picture (levels 0..255, as a PNG stores it), and success is always decided by the real
preprocessing on that 8-bit picture: a saved attack, read back by ``classify``, gives the
adversarial digit.

Three methods (Goodfellow et al. 2015, Madry et al. 2018, Papernot et al. 2016):

* ``fgsm``: one step along the sign of the gradient, ``epsilon`` per pixel at most (L-infinity);
* ``pgd``: a few such steps, each projected back into the ``epsilon`` box around the picture;
* ``pixels``: fewest pixels (L0) -- greedily paint one model-pixel-sized dot at a time full ink
  or blank, the dot whose change the gradient says helps most, until the answer flips.

For ``fgsm`` and ``pgd`` the smallest ``epsilon`` is searched: doubling from 1/255 until the
attack succeeds, then bisection between the last failure and the first success.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from core.device import one_intra_op_thread
from core.errors import UserError
from core.inference.classifier import Classifier, Prediction
from core.inference.image_io import MAX_SIDE
from core.inference.preprocess import (
    BOX,
    INK_THRESHOLD,
    SIZE,
    _resize,
    background_level,
    to_unit_float,
)
from core.inference.strokes import thin_strokes

METHODS = ("fgsm", "pgd", "pixels")
PGD_STEPS = 10  # gradient steps per epsilon tried
FGSM_DIRECTIONS = 4  # untargeted FGSM tries the margin's gradient and 3 runners-up
MAX_DOTS = 80  # the fewest-pixels attack gives up after painting this many dots
# Levels (of 255) tried before bisection: the first that flips bounds the search.
LADDER = (1, 2, 4, 8, 16, 32, 64, 128, 255)
PRECISION = 16  # bisection stops when the gap is under 1/PRECISION of the level (or 1 level)
# An input pixel (0..1) that moved more than this counts as changed in ``input_pixels_changed``.
INPUT_CHANGE = 0.05


@dataclass(frozen=True)
class Geometry:
    """Where a picture's ink lands in the 28x28 input: fixed for one picture, read by ``geometry``.

    ``rows`` (fh, crop height) and ``cols`` (crop width, fw) are the resize as two matrices, so
    ``fitted = rows @ crop @ cols`` is what PIL computes (box averaging when shrinking, bilinear
    when growing; both separable). ``top``/``left`` place the fitted ink in the 28x28 field.
    """

    inverted: bool
    background: float
    crop: tuple[int, int, int, int]  # top, bottom (exclusive), left, right (exclusive)
    rows: torch.Tensor
    cols: torch.Tensor
    top: int
    left: int
    shape: tuple[int, int]  # the picture's (height, width)

    @property
    def fitted_shape(self) -> tuple[int, int]:
        return int(self.rows.shape[0]), int(self.cols.shape[1])

    def cells(self) -> np.ndarray:
        """For each picture pixel, the 28x28 input pixel it mostly feeds (row * 28 + col), or -1.

        A "dot" of the fewest-pixels attack is one such cell: the picture pixels behind one of
        the model's input pixels (about 10x10 of a 280 px canvas, one pixel of a 28 px file).
        """
        top, bottom, left, right = self.crop
        row_of = self.rows.argmax(dim=0).numpy() + self.top
        col_of = self.cols.argmax(dim=1).numpy() + self.left
        ids = np.full(self.shape, -1, dtype=np.int64)
        ids[top:bottom, left:right] = row_of[:, None] * SIZE + col_of[None, :]
        return ids


def _resize_matrix(size: int, new_size: int, resample: Image.Resampling) -> torch.Tensor:
    """(new_size, size): PIL's 1-D resampling weights, read off by resizing an identity image."""
    eye = Image.fromarray(np.eye(size, dtype=np.float32))
    weights = np.asarray(eye.resize((size, new_size), resample=resample), dtype=np.float32)
    return torch.from_numpy(weights.copy())


def geometry(unit: np.ndarray) -> Geometry | None:
    """The preprocessing's crop, resize and shift for ``unit`` (0..1, (H, W)); None when no ink.

    Mirrors ``core.inference.preprocess.canvas_to_input`` step by step (tested to agree with it).
    """
    inverted = background_level(unit) > 0.5
    flipped = 1.0 - unit if inverted else unit
    background = background_level(flipped)
    ink = np.clip((flipped - background) / max(1.0 - background, 1e-6), 0.0, 1.0)
    mask = ink > INK_THRESHOLD
    if not mask.any():
        return None
    ink = ink / float(ink.max())
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    height, width = bottom - top, right - left
    scale = BOX / max(height, width)
    fw, fh = max(1, round(width * scale)), max(1, round(height * scale))
    resample = Image.Resampling.BOX if fw < width or fh < height else Image.Resampling.BILINEAR
    fitted = _resize(ink[top:bottom, left:right], fw, fh)
    total = float(fitted.sum())
    if total <= 0.0:
        return None
    com_row = float(fitted.sum(axis=1) @ np.arange(fh, dtype=np.float32)) / total
    com_col = float(fitted.sum(axis=0) @ np.arange(fw, dtype=np.float32)) / total
    return Geometry(
        inverted=bool(inverted),
        background=float(background),
        crop=(int(top), int(bottom), int(left), int(right)),
        rows=_resize_matrix(int(height), fh, resample),
        cols=_resize_matrix(int(width), fw, resample).T.contiguous(),
        top=int(np.clip(round(SIZE / 2.0 - com_row), 0, SIZE - fh)),
        left=int(np.clip(round(SIZE / 2.0 - com_col), 0, SIZE - fw)),
        shape=unit.shape,
    )


def _clamp_unit(values: torch.Tensor) -> torch.Tensor:
    """``values.clamp(0, 1)`` forward, the identity backward (a straight-through clamp).

    ``clamp`` passes no gradient at its bounds, and a drawing lives on them: blank paper is ink
    0 exactly, a dark pen stroke ink 1. With a plain clamp every background pixel had a zero
    gradient, so the attack could only reshade the stroke and never add ink beside it (the drawn
    7 of the Draw tab's test did not flip at any epsilon). The identity backward says which way
    each pixel should move; the L-infinity box (``_Attacker.box``) keeps the picture in 0..255,
    so a step past a bound is simply not taken.
    """
    return values + (values.clamp(0.0, 1.0) - values).detach()


def model_input(
    picture: torch.Tensor, geo: Geometry, normalization: tuple[float, float]
) -> torch.Tensor:
    """The preprocessing as a differentiable function of the picture (0..1) for fixed ``geo``.

    Returns (1, 1, 28, 28), equal to ``canvas_to_input(picture).tensor`` (to float rounding)
    while the picture keeps the geometry it was read with.
    """
    flipped = 1.0 - picture if geo.inverted else picture
    ink = _clamp_unit((flipped - geo.background) / max(1.0 - geo.background, 1e-6))
    ink = ink / ink.amax().clamp_min(1e-6)
    top, bottom, left, right = geo.crop
    fitted = _clamp_unit(geo.rows @ ink[top:bottom, left:right] @ geo.cols)
    fh, fw = geo.fitted_shape
    centred = F.pad(fitted, (geo.left, SIZE - geo.left - fw, geo.top, SIZE - geo.top - fh))
    centred = thin_strokes(centred[None, None])  # as canvas_to_input does
    mean, std = normalization
    return ((centred - mean) / std).reshape(1, 1, SIZE, SIZE)


def _margin(scores: torch.Tensor, source: int, target: int | None) -> torch.Tensor:
    """How far the attack is from done, negated: > 0 once the answer is ``target`` (or not
    ``source``). Differences of logits, so a ``log_softmax`` head gives the same margin."""
    scores = scores.reshape(-1)
    goal = source if target is None else target
    others = scores.masked_fill(F.one_hot(torch.tensor(goal), len(scores)).bool(), -math.inf)
    if target is None:
        return others.max() - scores[source]
    return scores[target] - others.max()


@dataclass
class AttackResult:
    """One attack on one picture. Pictures are (H, W) uint8 as saved and shown on the canvas.

    ``epsilon`` is the largest change of any pixel, on the 0..1 scale (L-infinity);
    ``pixels_changed`` counts picture pixels that differ (L0); ``input_pixels_changed`` counts
    the model's 28x28 input pixels that moved by more than ``INPUT_CHANGE`` (a one-pixel shift of
    the centring moves many); ``dots`` is how many model-pixel-sized dots the ``pixels`` method
    painted (0 for the others). ``perturbation`` is
    ``adversarial_picture - picture`` on the 0..1 scale (-1..1). ``inputs`` are the 28x28 pictures
    the model sees (0..1, ink high) before and after. ``flipped`` is False when the search found
    nothing within its budget; then the adversarial fields hold the strongest try.
    """

    method: str
    target: int | None
    digit: int
    adversarial_digit: int
    probabilities: np.ndarray
    adversarial_probabilities: np.ndarray
    flipped: bool
    epsilon: float
    pixels_changed: int
    input_pixels_changed: int
    dots: int
    picture: np.ndarray
    adversarial_picture: np.ndarray
    perturbation: np.ndarray
    inputs: tuple[np.ndarray, np.ndarray]
    explanation: str
    seconds: float
    gradient_steps: int
    original: Prediction | None = field(default=None, repr=False)
    adversarial: Prediction | None = field(default=None, repr=False)

    def to_json(self, out: str | None = None) -> dict:
        """The ``attack --json`` record."""
        return {
            "method": self.method,
            "target": self.target,
            "digit": self.digit,
            "adversarial_digit": self.adversarial_digit,
            "flipped": self.flipped,
            "epsilon": round(self.epsilon, 6),
            "pixels_changed": self.pixels_changed,
            "input_pixels_changed": self.input_pixels_changed,
            "dots": self.dots,
            "confidence": round(float(self.probabilities[self.digit]), 6),
            "adversarial_confidence": round(
                float(self.adversarial_probabilities[self.adversarial_digit]), 6
            ),
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            "adversarial_probabilities": [
                round(float(p), 6) for p in self.adversarial_probabilities
            ],
            "seconds": round(self.seconds, 4),
            "explanation": self.explanation,
            "out": out,
        }


class _Attacker:
    """The state one attack shares: the model, the picture in levels, the goal, the counters."""

    def __init__(self, classifier: Classifier, levels: np.ndarray, target: int | None) -> None:
        self.classifier = classifier
        self.model = classifier.model
        self.normalization = classifier.normalization
        self.original = levels.astype(np.int16)
        self.target = target
        self.gradient_steps = 0
        self.dots = 0
        self.source = self.real_digit(self.original)
        if self.source is None:
            raise UserError("nothing drawn: the picture holds no ink to attack")
        if target is not None and target == self.source:
            raise UserError(f"the model already reads {target}; choose another --target")

    def real_digit(self, levels: np.ndarray) -> int | None:
        """The answer through the app's own preprocessing of the 8-bit picture (None: no ink)."""
        item = self.classifier.preprocess(levels.astype(np.uint8), keep_steps=False)
        if item.tensor is None:
            return None
        with torch.inference_mode():
            scores = self.model(item.tensor.unsqueeze(0).to(self.classifier.device))
        return int(scores.argmax(dim=1))

    def succeeded(self, digit: int | None) -> bool:
        if digit is None:
            return False
        return digit != self.source if self.target is None else digit == self.target

    def runners_up(self) -> list[int]:
        """The other classes, likeliest first (the model's answer on the original picture)."""
        item = self.classifier.preprocess(self.original.astype(np.uint8), keep_steps=False)
        with torch.inference_mode():
            scores = self.model(item.tensor.unsqueeze(0).to(self.classifier.device))[0]
        order = torch.argsort(scores, descending=True).tolist()
        return [int(c) for c in order if c != self.source]

    def gradient(
        self, levels: np.ndarray, goal: int | None = None
    ) -> tuple[np.ndarray, float, Geometry] | None:
        """d margin / d picture (0..1 units), the margin, and the geometry it was read with.

        The margin is towards ``goal`` when given, else towards the attack's own target.
        """
        geo = geometry(levels.astype(np.float32) / 255.0)
        if geo is None:
            return None
        picture = torch.from_numpy(levels.astype(np.float32) / 255.0)
        picture = picture.to(self.classifier.device).requires_grad_(True)
        with torch.enable_grad():
            scores = self.model(model_input(picture, geo, self.normalization))
            margin = _margin(scores, self.source, self.target if goal is None else goal)
            (grad,) = torch.autograd.grad(margin, picture)
        self.gradient_steps += 1
        return grad.cpu().numpy(), float(margin.detach()), geo

    def box(self, levels: np.ndarray, level: int) -> np.ndarray:
        """``levels`` projected into the L-infinity box of ``level`` around the picture."""
        return np.clip(levels, self.original - level, self.original + level).clip(0, 255)


def _smallest_level(
    attempt: Callable[[int], np.ndarray | None], ladder: tuple[int, ...] = LADDER
) -> tuple[int, np.ndarray | None]:
    """The smallest L-infinity level (1..255) for which ``attempt`` returns a fooling picture.

    ``ladder`` finds the first level that works; bisection then narrows the gap below it
    to within ``1/PRECISION`` of it (the attacks are not strictly monotone in epsilon, so this
    is the smallest *found*).
    """
    low, best, best_level = 0, None, 255
    for level in ladder:
        found = attempt(level)
        if found is not None:
            best, best_level = found, level
            break
        low = level
    if best is None:
        return 255, None
    high = best_level
    while high - low > max(1, high // PRECISION):
        middle = (low + high) // 2
        found = attempt(middle)
        if found is None:
            low = middle
        else:
            best, high = found, middle
    return high, best


def _fgsm(attacker: _Attacker) -> tuple[int, np.ndarray | None]:
    """One signed-gradient step, the smallest epsilon that flips along it.

    Untargeted, the step is tried along the margin's gradient and along the gradients towards
    each of the ``FGSM_DIRECTIONS - 1`` likeliest other digits (one gradient each), keeping
    the smallest level that works: one straight step goes wrong when the picture's ink box or
    centre of mass moves on the way, and another direction often does not.
    """
    if attacker.target is not None:
        goals: list[int | None] = [attacker.target]
    else:
        goals = [None, *attacker.runners_up()[: FGSM_DIRECTIONS - 1]]
    best_level, best = 255, None
    for goal in goals:
        read = attacker.gradient(attacker.original, goal)
        if read is None:
            break
        direction = np.sign(read[0]).astype(np.int16)

        def attempt(level: int, direction: np.ndarray = direction) -> np.ndarray | None:
            candidate = attacker.box(attacker.original + level * direction, level)
            return candidate if attacker.succeeded(attacker.real_digit(candidate)) else None

        if best is None:
            ladder = LADDER
        else:  # only a smaller level is of interest now
            ladder = tuple(sorted({lv for lv in LADDER if lv < best_level} | {best_level - 1}))
        level, found = _smallest_level(attempt, ladder) if ladder and ladder[-1] >= 1 else (0, None)
        if found is not None and (best is None or level < best_level):
            best_level, best = level, found
    return best_level, best


def _pgd(attacker: _Attacker, steps: int = PGD_STEPS) -> np.ndarray | None:
    """PGD at each level tried. FGSM's smallest level (a few gradients) seeds the ladder with
    half of it and itself: PGD rarely needs more, and each level that fails costs ``steps``
    gradient steps (measured on 30 digits: a quarter of it too costs 18 % more steps and finds
    the same median epsilon)."""

    def attempt(level: int) -> np.ndarray | None:
        step = max(1, math.ceil(level / 4))
        current = attacker.original.copy()
        for _ in range(steps):
            read = attacker.gradient(current)
            if read is None:
                return None
            grad, margin, _geo = read
            if margin > 0 and attacker.succeeded(attacker.real_digit(current)):
                return current
            current = attacker.box(current + step * np.sign(grad).astype(np.int16), level)
        return current if attacker.succeeded(attacker.real_digit(current)) else None

    fgsm_level, found = _fgsm(attacker)
    seeds = (max(1, fgsm_level // 2), fgsm_level) if found is not None else ()
    ladder = tuple(sorted(set(seeds) | {level for level in LADDER if level > fgsm_level}))
    return _smallest_level(attempt, ladder or LADDER)[1]


def _paint_values(geo: Geometry) -> tuple[int, int]:
    """The 8-bit values of full ink and of blank paper in this picture's polarity."""
    ink, blank = 1.0, geo.background
    if geo.inverted:
        ink, blank = 1.0 - ink, 1.0 - blank
    return round(ink * 255), round(blank * 255)


def _best_dot(
    grad: np.ndarray, current: np.ndarray, changed: np.ndarray, geo: Geometry
) -> tuple[int, int, np.ndarray]:
    """The dot (cell) and value whose painting the gradient says raises the margin most."""
    ids = geo.cells()
    usable = (ids >= 0) & ~changed
    best = (0.0, -1, 0)
    for value in _paint_values(geo):
        gain = grad * (value - current) / 255.0
        totals = np.bincount(ids[usable], weights=gain[usable], minlength=SIZE * SIZE)
        cell = int(np.argmax(totals))
        if totals[cell] > best[0]:
            best = (float(totals[cell]), cell, value)
    return best[1], best[2], ids


def _pixels(attacker: _Attacker, max_dots: int = MAX_DOTS) -> np.ndarray | None:
    """Greedy L0: paint the most helpful dot, re-read the gradient, until the answer flips."""
    current = attacker.original.copy()
    changed = np.zeros(current.shape, dtype=bool)
    for _ in range(max_dots):
        read = attacker.gradient(current)
        if read is None:
            return None
        grad, _margin_value, geo = read
        cell, value, ids = _best_dot(grad, current, changed, geo)
        if cell < 0:
            return None
        dot = (ids == cell) & ~changed
        current[dot] = value
        changed |= dot
        attacker.dots += 1
        if attacker.succeeded(attacker.real_digit(current)):
            return current
    return None


def attack(
    classifier: Classifier,
    picture: np.ndarray,
    method: str = "pgd",
    *,
    target: int | None = None,
) -> AttackResult:
    """Attack ``picture`` ((H, W) grayscale, 8-bit or 0..1; the canvas or ``read_paper(...).pixels``).

    Runs with one intra-op thread (``one_intra_op_thread``). Raises ``UserError`` for an unknown method, a target the model cannot give, a target it
    already gives, or a picture with no ink. Pictures larger than ``MAX_SIDE`` are shrunk first
    (as ``canvas_to_input`` would); the result's pictures are at that size.
    """
    if method not in METHODS:
        raise UserError(f"unknown attack method {method!r}; choose one of {', '.join(METHODS)}")
    classes = int(classifier.probabilities(torch.zeros(1, 1, SIZE, SIZE)).shape[1])
    if target is not None and not 0 <= target < classes:
        raise UserError(f"--target must be a class from 0 to {classes - 1}, not {target}")
    started = time.perf_counter()
    levels = _as_levels(picture)
    run = {"fgsm": lambda a: _fgsm(a)[1], "pgd": _pgd, "pixels": _pixels}[method]
    with one_intra_op_thread():
        attacker = _Attacker(classifier, levels, target)
        found = run(attacker)
        adversarial = attacker.original if found is None else found
        return _result(attacker, method, adversarial, found is not None, started)


def _as_levels(picture: np.ndarray) -> np.ndarray:
    unit = to_unit_float(picture)
    if max(unit.shape) > MAX_SIDE:
        scale = MAX_SIDE / max(unit.shape)
        unit = _resize(
            unit, max(1, round(unit.shape[1] * scale)), max(1, round(unit.shape[0] * scale))
        )
    return np.clip(np.rint(unit * 255.0), 0, 255).astype(np.uint8)


def _result(
    attacker: _Attacker, method: str, adversarial: np.ndarray, flipped: bool, started: float
) -> AttackResult:
    classifier = attacker.classifier
    before, after = attacker.original.astype(np.uint8), adversarial.astype(np.uint8)
    items = [classifier.preprocess(p) for p in (before, after)]
    original, changed = classifier.predict_preprocessed(items)
    inputs = tuple(np.asarray(item.steps["centred"], dtype=np.float32) for item in items)
    difference = after.astype(np.int16) - before.astype(np.int16)
    result = AttackResult(
        method=method,
        target=attacker.target,
        digit=original.digit,
        adversarial_digit=changed.digit,
        probabilities=np.asarray(original.probabilities),
        adversarial_probabilities=np.asarray(changed.probabilities),
        flipped=flipped,
        epsilon=float(np.abs(difference).max(initial=0)) / 255.0,
        pixels_changed=int(np.count_nonzero(difference)),
        input_pixels_changed=int(np.count_nonzero(np.abs(inputs[1] - inputs[0]) > INPUT_CHANGE)),
        dots=attacker.dots if method == "pixels" else 0,
        picture=before,
        adversarial_picture=after,
        perturbation=(difference / 255.0).astype(np.float32),
        inputs=(inputs[0], inputs[1]),
        explanation="",
        seconds=0.0,
        gradient_steps=attacker.gradient_steps,
        original=original,
        adversarial=changed,
    )
    result.explanation = explain(result)
    result.seconds = time.perf_counter() - started
    return result


def explain(result: AttackResult) -> str:
    """One or two sentences on what changed and why a network can be this fragile."""
    before = f"{result.digit} ({result.probabilities[result.digit]:.1%})"
    after = (
        f"{result.adversarial_digit} "
        f"({result.adversarial_probabilities[result.adversarial_digit]:.1%})"
    )
    if not result.flipped:
        budget = f"{MAX_DOTS} dots" if result.method == "pixels" else "any change up to full ink"
        return (
            f"{budget.capitalize()} did not turn {before} into "
            f"{'another digit' if result.target is None else result.target}: this drawing "
            "sits far from the model's decision boundary."
        )
    if result.method == "pixels":
        change = (
            f"Painting {result.dots} dot{'s' if result.dots != 1 else ''} the size of one of "
            f"the model's 28x28 pixels ({result.pixels_changed} pixels of the picture)"
        )
        why = (
            "the network leans on a few pixels it found decisive in training, and a dot "
            "where a stroke of another digit would pass tips its sums."
        )
    else:
        change = (
            f"Changing pixels by at most {result.epsilon:.1%} of full ink "
            f"({round(result.epsilon * 255)}/255)"
        )
        why = (
            "the network adds up hundreds of weighted pixels, so tiny nudges all pushed the "
            "way its gradient points add up to a large change of its scores; it learned which "
            "sums of pixels come with each digit, not what a digit looks like."
        )
    return f"{change} turned {before} into {after}: {why}"
