"""The model registry: one place that knows how to build every network the app trains.

The output head follows the loss: ``nll`` models end in ``log_softmax`` (as the seed's SimpleNet),
``ce`` models return raw logits. ``softmax`` of either gives the same probabilities, which is
what inference relies on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import UserError

LOSS_CHOICES = ("nll", "ce")


class SimpleNet(nn.Module):
    """The seed notebook's 784-128-64-10 MLP with ReLU."""

    def __init__(self, log_probs: bool = True) -> None:
        super().__init__()
        self.log_probs = log_probs
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return F.log_softmax(x, dim=1) if self.log_probs else x


class SmallCNN(nn.Module):
    """Two conv layers, pooling, dropout, two linear layers (after PyTorch's examples/mnist).

    Narrower than the example (16/32 channels, pooling after each conv) so a CPU trains it
    quickly and the Draw tab answers within a few milliseconds.
    """

    def __init__(self, log_probs: bool = True) -> None:
        super().__init__()
        self.log_probs = log_probs
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)  # 28x28 -> pool -> 14x14
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)  # 14x14 -> pool -> 7x7
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.dropout2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        # relu(max_pool(x)) == max_pool(relu(x)) exactly (relu is monotonic); pooling first
        # runs the relu and its backward on a quarter of the values: ~15% of a CPU step.
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = self.dropout1(torch.flatten(x, 1))
        x = self.dropout2(F.relu(self.fc1(x)))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1) if self.log_probs else x


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    description: str
    factory: Callable[[bool], nn.Module]


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec(
        "mlp",
        "MLP 784-128-64-10",
        "The seed's SimpleNet: flattens the image, two hidden ReLU layers. ~110k weights; "
        "fast, but blind to where strokes sit relative to each other.",
        SimpleNet,
    ),
    "cnn": ModelSpec(
        "cnn",
        "Small CNN",
        "Two 5x5 conv layers with max-pooling, dropout, two linear layers. Sees local stroke "
        "shapes, so it tolerates small shifts better than the MLP.",
        SmallCNN,
    ),
}


def build_model(name: str, loss: str = "nll") -> nn.Module:
    """A fresh, randomly initialised model whose output head suits ``loss``."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if loss not in LOSS_CHOICES:
        raise UserError(f"unknown loss {loss!r}; choose one of {', '.join(LOSS_CHOICES)}")
    return MODELS[name].factory(loss == "nll")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
