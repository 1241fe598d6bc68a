"""How long the hidden-layer map of 10,000 digits takes on the CPU (``core.inspection.embedding_map``).

    .venv/bin/python benchmarks/map_speed.py [--digits 10000] [--repeats 5] [--threads 0] [--json]

MNIST-sized test digits from ``core.data.mnist.synthetic_mnist`` (the bundled sample's digits, shifted);
the bundled default model and an MLP. ``seconds`` is the whole build (forward pass, PCA with
``torch.pca_lowrank``, the 5-NN measure), ``projection_seconds`` the part after the forward pass.
Goal: <= 1 s for 10,000 digits. Wall-clock figures: note the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.mnist import synthetic_mnist  # noqa: E402
from core.inspection.embedding_map import map_test_digits  # noqa: E402
from core.resources import bundled_model_file  # noqa: E402
from core.storage.checkpoint import load_checkpoint  # noqa: E402
from core.training.models import build_model  # noqa: E402

GOAL_SECONDS = 1.0


def measure(model, name: str, data, repeats: int) -> dict:  # noqa: ANN001
    map_test_digits(model, name, data)  # warm-up
    runs = [map_test_digits(model, name, data) for _ in range(repeats)]
    return {
        "model": name,
        "seconds": round(statistics.median(r.seconds for r in runs), 4),
        "projection_seconds": round(statistics.median(r.projection_seconds for r in runs), 4),
        "knn_accuracy": round(runs[0].knn_accuracy, 4),
        "same_points_every_run": all((r.points == runs[0].points).all() for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data = synthetic_mnist(100, args.digits)
    bundled = load_checkpoint(bundled_model_file())
    torch.manual_seed(0)
    models = [(bundled.build(), bundled.model_name), (build_model("mlp").eval(), "mlp")]
    results = [measure(model, name, data, args.repeats) for model, name in models]
    summary = {
        "digits": args.digits,
        "threads": torch.get_num_threads(),
        "load_average": round(os.getloadavg()[0], 2),
        "results": results,
        "goal_seconds": GOAL_SECONDS,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(
        f"{args.digits:,} digits, cpu, {summary['threads']} threads, load {summary['load_average']}"
    )
    for r in results:
        print(
            f"  {r['model']}: {r['seconds']:.3f} s in all, {r['projection_seconds']:.3f} s after "
            f"the forward pass; 5-NN accuracy {r['knn_accuracy']:.1%}; "
            f"deterministic: {r['same_points_every_run']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
