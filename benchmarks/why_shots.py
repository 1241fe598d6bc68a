"""Screenshots of the why-training pages in the real main window, filled with results.

    xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb \\
        nice -n 5 .venv/bin/python benchmarks/why_shots.py [--out DIR]

One run trained in the Training tab (the run list's first row), the landscape of an MLP run with
its path, the learning-rate finder's curve, two configurations repeated over three seeds (their
bands overlaid, their rows in the run list with accuracy as mean ± sd); each page grabbed at
1024x700 and 1280x800 as ``F-<page>-<size>.png`` (default folder /tmp/team/shots).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = {"1024x700": (1024, 700), "1280x800": (1280, 800)}


def settle(seconds: float = 0.6) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # sleeps between: a spinning loop would hold the GIL
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def wait(busy, limit_s: float = 300.0) -> None:  # noqa: ANN001
    started = time.monotonic()
    while busy() and time.monotonic() - started < limit_s:
        settle(0.05)


def fill(window) -> None:  # noqa: ANN001
    from core.data.mnist import load_sample
    from core.training.train_types import TrainConfig
    from core.training.trainer import Trainer

    tab, data = window.training_tab, load_sample()
    why = tab.why
    tab.data_panel.use_sample()
    tab.epochs_spin.setValue(1)
    tab.start()
    wait(lambda: tab.is_running)
    run = Trainer(
        TrainConfig(epochs=3, report_every=50), data=data, finalize=None, path_every=10
    ).run()
    why.landscape.set_run(run.result, "MLP, 3 epochs on the sample, path every 10 steps", data)
    why.landscape.compute()
    wait(lambda: why.landscape.state.busy)
    why.lr_finder.state.data = lambda: data
    why.find_learning_rate()
    wait(lambda: why.lr_finder.state.busy)
    why.repeats.state.data = lambda: data
    for lr in (0.01, 0.05):
        why.repeats.start(TrainConfig(dataset="sample", epochs=2, report_every=5, lr=lr))
        wait(lambda: why.repeats.state.busy)


def fresh_app(prefix: str):  # noqa: ANN201
    """The QApplication on the xcb platform (unless told otherwise), with a data folder and a
    settings folder of its own: nothing kept or docked by an earlier run changes the window."""
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["DIGIT_LAB_DATA_DIR"] = str(scratch / "data")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(sys.argv)


def shown_main_window(prefix: str):  # noqa: ANN201
    """``(app, window)``: the main window as ``main.py`` builds it, shown and its tabs in."""
    app = fresh_app(prefix)
    from gui.main_window import MainWindow

    window = MainWindow()
    window.move(0, 0)
    window.show()
    wait(lambda: not window.ready)
    settle(1.0)
    return app, window


def parse_out() -> Path:
    parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/team/shots"))
    return parser.parse_args().out


def main() -> int:
    out = parse_out()
    app, window = shown_main_window("why-shots-")
    window.tabs.setCurrentWidget(window.training_tab)
    fill(window)
    why = window.training_tab.why
    pages = {
        "landscape": why.landscape,
        "lr-finder": why.lr_finder,
        "repeats": why.repeats,
        "run-list": window.training_tab.plots,
    }
    out.mkdir(parents=True, exist_ok=True)
    for size_name, size in SIZES.items():
        window.resize(*size)
        for name, page in pages.items():
            window.training_tab.views.setCurrentWidget(page)
            settle()
            path = out / f"F-{name}-{size_name}.png"
            window.grab().save(str(path))
            print(f"saved {path}")
    window.training_tab.shutdown()
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
