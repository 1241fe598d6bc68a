"""Time from process start to the main window shown, frozen app vs from source.

    python packaging/startup_time.py [--exe dist/digit-lab/digit-lab] [--runs 3]

Each run starts a fresh process with ``--self-test`` limited to its window check
(``DIGIT_LAB_SELF_TEST=window``), which builds the same MainWindow as the app, shows it offscreen
and prints how long after process start that happened (Linux /proc clock, 10 ms resolution):
the first window shown (what the user sees first) and the main window ready (every tab built),
where the check reports both; older checks report one "shown" time, used for both.
One untimed run of each warms the file cache; the timed runs alternate between the two, so a
busy moment on a shared machine hits both alike. The best run is the least disturbed one.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOWN = re.compile(r"shown ([0-9.]+) s after process start")
READY = re.compile(r"ready ([0-9.]+) s after process start")


def time_to_window(command: list[str]) -> tuple[float, float]:
    """(first window shown, main window ready) in seconds after process start."""
    env = dict(os.environ, DIGIT_LAB_SELF_TEST="window", QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    shown, ready = SHOWN.search(done.stdout), READY.search(done.stdout)
    if done.returncode != 0 or not shown:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr[-2000:]}")
    return float(shown.group(1)), float((ready or shown).group(1))


def summary(label: str, times: list[float]) -> str:
    return (
        f"{label:<18} median {statistics.median(times):.2f} s, best {min(times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", type=Path, default=ROOT / "dist" / "digit-lab" / "digit-lab")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frozen-only", action="store_true")
    args = parser.parse_args(argv)
    kinds = {} if args.frozen_only else {"from source": [sys.executable, "main.py", "--self-test"]}
    if args.exe.exists():
        kinds["frozen"] = [str(args.exe), "--self-test"]
    else:
        print(f"frozen       skipped: {args.exe} does not exist (run 'make package')")
    for command in kinds.values():  # warm the file cache once, untimed
        time_to_window(command)
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in kinds}
    for _ in range(args.runs):  # interleaved, so a busy moment hits both alike
        for label, command in kinds.items():
            times[label].append(time_to_window(command))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f}; seconds after process start:")
    for label, values in times.items():
        print(summary(f"{label} shown", [shown for shown, _ready in values]), flush=True)
        print(summary(f"{label} ready", [ready for _shown, ready in values]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
