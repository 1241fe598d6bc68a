"""The Training tab's run list on disk, so closing the app does not lose it (issue 23, item 9).

One JSON file in the user data folder (``user_data_dir()/training/runs.json``), written
atomically (core/storage/atomic.py); the curves inside it are little-endian float32 arrays in
base64 (NaN kept), so saving at the end of a run and reading at start cost milliseconds on the
window's thread, not the ~100 ms of a float per JSON number. What a run's row and curves need is stored: its settings,
dataset, device, status, score (with the confusion matrix and the misclassified indices), the
epoch results and the batch curves. The file has a size cap: at most ``MAX_RUNS`` runs (the
newest) and at most ``MAX_POINTS`` batch points per run (evenly thinned beyond that), so it
stays well under a megabyte and loads in milliseconds. Repeat groups (a configuration run over
seeds 1..N) are kept beside the runs: each seed's loss curve (thinned the same way), its test
accuracy per epoch and its final score, so the run list's mean +- sd and the Repeats page's
bands come back after a restart. Mid-run learning-rate changes are kept with their run.

Reading never raises: a missing file is an empty list; a damaged file or a damaged run is
skipped with the reason in ``LoadedRuns.problem``, and the app starts with what could be read.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import UserError
from core.resources import user_data_dir
from core.storage.atomic import write_text_atomic
from core.storage.safe_read import read_text
from core.training.repeats import RepeatResult, SeedRun
from core.training.run_history import MAX_GROUPS, Ema, GrowingArray, RunRecord
from core.training.train_types import (
    EpochEvent,
    EvalResult,
    LrChanged,
    Misclassified,
    TrainConfig,
)

log = logging.getLogger(__name__)

STORE_VERSION = 2  # 2: curves as base64 float32
MAX_RUNS = 20
MAX_POINTS = 1500
MAX_FILE_BYTES = 16 << 20  # far beyond what MAX_RUNS x MAX_POINTS writes: more is damage
_CURVES = ("steps", "losses", "smoothed", "speed", "speed_smoothed", "seconds")


def runs_file() -> Path:
    """Where the run list lives: the data folder, beside the model library and datasets."""
    return user_data_dir() / "training" / "runs.json"


@dataclass
class LoadedRuns:
    """The runs read back (oldest first) and why some could not be, if any."""

    runs: list[RunRecord] = field(default_factory=list)
    groups: list[RepeatResult] = field(default_factory=list)  # configurations over seeds
    problem: str = ""


def _number(value: float) -> float | None:
    """JSON has no NaN or inf: a diverged loss is stored as null and read back as NaN."""
    return float(value) if math.isfinite(value) else None


def _thinned(length: int) -> np.ndarray:
    """Indices of at most ``MAX_POINTS`` evenly spaced points, the last one always kept."""
    if length <= MAX_POINTS:
        return np.arange(length)
    return np.unique(np.linspace(0, length - 1, MAX_POINTS).round().astype(int))


def run_to_payload(run: RunRecord) -> dict[str, Any]:
    """A run as plain JSON data (curves thinned to ``MAX_POINTS``)."""
    keep = _thinned(len(run.steps))
    curves = {name: _pack(getattr(run, name).view[keep]) for name in _CURVES}
    evaluation = dataclasses.asdict(run.evaluation) if run.evaluation is not None else None
    return {
        "number": run.number,
        "config": dataclasses.asdict(run.config),
        "dataset": run.dataset,
        "device": run.device,
        "steps_per_epoch": run.steps_per_epoch,
        "total_steps": run.total_steps,
        "status": "stopped" if run.status == "running" else run.status,
        "final_accuracy": run.final_accuracy,
        "visible": run.visible,
        "nonfinite_losses": run.nonfinite_losses,
        "smoothing": run.loss_ema.smoothing,  # of the stored smoothed curve
        "lr_changes": [dataclasses.asdict(change) for change in run.lr_changes],
        "epochs": [
            {k: _number(v) if isinstance(v, float) else v for k, v in dataclasses.asdict(e).items()}
            for e in run.epochs
        ],
        "evaluation": evaluation,
        "curves": curves,
    }


def _pack(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def _floats(packed: Any) -> np.ndarray:
    if not isinstance(packed, str) or len(packed) > 4 * MAX_POINTS * 2:
        raise ValueError("a curve is not a packed array")
    raw = base64.b64decode(packed, validate=True)
    if len(raw) % 4:
        raise ValueError("a packed curve is cut")
    return np.frombuffer(raw, dtype="<f4").astype(np.float64)


def _config(raw: Any) -> TrainConfig:
    if not isinstance(raw, dict):
        raise ValueError("settings are not a mapping")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in raw.items() if k in known})


def _evaluation(raw: Any) -> EvalResult | None:
    if raw is None:
        return None
    wrong = [Misclassified(**item) for item in raw.get("misclassified", [])]
    return EvalResult(**{**raw, "misclassified": wrong})


def _epoch(raw: dict[str, Any]) -> EpochEvent:
    values = {k: math.nan if v is None else v for k, v in raw.items()}
    return EpochEvent(**values)


def run_from_payload(raw: Any, smoothing: float) -> RunRecord:
    """A run read back; ``ValueError``/``TypeError``/``KeyError`` for a damaged one."""
    if not isinstance(raw, dict):
        raise ValueError("a run is not a mapping")
    run = RunRecord(
        number=int(raw["number"]),
        config=_config(raw["config"]),
        dataset=str(raw.get("dataset", "")),
        device=str(raw.get("device", "")),
        steps_per_epoch=max(1, int(raw.get("steps_per_epoch", 1))),
        total_steps=max(1, int(raw.get("total_steps", 1))),
        status=str(raw.get("status", "stopped")),
        final_accuracy=raw.get("final_accuracy"),
        evaluation=_evaluation(raw.get("evaluation")),
        visible=bool(raw.get("visible", True)),
        epochs=[_epoch(e) for e in raw.get("epochs", [])],
        nonfinite_losses=int(raw.get("nonfinite_losses", 0)),
        lr_changes=[LrChanged(**change) for change in raw.get("lr_changes", [])],
        loss_ema=Ema(smoothing),
    )
    curves = {name: _floats(raw["curves"][name]) for name in _CURVES}
    if len({len(values) for values in curves.values()}) != 1:
        raise ValueError("curves of different lengths")
    for name, values in curves.items():
        array = GrowingArray(max(1024, len(values)))
        array.extend(values)
        setattr(run, name, array)
    if raw.get("smoothing") != smoothing:  # stored for another smoothing: smooth again
        run.resmooth(smoothing)
    return run


def group_to_payload(group: RepeatResult) -> dict[str, Any]:
    """A repeat group as JSON data: each seed's loss curve (thinned), epochs and score."""
    seeds = []
    for run in group.runs:
        keep = _thinned(len(run.steps))
        seeds.append(
            {
                "seed": run.seed,
                "status": run.status,
                "final_accuracy": run.final_accuracy,
                "epoch_accuracy": [_number(a) for a in run.epoch_accuracy],
                "steps": _pack(np.asarray(run.steps, dtype=np.float64)[keep]),
                "losses": _pack(np.asarray(run.losses, dtype=np.float64)[keep]),
            }
        )
    return {
        "number": group.number,
        "label": group.label,
        "config": dataclasses.asdict(group.config),
        "visible": group.visible,
        "runs": seeds,
    }


def group_from_payload(raw: Any) -> RepeatResult:
    """A repeat group read back; ``ValueError``/``TypeError``/``KeyError`` for a damaged one."""
    if not isinstance(raw, dict) or not isinstance(raw.get("runs"), list):
        raise ValueError("a repeat group is not a mapping with runs")
    runs = []
    for item in raw["runs"]:
        steps, losses = _floats(item["steps"]), _floats(item["losses"])
        if len(steps) != len(losses):
            raise ValueError("a seed's curves have different lengths")
        accuracy = item.get("final_accuracy")
        runs.append(
            SeedRun(
                seed=int(item["seed"]),
                steps=[int(step) for step in steps],
                losses=losses.tolist(),
                epoch_accuracy=[
                    math.nan if a is None else float(a) for a in item["epoch_accuracy"]
                ],
                final_accuracy=None if accuracy is None else float(accuracy),
                status=str(item.get("status", "finished")),
            )
        )
    return RepeatResult(
        label=str(raw.get("label", "")),
        config=_config(raw["config"]),
        runs=runs,
        number=int(raw["number"]),
        visible=bool(raw.get("visible", True)),
    )


def save_runs(
    runs: list[RunRecord],
    path: str | os.PathLike[str] | None = None,
    groups: list[RepeatResult] | tuple = (),
) -> Path:
    """Write the newest ``MAX_RUNS`` runs and ``MAX_GROUPS`` repeat groups atomically;
    ``UserError``/``OSError`` if it cannot."""
    payload = {
        "version": STORE_VERSION,
        "runs": [run_to_payload(run) for run in runs[-MAX_RUNS:]],
        "groups": [group_to_payload(group) for group in list(groups)[-MAX_GROUPS:]],
    }
    target = Path(path) if path is not None else runs_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(target, json.dumps(payload, separators=(",", ":")))


def load_runs(path: str | os.PathLike[str] | None = None, smoothing: float = 0.6) -> LoadedRuns:
    """The stored runs, oldest first; never raises (see ``LoadedRuns.problem``)."""
    target = Path(path) if path is not None else runs_file()
    if not os.path.lexists(target):
        return LoadedRuns()
    try:  # the safe reader: a FIFO or /dev/zero here is named, never waited on (issue 24)
        raw = json.loads(read_text(target, MAX_FILE_BYTES, "the saved run list"))
    except UserError as exc:
        return LoadedRuns(problem=str(exc))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        log.warning("the saved run list %s cannot be read: %s", target, exc)
        return LoadedRuns(problem=f"the saved run list could not be read ({type(exc).__name__})")
    items = raw.get("runs") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        return LoadedRuns(problem="the saved run list is damaged")
    loaded, skipped = LoadedRuns(), 0
    for item in items[-MAX_RUNS:]:
        try:
            loaded.runs.append(run_from_payload(item, smoothing))
        except (KeyError, TypeError, ValueError, AttributeError):
            skipped += 1
    groups = raw.get("groups", [])
    for item in groups[-MAX_GROUPS:] if isinstance(groups, list) else [None]:
        try:
            loaded.groups.append(group_from_payload(item))
        except (KeyError, TypeError, ValueError, AttributeError):
            skipped += 1
    if skipped:
        loaded.problem = f"{skipped} saved run(s) were damaged and left out"
    numbers = [run.number for run in loaded.runs]
    if len(set(numbers)) != len(numbers):  # a hand-edited file: renumber, colours stay distinct
        for number, run in enumerate(loaded.runs, start=1):
            run.number = number
    if len({group.number for group in loaded.groups}) != len(loaded.groups):
        for number, group in enumerate(loaded.groups, start=1):
            group.number = number
    return loaded
