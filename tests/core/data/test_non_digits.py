"""Stroked non-digits: canvas-like pictures, repeatable, and test designs apart from training's."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import non_digits
from core.data.non_digits import (
    CANVAS,
    PROBE_GLYPHS,
    PROBE_ONLY,
    TRAIN_GLYPHS,
    letter_probes,
    training_drawings,
)
from core.inference.preprocess import canvas_to_input

# The letters and symbols issue 25 names: the probes must cover every one of them.
ISSUE_GLYPHS = set("AHKMNWXYEFTB#+=*")
# Shapes that are a digit in someone's hand: no generator may teach "not a digit" on them.
DIGIT_LIKE = set("OIlZSGQDCbqg/!?")


@pytest.fixture(scope="module")
def training() -> list[np.ndarray]:
    return training_drawings(60, seed=3)


def test_pictures_look_like_the_canvas(training):
    probes = [p for drawn in letter_probes(2, seed=1).values() for p in drawn]
    for picture in training + probes:
        assert picture.shape == (CANVAS, CANVAS) and picture.dtype == np.uint8
        assert picture[0, 0] == 255 or picture.mean() > 200  # white paper, dark ink
        assert (picture < 128).sum() > 20  # something was drawn
        assert canvas_to_input(picture).tensor is not None  # the app can read it


def test_a_seed_repeats_and_another_differs(training):
    assert all(
        np.array_equal(a, b) for a, b in zip(training, training_drawings(60, seed=3), strict=True)
    )
    assert not np.array_equal(training[0], training_drawings(1, seed=4)[0])
    again = letter_probes(2, seed=1)
    assert all(np.array_equal(again["A"][i], letter_probes(2, seed=1)["A"][i]) for i in range(2))


def test_size_pen_and_position_vary(training):
    boxes, widths = [], []
    for picture in training:
        rows, cols = np.flatnonzero((picture < 128).any(1)), np.flatnonzero((picture < 128).any(0))
        boxes.append((rows[0], cols[0], max(rows[-1] - rows[0], cols[-1] - cols[0])))
        widths.append((picture < 128).sum() / max(boxes[-1][2], 1))
    tops, lefts, sides = (np.array(v) for v in zip(*boxes, strict=True))
    assert sides.max() > 2 * sides.min()
    assert tops.std() > 20 and lefts.std() > 20
    assert np.percentile(widths, 90) > 1.5 * np.percentile(widths, 10)


def test_probes_cover_the_issue_and_are_designed_apart_from_training():
    assert set(PROBE_GLYPHS) >= ISSUE_GLYPHS
    assert not set(PROBE_ONLY) & set(TRAIN_GLYPHS)  # letters the model never sees
    for name in set(PROBE_GLYPHS) & set(TRAIN_GLYPHS):
        assert PROBE_GLYPHS[name] != TRAIN_GLYPHS[name], f"{name}: same design in both"
    assert not (set(PROBE_GLYPHS) | set(TRAIN_GLYPHS)) & DIGIT_LIKE


def test_probes_and_training_use_different_pens():
    """The test pen is a pressure-varying brush: its stroke width varies along a line where the
    training pen's is constant (one probe against one training drawing of a plain bar)."""
    rng = np.random.default_rng(0)
    bar = [np.array([[20.0, 140.0], [260.0, 140.0]])]
    brush = non_digits._brush(bar, 8.0, rng)
    from PIL import Image, ImageDraw

    image = Image.new("L", (CANVAS, CANVAS), 255)
    non_digits._train_pen(ImageDraw.Draw(image), bar, 16)
    pen = np.asarray(image)
    columns = slice(40, 240)
    brush_widths = (brush[:, columns] < 128).sum(axis=0)
    pen_widths = (pen[:, columns] < 128).sum(axis=0)
    assert brush_widths.max() - brush_widths.min() >= 2
    assert pen_widths.max() - pen_widths.min() <= 1
