"""A folder of digit pictures reads like the canvas, and bad folders are refused in a sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.data.folder_dataset import (
    TEST_EVERY,
    load_folder_dataset,
    picture_to_digit,
    scan_digit_folder,
)
from core.data.mnist import load_sample, normalize
from core.errors import DataError, UserError
from core.inference.preprocess import canvas_to_input
from core.resources import bundled_model_file
from core.storage.checkpoint import load_checkpoint


def as_paper(digit: np.ndarray, side: int = 84) -> np.ndarray:
    """A 28x28 MNIST digit as a dark-on-light picture, as a learner's PNG would be."""
    grown = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    return 255 - np.asarray(grown)


def write_folder(root: Path, per_digit: int = 6, offset: int = 0) -> list[tuple[Path, int]]:
    sample = load_sample()
    images, labels = sample.test_images.numpy(), sample.test_labels.numpy()
    written = []
    for digit in range(10):
        (root / str(digit)).mkdir(parents=True, exist_ok=True)
        picks = np.flatnonzero(labels == digit)[offset : offset + per_digit]
        for index, pick in enumerate(picks):
            path = root / str(digit) / f"{index:03d}.png"
            Image.fromarray(as_paper(images[pick])).save(path)
            written.append((path, digit))
    return written


def test_reads_pictures_through_the_canvas_preprocessing(tmp_path):
    written = write_folder(tmp_path, per_digit=6)
    data = load_folder_dataset(tmp_path)
    assert data.name == "folder"
    # every 5th picture of a digit (name order) is a test digit: 1 of 6 per digit
    assert data.test_samples == 10 * (6 // TEST_EVERY)
    assert data.train_samples == 60 - data.test_samples
    assert data.train_images.dtype == torch.uint8 and data.train_images.shape[1:] == (28, 28)
    assert sorted(data.test_labels.tolist()) == list(range(10))
    assert "50 train / 10 test" in data.description
    # the first training digit is the first file of digit 0, exactly as the canvas path sees it
    first_path = written[0][0]
    expected = canvas_to_input(np.asarray(Image.open(first_path)), normalization=(0.0, 1.0))
    assert (
        np.abs(data.train_images[0].numpy() / 255.0 - expected.tensor[0].numpy()).max()
        <= 0.5 / 255 + 1e-6
    )


def test_the_shipped_model_reads_the_folder_digits(tmp_path):
    write_folder(tmp_path, per_digit=10)
    data = load_folder_dataset(tmp_path)
    model = load_checkpoint(bundled_model_file()).build()
    with torch.no_grad():
        inputs = normalize(torch.cat([data.train_images, data.test_images])).unsqueeze(1)
        read = model(inputs).argmax(1)
    truth = torch.cat([data.train_labels, data.test_labels])
    assert float((read == truth).float().mean()) >= 0.9


def test_train_and_test_folders_are_used_as_given(tmp_path):
    write_folder(tmp_path / "train", per_digit=3)
    write_folder(tmp_path / "test", per_digit=1, offset=5)
    data = load_folder_dataset(tmp_path)
    assert (data.train_samples, data.test_samples) == (30, 10)
    progress = []
    load_folder_dataset(tmp_path, progress=lambda done, total: progress.append((done, total)))
    assert progress[0] == (0, 40) and progress[-1] == (40, 40)


def test_blank_pictures_are_left_out_and_said(tmp_path):
    write_folder(tmp_path, per_digit=5)
    Image.new("L", (64, 64), 255).save(tmp_path / "3" / "zz-blank.png")
    assert picture_to_digit(tmp_path / "3" / "zz-blank.png") is None
    data = load_folder_dataset(tmp_path)
    assert data.train_samples + data.test_samples == 50
    assert "1 blank picture left out" in data.description


def test_scan_counts_per_digit_and_skips_other_files(tmp_path):
    write_folder(tmp_path, per_digit=2)
    (tmp_path / "7" / "notes.txt").write_text("not a picture")
    found = scan_digit_folder(tmp_path)
    assert found.counts_per_digit() == [2] * 10
    assert [Path(p).name for p in found.skipped] == ["notes.txt"]


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.count(". ") == 0


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda root: root / "missing", "does not exist"),
        (lambda root: (root / "file.png").write_bytes(b"x") and root / "file.png", "is a file"),
        (lambda root: root, "no digit folders"),
        (lambda root: (root / "cats").mkdir() or root, "not a digit folder"),
        (lambda root: (root / "4").mkdir() or root, "no pictures"),
    ],
)
def test_bad_folders_are_refused_with_one_sentence(tmp_path, make, match):
    target = make(tmp_path)
    with pytest.raises(DataError, match=match) as caught:
        load_folder_dataset(target)
    assert one_sentence(str(caught.value))


def test_too_few_pictures_for_a_test_split_is_refused(tmp_path):
    write_folder(tmp_path, per_digit=2)
    with pytest.raises(DataError, match="no test digits") as caught:
        load_folder_dataset(tmp_path)
    assert one_sentence(str(caught.value))


def test_a_damaged_picture_is_named(tmp_path):
    write_folder(tmp_path, per_digit=5)
    (tmp_path / "2" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(UserError, match="broken.png"):
        load_folder_dataset(tmp_path)


def test_cancel_stops_loading(tmp_path):
    write_folder(tmp_path, per_digit=5)
    with pytest.raises(UserError, match="cancelled"):
        load_folder_dataset(tmp_path, should_cancel=lambda: True)


def test_the_engine_loads_it_as_dataset_folder(tmp_path):
    from core.data.mnist import load_mnist

    write_folder(tmp_path, per_digit=5)
    data = load_mnist("folder", tmp_path)
    assert (data.name, data.train_samples, data.test_samples) == ("folder", 40, 10)
    with pytest.raises(DataError, match="needs --data-dir") as caught:
        load_mnist("folder", None)
    assert one_sentence(str(caught.value))


@pytest.mark.slow
def test_train_on_a_folder_from_the_command_line(tmp_path):
    from tests.helpers import run_main

    write_folder(tmp_path / "digits", per_digit=5)
    out = tmp_path / "model.pt"
    done = run_main(
        "train", "--dataset", "folder", "--data-dir", str(tmp_path / "digits"),
        "--model", "mlp", "--epochs", "1", "--augment", "--holdout", "0", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(out).config["augment"] is True
    refused = run_main("train", "--dataset", "folder", "--data-dir", str(tmp_path / "nothing"))
    assert refused.returncode == 2
    assert refused.stderr.strip().startswith("error:") and "does not exist" in refused.stderr


# ------------------------------------------------ issue 24: the folder's path through paths.py
def _fifo(path: Path) -> Path:
    import os

    os.mkfifo(path)
    return path


def _loop(path: Path) -> Path:
    path.symlink_to(path.name)
    return path


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda t: t / ("d" * 300), "too long"),
        (lambda t: Path("~nosuchuser/x"), "no user 'nosuchuser'"),
        (lambda t: _fifo(t / "pipe"), "not a folder"),
        (lambda t: _loop(t / "loop"), "loops"),
        (lambda t: (t / "f").write_text("x") and t / "f" / "x", "not a folder|does not exist"),
        (lambda t: "", "empty"),
    ],
)
def test_the_data_folder_goes_through_the_path_checks(tmp_path, make, match):
    from core.data.mnist import load_mnist

    with pytest.raises(DataError, match=match) as info:
        load_mnist("folder", make(tmp_path))
    assert one_sentence(str(info.value))


def test_an_unreadable_data_folder_is_one_sentence(tmp_path):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "1").mkdir()
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("root reads folders whatever their mode")
        with pytest.raises(DataError, match="permission denied") as info:
            scan_digit_folder(locked)
        assert one_sentence(str(info.value))
    finally:
        locked.chmod(0o755)


def test_a_special_file_named_like_a_picture_is_skipped_never_opened(tmp_path):
    write_folder(tmp_path, per_digit=2)
    _fifo(tmp_path / "4" / "x.png")
    (tmp_path / "5" / "zero.png").symlink_to("/dev/zero")
    found = scan_digit_folder(tmp_path)
    assert found.count() == 20
    assert all("x.png" not in str(p) for d in found.files["all"].values() for p in d)
