"""canvas_to_input: what MNIST did, for any picture. Invariance to where, how big and which polarity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter

from core.data.datasets import MNIST_MEAN, MNIST_STD
from core.data.mnist import load_sample
from core.errors import UserError
from core.inference.image_io import read_picture
from core.inference.preprocess import (
    canvas_to_input,
    digit_to_paper,
    is_dark_on_light,
    picture_to_paper,
    read_paper,
)
from core.inference.strokes import TARGET_WIDTH, stroke_width, thin_strokes


def load_image_file(path):
    return read_picture(path).pixels


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_sample().test_images[:40].numpy()


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    idx = np.arange(image.shape[0])
    total = image.sum()
    return float(image.sum(axis=1) @ idx / total), float(image.sum(axis=0) @ idx / total)


def on_canvas(digit: np.ndarray, size: int, top: int, left: int, canvas: int = 280) -> np.ndarray:
    """A 28x28 MNIST digit redrawn dark-on-light, ``size`` px tall, at (top, left) on paper."""
    big = Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR)
    paper = np.zeros((canvas, canvas), dtype=np.uint8)
    paper[top : top + size, left : left + size] = np.asarray(big)
    return 255 - paper


def best_match_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of a and b, allowing b a shift of at most one pixel."""
    return min(
        float(np.abs(a - np.roll(b, (dy, dx), axis=(0, 1))).mean())
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def centred(image: np.ndarray) -> np.ndarray:
    result = canvas_to_input(image)
    assert not result.is_empty
    return result.steps["centred"]


def test_mnist_digits_come_out_as_they_went_in(digits):
    """A real MNIST digit is already preprocessed: the pipeline must (almost) reproduce it,
    its strokes thinned only where they are far thicker than MNIST's usual ones."""
    thinned = 0
    for digit in digits:
        out = centred(digit)
        unit = torch.from_numpy(digit.astype(np.float32) / 255.0)[None, None]
        assert np.abs(out - thin_strokes(unit)[0, 0].numpy()).mean() < 0.01
        thinned += not np.allclose(thin_strokes(unit).numpy(), unit.numpy())
    assert thinned <= len(digits) // 4  # MNIST: 90 % of digits under 2.8 px, few far above


def test_thick_strokes_are_thinned_towards_mnists_width(digits):
    """A digit drawn with a fat pen reaches the model with strokes near MNIST's width."""
    picture = np.asarray(
        Image.fromarray(on_canvas(digits[0], 200, 40, 40)).filter(ImageFilter.MinFilter(15))
    )
    thick = canvas_to_input(picture)
    plain = canvas_to_input(on_canvas(digits[0], 200, 40, 40))
    assert thick.thinned and not plain.thinned
    widths = [
        float(stroke_width(torch.from_numpy(item.steps["centred"])[None, None])[0])
        for item in (thick, plain)
    ]
    assert widths[0] <= TARGET_WIDTH + 0.6
    assert abs(widths[0] - widths[1]) < 1.0


def test_output_contract(digits):
    result = canvas_to_input(on_canvas(digits[0], 180, 40, 50))
    assert result.tensor.shape == (1, 28, 28)
    assert result.tensor.dtype.is_floating_point
    assert set(result.steps) == {"crop", "fit20", "centred", "normalised"}
    assert max(result.steps["fit20"].shape) == 20
    expected = (result.steps["centred"] - MNIST_MEAN) / MNIST_STD
    np.testing.assert_allclose(result.tensor[0].numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(result.steps["normalised"], expected, atol=1e-6)
    row, col = centre_of_mass(result.steps["centred"])
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


@settings(max_examples=25, deadline=None)
@given(top=st.integers(0, 140), left=st.integers(0, 140), index=st.integers(0, 39))
def test_shift_invariance(digits, top, left, index):
    reference = centred(on_canvas(digits[index], 140, 70, 70))
    shifted = centred(on_canvas(digits[index], 140, top, left))
    np.testing.assert_allclose(shifted, reference, atol=1e-5)


@settings(max_examples=20, deadline=None)
@given(size=st.integers(60, 270), index=st.integers(0, 39))
def test_scale_invariance(digits, size, index):
    reference = centred(on_canvas(digits[index], 140, 70, 70))
    scaled = centred(on_canvas(digits[index], size, 280 - size, 0))
    # Resampling differs by size, so grey levels differ a little and the centre of mass may round
    # to the neighbouring pixel (MNIST shifted by whole pixels): the same picture up to one pixel.
    assert best_match_error(scaled, reference) < 0.05


def test_polarity_light_on_dark_equals_dark_on_light(digits):
    dark_on_light = on_canvas(digits[3], 200, 30, 40)
    assert is_dark_on_light(dark_on_light)
    assert not is_dark_on_light(255 - dark_on_light)
    a = canvas_to_input(dark_on_light)
    b = canvas_to_input(255 - dark_on_light)
    assert a.inverted and not b.inverted
    np.testing.assert_allclose(a.tensor.numpy(), b.tensor.numpy(), atol=1e-6)


def test_grey_paper_is_background_not_ink(digits):
    """A photo of paper is not white: the background level is removed before finding the ink."""
    picture = on_canvas(digits[5], 200, 40, 40).astype(np.float32)
    grey = 60 + picture * (200 - 60) / 255.0  # ink at 60, paper at 200
    out = centred(grey.astype(np.uint8))
    assert np.abs(out - centred(picture.astype(np.uint8))).mean() < 0.02


def test_float_and_uint8_inputs_agree(digits):
    picture = on_canvas(digits[7], 180, 50, 20)
    np.testing.assert_allclose(
        centred(picture), centred(picture.astype(np.float32) / 255.0), atol=1e-6
    )


@pytest.mark.parametrize(
    "picture",
    [
        np.zeros((280, 280), np.uint8),
        np.full((280, 280), 255, np.uint8),
        np.full((50, 70), 128, np.uint8),
        np.full((280, 280), 0.7, np.float32),
    ],
    ids=["black", "white", "grey", "float-grey"],
)
def test_empty_picture_is_empty_not_a_guess(picture):
    result = canvas_to_input(picture)
    assert result.is_empty and result.tensor is None
    assert canvas_to_input(picture, center=False).is_empty


def test_faint_noise_is_empty():
    rng = np.random.default_rng(0)
    noise = (255 - rng.integers(0, 20, size=(280, 280))).astype(np.uint8)
    assert canvas_to_input(noise).is_empty


@pytest.mark.parametrize("shape", [(280, 280), (3, 500), (28, 28)])
def test_one_pixel_of_ink(shape):
    picture = np.full(shape, 255, np.uint8)
    picture[shape[0] // 2, shape[1] // 3] = 0
    result = canvas_to_input(picture)
    assert not result.is_empty
    assert np.isfinite(result.tensor.numpy()).all()
    assert result.steps["crop"].shape == (1, 1)
    row, col = centre_of_mass(result.steps["centred"])
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_a_one_pixel_picture_is_all_background():
    assert canvas_to_input(np.zeros((1, 1), np.uint8)).is_empty


def test_without_centring_the_whole_picture_is_resized(digits):
    picture = on_canvas(digits[1], 80, 0, 0)  # small, in the top-left corner
    plain = canvas_to_input(picture, center=False)
    assert set(plain.steps) == {"resized", "normalised"}
    row, col = centre_of_mass(plain.steps["resized"])
    assert row < 7 and col < 7  # it stays in the corner: what the model would see


def test_custom_normalisation(digits):
    result = canvas_to_input(digits[0], normalization=(0.5, 0.5))
    np.testing.assert_allclose(
        result.tensor[0].numpy(), (result.steps["centred"] - 0.5) / 0.5, atol=1e-6
    )


def test_bad_array_shape_is_a_user_error():
    with pytest.raises(UserError):
        canvas_to_input(np.zeros((2, 3, 5, 7)))


def test_huge_picture_is_reduced_and_still_centred(digits):
    big = np.asarray(Image.fromarray(on_canvas(digits[2], 200, 20, 60)).resize((3000, 3000)))
    row, col = centre_of_mass(centred(big))
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


# ------------------------------------------------------------------ files
def test_load_png_jpeg_bmp(tmp_path, digits):
    picture = on_canvas(digits[4], 150, 60, 60)
    for suffix in ("png", "jpg", "bmp"):
        path = tmp_path / f"digit.{suffix}"
        Image.fromarray(picture).convert("RGB").save(path)
        loaded = load_image_file(path)
        assert loaded.shape == picture.shape and loaded.dtype == np.uint8
        assert np.abs(centred(loaded) - centred(picture)).mean() < 0.03


def test_transparent_png_reads_as_ink(tmp_path, digits):
    alpha = 255 - on_canvas(digits[4], 150, 60, 60)
    rgba = np.zeros(alpha.shape + (4,), np.uint8)
    rgba[..., 3] = alpha  # black ink, transparent paper
    path = tmp_path / "ink.png"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = load_image_file(path)
    assert is_dark_on_light(loaded)
    assert not canvas_to_input(loaded).is_empty


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"])
def test_unreadable_file_is_a_user_error(tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(UserError, match="bad.png"):
        load_image_file(path)


def test_missing_file_and_folder_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_image_file(tmp_path / "missing.png")
    with pytest.raises(UserError):
        load_image_file(tmp_path)


# ------------------------------------------------------------------ paper (the one file path)
def test_paper_is_square_dark_on_light_and_adds_no_ink(digits):
    light_on_dark = np.zeros((90, 60), np.uint8)
    light_on_dark[20:70, 27:33] = 255
    paper = picture_to_paper(light_on_dark)
    assert paper.shape == (90, 90) and paper[0, 0] == 255 and is_dark_on_light(paper)
    # Padding with the background leaves the model's input unchanged.
    np.testing.assert_allclose(
        canvas_to_input(paper).tensor, canvas_to_input(light_on_dark).tensor, atol=1e-6
    )


def test_read_paper_reports_blank_pictures(tmp_path):
    path = tmp_path / "blank.png"
    Image.fromarray(np.full((64, 32), 200, np.uint8)).save(path)
    paper = read_paper(path)
    assert paper.is_blank and paper.name == "blank.png" and paper.original_size == (32, 64)
    assert canvas_to_input(paper.pixels).is_empty


def test_digit_to_paper_round_trips_a_data_set_digit(digits):
    paper = digit_to_paper(digits[3])
    assert paper.shape == (280, 280) and is_dark_on_light(paper)
    back = canvas_to_input(paper).steps["centred"]
    original = canvas_to_input(digits[3]).steps["centred"]
    assert np.abs(back - original).mean() < 0.03


def test_keep_steps_false_keeps_only_the_input(digits):
    full = canvas_to_input(digits[0])
    lean = canvas_to_input(digits[0], keep_steps=False)
    assert lean.steps == {} and set(full.steps) == {"crop", "fit20", "centred", "normalised"}
    assert torch_equal(lean.tensor, full.tensor)


def torch_equal(a, b) -> bool:
    return bool((a == b).all())
