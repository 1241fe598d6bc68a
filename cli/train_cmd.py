"""``train`` and ``evaluate`` subcommands: the training engine headless.

    python main.py train --model cnn --epochs 5 --json
    python main.py train --preset speedrun --device cuda
    python main.py train --preset cpu-speedrun --device cpu   # 99 % in seconds on a CPU
    python main.py evaluate --model model.pt --dataset sample

The training options are built from ``core.training.train_settings.SETTINGS`` (the same table the
Training tab builds its controls from). The option names and the ``--json`` fields are a
contract other checks rely on.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cli import add_command
from core import json_output
from core.errors import UserError
from core.training.train_settings import SETTINGS, Setting, apply_preset, report_every
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    RunStarted,
    TrainConfig,
    TrainEvent,
    seconds_to,
)

DATA_SETTINGS = ("dataset", "data_dir")


def register(subparsers: Any) -> None:
    _register_train(subparsers)
    _register_evaluate(subparsers)


def _register_train(subparsers: Any) -> None:
    train = add_command(
        subparsers,
        "train",
        description="Train a model headless. Defaults are the seed notebook's settings: "
        "mlp, 5 epochs, batch 64, SGD lr 0.01 momentum 0.9. A --preset sets a group of them; "
        "options given next to it win.",
    )
    add_config_arguments(train)
    train.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="where to save the model (default: a new file in the user data folder's models/)",
    )
    train.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    train.set_defaults(func=run_train)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Every run setting ``train`` takes (``config_from_args`` reads them back); ``export-script``
    takes the same, so any run the CLI can make can be exported."""
    for row in SETTINGS.values():
        if row.cli_flag and row.name not in DATA_SETTINGS:
            _add_setting(parser, row, suppress=True)
    _add_data_arguments(parser, suppress=True)


def _register_evaluate(subparsers: Any) -> None:
    evaluate = add_command(
        subparsers,
        "evaluate",
        description="Accuracy, loss, per-class accuracy, calibration and the confusion matrix "
        "of a saved model.",
    )
    evaluate.add_argument("--model", type=Path, required=True, metavar="PATH")
    _add_data_arguments(evaluate, suppress=False)
    _add_setting(evaluate, SETTINGS["device"], suppress=False)
    evaluate.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    evaluate.set_defaults(func=run_evaluate)


def _add_setting(parser: argparse.ArgumentParser, row: Setting, suppress: bool) -> None:
    """One option from a settings row. ``suppress``: an option not given is absent from the
    parsed arguments, so a preset's value is not overwritten by a default."""
    default = row.default if row.default not in (None, "") else None
    shown = f" (default: {default})" if default is not None else ""
    if row.kind is bool:  # --augment / --no-augment
        parser.add_argument(
            row.cli_flag,
            dest=row.name,
            action=argparse.BooleanOptionalAction,
            default=argparse.SUPPRESS if suppress else row.default,
            help=row.help_text() + shown,
        )
        return
    choices = [value for value in row.values if value] or None
    parser.add_argument(
        row.cli_flag,
        dest=row.name,
        type=str if row.kind is str else row.kind,
        choices=choices,
        default=argparse.SUPPRESS if suppress else row.default,
        metavar=row.metavar,
        help=row.help_text() + shown,
    )


def _add_data_arguments(parser: argparse.ArgumentParser, suppress: bool) -> None:
    for name in DATA_SETTINGS:
        _add_setting(parser, SETTINGS[name], suppress)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's settings: defaults, then ``--preset``'s, then every option given."""
    given = {
        row.name: getattr(args, row.name) for row in SETTINGS.values() if hasattr(args, row.name)
    }
    config = TrainConfig()
    preset = given.pop("preset", "")
    if preset:
        config = apply_preset(config, preset)
    return dataclasses.replace(config, **given).validate()


def _load_data(dataset: str, data_dir: str | None):
    from core.data.mnist import load_mnist
    from core.resources import default_mnist_dir

    data = load_mnist(dataset, data_dir)
    note = ""
    if dataset == "auto" and data.name == "sample":
        note = f" (full MNIST not found in {data_dir or default_mnist_dir()})"
    print(f"data: {data.description}{note}", flush=True)
    return data


def default_out_path(model: str, loss: str, dataset: str) -> Path:
    """A new file per run in the user's models folder, so no run overwrites another."""
    from core.resources import user_data_dir

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return user_data_dir() / "models" / f"{model}-{loss}-{dataset}-{stamp}.pt"


def run_train(args: argparse.Namespace) -> int:
    from core.device import resolve_device
    from core.storage.paths import check_writable_file
    from core.training.trainer import Trainer

    config = config_from_args(args)
    device = resolve_device(config.device)
    decode_start = time.perf_counter()
    data = _load_data(config.dataset, config.data_dir)
    decode_seconds = time.perf_counter() - decode_start
    out = args.out or default_out_path(config.model, config.loss, data.name)
    out = check_writable_file(out, "--out")  # before the work, not after it (~ expanded)
    progress = _Progress(enabled=sys.stderr.isatty())
    trained = data.train_samples - config.held_out_count(data.train_samples)
    config.report_every = report_every(trained, config.batch_size, progress.enabled, device.type)
    ended = Trainer(config, progress.on_event, data=data).run()
    progress.close()
    if ended.status != "finished" or ended.result is None:
        raise UserError(f"training {ended.status}: {ended.reason}")
    result = ended.result
    save_or_keep(result.checkpoint, out)  # saved before anything more is printed
    _keep_in_library(result.checkpoint)
    evaluation = result.evaluation
    print(
        f"done: {evaluation.accuracy:.2%} test accuracy, test loss {evaluation.loss:.4f}, "
        f"{result.seconds:.1f} s of training and evaluation at "
        f"{result.samples_per_second:,.0f} samples/s on {result.device} (before it "
        f"{decode_seconds + result.setup_seconds:.1f} s reading the data and building the "
        f"model, after it {result.finish_seconds:.1f} s calibrating); saved {out}",
        flush=True,
    )
    if args.json:
        summary = _train_summary(config, data, device.type, result, out)
        summary["setup_seconds"] += decode_seconds
        summary["decode_seconds"] = decode_seconds
        summary["seconds_to_99"] = progress.seconds_to(0.99)
        print(json_output.dumps(summary), flush=True)
    return 0


def _keep_in_library(checkpoint: Any) -> None:
    """Every trained model is listed in the app's Models view (kept there, not made current)."""
    from core.storage.model_library import ModelLibrary

    try:
        ModelLibrary().add(checkpoint, source="trained (command line)")
    except UserError as exc:
        print(f"note: not kept in the model library: {exc}", file=sys.stderr, flush=True)


def save_or_keep(checkpoint: Any, out: Path) -> Path:
    """Save to ``out``; when that fails, keep the model somewhere safe and say where."""
    from core.resources import user_data_dir
    from core.storage.checkpoint import save_checkpoint

    try:
        return save_checkpoint(checkpoint, out)
    except UserError as exc:
        problem = str(exc)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"unsaved-{checkpoint.model_name}-{stamp}.pt"
    for folder in (user_data_dir() / "models", Path(tempfile.gettempdir())):
        fallback = folder / name
        if os.path.realpath(fallback) == os.path.realpath(out):  # never raises on a link loop
            continue
        try:
            save_checkpoint(checkpoint, fallback)
        except (UserError, OSError):
            continue
        raise UserError(f"{problem}; the trained model was kept at {fallback}")
    raise UserError(f"{problem}; no other folder could hold it either, so the model is lost")


def _train_summary(config: TrainConfig, data: Any, device: str, result: Any, out: Path) -> dict:
    evaluation = result.evaluation
    return {
        "model": config.model,
        "loss": config.loss,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "momentum": config.momentum,
        "batch_size": config.batch_size,
        "seed": config.seed,
        "schedule": config.schedule,
        "amp": config.amp,
        "preset": config.preset,
        "dataset": data.name,
        "dataset_description": data.description,
        "device": device,
        "device_name": result.device,
        "train_samples": result.train_samples,
        "held_out_samples": len(result.held_out.labels) if result.held_out is not None else 0,
        "test_samples": result.test_samples,
        "epochs": result.epochs_completed,
        "test_accuracy": evaluation.accuracy,
        "test_loss": evaluation.loss,
        "per_class_accuracy": evaluation.per_class_accuracy,
        "temperature": result.checkpoint.temperature,
        # every training step and every evaluation; set-up and the end of the run apart
        "seconds": result.seconds,
        "eval_seconds": result.eval_seconds,
        "setup_seconds": result.setup_seconds,
        "finish_seconds": result.finish_seconds,
        "samples_per_second": result.samples_per_second,
        "flops_per_digit": _flops(config),
        "label_smoothing": config.label_smoothing,
        "checkpoint": os.path.realpath(out),
    }


def _flops(config: TrainConfig) -> int:
    from core.training.models import build_model, flops_per_digit

    return flops_per_digit(build_model(config.model, config.loss))


class _Progress:
    """tqdm bar on a terminal (stderr), plus one plain line per epoch on stdout.

    Printing never ends a run: stdout is guarded by the CLI (``cli.output``), and a bar whose
    terminal went away is dropped.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.done = 0
        self.epochs: list[EpochEvent] = []

    def seconds_to(self, accuracy: float) -> float | None:
        return seconds_to(self.epochs, accuracy)

    def on_event(self, event: TrainEvent) -> None:
        try:
            self._show(event)
        except OSError:  # stderr closed under the bar: train on without it
            self.bar = None

    def _show(self, event: TrainEvent) -> None:
        if isinstance(event, EpochEvent):
            self.epochs.append(event)
        if isinstance(event, RunStarted):
            print(f"device: {event.device}", flush=True)
            print(f"model: {event.config.model}, {_flops(event.config) / 1e6:.2f} MFLOP a digit")
            if event.note:
                print(f"note: {event.note}", flush=True)
            if self.enabled:
                from tqdm import tqdm

                self.bar = tqdm(total=event.total_steps, unit="batch", dynamic_ncols=True)
        elif isinstance(event, BatchEvent) and self.bar is not None:
            self.bar.update(event.step - self.done)
            self.done = event.step
            self.bar.set_postfix(
                epoch=event.epoch,
                loss=f"{event.loss:.3f}",
                rate=f"{event.samples_per_second:,.0f}/s",
            )
        elif isinstance(event, EpochEvent):
            line = (
                f"epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f}, "
                f"test loss {event.test_loss:.4f}, test accuracy {event.test_accuracy:.2%}, "
                f"{event.seconds:.1f} s"
            )
            if self.bar is not None:
                self.bar.write(line, file=sys.stdout)
            else:
                print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            with contextlib.suppress(OSError):
                self.bar.close()


def run_evaluate(args: argparse.Namespace) -> int:
    from core.data.datasets import checkpoint_info, resolve
    from core.device import describe_device, resolve_device
    from core.inference.calibration import calibration_report
    from core.storage.checkpoint import load_checkpoint
    from core.training.evaluation import evaluate_outputs

    checkpoint = load_checkpoint(args.model)
    device = resolve_device(args.device)
    data = _load_data(args.dataset, args.data_dir)
    model = checkpoint.build(device)
    result, log_probs = evaluate_outputs(model, data, device)
    calibration = calibration_report(log_probs.cpu(), data.test_labels, checkpoint.temperature)
    trained_on, info = checkpoint_info(checkpoint), resolve(data.name)
    print(f"model: {checkpoint.summary()}")
    if trained_on is not info:
        print(
            f"note: the model was trained on {trained_on.title} but is scored on {info.title}: "
            "its classes mean other things there"
        )
    print(f"device: {describe_device(device)}")
    print(
        f"test accuracy {result.accuracy:.2%}, test loss {result.loss:.4f} "
        f"({result.samples:,} {info.item}s)"
    )
    print(
        f"calibration: expected calibration error {calibration.after.ece:.2%} at temperature "
        f"{checkpoint.temperature:.3g} ({calibration.before.ece:.2%} uncalibrated)"
    )
    _print_confusion(result, info.class_names)
    if args.json:
        summary = {
            "model": str(Path(args.model).resolve()),
            "model_name": checkpoint.model_name,
            "loss": checkpoint.loss,
            "dataset": data.name,
            "dataset_description": data.description,
            "class_names": list(info.class_names),
            "device": device.type,
            "test_samples": result.samples,
            "test_accuracy": result.accuracy,
            "accuracy": result.accuracy,
            "test_loss": result.loss,
            "per_class_accuracy": result.per_class_accuracy,
            "confusion": result.confusion,
            "misclassified": result.samples - sum(result.confusion[d][d] for d in range(10)),
            "ece": calibration.after.ece,
            "ece_uncalibrated": calibration.before.ece,
            "temperature": checkpoint.temperature,
        }
        print(json_output.dumps(summary), flush=True)
    return 0


def _print_confusion(result: Any, names: tuple[str, ...] = tuple("0123456789")) -> None:
    print(
        "per-class accuracy: "
        + "  ".join(f"{names[i]}: {acc:.1%}" for i, acc in enumerate(result.per_class_accuracy))
    )
    if names != tuple("0123456789"):
        print("classes: " + ", ".join(f"{i} {name}" for i, name in enumerate(names)))
    print("confusion matrix (rows: true class, columns: predicted):")
    width = max(4, len(str(max(max(row) for row in result.confusion))) + 1)
    print("     " + "".join(f"{d:>{width}}" for d in range(10)))
    for digit, row in enumerate(result.confusion):
        print(f"  {digit}: " + "".join(f"{count:>{width}}" for count in row))
