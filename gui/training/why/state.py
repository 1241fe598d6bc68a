"""Qt-free states of the "why training" views: what each shows, what it computes next, and every
sentence it says. The views only draw these and run ``job()`` in a worker thread; the tests drive
these states without Qt (glue's ``state.py`` habit)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.mnist import MnistData
from core.training.landscape import (
    LINE_READING,
    SLICE_READING,
    LandscapeResult,
    LandscapeSettings,
    compute_landscape,
    initial_state_for,
)
from core.training.lr_find import READING as LR_READING
from core.training.lr_find import LrFindResult, find_lr_for_config
from core.training.repeats import BAND, RepeatResult, RepeatRunner, compare
from core.training.run_history import RunHistory
from core.training.train_types import BatchEvent, RunStarted, TrainConfig

ProgressFn = Callable[[int, int], None]
StopFn = Callable[[], bool]
Job = Callable[[ProgressFn, StopFn], Any]
DataFn = Callable[[], MnistData]


def _load_data(dataset: str = "auto", data_dir: str | None = None) -> MnistData:
    from core.data.mnist import load_mnist

    return load_mnist(dataset, data_dir)


def _cpu_threads(model_name: str) -> None:
    """The trainer's rule for the worker thread: one thread for the MLP, a few for a CNN."""
    import torch

    from core.training.trainer import choose_threads

    torch.set_num_threads(choose_threads(TrainConfig(model=model_name), torch.device("cpu")))


# -- the landscape --------------------------------------------------------------------------------


@dataclass
class LandscapeSource:
    """The model whose landscape is drawn, and what is known of how it was trained."""

    model_name: str
    loss: str
    state_dict: dict
    title: str
    seed: int | None = None
    initial_state: dict | None = None
    trajectory: Any = None  # (K, P) float32 tensor of saved parameters, or None
    dataset: str = "auto"
    data: MnistData | None = None

    @classmethod
    def from_checkpoint(cls, checkpoint: Any, title: str = "") -> LandscapeSource:
        config = checkpoint.config if isinstance(checkpoint.config, dict) else {}
        dataset = config.get("dataset", "auto")
        return cls(
            checkpoint.model_name,
            checkpoint.loss,
            checkpoint.state_dict,
            title or checkpoint.summary(),
            seed=config.get("seed"),
            dataset=dataset if dataset in ("auto", "mnist", "sample") else "auto",
        )

    @classmethod
    def from_run(cls, result: Any, title: str, data: MnistData | None = None) -> LandscapeSource:
        """A finished run (``RunResult``): its own initial weights and path when it saved them."""
        source = cls.from_checkpoint(result.checkpoint, title)
        source.initial_state = result.initial_state
        source.trajectory = result.trajectory
        source.seed = result.config.seed
        source.data = data
        return source


@dataclass
class LandscapeState:
    source: LandscapeSource | None = None
    settings: LandscapeSettings = field(default_factory=LandscapeSettings)
    use_path: bool = True
    result: LandscapeResult | None = None
    status: str = "Choose a run (or load a model), then Compute."
    busy: bool = False

    @property
    def has_path(self) -> bool:
        return self.source is not None and self.source.trajectory is not None

    def set_source(self, source: LandscapeSource | None) -> None:
        """Show ``source`` next; the settings go back to what fits its model (a CNN scores
        fewer digits on a smaller slice: ``LandscapeSettings.for_model``), span and seed kept."""
        self.source, self.result = source, None
        if source is not None:
            self.settings = LandscapeSettings.for_model(
                source.model_name, span=self.settings.span, seed=self.settings.seed
            )
        self.status = (
            "Choose a run (or load a model), then Compute."
            if source is None
            else f"{source.title}: Compute draws its landscape"
            + (" and its path." if source.trajectory is not None else ".")
        )

    def job(self) -> Job:
        """The computation for a worker thread (copies of what it needs: the window may move on)."""
        if self.source is None:
            raise ValueError("no model chosen")
        source, settings = self.source, dataclasses.replace(self.settings).validate()
        snapshots = source.trajectory if (self.use_path and self.has_path) else None

        def run(progress: ProgressFn, stop: StopFn) -> LandscapeResult:
            from core.training.models import build_model

            _cpu_threads(source.model_name)
            data = source.data if source.data is not None else _load_data(source.dataset)
            model = build_model(source.model_name, source.loss)
            model.load_state_dict(source.state_dict)
            initial, note = initial_state_for(
                source.model_name, source.loss, source.seed, source.initial_state
            )
            return compute_landscape(
                model,
                source.model_name,
                data,
                initial,
                settings,
                snapshots=snapshots,
                init_note=note,
                progress=progress,
                stop=stop,
            )

        self.busy, self.status = True, "Computing the landscape…"
        return run

    def finish(self, result: LandscapeResult) -> None:
        self.busy, self.result = False, result
        self.status = (
            f"{result.grid_size}\u00d7{result.grid_size} slice on {result.train_samples:,} "
            f"training and {result.test_samples:,} test digits, {result.seconds:.1f} s. "
            f"Alpha 0: {result.init_note}."
        )

    def fail(self, message: str) -> None:
        self.busy = False
        self.status = message[0].upper() + message[1:] + "." if message else "Failed."

    def line_caption(self) -> str:
        if self.result is None:
            return LINE_READING
        best = min(self.result.line, key=lambda point: point[1])
        test_best = min(self.result.line_test, key=lambda point: point[1])
        return (
            f"Lowest training loss at alpha {best[0]:.2f}, lowest test loss at "
            f"{test_best[0]:.2f}. " + LINE_READING
        )

    def slice_caption(self) -> str:
        if self.result is None:
            return SLICE_READING
        r = self.result
        low = min(min(row) for row in r.grid_loss)
        where = (
            "the path's own plane (its two largest principal components"
            + (f", {sum(r.path.explained):.0%} of its movement)" if r.path else ")")
            if r.path is not None
            else "two random filter-normalised directions (biases and batch norm left still)"
        )
        return (
            f"Slice along {where}: centre {r.centre_loss():.3f}, lowest {low:.3f}. "
            + SLICE_READING
            + (
                " The white line is the run's path, from its start (o) to the end (*)."
                if r.path
                else ""
            )
        )

    def heat(self) -> np.ndarray | None:
        """The slice as an (x, y) array of log10 loss (the eye reads ratios), for an image."""
        if self.result is None:
            return None
        return np.log10(np.maximum(np.asarray(self.result.grid_loss, float), 1e-6)).T


# -- the learning-rate finder ---------------------------------------------------------------------


@dataclass
class LrFinderState:
    config: TrainConfig = field(default_factory=TrainConfig)
    result: LrFindResult | None = None
    status: str = "Find the learning rate for the current settings (about 100 batches)."
    busy: bool = False
    data: DataFn | None = None  # the tab's loaded data, else the config's dataset is loaded

    def job(self) -> Job:
        config = dataclasses.replace(self.config).validate()
        data_fn = self.data

        def run(progress: ProgressFn, stop: StopFn) -> LrFindResult:
            _cpu_threads(config.model)
            data = data_fn() if data_fn is not None else _load_data(config.dataset, config.data_dir)
            return find_lr_for_config(config, data, progress=progress, stop=stop)

        self.busy, self.status = True, "Trying learning rates from 1e-7 upwards…"
        return run

    def finish(self, result: LrFindResult) -> None:
        self.busy, self.result = False, result
        self.status = self.suggestion_text()

    def fail(self, message: str) -> None:
        self.busy = False
        self.status = message[0].upper() + message[1:] + "." if message else "Failed."

    def suggestion_text(self) -> str:
        if self.result is None:
            return self.status
        r = self.result
        ratio = r.suggested_lr / self.config.lr
        compare_text = (
            "about your setting"
            if 0.5 <= ratio <= 2
            else f"{ratio:.3g}x your setting"
            if ratio > 1
            else f"1/{1 / ratio:.3g} of your setting"
        )
        return (
            f"Suggested learning rate {r.suggested_lr:.2g} ({compare_text} {self.config.lr:g}): the "
            f"lowest loss was at {r.minimum_lr:.2g}, and a tenth of it is fast but safe."
        )

    @staticmethod
    def reading() -> str:
        return LR_READING


# -- runs over seeds ------------------------------------------------------------------------------


REPEATS_HINT = "Repeat the current settings with seeds 1…N to see how much is luck."


@dataclass
class RepeatsState:
    """The repeat groups live in the tab's ``RunHistory`` (rows of the run list, saved with it);
    this page draws the ticked ones (``results``) and compares the newest two of them."""

    repeats: int = 3
    history: RunHistory = field(default_factory=RunHistory)
    status: str = REPEATS_HINT
    busy: bool = False
    data: DataFn | None = None

    @property
    def results(self) -> list[RepeatResult]:
        """The groups whose bands are drawn (ticked in the run list), oldest first."""
        return self.history.shown_groups

    def job(self, config: TrainConfig, label: str) -> Job:
        config = dataclasses.replace(config, report_every=max(1, config.report_every)).validate()
        repeats, data_fn = self.repeats, self.data

        def run(progress: ProgressFn, stop: StopFn) -> RepeatResult:
            data = data_fn() if data_fn is not None else _load_data(config.dataset, config.data_dir)
            per_run = [1]

            def on_event(index: int, event: Any) -> None:
                if stop():
                    runner.stop()
                if isinstance(event, RunStarted):
                    per_run[0] = max(1, event.total_steps)
                elif isinstance(event, BatchEvent):
                    progress(index * per_run[0] + event.step, repeats * per_run[0])

            runner = RepeatRunner(config, repeats, data, on_event=on_event, label=label)
            return runner.run()

        self.busy, self.status = True, f"Running {label} with seeds 1…{repeats}…"
        return run

    def finish(self, result: RepeatResult) -> None:
        self.busy = False
        self.history.add_group(result)
        self.status = self.summary()

    def fail(self, message: str) -> None:
        self.busy = False
        self.status = message[0].upper() + message[1:] + "." if message else "Failed."

    def summary(self) -> str:
        shown = self.results
        if not shown:
            if self.history.groups:
                return "Tick a repeat group (R1, R2, …) in the run list to draw its band here."
            return self.status
        lines = [f"R{r.number} {r.summary()}" for r in shown]
        if len(shown) >= 2:
            lines.append(compare(shown[-2], shown[-1]) + ".")
        lines.append(
            f"Curves: the mean of the seeds, the shaded band from the lowest to the highest "
            f"({BAND}); accuracy as mean \u00b1 standard deviation."
        )
        return "\n".join(lines)

    def clear(self) -> None:
        """Forget every repeat group (here and in the run list)."""
        self.history.groups = []
        self.status = REPEATS_HINT

    def refresh(self) -> None:
        """The groups changed elsewhere (ticked in the run list, cleared there)."""
        if not self.busy:
            self.status = self.summary() if self.history.groups else REPEATS_HINT


def lr_text(lr: float) -> str:
    """A learning rate as people write it: 0.01, 3e-4."""
    if lr <= 0 or not math.isfinite(lr):
        return str(lr)
    return f"{lr:.2g}" if 1e-3 <= lr < 100 else f"{lr:.1e}".replace("e-0", "e-")
