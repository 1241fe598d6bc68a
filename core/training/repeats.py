"""Runs over seeds: one configuration repeated with seeds 1..N, drawn as a mean with a band.

A single run's curve mixes what the settings do with luck (the initial weights, the order of the
digits). Repeating it with seeds 1..N and drawing the **mean with a min-max band** shows the luck:
a difference between two configurations means something only where their bands do not overlap.
The band is min-max rather than +-1 sd because N is small (3-5 runs): an sd from three numbers is
itself very uncertain, while min-max shows every run that happened. Final accuracy is reported as
mean +- sample standard deviation (n - 1), the usual way to quote it.

The runs go one after another through the normal trainer and its events (``on_event(index,
event)``), so the CLI, the GUI worker and the tests watch them as they watch any run.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.errors import UserError
from core.training.train_types import BatchEvent, EpochEvent, RunEnded, TrainConfig, TrainEvent

if TYPE_CHECKING:  # the run list keeps repeat groups without importing torch
    from core.data.mnist import MnistData

MAX_REPEATS = 20
BAND = "min-max"


@dataclass
class SeedRun:
    """What one seed's run left: its loss curve (per report), test accuracy per epoch, result."""

    seed: int
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    epoch_accuracy: list[float] = field(default_factory=list)
    final_accuracy: float | None = None
    status: str = "running"

    def add(self, event: TrainEvent) -> None:
        if isinstance(event, BatchEvent):
            self.steps.append(event.step)
            self.losses.append(event.loss)
        elif isinstance(event, EpochEvent):
            self.epoch_accuracy.append(event.test_accuracy)
        elif isinstance(event, RunEnded):
            self.status = event.status
            if event.result is not None and event.result.evaluation is not None:
                self.final_accuracy = event.result.evaluation.accuracy


@dataclass
class Band:
    """A curve over seeds: the mean and the min-max band at each x (NumPy arrays)."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    runs: int


def band_of(curves: list[tuple[list[float], list[float]]]) -> Band | None:
    """Mean and min-max of curves (x, y) on the first curve's x, up to the shortest curve's end
    (a stopped run ends early); other curves are interpolated onto it. None without data."""
    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves if len(x)]
    if not curves:
        return None
    end = min(float(x[-1]) for x, _ in curves)
    grid = curves[0][0][curves[0][0] <= end]
    stacked = np.stack([np.interp(grid, x, y) for x, y in curves])
    return Band(grid, stacked.mean(0), stacked.min(0), stacked.max(0), len(curves))


@dataclass
class RepeatResult:
    """A configuration repeated over seeds 1..N: a group in the run list (``number``, its row
    ticked when ``visible``: its band is drawn on the Repeats page)."""

    label: str
    config: TrainConfig
    runs: list[SeedRun]
    number: int = 0
    visible: bool = True

    @property
    def seeds_text(self) -> str:
        """ "seeds 1-3" (the seeds that ran; a stopped group ran fewer)."""
        seeds = [r.seed for r in self.runs]
        if not seeds:
            return "no seed ran"
        if len(seeds) == 1:
            return f"seed {seeds[0]}"
        return f"seeds {seeds[0]}\u2013{seeds[-1]}"

    @property
    def status_text(self) -> str:
        """ "3 of 3 finished", or how many ended otherwise."""
        done = sum(r.status == "finished" for r in self.runs)
        return f"{done} of {len(self.runs)} finished"

    def accuracy_text(self) -> str:
        """The run list's figure: ``"90.12% \u00b1 0.40%"`` (mean \u00b1 sample sd), or a dash."""
        stats = self.accuracy_mean_sd()
        if stats is None:
            return "\u2014"
        return f"{stats[0]:.2%} \u00b1 {stats[1]:.2%}"

    def finished(self) -> list[SeedRun]:
        return [r for r in self.runs if r.final_accuracy is not None]

    def loss_band(self) -> Band | None:
        return band_of([(r.steps, r.losses) for r in self.runs])

    def accuracy_band(self) -> Band | None:
        return band_of(
            [(list(range(1, len(r.epoch_accuracy) + 1)), r.epoch_accuracy) for r in self.runs]
        )

    def accuracy_mean_sd(self) -> tuple[float, float] | None:
        """Final test accuracy: mean and sample standard deviation (0 for a single run)."""
        values = [r.final_accuracy for r in self.finished()]
        if not values:
            return None
        mean = sum(values) / len(values)
        if len(values) < 2:
            return mean, 0.0
        return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))

    def summary(self) -> str:
        """The run list's line, e.g. ``"90.1 % +- 0.4 % over 3 seeds"``."""
        stats = self.accuracy_mean_sd()
        if stats is None:
            return f"{self.label}: no finished run"
        n = len(self.finished())
        return f"{self.label}: {stats[0]:.1%} \u00b1 {stats[1]:.1%} over {n} seed{'s' * (n > 1)}"


def compare(a: RepeatResult, b: RepeatResult) -> str:
    """One sentence: is the difference in final accuracy bigger than the seed-to-seed noise?"""
    sa, sb = a.accuracy_mean_sd(), b.accuracy_mean_sd()
    if sa is None or sb is None:
        return "both configurations need finished runs to be compared"
    low_a, high_a = _range(a)
    low_b, high_b = _range(b)
    diff = sb[0] - sa[0]
    if high_a < low_b or high_b < low_a:
        verdict = "bigger than the noise: every seed of one beat every seed of the other"
    else:
        verdict = (
            "within the noise: the seeds' ranges overlap, so run more seeds before trusting it"
        )
    return f"{b.label} minus {a.label}: {diff:+.1%} final accuracy, {verdict}"


def _range(result: RepeatResult) -> tuple[float, float]:
    values = [r.final_accuracy for r in result.finished()]
    return min(values), max(values)


RepeatEvent = Callable[[int, TrainEvent], None]  # (index of the run, 0-based; its event)


class RepeatRunner:
    """Run ``config`` with seeds 1..``repeats``, one after another; ``stop()`` from any thread
    stops the current run and skips the rest."""

    def __init__(
        self,
        config: TrainConfig,
        repeats: int,
        data: MnistData | None = None,
        on_event: RepeatEvent | None = None,
        label: str = "",
        trainer_factory: Callable | None = None,
    ) -> None:
        if not 1 <= repeats <= MAX_REPEATS:
            raise UserError(f"repeat 1..{MAX_REPEATS} times, got {repeats}")
        self.config = config.validate()
        self.repeats = repeats
        self.data = data
        self.on_event = on_event
        self.label = label or f"{config.model} {config.optimizer} lr {config.lr:g}"
        self._factory = trainer_factory
        self._stop = threading.Event()
        self._trainer = None
        self._lock = threading.Lock()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._trainer is not None:
                self._trainer.stop()

    def run(self) -> RepeatResult:
        from core.training.trainer import Trainer

        factory = self._factory or Trainer
        result = RepeatResult(self.label, self.config, [])
        for index in range(self.repeats):
            if self._stop.is_set():
                break
            seed_run = SeedRun(seed=index + 1)
            result.runs.append(seed_run)
            config = dataclasses.replace(self.config, seed=index + 1)

            def forward(event: TrainEvent, index: int = index, seed_run: SeedRun = seed_run):
                seed_run.add(event)
                if self.on_event is not None:
                    self.on_event(index, event)

            with self._lock:
                self._trainer = factory(config, forward, data=self.data, finalize=None)
                if self._stop.is_set():  # stop() came between the check above and now
                    self._trainer.stop()
            self._trainer.run()
        with self._lock:
            self._trainer = None
        return result
