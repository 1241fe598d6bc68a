"""Training throughput: the seed notebook's loop against Digit Lab's engine, in one run.

The seed loop is the notebook's own: ``torchvision.datasets.MNIST`` with ToTensor + Normalize,
``DataLoader(batch_size=64, shuffle=True)``, SimpleNet, NLLLoss, SGD(lr=0.01, momentum=0.9),
``loss.item()`` every batch. The engine is ``core.training.trainer.Trainer``, run exactly as the CLI and the
GUI run it. Both see the same 60,000 full-size training digits: real MNIST when present, else
MNIST-format IDX files of that size written to a temporary folder (bundled-sample digits,
randomly shifted; see ``core.data.mnist.synthetic_mnist``).

    python benchmarks/train_speed.py [--repeats 5] [--data-dir DIR] [--json]

Timings are medians over repeats, seed and engine measurements interleaved, so a neighbour's
load hits both alike. The seed loop is timed with torch's default thread count (as the notebook
runs) and with one thread; the ratio is taken against the faster of the two, so it is never
flattered by a slow baseline. Peak memory is measured in a fresh process running one full-size
MLP epoch through the engine. With ``--json`` the last stdout line is one JSON object.

What makes the engine fast on a CPU, each step kept only because it paid here:

- the whole dataset is decoded once, normalised once to float32 and held on the device; each
  epoch draws a permutation and each batch is one ``index_select`` (no per-sample Python, no
  permuted copy of the dataset);
- the seed's MLP gets a hand-derived backward pass (``mlp_forward_backward``), ~16% of a step;
- SGD with momentum is one fused kernel call (``MomentumSGD``), gradients are dropped, not zeroed;
- the loss is summed on the device and read (a sync point) once per report, not per batch;
- the MLP runs on one intra-op thread (see ``choose_threads``).
``torch.compile`` was measured and not kept: on the MLP it was 2-3x slower per step on this CPU
and took about a minute to compile.
"""

from __future__ import annotations

import argparse
import json
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
from torch import nn  # noqa: E402

from core.data.mnist import MnistData, load_mnist, synthetic_mnist, write_idx_dataset  # noqa: E402
from core.resources import default_mnist_dir  # noqa: E402
from core.training.models import build_model  # noqa: E402
from core.training.train_types import TrainConfig  # noqa: E402
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="real MNIST (torchvision layout), if any")
    parser.add_argument("--repeats", type=int, default=5, help="MLP batch-64 repeats (median)")
    parser.add_argument(
        "--seed-samples", type=int, default=19_200, help="digits per seed-loop timing"
    )
    parser.add_argument(
        "--cnn-samples", type=int, default=12_800, help="training digits per engine CNN timing"
    )
    parser.add_argument(
        "--cases",
        default="mlp:64,mlp:256,cnn:64,cnn:256",
        help="model:batch pairs to time (default: all four)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory run")
    parser.add_argument("--quick", action="store_true", help="1 repeat, small CNN timing")
    parser.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
