"""The bridge between the plain-Python trainer and the GUI thread.

A ``TrainWorker`` is moved to a ``QThread`` by the app's one bridge, ``gui.workers.start_worker``.
The trainer calls back in the worker thread; those events leave as queued signals carrying plain
data.
Batch events are buffered and flushed at most every ``flush_interval`` seconds, so the GUI gets
about ten signals per second whatever the batch rate (one signal per batch would be an event
storm, and every slot runs in the GUI thread holding the GIL the trainer needs between torch ops).
Pause/resume/stop are called from the GUI thread and forwarded to the trainer, which is
thread-safe and checks them every batch.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from core.errors import UserError
from core.inspection.activations import DeadReluReport, GradientReport
from core.training.run_history import BatchBlock, calibration_on_test_digits
from core.training.train_settings import report_every
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    LrChanged,
    RunEnded,
    RunStarted,
    TrainConfig,
)
from gui.workers import start_worker  # re-exported: callers and tests import it from here

__all__ = ["BatchBlock", "TrainWorker", "start_worker"]

log = logging.getLogger(__name__)


class TrainWorker(QObject):
    """Runs one training run in whatever thread calls ``work``; reports through signals.

    ``NICENESS = 0``: a run keeps the window's priority (``gui.workers``). Measured beside a busy
    process (benchmarks/window_latency.py --busy, 4 pairs): a nicer run was starved of its
    second core, took 4-7x longer and, holding the GIL while descheduled, kept the window
    waiting (p99 up to 71 ms); at 0 the training phase stayed at p99 32-52 ms.

    ``data`` is an already loaded ``MnistData`` (reused between runs); when None the worker
    loads ``config.dataset`` itself and emits ``dataReady`` so the caller can cache it.
    ``trainer_factory`` exists for tests; by default it is ``core.training.trainer.Trainer``.

    The trainer is made at once, so that its thread-safe pause/stop flags are the only record
    of what the learner asked for, from the first click (even while the data still loads) to
    the end of the run; the worker keeps no copy of its own.
    """

    NICENESS = 0

    dataReady = Signal(object)  # MnistData, loaded in this thread
    runStarted = Signal(object)  # RunStarted
    batchesReady = Signal(object)  # BatchBlock
    epochEnded = Signal(object)  # EpochEvent
    lrChanged = Signal(object)  # LrChanged: the learner's new rate took effect at a step
    runEnded = Signal(object)  # RunEnded, exactly once per work()
    # CalibrationReport of the scored model on the test digits, after runEnded (None: failed)
    calibrationReady = Signal(object)
    # core.inspection.activations's opt-in GradientReport / DeadReluReport (the monitor rate-limits them)
    insideEvent = Signal(object)
    finished = Signal()

    def __init__(
        self,
        config: TrainConfig,
        data: Any = None,
        *,
        auto_report: bool = True,
        flush_interval: float = 0.1,  # half the plots' redraw interval: each redraw has news
        trainer_factory: Callable[..., Any] | None = None,
        keep: Callable[[Any, RunEnded], Any] | None = None,
    ) -> None:
        super().__init__()
        # Called here, on the worker thread, with a scored run's checkpoint and its RunEnded
        # before runEnded is sent: keeping a model writes a file, which must not stall the
        # window. It decides whether to keep (the tab keeps only what beats the library).
        self._keep = keep
        self.kept: Any = None
        self.config = config
        self._data = data
        self._auto_report = auto_report
        self._flush_interval = flush_interval
        if trainer_factory is None:
            from core.training.trainer import Trainer

            trainer_factory = Trainer
        self.trainer = trainer_factory(config, on_event=self._on_event, data=data)
        self._block = BatchBlock()
        self._last_flush = 0.0
        self._loaded: Any = data  # the data the run trained on, once known

    # ------------------------------------------------------------ control (any thread)
    def stop(self) -> None:
        """Ask the run to end after the current batch (also wakes a paused run)."""
        self.trainer.stop()

    def pause(self) -> None:
        self.trainer.pause()

    def resume(self) -> None:
        self.trainer.resume()

    def set_lr(self, lr: float) -> None:
        """Change the learning rate from the next step on (the trainer's thread-safe
        ``set_lr``); ``lrChanged`` says when it took effect."""
        self.trainer.set_lr(lr)

    @property
    def is_paused(self) -> bool:
        return bool(self.trainer.is_paused)

    @property
    def is_stopping(self) -> bool:
        return bool(self.trainer.stop_requested)

    # ------------------------------------------------------------ worker thread
    @Slot()
    def work(self) -> None:
        """Load data if needed, train, and always end with ``runEnded`` then ``finished``."""
        ended: RunEnded | None = None
        try:
            ended = self._train()
        except UserError as exc:
            ended = RunEnded("failed", str(exc))
        except Exception as exc:  # noqa: BLE001 (any crash must reach the user, not kill the thread)
            log.error("training failed:\n%s", traceback.format_exc())
            ended = RunEnded("failed", f"{type(exc).__name__}: {exc}")
        finally:
            self._flush()
            if ended is None:
                ended = RunEnded("failed", "the training thread ended unexpectedly")
            self._keep_model(ended)
            self.runEnded.emit(ended)
            self._report_calibration(ended)
            self.finished.emit()

    def _keep_model(self, ended: RunEnded) -> None:
        result = ended.result
        scored = result is not None and result.checkpoint is not None and result.evaluation
        if self._keep is not None and scored and ended.status in ("finished", "stopped"):
            self.kept = self._keep(result.checkpoint, ended)

    def _train(self) -> RunEnded:
        config, trainer = self.config, self.trainer
        if trainer.stop_requested:
            return RunEnded("stopped", "stopped before training started")
        data = self._data
        if data is None:
            from core.data.mnist import load_mnist

            data = load_mnist(config.dataset, config.data_dir)
            self.dataReady.emit(data)
        if self._auto_report:
            from core.device import resolve_device

            device_type = resolve_device(config.device).type  # a GPU reports less often
            every = report_every(len(data.train_labels), config.batch_size, device_type=device_type)
            config = replace(config, report_every=every)
        self.config = trainer.config = config
        trainer.data = self._loaded = data
        return trainer.run()

    def _report_calibration(self, ended: RunEnded) -> None:
        """The reliability diagram's numbers for a scored run, computed here, off the GUI."""
        result = ended.result
        if result is None or result.checkpoint is None or self._loaded is None:
            return
        try:
            report = calibration_on_test_digits(result.checkpoint, self._loaded)
        except Exception:  # noqa: BLE001 (logged and said in the view; the run itself stands)
            log.exception("scoring the calibration on the test digits failed")
            report = None
        self.calibrationReady.emit(report)

    def _on_event(self, event: Any) -> None:
        """Called by the trainer in this thread; must stay cheap (it runs between batches)."""
        if isinstance(event, BatchEvent):
            self._block.add(event)
            now = time.monotonic()
            if now - self._last_flush >= self._flush_interval:
                self._flush(now)
        elif isinstance(event, EpochEvent):
            self._flush()
            self.epochEnded.emit(event)
        elif isinstance(event, RunStarted):
            self._last_flush = time.monotonic()
            self.runStarted.emit(event)
        elif isinstance(event, LrChanged):
            self._flush()  # the curves hold every step before the change when its mark arrives
            self.lrChanged.emit(event)
        elif isinstance(event, GradientReport | DeadReluReport):
            self.insideEvent.emit(event)
        # RunEnded is emitted once by work(), from the trainer's return value.

    def _flush(self, now: float | None = None) -> None:
        if len(self._block):
            block, self._block = self._block, BatchBlock()
            self.batchesReady.emit(block)
        self._last_flush = time.monotonic() if now is None else now
