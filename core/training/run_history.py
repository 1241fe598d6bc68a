"""What the Training tab remembers about its runs, without Qt: buffers, smoothing, records, CSV.

The GUI worker turns trainer events into ``BatchBlock``s; ``RunHistory`` appends them to
growing numpy buffers (one ``RunRecord`` per run, kept until the learner clears it) and keeps
the smoothed curves up to date. The plots only draw what this model holds, so everything here
is tested without a window, and the CSV export is the same whichever view asks for it.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.storage.atomic import write_text_atomic
from core.training.repeats import RepeatResult
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    EvalResult,
    LrChanged,
    RunEnded,
    RunStarted,
    TrainConfig,
    seconds_to,
)

DEFAULT_SMOOTHING = 0.6
# The speed of one report is measured over a batch or a few (a millisecond on the sample), so
# it swings by orders of magnitude with timer jitter and whatever else the machine does. The
# plotted speed is the real throughput over the last SPEED_WINDOW reports: samples / seconds.
SPEED_WINDOW = 20
# A loss axis spanning more than this factor is drawn on a log scale in "auto" mode: one
# diverged run (loss ~1e31) would otherwise flatten every other run to zero.
LOG_SCALE_RATIO = 1e3
MAX_GROUPS = 10  # repeat groups kept (the oldest go first)
SHOWN_GROUPS = 2  # bands overlaid when a new group arrives: the newest two

CSV_COLUMNS = (
    "run",
    "model",
    "loss_fn",
    "optimizer",
    "lr",
    "batch_size",
    "dataset",
    "kind",
    "step",
    "epoch",
    "train_loss",
    "train_loss_smoothed",
    "samples_per_second",
    "test_loss",
    "test_accuracy",
)


@dataclass
class BatchBlock:
    """Several batch reports sent together: the GUI appends them to its buffers in one go."""

    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    samples_per_second: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # training time so far at each report
    last: BatchEvent | None = None

    def add(self, event: BatchEvent) -> None:
        self.steps.append(event.step)
        self.losses.append(event.loss)
        self.samples_per_second.append(event.samples_per_second)
        self.seconds.append(event.seconds)
        self.last = event

    def __len__(self) -> int:
        return len(self.steps)


class GrowingArray:
    """A float64 buffer that appends in place and doubles its capacity when full."""

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty(max(1, capacity), dtype=np.float64)
        self.size = 0

    def extend(self, values: list[float] | np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        needed = self.size + len(values)
        if needed > len(self._data):
            bigger = np.empty(max(needed, 2 * len(self._data)), dtype=np.float64)
            bigger[: self.size] = self._data[: self.size]
            self._data = bigger
        self._data[self.size : needed] = values
        self.size = needed

    @property
    def view(self) -> np.ndarray:
        """The filled part, without a copy (valid until the next ``extend``)."""
        return self._data[: self.size]

    def __len__(self) -> int:
        return self.size


class Ema:
    """Debiased exponential moving average (TensorBoard's): starts at the first value, not 0.

    Non-finite inputs do not enter the average (a NaN would poison every later point); the
    previous smoothed value is repeated for them.
    """

    def __init__(self, smoothing: float) -> None:
        self.smoothing = smoothing
        self.value = 0.0
        self.count = 0

    def update(self, x: float) -> float:
        if not math.isfinite(x):
            return self.value / (1 - self.smoothing**self.count) if self.count else x
        self.count += 1
        self.value = self.smoothing * self.value + (1 - self.smoothing) * x
        return self.value / (1 - self.smoothing**self.count)

    def smooth(self, values: np.ndarray | list[float]) -> list[float]:
        return [self.update(float(x)) for x in values]


@dataclass
class RunRecord:
    """Everything plotted for one run, and what the run list says about it."""

    number: int
    config: TrainConfig
    dataset: str = ""
    device: str = ""
    steps_per_epoch: int = 1
    total_steps: int = 1
    status: str = "running"
    final_accuracy: float | None = None
    evaluation: EvalResult | None = None  # the scored model, also after Stop
    visible: bool = True
    steps: GrowingArray = field(default_factory=GrowingArray)
    losses: GrowingArray = field(default_factory=GrowingArray)
    smoothed: GrowingArray = field(default_factory=GrowingArray)
    speed: GrowingArray = field(default_factory=GrowingArray)
    speed_smoothed: GrowingArray = field(default_factory=GrowingArray)  # over SPEED_WINDOW
    seconds: GrowingArray = field(default_factory=GrowingArray)
    epochs: list[EpochEvent] = field(default_factory=list)
    nonfinite_losses: int = 0  # reported batch losses that are NaN or inf (not drawn)
    # Learning rate changed mid-run (Trainer.set_lr): marked on the curves, a CSV row each
    # (kind "lr_change", the new rate in the lr column), steps in the exported script.
    lr_changes: list[LrChanged] = field(default_factory=list)
    loss_ema: Ema = field(default_factory=lambda: Ema(DEFAULT_SMOOTHING), repr=False)

    @property
    def label(self) -> str:
        c = self.config
        return f"#{self.number} {c.model} {c.loss} {c.optimizer} lr={c.lr:g} bs={c.batch_size}"

    @property
    def accuracy(self) -> float | None:
        """The final score, or the last epoch's while the run is going."""
        if self.final_accuracy is not None:
            return self.final_accuracy
        return self.epochs[-1].test_accuracy if self.epochs else None

    def seconds_to(self, accuracy: float = 0.99) -> float | None:
        """Seconds until the first epoch at ``accuracy`` (``train_types.seconds_to``)."""
        return seconds_to(self.epochs, accuracy)

    @property
    def status_text(self) -> str:
        """The run list's status: a stopped run says whether its model was scored."""
        if self.status == "stopped" and self.evaluation is not None:
            return "stopped, scored"
        return self.status

    def add_batches(self, block: BatchBlock) -> None:
        losses = np.asarray(block.losses, dtype=np.float64)
        self.steps.extend(block.steps)
        self.losses.extend(losses)
        self.smoothed.extend(self.loss_ema.smooth(losses))
        first_new = len(self.speed)
        self.speed.extend(block.samples_per_second)
        self.seconds.extend(block.seconds)
        self.speed_smoothed.extend(self._window_speed(first_new))
        self.nonfinite_losses += int(np.count_nonzero(~np.isfinite(losses)))

    def _window_speed(self, first_new: int) -> np.ndarray:
        """Samples per second over the last ``SPEED_WINDOW`` reports, for the reports from
        ``first_new`` on; a report without enough history keeps its own figure."""
        steps, seconds, speed = self.steps.view, self.seconds.view, self.speed.view
        new = np.arange(first_new, len(steps))
        start = np.maximum(0, new - SPEED_WINDOW)
        elapsed = seconds[new] - seconds[start]
        samples = (steps[new] - steps[start]) * self.config.batch_size
        usable = (new > start) & (elapsed > 0)
        rate = np.divide(samples, elapsed, out=np.zeros_like(elapsed), where=usable)
        return np.where(usable, rate, speed[new])

    def resmooth(self, smoothing: float) -> None:
        """Recompute the smoothed loss from the raw losses with a new ``smoothing``."""
        self.loss_ema = Ema(smoothing)
        values = self.loss_ema.smooth(self.losses.view)
        self.smoothed = GrowingArray(max(1024, len(values)))
        self.smoothed.extend(values)

    def nearest_index(self, step: float) -> int | None:
        """Index of the reported step closest to ``step`` (None before the first report)."""
        if not len(self.steps):
            return None
        steps = self.steps.view
        i = int(np.clip(np.searchsorted(steps, step), 0, len(steps) - 1))
        if i > 0 and abs(steps[i - 1] - step) < abs(steps[i] - step):
            i -= 1
        return i

    def epoch_of_step(self, step: int) -> int:
        return (step - 1) // self.steps_per_epoch + 1


def finite_positive_range(arrays: list[np.ndarray]) -> tuple[float, float] | None:
    """(smallest, largest) finite value > 0 over ``arrays``, or None when there is none."""
    lows, highs = [], []
    for values in arrays:
        values = np.asarray(values, dtype=np.float64)
        values = values[np.isfinite(values) & (values > 0)]
        if len(values):
            lows.append(float(values.min()))
            highs.append(float(values.max()))
    return (min(lows), max(highs)) if lows else None


def wants_log_scale(value_range: tuple[float, float] | None) -> bool:
    """True when ``(low, high)`` spans more than ``LOG_SCALE_RATIO``: a linear axis would hide
    every curve but the largest."""
    if value_range is None:
        return False
    low, high = value_range
    return low > 0 and high / low > LOG_SCALE_RATIO


def decade_range(value_range: tuple[float, float] | None) -> tuple[int, int] | None:
    """Whole decades around ``(low, high)`` for a log axis (at least one decade wide)."""
    if value_range is None:
        return None
    low, high = value_range
    decades = (math.floor(math.log10(low)), math.ceil(math.log10(high)))
    return decades if decades[1] > decades[0] else (decades[0], decades[0] + 1)


def calibration_on_test_digits(checkpoint: Any, data: Any) -> Any:
    """How far a run's confidence can be trusted on its test digits (a ``CalibrationReport``
    at T = 1 and at the checkpoint's fitted temperature), scored on the CPU.

    ``checkpoint``: a ``core.storage.checkpoint.Checkpoint``; ``data``: the ``MnistData`` it was trained
    with. Torch is imported here, so the rest of this module stays light.
    """
    from core.inference.calibration import calibration_report
    from core.training.evaluation import evaluate_outputs

    model = checkpoint.build("cpu")
    _, log_probs = evaluate_outputs(model, data, "cpu", max_misclassified=0)
    return calibration_report(log_probs.cpu(), data.test_labels, checkpoint.temperature)


class RunHistory:
    """The runs of this session, newest last; the current run is the newest one."""

    def __init__(self, smoothing: float = DEFAULT_SMOOTHING) -> None:
        self.runs: list[RunRecord] = []
        # Configurations repeated over seeds (issue 26): rows in the run list after the runs,
        # final accuracy as mean +- sd; the ticked ones are overlaid on the Repeats page.
        self.groups: list[RepeatResult] = []
        self.smoothing = smoothing

    @property
    def current(self) -> RunRecord | None:
        return self.runs[-1] if self.runs else None

    @property
    def visible_runs(self) -> list[RunRecord]:
        return [run for run in self.runs if run.visible]

    def start_run(self, started: RunStarted) -> RunRecord:
        number = (self.runs[-1].number + 1) if self.runs else 1
        run = RunRecord(
            number=number,
            config=started.config,
            dataset=started.dataset,
            device=started.device,
            steps_per_epoch=max(1, started.steps_per_epoch),
            total_steps=max(1, started.total_steps),
            loss_ema=Ema(self.smoothing),
        )
        self.runs.append(run)
        return run

    def add_batches(self, block: BatchBlock) -> RunRecord | None:
        """Append ``block`` to the current run; the run, or None when nothing was added."""
        run = self.current
        if run is None or not len(block) or run.status != "running":
            return None
        run.add_batches(block)
        return run

    def add_epoch(self, event: EpochEvent) -> RunRecord | None:
        run = self.current
        if run is None or run.status != "running":
            return None
        run.epochs.append(event)
        return run

    def add_lr_change(self, event: LrChanged) -> RunRecord | None:
        run = self.current
        if run is None or run.status != "running":
            return None
        run.lr_changes.append(event)
        return run

    def end_run(self, ended: RunEnded) -> RunRecord | None:
        """Record how the current run ended and its score (a stopped run may be scored too)."""
        run = self.current
        if run is None or run.status != "running":
            return None
        run.status = ended.status
        result = ended.result
        if result is not None and result.evaluation is not None:
            run.evaluation = result.evaluation
            run.final_accuracy = result.evaluation.accuracy
        elif run.epochs:
            run.final_accuracy = run.epochs[-1].test_accuracy
        return run

    def set_smoothing(self, smoothing: float) -> None:
        self.smoothing = smoothing
        for run in self.runs:
            run.resmooth(smoothing)

    def clear_finished(self) -> list[RunRecord]:
        """Forget every run that is not training, and the repeat groups (finished too);
        return the forgotten runs."""
        gone = [run for run in self.runs if run.status != "running"]
        self.runs = [run for run in self.runs if run.status == "running"]
        self.groups = []
        return gone

    # ----------------------------------------------------------- repeat groups
    @property
    def shown_groups(self) -> list[RepeatResult]:
        return [group for group in self.groups if group.visible]

    def add_group(self, group: RepeatResult) -> RepeatResult:
        """Keep a finished repeat group, numbered after the last; it and the one before it are
        shown (the overlay a learner asked for by running a second configuration), older ones
        are unticked; at most ``MAX_GROUPS`` are kept."""
        group.number = (self.groups[-1].number + 1) if self.groups else 1
        self.groups = (self.groups + [group])[-MAX_GROUPS:]
        for older in self.groups[:-SHOWN_GROUPS]:
            older.visible = False
        group.visible = True
        return group

    def loss_range(self) -> tuple[float, float] | None:
        """Finite positive range of the visible runs' batch and test losses."""
        arrays = []
        for run in self.visible_runs:
            arrays.append(run.losses.view)
            arrays.append(np.array([e.test_loss for e in run.epochs], dtype=np.float64))
        return finite_positive_range(arrays)

    def speed_range(self) -> tuple[float, float] | None:
        return finite_positive_range([run.speed_smoothed.view for run in self.visible_runs])

    def extent(self) -> tuple[int, int]:
        """(steps, epochs) of the longest visible run (of all runs when none is visible)."""
        shown = self.visible_runs or self.runs
        if not shown:
            return 1, 1
        return max(r.total_steps for r in shown), max(r.config.epochs for r in shown)

    # -------------------------------------------------------------------------- CSV
    def csv_rows(self) -> list[list[object]]:
        """Every run's points: one row per batch report and one per epoch (``CSV_COLUMNS``)."""
        rows: list[list[object]] = []
        for run in self.runs:
            c = run.config
            head = [run.number, c.model, c.loss, c.optimizer, c.lr, c.batch_size, run.dataset]
            for i in range(len(run.steps)):
                step = int(run.steps.view[i])
                rows.append(
                    [*head, "batch", step, run.epoch_of_step(step)]
                    + [f"{run.losses.view[i]:.6g}", f"{run.smoothed.view[i]:.6g}"]
                    + [f"{run.speed.view[i]:.1f}", "", ""]
                )
            for e in run.epochs:
                rows.append(
                    [*head, "epoch", e.epoch * run.steps_per_epoch, e.epoch]
                    + [f"{e.train_loss:.6g}", "", ""]
                    + [f"{e.test_loss:.6g}", f"{e.test_accuracy:.6g}"]
                )
            for change in run.lr_changes:
                row = [*head, "lr_change", change.step, run.epoch_of_step(change.step + 1)]
                row[4] = change.lr  # the lr column: the new rate from this step on
                rows.append(row + ["", "", "", "", ""])
        return rows

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(self.csv_rows())
        return buffer.getvalue()

    def export_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write ``csv_text()`` atomically (core/storage/atomic.py)."""
        return write_text_atomic(path, self.csv_text())
