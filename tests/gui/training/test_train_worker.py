"""The worker bridge with the real trainer on the bundled sample: events become few signals."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from core.training.train_settings import report_every
from core.training.train_types import RunEnded, RunStarted, TrainConfig
from gui.training.train_worker import BatchBlock, TrainWorker, start_worker


class Collector(QObject):
    """Receives the worker's signals in the GUI thread, as the Training tab does."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, list] = {
            k: [] for k in ("started", "blocks", "epochs", "ended", "data", "calibration")
        }

    @Slot(object)
    def calibration(self, report) -> None:  # noqa: ANN001
        self.seen["calibration"].append((report, len(self.seen["ended"])))

    @Slot(object)
    def started(self, event) -> None:  # noqa: ANN001
        self.seen["started"].append(event)

    @Slot(object)
    def blocks(self, block) -> None:  # noqa: ANN001
        self.seen["blocks"].append(block)

    @Slot(object)
    def epochs(self, event) -> None:  # noqa: ANN001
        self.seen["epochs"].append(event)

    @Slot(object)
    def ended(self, event) -> None:  # noqa: ANN001
        self.seen["ended"].append(event)

    @Slot(object)
    def data(self, data) -> None:  # noqa: ANN001
        self.seen["data"].append(data)


def _run(qtbot, qapp, worker: TrainWorker, timeout_ms: int = 60_000):
    """Run ``worker`` in its own QThread; collect every signal until the thread is done."""
    collector = Collector()
    worker.runStarted.connect(collector.started)
    worker.batchesReady.connect(collector.blocks)
    worker.epochEnded.connect(collector.epochs)
    worker.runEnded.connect(collector.ended)
    worker.dataReady.connect(collector.data)
    worker.calibrationReady.connect(collector.calibration)
    thread = start_worker(worker, qapp)
    qtbot.waitUntil(lambda: len(collector.seen["ended"]) == 1, timeout=timeout_ms)
    qtbot.waitUntil(lambda: _finished(thread), timeout=10_000)
    return collector.seen, thread


def _finished(thread) -> bool:  # noqa: ANN001
    """True once the thread has ended (it deletes itself later, as wired by start_worker)."""
    return not shiboken6.isValid(thread) or thread.isFinished()


def test_the_worker_reports_at_core_cadence(qtbot, qapp, sample):
    config = TrainConfig(epochs=1, batch_size=8, dataset="sample")
    worker = TrainWorker(config, sample)
    seen, _ = _run(qtbot, qapp, worker)
    expected = report_every(sample.train_samples, 8)
    assert expected > 1  # 500 steps: about 100 reports, not 500
    assert worker.config.report_every == expected
    steps = [s for block in seen["blocks"] for s in block.steps]
    assert steps[:2] == [expected, 2 * expected]


def test_real_run_reports_through_buffered_signals(qtbot, qapp, sample):
    config = TrainConfig(epochs=2, batch_size=32, dataset="sample")
    seen, thread = _run(qtbot, qapp, TrainWorker(config, sample))
    assert _finished(thread)
    assert len(seen["started"]) == 1 and isinstance(seen["started"][0], RunStarted)
    assert [e.epoch for e in seen["epochs"]] == [1, 2]
    (ended,) = seen["ended"]
    assert isinstance(ended, RunEnded) and ended.status == "finished", ended.reason
    assert ended.result is not None and ended.result.checkpoint is not None
    steps = [s for block in seen["blocks"] for s in block.steps]
    assert steps == sorted(steps) and steps[-1] == seen["started"][0].total_steps
    assert len(seen["blocks"]) < len(steps)  # coalesced, not one signal per point
    # After the run: how far its confidence can be trusted, on every test digit.
    ((report, ended_before),) = seen["calibration"]
    assert ended_before == 1  # runEnded first: the learner sees the result without waiting
    assert report.before.samples == report.after.samples == sample.test_samples
    assert report.temperature == ended.result.checkpoint.temperature


def test_blocks_are_flushed_by_time_not_per_batch(qtbot, qapp, sample):
    # With a huge flush interval every block is sent at an epoch boundary only.
    config = TrainConfig(epochs=2, batch_size=64, dataset="sample")
    seen, _ = _run(qtbot, qapp, TrainWorker(config, sample, flush_interval=1e6))
    assert len(seen["blocks"]) == 2
    assert all(isinstance(b, BatchBlock) and len(b) > 10 for b in seen["blocks"])


def test_worker_loads_data_itself_and_reports_it(qtbot, qapp):
    config = TrainConfig(epochs=1, batch_size=256, dataset="sample")
    seen, _ = _run(qtbot, qapp, TrainWorker(config))
    assert len(seen["data"]) == 1 and seen["data"][0].name == "sample"
    assert seen["ended"][0].status == "finished"


def test_corrupt_data_becomes_a_failed_run_naming_the_file(qtbot, qapp, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (raw / stem).write_bytes(b"\x00\x00\x08\x03 not really MNIST")
    config = TrainConfig(epochs=1, dataset="mnist", data_dir=str(tmp_path))
    seen, _ = _run(qtbot, qapp, TrainWorker(config))
    (ended,) = seen["ended"]
    assert ended.status == "failed"
    assert "train-images-idx3-ubyte" in ended.reason
    assert seen["started"] == []


def test_a_crashing_trainer_still_ends_the_run_with_its_reason(qtbot, qapp, sample):
    class ExplodingTrainer:
        def __init__(self, config, on_event=None, data=None):  # noqa: ARG002
            self.config, self.data, self.stop_requested = config, data, False

        def run(self):
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    worker = TrainWorker(TrainConfig(), sample, trainer_factory=ExplodingTrainer)
    seen, thread = _run(qtbot, qapp, worker)
    (ended,) = seen["ended"]
    assert ended.status == "failed" and "out of memory" in ended.reason
    assert _finished(thread)


def test_stop_requested_before_the_thread_runs(qtbot, qapp, sample):
    worker = TrainWorker(TrainConfig(epochs=50, dataset="sample"), sample)
    worker.stop()
    assert worker.is_stopping and worker.trainer.stop_requested  # one state, the trainer's
    seen, _ = _run(qtbot, qapp, worker)
    assert seen["ended"][0].status == "stopped"
    assert seen["epochs"] == []


def test_pause_and_resume_are_the_trainers_state(qtbot, qapp, sample):
    worker = TrainWorker(TrainConfig(epochs=1, dataset="sample"), sample)
    worker.pause()
    assert worker.is_paused and worker.trainer.is_paused
    worker.resume()
    assert not worker.is_paused and not worker.trainer.is_paused


def test_a_calibration_failure_is_reported_and_the_run_stands(qtbot, qapp, sample, monkeypatch):
    def broken(checkpoint, data):  # noqa: ARG001
        raise RuntimeError("no memory left for the test digits")

    monkeypatch.setattr("gui.training.train_worker.calibration_on_test_digits", broken)
    worker = TrainWorker(TrainConfig(epochs=1, batch_size=256, dataset="sample"), sample)
    seen, _ = _run(qtbot, qapp, worker)
    assert seen["ended"][0].status == "finished"
    assert seen["calibration"] == [(None, 1)]  # said, not swallowed


def test_the_evaluation_view_says_when_calibration_is_missing(qtbot):
    from gui.training.evaluation_view import EvaluationView

    view = EvaluationView()
    qtbot.addWidget(view)
    view.show_calibration(None)
    assert "could not be scored" in view.reliability.caption.text()
    assert view.side_tabs.tabText(1) == "Confidence"


class _Quick(QObject):
    finished = Signal()

    @Slot()
    def work(self) -> None:
        self.ran_in = QThread.currentThread()
        self.finished.emit()


def test_a_finished_worker_is_destroyed_in_the_gui_thread_not_its_own(qtbot):
    """Destroying a Python QObject in the worker thread can deadlock against the GUI thread
    (Qt's connection lock vs the GIL): the worker goes home first and is deleted there."""
    worker = _Quick()
    parent = QObject()  # owns the thread (as a tab does), so Python never drops it running
    start_worker(worker, parent)
    destroyed = []
    worker.destroyed.connect(lambda: destroyed.append(QThread.currentThread()))
    qtbot.waitUntil(lambda: bool(destroyed), timeout=10_000)
    gui = QCoreApplication.instance().thread()
    assert worker.ran_in is not gui and destroyed[0] is gui
    for thread in parent.findChildren(QThread):
        thread.wait(5000)
