"""core.inference.image_io: any picture file becomes a bounded grayscale array or one sentence, never noise."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from core.inference import image_io
from core.inference.image_io import MAX_SIDE, ImageError, read_picture
from core.inference.preprocess import canvas_to_input


def _png_header_only(path, width: int, height: int) -> None:
    """A PNG whose header claims ``width`` x ``height`` (a few bytes: a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_big_pictures_are_reduced_while_decoding(tmp_path):
    picture = np.full((3000, 2000), 255, np.uint8)
    picture[500:2500, 900:1100] = 0  # a thick "1"
    for suffix in ("png", "jpg"):
        path = tmp_path / f"big.{suffix}"
        Image.fromarray(picture).save(path)
        read = read_picture(path)
        assert max(read.pixels.shape) <= MAX_SIDE and read.was_reduced
        assert read.original_size == (2000, 3000)
        assert not canvas_to_input(read.pixels).is_empty


def test_a_picture_over_the_pixel_limit_is_refused_before_decoding(tmp_path, capfd):
    path = tmp_path / "bomb.png"
    _png_header_only(path, 40_000, 40_000)
    with pytest.raises(ImageError, match=r"bomb.png is too large to open .*179 megapixels"):
        read_picture(path)
    assert capfd.readouterr().err == ""


def test_pil_bomb_warning_does_not_reach_stderr(tmp_path, capfd, monkeypatch):
    path = tmp_path / "wide.png"
    Image.fromarray(np.full((400, 600), 200, np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 150_000)  # 240,000 px: PIL would warn
    read = read_picture(path)
    assert read.is_blank
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("extreme", [3e38, np.inf])
def test_float_tiff_with_huge_values_is_not_blank(tmp_path, extreme, capfd):
    values = np.full((80, 80), -extreme, np.float32)
    values[10:70, 35:45] = extreme
    values[0, 0] = np.nan
    path = tmp_path / "float.tif"
    Image.fromarray(values, mode="F").save(path)
    read = read_picture(path)
    assert not read.is_blank
    assert read.pixels[40, 40] == 255 and read.pixels[5, 5] == 0
    assert not canvas_to_input(read.pixels).is_empty
    assert capfd.readouterr().err == ""


def test_sixteen_bit_png_keeps_its_ink(tmp_path):
    values = np.full((60, 60), 1000, np.uint16)
    values[10:50, 28:32] = 60000
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    read = read_picture(path)
    assert read.pixels.dtype == np.uint8 and read.pixels[30, 30] > read.pixels[5, 5]


def test_all_nan_picture_is_blank_not_an_error(tmp_path):
    path = tmp_path / "nan.tif"
    Image.fromarray(np.full((20, 20), np.nan, np.float32), mode="F").save(path)
    assert read_picture(path).is_blank


@pytest.mark.parametrize(
    "content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken", b"GIF89a" + b"\0" * 5]
)
def test_damaged_files_are_one_sentence(tmp_path, content, capfd):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match="bad.png") as info:
        read_picture(path)
    assert "\n" not in str(info.value)
    assert capfd.readouterr().err == ""


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        read_picture(tmp_path / "missing.png")
    with pytest.raises(ImageError, match="is a folder"):
        read_picture(tmp_path)


def test_truncated_png_is_an_error(tmp_path):
    path = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ImageError, match="cut.png"):
        read_picture(path)


def test_limit_is_pils_own(tmp_path):
    assert image_io.MAX_PIXELS == 2 * Image.MAX_IMAGE_PIXELS


# ------------------------------------------------ issue 24: pictures that never end, bombs in budget
POSTSCRIPT = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n{ } loop\n"


@pytest.mark.parametrize("name", ["loop.png", "loop.eps", "loop.jpg", "loop"])
def test_postscript_is_never_decoded_whatever_its_name(tmp_path, monkeypatch, name):
    import subprocess

    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a) or 1 / 0)
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: started.append(a) or 1 / 0)
    path = tmp_path / name
    path.write_bytes(POSTSCRIPT)
    with pytest.raises(ImageError, match="not a picture Digit Lab can read") as info:
        read_picture(path)
    assert "PNG" in str(info.value) and started == []


@pytest.mark.parametrize("kind", ["fifo", "devzero", "devnull"])
def test_a_special_file_named_like_a_picture_is_named_not_read(tmp_path, kind):
    import threading

    path = tmp_path / "x.png"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(f"/dev/{kind[3:]}")
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_error_of(path)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and outcome and ("pipe" in outcome[0] or "device" in outcome[0])


def _error_of(path):
    try:
        read_picture(path)
    except ImageError as exc:
        return str(exc)
    return ""


def _converted_sizes(monkeypatch):
    sizes = []
    original = Image.Image.convert

    def spy(self, *args, **kwargs):
        sizes.append(self.size[0] * self.size[1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "convert", spy)
    return sizes


@pytest.mark.parametrize(
    ("mode", "transparency"), [("P", 0), ("P", None), ("1", None), ("L", None), ("I;16", None)]
)
def test_no_full_size_copy_is_converted_whatever_the_mode(
    tmp_path, monkeypatch, mode, transparency
):
    side = 5000
    picture = Image.new(mode, (side, side), 0)
    extra = {} if transparency is None else {"transparency": transparency}
    path = tmp_path / f"big-{mode.replace(';', '')}.png"
    picture.save(path, **extra)
    del picture
    monkeypatch.setattr(image_io, "_STRIP_PIXELS", 250_000)
    sizes = _converted_sizes(monkeypatch)
    read = read_picture(path)
    assert read.original_size == (side, side) and max(read.pixels.shape) <= MAX_SIDE
    assert sizes and max(sizes) < side * side // 10  # strips and the shrunk result, never the whole


def test_the_decoded_size_budget_counts_the_mode(tmp_path, monkeypatch):
    path = tmp_path / "rgba.png"
    Image.new("RGBA", (600, 500)).save(path)
    monkeypatch.setattr(image_io, "MAX_DECODED_BYTES", 600 * 500 * 4 - 1)
    with pytest.raises(ImageError, match=r"rgba.png is too large to open .*mode RGBA"):
        read_picture(path)
    Image.new("L", (600, 500)).save(path)  # a quarter of the memory: fits
    assert read_picture(path).original_size == (600, 500)


def test_exif_rotation_is_applied_after_shrinking(tmp_path):
    pixels = np.zeros((3000, 1500), np.uint8)
    pixels[:1000, :] = 255  # the top third white
    picture = Image.fromarray(pixels)
    exif = picture.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    path = tmp_path / "rotated.jpg"
    picture.save(path, exif=exif)
    read = read_picture(path)
    height, width = read.pixels.shape
    assert width > height  # portrait on disk, landscape once rotated
    assert read.pixels[:, -width // 4 :].mean() > 200  # white now on the right


def test_a_decode_past_the_time_limit_gives_up_in_one_sentence(tmp_path, monkeypatch):
    import time

    path = tmp_path / "slow.png"
    Image.new("L", (50, 50)).save(path)
    monkeypatch.setattr(image_io, "_decode", lambda *a: time.sleep(5))
    started = time.monotonic()
    with pytest.raises(ImageError, match="slow.png took longer than 0.3 s"):
        read_picture(path, time_limit=0.3)
    assert time.monotonic() - started < 4


def test_a_decode_can_be_cancelled(tmp_path, monkeypatch):
    import time

    path = tmp_path / "slow.png"
    Image.new("L", (50, 50)).save(path)
    monkeypatch.setattr(image_io, "_decode", lambda *a: time.sleep(5))
    asked = time.monotonic() + 0.2
    with pytest.raises(image_io.PictureCancelled):
        read_picture(path, should_cancel=lambda: time.monotonic() > asked)


def test_cancel_stops_the_shrinking_between_strips(tmp_path, monkeypatch):
    import threading

    picture = Image.new("P", (4000, 4000), 0)
    monkeypatch.setattr(image_io, "_STRIP_PIXELS", 100_000)
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(image_io.PictureCancelled):
        image_io._shrink(picture, 256, cancelled)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP"])
def test_every_allowed_format_reads(tmp_path, fmt):
    pixels = np.zeros((64, 64), np.uint8)
    pixels[10:50, 28:36] = 255
    path = tmp_path / f"digit.{fmt.lower()}"
    Image.fromarray(pixels).save(path, format=fmt)
    assert read_picture(path).pixels.max() > 100
