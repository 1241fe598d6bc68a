"""The digits in memory: ``MnistData``, a train and a test split of 28x28 uint8 images.

Its own module so that every reader of digits (IDX files in ``core.data.mnist``, folders of
pictures in ``core.data.folder_dataset``) can build one without importing the others; most
callers import these names from ``core.data.mnist``, which re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

IMAGE_SIDE = 28
NUM_CLASSES = 10
HELD_OUT_SEED = 20_171_101  # which training digits a run holds out (the same for every run)


@dataclass
class MnistData:
    """A train and a test split of 28x28 digits, decoded once and held in memory."""

    name: str  # "mnist" | "sample" | "synthetic"
    description: str  # for people, e.g. "MNIST (60,000 train / 10,000 test)"
    train_images: torch.Tensor  # uint8 (N, 28, 28), ink high, background 0
    train_labels: torch.Tensor  # int64 (N,)
    test_images: torch.Tensor
    test_labels: torch.Tensor

    @property
    def train_samples(self) -> int:
        return int(self.train_labels.shape[0])

    @property
    def test_samples(self) -> int:
        return int(self.test_labels.shape[0])

    def hold_out(self, count: int) -> tuple[MnistData, torch.Tensor, torch.Tensor]:
        """Split ``count`` training digits off: (the rest, their images, their labels).

        The held-out digits are a fixed random choice (seed ``HELD_OUT_SEED``, independent of
        the run's seed), so every run on the same data holds out the same digits; both parts
        keep the file order. ``count`` 0 returns self and empty tensors.
        """
        if count <= 0:
            empty = self.train_images[:0]
            return self, empty, self.train_labels[:0]
        order = torch.randperm(
            self.train_samples, generator=torch.Generator().manual_seed(HELD_OUT_SEED)
        )
        held = order[:count].sort().values
        kept = order[count:].sort().values
        rest = MnistData(
            self.name,
            self.description,
            self.train_images[kept],
            self.train_labels[kept],
            self.test_images,
            self.test_labels,
        )
        return rest, self.train_images[held].cpu(), self.train_labels[held].cpu()

    def to(self, device: torch.device | str) -> MnistData:
        """The same data on ``device`` (a no-op when it is already there)."""
        return MnistData(
            self.name,
            self.description,
            self.train_images.to(device),
            self.train_labels.to(device),
            self.test_images.to(device),
            self.test_labels.to(device),
        )
