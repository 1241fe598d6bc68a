"""Draw tab latency: preprocessing + inference for one canvas-sized picture, on the CPU.

    .venv/bin/python benchmarks/draw_latency.py [--repeats 300] [--size 280] [--json]

This is the work the tab does after each debounce tick (rendering the strokes is extra, about a
millisecond), including the "is this a digit?" score (``--no-ood`` leaves it out, to see what it
costs). Goal: median <= 5 ms for the CNN. Timings are wall-clock, so a busy machine shows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.mnist import load_sample  # noqa: E402
from core.inference.classifier import Classifier  # noqa: E402
from core.inference.preprocess import canvas_to_input  # noqa: E402
from core.storage.checkpoint import Checkpoint  # noqa: E402
from core.training.models import build_model  # noqa: E402

GOAL_MS = 5.0


def canvas_picture(size: int) -> np.ndarray:
    """A test digit redrawn as the canvas renders it: dark ink on white, ``size`` px square."""
    digit = load_sample().test_images[0].numpy()
    return 255 - np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure(
    name: str, picture: np.ndarray, repeats: int, ood: bool = True
) -> dict[str, float | str | int]:
    torch.manual_seed(0)
    checkpoint = Checkpoint.from_model(build_model(name), name, "nll")
    classifier = Classifier(checkpoint, ood="auto" if ood else None)
    for _ in range(20):  # warm-up: first calls allocate and pick kernels
        classifier.predict([picture])
    total, prep = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        item = canvas_to_input(picture, normalization=classifier.normalization)
        t1 = time.perf_counter()
        classifier.predict_preprocessed([item])
        t2 = time.perf_counter()
        total.append((t2 - t0) * 1000)
        prep.append((t1 - t0) * 1000)
    return {
        "model": name,
        "repeats": repeats,
        "median_ms": round(statistics.median(total), 3),
        "p99_ms": round(percentile(total, 99), 3),
        "preprocess_median_ms": round(statistics.median(prep), 3),
        "inference_median_ms": round(statistics.median(np.subtract(total, prep).tolist()), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--size", type=int, default=280, help="canvas side in pixels")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-ood", action="store_true", help="leave out 'is this a digit?'")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    picture = canvas_picture(args.size)
    results = [measure(name, picture, args.repeats, not args.no_ood) for name in ("mlp", "cnn")]
    cnn = next(r for r in results if r["model"] == "cnn")
    summary = {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "canvas": f"{args.size}x{args.size}",
        "ood_score": not args.no_ood,
        "results": results,
        "goal_ms": GOAL_MS,
        "cnn_meets_goal": cnn["median_ms"] <= GOAL_MS,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        ood = "with" if summary["ood_score"] else "without"
        print(
            f"canvas {summary['canvas']}, cpu, {summary['threads']} threads, {args.repeats} runs, "
            f"{ood} the 'is this a digit?' score"
        )
        for r in results:
            print(
                f"  {r['model']}: median {r['median_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms "
                f"(preprocess {r['preprocess_median_ms']:.2f} + "
                f"inference {r['inference_median_ms']:.2f})"
            )
        verdict = "meets" if summary["cnn_meets_goal"] else "misses"
        print(f"  cnn {verdict} the goal of median <= {GOAL_MS:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
