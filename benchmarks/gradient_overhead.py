"""What the opt-in gradient-flow statistics cost the MLP's training throughput, on the CPU.

    .venv/bin/python benchmarks/gradient_overhead.py [--repeats 9] [--samples 30000] [--json]

Runs the real ``core.training.trainer.Trainer`` on MNIST-sized synthetic digits (``core.data.mnist.
synthetic_mnist``), one epoch at a time, alternating ``gradient_stats`` off and on so that a busy
machine slows both alike, and compares the median samples/s. Two report cadences: the GUI's
(``core.training.train_settings.report_every``, about 100 reports an epoch) and every batch (the CLI's
default, the worst case). The statistics are throttled by time (``GradientMonitor``), so their cost
stays bounded at any cadence; the per-epoch dead-ReLU probe runs after the epoch's clock stops.
Goal: <= 5 % fewer samples/s. Wall-clock figures: note the machine's load (``uptime``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.mnist import synthetic_mnist  # noqa: E402
from core.training.train_settings import report_every  # noqa: E402
from core.training.train_types import TrainConfig  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

GOAL = 0.05


def run_once(config: TrainConfig, data) -> tuple[float, int]:  # noqa: ANN001
    """Samples/s of one run and how many gradient reports it sent."""
    reports = []
    trainer = Trainer(config, on_event=reports.append, data=data)
    ended = trainer.run()
    if ended.status != "finished":
        raise SystemExit(f"run {ended.status}: {ended.reason}")
    sent = sum(type(event).__name__ == "GradientReport" for event in reports)
    return ended.result.samples_per_second, sent


def compare(base: TrainConfig, data, repeats: int) -> dict:  # noqa: ANN001
    off, on, sent = [], [], []
    run_once(replace(base, gradient_stats=False), data)  # warm-up: allocation, kernel choice
    for index in range(repeats):  # alternate which goes first: load drifts within a pair too
        for stats in (False, True) if index % 2 else (True, False):
            speed, reports = run_once(replace(base, gradient_stats=stats), data)
            (on if stats else off).append(speed)
            if stats:
                sent.append(reports)
    off_median, on_median = statistics.median(off), statistics.median(on)
    return {
        "report_every": base.report_every,
        "off_samples_per_second": round(off_median),
        "on_samples_per_second": round(on_median),
        "overhead": round(1 - on_median / off_median, 4),
        "gradient_reports_per_run": statistics.median(sent),
    }


def report_cost(repeats: int = 300) -> dict:
    """The added time of one gradient report on the MLP (``observe`` minus a plain step),
    interleaved, and the share of training time it costs at ``REPORT_INTERVAL_S``."""
    import time

    import torch
    import torch.nn.functional as F

    from core.data.mnist import load_sample, normalize
    from core.inspection.activations import REPORT_INTERVAL_S, GradientMonitor
    from core.training.models import build_model

    torch.manual_seed(0)
    model = build_model("mlp").train()
    data = load_sample()
    x, y = normalize(data.train_images[:64]).reshape(64, -1), data.train_labels[:64]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    monitor = GradientMonitor(model, "mlp", min_interval_s=0.0)
    plain, observed = [], []
    for _ in range(repeats):
        for sink, step in ((plain, optimizer.step), (observed, None)):
            optimizer.zero_grad()
            F.nll_loss(model(x), y).backward()
            start = time.perf_counter()
            if step is None:
                monitor.observe(optimizer.step, 1, 1)
            else:
                step()
            sink.append(time.perf_counter() - start)
    added = max(0.0, statistics.median(observed) - statistics.median(plain))
    return {
        "added_ms_per_report": round(added * 1000, 3),
        "reports_per_second": round(1 / REPORT_INTERVAL_S, 2),
        "share_of_training_time": round(added / REPORT_INTERVAL_S, 5),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--samples", type=int, default=30_000, help="training digits per epoch")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = synthetic_mnist(args.samples, 1000)
    base = TrainConfig(model="mlp", epochs=1, batch_size=64, device="cpu", dataset="sample")
    cadences = [report_every(args.samples, base.batch_size), 1]
    results = [compare(replace(base, report_every=every), data, args.repeats) for every in cadences]
    cost = report_cost()
    summary = {
        "model": "mlp",
        "report_cost": cost,
        "device": "cpu",
        "samples": args.samples,
        "repeats": args.repeats,
        "load_average": round(os.getloadavg()[0], 2),
        "results": results,
        "goal": GOAL,
        "meets_goal": all(r["overhead"] <= GOAL for r in results),
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(
        f"MLP, cpu, {args.samples:,} digits/epoch, {args.repeats} pairs, load {summary['load_average']}"
    )
    for r in results:
        print(
            f"  report every {r['report_every']:>3} batches: {r['off_samples_per_second']:,} -> "
            f"{r['on_samples_per_second']:,} samples/s with gradient stats "
            f"({r['overhead']:+.1%}; {r['gradient_reports_per_run']:.0f} reports a run)"
        )
    print(
        f"  one report adds {cost['added_ms_per_report']:.2f} ms; at {cost['reports_per_second']:g} "
        f"reports/s that is {cost['share_of_training_time']:.2%} of training time"
    )
    print(f"  goal <= {GOAL:.0%}: {'met' if summary['meets_goal'] else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
