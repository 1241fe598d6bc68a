"""What augmentation costs: training samples/s with and without ``TrainConfig(augment=True)``.

    python benchmarks/augment_speed.py [--models mlp,cnn,cnn-bn] [--repeats 3] [--device cpu]
                                       [--dry-run] [--json]

Each model trains on the bundled sample's 4,000 digits through ``core.training.trainer.Trainer``, exactly
as the CLI and the GUI run it (batch 64, Adam, the trainer's own thread choice), once with
augmentation off and once on, interleaved per repeat so a neighbour's load hits both alike;
the figure is the median of the trainer's own samples/s. The augmentation alone
(``core.data.augment.augment_batch`` on a batch of normalised digits) is timed too, as samples/s at
batch 64 and 256. With ``--json`` the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.data.augment import NORMALIZED_BACKGROUND, augment_batch  # noqa: E402
from core.data.mnist import load_sample, normalize  # noqa: E402
from core.device import resolve_device  # noqa: E402
from core.training.train_types import TrainConfig  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402


def training_speed(model: str, augment: bool, device: str, epochs: int, data) -> float:
    """The trainer's samples/s for one run (training time only, evaluation excluded)."""
    config = TrainConfig(
        model=model,
        loss="nll",
        optimizer="adam",
        lr=0.001,
        batch_size=64,
        epochs=epochs,
        seed=1,
        device=device,
        dataset="sample",
        report_every=10**9,
        holdout=0.0,
        augment=augment,
    )
    ended = Trainer(config, data=data).run()
    if ended.result is None:
        raise SystemExit(f"error: {model} run failed: {ended.reason}")
    return ended.result.samples_per_second


def augment_speed(batch: int, device: torch.device, seconds: float) -> float:
    """Samples/s of the augmentation alone on ``batch`` normalised digits on ``device``."""
    images = normalize(load_sample().train_images[:batch]).unsqueeze(1).to(device)
    generator = torch.Generator(device=device).manual_seed(0)
    augment_batch(images, generator, background=NORMALIZED_BACKGROUND)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        augment_batch(images, generator, background=NORMALIZED_BACKGROUND)
        done += batch
    if device.type == "cuda":
        torch.cuda.synchronize()
    return done / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="mlp,cnn,cnn-bn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dry-run", action="store_true", help="one short repeat, in seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    repeats, epochs = (1, 1) if args.dry_run else (args.repeats, args.epochs)
    device = resolve_device(args.device)
    data = load_sample()
    if args.dry_run:
        data.train_images, data.train_labels = data.train_images[:512], data.train_labels[:512]

    rows = []
    for model in args.models.split(","):
        speeds: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeats):
            for augment in (False, True):
                speeds[augment].append(training_speed(model, augment, str(device), epochs, data))
        plain, varied = (statistics.median(speeds[a]) for a in (False, True))
        rows.append(
            {
                "model": model,
                "samples_per_second": round(plain),
                "samples_per_second_augmented": round(varied),
                "cost_percent": round((1 - varied / plain) * 100, 1),
            }
        )
    torch.set_num_threads(1)
    alone = {
        f"batch_{b}": round(augment_speed(b, device, 0.3 if args.dry_run else 2.0))
        for b in (64, 256)
    }
    summary = {
        "device": str(device),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "train_samples": data.train_samples,
        "epochs": epochs,
        "repeats": repeats,
        "training": rows,
        "augmentation_alone_samples_per_second": alone,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(
        f"{data.train_samples:,} digits, batch 64, {epochs} epochs, median of {repeats}; "
        f"device {device}, load {summary['load_average']}"
    )
    print(f"  {'model':<8} {'plain':>10} {'augmented':>10} {'cost':>7}")
    for r in rows:
        print(
            f"  {r['model']:<8} {r['samples_per_second']:>10,} "
            f"{r['samples_per_second_augmented']:>10,} {r['cost_percent']:>6.1f}%"
        )
    print(
        "  augmentation alone (1 thread): "
        + ", ".join(f"{k.replace('_', ' ')}: {v:,} samples/s" for k, v in alone.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
