"""Does live training keep the app responsive, and what does the GUI cost the trainer?

    python benchmarks/gui_latency.py [--model mlp|cnn|both] [--view training|inspector]
        [--load] [--epochs 5] [--batch-size 64] [--repeats 3] [--json]

Starts the app offscreen, trains the model on full-size data (real MNIST when present, else
synthetic IDX files of MNIST's size written with ``core.data.mnist.write_idx_dataset``) by clicking
the Training tab's own Start path, and measures the event loop with a 5 ms heartbeat ``QTimer``:
every gap between two ticks beyond 5 ms is a stall. Stalls count from ``--warmup`` seconds after
the run started until it ended. The same run is timed headless (``core.training.trainer.Trainer`` alone,
same config and report interval) before and after each GUI run (H G H G ... H); each GUI run's
ratio is its samples/s over the mean of the headless runs around it, and ``throughput_ratio``
is the median ratio (this machine is shared, so single runs vary by +-15%).

``--view inspector`` keeps the "Inside the network" tab showing during the run, with gradient
statistics on (headless too), so its live first-layer templates and gradient curves redraw; ``--load`` runs one busy process of our
own beside it for the whole measurement (ended with it), to see a neighbour's effect.

With ``--json`` the last stdout line is one JSON object with at least ``max_stall_ms``,
``p99_stall_ms`` and ``throughput_ratio`` (the worst over the models), and ``runs``: one report
per model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HEARTBEAT_MS = 5


def prepare_data(folder: Path) -> tuple[str, str | None, str]:
    """(dataset, data_dir, description) of full-size data: real MNIST or synthetic IDX files."""
    from core.data.mnist import mnist_present, synthetic_mnist, write_idx_dataset

    if mnist_present():
        return "mnist", None, "real MNIST"
    data = synthetic_mnist()
    write_idx_dataset(
        folder,
        data.train_images,
        data.train_labels,
        data.test_images,
        data.test_labels,
        gzip=False,
    )
    return "mnist", str(folder), "synthetic MNIST-size IDX files"


def headless_samples_per_second(config, data) -> float:  # noqa: ANN001
    from core.training.trainer import Trainer

    ended = Trainer(config, on_event=lambda event: None, data=data).run()
    if ended.status != "finished" or ended.result is None:
        raise SystemExit(f"headless run {ended.status}: {ended.reason}")
    return ended.result.samples_per_second


class GuiSession:
    """The app, offscreen at 1280x800, with the Training tab showing; trains on request."""

    def __init__(self, config, view: str = "training") -> None:  # noqa: ANN001
        from PySide6.QtCore import QCoreApplication, QSettings
        from PySide6.QtWidgets import QApplication

        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        settings_dir = tempfile.mkdtemp(prefix="gui-latency-settings-")
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
        QCoreApplication.setOrganizationName("DigitLabBenchmark")
        QCoreApplication.setApplicationName("gui-latency")
        from gui.main_window import MainWindow

        self.window = MainWindow()
        self.window.resize(1280, 800)
        self.window.show()
        self.tab = self.window.training_tab
        shown = self.tab if view == "training" else self.window.inside_tab
        self.window.tabs.setCurrentWidget(shown)
        if config.data_dir is not None:
            self.tab.data_panel.use_folder(config.data_dir)
        self.tab.set_config(config)

    def run(self, warmup_s: float) -> dict:
        """One run started by the tab's own ``start()``; heartbeat gaps and speed."""
        from PySide6.QtCore import QEventLoop, Qt, QTimer

        tab = self.tab
        ticks: list[float] = []
        marks: dict[str, float] = {}
        outcome: dict = {}
        loop = QEventLoop()
        heartbeat = QTimer()
        heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        heartbeat.setInterval(HEARTBEAT_MS)
        heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))

        def on_started(_event) -> None:  # noqa: ANN001
            marks["started"] = time.perf_counter()
            marks["cpu_started"] = time.thread_time()  # this is the GUI thread
            marks["redraws_started"] = tab.plots.redraw_count

        def on_ended(ended) -> None:  # noqa: ANN001
            marks["ended"] = time.perf_counter()
            marks["cpu_ended"] = time.thread_time()
            marks["redraws_ended"] = tab.plots.redraw_count
            outcome["ended"] = ended
            QTimer.singleShot(300, loop.quit)  # let the end-of-run views draw, then stop

        def start() -> None:
            heartbeat.start()
            if not tab.start():
                raise SystemExit(f"the Training tab refused to start: {tab.message.text()}")

        tab.runStarted.connect(on_started)
        tab.runEnded.connect(on_ended)
        QTimer.singleShot(200, start)
        loop.exec()
        heartbeat.stop()
        tab.runStarted.disconnect(on_started)
        tab.runEnded.disconnect(on_ended)

        ended = outcome.get("ended")
        if ended is None or ended.status != "finished" or ended.result is None:
            reason = ended.reason if ended is not None else "no result"
            raise SystemExit(f"GUI run did not finish: {reason}")
        pairs = list(zip(ticks, ticks[1:], strict=False))
        window = (marks["started"] + warmup_s, marks["ended"])
        return {
            "samples_per_second": ended.result.samples_per_second,
            "stalls": [
                max(0.0, (b - a) * 1000 - HEARTBEAT_MS)
                for a, b in pairs
                if window[0] <= b <= window[1]
            ],
            "end_stalls": [
                max(0.0, (b - a) * 1000 - HEARTBEAT_MS) for a, b in pairs if b > window[1]
            ],
            "test_accuracy": ended.result.evaluation.accuracy if ended.result.evaluation else None,
            "gui_cpu_share": (marks["cpu_ended"] - marks["cpu_started"])
            / (marks["ended"] - marks["started"]),
            "redraws_per_second": (marks["redraws_ended"] - marks["redraws_started"])
            / (marks["ended"] - marks["started"]),
        }

    def close(self) -> None:
        self.window.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("mlp", "cnn", "both"), default="mlp")
    parser.add_argument("--view", choices=("training", "inspector"), default="training")
    parser.add_argument("--load", action="store_true", help="one busy process of our own beside")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--repeats", type=int, default=3, help="GUI runs, each between two headless runs"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds ignored after start")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def busy_neighbour(seconds: float):  # noqa: ANN201
    """A process that spins one core for at most ``seconds`` (ended by the caller sooner)."""
    import subprocess

    code = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def measure_model(args: argparse.Namespace, model: str, data, prepared) -> dict:  # noqa: ANN001
    from core.training.train_settings import report_every
    from core.training.train_types import TrainConfig

    dataset, data_dir, _description = prepared
    config = TrainConfig(
        model=model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        device="auto",
        dataset=dataset,
        data_dir=data_dir,
        gradient_stats=args.view == "inspector",  # the view's live templates and flow curves
    )
    every = report_every(data.train_samples, args.batch_size)
    headless_config = TrainConfig(**{**config.to_dict(), "report_every": every})
    session = GuiSession(config, args.view)
    # Interleaved H G H G ... H: each GUI run is compared with the headless runs around
    # it, so a neighbour's load on this shared machine hits both sides of a ratio.
    headless = [headless_samples_per_second(headless_config, data)]
    gui_runs = []
    for _ in range(args.repeats):
        gui_runs.append(session.run(args.warmup))
        headless.append(headless_samples_per_second(headless_config, data))
    redraws = session.tab.plots.redraw_count
    session.close()
    return summarise(model, headless, gui_runs, redraws, every)


def summarise(model: str, headless, gui_runs, redraws: int, every: int) -> dict:  # noqa: ANN001
    import statistics

    ratios = [
        run["samples_per_second"] / ((headless[i] + headless[i + 1]) / 2)
        for i, run in enumerate(gui_runs)
    ]
    stalls = sorted(s for run in gui_runs for s in run["stalls"])
    end_stalls = [s for run in gui_runs for s in run["end_stalls"]]
    return {
        "model": model,
        "headless_samples_per_second": [round(x) for x in headless],
        "gui_samples_per_second": [round(run["samples_per_second"]) for run in gui_runs],
        "throughput_ratios": [round(r, 3) for r in ratios],
        "throughput_ratio": round(statistics.median(ratios), 3),
        "heartbeats": len(stalls),
        "max_stall_ms": round(stalls[-1], 2) if stalls else None,
        "p99_stall_ms": round(stalls[int(0.99 * (len(stalls) - 1))], 2) if stalls else None,
        "median_stall_ms": round(stalls[len(stalls) // 2], 2) if stalls else None,
        "max_stall_end_of_run_ms": round(max(end_stalls), 2) if end_stalls else None,
        "gui_thread_cpu_share": round(statistics.median(r["gui_cpu_share"] for r in gui_runs), 3),
        "redraws": redraws,
        "redraws_per_second": round(
            statistics.median(r["redraws_per_second"] for r in gui_runs), 1
        ),
        "test_accuracy": gui_runs[-1]["test_accuracy"],
        "report_every": every,
    }


def print_report(report: dict, args: argparse.Namespace, description: str) -> None:
    print(
        f"{report['model'].upper()}: {description}, {args.epochs} epochs, batch "
        f"{args.batch_size}, view {args.view}, {'with' if args.load else 'without'} a busy "
        f"neighbour, {args.repeats} GUI runs between headless runs\n"
        f"  headless samples/s {report['headless_samples_per_second']}\n"
        f"  GUI samples/s      {report['gui_samples_per_second']}\n"
        f"  throughput ratio (median) {report['throughput_ratio']} of "
        f"{report['throughput_ratios']}\n"
        f"  event loop stalls after {args.warmup:g} s warm-up: max {report['max_stall_ms']} ms, "
        f"p99 {report['p99_stall_ms']} ms, median {report['median_stall_ms']} ms over "
        f"{report['heartbeats']} heartbeats; at the end of a run max "
        f"{report['max_stall_end_of_run_ms']} ms\n"
        f"  GUI thread CPU while training: {report['gui_thread_cpu_share']:.1%} of one core, "
        f"{report['redraws_per_second']} loss-curve redraws a second"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from core.data.mnist import load_mnist

    models = ["mlp", "cnn"] if args.model == "both" else [args.model]
    neighbour = busy_neighbour(3600) if args.load else None
    try:
        with tempfile.TemporaryDirectory(prefix="gui-latency-") as tmp:
            os.environ.setdefault("DIGIT_LAB_DATA_DIR", str(Path(tmp) / "user"))
            prepared = prepare_data(Path(tmp) / "mnist")
            data = load_mnist(prepared[0], prepared[1])
            reports = [measure_model(args, model, data, prepared) for model in models]
    finally:
        if neighbour is not None:
            neighbour.kill()
    for report in reports if not args.json else []:
        print_report(report, args, prepared[2])
    summary = {
        "data": prepared[2],
        "train_samples": data.train_samples,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "repeats": args.repeats,
        "view": args.view,
        "busy_neighbour": args.load,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "max_stall_ms": max((r["max_stall_ms"] or 0) for r in reports),
        "p99_stall_ms": max((r["p99_stall_ms"] or 0) for r in reports),
        "throughput_ratio": min(r["throughput_ratio"] for r in reports),
        "runs": reports,
        "goals": {"max_stall_ms": 50, "throughput_ratio": 0.9},
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print("goals: max stall <= 50 ms, throughput ratio >= 0.9")
    return 0


if __name__ == "__main__":
    sys.exit(main())
