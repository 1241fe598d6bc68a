"""Helpers shared by the tests: import them from here, never from another test module.

Plain functions (fixtures live in the conftest.py files). Nothing here imports Qt at module
level, so the core tests stay Qt-free; the one Qt helper imports inside itself.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from core.data.mnist import MnistData
    from core.storage.checkpoint import Checkpoint

ROOT = Path(__file__).resolve().parents[1]


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    """``python main.py ARGS`` in a fresh process, as a user would run it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def random_checkpoint(
    name: str = "cnn",
    loss: str = "nll",
    seed: int = 0,
    *,
    dataset: str = "test",
    accuracy: float | None = None,
) -> Checkpoint:
    """An untrained ``name`` model as a checkpoint (same weights for the same seed)."""
    import torch

    from core.storage.checkpoint import Checkpoint
    from core.training.models import build_model

    torch.manual_seed(seed)
    metrics = {} if accuracy is None else {"test_accuracy": accuracy}
    return Checkpoint.from_model(
        build_model(name, loss), name, loss, dataset=dataset, metrics=metrics
    )


def synthetic(n_train: int = 40, n_test: int = 20, seed: int = 0):
    """Ten classes, each a distinct bright square, so a label is visible in its picture.

    (train images, train labels, test images, test labels) as uint8 numpy arrays, e.g. for
    ``core.data.mnist.write_idx_dataset``.
    """
    rng = np.random.default_rng(seed)

    def make(n: int):
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        images = rng.integers(0, 40, (n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            row, col = divmod(int(label), 5)
            images[i, 4 + 10 * row : 12 + 10 * row, 2 + 5 * col : 6 + 5 * col] = 255
        return images, labels

    train_images, train_labels = make(n_train)
    test_images, test_labels = make(n_test)
    return train_images, train_labels, test_images, test_labels


def mlp_on_sample_but(
    spared: int, test_digits: int = 1000
) -> tuple[Checkpoint, MnistData, torch.Tensor, torch.Tensor]:
    """An MLP trained 1 epoch on the sample without its last ``spared`` training digits: the
    model, the data it saw, and the spared digits (to make an "own hand" from)."""
    from core.data.mnist import MnistData, load_sample
    from core.training.train_types import TrainConfig
    from core.training.trainer import Trainer

    sample = load_sample()
    n = sample.train_samples - spared
    mnist = MnistData(
        "sample",
        "bundled sample",
        sample.train_images[:n],
        sample.train_labels[:n],
        sample.test_images[:test_digits],
        sample.test_labels[:test_digits],
    )
    ended = Trainer(TrainConfig(model="mlp", epochs=1, seed=1), data=mnist, finalize=None).run()
    return ended.result.checkpoint, mnist, sample.train_images[n:], sample.train_labels[n:]


def make_draw_tab(qtbot: Any, state: Any) -> Any:
    """A shown Draw tab over ``state`` whose model's "is this a digit" statistics are ready."""
    from gui.draw.draw_tab import DrawTab

    widget = DrawTab(state)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: not widget.ood_pending, timeout=120_000)
    return widget


class ThreadLeakGuard:
    """Sees every ``QThread`` a test starts and names the ones it leaves running (napari's habit).

    ``install(monkeypatch)`` patches ``QThread.start`` to record each thread with the place that
    started it, whatever the thread's parent (asking the application for its children misses a
    thread parented to a widget: every thread here is). ``check(qtbot)`` gives the threads a
    moment to end on their own, then fails the test naming those still running, after asking
    them to quit so that one leak does not abort the next test.
    """

    GRACE_MS = 2000  # a thread told to stop ends within one step of its work

    def __init__(self) -> None:
        self.started: list[tuple[Any, str]] = []

    def install(self, monkeypatch: Any) -> None:
        from PySide6.QtCore import QThread

        original = QThread.start
        guard = self

        def start(thread: Any, *args: Any, **kwargs: Any) -> None:
            guard.started.append((thread, _caller()))
            original(thread, *args, **kwargs)

        monkeypatch.setattr(QThread, "start", start)

    def running(self) -> list[tuple[Any, str]]:
        from gui.workers import is_running

        return [(thread, place) for thread, place in self.started if is_running(thread)]

    def leaks(self, qtbot: Any, grace_ms: int = GRACE_MS) -> list[str]:
        """The threads still running after ``grace_ms`` of event processing, described."""
        from pytestqt.exceptions import TimeoutError as QtTimeout

        if self.running():
            with contextlib.suppress(QtTimeout):  # those still running are the leaks
                qtbot.waitUntil(lambda: not self.running(), timeout=grace_ms)
        return [f"{_name(thread)} started at {place}" for thread, place in self.running()]

    def stop_all(self, timeout_ms: int = 2000) -> None:
        from gui.workers import wait_for

        for thread, _place in self.running():
            thread.quit()
            wait_for(thread, timeout_ms)

    def check(self, qtbot: Any, grace_ms: int = GRACE_MS) -> None:
        import pytest

        leaks = self.leaks(qtbot, grace_ms)
        self.stop_all()
        if leaks:
            pytest.fail(
                f"the test left {len(leaks)} QThread(s) running: " + "; ".join(leaks),
                pytrace=False,
            )


def _name(thread: Any) -> str:
    try:
        return repr(thread.objectName() or type(thread).__name__)
    except RuntimeError:
        return "a deleted thread"


def _caller() -> str:
    """The innermost frame of the project that started a thread: not Qt, pytest, this file or
    the worker bridge (``gui/workers.py``), whose caller is the one to blame."""
    import traceback

    skipped = {Path(__file__).resolve(), ROOT / "gui" / "workers.py"}
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = Path(frame.filename).resolve()
        if path not in skipped and ROOT in path.parents and ".venv" not in path.parts:
            return f"{path.relative_to(ROOT)}:{frame.lineno} ({frame.name})"
    return "an unknown place"
