"""What one training run holds between its steps, and what it becomes at its end.

``RunState`` is built by ``core.training.trainer.setup_run`` and advanced by the ``Trainer``'s
epochs; ``finish_run`` turns it into the run's ``RunEnded``: the final score, the held-out
digits' answers, the checkpoint and (``finalize_run``) the calibration and "is this a digit?"
statistics fitted on those held-out digits. Split from the trainer so that the class holding
the loop and its controls stays short enough to read (issue 21).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from core.data.augment import BatchAugmenter
from core.data.datasets import MNIST_MEAN, MNIST_STD
from core.data.mnist import MnistData, normalize
from core.inspection.activations import GradientMonitor
from core.storage.checkpoint import Checkpoint
from core.training.evaluation import EVAL_BATCH, evaluate_tensors, log_probabilities, model_input
from core.training.train_types import EvalResult, HeldOut, RunEnded, RunResult, TrainConfig

log = logging.getLogger(__name__)


@dataclass
class ReportWindow:
    """Batches since the last ``BatchEvent``; a window may span an epoch's end."""

    reported_sum: float = 0.0  # the epoch's loss sum at the last report
    carried_loss: float = 0.0  # loss of the previous epoch's unreported batches
    steps: int = 0
    samples: int = 0
    start: float = 0.0
    elapsed: float = 0.0  # window time spent in earlier epochs


@dataclass
class RunState:
    """Everything one run holds between its steps (built by ``core.training.trainer.setup_run``)."""

    cfg: TrainConfig
    device: torch.device
    description: str
    data: MnistData  # the digits trained on (held-out ones removed)
    dataset: str
    model: nn.Module
    optimizer: Any
    criterion: Callable[..., torch.Tensor]
    manual_mlp: bool
    channels_last: bool
    amp: torch.dtype | None
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    held_images: torch.Tensor  # uint8 (N, 28, 28) on the CPU
    held_labels: torch.Tensor
    shuffle: torch.Generator
    steps_per_epoch: int
    total_steps: int
    step: int = 0
    train_seconds: float = 0.0  # training steps only (no evaluation, no pauses)
    eval_seconds: float = 0.0  # scoring the test digits after each epoch (and after a stop)
    setup_seconds: float = 0.0  # data onto the device, model, optimizer (and decoding, if any)
    paused_total: float = 0.0
    samples_done: int = 0
    epochs_completed: int = 0
    train_loss: float = float("nan")
    evaluation: EvalResult | None = None
    stopped: bool = False
    window: ReportWindow = field(default_factory=ReportWindow)
    augmenter: BatchAugmenter | None = None  # core.data.augment, or None
    monitor: GradientMonitor | None = None  # opt-in gradient flow (cfg.gradient_stats)
    lr: float = 0.0  # the base (or peak) learning rate now; changed by Trainer.set_lr
    lr_changes: list[tuple[int, float]] = field(default_factory=list)
    trajectory: list[torch.Tensor] = field(default_factory=list)  # opt-in (path_every)
    trajectory_steps: list[int] = field(default_factory=list)
    initial: dict[str, torch.Tensor] | None = None
    eval_batch: int = EVAL_BATCH  # digits per forward pass when scoring (CPU_EVAL_BATCH on a CPU)

    def clock(self) -> float:
        """Seconds on a clock that stops while the run is paused."""
        return time.perf_counter() - self.paused_total

    def sit_out(self, wait: Callable[[], object]) -> None:
        """Call ``wait`` (a pause) and leave the time it takes off the run's clock."""
        start = time.perf_counter()
        wait()
        self.paused_total += time.perf_counter() - start


Finalize = Callable[[nn.Module, HeldOut, Checkpoint], None]
# The "is this a digit?" fit took 6.8 s for 1,000 CNN digits on a loaded 2-core machine (load
# 14) and grows with the count: the first 1,000 held-out digits keep the end of a run short.
OOD_FIT_DIGITS = 1000


def finalize_run(model: nn.Module, held_out: HeldOut, checkpoint: Checkpoint) -> None:
    """The default end of a run: fit on the held-out digits what the app's honest answers need.

    The calibration temperature (``core.inference.calibration.fit_temperature`` on the held-out
    log-probabilities) and the "is this a digit?" statistics (``core.inference.ood.fit_ood`` on the
    held-out images) go into the checkpoint. Each is independent: one failing (too few digits,
    say) leaves the other, and the model, in place.
    """
    from core.inference.calibration import fit_temperature

    try:
        checkpoint.temperature = fit_temperature(held_out.log_probs, held_out.labels)
    except Exception:
        log.exception("fitting the calibration temperature failed")
    from core.inference.ood import fit_ood

    was_training = model.training
    model.eval()  # dropout off: the statistics describe the model as the app runs it
    try:
        count = min(OOD_FIT_DIGITS, len(held_out.labels))
        stats = fit_ood(
            model,
            held_out.images[:count],
            held_out.labels[:count],
            normalization=checkpoint.normalization,
            source=f"{count:,} held-out training digits",
        )
        checkpoint.ood = stats.to_payload()
    except ValueError as exc:  # e.g. too few held-out digits on a tiny data set
        log.info("no 'is this a digit?' statistics for this run: %s", exc)
    except Exception:
        log.exception("fitting the 'is this a digit?' statistics failed")
    finally:
        model.train(was_training)


def held_out_answers(state: RunState) -> HeldOut:
    """The held-out digits with the final model's log-probabilities for them (CPU)."""
    inputs = model_input(normalize(state.held_images.to(state.device)), state.cfg.model)
    log_probs = log_probabilities(state.model, inputs.contiguous(), state.eval_batch).cpu()
    return HeldOut(state.held_images, state.held_labels, log_probs)


def _metrics(state: RunState, held_out: HeldOut, sps: float) -> dict[str, Any]:
    """What the checkpoint remembers of the run (the model library shows it)."""
    evaluation = state.evaluation
    assert evaluation is not None
    return {
        "epochs_completed": state.epochs_completed,
        "train_loss": state.train_loss,
        "seconds": state.train_seconds + state.eval_seconds,
        "samples_per_second": sps,
        "train_samples": state.data.train_samples,
        "test_samples": state.data.test_samples,
        "held_out_samples": len(held_out.labels),
        "stopped": state.stopped,
        "test_accuracy": evaluation.accuracy,
        "test_loss": evaluation.loss,
        "per_class_accuracy": evaluation.per_class_accuracy,
    }


def finish_run(
    state: RunState, finalize: Finalize | None, extra: dict[str, Any] | None = None
) -> RunEnded:
    """Score the model as it is (also after Stop), answer the held-out digits, build the
    checkpoint and ``finalize`` it; ``extra`` are more ``RunResult`` fields (the path, the
    learning-rate changes). The time this takes is the result's ``finish_seconds``, apart
    from its ``seconds`` (a score after a stop counts as evaluation)."""
    begin = time.perf_counter()
    cfg, model = state.cfg, state.model
    if state.channels_last:
        model.to(memory_format=torch.contiguous_format)  # plain weights for the checkpoint
    if state.stopped or state.evaluation is None:  # mid-epoch weights: score them now
        state.evaluation = evaluate_tensors(
            model, state.test_x, state.test_y, cfg.loss, batch=state.eval_batch
        )
        state.eval_seconds += time.perf_counter() - begin
    scored = time.perf_counter()
    held_out = held_out_answers(state)
    sps = state.samples_done / state.train_seconds if state.train_seconds > 0 else 0.0
    checkpoint = Checkpoint.from_model(
        model,
        cfg.model,
        cfg.loss,
        config=cfg.to_dict(),
        metrics=_metrics(state, held_out, sps),
        dataset=state.dataset,
        normalization=(MNIST_MEAN, MNIST_STD),
    )
    if finalize is not None and len(held_out.labels):
        try:
            finalize(model, held_out, checkpoint)
        except Exception:  # calibration is a bonus; the trained model is kept regardless
            log.exception("finalizing the run on the held-out digits failed")
    result = RunResult(
        config=cfg,
        device=state.description,
        dataset=state.dataset,
        train_samples=state.data.train_samples,
        test_samples=state.data.test_samples,
        epochs_completed=state.epochs_completed,
        seconds=state.train_seconds + state.eval_seconds,
        samples_per_second=sps,
        evaluation=state.evaluation,
        checkpoint=checkpoint,
        held_out=held_out,
        eval_seconds=state.eval_seconds,
        setup_seconds=state.setup_seconds,
        finish_seconds=time.perf_counter() - scored,
        **(extra or {}),
    )
    if state.stopped:
        return RunEnded("stopped", "stopped by the user; the model is scored as it is", result)
    return RunEnded("finished", "", result)
