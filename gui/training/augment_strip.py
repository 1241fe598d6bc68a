"""A strip of augmented examples: what "Augment" does to the digits, shown beside the checkbox.

The top row is eight bundled digits as they are, the bottom row the copies one training batch
could see (core.data.augment, the same code the trainer runs). Clicking draws new copies.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QMouseEvent, QPixmap
from PySide6.QtWidgets import QLabel, QWidget

EXAMPLES = 8
SCALE = 2  # 28 px digits drawn at 56 px


class AugmentStrip(QLabel):
    """Originals over augmented copies; hidden until ``show_examples`` is called."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip(
            "Top: digits as they are. Bottom: the varied copies augmentation adds beside them\n"
            "in every batch (the model trains on both) — small turns and shear, an elastic\n"
            "wobble: the ways one hand differs from another. Then each copy is fitted into\n"
            "20×20 and centred, and strokes far thicker than MNIST's are thinned, as the Draw\n"
            "tab does to a drawing — so a shift or a size change does not show. Click for new\n"
            "copies."
        )
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._originals = None
        self.seed = 0
        self.hide()

    def show_examples(self, seed: int | None = None) -> None:
        from core.data.augment import augment_examples
        from core.data.mnist import load_sample

        if self._originals is None:
            self._originals = load_sample().train_images[:EXAMPLES]
        self.seed = self.seed + 1 if seed is None else seed
        copies = augment_examples(self._originals, EXAMPLES, self.seed).numpy()
        top = self._originals.numpy().astype(np.float32) / 255.0
        self.setPixmap(_strip_pixmap(top, copies))
        self.show()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt naming)
        self.show_examples()
        super().mousePressEvent(event)


def _strip_pixmap(top: np.ndarray, bottom: np.ndarray) -> QPixmap:
    """Two rows of digits (ink dark on paper, as the learner draws them), scaled up."""
    rows = [np.concatenate(list(images), axis=1) for images in (top, bottom)]
    grid = np.concatenate(rows, axis=0)
    pixels = np.ascontiguousarray(255 - np.clip(grid * 255, 0, 255).astype(np.uint8))
    height, width = pixels.shape
    image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(width * SCALE, height * SCALE)
