"""Augmentation keeps shapes and digits, is random per sample, and repeats under a seed."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from core.data.augment import (
    NORMALIZED_BACKGROUND,
    AugmentSettings,
    BatchAugmenter,
    affine_matrices,
    augment_batch,
    augment_examples,
    dilate,
    erode,
    refit,
    sampling_grid,
)
from core.data.mnist import load_sample, normalize
from core.errors import UserError
from core.inference.strokes import TARGET_WIDTH, stroke_width, thin_strokes
from core.resources import bundled_model_file
from core.storage.checkpoint import load_checkpoint

NOTHING = AugmentSettings(
    max_rotation_degrees=0,
    max_scale_change=0,
    max_shear_degrees=0,
    max_shift_pixels=0,
    elastic_probability=0,
    thicker_probability=0,
    thinner_probability=0,
    refit=False,
)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """64 real digits as float 0..1, (64, 28, 28)."""
    return load_sample().test_images[:64].float() / 255.0


def generator(seed: int, device: str = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(64, 28, 28), (64, 1, 28, 28), (64, 784)])
def test_shape_dtype_and_device_are_kept(digits, shape, device):
    images = digits.reshape(shape).to(device)
    out = augment_batch(images, generator(0, device))
    assert out.shape == images.shape
    assert out.dtype == images.dtype
    assert out.device == images.device
    assert torch.isfinite(out).all()
    assert not torch.equal(out, images)


def test_same_seed_same_batches_and_the_stream_moves_on(digits):
    first, second = BatchAugmenter(7, background=0.0), BatchAugmenter(7, background=0.0)
    a1, b1 = first(digits), second(digits)
    a2 = first(digits)
    assert torch.equal(a1, b1)
    assert not torch.equal(a1, a2)  # the next batch gets new parameters
    assert not torch.equal(a1, BatchAugmenter(8, background=0.0)(digits))


def test_parameters_are_drawn_per_sample(digits):
    same = digits[:1].repeat(16, 1, 1)
    out = augment_batch(same, generator(3))
    differences = (out[1:] - out[:1]).abs().flatten(1).sum(dim=1)
    assert bool((differences > 1.0).all()), "every copy of one digit should differ from the first"


def test_no_variation_is_the_identity(digits):
    out = augment_batch(digits, generator(0), NOTHING)
    assert torch.allclose(out, digits, atol=1e-5)


def test_the_background_stays_background():
    blank = torch.full((8, 1, 28, 28), NORMALIZED_BACKGROUND)
    out = augment_batch(blank, generator(0), background=NORMALIZED_BACKGROUND)
    assert torch.allclose(out, blank, atol=1e-5)


def test_affine_part_matches_affine_grid():
    settings = AugmentSettings(elastic_probability=0)
    params = torch.rand(5, 8, generator=generator(1))
    theta = affine_matrices(params, settings, 28, 28)
    expected = F.affine_grid(theta, [5, 1, 28, 28], align_corners=False)
    assert torch.allclose(
        sampling_grid(params, settings, generator(2), 28, 28), expected, atol=1e-6
    )


def test_elastic_distortion_is_smooth_and_bounded(digits):
    settings = AugmentSettings(
        max_rotation_degrees=0,
        max_scale_change=0,
        max_shear_degrees=0,
        max_shift_pixels=0,
        elastic_probability=1.0,
        elastic_pixels=2.0,
    )
    params = torch.rand(32, 8, generator=generator(4))
    offsets = sampling_grid(params, settings, generator(5), 28, 28) - sampling_grid(
        params, NOTHING, generator(5), 28, 28
    )
    pixels = offsets * 14  # [-1, 1] units to pixels
    # bicubic weights sum to 1 but some are negative: |offset| <= 1.35 x the largest control offset
    assert pixels.abs().max() <= 2.0 * 1.35
    assert pixels.abs().max() > 0.5
    neighbour_step = (pixels[:, 1:] - pixels[:, :-1]).abs().max()
    # under 1 pixel per pixel: the field bends strokes but never folds the picture over itself
    assert neighbour_step < 0.8, "neighbouring pixels should move almost together"


def test_dilate_and_erode_are_3x3_max_and_min_filters(digits):
    x = digits.unsqueeze(1)
    assert torch.equal(dilate(x), F.max_pool2d(x, 3, stride=1, padding=1))
    assert torch.equal(erode(x), -F.max_pool2d(-F.pad(x, (1, 1, 1, 1)), 3, stride=1))


@pytest.mark.parametrize(("thicker", "grows"), [(1.0, True), (0.0, False)])
def test_stroke_thickness_changes_the_ink_area(digits, thicker, grows):
    settings = AugmentSettings(
        max_rotation_degrees=0,
        max_scale_change=0,
        max_shear_degrees=0,
        max_shift_pixels=0,
        elastic_probability=0,
        thicker_probability=thicker,
        thinner_probability=1.0 - thicker,
        refit=False,  # the stroke change alone (a refit scales the thicker digit back down)
    )
    out = augment_batch(digits, generator(0), settings)
    ink_before = (digits > 0.5).flatten(1).sum(dim=1)
    ink_after = (out > 0.5).flatten(1).sum(dim=1)
    ratio = float(ink_after.sum()) / float(ink_before.sum())
    if grows:
        assert bool((ink_after > ink_before).all())
        assert ratio > 1.3
    else:  # a weakly thinned digit may keep its area (its peak is restored), never grow it
        assert bool((ink_after <= ink_before).all())
        assert ratio < 0.85
    peak = out.flatten(1).amax(dim=1)
    assert torch.allclose(peak, digits.flatten(1).amax(dim=1), atol=1e-5)  # contrast kept


def _box_and_centre(ink: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Longer side of the ink's bounding box (pixels above 0.15 of the peak) and centre of mass."""
    mask = ink > 0.15 * ink.flatten(1).amax(dim=1).view(-1, 1, 1)
    index = torch.arange(ink.shape[-1], dtype=ink.dtype)
    sides = []
    for axis in (1, 2):
        present = mask.any(dim=axis)
        sides.append(present.float().sum(dim=1))  # digits have no gaps across a whole row
    mass = ink.sum(dim=(1, 2))
    centre = torch.stack([(ink.sum(dim=2) @ index) / mass, (ink.sum(dim=1) @ index) / mass], 1)
    return torch.maximum(*sides), centre


def test_refit_puts_moved_and_resized_digits_back_where_the_app_puts_them(digits):
    """Shifted, shrunk or enlarged copies come back fitted to 20 px with the centre of mass at
    pixel 14, as ``canvas_to_input`` places every picture; a blank image stays blank."""
    moved = AugmentSettings(
        max_rotation_degrees=0,
        max_scale_change=0.2,
        max_shear_degrees=0,
        max_shift_pixels=2.5,  # small enough that no ink leaves the 28x28 field
        elastic_probability=0,
        thicker_probability=0,
        thinner_probability=0,
        refit=False,
    )
    shifted = augment_batch(digits, generator(2), moved)
    side, centre = _box_and_centre(shifted)
    assert (side - 20).abs().max() > 2 and (centre - 14).abs().max() > 1.5  # really moved
    side, centre = _box_and_centre(refit(shifted.unsqueeze(1))[:, 0])
    assert (side - 20).abs().max() <= 1.0
    assert (centre - 14).abs().max() <= 0.7  # whole input pixels: half of one, times the scale
    blank = torch.zeros(3, 1, 28, 28)
    assert torch.equal(refit(blank), blank)


def test_augmented_batches_are_fitted_like_the_apps_input(digits):
    side, centre = _box_and_centre(augment_batch(digits, generator(5), AugmentSettings(thin=False)))
    assert (side - 20).abs().max() <= 1.0
    assert (centre - 14).abs().max() <= 0.6


def test_thick_strokes_are_thinned_as_the_app_thins_them(digits):
    """After the refit, strokes far thicker than MNIST's are thinned by the app's own function
    (``core.inference.strokes``): training sees the stroke widths the Draw tab shows the model."""
    fat = AugmentSettings(
        max_rotation_degrees=0,
        max_scale_change=0,
        max_shear_degrees=0,
        max_shift_pixels=0,
        elastic_probability=0,
        thicker_probability=1.0,
        thinner_probability=0,
    )
    plain = augment_batch(digits, generator(0), replace(fat, thin=False)).unsqueeze(1)
    thinned = augment_batch(digits, generator(0), fat).unsqueeze(1)
    assert torch.allclose(thinned, thin_strokes(plain), atol=1e-6)
    assert float(stroke_width(plain).median()) > TARGET_WIDTH + 0.5
    assert float(stroke_width(thinned).median()) < float(stroke_width(plain).median()) - 0.5


def test_refit_leaves_a_fitted_digit_exactly_as_it_is(digits):
    """Whole-pixel refits: MNIST's digits are already fitted and centred, so nothing moves
    (a sub-pixel move would blur every training digit the app never blurs)."""
    x = digits.unsqueeze(1)
    assert torch.allclose(refit(x), x, atol=1e-5)
    assert not torch.allclose(refit(x, whole_pixels=False), x, atol=1e-3)


def test_thicker_goes_up_to_two_dilations(digits):
    def ink_after(max_thicker: float) -> float:
        settings = AugmentSettings(
            max_rotation_degrees=0,
            max_scale_change=0,
            max_shear_degrees=0,
            max_shift_pixels=0,
            elastic_probability=0,
            thicker_probability=1.0,
            thinner_probability=0,
            max_thicker=max_thicker,
            refit=False,
        )
        return float((augment_batch(digits, generator(0), settings) > 0.5).sum())

    once, twice = ink_after(1.0), ink_after(2.0)
    assert twice > once * 1.15
    assert twice <= float((dilate(dilate(digits.unsqueeze(1))) > 0.5).sum())
    with pytest.raises(UserError, match="thicker"):
        AugmentSettings(max_thicker=2.5).validate()


def test_augmented_digits_keep_their_labels():
    """The shipped model still reads augmented test digits: augmentation never makes a
    digit into another (a too-strong setting would fail here)."""
    data = load_sample()
    images, labels = data.test_images[:500], data.test_labels[:500]
    model = load_checkpoint(bundled_model_file()).build()
    inputs = normalize(images).unsqueeze(1)
    augmented = BatchAugmenter(1)(inputs)
    with torch.no_grad():
        plain = (model(inputs).argmax(1) == labels).float().mean().item()
        varied = (model(augmented).argmax(1) == labels).float().mean().item()
    assert varied >= 0.9
    assert varied >= plain - 0.06


def test_augment_examples_for_the_strip():
    sample = load_sample()
    images, labels = sample.train_images[:5], sample.train_labels[:5]
    strip = augment_examples(images, 12, seed=3)
    assert strip.shape == (12, 28, 28)
    assert strip.dtype == torch.float32
    assert float(strip.min()) >= 0.0 and float(strip.max()) <= 1.0
    assert torch.equal(strip, augment_examples(images, 12, seed=3))
    assert not torch.equal(strip, augment_examples(images, 12, seed=4))
    # example i is a varied copy of images[i % 5]: the shipped model reads it as that digit
    model = load_checkpoint(bundled_model_file()).build()
    with torch.no_grad():
        read = model(normalize((strip * 255).round().to(torch.uint8)).unsqueeze(1)).argmax(1)
    expected = labels[torch.arange(12) % 5]
    assert int((read == expected).sum()) >= 10
    assert augment_examples(images, 0, seed=0).shape == (0, 28, 28)


def test_bad_inputs_are_refused():
    with pytest.raises(UserError, match="rotation"):
        AugmentSettings(max_rotation_degrees=90).validate()
    with pytest.raises(UserError, match="add up"):
        BatchAugmenter(
            0, settings=AugmentSettings(thicker_probability=0.7, thinner_probability=0.7)
        )
    with pytest.raises(TypeError):
        augment_batch(torch.zeros(2, 28, 28, dtype=torch.uint8), generator(0))
    with pytest.raises(ValueError):
        augment_batch(torch.zeros(2, 3, 28, 28), generator(0))
    with pytest.raises(ValueError):
        augment_examples(torch.zeros(0, 28, 28), 4, seed=0)
