"""Stroked non-digits: letters, symbols and doodles drawn the way the canvas draws a mouse stroke.

Why: a digit classifier answers "4, 99.9 % sure" for a drawn A, because nothing in its training
said that an A is none of the ten. Outlier exposure (Hendrycks, Mazeika & Dietterich, ICLR 2019)
shows the model such drawings during training with a uniform target, so that it learns to be
unsure on them; the "is this a digit?" score then separates them far better. Typed letters in a
font are not what a learner draws: these are pen strokes (polylines with round caps and joins,
as ``gui/draw/draw_canvas.paint_strokes`` paints them) with a wobbling hand, a random pen
width, size, slant and position, on a 280x280 canvas, dark ink on white.

Two styles that share nothing but the idea, so that a test measures the class and not the
examples the model learnt from:

- ``"train"`` (``tools/train_default_model.py``): ``TRAIN_GLYPHS`` (letters and symbols, each
  with one stroke design) and doodles (scribbles, spirals, hearts, ticks, blobs, bars ...),
  drawn by ``_train_pen``: PIL polylines, rotation and aspect change, per-point wobble.
- ``"test"`` (tests and ``benchmarks/not_a_digit.py``): ``PROBE_GLYPHS``, the letters and symbols
  of issue 25 (A H K M N W X Y E F T B # + = *), designed separately (other stroke orders,
  proportions and shapes), drawn by ``_test_pen``: smoothed paths stamped with a pressure-varying
  round brush at twice the size and reduced (another renderer), shear for slant, smooth drift
  for the hand. ``PROBE_ONLY`` (K, W, #, *) never appear in training in any design: their flag
  rate measures letters the model has never seen at all.

Shapes that are digits in some hand are left out of both: O, I, l, Z, S, G, Q, D, C, b, q, g, /,
!, ?, an upright arrow, a plain square (a boxy 0) and a single upright bar.
Random numbers come only from the ``numpy.random.Generator`` passed in: a seed repeats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280
Stroke = tuple[tuple[float, float], ...]
Glyph = tuple[Stroke, ...]


def _arc(
    cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 12
) -> Stroke:
    """Points along an ellipse arc; angles in degrees, 0 = right, 90 = down (y grows down)."""
    angles = np.deg2rad(np.linspace(start, end, n))
    return tuple((cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles)


# Unit-square designs (x right, y down), one tuple of strokes per glyph.
TRAIN_GLYPHS: dict[str, Glyph] = {
    "A": (((0.1, 1), (0.5, 0), (0.9, 1)), ((0.27, 0.6), (0.73, 0.6))),
    "B": (
        ((0.2, 0), (0.2, 1)),
        ((0.2, 0), (0.6, 0), (0.75, 0.12), (0.75, 0.35), (0.6, 0.48), (0.2, 0.48)),
        ((0.2, 0.48), (0.65, 0.48), (0.82, 0.62), (0.82, 0.85), (0.65, 1), (0.2, 1)),
    ),
    "E": (((0.8, 0), (0.2, 0), (0.2, 1), (0.8, 1)), ((0.2, 0.5), (0.65, 0.5))),
    "F": (((0.8, 0), (0.2, 0), (0.2, 1)), ((0.2, 0.5), (0.65, 0.5))),
    "H": (((0.2, 0), (0.2, 1)), ((0.8, 0), (0.8, 1)), ((0.2, 0.5), (0.8, 0.5))),
    "L": (((0.2, 0), (0.2, 1), (0.8, 1)),),
    "M": (((0.1, 1), (0.15, 0), (0.5, 0.6), (0.85, 0), (0.9, 1)),),
    "N": (((0.2, 1), (0.2, 0), (0.8, 1), (0.8, 0)),),
    "P": (((0.2, 1), (0.2, 0), (0.6, 0), (0.8, 0.12), (0.8, 0.38), (0.6, 0.5), (0.2, 0.5)),),
    "R": (
        ((0.2, 1), (0.2, 0), (0.6, 0), (0.8, 0.12), (0.8, 0.38), (0.6, 0.5), (0.2, 0.5)),
        ((0.45, 0.5), (0.85, 1)),
    ),
    "T": (((0.1, 0), (0.9, 0)), ((0.5, 0), (0.5, 1))),
    "U": (((0.15, 0), (0.15, 0.7), (0.3, 0.95), (0.5, 1), (0.7, 0.95), (0.85, 0.7), (0.85, 0)),),
    "V": (((0.1, 0), (0.5, 1), (0.9, 0)),),
    "X": (((0.15, 0), (0.85, 1)), ((0.85, 0), (0.15, 1))),
    "Y": (((0.1, 0), (0.5, 0.5), (0.9, 0)), ((0.5, 0.5), (0.5, 1))),
    "+": (((0.5, 0.1), (0.5, 0.9)), ((0.1, 0.5), (0.9, 0.5))),
    "=": (((0.1, 0.35), (0.9, 0.35)), ((0.1, 0.65), (0.9, 0.65))),
    "%": (
        _arc(0.25, 0.2, 0.15, 0.15, 0, 360),
        ((0.85, 0.05), (0.15, 0.95)),
        _arc(0.75, 0.8, 0.15, 0.15, 0, 360),
    ),
    "@": (_arc(0.55, 0.5, 0.15, 0.2, 0, 360), _arc(0.5, 0.5, 0.45, 0.48, 20, 340, 20)),
    "<": (((0.8, 0.1), (0.2, 0.5), (0.8, 0.9)),),
    "^": (((0.1, 0.8), (0.5, 0.2), (0.9, 0.8)),),
    "~": (_arc(0.3, 0.5, 0.2, 0.15, 180, 360, 8) + _arc(0.7, 0.5, 0.2, 0.15, 180, 0, 8),),
    "->": (((0.05, 0.5), (0.95, 0.5)), ((0.65, 0.2), (0.95, 0.5), (0.65, 0.8))),
    "<-": (((0.05, 0.5), (0.95, 0.5)), ((0.35, 0.2), (0.05, 0.5), (0.35, 0.8))),
    "star": (((0.2, 1), (0.5, 0), (0.8, 1), (0.02, 0.38), (0.98, 0.38), (0.2, 1)),),
    "heart": (
        _arc(0.28, 0.3, 0.22, 0.2, 180, 360, 10)
        + _arc(0.72, 0.3, 0.22, 0.2, 180, 360, 10)[1:]
        + ((0.5, 1), (0.06, 0.32)),
    ),
    "triangle": (((0.5, 0.05), (0.95, 0.95), (0.05, 0.95), (0.5, 0.05)),),
    "crossed circle": (
        _arc(0.5, 0.5, 0.45, 0.45, 0, 360, 20),
        ((0.2, 0.2), (0.8, 0.8)),
        ((0.8, 0.2), (0.2, 0.8)),
    ),
    "smiley": (
        _arc(0.5, 0.5, 0.48, 0.48, 0, 360, 24),
        ((0.33, 0.35), (0.34, 0.37)),
        ((0.67, 0.35), (0.68, 0.37)),
        _arc(0.5, 0.55, 0.25, 0.2, 20, 160, 10),
    ),
    "tick": (((0.05, 0.55), (0.35, 0.95), (0.95, 0.05)),),
    "infinity": (
        tuple(
            (
                0.5 + 0.45 * np.cos(t) / (1 + np.sin(t) ** 2),
                0.5 + 0.5 * np.sin(t) * np.cos(t) / (1 + np.sin(t) ** 2),
            )
            for t in np.linspace(0, 2 * np.pi, 30)
        ),
    ),
}

PROBE_GLYPHS: dict[str, Glyph] = {
    "A": (((0.15, 1), (0.48, 0.02)), ((0.52, 0.0), (0.88, 1)), ((0.22, 0.72), (0.84, 0.68))),
    "B": (
        ((0.25, 1), (0.25, 0), (0.55, 0.02), (0.7, 0.15), (0.68, 0.35), (0.5, 0.45), (0.25, 0.46)),
        ((0.3, 0.46), (0.7, 0.5), (0.88, 0.7), (0.75, 0.93), (0.5, 1), (0.25, 1)),
    ),
    "E": (
        ((0.25, 0), (0.25, 1)),
        ((0.25, 0.02), (0.85, 0)),
        ((0.25, 0.48), (0.7, 0.5)),
        ((0.25, 0.98), (0.9, 1)),
    ),
    "F": (((0.3, 1), (0.3, 0.02)), ((0.3, 0.02), (0.9, 0)), ((0.3, 0.45), (0.8, 0.43))),
    "H": (((0.25, 0), (0.15, 1)), ((0.8, 0), (0.9, 1)), ((0.18, 0.55), (0.86, 0.45))),
    "K": (((0.2, 0), (0.2, 1)), ((0.85, 0), (0.2, 0.55)), ((0.4, 0.4), (0.85, 1))),
    "M": (((0.1, 1), (0.1, 0), (0.5, 0.85), (0.9, 0), (0.9, 1)),),
    "N": (((0.15, 1), (0.25, 0), (0.75, 1), (0.85, 0)),),
    "W": (((0.05, 0), (0.3, 1), (0.5, 0.35), (0.7, 1), (0.95, 0)),),
    "X": (((0.1, 0.1), (0.9, 0.85)), ((0.75, 0), (0.3, 1))),
    "Y": (((0.1, 0), (0.5, 0.45)), ((0.9, 0), (0.2, 1))),
    "T": (_arc(0.5, 0.2, 0.45, 0.12, 200, 340, 8), ((0.55, 0.1), (0.45, 1))),
    "#": (
        ((0.38, 0.05), (0.3, 0.95)),
        ((0.72, 0.05), (0.64, 0.95)),
        ((0.05, 0.33), (0.95, 0.33)),
        ((0.05, 0.66), (0.95, 0.66)),
    ),
    "+": (((0.45, 0), (0.45, 1)), ((0.05, 0.45), (0.85, 0.45))),
    "=": (((0.1, 0.3), (0.8, 0.25)), ((0.15, 0.7), (0.9, 0.65))),
    "*": (((0.5, 0), (0.5, 1)), ((0.07, 0.25), (0.93, 0.75)), ((0.93, 0.25), (0.07, 0.75))),
}
PROBE_ONLY = ("K", "W", "#", "*")
DOODLES = ("scribble", "zigzag", "spiral", "dots", "blob", "bar", "wave")


def _affine(
    strokes: list[np.ndarray], rng: np.random.Generator, rotate: float, shear: float
) -> list[np.ndarray]:
    """Unit-square strokes rotated, sheared and stretched together about the centre."""
    angle, slant = np.deg2rad(rng.normal(0, rotate)), np.deg2rad(rng.normal(0, shear))
    stretch = np.exp(rng.uniform(-0.3, 0.3))
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = matrix @ np.array([[stretch, np.tan(slant)], [0, 1 / stretch]])
    return [(points - 0.5) @ matrix.T for points in strokes]


def _densify(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` (unit-square units) along a polyline, ends kept."""
    out = [stroke[0]]
    for a, b in zip(stroke[:-1], stroke[1:], strict=True):
        count = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.extend(a + (b - a) * (i / count) for i in range(1, count + 1))
    return np.asarray(out)


def _place(
    strokes: list[np.ndarray], rng: np.random.Generator, low: float, high: float
) -> list[np.ndarray]:
    """Scale centred unit-size strokes to a random size and put them anywhere on the canvas."""
    size = rng.uniform(low, high) * CANVAS
    scaled = [s * size for s in strokes]
    points = np.concatenate(scaled)
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = 6.0
    span = np.maximum(CANVAS - 2 * margin - (hi - lo), 0)
    offset = margin - lo + rng.uniform(0, 1, 2) * span
    return [s + offset for s in scaled]


def _train_pen(draw: ImageDraw.ImageDraw, strokes: list[np.ndarray], width: int) -> None:
    """PIL polylines with round caps and joins, as the canvas's ``QPen`` (RoundCap, RoundJoin)."""
    for stroke in strokes:
        pts = [(float(x), float(y)) for x, y in stroke]
        if len(pts) > 1:
            draw.line(pts, fill=0, width=width, joint="curve")
        for x, y in (pts[0], pts[-1]):
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=0)


def _wobble(stroke: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A hand's smooth wander (a slow sine in x and y along the stroke) plus a little tremor."""
    along = np.linspace(0, 1, len(stroke))[:, None]
    phase, cycles = rng.uniform(0, 2 * np.pi, (1, 2)), rng.uniform(0.3, 1.5, (1, 2))
    wander = rng.uniform(0, 0.03, (1, 2)) * np.sin(2 * np.pi * cycles * along + phase)
    return stroke + wander + rng.normal(0, 0.003, stroke.shape)


def _glyph_strokes(glyph: Glyph, rng: np.random.Generator, wobble: float) -> list[np.ndarray]:
    return [
        _densify(np.asarray(s, dtype=float), 0.05) + rng.normal(0, wobble, (1, 2)) for s in glyph
    ]


def _doodle(kind: str, rng: np.random.Generator) -> list[np.ndarray]:
    """A doodle in unit size about the origin (before placing)."""
    if kind == "scribble":
        walk = np.cumsum(rng.normal(0, 0.12, (int(rng.integers(8, 30)), 2)), axis=0)
        return [walk - walk.mean(axis=0)]
    if kind == "zigzag":
        peaks = int(rng.integers(3, 7))
        x = np.linspace(-0.5, 0.5, peaks * 2 + 1)
        return [np.stack([x, np.where(np.arange(len(x)) % 2, -0.2, 0.2)], axis=1)]
    if kind == "wave":
        t = np.linspace(0, rng.uniform(2, 4) * np.pi, 40)
        return [np.stack([t / t[-1] - 0.5, 0.2 * np.sin(t)], axis=1)]
    if kind == "spiral":
        t = np.linspace(0, rng.uniform(2.2, 3.5) * 2 * np.pi, 80)
        r = 0.5 * t / t[-1]
        return [np.stack([r * np.cos(t), r * np.sin(t)], axis=1)]
    if kind == "dots":
        return [
            p + np.array([[0, 0], [0.01, 0.01]])
            for p in rng.uniform(-0.5, 0.5, (int(rng.integers(2, 7)), 1, 2))
        ]
    if kind == "blob":  # a filled-in patch: a tight scribble with a fat pen
        t = np.linspace(0, 2 * np.pi * rng.uniform(2, 5), 60)
        return [np.stack([0.3 * np.cos(t) * rng.uniform(0.5, 1), 0.3 * np.sin(1.3 * t)], axis=1)]
    # a bar lying down or leaning (an upright bar is a 1)
    angle = np.deg2rad(rng.uniform(-40, 40))
    return [
        np.array(
            [
                [-0.5 * np.cos(angle), -0.5 * np.sin(angle)],
                [0.5 * np.cos(angle), 0.5 * np.sin(angle)],
            ]
        )
    ]


def training_drawing(rng: np.random.Generator) -> np.ndarray:
    """One training non-digit: a ``TRAIN_GLYPHS`` glyph (two thirds) or a doodle, on a canvas."""
    image = Image.new("L", (CANVAS, CANVAS), 255)
    draw = ImageDraw.Draw(image)
    width = int(rng.uniform(0.035, 0.1) * CANVAS)
    if rng.random() < 2 / 3:
        glyph = TRAIN_GLYPHS[list(TRAIN_GLYPHS)[int(rng.integers(len(TRAIN_GLYPHS)))]]
        strokes = _glyph_strokes(glyph, rng, 0.025)
        strokes = _affine([_wobble(s, rng) for s in strokes], rng, 12, 12)
        strokes = _place(strokes, rng, 0.25, 0.85)
    else:
        kind = DOODLES[int(rng.integers(len(DOODLES)))]
        strokes = _place(_doodle(kind, rng), rng, 0.25, 0.85)
        if kind == "blob":
            width = int(rng.uniform(0.1, 0.2) * CANVAS)
    _train_pen(draw, strokes, width)
    return np.asarray(image, dtype=np.uint8).copy()


def _smooth(points: np.ndarray, samples: int = 6) -> np.ndarray:
    """Catmull-Rom through the points (a hand's curve, where the training pen draws corners)."""
    if len(points) < 3:
        return _densify(points, 0.02)
    padded = np.vstack([points[0], points, points[-1]])
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1 : i + 3]
        for t in np.linspace(0, 1, samples, endpoint=False):
            out.append(
                0.5
                * (
                    2 * p1
                    + (p2 - p0) * t
                    + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                    + (3 * p1 - p0 - 3 * p2 + p3) * t**3
                )
            )
    out.append(points[-1])
    return np.asarray(out)


def _brush(strokes: Sequence[np.ndarray], width: float, rng: np.random.Generator) -> np.ndarray:
    """Stamp a round brush along each path at 2x, its width varying like pen pressure; reduce."""
    big = Image.new("L", (CANVAS * 2, CANVAS * 2), 255)
    draw = ImageDraw.Draw(big)
    for stroke in strokes:
        path = _densify(stroke * 2, 2.0) if len(stroke) > 1 else stroke * 2
        phase, rate = rng.uniform(0, 2 * np.pi), rng.uniform(0.005, 0.03)
        for i, (x, y) in enumerate(path):
            r = width * (1 + 0.25 * np.sin(phase + rate * i))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    return np.asarray(big.resize((CANVAS, CANVAS), Image.Resampling.LANCZOS), dtype=np.uint8).copy()


def letter_probe(name: str, rng: np.random.Generator) -> np.ndarray:
    """One ``PROBE_GLYPHS[name]`` drawn by the test pen: a different design and renderer."""
    strokes = []
    drift = rng.normal(0, 0.03, 2)
    for stroke in PROBE_GLYPHS[name]:
        points = np.asarray(stroke, dtype=float)
        points = points + rng.normal(0, 0.02, points.shape) + drift
        strokes.append(_smooth(points))
    strokes = _affine(strokes, rng, 6, 15)
    strokes = _place(strokes, rng, 0.3, 0.9)
    return _brush(strokes, rng.uniform(0.025, 0.05) * CANVAS, rng)


def training_drawings(n: int, seed: int) -> list[np.ndarray]:
    """``n`` training non-digits (``training_drawing``) from one seed."""
    rng = np.random.default_rng(seed)
    return [training_drawing(rng) for _ in range(n)]


def letter_probes(per_glyph: int, seed: int) -> dict[str, list[np.ndarray]]:
    """``per_glyph`` test drawings of each ``PROBE_GLYPHS`` letter or symbol, from one seed."""
    rng = np.random.default_rng(seed)
    return {name: [letter_probe(name, rng) for _ in range(per_glyph)] for name in PROBE_GLYPHS}
