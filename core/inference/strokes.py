"""Stroke width: thin strokes that are far thicker than MNIST's, after a digit is fitted and centred.

MNIST's writers used a pen: fitted into 20x20, their strokes are about 2.2 px wide (median of
the bundled sample; 90 % under 2.8 px). The canvas's pen, a marker, a digit drawn small and
enlarged, or another collection's writers give strokes of 3-6 px in the same 20x20 box
(UCI optdigits drawn as canvas pictures: median 3.3 px, drawn thick 4.2 px), and a model that
never saw such strokes reads a fat 1 as an 8 and a 9 with a filled loop as a 3. Resizing cannot
fix it (the box is already 20 px); eroding the ink can: a 3x3 grey erosion takes about one pixel
off each side of a stroke.

``thin_strokes`` measures the width of the fitted, centred digit and erodes it towards
``TARGET_WIDTH`` (by a fraction of one or two erosions, so widths change continuously), then
stretches the ink back to its peak as the preprocessing does. Digits at or under the target --
most of MNIST -- are returned unchanged. Measured (``benchmarks/other_hands.py``, 1,797 UCI
digits): the bundled model 92.8 % -> 95.2 %, drawn thick 90.4 % -> 94.9 %; a CNN trained on the
sample (5 epochs, seed 1) 79.1 % -> 85.5 %, thick 62.3 % -> 84.0 %. The cost, on 1,000 MNIST
digits the bundled model never saw, redrawn (``benchmarks/draw_robustness.py --held-out``): drawn
thick 99.4 % -> 98.8 % (erosion cuts a digit's thinnest joins), the five other ways +0.1-0.2.

One torch function for every caller: the app's preprocessing (``canvas_to_input``), the
attack's differentiable copy of it (``core.inference.attack.model_input``: the width is a count,
so it passes no gradient, the erosion and the stretch do) and the training augmentation's refit
(``core.data.augment``), so that a model trains on what the app shows it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Strokes wider than this (pixels, in the 28x28 input) are thinned towards it: MNIST's median
# is 2.2 and its 90th percentile 2.8, so MNIST's own digits are almost never touched. (2.6 read
# other hands 0.3 points better with a sample-trained CNN, but MNIST digits drawn thick 0.2
# worse with the bundled model: erosion cuts a digit's thinnest joins.)
TARGET_WIDTH = 2.8
MAX_EROSIONS = 2.0  # a 6-7 px stroke (drawn small with the fat pen) comes down two steps
STROKE_LEVEL = 0.5  # a pixel is part of a stroke above half the peak


def _erode(ink: torch.Tensor) -> torch.Tensor:
    """3x3 grey erosion of (n, 1, H, W) ink >= 0; outside the picture is background (0)."""
    return -F.max_pool2d(-F.pad(ink, (1, 1, 1, 1)), 3, stride=1)


def stroke_width(ink: torch.Tensor) -> torch.Tensor:
    """(n,) mean stroke width in pixels of (n, 1, H, W) ink images (background 0, any peak).

    A stroke of width ``w`` and length ``L`` covers ``w L`` pixels; one 3x3 erosion removes its
    two edges, about ``2 L`` of them, so ``w ~ 2 * area / (area - eroded area)`` (on the pixels
    above ``STROKE_LEVEL`` of the peak). A blank image gives 0.
    """
    peak = ink.amax(dim=(1, 2, 3), keepdim=True)
    mask = (ink > STROKE_LEVEL * peak) & (peak > 0)
    mask = mask.to(ink.dtype)
    area = mask.sum(dim=(1, 2, 3))
    edge = area - _erode(mask).sum(dim=(1, 2, 3))
    return 2 * area / edge.clamp(min=1.0)


def thin_strokes(ink: torch.Tensor, target: float = TARGET_WIDTH) -> torch.Tensor:
    """(n, 1, H, W) ink (background 0) with strokes wider than ``target`` eroded towards it.

    One erosion narrows a stroke by about 2 px, so the amount is ``(width - target) / 2``
    erosions, at most ``MAX_EROSIONS``, blended continuously; the result is stretched back to
    the original peak. Images at or under ``target`` come back unchanged (bit for bit).
    """
    amount = ((stroke_width(ink) - target) / 2).clamp(0.0, MAX_EROSIONS).view(-1, 1, 1, 1)
    if not bool((amount > 0).any()):
        return ink
    once = _erode(ink)
    out = torch.lerp(ink, once, amount.clamp(max=1.0))
    out = torch.lerp(out, _erode(once), (amount - 1).clamp(min=0.0))
    peak = ink.amax(dim=(1, 2, 3), keepdim=True)
    left = out.amax(dim=(1, 2, 3), keepdim=True)
    out = out * (peak / left.clamp(min=1e-6))
    return torch.where((amount > 0) & (left > 0), out, ink)
