"""Read a user's picture file safely: one reader for the Draw tab, drag-and-drop and ``classify``.

A picture file can be anything: a 12000x12000 PNG, a JPEG from a phone, a 32-bit float TIFF
with values of +-3e38, a file that only claims to be an image. This module turns it into a
2-D uint8 grayscale array no larger than ``MAX_SIDE`` on a side, or raises ``ImageError`` with
one sentence. It never prints: PIL's warnings (decompression bomb, odd metadata) are kept off
stderr, and the size is checked from the header before any pixel is decoded, so memory is
bounded by what ``MAX_PIXELS`` allows. JPEGs are decoded straight at a reduced scale
(``Image.draft``); other formats are shrunk by an integer factor right after decoding
(``Image.reduce``), so later steps never touch the full-size pixels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import UserError

# A digit needs no more detail than this; preprocessing fits it into 20x20 pixels anyway.
MAX_SIDE = 1024
# Refused above this many pixels (PIL's own bomb limit): a 16-bit RGBA picture this big is
# already ~1.4 GB decoded.
MAX_PIXELS = 2 * 89_478_485


class ImageError(UserError):
    """A picture file cannot be used: missing, not an image, damaged or too large."""


@dataclass(frozen=True)
class Picture:
    """A picture as Digit Lab reads it: grayscale uint8 (H, W), at most ``MAX_SIDE`` a side."""

    pixels: np.ndarray
    name: str
    original_size: tuple[int, int]  # (width, height) in the file

    @property
    def was_reduced(self) -> bool:
        return max(self.original_size) > max(self.pixels.shape)

    @property
    def is_blank(self) -> bool:
        """All one grey level: nothing a digit could be made of."""
        return int(self.pixels.max()) == int(self.pixels.min())


def _reduce_while_decoding(picture: Image.Image, max_side: int) -> Image.Image:
    """Decode ``picture`` at no more than about ``max_side`` a side, as cheaply as the format allows."""
    width, height = picture.size
    if max(width, height) > max_side and picture.format == "JPEG":
        picture.draft("L", (max_side, max_side))  # DCT scaling: 1/2, 1/4 or 1/8 while decoding
    picture.load()
    factor = max(picture.size) // max_side
    if factor >= 2 and picture.mode not in ("P", "1"):
        picture = picture.reduce(factor)  # box average by an integer factor, in C
    return picture


def _float_to_uint8(values: np.ndarray) -> np.ndarray:
    """Any real-valued picture (16-bit, 32-bit, float with inf/NaN) stretched to 0..255.

    Computed in float64: a span like 3e38 - (-3e38) overflows float32 to inf and would turn
    every pixel into 0 ("blank"). NaN becomes the darkest value, +-inf the extremes.
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.any():
        low, high = float(values[finite].min()), float(values[finite].max())
    else:
        low, high = 0.0, 1.0  # only inf and NaN: +inf is the brightest, the rest the darkest
    if np.isposinf(values).any() and high <= low:
        high = low + 1.0
    values = np.nan_to_num(values, nan=low, posinf=high, neginf=low)
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    # Halved so that even float64's extremes (+-1.8e308) keep a finite span.
    scaled = (values / 2.0 - low / 2.0) / (high / 2.0 - low / 2.0)
    return np.clip(scaled * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _to_gray(picture: Image.Image) -> np.ndarray:
    """Grayscale uint8; transparency laid on a backdrop that contrasts with the opaque ink."""
    if picture.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
        gray = np.asarray(rgba.convert("L"), dtype=np.float32)
        opaque = alpha > 0.5
        ink_is_dark = not opaque.any() or float(gray[opaque].mean()) < 128.0
        backdrop = 255.0 if ink_is_dark else 0.0
        mixed = gray * alpha + backdrop * (1.0 - alpha)
        return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    if picture.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _float_to_uint8(np.asarray(picture))
    return np.asarray(picture.convert("L"), dtype=np.uint8)


def _fit(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink to ``max_side`` with area averaging (after ``reduce`` this is a small step)."""
    height, width = pixels.shape
    if max(height, width) <= max_side:
        return np.ascontiguousarray(pixels)
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BOX), dtype=np.uint8)


def read_picture(path: str | Path, max_side: int = MAX_SIDE) -> Picture:
    """Read ``path`` as a grayscale ``Picture`` (EXIF rotation applied, first frame only).

    Raises ``ImageError`` with one sentence for a missing file, a folder, something that is not
    an image, a damaged file, or a picture over ``MAX_PIXELS``.
    """
    path = Path(path)
    name = path.name or str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb warnings and metadata quirks: not for stderr
            with Image.open(path) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise ImageError(_too_large(name, width, height))
                picture = ImageOps.exif_transpose(_reduce_while_decoding(opened, max_side))
                pixels = _fit(_to_gray(picture), max_side)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"image file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise ImageError(f"{str(path)!r} is a folder, not an image file") from None
    except PermissionError:
        raise ImageError(f"cannot read {name}: permission denied") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image file Digit Lab can read") from None
    except Image.DecompressionBombError:
        raise ImageError(_too_large(name, 0, 0)) from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ImageError(f"cannot read image {name}: {reason}") from None
    if pixels.size == 0:
        raise ImageError(f"{name} has no pixels")
    return Picture(pixels=pixels, name=name, original_size=(width, height))


def _too_large(name: str, width: int, height: int) -> str:
    limit = f"{MAX_PIXELS / 1e6:.0f} megapixels"
    size = f"{width:,}×{height:,} pixels, over {limit}" if width and height else f"over {limit}"
    return f"{name} is too large to open ({size}): shrink it first"
