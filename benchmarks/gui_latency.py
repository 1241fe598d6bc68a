"""Does live training keep the app responsive, and what does the GUI cost the trainer?

    python benchmarks/gui_latency.py [--epochs 3] [--batch-size 64] [--json]

Starts the app offscreen, trains the MLP on full-size data (real MNIST when present, else
synthetic IDX files of MNIST's size written with ``core.data.write_idx_dataset``) by clicking
the Training tab's own Start path, and measures the event loop with a 5 ms heartbeat ``QTimer``:
every gap between two ticks beyond 5 ms is a stall. Stalls count from ``--warmup`` seconds after
the run started until it ended. The same run is timed headless (``core.trainer.Trainer`` alone,
same config and report interval) before and after the GUI run; the throughput ratio is the GUI
run's samples/s over the mean of the two headless runs.

With ``--json`` the last stdout line is one JSON object with at least ``max_stall_ms``,
``p99_stall_ms`` and ``throughput_ratio``.
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
    from core.data import mnist_present, synthetic_mnist, write_idx_dataset

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
    from core.trainer import Trainer

    ended = Trainer(config, on_event=lambda event: None, data=data).run()
    if ended.status != "finished" or ended.result is None:
        raise SystemExit(f"headless run {ended.status}: {ended.reason}")
    return ended.result.samples_per_second


def gui_run(config, warmup_s: float) -> dict:  # noqa: ANN001
    """Train through the Training tab with a heartbeat timer; return stalls and speed."""
    from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings_dir = tempfile.mkdtemp(prefix="gui-latency-settings-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    QCoreApplication.setOrganizationName("DigitLabBenchmark")
    QCoreApplication.setApplicationName("gui-latency")

    from gui.main_window import MainWindow

    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    window.tabs.setCurrentWidget(window.training_tab)
    tab = window.training_tab
    if config.data_dir is not None:
        tab.data_panel.use_folder(config.data_dir)
    tab.set_config(config)

    ticks: list[float] = []
    marks: dict[str, float] = {}
    outcome: dict = {}
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def on_started(_event) -> None:  # noqa: ANN001
        marks["started"] = time.perf_counter()

    def on_ended(ended) -> None:  # noqa: ANN001
        marks["ended"] = time.perf_counter()
        outcome["ended"] = ended
        QTimer.singleShot(300, app.quit)  # let the end-of-run views draw, then stop

    def start() -> None:
        heartbeat.start()
        if not tab.start():
            raise SystemExit(f"the Training tab refused to start: {tab.message.text()}")

    tab.runStarted.connect(on_started)
    tab.runEnded.connect(on_ended)
    QTimer.singleShot(200, start)
    app.exec()
    heartbeat.stop()
    window.close()

    ended = outcome.get("ended")
    if ended is None or ended.status != "finished" or ended.result is None:
        reason = ended.reason if ended is not None else "no result"
        raise SystemExit(f"GUI run did not finish: {reason}")
    gaps = []
    for before, after in zip(ticks, ticks[1:], strict=False):
        if marks["started"] + warmup_s <= after <= marks["ended"]:
            gaps.append(max(0.0, (after - before) * 1000 - HEARTBEAT_MS))
    end_gaps = [
        max(0.0, (after - before) * 1000 - HEARTBEAT_MS)
        for before, after in zip(ticks, ticks[1:], strict=False)
        if after > marks["ended"]
    ]
    gaps.sort()
    return {
        "samples_per_second": ended.result.samples_per_second,
        "heartbeats": len(gaps),
        "max_stall_ms": round(gaps[-1], 2) if gaps else None,
        "p99_stall_ms": round(gaps[int(0.99 * (len(gaps) - 1))], 2) if gaps else None,
        "median_stall_ms": round(gaps[len(gaps) // 2], 2) if gaps else None,
        "max_stall_end_of_run_ms": round(max(end_gaps), 2) if end_gaps else None,
        "redraws": tab.plots.redraw_count,
        "loss_points": tab.plots.point_count(),
        "test_accuracy": ended.result.evaluation.accuracy if ended.result.evaluation else None,
        "report_every": tab.plots.current.config.report_every if tab.plots.current else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds ignored after start")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import torch

    from core.data import load_mnist
    from core.train_types import TrainConfig
    from gui.train_worker import auto_report_every

    with tempfile.TemporaryDirectory(prefix="gui-latency-") as tmp:
        os.environ.setdefault("DIGIT_LAB_DATA_DIR", str(Path(tmp) / "user"))
        dataset, data_dir, description = prepare_data(Path(tmp) / "mnist")
        data = load_mnist(dataset, data_dir)
        config = TrainConfig(
            model="mlp",
            epochs=args.epochs,
            batch_size=args.batch_size,
            device="auto",
            dataset=dataset,
            data_dir=data_dir,
        )
        headless_config = TrainConfig(
            **{
                **config.to_dict(),
                "report_every": auto_report_every(data.train_samples, args.batch_size),
            }
        )
        before = headless_samples_per_second(headless_config, data)
        gui = gui_run(config, args.warmup)
        after = headless_samples_per_second(headless_config, data)

    headless = (before + after) / 2
    report = {
        "data": description,
        "train_samples": data.train_samples,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "headless_samples_per_second": round(headless, 1),
        "headless_runs": [round(before, 1), round(after, 1)],
        "gui_samples_per_second": round(gui["samples_per_second"], 1),
        "throughput_ratio": round(gui["samples_per_second"] / headless, 3),
        **{k: v for k, v in gui.items() if k != "samples_per_second"},
        "goals": {"max_stall_ms": 50, "throughput_ratio": 0.9},
    }
    if not args.json:
        print(
            f"{description}, {data.train_samples:,} samples x {args.epochs} epochs, "
            f"batch {args.batch_size}\n"
            f"headless {headless:,.0f} samples/s (runs {before:,.0f} / {after:,.0f}), "
            f"GUI {gui['samples_per_second']:,.0f} samples/s: ratio {report['throughput_ratio']}\n"
            f"event loop stalls after {args.warmup:g} s warm-up: max {gui['max_stall_ms']} ms, "
            f"p99 {gui['p99_stall_ms']} ms, median {gui['median_stall_ms']} ms "
            f"over {gui['heartbeats']} heartbeats; {gui['redraws']} redraws\n"
            f"goals: max stall <= 50 ms, throughput ratio >= 0.9"
        )
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
