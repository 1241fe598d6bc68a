"""Training speed: seconds to an accuracy, the seed notebook's recipe beside the engine's presets.

    python benchmarks/train_speed.py [--seeds 1,2,3,4,5] [--skip speedrun] [--json]
    python benchmarks/train_speed.py --throughput [--repeats 5] [--json]   # samples/s only

Data: MNIST's training files in ``../shared/mnist-train`` (or ``--data-dir``) with their last
10,000 digits as the test set (MNIST's own test files are not there; see
``benchmarks/gpu_speedrun.load_data``), else synthetic MNIST-size digits. Three recipes, each
from its first step to its score on those 10,000 digits, on the CPU:

- ``seed``: the seed notebook's loop as written (``torchvision.datasets.MNIST`` with ToTensor +
  Normalize, ``DataLoader(batch_size=64, shuffle=True)``, SimpleNet, NLLLoss, SGD 0.01/0.9,
  ``loss.item()`` every batch, 5 epochs, one test pass at the end), on one thread (the faster
  count for the MLP on a shared machine; ``--seed-threads`` changes it);
- ``speedrun``: ``train --preset speedrun`` (the GPU recipe: CNN, batch 512, 8 epochs);
- ``cpu-speedrun``: ``train --preset cpu-speedrun`` once per seed (issue 28).

The presets run through ``core.training.trainer.Trainer`` with the Training tab's report cadence
(a loss point about every 1 % of an epoch), so the events a learner's curves draw from are
paid for. ``seconds`` is the engine's: every training step and every evaluation; set-up
(decoding, model) and the end of the run (calibration) are reported apart. The machine's load
(``os.getloadavg``) is printed beside every figure: on a shared machine it moves them a lot.
With ``--json`` the last stdout line is one JSON object.

``--levers`` times one training step per digit for each speed lever alone (the net, the
layout, the batch, the threads) and the evaluation at two batch sizes. The throughput mode
(``--throughput``) times samples/s of the seed loop against the engine at
the same model and batch (what made the MLP 12x faster is written in ``docs/measured.md``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.gpu_speedrun import TARGET, load_data, slice_data  # noqa: E402
from core.data.mnist import MnistData, load_mnist, synthetic_mnist, write_idx_dataset  # noqa: E402
from core.resources import default_mnist_dir  # noqa: E402
from core.training.models import build_model, flops_per_digit  # noqa: E402
from core.training.train_settings import apply_preset, report_every  # noqa: E402
from core.training.train_types import EpochEvent, TrainConfig  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402


def prepare_data(data_dir: Path | None, workdir: Path) -> tuple[Path, MnistData, str]:
    """A torchvision root with uncompressed MNIST-size files (torchvision reads no .gz) and the
    same digits in memory for the engine."""
    from core.data.mnist import find_raw_folder

    raw = find_raw_folder(data_dir or default_mnist_dir())
    if raw is not None:
        data = load_mnist("mnist", raw)
        source = f"real MNIST from {raw}"
    else:
        data = synthetic_mnist(60_000, 10_000, seed=0)
        source = "synthetic MNIST-size IDX files (bundled-sample digits, shifted)"
    write_idx_dataset(
        workdir,
        data.train_images,
        data.train_labels,
        data.test_images,
        data.test_labels,
        gzip=False,
    )
    return workdir, data, source


def seed_loop(root: Path, model_name: str, batch: int, samples: int, threads: int | None) -> float:
    """Samples/s of the seed notebook's loop over its first ``samples`` digits (after warm-up)."""
    from torchvision import datasets, transforms

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        transform = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        )
        dataset = datasets.MNIST(str(root), train=True, download=False, transform=transform)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True)
        torch.manual_seed(1)
        model = build_model(model_name, "nll")
        criterion = nn.NLLLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        warmup, done, running_loss = 5, 0, 0.0
        start = time.perf_counter()
        for i, (images, labels) in enumerate(loader):
            if i == warmup:
                start, done = time.perf_counter(), 0
            optimizer.zero_grad()
            output = model(images)
            loss = criterion(output, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            done += len(labels)
            if i >= warmup and done >= samples:
                break
        return done / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(previous)


def subset(data: MnistData, n: int) -> MnistData:
    return MnistData(
        data.name,
        data.description,
        data.train_images[:n],
        data.train_labels[:n],
        data.test_images[:1000],
        data.test_labels[:1000],
    )


def engine(data: MnistData, model_name: str, batch: int) -> float:
    """Samples/s of the engine for one epoch over ``data`` (training time only, as reported)."""
    config = TrainConfig(model=model_name, batch_size=batch, epochs=1, device="cpu", seed=1)
    ended = Trainer(config, data=data).run()
    if ended.status != "finished" or ended.result is None:
        raise SystemExit(f"engine run {ended.status}: {ended.reason}")
    return ended.result.samples_per_second


def peak_memory_mib(root: Path) -> float:
    """Peak RSS of a fresh process training the MLP for one full-size epoch with the engine."""
    code = (
        "sys.path.insert(0, {!r})\n"
        "from core.data.mnist import load_mnist\n"
        "from core.training.trainer import Trainer\n"
        "from core.training.train_types import TrainConfig\n"
        "data = load_mnist('mnist', {!r})\n"
        "r = Trainer(TrainConfig(epochs=1, device='cpu'), data=data).run()\n"
        "assert r.status == 'finished', r.reason\n"
        "print(peak_kib())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", PEAK_KIB + code.format(str(ROOT), str(root))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.strip().splitlines()[-1]) / 1024


# VmHWM (Linux) is this process's own high-water mark; ru_maxrss would include the parent's
# memory at fork, which Linux carries across exec.
PEAK_KIB = """
import resource, sys
def peak_kib():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // 1024 if sys.platform == 'darwin' else rss
"""


def throughput(args: argparse.Namespace) -> int:
    """The samples/s comparison (``--throughput``): seed loop against engine, same batch."""
    if args.quick:
        args.repeats, args.cnn_samples, args.seed_samples = 1, 3_200, 6_400

    with tempfile.TemporaryDirectory(prefix="digit-lab-bench-") as tmp:
        root, data, source = prepare_data(args.data_dir, Path(tmp))
        print(f"data: {source}; {data.train_samples:,} training digits", flush=True)
        default_threads = torch.get_num_threads()
        cases = []
        for case in args.cases.split(","):
            model_name, batch = case.split(":")
            # The MLP at batch 64 is the goal: the full repeats; the rest fewer.
            full = model_name == "mlp" and batch == "64"
            cases.append(
                (model_name, int(batch), args.repeats if full else max(1, args.repeats // 3))
            )
        rows = []
        for model_name, batch, repeats in cases:
            seed_default, seed_one, ours = [], [], []
            engine_data = data if model_name == "mlp" else subset(data, args.cnn_samples)
            seed_samples = args.seed_samples if model_name == "mlp" else args.seed_samples // 4
            for _ in range(repeats):
                seed_default.append(seed_loop(root, model_name, batch, seed_samples, None))
                seed_one.append(seed_loop(root, model_name, batch, seed_samples, 1))
                ours.append(engine(engine_data, model_name, batch))
            row = {
                "model": model_name,
                "batch_size": batch,
                "repeats": repeats,
                "seed_samples_per_second": statistics.median(seed_default),
                "seed_1_thread_samples_per_second": statistics.median(seed_one),
                "engine_samples_per_second": statistics.median(ours),
                "engine_all": [round(x) for x in ours],
            }
            baseline = max(row["seed_samples_per_second"], row["seed_1_thread_samples_per_second"])
            row["ratio"] = row["engine_samples_per_second"] / baseline
            row["ratio_vs_seed_default_threads"] = (
                row["engine_samples_per_second"] / row["seed_samples_per_second"]
            )
            rows.append(row)
            print(
                f"{model_name} batch {batch:>3}: seed loop {row['seed_samples_per_second']:>9,.0f}/s "
                f"({default_threads} threads), {row['seed_1_thread_samples_per_second']:>9,.0f}/s "
                f"(1 thread); engine {row['engine_samples_per_second']:>9,.0f}/s; "
                f"ratio {row['ratio']:.1f}x (vs default threads "
                f"{row['ratio_vs_seed_default_threads']:.1f}x)",
                flush=True,
            )
        peak = None if args.no_memory else peak_memory_mib(root)
        if peak is not None:
            print(f"peak memory, one full-size MLP epoch (fresh process): {peak:,.0f} MiB")

    summary = {
        "data": source,
        "machine": f"{platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads by default, {platform.system()}",
        "torch": torch.__version__,
        "load_average": list(__import__("os").getloadavg()),
        "results": rows,
        "mlp_batch64_ratio": next(
            (r["ratio"] for r in rows if r["model"] == "mlp" and r["batch_size"] == 64), None
        ),
        "peak_memory_mib": peak,
    }
    if args.json:
        print(json.dumps(summary), flush=True)
    return 0


# ----------------------------------------------------------------------------- seconds to accuracy

SEED_EPOCHS = 5


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def seed_recipe(data: MnistData, workdir: Path, threads: int, epochs: int = SEED_EPOCHS) -> dict:
    """The seed notebook's recipe from its first batch to its test accuracy (see the docstring).

    torchvision reads the IDX files written to ``workdir`` (uncompressed, as it extracts them);
    decoding them and building the loaders is left out, the DataLoader's per-digit work is in.
    """
    from torchvision import datasets, transforms

    write_idx_dataset(
        workdir,
        data.train_images,
        data.train_labels,
        data.test_images,
        data.test_labels,
        gzip=False,
    )
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    load_before = load_average()
    try:
        transform = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        )
        train_set = datasets.MNIST(str(workdir), train=True, download=False, transform=transform)
        test_set = datasets.MNIST(str(workdir), train=False, download=False, transform=transform)
        train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
        test_loader = torch.utils.data.DataLoader(test_set, batch_size=1000, shuffle=False)
        torch.manual_seed(1)
        model = build_model("mlp", "nll")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        criterion = nn.NLLLoss()
        start = time.perf_counter()
        for _ in range(epochs):
            model.train()
            for images, labels in train_loader:
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
                loss.item()  # the notebook logs it: one sync per batch
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += int((model(images).argmax(1) == labels).sum())
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(previous)
    return {
        "recipe": "seed",
        "seconds": seconds,
        "test_accuracy": correct / len(test_set),
        "epochs": epochs,
        "threads": threads,
        "flops_per_digit": flops_per_digit(build_model("mlp")),
        "load_before": load_before,
        "load_after": load_average(),
    }


def preset_run(data: MnistData, preset: str, seed: int, epochs: int | None = None) -> dict:
    """One run of ``preset`` through the engine, as the Training tab starts it."""
    config = dataclasses.replace(apply_preset(TrainConfig(), preset), device="cpu", seed=seed)
    if epochs:
        config = dataclasses.replace(config, epochs=epochs)
    trained = data.train_samples - config.held_out_count(data.train_samples)
    config.report_every = report_every(trained, config.batch_size, live=True, device_type="cpu")
    epochs_seen: list[EpochEvent] = []
    load_before = load_average()
    ended = Trainer(
        config, lambda e: epochs_seen.append(e) if isinstance(e, EpochEvent) else None, data=data
    ).run()
    if ended.status != "finished" or ended.result is None:
        raise SystemExit(f"{preset} run {ended.status}: {ended.reason}")
    result = ended.result
    elapsed, to_99 = 0.0, None
    for event in epochs_seen:
        elapsed += event.seconds
        if to_99 is None and event.test_accuracy >= TARGET:
            to_99 = elapsed
    return {
        "recipe": preset,
        "seed": seed,
        "seconds": result.seconds,
        "test_accuracy": result.evaluation.accuracy,
        "seconds_to_99": to_99,
        "eval_seconds": result.eval_seconds,
        "setup_seconds": result.setup_seconds,
        "finish_seconds": result.finish_seconds,
        "epochs": result.epochs_completed,
        "samples_per_second": result.samples_per_second,
        "device": result.device,
        "train_samples": result.train_samples,
        "flops_per_digit": flops_per_digit(build_model(config.model, config.loss)),
        "load_before": load_before,
        "load_after": load_average(),
    }


def _line(row: dict) -> str:
    seed = f" seed {row['seed']}" if "seed" in row else ""
    extra = (
        f", set-up {row['setup_seconds']:.1f} s, end {row['finish_seconds']:.1f} s, {row['device']}"
        if "setup_seconds" in row
        else f", {row['threads']} thread(s)"
    )
    return (
        f"{row['recipe']:>12}{seed}: {row['test_accuracy']:.2%} after {row['seconds']:.1f} s "
        f"({row['epochs']} epochs, {row['flops_per_digit'] / 1e6:.2f} MFLOP a digit{extra}); "
        f"load {row['load_before']:.1f} -> {row['load_after']:.1f}"
    )


def recipes(args: argparse.Namespace) -> int:
    """The seconds-to-accuracy comparison (the default mode)."""
    data, source = load_data(args.data_dir)
    print(f"data: {source}; {data.description}", flush=True)
    skip = set(filter(None, args.skip.split(",")))
    rows = []
    # A short warm-up of the engine (oneDNN kernels, lazy imports), not timed.
    preset_run(slice_data(data, 2_048, 500), "cpu-speedrun", 1)
    if "cpu-speedrun" not in skip:
        for seed in (int(s) for s in args.seeds.split(",")):
            rows.append(preset_run(data, "cpu-speedrun", seed))
            print(_line(rows[-1]), flush=True)
    if "seed" not in skip:
        with tempfile.TemporaryDirectory(prefix="digit-lab-seed-") as tmp:
            rows.append(seed_recipe(data, Path(tmp), args.seed_threads))
        print(_line(rows[-1]), flush=True)
    if "speedrun" not in skip:
        rows.append(preset_run(data, "speedrun", 1, args.speedrun_epochs))
        print(_line(rows[-1]), flush=True)
    fast = [r for r in rows if r["recipe"] == "cpu-speedrun"]
    summary: dict = {
        "data": source,
        "torch": torch.__version__,
        "cores": os.cpu_count(),
        "runs": rows,
    }
    if fast:
        accuracies = [r["test_accuracy"] for r in fast]
        summary["cpu_speedrun"] = {
            "seeds": [r["seed"] for r in fast],
            "mean_accuracy": statistics.mean(accuracies),
            "worst_accuracy": min(accuracies),
            "median_seconds": statistics.median(r["seconds"] for r in fast),
            "worst_seconds": max(r["seconds"] for r in fast),
        }
        s = summary["cpu_speedrun"]
        print(
            f"cpu-speedrun over seeds {s['seeds']}: mean {s['mean_accuracy']:.2%}, worst "
            f"{s['worst_accuracy']:.2%}; seconds median {s['median_seconds']:.1f}, worst "
            f"{s['worst_seconds']:.1f}",
            flush=True,
        )
    if args.json:
        print(json.dumps(summary), flush=True)
    return 0


def step_microseconds(model_name: str, batch: int, threads: int, channels_last: bool) -> float:
    """Best time of one Adam training step of ``model_name`` per digit (us), over 12 steps."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(model_name, "ce")
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    best = float("inf")
    for step in range(12):
        start = time.perf_counter()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= 2:  # oneDNN builds its kernels on the first passes
            best = min(best, time.perf_counter() - start)
    return best / batch * 1e6


def eval_seconds(batch: int, threads: int) -> float:
    """Seconds to score 10,000 digits with the fast net in batches of ``batch`` (best of 2)."""
    torch.set_num_threads(threads)
    model = build_model("cnn-fast", "ce").to(memory_format=torch.channels_last).eval()
    x = torch.randn(10_000, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        with torch.inference_mode():
            for first in range(0, len(x), batch):
                model(x[first : first + batch])
        best = min(best, time.perf_counter() - start)
    return best


def levers(args: argparse.Namespace) -> int:
    """What each speed lever buys per training step (``--levers``), interleaved, best of 12."""
    cases = [
        ("cnn", 128, 1, True),
        ("cnn-fast", 128, 1, True),
        ("cnn-fast", 128, 1, False),
        ("cnn-fast", 256, 1, True),
        ("cnn-fast", 128, 2, True),
    ]
    previous = torch.get_num_threads()
    rows = []
    try:
        for model_name, batch, threads, layout in cases:
            load = load_average()
            us = step_microseconds(model_name, batch, threads, layout)
            rows.append(
                {
                    "model": model_name,
                    "batch_size": batch,
                    "threads": threads,
                    "channels_last": layout,
                    "us_per_digit": us,
                    "epoch_seconds_55k": us * 55_000 / 1e6,
                    "load": load,
                }
            )
            print(
                f"{model_name:>8} batch {batch} {threads} thread(s) "
                f"{'channels-last' if layout else 'contiguous':>13}: {us:6.1f} us a digit "
                f"(an epoch of 55,000: {us * 0.055:.1f} s); load {load:.1f}",
                flush=True,
            )
        for batch in (256, 1000):
            load = load_average()
            seconds = eval_seconds(batch, 1)
            rows.append({"eval_batch": batch, "eval_seconds_10k": seconds, "load": load})
            print(f"evaluate 10,000 digits in batches of {batch}: {seconds:.2f} s; load {load:.1f}")
    finally:
        torch.set_num_threads(previous)
    if args.json:
        print(json.dumps({"torch": torch.__version__, "levers": rows}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, help="MNIST training files (default ../shared/mnist-train)"
    )
    parser.add_argument("--seeds", default="1,2,3,4,5", help="cpu-speedrun seeds (default 1-5)")
    parser.add_argument(
        "--skip", default="", help="recipes to leave out: seed,speedrun,cpu-speedrun"
    )
    parser.add_argument("--seed-threads", type=int, default=1, help="threads for the seed loop")
    parser.add_argument("--speedrun-epochs", type=int, help="override the speedrun preset's 8")
    parser.add_argument("--throughput", action="store_true", help="samples/s mode (the old one)")
    parser.add_argument("--levers", action="store_true", help="per-step cost of each speed lever")
    parser.add_argument("--repeats", type=int, default=5, help="throughput: MLP batch-64 repeats")
    parser.add_argument(
        "--seed-samples", type=int, default=19_200, help="throughput: seed-loop digits"
    )
    parser.add_argument(
        "--cnn-samples", type=int, default=12_800, help="throughput: engine CNN digits"
    )
    parser.add_argument(
        "--cases", default="mlp:64,mlp:256,cnn:64,cnn:256", help="throughput: model:batch pairs"
    )
    parser.add_argument("--no-memory", action="store_true", help="throughput: no peak-memory run")
    parser.add_argument("--quick", action="store_true", help="throughput: 1 repeat, small timings")
    parser.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    args = parser.parse_args(argv)
    if args.levers:
        return levers(args)
    return throughput(args) if args.throughput else recipes(args)


if __name__ == "__main__":
    sys.exit(main())
