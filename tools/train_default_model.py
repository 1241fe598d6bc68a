"""Train the bundled default model: a batch-norm CNN on full MNIST, with augmentation.

    .venv/bin/python tools/train_default_model.py             # writes resources/models/default_cnn.pt
    .venv/bin/python tools/train_default_model.py --refit     # only refit temperature and OOD stats
    .venv/bin/python tools/train_default_model.py --dry-run   # seconds: 1 epoch on the sample

Data: MNIST's 60,000 real training digits (gzipped IDX, torchvision's file names) from
``../shared/mnist-train`` or ``--mnist-dir``. MNIST's test set is not in the project, so the
trainer holds out 5,000 of the training digits (a fixed random choice, ``core.data.mnist.hold_out``):
the validation accuracy, the calibration temperature and the "is this a digit?" statistics
come from them. The accuracy printed per epoch is on the bundled sample's 1,000 test digits,
which are MNIST *test* digits the model never trains on (nothing is chosen by it).

Why these choices: the app reads other people's digits, so the model trains on randomly varied
copies (``core.data.augment``: affine, elastic, stroke thickness), through the app's own trainer
(``TrainConfig(augment=True)``, OneCycle, Adam). Rerunnable and deterministic: fixed seed, CPU,
one thread, deterministic algorithms; a rerun writes the same weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.mnist import (  # noqa: E402
    FILE_STEMS,
    MnistData,
    _find_file,
    load_sample,
    normalize,
    read_idx,
)
from core.inference.calibration import fit_temperature, reliability  # noqa: E402
from core.inference.classifier import Classifier  # noqa: E402
from core.inference.ood import OodStats, fit_ood, model_outputs, probe_drawings  # noqa: E402
from core.resources import bundled_model_file  # noqa: E402
from core.storage.checkpoint import Checkpoint, load_checkpoint, save_checkpoint  # noqa: E402
from core.training.evaluation import evaluate, score_log_probs  # noqa: E402
from core.training.models import MODELS  # noqa: E402
from core.training.train_types import EpochEvent, HeldOut, RunEnded, RunStarted, TrainConfig  # noqa: E402
from core.training.trainer import Trainer  # noqa: E402

MNIST_DIR = ROOT.parent / "shared" / "mnist-train"
HELD_OUT = 5000
STORE_DTYPE = torch.float16  # see finish()
MODEL = "cnn-bn"
# The threshold comes from a quarter of 2,500 digits: aiming at 4 % keeps the share of new real
# digits flagged under the 5 % goal despite that sampling noise.
SHIPPED_FLAG_RATE = 0.04
PROBES_PER_KIND = 100
# The bundled sample's digits are all among MNIST's 60,000 training digits, so this model has
# trained on most of them: its stated accuracy is the one on the 5,000 held-out digits.
DATASET_TITLE = (
    "MNIST's 60,000 training digits, augmented; scored on 5,000 of them held out of training"
)


def load_training_digits(folder: Path) -> MnistData:
    """MNIST's training digits as the train split; the sample's 1,000 test digits as test."""
    parts = {}
    for kind in ("images", "labels"):
        path = _find_file(folder, FILE_STEMS[("train", kind)])
        if path is None:
            raise SystemExit(f"error: no {FILE_STEMS[('train', kind)]}[.gz] in {folder}")
        parts[kind] = read_idx(path, kind)
    sample = load_sample()
    return MnistData(
        "mnist",
        DATASET_TITLE,
        parts["images"],
        parts["labels"],
        sample.test_images,
        sample.test_labels,
    )


def default_config(epochs: int, seed: int, holdout: float) -> TrainConfig:
    return TrainConfig(
        model=MODEL,
        loss="nll",
        optimizer="adam",
        lr=0.003,
        batch_size=128,
        epochs=epochs,
        seed=seed,
        device="cpu",
        dataset="mnist",
        report_every=10**9,  # nobody watches batches; epochs are printed
        threads=1,  # one thread: float sums in a fixed order, so a rerun gives the same weights
        schedule="onecycle",
        holdout=holdout,
        augment=True,
    )


def fit_extras(model: torch.nn.Module, held: HeldOut, checkpoint: Checkpoint) -> None:
    """Validation accuracy, calibration temperature and OOD statistics from held-out digits.

    The 5,000 held-out digits are split in two: the first half fits the temperature and the
    "is this a digit?" statistics, the second half — used for nothing else — checks them, so
    the calibration error and the share of real digits flagged are figures on unseen digits.
    """
    labels, log_probs = held.labels, held.log_probs
    fit, check = slice(0, len(labels) // 2), slice(len(labels) // 2, None)
    accuracy = float((log_probs.argmax(dim=1) == labels).float().mean())
    checkpoint.temperature = fit_temperature(log_probs[fit], labels[fit])
    stats = fit_ood(
        model,
        held.images[fit],
        labels[fit],
        normalization=checkpoint.normalization,
        flag_rate=SHIPPED_FLAG_RATE,
        source=f"{len(labels[fit]):,} held-out MNIST training digits",
    )
    checkpoint.ood = compact_ood(stats.to_payload())
    checkpoint.metrics = {
        **checkpoint.metrics,
        "validation_accuracy": round(accuracy, 5),
        "validation_samples": int(len(labels)),
        **check_figures(model, held.images[check], log_probs[check], labels[check], checkpoint),
    }


def check_figures(model, images, log_probs, labels, checkpoint: Checkpoint) -> dict:  # noqa: ANN001
    """ECE before/after temperature scaling and the share of real digits flagged, on digits
    that fitted neither."""
    stats = OodStats.from_payload(checkpoint.ood)
    outputs = model_outputs(model.eval(), normalize(images).unsqueeze(1))
    flagged = ~stats.looks_like_digit(stats.score(outputs))
    raw = reliability(torch.softmax(log_probs, dim=1), labels).ece
    scaled = reliability(torch.softmax(log_probs / checkpoint.temperature, dim=1), labels).ece
    drawings = [
        image for images in probe_drawings(PROBES_PER_KIND, seed=7).values() for image in images
    ]
    answers = Classifier(checkpoint).predict(drawings)
    return {
        "check_drawings_flagged": round(
            float(np.mean([not a.looks_like_digit for a in answers])), 5
        ),
        "check_samples": int(len(labels)),
        "check_ece_raw": round(float(raw), 5),
        "check_ece_calibrated": round(float(scaled), 5),
        "check_flagged_real": round(float(flagged.mean()), 5),
    }


def compact_ood(payload: dict) -> dict:
    """The OOD statistics with their projection bases in float16 (read back as float64).

    The bases (2048x64 and 784x64 orthonormal columns, entries in [-1, 1]) are most of the
    file; float16 keeps them to ~1e-3 and halves their bytes, which keeps the model file under
    1 MB. Means and precision matrices stay float32 (their range does not suit float16).
    """
    return {
        **payload,
        "mahalanobis": [
            {**entry, "basis": entry["basis"].to(torch.float16)}
            for entry in payload.get("mahalanobis", [])
        ],
    }


def preprocessed_accuracy(checkpoint: Checkpoint) -> float:
    """Accuracy on the sample's test digits through the app's preprocessing, as drawn digits."""
    test = load_sample()
    predictions = Classifier(checkpoint).predict(list(test.test_images.numpy()))
    correct = sum(
        int(p.digit == y) for p, y in zip(predictions, test.test_labels.tolist(), strict=True)
    )
    return correct / len(predictions)


def show(event: object) -> None:
    if isinstance(event, RunStarted):
        print(
            f"{event.train_samples:,} training digits ({event.held_out_samples:,} held out), "
            f"{event.steps_per_epoch} steps per epoch on {event.device}",
            flush=True,
        )
    elif isinstance(event, EpochEvent):
        print(
            f"epoch {event.epoch}/{event.epochs}: train loss {event.train_loss:.4f}, "
            f"test loss {event.test_loss:.4f}, test accuracy {event.test_accuracy:.2%} "
            f"({event.seconds:.0f} s)",
            flush=True,
        )


def train(data: MnistData, config: TrainConfig) -> Checkpoint:
    """Train through the app's trainer; ``finish`` fits the extras on the stored weights."""
    ended: RunEnded = Trainer(config, on_event=show, data=data, finalize=lambda *_: None).run()
    if ended.status != "finished" or ended.result is None or ended.result.evaluation is None:
        raise SystemExit(f"error: training did not finish: {ended.status} {ended.reason}")
    checkpoint = ended.result.checkpoint
    checkpoint.dataset = DATASET_TITLE
    return checkpoint


def finish(checkpoint: Checkpoint, data: MnistData, holdout: float) -> Checkpoint:
    """Store the weights as float16 and fit everything else on the model as stored.

    float16 halves the weights (the checkpoint reader casts them back to float32) so that the
    file, with its "is this a digit?" statistics (a 2048x64 projection), stays under 1 MB.
    The temperature, the statistics and the accuracies are then measured on the rounded model,
    on the same held-out digits as the training run held out (the split is fixed).
    """
    checkpoint.state_dict = {
        key: value.to(STORE_DTYPE) if value.is_floating_point() else value
        for key, value in checkpoint.state_dict.items()
    }
    checkpoint.dataset = DATASET_TITLE
    checkpoint.metrics.pop("test_accuracy_preprocessed", None)  # an earlier name of sample_*
    config = TrainConfig(**{**checkpoint.config, "holdout": holdout})
    _, images, labels = data.hold_out(config.held_out_count(data.train_samples))
    model = checkpoint.build()
    with torch.no_grad():
        log_probs = torch.log_softmax(model(normalize(images).unsqueeze(1)), dim=1)
    fit_extras(model, HeldOut(images, labels, log_probs), checkpoint)
    held = score_log_probs(log_probs, labels)
    sample = evaluate(model, load_sample(), "cpu")
    checkpoint.metrics |= {
        "test_accuracy": held.accuracy,  # never trained on (the sample's digits were)
        "test_loss": held.loss,
        "per_class_accuracy": held.per_class_accuracy,
        "sample_accuracy": sample.accuracy,
        "sample_accuracy_preprocessed": round(preprocessed_accuracy(checkpoint), 4),
        "weights_dtype": str(STORE_DTYPE).removeprefix("torch."),
    }
    return checkpoint


def write_readme(path: Path, checkpoint: Checkpoint, config: TrainConfig, seconds: float) -> None:
    metrics = checkpoint.metrics
    size_kb = bundled_model_file().stat().st_size / 1024
    path.write_text(
        "# Bundled default model\n\n"
        "`default_cnn.pt` is the app's model on a fresh install (the Draw tab and "
        "`python main.py classify` use it until you train or load another one).\n\n"
        f"- Model: `{config.model}` ({MODELS[config.model].title}, core/training/models.py "
        f"BatchNormCNN), loss `{config.loss}`, {config.optimizer} lr {config.lr} with a "
        f"{config.schedule} schedule, batch {config.batch_size}, {config.epochs} epochs, "
        f"seed {config.seed}, augmentation on (core/data/augment.py)\n"
        "- Data: MNIST's 60,000 training digits; 5,000 of them held out (validation, "
        'calibration temperature, "is this a digit?" statistics)\n'
        f"- **Test accuracy: {metrics['test_accuracy'] * 100:.2f} %** on the "
        f"{metrics['validation_samples']:,} held-out digits, which it never trained on\n"
        "- That is the figure the app states: the bundled sample's 1,000 test "
        "digits are MNIST *training* digits, so this model has seen most of them "
        f"({metrics['sample_accuracy'] * 100:.1f} % on them, "
        f"{metrics['sample_accuracy_preprocessed'] * 100:.1f} % through the app's preprocessing: "
        "not a test figure). MNIST's own test set is not in the project.\n"
        f'- Calibration temperature {checkpoint.temperature:.3f} and the "is this a digit?" '
        "statistics are fitted on the first 2,500 held-out digits; on the other "
        f"{metrics['check_samples']:,}: ECE {metrics['check_ece_raw']:.2%} raw, "
        f"{metrics['check_ece_calibrated']:.2%} after temperature scaling (15 bins); "
        f"{metrics['check_flagged_real']:.1%} of these real digits flagged as not a digit, "
        f"{metrics['check_drawings_flagged']:.1%} of {PROBES_PER_KIND * 6} generated non-digit "
        "drawings (core.inference.ood.probe_drawings)\n"
        f"- Size {size_kb:.0f} KB\n\n"
        f"Rebuild it (deterministic, CPU, {seconds / 60:.0f} min on this 2-core machine):\n\n"
        "    .venv/bin/python tools/train_default_model.py\n\n"
        "MNIST: Y. LeCun, C. Cortes, C. J. C. Burges.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mnist-dir", type=Path, default=MNIST_DIR)
    parser.add_argument("--output", type=Path, default=bundled_model_file())
    parser.add_argument("--refit", action="store_true", help="only refit temperature and OOD")
    parser.add_argument("--dry-run", action="store_true", help="1 epoch on the sample, no save")
    args = parser.parse_args(argv)

    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()
    if args.dry_run:
        data = load_sample()
        checkpoint = finish(train(data, default_config(1, args.seed, 0.1)), data, 0.1)
        print(f"dry run: {checkpoint.metrics['validation_accuracy']:.2%} on held-out digits")
        return 0
    data = load_training_digits(args.mnist_dir)
    holdout = HELD_OUT / data.train_samples
    if (
        args.refit
    ):  # e.g. after core.inference.ood or core.inference.calibration changed; the weights stay
        checkpoint = load_checkpoint(args.output)
    else:
        checkpoint = train(data, default_config(args.epochs, args.seed, holdout))
    checkpoint = finish(checkpoint, data, holdout)
    config = TrainConfig(**checkpoint.config)
    save_checkpoint(checkpoint, args.output)
    seconds = float(checkpoint.metrics.get("seconds", time.perf_counter() - started))
    if args.output.resolve() == bundled_model_file().resolve():
        write_readme(args.output.parent / "README.md", checkpoint, config, seconds)
    print(
        f"wrote {args.output} ({args.output.stat().st_size / 1024:.0f} KB): validation "
        f"{checkpoint.metrics['validation_accuracy']:.2%}, test "
        f"{checkpoint.metrics['test_accuracy']:.2%} "
        f"(the sample, seen in training: {checkpoint.metrics['sample_accuracy']:.2%}), "
        f"temperature {checkpoint.temperature:.3f}, {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
