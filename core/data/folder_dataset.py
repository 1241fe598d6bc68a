"""A folder of digit pictures as a dataset: ``DIR/0/*.png`` ... ``DIR/9/*.png``.

The common layout (torchvision's ``ImageFolder``, most tutorials): one sub-folder per digit,
named by the digit. Every picture goes through the app's one path from a file to the model's
input (``core.inference.preprocess.read_paper`` then ``canvas_to_input``: crop, fit 20x20, centre of
mass), so a model trained on the folder sees digits exactly as the Draw tab will feed them.

Optionally ``DIR/train/0..9`` and ``DIR/test/0..9``; otherwise every fifth picture of each digit
(in name order) is the test split, so the split is the same on every run and on every machine.
A folder that does not fit the layout is refused with one sentence saying what is wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.data.digits import NUM_CLASSES, MnistData
from core.errors import DataError, UserError
from core.inference.preprocess import canvas_to_input, read_paper
from core.storage.paths import check_folder, is_dir, is_file, short, user_path

PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
TEST_EVERY = 5  # without train/ and test/ folders: every 5th picture of a digit is a test digit
MAX_PICTURES = 200_000  # more than full MNIST: beyond this, decoding would take many minutes


@dataclass
class DigitFolder:
    """What a folder holds: picture files per digit and split (``"train"``/``"test"``)."""

    root: Path
    files: dict[str, dict[int, list[Path]]]  # split -> digit -> files, sorted by name
    skipped: list[str] = field(default_factory=list)  # files that are not pictures

    def count(self, split: str | None = None) -> int:
        splits = [split] if split else list(self.files)
        return sum(len(paths) for s in splits for paths in self.files[s].values())

    def counts_per_digit(self) -> list[int]:
        """Pictures per digit 0..9 over both splits (for the Data panel)."""
        return [sum(len(self.files[s].get(d, [])) for s in self.files) for d in range(NUM_CLASSES)]


def _digit_folders(folder: Path) -> dict[int, list[Path]]:
    """``folder/0`` .. ``folder/9`` -> their picture files; refuses other visible sub-folders."""
    found: dict[int, list[Path]] = {}
    try:
        entries = sorted(folder.iterdir())
    except PermissionError:
        raise DataError(f"cannot read the folder {folder}: permission denied") from None
    except OSError as exc:
        raise DataError(f"cannot read the folder {folder}: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.name.startswith(".") or not is_dir(entry):
            continue
        if entry.name not in {str(d) for d in range(NUM_CLASSES)}:
            raise DataError(
                f"{entry} is not a digit folder: inside {folder} only folders named 0 to 9 "
                "(one per digit) are expected"
            )
        try:
            # Regular files only: a FIFO or a device named x.png is never opened.
            found[int(entry.name)] = sorted(p for p in entry.iterdir() if is_file(p))
        except OSError as exc:
            raise DataError(f"cannot read the folder {entry}: {exc.strerror or exc}") from None
    return found


def _checked_root(folder: str | os.PathLike[str]) -> Path:
    """The folder the user named, through ``core.storage.paths``' checks (as ``--dataset mnist``
    does): ``~user``, an overlong name, a folder that cannot be read are each one sentence."""
    try:
        root = user_path(folder, "the data folder")
        try:
            os.stat(root)
        except FileNotFoundError:
            raise DataError(f"the folder {short(root)} does not exist") from None
        except OSError:
            pass  # too long, a loop, no permission: check_folder says which
        if is_file(root):
            raise DataError(f"{short(root)} is a file; choose a folder holding sub-folders 0 to 9")
        return check_folder(root, "data folder")
    except DataError:
        raise
    except UserError as exc:
        raise DataError(str(exc)) from None


def scan_digit_folder(folder: str | os.PathLike[str]) -> DigitFolder:
    """Find the pictures of ``folder`` laid out as ``DIR/0..9`` or ``DIR/train|test/0..9``.

    Raises ``DataError`` with one sentence for a missing path, a file, an empty folder, a folder
    with other sub-folders, no pictures at all, or more than ``MAX_PICTURES`` of them.
    """
    root = _checked_root(folder)
    if is_dir(root / "train"):
        splits = {"train": _digit_folders(root / "train")}
        if is_dir(root / "test"):
            splits["test"] = _digit_folders(root / "test")
    else:
        splits = {"all": _digit_folders(root)}
    if not any(splits.values()):
        raise DataError(
            f"{root} holds no digit folders: expected pictures in {root / '0'} to {root / '9'}"
        )
    files: dict[str, dict[int, list[Path]]] = {}
    skipped: list[str] = []
    for split, digits in splits.items():
        files[split] = {}
        for digit, paths in digits.items():
            pictures = [p for p in paths if p.suffix.lower() in PICTURE_SUFFIXES]
            skipped += [str(p) for p in paths if p not in pictures and not p.name.startswith(".")]
            files[split][digit] = pictures
    found = DigitFolder(root, files, skipped)
    if found.count() == 0:
        raise DataError(
            f"{root} has digit folders but no pictures in them "
            f"({', '.join(PICTURE_SUFFIXES)} files are read)"
        )
    if found.count() > MAX_PICTURES:
        raise DataError(
            f"{root} holds {found.count():,} pictures; at most {MAX_PICTURES:,} are read"
        )
    return found


def _split(found: DigitFolder) -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
    """(train, test) lists of (file, digit): the folders' own split or every TEST_EVERY-th."""
    train: list[tuple[Path, int]] = []
    test: list[tuple[Path, int]] = []
    if "all" in found.files:
        for digit, paths in sorted(found.files["all"].items()):
            for index, path in enumerate(paths):
                (test if index % TEST_EVERY == TEST_EVERY - 1 else train).append((path, digit))
    else:
        for digit, paths in sorted(found.files["train"].items()):
            train += [(p, digit) for p in paths]
        for digit, paths in sorted(found.files.get("test", {}).items()):
            test += [(p, digit) for p in paths]
    return train, test


def picture_to_digit(path: Path) -> np.ndarray | None:
    """One picture file as a 28x28 uint8 digit (ink high), as the canvas path sees it; None
    when it holds no ink. ``ImageError`` (one sentence) when it cannot be read."""
    paper = read_paper(path)
    if paper.is_blank:
        return None
    item = canvas_to_input(paper.pixels, normalization=(0.0, 1.0), keep_steps=False)
    if item.tensor is None:
        return None
    return np.clip(item.tensor[0].numpy() * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _decode(
    items: list[tuple[Path, int]],
    progress: Callable[[int], None],
    should_cancel: Callable[[], bool] | None,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Decode ``items`` into (uint8 images, int64 labels, how many were blank)."""
    images, labels, blank = [], [], 0
    for path, digit in items:
        if should_cancel and should_cancel():
            raise UserError("loading the folder was cancelled")
        digit_image = picture_to_digit(path)
        progress(1)
        if digit_image is None:
            blank += 1
            continue
        images.append(digit_image)
        labels.append(digit)
    if not images:
        return torch.zeros((0, 28, 28), dtype=torch.uint8), torch.zeros(0, dtype=torch.int64), blank
    return torch.from_numpy(np.stack(images)), torch.tensor(labels, dtype=torch.int64), blank


def load_folder_dataset(
    folder: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> MnistData:
    """Read a digit folder (see ``scan_digit_folder``) as ``MnistData`` (name ``"folder"``).

    ``progress(done, total)`` counts pictures; ``should_cancel`` is polled per picture and
    cancelling raises ``UserError``. Blank pictures are left out (the description says how
    many); an unreadable one raises ``ImageError`` naming it. Refuses a folder that leaves the
    training or the test split empty, with one sentence saying how to fix it.
    """
    found = scan_digit_folder(folder)
    train_items, test_items = _split(found)
    total, done = len(train_items) + len(test_items), 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    advance(0)
    train_x, train_y, blank_train = _decode(train_items, advance, should_cancel)
    test_x, test_y, blank_test = _decode(test_items, advance, should_cancel)
    if len(train_y) == 0 or len(test_y) == 0:
        need = "train" if len(train_y) == 0 else "test"
        raise DataError(
            f"{found.root} leaves no {need} digits: put at least {TEST_EVERY} pictures of a digit "
            f"in its folder (every {TEST_EVERY}th is a test digit), or add a {need}/ folder"
        )
    blank = blank_train + blank_test
    note = f"; {blank} blank picture{'s' if blank != 1 else ''} left out" if blank else ""
    return MnistData(
        "folder",
        f"folder {found.root.name} ({len(train_y):,} train / {len(test_y):,} test{note})",
        train_x,
        train_y,
        test_x,
        test_y,
    )
