"""Configuration, events and results of a training run: the contract between the trainer
and everything that watches it (CLI progress bar, GUI worker, tests, benchmarks).

Events carry plain Python data only (floats, ints, strings, lists), never live tensors, so they
can cross threads as queued Qt signals and be printed as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.device import DEVICE_CHOICES
from core.errors import UserError
from core.models import LOSS_CHOICES, MODELS

OPTIMIZER_CHOICES = ("sgd", "adam")
DATASET_CHOICES = ("auto", "mnist", "sample")


@dataclass
class TrainConfig:
    """Every setting of a run. Defaults are the seed notebook's: MLP, 5 epochs, batch 64, SGD."""

    model: str = "mlp"
    loss: str = "nll"
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 5
    seed: int = 1
    device: str = "auto"
    dataset: str = "auto"
    data_dir: str | None = None
    # Send a BatchEvent every N batches (1 = every batch). Each report is one device sync.
    report_every: int = 1
    # CPU intra-op threads for the run; 0 = automatic (see core.trainer.choose_threads).
    threads: int = 0

    def validate(self) -> TrainConfig:
        """Raise ``UserError`` naming the first bad setting; return self for chaining."""
        checks = [
            (
                self.model in MODELS,
                f"unknown model {self.model!r}; choose one of {', '.join(MODELS)}",
            ),
            (self.loss in LOSS_CHOICES, f"unknown loss {self.loss!r}; choose nll or ce"),
            (
                self.optimizer in OPTIMIZER_CHOICES,
                f"unknown optimizer {self.optimizer!r}; choose sgd or adam",
            ),
            (self.device in DEVICE_CHOICES, f"unknown device {self.device!r}"),
            (
                self.dataset in DATASET_CHOICES,
                f"unknown dataset {self.dataset!r}; choose auto, mnist or sample",
            ),
            (0 < self.lr <= 10, f"learning rate must be in (0, 10], got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (1 <= self.batch_size <= 65536, f"batch size must be 1..65536, got {self.batch_size}"),
            (1 <= self.epochs <= 1000, f"epochs must be 1..1000, got {self.epochs}"),
            (0 <= self.seed < 2**63, f"seed must be 0..2**63-1, got {self.seed}"),
            (self.report_every >= 1, f"report_every must be >= 1, got {self.report_every}"),
            (
                0 <= self.threads <= 256,
                f"threads must be 0 (automatic) or 1..256, got {self.threads}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunStarted:
    config: TrainConfig
    device: str  # e.g. "cpu (2 threads)"
    dataset: str  # e.g. "MNIST (60,000 train / 10,000 test)" or "bundled sample"
    train_samples: int
    test_samples: int
    steps_per_epoch: int
    total_steps: int


@dataclass
class BatchEvent:
    epoch: int  # 1-based
    step: int  # global step, 1-based
    total_steps: int
    loss: float  # mean loss of this batch (or of the batches since the last report)
    samples_per_second: float
    seconds: float  # training time so far (excludes evaluation)


@dataclass
class EpochEvent:
    epoch: int
    epochs: int
    train_loss: float
    test_loss: float
    test_accuracy: float  # 0..1
    seconds: float  # this epoch's training time


@dataclass
class Misclassified:
    index: int  # index into the test set
    true_label: int
    predicted: int
    confidence: float  # probability of the predicted class


@dataclass
class EvalResult:
    accuracy: float
    loss: float
    samples: int
    confusion: list[list[int]]  # [true][predicted], 10x10
    per_class_accuracy: list[float]
    misclassified: list[Misclassified] = field(default_factory=list)


@dataclass
class RunResult:
    config: TrainConfig
    device: str
    dataset: str
    train_samples: int
    test_samples: int
    epochs_completed: int
    seconds: float  # training time only
    samples_per_second: float
    evaluation: EvalResult | None
    checkpoint: Any = None  # core.checkpoint.Checkpoint of the final model


@dataclass
class RunEnded:
    status: Literal["finished", "stopped", "failed"]
    reason: str = ""
    result: RunResult | None = None


TrainEvent = RunStarted | BatchEvent | EpochEvent | RunEnded
