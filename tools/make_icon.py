"""Draw Digit Lab's icon: a real MNIST digit from the bundled sample, as big pixels on a tile.

    python tools/make_icon.py            # writes resources/icons/digit-lab.png (+ .ico, .icns)

The output is committed; rerun only to change the design. Deterministic: same sample, same icon.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = 512  # drawn at 512 and downsampled, so edges are smooth at every size
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
TOP, BOTTOM = (38, 52, 110), (18, 116, 140)  # indigo to teal
INK_LOW, INK_HIGH = np.array([255, 170, 60]), np.array([255, 250, 235])  # amber to warm white


def pick_digit(label: int = 7) -> np.ndarray:
    """The first test digit with ``label`` from the bundled sample, uint8 28x28."""
    from core.data.mnist import load_sample

    data = load_sample()
    index = int((data.test_labels == label).nonzero()[0])
    return data.test_images[index].numpy()


def draw_icon(digit: np.ndarray) -> Image.Image:
    tile = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    gradient = np.linspace(0, 1, SIZE)[:, None, None]
    colours = (np.array(TOP) * (1 - gradient) + np.array(BOTTOM) * gradient).astype(np.uint8)
    background = Image.fromarray(np.repeat(colours, SIZE, axis=1), "RGB").convert("RGBA")
    mask = Image.new("L", (SIZE, SIZE), 0)
    margin = SIZE // 32
    ImageDraw.Draw(mask).rounded_rectangle(
        (margin, margin, SIZE - margin, SIZE - margin), radius=SIZE // 5, fill=255
    )
    tile.paste(background, (0, 0), mask)

    # Crop the digit to its ink (plus one pixel) so it fills the tile, then draw each pixel.
    rows = np.flatnonzero(digit.max(axis=1) > 30)
    cols = np.flatnonzero(digit.max(axis=0) > 30)
    top, bottom = max(rows[0] - 1, 0), min(rows[-1] + 2, 28)
    left, right = max(cols[0] - 1, 0), min(cols[-1] + 2, 28)
    crop = digit[top:bottom, left:right].astype(np.float64) / 255.0
    cell = int(SIZE * 0.72 / max(crop.shape))
    origin_x = (SIZE - cell * crop.shape[1]) // 2
    origin_y = (SIZE - cell * crop.shape[0]) // 2
    ink = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(ink)
    gap = max(cell // 10, 1)
    for (row, col), value in np.ndenumerate(crop):
        if value < 0.12:
            continue
        colour = INK_LOW + (INK_HIGH - INK_LOW) * value
        alpha = int(90 + 165 * value)
        x0, y0 = origin_x + col * cell, origin_y + row * cell
        pen.rounded_rectangle(
            (x0 + gap, y0 + gap, x0 + cell - gap, y0 + cell - gap),
            radius=cell // 5,
            fill=(*colour.astype(int).tolist(), alpha),
        )
    glow = ink.filter(ImageFilter.GaussianBlur(SIZE // 40))
    tile.alpha_composite(glow)
    tile.alpha_composite(ink)
    return tile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "icons")
    parser.add_argument("--digit", type=int, default=7, help="which digit to draw (0-9)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    icon = draw_icon(pick_digit(args.digit))
    icon.resize((256, 256), Image.LANCZOS).save(args.out / "digit-lab.png", optimize=True)
    icon.save(args.out / "digit-lab.ico", sizes=ICO_SIZES)
    icon.save(args.out / "digit-lab.icns")
    for name in ("digit-lab.png", "digit-lab.ico", "digit-lab.icns"):
        print(f"wrote {args.out / name} ({(args.out / name).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
