"""Training-time augmentation: the variation between hands that MNIST's preprocessing leaves in.

MNIST's preprocessing (and the app's, ``core.inference.preprocess``) removes position and size: every digit
is fitted into 20x20 and centred. What it cannot remove is how people write: a slant, a wider or
narrower loop, a wobbly stroke, a thin pencil or a fat marker. A model that saw only MNIST's
writers reads other hands worse, so training can show it randomly varied copies:

- **affine**: a small rotation, scale, shear and shift per digit;
- **elastic**: a smooth random displacement field (a few random control-point offsets, upsampled
  bicubically), the "wobble" of a different hand (Simard et al., ICDAR 2003);
- **stroke thickness**: thicker (a 3x3 max-pool dilation) or thinner (a 3x3 min-pool erosion),
  blended in by a random amount -- off by default (measured below; the preprocessing thins).

The trainer does not replace a batch by its varied copies: it trains on the clean digits and a
varied copy of each (batch augmentation, ``BatchAugmenter.with_copies``), the loss the sum of
the two halves' mean losses (``loss_weight``).

Everything runs on whole batches on the training device (GPU when training there), with random
parameters drawn per sample in one tensor: no Python loop over samples. torchvision's v2
transforms would draw one set of parameters for a whole batch; per-sample warps of a batch are
``affine_grid`` + ``grid_sample``. The affine and elastic warps are composed into one sampling
grid, so each digit is resampled once. Labels never change and shapes are kept.

Random numbers come only from the ``torch.Generator`` passed in: the same seed gives the same
augmented batches, so a seeded run repeats.

Why augmentation helps other hands, measured (``benchmarks/other_hands.py``: 1,797 UCI
optdigits digits, 43 writers, drawn as canvas pictures; the CNN a learner trains on the bundled
sample, 5 epochs, SGD defaults; ``--sample-seeds``):

- **Stroke width** was the largest mismatch: fitted into 20x20, other hands' strokes are 3.3 px
  wide (drawn thick 4.2) against MNIST's 2.2. It is now removed where every picture passes, in
  the app's preprocessing (``core.inference.strokes``: strokes over 2.8 px are thinned; the
  refit here does the same, ``thin``): without augmentation 79.1 % -> 85.5 % (seed 1), 77.2 %
  -> 83.8 % (seed 2); drawn thick 62.3 % -> 84.0 %.
- **Shift and scale** are undone by the refit (the app centres and fits every picture), so they
  only resample; every bilinear resample (a turn, the wobble, a sub-pixel refit) raises the
  share of grey ink pixels from MNIST's 0.58 to ~0.8 (the canvas path gives 0.40). Restoring
  crisp edges with a contrast curve: 81.1 % against 80.6 % (seed 1, before the thinning): no
  gain, not kept. A random narrowing (79.9 %) and a coarse-grid blur (75.0 %): worse.
- **Replacing the digits by varied copies hurt: the budget decides.** 5 epochs of 3,600 digits
  are ~280 SGD steps and the CNN is still learning; a varied digit is a harder (and blurrier)
  example, so every step that sees only varied digits fits the real ones more slowly. 2026-12-05,
  16:28-17:03 UTC, load 0.8-1.8, ``nice -n 19``, ``OMP_NUM_THREADS=1``; mean over seeds 1-3
  [seed 1, 2, 3], centred pictures through the app's preprocessing, the same training as
  ``--train-sample`` (which reproduced the figures exactly): none 83.8 % [85.5, 83.8, 82.1],
  4.8 s a run; the old defaults (replacing) 82.1 % [82.1, 85.5, 78.8], 6.0 s. No part of it
  helps when replacing: without thickness 82.8, dilation only 83.5, erosion only 81.6, no wobble
  80.7, wobble only 80.0, turns/shear/scale only 82.9, thickness only 82.0, no thinning after
  the refit 84.2, no refit 82.8; nor a schedule: a growing share of varied digits (0 -> all)
  83.4, varied only in the last 40 % of the steps 82.6, half the digits 81.9; a milder setting
  82.1. The spread between seeds (up to 6 points) is as large as any of these effects.
- **Batch augmentation** (Hoffer et al., CVPR 2020): each step trains on the clean batch and a
  varied copy of it. With the loss the mean over both halves each half gets half a step and the
  clean fit is still slower: 85.7 % [85.6, 87.8, 83.9] (two copies 84.7, copies of half the
  batch 83.6, a growing number of copies 84.9). With the loss the **sum** of the two halves'
  mean losses the clean digits move the weights exactly as far as without augmentation and the
  copies add their own step: 88.0 % [90.0, 88.6, 85.3]; **without the thickness change 89.7 %
  [90.6, 90.9, 87.8]** (the defaults now; without it and without the refit's thinning, 89.7 %
  [90.7, 90.2, 88.3]: the same). Seeds 4, 5: 88.6 / 87.6 against none 89.3 / 85.5, so over
  seeds 1-5 89.1 % against 85.2 %. The control: the doubled gradient alone, without
  augmentation (lr 0.02 instead of 0.01), 86.4 % [88.1, 83.8, 87.2]; the variation adds the
  rest. The cost: twice the compute per step, 9.5 s a run instead of 4.8 s (6.0 s replacing).
- Why the thickness change costs ~1.7 points was not isolated. A likely cause: the
  preprocessing already thins wide strokes, and the refit thins a dilated copy back, so it
  mostly adds resampling and strokes the app never shows the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from core.data.datasets import MNIST_MEAN, MNIST_STD
from core.errors import UserError
from core.inference.strokes import thin_strokes

# The background of a digit normalised like the training data ((0 - mean) / std).
NORMALIZED_BACKGROUND = -MNIST_MEAN / MNIST_STD
# Columns of the per-sample parameter table drawn in one call (see ``_draw_parameters``).
_ANGLE, _SCALE, _SHEAR, _DX, _DY, _ELASTIC, _THICK, _AMOUNT = range(8)


@dataclass(frozen=True)
class AugmentSettings:
    """How strongly each digit is varied. Each range is symmetric around "unchanged".

    The defaults stay within what real hands do to a digit that has already been fitted into
    20x20 and centred (so shifts and scale changes are small): a 7 still reads as a 7.
    """

    max_rotation_degrees: float = 12.0
    max_scale_change: float = 0.12  # scale factor drawn in [1 - s, 1 + s]
    max_shear_degrees: float = 10.0
    max_shift_pixels: float = 2.0
    elastic_probability: float = 0.5
    elastic_pixels: float = 1.5  # largest control-point displacement, in pixels
    elastic_control_points: int = 4  # per side: fewer points, smoother wobble
    # Thicker or thinner strokes, up to two 3x3 steps: off by default. Stroke width is handled
    # where every picture passes, the app's preprocessing (``core.inference.strokes``), and the
    # refit below thins again what a dilation thickened; with batch augmentation, other hands
    # read 89.7 % without this (seeds 1-3) against 88.0 % with 0.4 / 0.15 (module docstring).
    thicker_probability: float = 0.0
    thinner_probability: float = 0.0
    # How far a chosen digit moves towards its dilated (eroded) self: (0.3..1) * this; above 1,
    # on towards a second dilation.
    max_thicker: float = 2.0
    max_thinner: float = 0.7
    # Redo the app's preprocessing after the variation (crop to the ink, fit 20x20, centre of
    # mass at the middle): the model then trains on what the app can feed it, not on shifted
    # or rescaled digits the Draw tab never produces (see ``refit``).
    refit: bool = True
    # Move by whole pixels when refitting, as the app (and MNIST) place a digit: a digit that
    # already fits is then left exactly as it is, not blurred by a sub-pixel shift.
    refit_whole_pixels: bool = True
    # After the refit, thin strokes far thicker than MNIST's as the app's preprocessing does
    # (``core.inference.strokes``), so the model trains on the stroke widths the app shows it.
    thin: bool = True

    def validate(self) -> AugmentSettings:
        """Raise ``UserError`` naming the first bad setting; return self for chaining."""
        checks = [
            (0 <= self.max_rotation_degrees <= 45, "rotation must be 0..45 degrees"),
            (0 <= self.max_scale_change < 0.5, "scale change must be in [0, 0.5)"),
            (0 <= self.max_shear_degrees <= 30, "shear must be 0..30 degrees"),
            (0 <= self.max_shift_pixels <= 8, "shift must be 0..8 pixels"),
            (0 <= self.elastic_probability <= 1, "elastic probability must be in [0, 1]"),
            (0 <= self.elastic_pixels <= 6, "elastic displacement must be 0..6 pixels"),
            (2 <= self.elastic_control_points <= 14, "elastic control points must be 2..14"),
            (
                self.thicker_probability >= 0
                and self.thinner_probability >= 0
                and self.thicker_probability + self.thinner_probability <= 1,
                "thicker and thinner probabilities must be >= 0 and add up to at most 1",
            ),
            (0 <= self.max_thicker <= 2, "thicker amount must be in [0, 2]"),
            (0 <= self.max_thinner <= 2, "thinner amount must be in [0, 2]"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(f"augmentation: {message}")
        return self


DEFAULT_SETTINGS = AugmentSettings()


def _draw_parameters(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 8) uniform numbers in [0, 1): one row per sample, one column per random choice.

    One draw for the whole batch, in a fixed layout, so the stream of random numbers (and hence
    a seeded run) does not depend on which augmentations happen to be switched on.
    """
    return torch.rand(n, 8, generator=generator, device=generator.device)


def _symmetric(u: torch.Tensor, limit: float) -> torch.Tensor:
    """Uniform [0, 1) to uniform [-limit, limit)."""
    return (u * 2 - 1) * limit


def affine_matrices(
    params: torch.Tensor, settings: AugmentSettings, height: int, width: int
) -> torch.Tensor:
    """(n, 2, 3) sampling matrices for ``affine_grid``: rotation, shear, scale and shift.

    ``affine_grid`` maps output coordinates to input coordinates in [-1, 1] units, so the
    content appears scaled by ``s`` when the sampling matrix scales by ``1 / s``; a shift of
    ``d`` pixels is ``2 d / side`` in those units.
    """
    angle = torch.deg2rad(_symmetric(params[:, _ANGLE], settings.max_rotation_degrees))
    shear = torch.deg2rad(_symmetric(params[:, _SHEAR], settings.max_shear_degrees))
    scale = 1.0 + _symmetric(params[:, _SCALE], settings.max_scale_change)
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    inverse_scale = 1.0 / scale
    # [[cos, -sin], [sin, cos]] @ [[1, tan], [0, 1]] / scale
    theta = torch.empty(params.shape[0], 2, 3, dtype=params.dtype, device=params.device)
    theta[:, 0, 0] = cos * inverse_scale
    theta[:, 0, 1] = (cos * tan - sin) * inverse_scale
    theta[:, 1, 0] = sin * inverse_scale
    theta[:, 1, 1] = (sin * tan + cos) * inverse_scale
    theta[:, 0, 2] = _symmetric(params[:, _DX], settings.max_shift_pixels) * 2 / width
    theta[:, 1, 2] = _symmetric(params[:, _DY], settings.max_shift_pixels) * 2 / height
    return theta


def _upsampling_matrix(points: int, size: int, device: torch.device) -> torch.Tensor:
    """(size, points): bicubic interpolation from ``points`` control values to ``size`` pixels.

    Bicubic upsampling is linear, so it is a matrix; the grid below applies it as part of one
    matrix product instead of an ``F.interpolate`` call per batch.
    """
    basis = torch.eye(points, device=device).view(points, 1, points, 1)
    curves = F.interpolate(basis, size=(size, 1), mode="bicubic", align_corners=True)
    return curves[:, 0, :, 0].t().contiguous()


def elastic_offsets(
    params: torch.Tensor, settings: AugmentSettings, generator: torch.Generator, side: int
) -> torch.Tensor:
    """(n, 2, P*P) random control-point offsets in ``grid_sample`` units (x row, y row); zero
    for the samples not chosen for elastic distortion. ``side`` is the image side in pixels."""
    n, points = params.shape[0], settings.elastic_control_points
    noise = torch.rand(n, 2, points * points, generator=generator, device=generator.device)
    noise = noise.to(device=params.device, dtype=params.dtype)
    chosen = (params[:, _ELASTIC] < settings.elastic_probability).to(params.dtype)
    pixels = _symmetric(noise, settings.elastic_pixels) * chosen.view(n, 1, 1)
    return pixels * (2.0 / side)  # pixels to [-1, 1] units


_BASES: dict[tuple[int, int, torch.device, torch.dtype], torch.Tensor] = {}


def _grid_basis(side: int, points: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(3 + P*P, side*side): pixel centres ``(x, y, 1)`` in [-1, 1] units stacked on the
    bicubic upsampling of P x P control points. The same for every batch of a run: cached."""
    key = (side, points, device, dtype)
    if key not in _BASES:
        centres = (torch.arange(side, dtype=dtype, device=device) * 2 + 1) / side - 1
        grid_y, grid_x = torch.meshgrid(centres, centres, indexing="ij")
        upsample = _upsampling_matrix(points, side, device).to(dtype)  # (side, P)
        _BASES[key] = torch.cat(
            [
                torch.stack([grid_x, grid_y, torch.ones_like(grid_x)]).view(3, -1),
                torch.kron(upsample, upsample).t(),  # (P*P, side*side): control points to pixels
            ]
        )
    return _BASES[key]


def sampling_grid(
    params: torch.Tensor,
    settings: AugmentSettings,
    generator: torch.Generator,
    height: int,
    width: int,
) -> torch.Tensor:
    """(n, H, W, 2) ``grid_sample`` grid: each pixel centre moved by the sample's affine map
    plus its smooth elastic displacement (control-point offsets upsampled bicubically).

    Both are linear in per-sample coefficients, so the whole batch's grid is one matrix
    product ``[theta | offsets] @ [pixel centres | upsampling]``: ~5x faster on a CPU than
    ``affine_grid`` plus ``F.interpolate`` (same grid to 1e-7).
    """
    if height != width:
        raise ValueError(f"augmentation expects square images, got {height}x{width}")
    n = params.shape[0]
    theta = affine_matrices(params, settings, height, width)  # (n, 2, 3)
    coefficients = torch.cat([theta, elastic_offsets(params, settings, generator, width)], dim=2)
    basis = _grid_basis(width, settings.elastic_control_points, params.device, params.dtype)
    grid = coefficients.reshape(n * 2, -1) @ basis  # (2n, H*W)
    return grid.view(n, 2, height, width).permute(0, 2, 3, 1)


def _max3(ink: torch.Tensor, dim: int) -> torch.Tensor:
    """The maximum of each pixel and its two neighbours along ``dim`` (-1 or -2); 0 outside."""
    padded = F.pad(ink, (1, 1, 0, 0) if dim == -1 else (0, 0, 1, 1))
    size = ink.shape[dim]
    left, middle, right = (padded.narrow(dim, start, size) for start in range(3))
    return torch.maximum(torch.maximum(left, middle), right)


def dilate(ink: torch.Tensor) -> torch.Tensor:
    """3x3 grey dilation (= ``max_pool2d(ink, 3, 1, 1)``), separably: ~18x faster on a CPU."""
    return _max3(_max3(ink, -1), -2)


def erode(ink: torch.Tensor) -> torch.Tensor:
    """3x3 grey erosion of ink >= 0: the zero padding of ``-ink`` makes the border background."""
    return -dilate(-ink)


def change_thickness(
    ink: torch.Tensor, params: torch.Tensor, settings: AugmentSettings
) -> torch.Tensor:
    """Thicker or thinner strokes per sample, on (n, 1, H, W) ink with background 0.

    Dilation is a 3x3 max filter, erosion a 3x3 min filter; each chosen sample moves from its
    original towards one of them by a random amount, so stroke widths vary continuously rather
    than in whole-pixel steps. A thinned digit keeps its brightest value, as the app's
    preprocessing (which stretches ink to full contrast) would give it.
    """
    n = ink.shape[0]
    choice = params[:, _THICK]
    thicker = choice < settings.thicker_probability
    thinner = (choice >= settings.thicker_probability) & (
        choice < settings.thicker_probability + settings.thinner_probability
    )
    # Erosion is the dilation of the negated image: one dilation serves both directions.
    sign = torch.where(thicker, 1.0, -1.0).to(ink.dtype).view(n, 1, 1, 1)
    once = sign * dilate(sign * ink)
    amount = (0.3 + 0.7 * params[:, _AMOUNT]) * torch.where(
        thicker, settings.max_thicker, settings.max_thinner
    )
    amount = (amount * (thicker | thinner).to(ink.dtype)).view(n, 1, 1, 1)
    out = torch.lerp(ink, once, amount.clamp(max=1.0))
    if max(settings.max_thicker, settings.max_thinner) > 1:  # up to a second 3x3 step
        twice = sign * dilate(sign * once)
        out = torch.lerp(out, twice, (amount - 1).clamp(min=0.0))
    peak_before = ink.amax(dim=(1, 2, 3), keepdim=True)
    peak_after = out.amax(dim=(1, 2, 3), keepdim=True)
    return out * (peak_before / peak_after.clamp(min=1e-6))


# The app's preprocessing (core.inference.preprocess): ink above this share of the peak counts
# for the crop; the longer side of the crop becomes BOX pixels; the centre of mass goes to pixel
# CENTRE (MNIST's digits have it at 14.0, not at the geometric 13.5).
INK_THRESHOLD, BOX, CENTRE = 0.15, 20, 14.0


def refit(ink: torch.Tensor, whole_pixels: bool = True) -> torch.Tensor:
    """Each (n, 1, S, S) ink image (background 0) cropped to its ink, scaled so that the longer
    side is ``BOX`` pixels and placed with its centre of mass at pixel ``CENTRE``.

    What ``canvas_to_input`` does to every picture the app reads, done on a batch with one
    ``grid_sample``: without it, the random shift and scale put digits where the app never
    puts them, and a model trained on them reads fewer of the digits it is really shown.
    Blank images come back unchanged. ``whole_pixels``: the offset between input and output
    grids is rounded to a whole pixel (the centre of mass lands within half a pixel of
    ``CENTRE``), so a digit already fitted comes back exactly as it was.
    """
    n, _, side, _ = ink.shape
    peak = ink.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6)
    mask = (ink / peak > INK_THRESHOLD)[:, 0]
    index = torch.arange(side, device=ink.device, dtype=ink.dtype)
    extents, centres = [], []
    for axis in (1, 2):  # x (a column has ink: any over rows), then y (any over columns)
        present = mask.any(dim=axis)
        first = torch.where(present, index, float(side)).amin(dim=1)
        last = torch.where(present, index, -1.0).amax(dim=1)
        profile = ink[:, 0].sum(dim=axis)
        extents.append(last - first + 1)
        centres.append((profile @ index) / profile.sum(dim=1).clamp(min=1e-6))
    blank = ~mask.flatten(1).any(dim=1)
    scale = BOX / torch.maximum(extents[0], extents[1]).clamp(min=1.0)  # output px per input px
    scale = torch.where(blank, torch.ones_like(scale), scale)
    grids = []
    for centre in centres:
        centre = torch.where(blank, torch.full_like(centre, CENTRE), centre)
        offset = centre - CENTRE / scale  # input px under output pixel 0
        offset = torch.where(blank | ~torch.tensor(whole_pixels), offset, offset.round())
        source = offset[:, None] + index[None, :] / scale[:, None]  # input px
        grids.append((2 * source + 1) / side - 1)  # grid_sample units, align_corners=False
    gx, gy = grids
    grid = torch.stack(
        [gx[:, None, :].expand(n, side, side), gy[:, :, None].expand(n, side, side)], 3
    )
    return F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def augment_batch(
    images: torch.Tensor,
    generator: torch.Generator,
    settings: AugmentSettings = DEFAULT_SETTINGS,
    background: float = 0.0,
) -> torch.Tensor:
    """Randomly varied copies of a batch of digits, same shape, dtype and device.

    ``images``: (n, H, W), (n, 1, H, W) or flattened square (n, H*W) float images with ink
    brighter than ``background`` (0 for 0..1 images, ``NORMALIZED_BACKGROUND`` for training
    inputs). Random numbers come from ``generator`` only; a generator on the images' device
    avoids copying the parameters there. Labels are untouched: every augmentation keeps a digit
    the digit it was.
    """
    if not images.is_floating_point():
        raise TypeError(f"augment_batch needs float images, got {images.dtype}")
    shape = images.shape
    if images.dim() == 2:
        side = math.isqrt(shape[1])
        if side * side != shape[1]:
            raise ValueError(f"flattened images must be square, got {shape[1]} values each")
        x = images.reshape(shape[0], 1, side, side)
    elif images.dim() == 3:
        x = images.unsqueeze(1)
    elif images.dim() == 4 and shape[1] == 1:
        x = images
    else:
        raise ValueError(f"expected (n, H, W), (n, 1, H, W) or (n, H*W) images, got {tuple(shape)}")
    n, _, height, width = x.shape
    if n == 0:
        return images.clone()
    params = _draw_parameters(n, generator).to(device=images.device, dtype=images.dtype)
    ink = change_thickness(x - background, params, settings)
    grid = sampling_grid(params, settings, generator, height, width)
    warped = F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if settings.refit:
        warped = refit(warped, settings.refit_whole_pixels)
        if settings.thin:
            warped = thin_strokes(warped)
    return (warped + background).reshape(shape)


class BatchAugmenter:
    """Seeded augmentation for one training run: holds the generator on the training device.

    The trainer calls ``with_copies`` on each batch of normalised inputs (any shape
    ``augment_batch`` accepts); the stream of random numbers is separate from the shuffling's,
    so switching augmentation on does not change the order in which digits are seen.
    """

    def __init__(
        self,
        seed: int,
        device: torch.device | str = "cpu",
        settings: AugmentSettings = DEFAULT_SETTINGS,
        background: float = NORMALIZED_BACKGROUND,
    ) -> None:
        self.settings = settings.validate()
        self.background = background
        self.generator = torch.Generator(device=torch.device(device)).manual_seed(seed)

    # The loss of a batch with copies is the sum of the two halves' mean losses, not the mean
    # over both: the clean digits then move the weights exactly as far as in a run without
    # augmentation and the varied copies add their own step (see the module docstring).
    loss_weight = 2.0

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        return augment_batch(batch, self.generator, self.settings, self.background)

    def with_copies(
        self, batch: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch followed by a varied copy of each digit, and the labels twice.

        Batch augmentation (Hoffer et al., "Augment your batch", CVPR 2020): replacing the
        digits by varied copies slowed the fit of a short run more than the variation helped;
        training on both keeps the clean fit and adds the variation (twice the compute per
        step, the same number of steps). Train with ``loss_weight`` times the mean loss.
        """
        return torch.cat([batch, self(batch)]), torch.cat([labels, labels])


def augment_examples(
    images: torch.Tensor,
    n: int,
    seed: int,
    settings: AugmentSettings = DEFAULT_SETTINGS,
) -> torch.Tensor:
    """``n`` augmented examples to show a learner: float32 (n, H, W) in 0..1, on the CPU.

    ``images`` is (N, H, W) uint8 (0..255) or float in 0..1, ink high; example ``i`` is a
    varied copy of ``images[i % N]``, so showing ``images[:n]`` beside them pairs each
    original with its copy. The same seed gives the same strip.
    """
    if images.dim() != 3 or images.shape[0] == 0:
        raise ValueError(f"expected (N, H, W) images with N >= 1, got {tuple(images.shape)}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    source = images.detach().to("cpu")
    source = source.to(torch.float32) / 255.0 if source.dtype == torch.uint8 else source.float()
    picks = torch.arange(n) % source.shape[0]
    generator = torch.Generator().manual_seed(seed)
    out = augment_batch(source[picks], generator, settings.validate(), background=0.0)
    return out.clamp_(0.0, 1.0)
