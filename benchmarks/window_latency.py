"""What a learner feels in the real window: start-up and event-loop lateness, with a real mouse.

    python benchmarks/window_latency.py [--busy] [--json] [--strokes 8] [--epochs 1]

Starts the app the way a learner does (``python main.py``) in a real X server — the one in
``DISPLAY``, or an Xvfb of 1280×800 started here when none is set — on Qt's xcb platform, with
its own settings and data folders (the learner's are not touched). The app's 20 ms heartbeat
(``gui/heartbeat.py``, on through ``DIGIT_LAB_HEARTBEAT``) records how late the window's event
loop is while this script, through ``xdotool`` (the X server's own mouse and keyboard):

1. draws strokes at 125 Hz on the Draw tab's canvas as soon as the window is there,
2. draws on the Inside-the-network canvas,
3. switches between the four tabs (Ctrl+1…4),
4. opens the Models dialog (Ctrl+M) and closes it (Escape),
5. trains a short run (``--epochs``, default 1) with the Training tab open (a click on Start).

It reports the process's age when the main window was first painted (``shown_s``; its tabs
may still say "Loading PyTorch…"), when every tab was built (``tabs_ready_s``) and when the
Draw tab first answered a stroke (``first_answer_s``), and the lateness p50/p99/max per phase
and over all of them (``late_ms``, with ``over_50ms`` and ``over_16ms`` counts of beats), and
while the tabs were loading (``loading_late_ms``). ``--busy`` runs one busy
process (a Python loop, the machine's other core) beside the app for the whole measurement.
``--json`` prints one JSON object as the last line. Timings depend on the machine and its
load (given as ``load``): report them with it; nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STROKE_HZ = 125
SCREEN = (1280, 800)
# Strokes in canvas fractions: a 1, a 7, a 0 (a loop), an 8-ish zigzag.
STROKES = (
    [(0.5, 0.15), (0.5, 0.85)],
    [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)],
    [
        (0.5 + 0.22 * math.sin(a / 12 * math.tau), 0.5 - 0.3 * math.cos(a / 12 * math.tau))
        for a in range(13)
    ],
    [(0.3, 0.2), (0.7, 0.4), (0.3, 0.6), (0.7, 0.8)],
)


class Display:
    """The X server to use: ``DISPLAY`` when set, else an Xvfb of our own (stopped at the end)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.name = os.environ.get("DISPLAY", "")

    def __enter__(self) -> Display:
        if self.name:
            return self
        if shutil.which("Xvfb") is None:
            raise SystemExit("error: no DISPLAY and no Xvfb (apt-get install xvfb xdotool)")
        read, write = os.pipe()
        self.process = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(write),
                "-screen",
                "0",
                f"{SCREEN[0]}x{SCREEN[1]}x24",
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write,),
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise SystemExit("error: Xvfb did not start")
        self.name = f":{number}"
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


class App:
    """``python main.py`` with the heartbeat on; reads what the heartbeat writes."""

    def __init__(self, display: str, folder: Path, epochs: int, stacks: int = 0) -> None:
        self.log = folder / "heartbeat.jsonl"
        self.display = display
        env = dict(
            os.environ,
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            DIGIT_LAB_HEARTBEAT=str(self.log),
            DIGIT_LAB_BENCH_EPOCHS=str(epochs),
            DIGIT_LAB_DATA_DIR=str(folder / "data"),
            XDG_CONFIG_HOME=str(folder / "config"),
            XDG_CACHE_HOME=str(folder / "cache"),
        )
        if stacks:
            env["DIGIT_LAB_HEARTBEAT_STACKS"] = str(stacks)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "app.stderr", "w"),  # noqa: SIM115
        )
        self.records: list[dict] = []
        self._offset = 0

    def read(self) -> list[dict]:
        if not self.log.exists():
            return []
        with self.log.open(encoding="utf-8") as source:
            source.seek(self._offset)
            chunk = source.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self._offset += len(complete.encode("utf-8"))
        new = [json.loads(line) for line in complete.splitlines() if line.strip()]
        self.records.extend(new)
        return new

    def mark(self, name: str) -> dict | None:
        self.read()
        found = [r for r in self.records if r.get("mark") == name]
        return found[-1] if found else None

    def wait_for(self, name: str, timeout_s: float, after: float = 0.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.read()
            for record in reversed(self.records):
                if record.get("mark") == name and record["t"] >= after:
                    return record
            if self.process.poll() is not None:
                raise SystemExit(f"error: the app exited ({self.process.returncode}) before {name}")
            time.sleep(0.02)
        raise SystemExit(f"error: no '{name}' from the app within {timeout_s:.0f} s")

    def beats(self) -> list[tuple[float, float]]:
        self.read()
        return [tuple(b) for r in self.records for b in r.get("beats", [])]


def xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), check=True)


def draw_stroke(display: str, rect: list[int], points: list[tuple[float, float]]) -> None:
    """One stroke through ``points`` (canvas fractions) at 125 mouse moves a second."""
    x0, y0, w, h = rect
    side = min(w, h)
    path = []
    for (ax, ay), (bx, by) in zip(points, points[1:], strict=False):
        steps = max(2, int(math.hypot(bx - ax, by - ay) * side / 6))
        path += [(ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps) for i in range(steps)]
    path.append(points[-1])
    pixels = [(x0 + int(x * side), y0 + int(y * side)) for x, y in path]
    command = ["mousemove", str(pixels[0][0]), str(pixels[0][1]), "mousedown", "1"]
    for x, y in pixels[1:]:
        command += ["sleep", f"{1 / STROKE_HZ:.3f}", "mousemove", str(x), str(y)]
    command += ["mouseup", "1"]
    xdotool(display, *command)


def key(display: str, keys: str) -> None:
    xdotool(display, "key", "--clearmodifiers", keys)


def window_id(display: str, title: str) -> str:
    """The X window whose title matches ``title`` (a regular expression), once it is mapped."""
    found = subprocess.run(
        ["xdotool", "search", "--sync", "--onlyvisible", "--name", title],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
        timeout=30,
    )
    ids = found.stdout.split()
    if not ids:
        raise SystemExit(f"error: no window called {title!r}")
    return ids[0]


def focus(display: str, window: str) -> None:
    """Give ``window`` the keyboard: Xvfb has no window manager to do it (Qt's shortcuts need
    an active window)."""
    xdotool(display, "windowfocus", "--sync", window)


def switch_tab(app: App, display: str, index: int, tab: str) -> dict:
    since = time.monotonic()
    key(display, f"ctrl+{index}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        places = app.wait_for("places", 10, after=since)
        if places.get("tab") == tab:
            return places
        since = places["t"] + 1e-6
    raise SystemExit(f"error: the {tab} tab did not show")


def run_phases(app: App, display: str, strokes: int) -> dict[str, tuple[float, float]]:
    """Drive the window; the (start, end) monotonic times of each phase."""
    phases: dict[str, tuple[float, float]] = {}
    app.wait_for("tabs_ready", 120)
    main_window = window_id(display, "^Digit Lab$")
    focus(display, main_window)
    places = app.wait_for("places", 10)
    if places.get("tab") != "Draw":
        places = switch_tab(app, display, 3, "Draw")
    begin = time.monotonic()
    for index in range(strokes):
        draw_stroke(display, places["places"]["draw_canvas"], STROKES[index % len(STROKES)])
        time.sleep(0.15)
    phases["draw"] = (begin, time.monotonic())
    places = switch_tab(app, display, 4, "Inside the network")
    begin = time.monotonic()
    for index in range(strokes):
        draw_stroke(display, places["places"]["inspector_canvas"], STROKES[index % len(STROKES)])
        time.sleep(0.15)
    phases["inspector_draw"] = (begin, time.monotonic())
    begin = time.monotonic()
    for _round in range(2):
        for index, tab in enumerate(
            ("Loss playground", "Training", "Draw", "Inside the network"), 1
        ):
            switch_tab(app, display, index, tab)
            time.sleep(0.25)
    phases["switch_tabs"] = (begin, time.monotonic())
    begin = time.monotonic()
    for _round in range(2):
        key(display, "ctrl+m")
        dialog = window_id(display, "^Models")
        time.sleep(0.5)
        focus(display, dialog)
        key(display, "Escape")
        time.sleep(0.3)
        focus(display, main_window)
    phases["models_dialog"] = (begin, time.monotonic())
    places = switch_tab(app, display, 2, "Training")
    begin = time.monotonic()
    x, y, w, h = places["places"]["start_button"]
    xdotool(display, "mousemove", str(x + w // 2), str(y + h // 2), "click", "1")
    app.wait_for("run_started", 30, after=begin)
    ended = app.wait_for("run_ended", 600, after=begin)
    phases["training"] = (begin, time.monotonic())
    app.run_status = ended.get("status")
    return phases


def lateness(beats: list[tuple[float, float]], start: float, end: float) -> dict:
    late = sorted(max(0.0, b[1]) for b in beats if start <= b[0] <= end)
    if not late:
        return {"beats": 0}

    def pick(q: float) -> float:
        return round(late[min(len(late) - 1, int(q * len(late)))], 1)

    return {
        "beats": len(late),
        "p50": pick(0.5),
        "p99": pick(0.99),
        "max": round(late[-1], 1),
        "over_50ms": sum(1 for v in late if v > 50),
        "over_16ms": sum(1 for v in late if v > 16),
    }


def _phase_of(t: float, phases: dict[str, tuple[float, float]]) -> str:
    return next((name for name, (a, b) in phases.items() if a <= t <= b), "loading")


def measure(busy: bool, strokes: int, epochs: int, stacks: int = 0) -> dict:
    if shutil.which("xdotool") is None:
        raise SystemExit("error: needs xdotool (apt-get install xdotool)")
    neighbour = None
    if busy:
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    folder = Path(tempfile.mkdtemp(prefix="window-latency-"))
    try:
        with Display() as display:
            app = App(display.name, folder, epochs, stacks)
            try:
                shown = app.wait_for("main_window_painted", 120)
                phases = run_phases(app, display.name, strokes)
                answer = app.mark("first_answer")
                tabs = app.mark("tabs_ready")
                key(display.name, "ctrl+q")
                app.process.wait(timeout=30)
            finally:
                if app.process.poll() is None:
                    app.process.terminate()
                    app.process.wait(timeout=30)
            beats = app.beats()
    finally:
        if neighbour is not None:
            neighbour.terminate()
            neighbour.wait()
    interactive = min(p[0] for p in phases.values()), max(p[1] for p in phases.values())
    return {
        "busy_neighbour": busy,
        "display": "Xvfb (started here)" if display.process is not None else display.name,
        "load": [round(v, 2) for v in os.getloadavg()],
        "cpus": os.cpu_count(),
        "shown_s": round(shown["age"], 2) if shown.get("age") else None,
        "tabs_ready_s": round(tabs["age"], 2) if tabs and tabs.get("age") else None,
        "tab_build_s": tabs.get("build_seconds") if tabs else None,
        "first_answer_s": round(answer["age"], 2) if answer and answer.get("age") else None,
        "run_status": app.run_status,
        "late_ms": lateness(beats, *interactive),
        "phases": {name: lateness(beats, *span) for name, span in phases.items()},
        "stalls": [
            {k: r[k] for k in ("late_ms", "stack")} | {"phase": _phase_of(r["t"], phases)}
            for r in app.records
            if r.get("mark") == "stall"
        ],
        "loading_late_ms": lateness(beats, shown["t"], tabs["t"] if tabs else shown["t"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", action="store_true", help="run beside one busy process")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument("--strokes", type=int, default=8, help="strokes per canvas (default 8)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the short run (default 1)")
    parser.add_argument(
        "--stacks",
        nargs="?",
        type=int,
        const=40,
        default=0,
        metavar="MS",
        help="record where the window's thread was in each stall of MS or more (default 40)",
    )
    args = parser.parse_args(argv)
    report = measure(args.busy, args.strokes, args.epochs, args.stacks)
    if args.json:
        print(json.dumps(report))
        return 0
    late = report["late_ms"]
    print(
        f"load {report['load']} on {report['cpus']} CPUs, busy neighbour: {report['busy_neighbour']}"
    )
    print(f"process start -> main window painted    {report['shown_s']} s")
    print(
        f"process start -> every tab built        {report['tabs_ready_s']} s {report['tab_build_s']}"
    )
    print(f"process start -> first answer on Draw   {report['first_answer_s']} s")
    print(
        f"event loop late (all phases): p50 {late['p50']} ms, p99 {late['p99']} ms, max {late['max']} ms, {late['over_50ms']} of {late['beats']} beats over 50 ms"
    )
    for name, figures in report["phases"].items():
        print(
            f"  {name:15s} p50 {figures.get('p50')} p99 {figures.get('p99')} max {figures.get('max')} ms ({figures['beats']} beats)"
        )
    for stall in report["stalls"]:
        where = " <- ".join(line for line in reversed(stall["stack"][-3:])) or "in Qt (no Python)"
        print(f"  stall {stall['late_ms']} ms in {stall['phase']}: {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
