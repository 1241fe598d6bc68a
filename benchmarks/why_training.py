"""Figures for the "why training" instruments (issue 26), and screenshots of their views.

    python benchmarks/why_training.py [--shots DIR]

Headless figures: the landscape of the seed MLP trained 3 epochs on the bundled sample (seconds,
line minimum, grid centre vs its lowest point), the lr finder's suggestion and one epoch at it
vs the default. GUI figures (needs a display, e.g. xvfb-run): the longest the window's thread
went without running a 10 ms timer while each view computed in its worker (MLP and CNN
landscape, lr finder, runs over seeds); with --shots, a PNG of each view.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def headless() -> None:
    import torch

    from core.data.mnist import load_sample
    from core.training.landscape import LandscapeSettings, compute_landscape, initial_state_for
    from core.training.lr_find import find_lr_for_config
    from core.training.train_types import TrainConfig
    from core.training.trainer import Trainer

    torch.set_num_threads(1)
    data = load_sample()
    result = Trainer(TrainConfig(epochs=3, report_every=50), data=data, finalize=None).run().result
    model = result.checkpoint.build("cpu")
    init, note = initial_state_for("mlp", "nll", 1, None)
    land = compute_landscape(model, "mlp", data, init, LandscapeSettings(seed=1), init_note=note)
    low = min(min(row) for row in land.grid_loss)
    best = min(land.line, key=lambda p: p[1])
    print(
        f"landscape MLP 3 epochs: {land.seconds:.2f} s, line {len(land.line)} points, lowest at "
        f"alpha {best[0]:.2f}; grid {land.grid_size}x{land.grid_size} centre {land.centre_loss():.4f}"
        f" lowest {low:.4f} (centre/lowest {land.centre_loss() / low:.3f})"
    )
    config = TrainConfig()
    found = find_lr_for_config(config, data)
    accuracies = {}
    for lr in (config.lr, found.suggested_lr):
        run = dataclasses.replace(config, lr=lr, epochs=1, report_every=50)
        accuracies[lr] = Trainer(run, data=data, finalize=None).run().result.evaluation.accuracy
    print(
        f"lr-find MLP SGD: suggested {found.suggested_lr:.3g} in {found.seconds:.2f} s; one epoch: "
        f"{accuracies[found.suggested_lr]:.1%} at it vs {accuracies[config.lr]:.1%} at {config.lr:g}"
    )


class StallMeter:
    """A 10 ms timer on the window's thread; the longest gap between two ticks is the stall."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.last = time.perf_counter()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(10)

    def tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def reset(self) -> None:
        self.last, self.worst = time.perf_counter(), 0.0


def _wait(app, busy, meter: StallMeter, limit: float = 600.0) -> float:
    meter.reset()
    start = time.perf_counter()
    while busy() and time.perf_counter() - start < limit:
        app.processEvents()
        time.sleep(0.002)
    return meter.worst * 1000


def gui(shots: Path | None) -> None:
    from PySide6.QtWidgets import QApplication

    from core.data.mnist import load_sample
    from core.training.train_types import TrainConfig
    from core.training.trainer import Trainer
    from gui.training.why.landscape_view import LandscapeView
    from gui.training.why.lr_control import LrControl
    from gui.training.why.lr_finder_view import LrFinderView
    from gui.training.why.repeats_view import RepeatsView

    app = QApplication.instance() or QApplication(sys.argv)
    meter = StallMeter()
    data = load_sample()
    views = []
    for model, epochs in (("mlp", 3), ("cnn-bn", 1)):
        config = TrainConfig(model=model, epochs=epochs, report_every=50)
        result = Trainer(config, data=data, finalize=None, path_every=10).run().result
        view = LandscapeView()
        view.resize(1200, 560)
        view.show()
        view.set_run(result, f"{model}, {epochs} epoch(s) on the sample, path every 10 steps", data)
        started = time.perf_counter()
        view.compute()
        worst = _wait(app, lambda v=view: v.state.busy, meter)
        print(
            f"landscape view {model}: {time.perf_counter() - started:.1f} s, longest window "
            f"stall {worst:.0f} ms; {view.state.status}"
        )
        views.append((f"E-landscape-{model}.png", view))
    finder = LrFinderView(settings=lambda: TrainConfig(dataset="sample"))
    finder.state.data = lambda: data
    finder.resize(900, 520)
    finder.show()
    finder.find()
    print(f"lr finder view: longest stall {_wait(app, lambda: finder.state.busy, meter):.0f} ms")
    views.append(("E-lr-finder.png", finder))
    repeats = RepeatsView(settings=lambda: TrainConfig(epochs=2, report_every=5))
    repeats.state.data = lambda: data
    repeats.resize(900, 560)
    repeats.show()
    worst = 0.0
    for lr in (0.01, 0.05):
        repeats.start(TrainConfig(epochs=2, report_every=5, lr=lr))
        worst = max(worst, _wait(app, lambda: repeats.state.busy, meter))
    print(f"repeats view (2 configurations x 3 seeds): longest stall {worst:.0f} ms")
    print(repeats.summary.text())
    views.append(("E-repeats.png", repeats))
    control = LrControl()
    control.set_running(True, 0.01)
    control.changed(0.02, 240)
    control.resize(620, 40)
    control.show()
    views.append(("E-lr-control.png", control))
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        for name, view in views:
            view.grab().save(str(shots / name))
            print(f"saved {shots / name}")
    for _, view in views:
        if hasattr(view, "shutdown"):
            view.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=Path, help="save a PNG of each view here")
    parser.add_argument("--no-gui", action="store_true")
    args = parser.parse_args()
    headless()
    if not args.no_gui:
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        gui(args.shots)


if __name__ == "__main__":
    main()
