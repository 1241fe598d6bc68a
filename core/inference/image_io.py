"""Read a user's picture file safely: one reader for the Draw tab, drag-and-drop and ``classify``.

A picture file can be anything: a 12000x12000 PNG, a JPEG from a phone, a 32-bit float TIFF
with values of +-3e38, a FIFO named ``x.png``, or a PostScript program named ``.png`` (Pillow
recognises formats by content and would hand that one to Ghostscript, which may never end).
This module turns it into a 2-D uint8 grayscale array no larger than ``MAX_SIDE`` on a side, or
raises ``ImageError`` with one sentence. The contract:

- the bytes come through ``core.storage.safe_read`` (a regular file, at most
  ``LIMITS["picture"]`` bytes; a FIFO or a device is named, never waited on);
- only ``FORMATS`` are decoded (``Image.open(..., formats=FORMATS)``: never EPS/PS, so no
  Ghostscript process is ever started);
- a pixel budget is checked from the header before any pixel is decoded, whatever the mode:
  ``MAX_PIXELS`` and ``MAX_DECODED_BYTES`` of the file's own mode; the decoded picture is then
  shrunk strip by strip (P and 1 included), so no full-size converted copy ever exists;
- decoding runs on a helper thread, with a time limit (``DECODE_SECONDS``) and a cancel
  (``should_cancel``, polled every ``POLL_SECONDS``); giving up is one sentence.

It never prints: PIL's warnings (decompression bomb, odd metadata) are kept off stderr.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.errors import UserError
from core.storage.safe_read import LIMITS, printable_name, read_regular

# A digit needs no more detail than this; preprocessing fits it into 20x20 pixels anyway.
MAX_SIDE = 1024
# Refused above this many pixels (PIL's own bomb limit).
MAX_PIXELS = 2 * 89_478_485
# The decoded picture in its own mode may take at most this much memory (PIL keeps 1 byte a
# pixel for 1, L and P, 2 for 16-bit grey, 4 for everything else): a 16-bit RGBA picture of
# MAX_PIXELS would be 1.4 GB, past what one input may cost.
MAX_DECODED_BYTES = 512 << 20
# Formats decoded at all. Never EPS/PS (they run Ghostscript), nor exotic plugins.
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")
DECODE_SECONDS = 20.0  # a real picture decodes in well under a second
POLL_SECONDS = 0.05  # how often a waiting read looks at its cancel and its deadline
_STRIP_PIXELS = 4 << 20  # pixels converted at a time while shrinking (16 MB as RGBA)
_ORIENTATION = 0x0112  # EXIF tag
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_FLOAT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


class ImageError(UserError):
    """A picture file cannot be used: missing, not an image, damaged or too large."""


class PictureCancelled(ImageError):
    """The caller cancelled the read (``should_cancel`` answered True): not a failure."""


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


def decoded_bytes(mode: str, width: int, height: int) -> int:
    """Memory PIL takes for a decoded ``mode`` picture of this size."""
    per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return width * height * per_pixel


def _working_mode(picture: Image.Image) -> str:
    """The mode the picture is shrunk in: RGBA with transparency, F for 16/32-bit, else L."""
    if picture.mode in _ALPHA_MODES or "transparency" in picture.info:
        return "RGBA"
    if picture.mode in _FLOAT_MODES:
        return "F"
    return "L"


def _shrink(picture: Image.Image, max_side: int, cancelled: threading.Event) -> Image.Image:
    """The decoded picture in its working mode, box-averaged by an integer factor, strip by
    strip: only one strip at a time is ever converted, whatever the file's mode."""
    mode = _working_mode(picture)
    width, height = picture.size
    factor = max(width, height) // max_side
    if factor < 2:
        return picture if picture.mode == mode else picture.convert(mode)
    out = Image.new(mode, (math.ceil(width / factor), math.ceil(height / factor)))
    rows = max(factor, _STRIP_PIXELS // max(width, 1) // factor * factor)
    for top in range(0, height, rows):
        if cancelled.is_set():
            raise PictureCancelled("reading the picture was cancelled")
        strip = picture.crop((0, top, width, min(height, top + rows)))
        if strip.mode != mode:
            strip = strip.convert(mode)
        out.paste(strip.reduce(factor), (0, top // factor))
    return out


def _decode(data: bytes, name: str, max_side: int, cancelled: threading.Event) -> Picture:
    """Bytes to a ``Picture`` (runs on the decoding thread)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bomb warnings and metadata quirks: not for stderr
        with Image.open(BytesIO(data), formats=FORMATS) as opened:
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise ImageError(_too_large(name, width, height))
            if max(width, height) > max_side and opened.format == "JPEG":
                opened.draft("L", (max_side, max_side))  # DCT scaling 1/2..1/8 while decoding
            if decoded_bytes(opened.mode, *opened.size) > MAX_DECODED_BYTES:
                raise ImageError(_too_large(name, width, height, opened.mode))
            orientation = opened.getexif().get(_ORIENTATION)
            opened.load()
            if cancelled.is_set():
                raise PictureCancelled("reading the picture was cancelled")
            picture = _shrink(opened, max_side, cancelled)
    if orientation in _TRANSPOSE:
        picture = picture.transpose(_TRANSPOSE[orientation])
    pixels = _fit(_to_gray(picture), max_side)
    if pixels.size == 0:
        raise ImageError(f"{name} has no pixels")
    return Picture(pixels=pixels, name=name, original_size=(width, height))


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


def read_picture(
    path: str | Path,
    max_side: int = MAX_SIDE,
    *,
    time_limit: float | None = DECODE_SECONDS,
    should_cancel: Callable[[], bool] | None = None,
) -> Picture:
    """Read ``path`` as a grayscale ``Picture`` (EXIF rotation applied, first frame only).

    Raises ``ImageError`` with one sentence for a missing file, a folder, a FIFO or device,
    something that is not a picture in ``FORMATS``, a damaged file, a picture over the pixel
    budget, or one that takes longer than ``time_limit`` seconds to decode; ``PictureCancelled``
    when ``should_cancel()`` becomes true (checked every ``POLL_SECONDS``).
    """
    path = Path(path)
    name = _display_name(path)
    data = read_regular(path, LIMITS["picture"], "image file", ImageError)
    outcome: list[Picture | BaseException] = []
    cancelled = threading.Event()

    def work() -> None:
        try:
            outcome.append(_decode(data, name, max_side, cancelled))
        except BaseException as exc:  # noqa: BLE001 (handed to the waiting caller)
            outcome.append(exc)

    worker = threading.Thread(target=work, name=f"decode {name[:40]}", daemon=True)
    worker.start()
    deadline = None if time_limit is None else time.monotonic() + time_limit
    while worker.is_alive():
        worker.join(POLL_SECONDS)
        if not worker.is_alive():
            break
        if should_cancel is not None and should_cancel():
            cancelled.set()  # the thread stops at its next strip; nobody waits for it
            raise PictureCancelled(f"reading {name} was cancelled")
        if deadline is not None and time.monotonic() > deadline:
            cancelled.set()
            raise ImageError(f"{name} took longer than {time_limit:g} s to decode; gave up")
    result = outcome[0]
    if isinstance(result, Picture):
        return result
    raise _sentence(result, name) from None


def _display_name(path: Path) -> str:
    """The file's name for messages, printable whatever its bytes (non-UTF-8 names too)."""
    return printable_name(path.name or str(path))


def _sentence(exc: BaseException, name: str) -> BaseException:
    """The one-sentence ``ImageError`` for what went wrong while decoding."""
    if isinstance(exc, ImageError):
        return exc
    if isinstance(exc, UnidentifiedImageError):
        formats = ", ".join(FORMATS)
        return ImageError(f"{name} is not a picture Digit Lab can read (it reads {formats})")
    if isinstance(exc, Image.DecompressionBombError):
        return ImageError(_too_large(name, 0, 0))
    if isinstance(exc, MemoryError):
        return ImageError(f"{name} is too large to open: not enough memory")
    if isinstance(exc, Exception):  # OSError, ValueError, SyntaxError, EOFError, zlib...
        text = str(exc).splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return ImageError(f"cannot read image {name}: {text}")
    return exc  # KeyboardInterrupt and the like go on as they are


def _too_large(name: str, width: int, height: int, mode: str = "") -> str:
    limit = f"{MAX_PIXELS / 1e6:.0f} megapixels"
    if mode:
        need = decoded_bytes(mode, width, height) / 1e6
        size = f"{width:,}×{height:,} pixels in mode {mode}, {need:,.0f} MB decoded, over "
        size += f"{MAX_DECODED_BYTES / 1e6:,.0f} MB"
    else:
        size = f"{width:,}×{height:,} pixels, over {limit}" if width and height else f"over {limit}"
    return f"{name} is too large to open ({size}): shrink it first"
