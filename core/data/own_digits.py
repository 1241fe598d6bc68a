"""The learner's own digits: a personal data set, and fine-tuning a model on it.

MNIST is 250 people's handwriting from the 1990s; whoever draws in the Draw tab is a new hand.
"Add to my digits as N" keeps each drawing in the user data folder, in the common folder
layout that ``core.data.folder_dataset`` reads (``<data>/my_digits/0/*.png`` ... ``/9/*.png``), so
the same pictures also train from the CLI (``train --dataset folder --data-dir DIR``).

``fine_tune`` trains the current model further on those drawings, mixed with MNIST digits so it
does not forget them, with the one training loop (``core.training.trainer.Trainer``, started from the
model's weights through its ``initial_state`` hook, with a small learning rate). Part of the
learner's drawings is held out (every 5th of each digit, at least one per digit that has two),
and the accuracy on them is measured before and after: the honest answer to "did it learn my
hand?", next to the MNIST test accuracy before and after ("did it forget MNIST?").
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.data.datasets import MNIST_MEAN, MNIST_STD
from core.data.folder_dataset import PICTURE_SUFFIXES, picture_to_digit, scan_digit_folder
from core.data.mnist import NUM_CLASSES, MnistData, normalize
from core.errors import DataError, UserError
from core.inference.preprocess import to_unit_float
from core.resources import user_data_dir
from core.storage.atomic import atomic_path
from core.storage.checkpoint import Checkpoint
from core.training.evaluation import log_probabilities, model_input, score_log_probs
from core.training.train_types import HeldOut, RunEnded, TrainConfig, TrainEvent

FOLDER_NAME = "my_digits"
MAX_OWN_DIGITS = 10_000  # a lot of drawing; beyond this, decoding them all would take minutes
MAX_SAVED_SIDE = 560  # twice the canvas: plenty for a digit that is fitted into 20x20 anyway
HOLD_OUT_EVERY = 5  # every 5th drawing of a digit (in the order drawn) is held out
MIN_PER_DIGIT = 2  # a digit needs two drawings: one to learn from, one to check on
MIN_DIGITS = 2  # and at least two digits, or there is nothing to tell apart
MIX_MNIST = 2000  # MNIST digits mixed in (at least), so the model keeps reading MNIST
OWN_SHARE = 1 / 3  # the learner's drawings are repeated to make about this share of the mix
FINALIZE_DIGITS = 1000  # MNIST digits outside the mix that calibrate the tuned model


def own_digits_dir() -> Path:
    """Where the learner's drawings live: ``<user data>/my_digits``."""
    return user_data_dir() / FOLDER_NAME


@dataclass(frozen=True)
class OwnDigit:
    """One saved drawing: its file and the digit it was saved as."""

    path: Path
    digit: int


def _check_digit(digit: object) -> int:
    if isinstance(digit, bool) or not isinstance(digit, int | np.integer) or not 0 <= digit <= 9:
        raise UserError(f"a drawing is saved as a digit from 0 to 9, not {digit!r}")
    return int(digit)


def _as_picture(image: Any) -> np.ndarray:
    """Any grayscale picture (the canvas's dark-on-white array, a 28x28 MNIST digit, a ``Paper``)
    as uint8, at most ``MAX_SAVED_SIDE`` on a side; refuses a blank one."""
    pixels = getattr(image, "pixels", image)  # core.inference.preprocess.Paper
    unit = to_unit_float(np.asarray(pixels))
    if float(unit.max()) - float(unit.min()) < 0.05:
        raise UserError("nothing is drawn yet: draw a digit before adding it to your digits")
    picture = Image.fromarray(np.clip(unit * 255.0 + 0.5, 0, 255).astype(np.uint8))
    side = max(picture.size)
    if side > MAX_SAVED_SIDE:
        scale = MAX_SAVED_SIDE / side
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    return np.asarray(picture)


class OwnDigits:
    """The learner's drawings in ``root/0`` .. ``root/9`` (default: ``own_digits_dir()``).

    Every call reads the folder afresh (a CLI run or a file manager may change it too); names
    are the time of saving, so name order is the order drawn and the held-out split is stable.
    Errors are ``UserError`` sentences (a full disk, a folder that cannot be written).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else own_digits_dir()

    def files(self, digit: int) -> list[Path]:
        """The pictures saved as ``digit``, oldest first."""
        folder = self.root / str(_check_digit(digit))
        try:
            entries = sorted(folder.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise DataError(f"cannot read {folder}: {exc.strerror or exc}") from None
        return [
            p
            for p in entries
            if p.suffix.lower() in PICTURE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        ]

    def counts(self) -> list[int]:
        """Drawings per digit 0..9."""
        return [len(self.files(d)) for d in range(NUM_CLASSES)]

    def total(self) -> int:
        return sum(self.counts())

    def list(self, digit: int | None = None) -> list[OwnDigit]:
        """Every drawing (or those of ``digit``), by digit, oldest first."""
        digits = range(NUM_CLASSES) if digit is None else [_check_digit(digit)]
        return [OwnDigit(p, d) for d in digits for p in self.files(d)]

    def add(self, image: Any, digit: int) -> Path:
        """Save ``image`` as a drawing of ``digit`` (PNG, written atomically); returns its path.

        Refuses, in one sentence, a digit outside 0..9, a blank picture, and a set that already
        holds ``MAX_OWN_DIGITS`` drawings.
        """
        digit = _check_digit(digit)
        pixels = _as_picture(image)
        if self.total() >= MAX_OWN_DIGITS:
            raise UserError(
                f"you already have {MAX_OWN_DIGITS:,} drawings, the most kept; delete some "
                "in My digits before adding more"
            )
        folder = self.root / str(digit)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        path = folder / f"{stamp}-{secrets.token_hex(2)}.png"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(path, suffix=".png") as tmp:
                Image.fromarray(pixels).save(tmp, "PNG")
        except OSError as exc:
            raise UserError(
                f"could not save the drawing in {folder}: {exc.strerror or exc}"
            ) from None
        return path

    def delete(self, path: str | os.PathLike[str]) -> None:
        """Delete one saved drawing; refuses a path outside this folder's digit folders."""
        path = Path(path)
        inside = path.parent.parent.resolve() == self.root.resolve() and path.parent.name.isdigit()
        if not inside or path.suffix.lower() not in PICTURE_SUFFIXES:
            raise UserError(f"{path} is not one of your saved drawings")
        try:
            path.unlink()
        except FileNotFoundError:
            return  # already gone: the wanted outcome
        except OSError as exc:
            raise UserError(f"could not delete {path.name}: {exc.strerror or exc}") from None


# ------------------------------------------------------------------------------ fine-tuning


@dataclass
class LoadingOwnDigits:
    """Progress event while the drawings are decoded (before the trainer's events)."""

    done: int
    total: int


FineTuneEvent = LoadingOwnDigits | TrainEvent


@dataclass
class OwnSplit:
    """The learner's drawings as 28x28 digits (uint8, ink high), split for fine-tuning."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    held_images: torch.Tensor
    held_labels: torch.Tensor
    blank: int = 0  # pictures without ink, left out


@dataclass
class FineTuneResult:
    """What fine-tuning gave: the tuned model and the accuracies before and after.

    ``own_*`` are on the held-out drawings (never trained on); ``mnist_*`` on the MNIST test
    digits. ``status`` is the trainer's ("finished" or "stopped": a stopped run is scored as it
    is, and not offered by the app).
    """

    status: str
    checkpoint: Checkpoint
    own_before: float
    own_after: float
    mnist_before: float
    mnist_after: float
    own_trained: int
    own_held_out: int
    mnist_mixed: int
    mnist_test: int
    epochs_completed: int
    seconds: float
    own_before_per_digit: list[float] = field(default_factory=list)
    own_after_per_digit: list[float] = field(default_factory=list)
    own_held_out_per_digit: list[int] = field(default_factory=list)  # 0: no accuracy for it
    mnist_description: str = ""  # whose test split the MNIST check is (e.g. the sample's)

    def describe(self) -> str:
        """Two lines for people (CLI, status bar, report)."""
        return (
            f"your {self.own_held_out} held-out drawings: {self.own_before:.1%} -> "
            f"{self.own_after:.1%}\nMNIST test digits ({self.mnist_test:,}): "
            f"{self.mnist_before:.1%} -> {self.mnist_after:.1%}"
        )


def _split_own(found_files: dict[str, dict[int, list[Path]]]) -> list[tuple[Path, int, bool]]:
    """(file, digit, held out?) for every picture: a folder's own train/test split, else every
    ``HOLD_OUT_EVERY``-th drawing of a digit, and the last one of a digit with 2..4 drawings."""
    items: list[tuple[Path, int, bool]] = []
    if "all" not in found_files:
        for split, held in (("train", False), ("test", True)):
            for digit, paths in sorted(found_files.get(split, {}).items()):
                items += [(p, digit, held) for p in paths]
        return items
    for digit, paths in sorted(found_files["all"].items()):
        n = len(paths)
        for index, path in enumerate(paths):
            every = index % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1
            last_of_few = MIN_PER_DIGIT <= n < HOLD_OUT_EVERY and index == n - 1
            items.append((path, digit, every or last_of_few))
    return items


def _too_few_sentence(counts: list[int]) -> str:
    have = ", ".join(f"{d}: {c}" for d, c in enumerate(counts) if c) or "none yet"
    return (
        f"fine-tuning needs at least {MIN_PER_DIGIT} drawings of each of at least {MIN_DIGITS} "
        f'digits (you have {have}); add more with "Add to my digits" in the Draw tab'
    )


def load_own_split(
    folder: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> OwnSplit:
    """Decode the drawings of ``folder`` through the canvas preprocessing and split them.

    Raises ``UserError`` with one sentence for a bad folder (``scan_digit_folder``'s), an
    unreadable picture, or too few drawings (fewer than ``MIN_DIGITS`` digits with
    ``MIN_PER_DIGIT`` each).
    """
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(_too_few_sentence([0] * NUM_CLASSES))
    found = scan_digit_folder(root)
    if sum(1 for count in found.counts_per_digit() if count >= MIN_PER_DIGIT) < MIN_DIGITS:
        raise DataError(_too_few_sentence(found.counts_per_digit()))
    items = _split_own(found.files)
    parts: dict[bool, tuple[list[np.ndarray], list[int]]] = {False: ([], []), True: ([], [])}
    blank = 0
    for done, (path, digit, held) in enumerate(items, start=1):
        if should_stop and should_stop():
            raise UserError("fine-tuning was cancelled")
        image = picture_to_digit(path)
        if progress:
            progress(done, len(items))
        if image is None:
            blank += 1
            continue
        parts[held][0].append(image)
        parts[held][1].append(digit)
    if len(set(parts[True][1])) < MIN_DIGITS or not parts[False][1]:
        counts = [parts[False][1].count(d) + parts[True][1].count(d) for d in range(NUM_CLASSES)]
        raise DataError(_too_few_sentence(counts))

    def stack(held: bool) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = parts[held]
        return torch.from_numpy(np.stack(images)), torch.tensor(labels, dtype=torch.int64)

    (train_x, train_y), (held_x, held_y) = stack(False), stack(True)
    return OwnSplit(train_x, train_y, held_x, held_y, blank)


@dataclass
class _Mix:
    data: MnistData  # own drawings (repeated) + MNIST digits to train on; MNIST test split
    spare_images: torch.Tensor  # MNIST training digits outside the mix (for calibration)
    spare_labels: torch.Tensor
    mnist_mixed: int
    mnist_description: str


def _mix(own: OwnSplit, mnist: MnistData, seed: int) -> _Mix:
    """The training set: the learner's drawings repeated to about ``OWN_SHARE`` of it, the rest
    MNIST training digits chosen at random (seeded); MNIST's test digits as the test split."""
    n_own = len(own.train_labels)
    order = torch.randperm(mnist.train_samples, generator=torch.Generator().manual_seed(seed))
    n_mnist = min(mnist.train_samples, max(MIX_MNIST, 4 * n_own))
    picked, spare = order[:n_mnist].sort().values, order[n_mnist:]
    repeats = max(1, round(n_mnist * OWN_SHARE / (1 - OWN_SHARE) / max(n_own, 1)))
    images = torch.cat([own.train_images.repeat(repeats, 1, 1), mnist.train_images[picked]])
    labels = torch.cat([own.train_labels.repeat(repeats), mnist.train_labels[picked]])
    data = MnistData(
        "own",
        f"your {n_own:,} drawings + {n_mnist:,} {mnist.description.split('(')[0].strip()} digits",
        images.contiguous(),
        labels.contiguous(),
        mnist.test_images,
        mnist.test_labels,
    )
    spare = spare[:FINALIZE_DIGITS].sort().values
    spare_images, spare_labels = mnist.train_images[spare], mnist.train_labels[spare]
    return _Mix(data, spare_images, spare_labels, n_mnist, mnist.description)


def _accuracy(checkpoint: Checkpoint, images: torch.Tensor, labels: torch.Tensor):
    """EvalResult of ``checkpoint`` on uint8 digits, on the CPU (small sets)."""
    model = checkpoint.build("cpu")
    inputs = model_input(normalize(images), checkpoint.model_name).contiguous()
    return score_log_probs(log_probabilities(model, inputs), labels, max_misclassified=0)


def _finalize_on(images: torch.Tensor, labels: torch.Tensor):
    """A trainer ``finalize`` that fits calibration and "is this a digit?" on MNIST digits
    outside the mix (the trainer's own held-out share holds repeated drawings)."""
    from core.training.trainer import finalize_run

    def finalize(model: torch.nn.Module, held_out: HeldOut, checkpoint: Checkpoint) -> None:
        if len(labels) >= 100:
            device = next(model.parameters()).device
            inputs = model_input(normalize(images.to(device)), checkpoint.model_name)
            held_out = HeldOut(images, labels, log_probabilities(model, inputs).cpu())
        finalize_run(model, held_out, checkpoint)

    return finalize


def fine_tune_config(checkpoint: Checkpoint, epochs: int, seed: int, lr: float) -> TrainConfig:
    """The run's settings: the model's own kind and head, Adam with a small learning rate."""
    return TrainConfig(
        model=checkpoint.model_name,
        loss=checkpoint.loss,
        optimizer="adam",
        lr=lr,
        batch_size=64,
        epochs=epochs,
        seed=seed,
        dataset="folder",
        holdout=0.02,  # the trainer needs some; calibration uses MNIST digits (_finalize_on)
        report_every=5,
    )


def fine_tune(
    checkpoint: Checkpoint,
    own_folder: str | os.PathLike[str],
    mnist_data: MnistData,
    epochs: int = 3,
    seed: int = 1,
    lr: float = 3e-4,
    on_event: Callable[[FineTuneEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FineTuneResult:
    """Train ``checkpoint``'s model further on the drawings in ``own_folder`` mixed with
    ``mnist_data``'s training digits; score it on the held-out drawings and MNIST's test digits
    before and after.

    ``on_event`` gets ``LoadingOwnDigits`` while decoding, then the trainer's events;
    ``should_stop`` is polled while decoding and between batches (a stopped run is scored as
    it is, ``status`` "stopped"). Raises ``UserError`` (one sentence) for too few drawings, a
    bad folder, a model with another normalisation, or a failed run.
    """
    from core.training.trainer import Trainer

    if tuple(checkpoint.normalization) != (MNIST_MEAN, MNIST_STD):
        raise UserError(
            "this model was trained with another input normalisation; fine-tune a model trained in Digit Lab"
        )
    emit = on_event or (lambda event: None)
    own = load_own_split(own_folder, lambda d, t: emit(LoadingOwnDigits(d, t)), should_stop)
    mix = _mix(own, mnist_data, seed)
    own_before = _accuracy(checkpoint, own.held_images, own.held_labels)
    mnist_before = _accuracy(checkpoint, mnist_data.test_images, mnist_data.test_labels)
    trainer: Trainer

    def relay(event: TrainEvent) -> None:
        if should_stop and should_stop():
            trainer.stop()
        emit(event)

    trainer = Trainer(
        fine_tune_config(checkpoint, epochs, seed, lr),
        on_event=relay,
        data=mix.data,
        finalize=_finalize_on(mix.spare_images, mix.spare_labels),
        initial_state=checkpoint.state_dict,
    )
    started = time.perf_counter()
    ended = trainer.run()
    return _result(ended, own, mix, own_before, mnist_before, time.perf_counter() - started)


def _result(ended: RunEnded, own: OwnSplit, mix: _Mix, own_before, mnist_before, seconds: float):
    """The ``FineTuneResult`` of a run (``UserError`` with the trainer's reason if it failed)."""
    if ended.status == "failed" or ended.result is None or ended.result.checkpoint is None:
        raise UserError(f"fine-tuning failed: {ended.reason or 'no model came out'}")
    tuned: Checkpoint = ended.result.checkpoint
    own_after = _accuracy(tuned, own.held_images, own.held_labels)
    mnist_after = _accuracy(tuned, mix.data.test_images, mix.data.test_labels)
    tuned.metrics["own_held_out_accuracy_before"] = own_before.accuracy
    tuned.metrics["own_held_out_accuracy"] = own_after.accuracy
    tuned.metrics["own_held_out_samples"] = len(own.held_labels)
    tuned.config["fine_tuned"] = True
    return FineTuneResult(
        status=ended.status,
        checkpoint=tuned,
        own_before=own_before.accuracy,
        own_after=own_after.accuracy,
        mnist_before=mnist_before.accuracy,
        mnist_after=mnist_after.accuracy,
        own_trained=len(own.train_labels),
        own_held_out=len(own.held_labels),
        mnist_mixed=mix.mnist_mixed,
        mnist_test=len(mix.data.test_labels),
        epochs_completed=ended.result.epochs_completed,
        seconds=seconds,
        own_before_per_digit=own_before.per_class_accuracy,
        own_after_per_digit=own_after.per_class_accuracy,
        own_held_out_per_digit=torch.bincount(own.held_labels, minlength=NUM_CLASSES).tolist(),
        mnist_description=mix.mnist_description,
    )
