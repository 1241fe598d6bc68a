"""An event-loop heartbeat for ``benchmarks/window_latency.py``, off unless asked for.

``DIGIT_LAB_HEARTBEAT=<file>`` makes ``gui.app.run_app`` start a 20 ms precise ``QTimer`` on the
window's thread as soon as the ``QApplication`` exists. Every tick records how late it came
(the gap since the previous tick minus 20 ms): a tick late by 30 ms means the window could not
repaint or take a mouse event for that long. Ticks and named marks (the main window painted (its tabs may still be loading), the tabs in,
the first answer on the Draw tab, a run started or ended, where the canvases are on screen) are
appended to the file as JSON lines, flushed about once a second and at every mark, with
``time.monotonic()`` stamps (one clock for every process on the machine, so the benchmark can
cut the ticks into its own phases) and the process's age (the time since it started).

``DIGIT_LAB_HEARTBEAT_STACKS=1`` adds a watchdog thread that, when the window's thread has not
ticked for 40 ms (``DIGIT_LAB_HEARTBEAT_STACKS=16``: for 16 ms), records where that thread is (its Python stack; "in Qt" when no Python code
runs: painting, layout) as a ``stall`` mark: what to make faster.

``DIGIT_LAB_BENCH_EPOCHS=<n>`` sets the Training tab's epochs when the tabs are in, so the
benchmark's run is short. Nothing here changes what the app does otherwise.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer

from core.selftest import process_age_seconds  # stdlib only: cheap at start-up

ENV = "DIGIT_LAB_HEARTBEAT"
EPOCHS_ENV = "DIGIT_LAB_BENCH_EPOCHS"
STACKS_ENV = "DIGIT_LAB_HEARTBEAT_STACKS"
STALL_MS = 40
INTERVAL_MS = 20
FLUSH_EVERY_S = 1.0
# Widgets whose place on screen the benchmark needs (attribute paths on the main window).
PLACES = {
    "draw_canvas": ("draw_tab", "canvas"),
    "inspector_canvas": ("inside_tab", "canvas"),
    "start_button": ("training_tab", "start_button"),
}


class Heartbeat(QObject):
    """The ticking timer and the file it writes; ``mark`` records one named moment."""

    def __init__(self, path: str | os.PathLike[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._beats: list[tuple[float, float]] = []
        self._last = time.monotonic()
        self._last_flush = self._last
        self.window = None
        self._painted = False
        self._answered = False
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.mark("heartbeat_started")
        self._last = time.monotonic()
        self.timer.start()
        if os.environ.get(STACKS_ENV):
            self._stalls: list[dict] = []
            self._gui_thread = threading.get_ident()
            watchdog = threading.Thread(target=self._watch, name="heartbeat-watchdog", daemon=True)
            watchdog.start()

    def _watch(self) -> None:
        """Sample the window's thread's stack while it is late (no Qt here: plain Python)."""
        value = os.environ.get(STACKS_ENV, "")
        threshold = float(value) if value.isdigit() and int(value) > 1 else STALL_MS
        seen_tick = None
        while True:
            time.sleep(0.005)
            last = self._last
            late_ms = (time.monotonic() - last) * 1000 - INTERVAL_MS
            if late_ms < threshold or last == seen_tick:
                continue
            seen_tick = last  # one sample per stall
            frame = sys._current_frames().get(self._gui_thread)
            stack = traceback.format_stack(frame, limit=12) if frame is not None else []
            where = [line.strip().splitlines()[0] for line in stack]
            self._stalls.append({"t": time.monotonic(), "late_ms": round(late_ms), "stack": where})

    def _tick(self) -> None:
        now = time.monotonic()
        self._beats.append((round(now, 4), round((now - self._last) * 1000 - INTERVAL_MS, 2)))
        self._last = now
        if self.window is not None and not self._answered:
            self._look_for_answer()
        if now - self._last_flush >= FLUSH_EVERY_S:
            self.flush()

    def _look_for_answer(self) -> None:
        draw = getattr(self.window, "draw_tab", None)
        prediction = getattr(draw, "prediction", None)
        if prediction is not None and not prediction.is_empty:
            self._answered = True
            self.mark("first_answer", digit=int(prediction.digit))

    def mark(self, name: str, **data: object) -> None:
        """Append one named moment now (and every tick so far)."""
        self._write({"mark": name, "t": time.monotonic(), "age": process_age_seconds(), **data})

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        stalls = getattr(self, "_stalls", None)
        while stalls:
            self._write({"mark": "stall", **stalls.pop(0)})
        if self._beats:
            beats, self._beats = self._beats, []
            self._write({"beats": beats})

    def _write(self, record: dict) -> None:
        if "mark" in record and self._beats:
            beats, self._beats = self._beats, []
            record = {**record, "beats": beats}
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    # ------------------------------------------------------------ the window
    def watch(self, window) -> None:  # noqa: ANN001
        """Follow the main window: its first paint, its tabs, its runs."""
        self.window = window
        self._tab_bar = window.tabs.tabBar()  # painted once the window is on screen
        self._tab_bar.installEventFilter(self)
        self.mark("main_window_created")

    def tabs_ready(self) -> None:
        """The tabs are in: say where the canvases are and follow tab switches and runs."""
        window = self.window
        epochs = os.environ.get(EPOCHS_ENV)
        if epochs:
            window.training_tab.epochs_spin.setValue(int(epochs))
        window.tabs.currentChanged.connect(lambda _i: QTimer.singleShot(150, self.mark_places))
        window.training_tab.runStarted.connect(lambda _e: self.mark("run_started"))
        window.training_tab.runEnded.connect(
            lambda e: self.mark("run_ended", status=getattr(e, "status", "?"))
        )
        self.mark("tabs_ready", build_seconds=getattr(window, "build_seconds", {}))
        QTimer.singleShot(150, self.mark_places)

    def mark_places(self) -> None:
        """Where the visible canvases and buttons are, in screen pixels (x, y, w, h)."""
        places = {}
        for name, path in PLACES.items():
            widget = self.window
            for attribute in path:
                widget = getattr(widget, attribute, None)
            if widget is not None and widget.isVisible():
                origin = widget.mapToGlobal(widget.rect().topLeft())
                places[name] = [origin.x(), origin.y(), widget.width(), widget.height()]
        tab = self.window.tabs.tabText(self.window.tabs.currentIndex())
        self.mark("places", tab=tab, places=places)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        first_paint = event.type() == QEvent.Type.Paint and not self._painted
        if first_paint and watched is getattr(self, "_tab_bar", None):
            self._painted = True
            self.mark("main_window_painted")
        return False


def heartbeat_from_environment(parent: QObject | None = None) -> Heartbeat | None:
    """A started ``Heartbeat`` when ``DIGIT_LAB_HEARTBEAT`` names a file, else None."""
    path = os.environ.get(ENV)
    if not path:
        return None
    beat = Heartbeat(path, parent)
    beat.start()
    return beat
