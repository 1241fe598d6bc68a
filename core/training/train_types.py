"""Configuration, events and results of a training run: the contract between the trainer
and everything that watches it (CLI progress bar, GUI worker, tests, benchmarks).

``TrainConfig`` is defined beside its settings table (``core.training.train_settings``) and
re-exported here: import it from either.

Events carry plain Python data only (floats, ints, strings, lists), never live tensors, so they
can cross threads as queued Qt signals and be printed as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from core.data.mnist import DATASET_CHOICES  # noqa: F401  (re-exported: the dataset registry)
from core.inspection.activations import DeadReluReport, GradientReport

# TrainConfig and its choices live with the table that describes each of its fields, so that
# TrainConfig.validate checks against it without an import circle; re-exported here, the
# contract's home for every caller.
from core.training.train_settings import (  # noqa: F401
    AMP_CHOICES,
    MAX_HELD_OUT,
    OPTIMIZER_CHOICES,
    SCHEDULE_CHOICES,
    TrainConfig,
)


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
    seconds: float  # the run's time so far: training steps and evaluations (no pauses)


@dataclass
class EpochEvent:
    epoch: int
    epochs: int
    train_loss: float
    test_loss: float
    test_accuracy: float  # 0..1
    seconds: float  # this epoch's training steps and its evaluation (pauses left out)


def seconds_to(epochs: list[EpochEvent], accuracy: float = 0.99) -> float | None:
    """Seconds until the first epoch whose test accuracy reached ``accuracy`` (training steps
    and evaluations, pauses left out: the speed-run measure, the same as ``train --json``'s
    seconds), or None when no epoch did. One rule for the run list and ``train --json``."""
    elapsed = 0.0
    for event in epochs:
        elapsed += event.seconds
        if event.test_accuracy >= accuracy:
            return elapsed
    return None


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
    seconds: float  # every training step and every evaluation of the test digits (no pauses)
    samples_per_second: float  # training digits per second of training steps
    evaluation: EvalResult | None  # of the final weights, also when stopped mid-epoch
    checkpoint: Any = None  # core.storage.checkpoint.Checkpoint of the final model
    held_out: HeldOut | None = None
    # Apart from ``seconds``: of them, the evaluations; before them, the data onto the device and
    # the model (and the decoding when the trainer loaded the data); after them, the held-out
    # digits' answers, the checkpoint and its calibration (issue 28).
    eval_seconds: float = 0.0
    setup_seconds: float = 0.0
    finish_seconds: float = 0.0
    # Learning-rate changes made while it ran, as (step, lr): from 0-based step ``step`` on, the
    # base (or with a schedule, peak) lr was ``lr``. ``Trainer(lr_changes=...)`` replays them.
    lr_changes: list[tuple[int, float]] = field(default_factory=list)
    # Opt-in path (``Trainer(path_every=k)``): float32 (K, P) CPU tensor of the flat parameters
    # at step 0, every k steps and at the end, and the initial state_dict (the landscape's alpha 0).
    trajectory: Any = None
    trajectory_steps: list[int] = field(default_factory=list)
    initial_state: Any = None


@dataclass
class RunEnded:
    status: Literal["finished", "stopped", "failed"]
    reason: str = ""
    result: RunResult | None = None


@dataclass
class LrChanged:
    """The learning rate was changed during the run (the learner's control, or a replay).

    ``step`` is how many steps were done before it (the first step at the new rate is
    ``step + 1`` in ``BatchEvent`` numbering); ``lr`` the new base rate, ``previous`` the old one;
    with a schedule the scheduled rate is scaled by ``lr / config.lr`` from then on.
    """

    step: int
    lr: float
    previous: float
    scheduled: bool = False


TrainEvent = (
    RunStarted | BatchEvent | EpochEvent | RunEnded | GradientReport | DeadReluReport | LrChanged
)
