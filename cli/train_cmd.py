"""``train`` and ``evaluate`` subcommands: the training engine headless.

    python main.py train --model cnn --epochs 5 --json
    python main.py evaluate --model model.pt --dataset sample

The option names and the ``--json`` fields are a contract other checks rely on.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from core import json_output
from core.device import DEVICE_CHOICES
from core.errors import UserError
from core.models import LOSS_CHOICES, MODELS
from core.train_types import (
    DATASET_CHOICES,
    OPTIMIZER_CHOICES,
    BatchEvent,
    EpochEvent,
    RunStarted,
    TrainConfig,
    TrainEvent,
)

DEFAULTS = TrainConfig()


def register(subparsers: Any) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a model on MNIST (or the bundled sample) and save it",
        description="Train a model headless. Defaults are the seed notebook's settings: "
        "mlp, 5 epochs, batch 64, SGD lr 0.01 momentum 0.9.",
    )
    train.add_argument(
        "--model",
        choices=list(MODELS),
        default=DEFAULTS.model,
        help="mlp: the seed's SimpleNet 784-128-64-10; cnn: a small conv net (default: mlp)",
    )
    train.add_argument("--epochs", type=int, default=DEFAULTS.epochs, metavar="N", help="default 5")
    train.add_argument(
        "--batch-size", type=int, default=DEFAULTS.batch_size, metavar="B", help="default 64"
    )
    train.add_argument("--lr", type=float, default=DEFAULTS.lr, metavar="LR", help="default 0.01")
    train.add_argument(
        "--momentum",
        type=float,
        default=DEFAULTS.momentum,
        metavar="M",
        help="SGD momentum, default 0.9 (adam ignores it)",
    )
    train.add_argument("--optimizer", choices=OPTIMIZER_CHOICES, default=DEFAULTS.optimizer)
    train.add_argument(
        "--loss",
        choices=LOSS_CHOICES,
        default=DEFAULTS.loss,
        help="nll: the model outputs log-probabilities (the seed's NLLLoss); ce: raw logits "
        "with CrossEntropyLoss",
    )
    train.add_argument("--device", choices=DEVICE_CHOICES, default=DEFAULTS.device)
    _add_data_arguments(train)
    train.add_argument(
        "--seed",
        type=int,
        default=DEFAULTS.seed,
        metavar="S",
        help="same seed, same device: same numbers (default 1)",
    )
    train.add_argument(
        "--threads",
        type=int,
        default=DEFAULTS.threads,
        metavar="T",
        help="CPU threads (0 = automatic: 1 for the mlp)",
    )
    train.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="where to save the model (default: a new file in the user data folder's models/)",
    )
    train.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="evaluate a saved model on the test set",
        description="Accuracy, loss, per-class accuracy and the confusion matrix of a saved model.",
    )
    evaluate.add_argument("--model", type=Path, required=True, metavar="PATH")
    _add_data_arguments(evaluate)
    evaluate.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    evaluate.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    evaluate.set_defaults(func=run_evaluate)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        choices=DATASET_CHOICES,
        default="auto",
        help="auto: full MNIST when present in the data folder, else the bundled sample",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="folder holding MNIST in torchvision's layout (DIR/MNIST/raw); "
        "default: the user data folder",
    )


def _load_data(args: argparse.Namespace):
    from core.data import load_mnist
    from core.resources import default_mnist_dir

    data = load_mnist(args.dataset, args.data_dir)
    note = ""
    if args.dataset == "auto" and data.name == "sample":
        where = args.data_dir or default_mnist_dir()
        note = f" (full MNIST not found in {where})"
    print(f"data: {data.description}{note}", flush=True)
    return data


def default_out_path(model: str, loss: str, dataset: str) -> Path:
    """A new file per run in the user's models folder, so no run overwrites another."""
    from core.resources import user_data_dir

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return user_data_dir() / "models" / f"{model}-{loss}-{dataset}-{stamp}.pt"


def run_train(args: argparse.Namespace) -> int:
    from core.checkpoint import save_checkpoint
    from core.device import resolve_device
    from core.trainer import Trainer

    config = TrainConfig(
        model=args.model,
        loss=args.loss,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        device=args.device,
        dataset=args.dataset,
        data_dir=str(args.data_dir) if args.data_dir else None,
        threads=args.threads,
    ).validate()
    device = resolve_device(config.device)
    data = _load_data(args)
    out = args.out or default_out_path(config.model, config.loss, data.name)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the folder for {out}: {exc.strerror or exc}") from None
    if out.is_dir():
        raise UserError(f"--out {out} is a folder; give a file name such as {out / 'model.pt'}")

    steps_per_epoch = -(-data.train_samples // config.batch_size)
    progress = _Progress(enabled=sys.stderr.isatty())
    # A bar needs ~100 updates per epoch; without one, no per-batch events at all.
    config.report_every = max(1, steps_per_epoch // 100) if progress.enabled else 10**9
    ended = Trainer(config, progress.on_event, data=data).run()
    progress.close()
    if ended.status != "finished" or ended.result is None:
        raise UserError(f"training {ended.status}: {ended.reason}")
    result = ended.result
    evaluation = result.evaluation
    try:
        save_checkpoint(result.checkpoint, out)
    except OSError as exc:
        raise UserError(f"cannot write the model to {out}: {exc.strerror or exc}") from None
    print(
        f"done: {evaluation.accuracy:.2%} test accuracy, test loss {evaluation.loss:.4f}, "
        f"{result.seconds:.1f} s training at {result.samples_per_second:,.0f} samples/s "
        f"on {result.device}; saved {out}",
        flush=True,
    )
    if args.json:
        summary = {
            "model": config.model,
            "loss": config.loss,
            "optimizer": config.optimizer,
            "lr": config.lr,
            "momentum": config.momentum,
            "batch_size": config.batch_size,
            "seed": config.seed,
            "dataset": data.name,
            "dataset_description": data.description,
            "device": device.type,
            "device_name": result.device,
            "train_samples": result.train_samples,
            "test_samples": result.test_samples,
            "epochs": result.epochs_completed,
            "test_accuracy": evaluation.accuracy,
            "test_loss": evaluation.loss,
            "per_class_accuracy": evaluation.per_class_accuracy,
            "seconds": result.seconds,
            "samples_per_second": result.samples_per_second,
            "checkpoint": str(out.resolve()),
        }
        print(json_output.dumps(summary), flush=True)
    return 0


class _Progress:
    """tqdm bar on a terminal (stderr), plus one plain line per epoch on stdout."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.done = 0

    def on_event(self, event: TrainEvent) -> None:
        if isinstance(event, RunStarted):
            print(f"device: {event.device}", flush=True)
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
            self.bar.close()


def run_evaluate(args: argparse.Namespace) -> int:
    from core.checkpoint import load_checkpoint
    from core.device import describe_device, resolve_device
    from core.evaluation import evaluate

    checkpoint = load_checkpoint(args.model)
    device = resolve_device(args.device)
    data = _load_data(args)
    model = checkpoint.build(device)
    result = evaluate(model, data, device, checkpoint.loss)
    print(f"model: {checkpoint.summary()}")
    print(f"device: {describe_device(device)}")
    print(
        f"test accuracy {result.accuracy:.2%}, test loss {result.loss:.4f} ({result.samples:,} digits)"
    )
    print(
        "per-class accuracy: "
        + "  ".join(f"{digit}: {acc:.1%}" for digit, acc in enumerate(result.per_class_accuracy))
    )
    print("confusion matrix (rows: true digit, columns: predicted):")
    width = max(4, len(str(max(max(row) for row in result.confusion))) + 1)
    print("     " + "".join(f"{d:>{width}}" for d in range(10)))
    for digit, row in enumerate(result.confusion):
        print(f"  {digit}: " + "".join(f"{count:>{width}}" for count in row))
    if args.json:
        summary = {
            "model": str(Path(args.model).resolve()),
            "model_name": checkpoint.model_name,
            "loss": checkpoint.loss,
            "dataset": data.name,
            "dataset_description": data.description,
            "device": device.type,
            "test_samples": result.samples,
            "test_accuracy": result.accuracy,
            "accuracy": result.accuracy,
            "test_loss": result.loss,
            "per_class_accuracy": result.per_class_accuracy,
            "confusion": result.confusion,
            "misclassified": result.samples - sum(result.confusion[d][d] for d in range(10)),
        }
        print(json_output.dumps(summary), flush=True)
    return 0
