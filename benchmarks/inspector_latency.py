"""What the "Inside the network" view adds to each answer, on the CPU, with the default model.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/inspector_latency.py [--repeats 300] [--json]

Three ways to answer one canvas-sized drawing, interleaved so that a busy machine slows all of
them alike: ``answer`` is what the Draw tab does (preprocess + ``Classifier.predict_preprocessed``);
``inspect`` is the engine part of the inspector (preprocess + ``core.inspection.activations.inspect_tensor``,
which gives the answer too); ``view`` is the whole tab update (``InsideNetworkTab.update_now``:
render the canvas, inspect, draw every layer, the chart and the map marker). Goal: the median of
the per-repeat difference ``view - answer`` <= 5 ms. Wall-clock timings: note the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GOAL_MS = 5.0


def canvas_picture(size: int = 280) -> np.ndarray:
    from core.data.mnist import load_sample

    digit = load_sample().test_images[0].numpy()
    return 255 - np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR))


def _timed(fn) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def measure(repeats: int) -> dict:
    from PySide6.QtWidgets import QApplication

    from core.inspection.activations import inspect_tensor
    from core.resources import bundled_model_file
    from core.storage.checkpoint import load_checkpoint
    from gui.app_state import AppState
    from gui.inspector.inspector_tab import InsideNetworkTab

    app = QApplication.instance() or QApplication([])
    checkpoint = load_checkpoint(bundled_model_file())
    state = AppState()
    state.set_current_model(checkpoint, persist=False)
    tab = InsideNetworkTab(state)
    tab.resize(1260, 740)
    tab.show()
    picture = canvas_picture()
    tab.show_picture(picture)
    deadline = time.monotonic() + 120
    while tab.reference is None and time.monotonic() < deadline:  # the map's star is drawn too
        app.processEvents()
        time.sleep(0.01)
    classifier = tab.classifier
    name = checkpoint.model_name

    def answer() -> None:
        classifier.predict_preprocessed([classifier.preprocess(picture)])

    def inspect() -> None:
        inspect_tensor(classifier.model, name, classifier.preprocess(picture).tensor)

    def view() -> None:
        tab.update_now()
        app.processEvents()  # the repaint the update asked for

    for _ in range(20):
        answer(), inspect(), view()
    rows = [(_timed(answer), _timed(inspect), _timed(view)) for _ in range(repeats)]
    tab.shutdown()
    a, i, v = (np.array(column) for column in zip(*rows, strict=True))
    return {
        "model": name,
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "answer_median_ms": round(statistics.median(a), 3),
        "inspect_median_ms": round(statistics.median(i), 3),
        "view_median_ms": round(statistics.median(v), 3),
        "inspect_added_median_ms": round(float(np.median(i - a)), 3),
        "view_added_median_ms": round(float(np.median(v - a)), 3),
        "goal_ms": GOAL_MS,
        "meets_goal": bool(np.median(v - a) <= GOAL_MS),
        "load_average": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.repeats)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['model']}, cpu, {result['threads']} threads, {args.repeats} runs, "
            f"load {result['load_average']:.1f}: answer {result['answer_median_ms']:.2f} ms, "
            f"inspect {result['inspect_median_ms']:.2f} ms, whole view "
            f"{result['view_median_ms']:.2f} ms; added by the view "
            f"{result['view_added_median_ms']:.2f} ms (goal <= {GOAL_MS:.0f} ms: "
            f"{'met' if result['meets_goal'] else 'missed'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
