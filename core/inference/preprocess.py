"""Turn any grayscale picture of a digit into what an MNIST model expects.

MNIST's digits were size-normalised to fit a 20x20 box keeping their aspect ratio (grey levels come
from the anti-aliasing), then placed in a 28x28 field so that their centre of mass sits at the
centre; ink is high and the background 0 (LeCun's MNIST page). A model trained on that has never
seen a digit in a corner or one filling the frame, so every picture the app classifies (the
canvas, a dropped file, the ``classify`` CLI) goes through this one function first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.data.datasets import MNIST_MEAN, MNIST_STD
from core.errors import UserError
from core.inference.image_io import MAX_SIDE, Picture, read_picture
from core.inference.strokes import thin_strokes

SIZE = 28
BOX = 20
# After background removal, a pixel is ink when brighter than this (0..1). Keeps JPEG noise and
# paper texture out of the bounding box without cutting anti-aliased stroke edges much.
INK_THRESHOLD = 0.15


@dataclass
class Preprocessed:
    """The model input for one picture, and the intermediate images that explain it.

    ``tensor`` is (1, 28, 28) float, normalised like the training data, or ``None`` when the
    picture holds no ink (``is_empty``): the caller says "nothing drawn" instead of guessing.
    ``steps`` maps a step name to a float image in 0..1 (``normalised`` is in model units):
    ``crop``, ``fit20``, ``centred``, ``normalised`` with centring on; ``resized``, ``normalised``
    with it off. ``centred`` is the 28x28 picture the model reads: strokes far thicker than
    MNIST's are thinned there (``core.inference.strokes``; ``thinned`` says so). Empty when the caller asked for ``keep_steps=False`` (the CLI: a crop of a big
    picture is megabytes, and nobody shows it).
    """

    tensor: torch.Tensor | None
    is_empty: bool
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    inverted: bool = False  # the picture was dark ink on a light background
    thinned: bool = False  # strokes far thicker than MNIST's were thinned (core.inference.strokes)


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """A 2-D grayscale array as float32 in 0..1 (uint8 is divided by 255; floats > 1 too)."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (1, 3, 4):
        array = array[..., :3].mean(axis=2) if array.shape[2] >= 3 else array[..., 0]
    if array.ndim != 2 or array.size == 0:
        raise UserError(f"expected a 2-D grayscale image, got an array of shape {array.shape}")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    array = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    if array.max(initial=0.0) > 1.0:
        array = array / 255.0
    return np.clip(array, 0.0, 1.0)


def background_level(image: np.ndarray) -> float:
    """The background's grey level: the median of the border pixels (a digit rarely fills it)."""
    border = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    return float(np.median(border))


def is_dark_on_light(image: np.ndarray) -> bool:
    """True for dark ink on a light background (a canvas, a scan), false for MNIST's polarity."""
    return background_level(to_unit_float(image)) > 0.5


def _ink(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """Light-on-dark ink in 0..1 with the background removed; and whether it was inverted."""
    inverted = background_level(image) > 0.5
    if inverted:
        image = 1.0 - image
    background = background_level(image)
    if background > 0.0:
        image = np.clip((image - background) / max(1.0 - background, 1e-6), 0.0, 1.0)
    return image, inverted


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Anti-aliased resize of a float image (area averaging when shrinking, bilinear when growing)."""
    shrinking = width < image.shape[1] or height < image.shape[0]
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    resized = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize(
        (width, height), resample=resample
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def _place_by_centre_of_mass(digit: np.ndarray) -> np.ndarray:
    """Paste ``digit`` (at most 20x20) into 28x28 with its centre of mass at the field's centre."""
    height, width = digit.shape
    total = float(digit.sum())
    rows = np.arange(height, dtype=np.float32)
    cols = np.arange(width, dtype=np.float32)
    com_row = float(digit.sum(axis=1) @ rows) / total
    com_col = float(digit.sum(axis=0) @ cols) / total
    # MNIST's digits have their centre of mass at pixel 14.0 (measured on the bundled sample: 13.99
    # rows, 14.00 columns), not at the geometric centre 13.5.
    centre = SIZE / 2.0
    # Integer shifts (as MNIST): sub-pixel shifts would blur the strokes. Clamped so no ink is lost.
    top = int(np.clip(round(centre - com_row), 0, SIZE - height))
    left = int(np.clip(round(centre - com_col), 0, SIZE - width))
    field_ = np.zeros((SIZE, SIZE), dtype=np.float32)
    field_[top : top + height, left : left + width] = digit
    return field_


def canvas_to_input(
    image: np.ndarray,
    *,
    center: bool = True,
    normalization: tuple[float, float] = (MNIST_MEAN, MNIST_STD),
    keep_steps: bool = True,
) -> Preprocessed:
    """Preprocess one grayscale picture (H, W), uint8 or float, either polarity, any size.

    ``center=True`` does what MNIST did (crop, fit 20x20, centre of mass). ``center=False`` only
    resizes the whole picture to 28x28, to show what goes wrong without the rest.
    """
    unit = to_unit_float(image)
    if max(unit.shape) > MAX_SIDE:
        scale = MAX_SIDE / max(unit.shape)
        unit = _resize(
            unit, max(1, round(unit.shape[1] * scale)), max(1, round(unit.shape[0] * scale))
        )
    ink, inverted = _ink(unit)
    mask = ink > INK_THRESHOLD
    if not mask.any():
        return Preprocessed(tensor=None, is_empty=True, steps={}, inverted=inverted)
    # Pencil or a photo of grey paper never reaches full contrast; MNIST's strokes peak at 255.
    ink = ink / float(ink.max())

    steps: dict[str, np.ndarray] = {}
    thinned = False
    if center:
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        height, width = crop.shape
        scale = BOX / max(height, width)
        fitted = _resize(crop, max(1, round(width * scale)), max(1, round(height * scale)))
        if fitted.sum() <= 0.0:  # a faint speck that vanished when resized
            return Preprocessed(tensor=None, is_empty=True, steps={}, inverted=inverted)
        unthinned = _place_by_centre_of_mass(fitted)
        centred = thin_strokes(torch.from_numpy(unthinned)[None, None])[0, 0].numpy()
        thinned = not np.array_equal(centred, unthinned)
        steps.update(crop=crop, fit20=fitted, centred=centred)
    else:
        centred = _resize(ink, SIZE, SIZE)
        steps["resized"] = centred
    mean, std = normalization
    normalised = (centred - mean) / std
    steps["normalised"] = normalised
    tensor = torch.from_numpy(np.ascontiguousarray(normalised)).unsqueeze(0)
    if not keep_steps:
        steps = {}
    return Preprocessed(
        tensor=tensor, is_empty=False, steps=steps, inverted=inverted, thinned=thinned
    )


@dataclass(frozen=True)
class Paper:
    """A picture file as the Draw tab shows it: a square of paper, dark ink on light.

    ``pixels`` is (side, side) uint8, side <= ``MAX_SIDE``. The Draw tab puts it on the canvas
    and classifies the canvas; ``classify`` classifies ``pixels`` directly. Both are the same
    array, so a file gets the same answer everywhere.
    """

    pixels: np.ndarray
    name: str
    original_size: tuple[int, int]
    is_blank: bool


def picture_to_paper(pixels: np.ndarray) -> np.ndarray:
    """Any grayscale picture as dark-on-light paper, padded to a square with its background.

    Light ink on dark is inverted (the canvas is paper; preprocessing inverts it back), and the
    padding uses the background's grey so it adds no ink.
    """
    pixels = np.asarray(pixels, dtype=np.uint8)
    if not is_dark_on_light(pixels):
        pixels = 255 - pixels
    height, width = pixels.shape
    side = max(height, width)
    fill = int(round(background_level(pixels.astype(np.float32) / 255.0) * 255))
    square = np.full((side, side), fill, dtype=np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = pixels
    return square


def paper_from_picture(picture: Picture) -> Paper:
    return Paper(
        pixels=picture_to_paper(picture.pixels),
        name=picture.name,
        original_size=picture.original_size,
        is_blank=picture.is_blank,
    )


def read_paper(path: str | Path) -> Paper:
    """Read a picture file (``core.inference.image_io.read_picture``) and lay it out as ``Paper``.

    The one path from a file to the model's input for the Draw tab (Open, drag-and-drop) and
    ``classify``. Raises ``core.inference.image_io.ImageError`` (a ``UserError``) with one sentence.
    """
    return paper_from_picture(read_picture(path))


def digit_to_paper(image: np.ndarray, side: int = 280) -> np.ndarray:
    """A data set digit (28x28, ink high) as the canvas would show it: ``side`` px of paper.

    For "Try in Draw": the learner can draw over a misclassified test digit; bilinear scaling
    keeps its grey edges, and preprocessing brings it back to 28x28.
    """
    unit = to_unit_float(image)
    grown = _resize(unit, side, side)
    return np.clip((1.0 - grown) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def blank_message(name: str) -> str:
    """What to say when a picture holds no ink at all (not just "nothing drawn")."""
    return f"{name} is blank: it holds no ink to classify (every pixel is about the same grey)"
