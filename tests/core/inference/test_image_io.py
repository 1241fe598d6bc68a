"""core.inference.image_io: any picture file becomes a bounded grayscale array or one sentence, never noise."""

from __future__ import annotations

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
