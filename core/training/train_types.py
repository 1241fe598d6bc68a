"""Configuration, events and results of a training run: the contract between the trainer
and everything that watches it (CLI progress bar, GUI worker, tests, benchmarks).

Events carry plain Python data only (floats, ints, strings, lists), never live tensors, so they
can cross threads as queued Qt signals and be printed as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.data.mnist import DATASET_CHOICES  # noqa: F401  (re-exported: the dataset registry)
from core.errors import UserError
from core.inspection.activations import DeadReluReport, GradientReport

OPTIMIZER_CHOICES = ("sgd", "adam")
SCHEDULE_CHOICES = ("constant", "onecycle")
AMP_CHOICES = ("off", "auto", "on")
MAX_HELD_OUT = 5000


@dataclass
class TrainConfig:
    """Every setting of a run. Defaults are the seed notebook's: MLP, 5 epochs, batch 64, SGD.

    Labels, ranges, tooltips, QSettings keys and CLI flags of these fields live in one table,
    ``core.training.train_settings.SETTINGS``; ``validate`` checks against it.
    """

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
    # Send a BatchEvent every N batches (1 = every batch). Each report is one device sync;
    # core.training.train_settings.report_every() is the rule the CLI and the GUI use.
    report_every: int = 1
    # CPU intra-op threads for the run; 0 = automatic (see core.training.trainer.choose_threads).
    threads: int = 0
    schedule: str = "constant"  # or "onecycle"
    amp: str = "off"  # mixed precision: "off", "auto" (CUDA only), "on"
    # Share of the training digits held out of training (at most MAX_HELD_OUT), for
    # calibration and the not-a-digit threshold at the end of the run (RunResult.held_out).
    holdout: float = 0.1
    # The preset these settings came from ("" = chosen by hand); see core.training.train_settings.PRESETS.
    preset: str = ""
    # Vary every training batch at random (core.data.augment: rotation, scale, shear, shift, elastic
    # wobble, stroke thickness) on the training device; test and held-out digits stay as they are.
    augment: bool = False
    # Opt-in gradient flow (core.inspection.activations.GradientMonitor): a GradientReport a few times a
    # second and a DeadReluReport after each epoch, for the "Inside the network" tab.
    gradient_stats: bool = False

    def validate(self) -> TrainConfig:
        """Raise ``UserError`` naming the first bad setting; return self for chaining."""
        from core.training.train_settings import check_config  # the table imports this module

        problem = check_config(self)
        if problem is not None:
            raise UserError(problem)
        return self

    def held_out_count(self, train_samples: int) -> int:
        """How many of ``train_samples`` training digits this run holds out of training."""
        wanted = int(train_samples * self.holdout)
        return max(0, min(MAX_HELD_OUT, wanted, train_samples - 1))

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
    held_out_samples: int = 0  # training digits kept out of training (RunResult.held_out)
    note: str = ""  # a sentence for the user, e.g. "the speedrun preset is tuned for a GPU ..."


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
class HeldOut:
    """Training digits the run never trained on, with the final model's answers for them.

    For fitting what must not be fitted on the training digits: the calibration temperature
    (``softmax(log_probs / T)`` is temperature scaling for either head, since softmax ignores a
    per-row constant) and the "is this a digit?" threshold. CPU tensors, computed once.
    """

    images: Any  # torch.uint8 (N, 28, 28), ink high, as the datasets store them
    labels: Any  # torch.int64 (N,)
    log_probs: Any  # torch.float32 (N, 10): log_softmax of the final model's outputs


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
    evaluation: EvalResult | None  # of the final weights, also when stopped mid-epoch
    checkpoint: Any = None  # core.storage.checkpoint.Checkpoint of the final model
    held_out: HeldOut | None = None


@dataclass
class RunEnded:
    status: Literal["finished", "stopped", "failed"]
    reason: str = ""
    result: RunResult | None = None


TrainEvent = RunStarted | BatchEvent | EpochEvent | RunEnded | GradientReport | DeadReluReport
