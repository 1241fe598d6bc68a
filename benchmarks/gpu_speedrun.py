"""The speedrun preset on full-size MNIST: seconds of training to the accuracy reached.

    python benchmarks/gpu_speedrun.py [--device DEV] [--epochs N] [--dry-run] [--json]

It runs ``core.training.trainer.Trainer`` with ``core.training.train_settings.PRESETS["speedrun"]`` exactly as
the Training tab's worker does (same config, same report cadence, same events), after a short
warm-up run on the same device (CUDA context, cuDNN/cuBLAS handles, kernel caches). The goal of
issue 18: >= 99.0 % test accuracy within 2 s of training from the first step on one GPU.

Data, in this order: MNIST's training files in ``../shared/mnist-train`` (or ``--data-dir``)
with their last 10,000 digits held out as the test set (MNIST's own test files are not there);
else full MNIST in the user data folder; else synthetic MNIST-size IDX files written to a
temporary folder and read back through the app's loader. Reported separately: decoding the
files, setting up the run (data upload to the device, model), seconds to the first epoch at
the target accuracy (training steps and evaluations, as the trainer counts), samples/s, peak
device memory. ``--dry-run`` does a few batches on the CPU in seconds (a check that the path
runs, not a figure). With ``--json`` the last stdout line is one JSON object with at least
``seconds``, ``test_accuracy``, ``samples_per_second`` and ``device``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.data.mnist import MnistData, load_mnist, read_idx, synthetic_mnist, write_idx_dataset  # noqa: E402
from core.device import describe_device, resolve_device  # noqa: E402
from core.storage.paths import is_file  # noqa: E402
from core.training.train_settings import apply_preset, report_every  # noqa: E402
from core.training.train_types import EpochEvent, RunStarted, TrainConfig  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

SHARED_MNIST = ROOT.parent / "shared" / "mnist-train"
TEST_DIGITS = 10_000
TARGET = 0.99


def load_data(data_dir: Path | None) -> tuple[MnistData, str]:
    """Full-size digits and where they came from (see the module docstring)."""
    folder = data_dir or SHARED_MNIST
    images_file = folder / "train-images-idx3-ubyte.gz"
    labels_file = folder / "train-labels-idx1-ubyte.gz"
    if is_file(images_file) and is_file(labels_file):
        images, labels = read_idx(images_file, "images"), read_idx(labels_file, "labels")
        split = len(labels) - TEST_DIGITS
        data = MnistData(
            "mnist",
            f"MNIST training files, last {TEST_DIGITS:,} digits as test "
            f"({split:,} train / {TEST_DIGITS:,} test)",
            images[:split],
            labels[:split],
            images[split:],
            labels[split:],
        )
        return data, f"real MNIST from {folder}"
    mnist = load_mnist("auto")
    if mnist.name == "mnist":
        return mnist, "full MNIST from the user data folder"
    fake = synthetic_mnist(60_000, 10_000, seed=0)
    with tempfile.TemporaryDirectory() as workdir:
        write_idx_dataset(
            workdir, fake.train_images, fake.train_labels, fake.test_images, fake.test_labels
        )
        data = load_mnist("mnist", workdir)
    return data, "synthetic MNIST-size IDX files (bundled-sample digits, shifted)"


def slice_data(data: MnistData, train: int, test: int) -> MnistData:
    return dataclasses.replace(
        data,
        description=f"{data.description}, first {train:,} / {test:,}",
        train_images=data.train_images[:train],
        train_labels=data.train_labels[:train],
        test_images=data.test_images[:test],
        test_labels=data.test_labels[:test],
    )


def timed_run(config: TrainConfig, data: MnistData, warm_up: bool = False) -> dict:
    """One run as the Training tab starts it; setup, training and the end of the run (fitting
    calibration on the held-out digits) timed apart. A warm-up skips that end."""
    trained = data.train_samples - config.held_out_count(data.train_samples)
    every = report_every(trained, config.batch_size, device_type=resolve_device(config.device).type)
    config = dataclasses.replace(config, report_every=every)
    marks: dict = {"epochs": []}

    def on_event(event) -> None:
        if isinstance(event, RunStarted):
            marks["started"] = time.perf_counter()
        elif isinstance(event, EpochEvent):
            marks["epochs"].append((event.seconds, event.test_accuracy))
            marks["last_epoch"] = time.perf_counter()

    begin = time.perf_counter()
    trainer = Trainer(config, on_event, data=data, finalize=None) if warm_up else None
    ended = (trainer or Trainer(config, on_event, data=data)).run()
    finished = time.perf_counter()
    if ended.status != "finished" or ended.result is None:
        raise SystemExit(f"speed run {ended.status}: {ended.reason}")
    elapsed, reached, accuracy = 0.0, None, 0.0
    for seconds, accuracy in marks["epochs"]:
        elapsed += seconds
        if accuracy >= TARGET and reached is None:
            reached = (elapsed, accuracy)
    seconds, accuracy = reached or (elapsed, accuracy)
    return {
        "setup_seconds": marks["started"] - begin,
        "finish_seconds": finished - marks["last_epoch"],
        "seconds": seconds,
        "test_accuracy": accuracy,
        "reached_target": reached is not None,
        "train_seconds": ended.result.seconds,
        "epochs": ended.result.epochs_completed,
        "samples_per_second": ended.result.samples_per_second,
        "train_samples": ended.result.train_samples,
    }


def peak_memory(device: torch.device) -> tuple[str, float]:
    if device.type == "cuda":
        return "peak_device_mib", torch.cuda.max_memory_allocated(device) / 2**20
    return "peak_rss_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument(
        "--data-dir", type=Path, help=f"MNIST training files (default {SHARED_MNIST})"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="a few batches on the CPU, in seconds"
    )
    parser.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    args = parser.parse_args(argv)

    device = resolve_device("cpu" if args.dry_run else args.device)
    config = dataclasses.replace(apply_preset(TrainConfig(), "speedrun"), device=device.type)
    if args.epochs:
        config = dataclasses.replace(config, epochs=args.epochs)
    start = time.perf_counter()
    data, source = load_data(args.data_dir)
    decode_seconds = time.perf_counter() - start
    if args.dry_run:
        data, config = slice_data(data, 2_048, 1_000), dataclasses.replace(config, epochs=1)
    print(f"data: {source}; {data.description} (decoded in {decode_seconds:.1f} s)", flush=True)
    print(f"device: {describe_device(device)}; preset speedrun: {config}", flush=True)

    warm_start = time.perf_counter()
    warm = slice_data(data, 4 * config.batch_size, 500)
    timed_run(dataclasses.replace(config, epochs=1), warm, warm_up=True)
    warmup_seconds = time.perf_counter() - warm_start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    figures = timed_run(config, data)
    memory_key, memory = peak_memory(device)
    summary = {
        **figures,
        "device": device.type,
        "device_name": describe_device(device),
        "data": source,
        "decode_seconds": decode_seconds,
        "warmup_seconds": warmup_seconds,
        memory_key: memory,
        "target": TARGET,
        "dry_run": args.dry_run,
        "torch": torch.__version__,
    }
    print(
        f"{'reached' if figures['reached_target'] else 'did not reach'} {TARGET:.0%}: "
        f"{figures['test_accuracy']:.2%} test accuracy after {figures['seconds']:.2f} s of training "
        f"({figures['epochs']} epochs, {figures['samples_per_second']:,.0f} samples/s); setup "
        f"(upload, model) {figures['setup_seconds']:.2f} s, end of run (calibration) "
        f"{figures['finish_seconds']:.1f} s, warm-up {warmup_seconds:.1f} s, "
        f"{memory_key} {memory:,.0f}",
        flush=True,
    )
    if args.json:
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
