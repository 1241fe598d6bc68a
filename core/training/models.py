"""The model registry: one place that knows how to build every network the app trains.

The output head follows the loss: ``nll`` models end in ``log_softmax`` (as the seed's SimpleNet),
``ce`` models return raw logits. ``softmax`` of either gives the same probabilities, which is
what inference relies on.

Every model also declares its *stages* (``StageSpec``): the layers a learner would name, each a
named submodule whose output a forward hook can read. The inspector (``core.inspection.activations``), the
``inspect``/``map`` commands and the "Inside the network" tab render from these declarations
alone, so a new model needs a registry entry and no new inspector code. Activations and pooling
are modules (``nn.ReLU``, ``nn.MaxPool2d``) rather than ``F.relu`` calls for that reason; they
hold no parameters, so checkpoint keys are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from core.errors import UserError

LOSS_CHOICES = ("nll", "ce")

StageKind = Literal["conv", "dense", "logits"]


@dataclass(frozen=True)
class StageSpec:
    """One inspectable stage of a model.

    ``module`` is the submodule whose output is the stage's values (after its activation);
    ``weights`` the submodule holding each unit's incoming weights (its template); ``activation``
    names the nonlinearity applied by ``module`` ("relu", "sigmoid") or is ``None`` (no ReLUs:
    the active fraction is null). ``about`` is the teaching sentence the app shows.
    """

    name: str
    module: str
    kind: StageKind
    weights: str
    activation: str | None
    about: str = ""


class SimpleNet(nn.Module):
    """The seed notebook's 784-128-64-10 MLP with ReLU."""

    def __init__(self, log_probs: bool = True) -> None:
        super().__init__()
        self.log_probs = log_probs
        self.fc1 = nn.Linear(28 * 28, 128)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(128, 64)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)
        x = self.relu1(self.fc1(x))
        x = self.relu2(self.fc2(x))
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
        self.pool1 = nn.MaxPool2d(2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)  # 14x14 -> pool -> 7x7
        self.pool2 = nn.MaxPool2d(2)
        self.relu2 = nn.ReLU()
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.relu3 = nn.ReLU()
        self.dropout2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        # relu(max_pool(x)) == max_pool(relu(x)) exactly (relu is monotonic); pooling first
        # runs the relu and its backward on a quarter of the values: ~15% of a CPU step.
        x = self.relu1(self.pool1(self.conv1(x)))
        x = self.relu2(self.pool2(self.conv2(x)))
        x = self.dropout1(torch.flatten(x, 1))
        x = self.dropout2(self.relu3(self.fc1(x)))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1) if self.log_probs else x


class BatchNormCNN(nn.Module):
    """Three conv blocks with batch norm (32/64/128 channels) and a linear head: the default model.

    Stronger than ``SmallCNN`` where it matters for other hands (more filters, normalised
    activations that train quickly with OneCycle), yet smaller (114k weights, ~460 KB) and still
    well under a millisecond per drawn digit on a CPU. Each block is conv -> batch norm ->
    max-pool -> ReLU (pooling before the ReLU gives the same values for less work).
    """

    def __init__(self, log_probs: bool = True) -> None:
        super().__init__()
        self.log_probs = log_probs
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2, bias=False)  # 28x28 -> pool -> 14x14
        self.bn1 = nn.BatchNorm2d(32)
        self.pool1 = nn.MaxPool2d(2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)  # 14x14 -> pool -> 7x7
        self.bn2 = nn.BatchNorm2d(64)
        self.pool2 = nn.MaxPool2d(2)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1, bias=False)  # 7x7 -> pool -> 4x4
        self.bn3 = nn.BatchNorm2d(128)
        self.pool3 = nn.MaxPool2d(2, ceil_mode=True)
        self.relu3 = nn.ReLU()
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(128 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = self.relu1(self.pool1(self.bn1(self.conv1(x))))
        x = self.relu2(self.pool2(self.bn2(self.conv2(x))))
        x = self.relu3(self.pool3(self.bn3(self.conv3(x))))
        x = self.fc(self.dropout(torch.flatten(x, 1)))
        return F.log_softmax(x, dim=1) if self.log_probs else x


class FastCNN(nn.Module):
    """The speed run's net: two small conv layers without padding and one hidden linear layer.

    After tuomaso/train_mnist_fast's net (24/32 filters, 256 units, ~2.5 MFLOP a digit) made
    narrower (16/32 filters, 128 units): 1.6 MFLOP a digit (``flops_per_digit``), a quarter of
    ``SmallCNN``'s, and it still reaches 99 % in one epoch of full MNIST with OneCycle, Adam and
    label smoothing (``docs/measured.md``). No dropout: one epoch is too short to overfit.
    """

    def __init__(self, log_probs: bool = True) -> None:
        super().__init__()
        self.log_probs = log_probs
        self.conv1 = nn.Conv2d(1, 16, 5)  # 28x28 -> 24x24 -> pool -> 12x12
        self.pool1 = nn.MaxPool2d(2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3)  # 12x12 -> 10x10 -> pool -> 5x5
        self.pool2 = nn.MaxPool2d(2)
        self.relu2 = nn.ReLU()
        self.fc1 = nn.Linear(32 * 5 * 5, 128)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = self.relu1(self.pool1(self.conv1(x)))  # pooling first: the same values, less work
        x = self.relu2(self.pool2(self.conv2(x)))
        x = self.fc2(self.relu3(self.fc1(torch.flatten(x, 1))))
        return F.log_softmax(x, dim=1) if self.log_probs else x


def flops_per_digit(model: nn.Module) -> int:
    """Floating-point operations of one digit's forward pass through ``model``'s convolutions
    and linear layers (2 per multiply-add; biases, pooling and activations left out, as such
    counts usually are). Measured by running one blank digit through forward hooks."""
    counted = 0

    def count(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal counted
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            counted += 2 * output[0].numel() * per_output
        elif isinstance(module, nn.Linear):
            counted += 2 * module.in_features * module.out_features

    hooks = [
        m.register_forward_hook(count)
        for m in model.modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return counted


DEEP_SIGMOID_WIDTHS = (128, 64, 64, 64, 64, 64, 64)


class DeepSigmoidNet(nn.Module):
    """A lesson, not a good model: seven sigmoid hidden layers (784-128-64x6-10).

    A sigmoid's slope is at most 0.25, so each layer shrinks the gradient flowing back: the first
    layers barely learn (vanishing gradients), which the gradient-flow view shows next to the
    ReLU MLP. Hidden layers are ``fc1..fc7`` with ``act1..act7``; the output is ``out``.
    """

    def __init__(self, log_probs: bool = True) -> None:
        super().__init__()
        self.log_probs = log_probs
        widths = (28 * 28, *DEEP_SIGMOID_WIDTHS)
        for index in range(1, len(widths)):
            setattr(self, f"fc{index}", nn.Linear(widths[index - 1], widths[index]))
            setattr(self, f"act{index}", nn.Sigmoid())
        self.depth = len(widths) - 1
        self.out = nn.Linear(widths[-1], 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)
        for index in range(1, self.depth + 1):
            x = getattr(self, f"act{index}")(getattr(self, f"fc{index}")(x))
        x = self.out(x)
        return F.log_softmax(x, dim=1) if self.log_probs else x


def _dense(name: str, module: str, weights: str, activation: str | None, about: str) -> StageSpec:
    return StageSpec(name, module, "dense", weights, activation, about)


LOGITS_ABOUT = (
    "One score per digit before softmax; softmax turns them into probabilities that add up to 1."
)

MLP_STAGES = (
    _dense(
        "fc1",
        "relu1",
        "fc1",
        "relu",
        "128 units, each a weighted sum of all 784 pixels, then ReLU. Hover a unit: its 784 "
        "weights drawn as a 28x28 picture are the pattern it looks for.",
    ),
    _dense("fc2", "relu2", "fc2", "relu", "64 units combining the 128 below, then ReLU."),
    StageSpec("logits", "fc3", "logits", "fc3", None, LOGITS_ABOUT),
)

CNN_STAGES = (
    StageSpec(
        "conv1_maps",
        "conv1",
        "conv",
        "conv1",
        None,
        "16 feature maps of 28x28: each 5x5 filter slid over the picture, before pooling and "
        "ReLU (negative where the filter's pattern is absent).",
    ),
    StageSpec(
        "conv1",
        "relu1",
        "conv",
        "conv1",
        "relu",
        "The same 16 maps after 2x2 max-pooling and ReLU: 14x14, only where the pattern is.",
    ),
    StageSpec(
        "conv2",
        "relu2",
        "conv",
        "conv2",
        "relu",
        "32 maps of 7x7: each filter combines all 16 maps below into larger stroke shapes.",
    ),
    _dense("fc1", "relu3", "fc1", "relu", "128 units reading all 32x7x7 values, then ReLU."),
    StageSpec("logits", "fc2", "logits", "fc2", None, LOGITS_ABOUT),
)

BN_CNN_STAGES = (
    StageSpec(
        "conv1",
        "relu1",
        "conv",
        "conv1",
        "relu",
        "32 maps of 14x14: each 5x5 filter slid over the picture, batch-normalised, "
        "2x2 max-pooled, then ReLU.",
    ),
    StageSpec(
        "conv2",
        "relu2",
        "conv",
        "conv2",
        "relu",
        "64 maps of 7x7: each 3x3 filter combines all 32 maps below into stroke parts.",
    ),
    StageSpec(
        "conv3",
        "relu3",
        "conv",
        "conv3",
        "relu",
        "128 maps of 4x4: whole strokes and loops, each over a quarter of the digit.",
    ),
    StageSpec("logits", "fc", "logits", "fc", None, LOGITS_ABOUT),
)

FAST_CNN_STAGES = (
    StageSpec(
        "conv1",
        "relu1",
        "conv",
        "conv1",
        "relu",
        "16 maps of 12x12: each 5x5 filter slid over the picture (no padding: 24x24), "
        "2x2 max-pooled, then ReLU.",
    ),
    StageSpec(
        "conv2",
        "relu2",
        "conv",
        "conv2",
        "relu",
        "32 maps of 5x5: each 3x3 filter combines all 16 maps below into stroke parts.",
    ),
    _dense("fc1", "relu3", "fc1", "relu", "128 units reading all 32x5x5 values, then ReLU."),
    StageSpec("logits", "fc2", "logits", "fc2", None, LOGITS_ABOUT),
)

DEEP_SIGMOID_STAGES = (
    *(
        _dense(
            f"fc{i}",
            f"act{i}",
            f"fc{i}",
            "sigmoid",
            f"Hidden layer {i} of {len(DEEP_SIGMOID_WIDTHS)}, sigmoid (values in 0..1).",
        )
        for i in range(1, len(DEEP_SIGMOID_WIDTHS) + 1)
    ),
    StageSpec("logits", "out", "logits", "out", None, LOGITS_ABOUT),
)


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry. ``stages`` are what the inspector shows, in forward order; the map uses
    the last stage before the logits (``embedding_stage``)."""

    name: str
    title: str
    description: str
    factory: Callable[[bool], nn.Module]
    stages: tuple[StageSpec, ...] = field(default=())

    @property
    def embedding_stage(self) -> StageSpec | None:
        hidden = [stage for stage in self.stages if stage.kind != "logits"]
        return hidden[-1] if hidden else None


MODELS: dict[str, ModelSpec] = {
    "mlp": ModelSpec(
        "mlp",
        "MLP 784-128-64-10",
        "The seed's SimpleNet: flattens the image, two hidden ReLU layers. ~110k weights; "
        "fast, but blind to where strokes sit relative to each other.",
        SimpleNet,
        MLP_STAGES,
    ),
    "cnn": ModelSpec(
        "cnn",
        "Small CNN",
        "Two 5x5 conv layers with max-pooling, dropout, two linear layers. Sees local stroke "
        "shapes, so it tolerates small shifts better than the MLP.",
        SmallCNN,
        CNN_STAGES,
    ),
    "cnn-bn": ModelSpec(
        "cnn-bn",
        "CNN with batch norm",
        "Three conv blocks (32/64/128 filters) with batch normalisation, then one linear "
        "layer: the bundled default model. Slower to train than the small CNN, more accurate, "
        "and with augmentation it reads other people's handwriting better.",
        BatchNormCNN,
        BN_CNN_STAGES,
    ),
    "cnn-fast": ModelSpec(
        "cnn-fast",
        "Fast CNN (speed run)",
        "Two small conv layers (16/32 filters, no padding) and 128 hidden units: 1.6 MFLOP a "
        "digit, a quarter of the small CNN's, built to reach 99 % in one epoch on a CPU.",
        FastCNN,
        FAST_CNN_STAGES,
    ),
    "deep-sigmoid": ModelSpec(
        "deep-sigmoid",
        "Deep sigmoid MLP (lesson)",
        "Seven sigmoid hidden layers: trains slowly because its gradients vanish on the way "
        "back to the first layers. Compare its gradient flow with the ReLU MLP's.",
        DeepSigmoidNet,
        DEEP_SIGMOID_STAGES,
    ),
}


def build_model(name: str, loss: str = "nll") -> nn.Module:
    """A fresh, randomly initialised model whose output head suits ``loss``."""
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if loss not in LOSS_CHOICES:
        raise UserError(f"unknown loss {loss!r}; choose one of {', '.join(LOSS_CHOICES)}")
    return MODELS[name].factory(loss == "nll")
