"""How late the real Training tab's event loop runs while the why-instruments compute (issue 26).

    xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb \\
        nice -n 5 .venv/bin/python benchmarks/why_window.py [--json] [--quick]

One process, as the app: a ``TrainingTab`` shown at 1280x800 on a real X server, a 10 ms
precise timer on the window's thread, and each instrument started as its button would start it:
the learning-rate finder, the landscape of an MLP run with its path, the landscape of the
bundled CNN (cnn-bn), and repeats over three seeds (two configurations, so the bands overlay).
For each phase: seconds, and how late the timer came (p50 / p99 / max, ticks later than 50 ms):
a tick 60 ms late means the window could not repaint or take a click for that long. A watchdog
thread samples the window thread's Python stack during a stall ("in Qt" when it runs no Python):
what blocks it. The load average is printed beside the figures (the machine is shared).

Tried and measured here, not kept: a 1 ms interpreter switch interval (``--switch-ms 1``: no
difference beyond the load's noise), and a lower OS priority for the worker thread (nice 10: the
window stopped for the whole computation, the worker starved while holding the GIL).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.why_shots import fresh_app  # noqa: E402

STALL_MS = 50
INTERVAL_MS = 10


class Meter:
    """Lateness of a 10 ms timer on the window's thread, and where that thread was when late."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[tuple[float, float]] = []  # (time, ms late)
        self.stacks: list[tuple[float, str]] = []
        self._last = time.monotonic()
        self._gui = threading.get_ident()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start(INTERVAL_MS)
        threading.Thread(target=self._watch, daemon=True, name="stall-watchdog").start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.ticks.append((now, (now - self._last) * 1000 - INTERVAL_MS))
        self._last = now

    def _watch(self) -> None:
        seen = None
        while True:
            time.sleep(0.004)
            last = self._last
            if (time.monotonic() - last) * 1000 - INTERVAL_MS < STALL_MS or last == seen:
                continue
            seen = last
            frames = sys._current_frames()
            where = traceback.extract_stack(frames.get(self._gui), limit=6) if frames else []
            text = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in where[::-1])
            others = [  # where the other threads are: in Python (holding the GIL) or not
                f"{Path(s[-1].filename).name}:{s[-1].lineno} {s[-1].name}"
                for ident, frame in frames.items()
                if ident not in (self._gui, threading.get_ident())
                for s in [traceback.extract_stack(frame, limit=1)]
                if s
            ]
            self.stacks.append((time.monotonic(), f"{text or 'in Qt'} | workers: {others}"))

    def phase(self, name: str, start: float, end: float) -> dict:
        late = sorted(ms for t, ms in self.ticks if start <= t <= end)
        if not late:
            return {"phase": name, "seconds": round(end - start, 1)}

        def pick(q: float) -> float:
            return round(late[min(len(late) - 1, int(q * len(late)))], 1)

        where = Counter(s for t, s in self.stacks if start <= t <= end).most_common(3)
        return {
            "phase": name,
            "seconds": round(end - start, 1),
            "p50_ms": pick(0.5),
            "p99_ms": pick(0.99),
            "max_ms": round(late[-1], 1),
            "over_50ms": sum(ms > STALL_MS for ms in late),
            "ticks": len(late),
            "stalls_at": [f"{count}x {text}" for text, count in where],
        }


def wait_until(done, limit_s: float = 600.0) -> None:  # noqa: ANN001
    """Run the event loop (as app.exec would) until ``done()`` or ``limit_s``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    started = time.monotonic()
    poll = QTimer()
    poll.timeout.connect(lambda: (done() or time.monotonic() - started > limit_s) and loop.quit())
    poll.start(25)
    loop.exec()
    poll.stop()


SLOT_MS: dict[str, float] = {}  # the longest each view's slot ran on the window's thread


def time_slots(view, name: str) -> None:  # noqa: ANN001
    """Time the view's drawing on the window's thread (its slots call ``sender()``, so they are
    left alone: what they cost is drawing and refreshing the controls)."""
    for slot in ("_draw", "_refresh"):
        inner = getattr(view, slot)

        def timed(*args, inner=inner, key=f"{name}.{slot}"):  # noqa: ANN002, ANN202
            started = time.perf_counter()
            try:
                return inner(*args)
            finally:
                spent = (time.perf_counter() - started) * 1000
                SLOT_MS[key] = round(max(SLOT_MS.get(key, 0.0), spent), 1)

        setattr(view, slot, timed)


def trained_runs(quick: bool):  # noqa: ANN201
    from core.data.mnist import load_sample
    from core.inference.classifier import default_checkpoint
    from core.training.train_types import TrainConfig
    from core.training.trainer import Trainer

    data = load_sample()
    mlp = TrainConfig(epochs=1 if quick else 3, report_every=50)
    run = Trainer(mlp, data=data, finalize=None, path_every=10).run().result
    return data, run, default_checkpoint()


def phases(tab, meter: Meter, quick: bool, only: list[str]) -> list[dict]:  # noqa: ANN001
    from core.training.train_types import TrainConfig

    data, run, cnn = trained_runs(quick)
    why = tab.why
    results = []

    def measure(name: str, start, busy, view) -> None:  # noqa: ANN001
        if only and not any(part in name for part in only):
            return
        t0 = time.monotonic()
        start()
        wait_until(lambda: not busy())
        figures = meter.phase(name, t0, time.monotonic())
        results.append(figures | {"load": os.getloadavg()[0], "said": view.state.status[:160]})
        print(json.dumps(results[-1]), flush=True)

    settle = time.monotonic()
    wait_until(lambda: time.monotonic() - settle > 2)  # first paints done
    t0 = time.monotonic()
    wait_until(lambda: time.monotonic() - t0 > 5)
    results.append(meter.phase("idle", t0, time.monotonic()) | {"load": os.getloadavg()[0]})
    print(json.dumps(results[-1]), flush=True)
    for view, name in ((why.lr_finder, "lr"), (why.landscape, "landscape"), (why.repeats, "rep")):
        time_slots(view, name)
    tab.views.setCurrentWidget(why.lr_finder)
    why.lr_finder.state.data = lambda: data  # the tab hands over its loaded digits
    tab.data_panel.use_sample()
    measure("lr-find", why.find_learning_rate, lambda: why.lr_finder.state.busy, why.lr_finder)
    tab.views.setCurrentWidget(why.landscape)
    why.landscape.set_run(run, "MLP on the sample, path every 10 steps", data)
    measure("landscape mlp", why.landscape.compute, lambda: why.landscape.state.busy, why.landscape)
    why.landscape.set_checkpoint(cnn, "the bundled cnn-bn")
    why.landscape.state.source.data = data
    measure(
        "landscape cnn-bn", why.landscape.compute, lambda: why.landscape.state.busy, why.landscape
    )
    tab.settings_box.controls["model"].setCurrentIndex(
        tab.settings_box.controls["model"].findData("cnn")
    )
    tab.views.setCurrentWidget(why.lr_finder)
    measure("lr-find cnn", why.find_learning_rate, lambda: why.lr_finder.state.busy, why.lr_finder)
    tab.views.setCurrentWidget(why.repeats)
    why.repeats.state.data = lambda: data
    epochs = 1 if quick else 2
    for model, lr in (("mlp", 0.01), ("mlp", 0.05), ("cnn", 0.01)):
        config = TrainConfig(model=model, dataset="sample", epochs=epochs, report_every=5, lr=lr)
        measure(
            f"repeats x3 {model} lr {lr:g}",
            lambda c=config: why.repeats.start(c),
            lambda: why.repeats.state.busy,
            why.repeats,
        )
    results.append({"slowest_slot_ms": SLOT_MS})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--quick", action="store_true", help="1-epoch runs (a smoke test)")
    parser.add_argument("--only", nargs="*", default=[], help="phases whose name has one of these")
    parser.add_argument(
        "--switch-ms", type=float, help="the interpreter's thread switch interval (default 5 ms)"
    )
    args = parser.parse_args()
    if args.switch_ms:
        sys.setswitchinterval(args.switch_ms / 1000)
    app = fresh_app("why-window-")
    from gui.app_state import AppState
    from gui.training.training_tab import TrainingTab

    tab = TrainingTab(AppState())
    tab.resize(1280, 800)
    tab.show()
    meter = Meter()
    try:
        results = phases(tab, meter, args.quick, args.only)
    finally:
        tab.shutdown()
    if args.json:
        print(json.dumps({"why_window": results}))
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
