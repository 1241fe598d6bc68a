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
from PIL import Image, ImageOps, UnidentifiedImageError

from core.checkpoint import MNIST_MEAN, MNIST_STD
from core.errors import UserError

SIZE = 28
BOX = 20
# After background removal, a pixel is ink when brighter than this (0..1). Keeps JPEG noise and
# paper texture out of the bounding box without cutting anti-aliased stroke edges much.
INK_THRESHOLD = 0.15
# Pictures larger than this are reduced before preprocessing: a digit needs no more detail, and a
# 4000x3000 photo would otherwise cost tens of milliseconds.
MAX_SIDE = 1024


@dataclass
class Preprocessed:
    """The model input for one picture, and the intermediate images that explain it.

    ``tensor`` is (1, 28, 28) float, normalised like the training data, or ``None`` when the
    picture holds no ink (``is_empty``): the caller says "nothing drawn" instead of guessing.
    ``steps`` maps a step name to a float image in 0..1 (``normalised`` is in model units):
    ``crop``, ``fit20``, ``centred``, ``normalised`` with centring on; ``resized``, ``normalised``
    with it off.
    """

    tensor: torch.Tensor | None
    is_empty: bool
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    inverted: bool = False  # the picture was dark ink on a light background


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
    if center:
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        height, width = crop.shape
        scale = BOX / max(height, width)
        fitted = _resize(crop, max(1, round(width * scale)), max(1, round(height * scale)))
        if fitted.sum() <= 0.0:  # a faint speck that vanished when resized
            return Preprocessed(tensor=None, is_empty=True, steps={}, inverted=inverted)
        centred = _place_by_centre_of_mass(fitted)
        steps.update(crop=crop, fit20=fitted, centred=centred)
    else:
        centred = _resize(ink, SIZE, SIZE)
        steps["resized"] = centred
    mean, std = normalization
    normalised = (centred - mean) / std
    steps["normalised"] = normalised
    tensor = torch.from_numpy(np.ascontiguousarray(normalised)).unsqueeze(0)
    return Preprocessed(tensor=tensor, is_empty=False, steps=steps, inverted=inverted)


def load_image_file(path: str | Path) -> np.ndarray:
    """Read a picture file (PNG, JPEG, BMP, ...) as a 2-D uint8 grayscale array.

    Transparent pixels are laid on a background that contrasts with the opaque ones, so a black
    digit on a transparent PNG reads as dark-on-light and a white one as light-on-dark.
    """
    path = Path(path)
    try:
        with Image.open(path) as opened:
            opened.load()
            picture = ImageOps.exif_transpose(opened) or opened
            if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                rgba = picture.convert("RGBA")
                alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
                gray = np.asarray(rgba.convert("L"), dtype=np.float32)
                opaque = alpha > 0.5
                ink_is_dark = not opaque.any() or float(gray[opaque].mean()) < 128.0
                backdrop = 255.0 if ink_is_dark else 0.0
                mixed = gray * alpha + backdrop * (1.0 - alpha)
                return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
            if picture.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                values = np.asarray(picture, dtype=np.float32)
                span = float(values.max() - values.min()) or 1.0
                return ((values - values.min()) / span * 255.0 + 0.5).astype(np.uint8)
            return np.asarray(picture.convert("L"), dtype=np.uint8).copy()
    except FileNotFoundError:
        raise UserError(f"image file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"{str(path)!r} is a folder, not an image file") from None
    except UnidentifiedImageError:
        raise UserError(f"{path.name} is not an image file Digit Lab can read") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else "unreadable"
        raise UserError(f"cannot read image {path.name}: {reason}") from None
