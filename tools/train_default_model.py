"""Train the bundled default model: the small CNN on the bundled MNIST sample.

    .venv/bin/python tools/train_default_model.py            # writes resources/models/default_cnn.pt

Rerunnable and deterministic (fixed seed, CPU). The training digits are the sample's 4,000, each
also added in a few slightly shifted, rotated and rescaled copies: with so few examples that is
the cheapest way to a model that forgives the small differences between a drawn digit and
MNIST's. The test accuracy is measured on the sample's 1,000 untouched test digits, stored in
the checkpoint's metrics and written into resources/models/README.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.checkpoint import save_checkpoint  # noqa: E402
from core.data import MnistData, load_sample  # noqa: E402
from core.inference import Classifier  # noqa: E402
from core.resources import bundled_model_file  # noqa: E402
from core.train_types import EpochEvent, RunEnded, TrainConfig  # noqa: E402
from core.trainer import Trainer  # noqa: E402

DATASET_TITLE = "bundled MNIST sample (4,000 train / 1,000 test)"


def augmented(data: MnistData, copies: int, seed: int) -> MnistData:
    """The training set plus ``copies`` randomly jittered versions of each digit (test untouched)."""
    if copies <= 0:
        return data
    from torchvision.transforms.v2 import functional as F

    generator = torch.Generator().manual_seed(seed)
    images = [data.train_images]
    for _ in range(copies):
        batch = []
        for image in data.train_images:
            angle, scale, dx, dy = (
                torch.empty(4).uniform_(-1, 1, generator=generator) * torch.tensor([12, 0.1, 2, 2])
            ).tolist()
            batch.append(
                F.affine(
                    image.unsqueeze(0),
                    angle=angle,
                    translate=[round(dx), round(dy)],
                    scale=1.0 + scale,
                    shear=[0.0, 0.0],
                    interpolation=F.InterpolationMode.BILINEAR,
                )[0]
            )
        images.append(torch.stack(batch))
    return MnistData(
        name=data.name,
        description=f"{data.description}, each training digit plus {copies} jittered copies",
        train_images=torch.cat(images),
        train_labels=data.train_labels.repeat(copies + 1),
        test_images=data.test_images,
        test_labels=data.test_labels,
    )


def write_readme(path: Path, accuracy: float, preprocessed: float, config: TrainConfig) -> None:
    size_kb = bundled_model_file().stat().st_size / 1024
    path.write_text(
        "# Bundled default model\n\n"
        "`default_cnn.pt` is the app's model on a fresh install (the Draw tab and "
        "`python main.py classify` use it until you train or load another one).\n\n"
        f"- Model: `cnn` (core/models.py SmallCNN), loss `{config.loss}`, "
        f"optimizer {config.optimizer} lr {config.lr}, batch {config.batch_size}, "
        f"{config.epochs} epochs, seed {config.seed}\n"
        f"- Data: the {DATASET_TITLE}; each training digit also in jittered copies "
        "(±12° rotation, ±10% scale, ±2 px shift)\n"
        f"- **Test accuracy: {accuracy * 100:.1f} %** on the sample's 1,000 test digits "
        f"({preprocessed * 100:.1f} % when the same digits go through the app's "
        "preprocessing, as drawn digits do)\n"
        f"- Size: {size_kb:.0f} KB\n\n"
        "Rebuild it (deterministic, CPU, about a minute on a quiet machine):\n\n"
        "    .venv/bin/python tools/train_default_model.py\n\n"
        "A model trained on full MNIST in the Training tab is more accurate (about 99% for the "
        "CNN).\n\nMNIST: Y. LeCun, C. Cortes, C. J. C. Burges.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--copies", type=int, default=3, help="jittered copies per train digit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=bundled_model_file())
    args = parser.parse_args(argv)

    torch.use_deterministic_algorithms(True)
    data = augmented(load_sample(), args.copies, args.seed)
    config = TrainConfig(
        model="cnn",
        loss="nll",
        optimizer="adam",
        lr=0.001,
        batch_size=64,
        epochs=args.epochs,
        seed=args.seed,
        device="cpu",
        dataset="sample",
        report_every=50,
        threads=1,  # one thread: float sums in a fixed order, so a rerun gives the same weights
    )

    def show(event: object) -> None:
        if isinstance(event, EpochEvent):
            print(
                f"epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f}, "
                f"test loss {event.test_loss:.4f}, test accuracy {event.test_accuracy:.2%} "
                f"({event.seconds:.1f} s)",
                flush=True,
            )

    started = time.perf_counter()
    ended: RunEnded = Trainer(config, on_event=show, data=data).run()
    if ended.status != "finished" or ended.result is None or ended.result.evaluation is None:
        print(f"training did not finish: {ended.status} {ended.reason}", file=sys.stderr)
        return 1
    checkpoint = ended.result.checkpoint
    accuracy = ended.result.evaluation.accuracy
    test = load_sample()
    predictions = Classifier(checkpoint).predict(list(test.test_images.numpy()))
    preprocessed = sum(
        int(p.digit == y) for p, y in zip(predictions, test.test_labels.tolist(), strict=True)
    ) / len(predictions)
    checkpoint.dataset = DATASET_TITLE
    checkpoint.metrics = {
        **(checkpoint.metrics or {}),
        "test_accuracy": round(accuracy, 4),
        "test_accuracy_preprocessed": round(preprocessed, 4),
        "test_samples": len(predictions),
        "train_samples": int(len(data.train_images)),
    }
    save_checkpoint(checkpoint, args.output)
    if args.output.resolve() == bundled_model_file().resolve():
        write_readme(args.output.parent / "README.md", accuracy, preprocessed, config)
    print(
        f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KB): test accuracy "
        f"{accuracy:.2%} ({preprocessed:.2%} through preprocessing), "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
