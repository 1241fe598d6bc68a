"""The learner's own digits: saving (atomic, counted, bounded), deleting, refusing, fine-tuning."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.data import own_digits
from core.data.folder_dataset import load_folder_dataset
from core.data.mnist import load_sample
from core.data.own_digits import LoadingOwnDigits, OwnDigits, fine_tune, load_own_split
from core.errors import UserError
from core.inference.preprocess import digit_to_paper
from core.training.train_types import EpochEvent, RunEnded, RunStarted
from tests.helpers import mlp_on_sample_but


def one_sentence(message: str) -> bool:
    return message.count(". ") == 0 and "\n" not in message and len(message) < 300


def stroke_picture(digit: int) -> np.ndarray:
    """A canvas-like picture (dark ink on white, 280x280) with a different mark per digit."""
    picture = np.full((280, 280), 255, dtype=np.uint8)
    picture[60:220, 100 + 10 * digit : 130 + 10 * digit] = 0
    return picture


def own_hand(images: torch.Tensor, shear: float = 0.9, rotate: float = 0.5) -> torch.Tensor:
    """MNIST digits as one consistent new hand: slanted, turned and with thick strokes."""
    x = images.float().div(255).unsqueeze(1)
    c, s = float(np.cos(rotate)), float(np.sin(rotate))
    theta = torch.tensor([[c, -s + shear, 0.0], [s, c, 0.0]])
    grid = F.affine_grid(theta.expand(len(x), 2, 3), list(x.shape), align_corners=False)
    x = F.max_pool2d(F.grid_sample(x, grid, align_corners=False), 3, stride=1, padding=1)
    return (x.squeeze(1) * 255).clamp(0, 255).to(torch.uint8)


def test_default_folder_is_in_the_user_data_folder(isolated_user_dirs):
    assert OwnDigits().root == Path(isolated_user_dirs) / "my_digits"


def test_add_writes_a_png_per_digit_and_counts(tmp_path):
    own = OwnDigits(tmp_path / "mine")
    first = own.add(stroke_picture(7), 7)
    own.add(stroke_picture(7), 7)
    own.add(stroke_picture(3), 3)
    assert first.parent == tmp_path / "mine" / "7" and first.suffix == ".png"
    assert own.counts() == [0, 0, 0, 1, 0, 0, 0, 2, 0, 0]
    assert own.total() == 3
    assert [item.digit for item in own.list()] == [3, 7, 7]
    assert [item.path for item in own.list(7)] == own.files(7)
    # only the pictures are left: no temporary files beside them
    assert sorted(p.name for p in (tmp_path / "mine" / "7").iterdir()) == sorted(
        p.name for p in own.files(7)
    )


def test_saved_pictures_read_back_through_the_folder_dataset(tmp_path):
    own = OwnDigits(tmp_path)
    digits = load_sample().test_images[:10]
    labels = load_sample().test_labels[:10]
    for image, label in zip(digits, labels, strict=True):
        for _ in range(5):  # five each: the folder dataset holds every 5th out as a test digit
            own.add(digit_to_paper(image.numpy()), int(label))
    data = load_folder_dataset(tmp_path)
    assert data.train_samples + data.test_samples == 50
    assert sorted(set(data.train_labels.tolist())) == sorted(set(labels.tolist()))


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    own = OwnDigits(tmp_path)
    own.add(stroke_picture(1), 1)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(UserError) as caught:
        own.add(stroke_picture(1), 1)
    assert "No space left on device" in str(caught.value) and one_sentence(str(caught.value))
    assert own.counts()[1] == 1
    assert len(list((tmp_path / "1").iterdir())) == 1  # the temp file is gone too


@pytest.mark.parametrize(
    ("picture", "digit", "words"),
    [
        (np.full((280, 280), 255, np.uint8), 4, "nothing is drawn"),
        (stroke_picture(2), 10, "0 to 9"),
        (stroke_picture(2), True, "0 to 9"),
    ],
)
def test_add_refuses_bad_input_in_one_sentence(tmp_path, picture, digit, words):
    with pytest.raises(UserError) as caught:
        OwnDigits(tmp_path).add(picture, digit)
    assert words in str(caught.value) and one_sentence(str(caught.value))
    assert OwnDigits(tmp_path).total() == 0


def test_add_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(own_digits, "MAX_OWN_DIGITS", 2)
    own = OwnDigits(tmp_path)
    own.add(stroke_picture(1), 1)
    own.add(stroke_picture(2), 2)
    with pytest.raises(UserError, match="already have 2 drawings") as caught:
        own.add(stroke_picture(3), 3)
    assert one_sentence(str(caught.value))
    assert own.total() == 2


def test_big_pictures_are_kept_smaller(tmp_path):
    from PIL import Image

    big = np.full((1000, 800), 255, np.uint8)
    big[100:900, 300:500] = 0
    path = OwnDigits(tmp_path).add(big, 1)
    assert max(Image.open(path).size) == own_digits.MAX_SAVED_SIDE


def test_delete_one(tmp_path):
    own = OwnDigits(tmp_path)
    keep = own.add(stroke_picture(5), 5)
    gone = own.add(stroke_picture(5), 5)
    own.delete(gone)
    assert own.files(5) == [keep]
    own.delete(gone)  # already gone: nothing to do
    assert own.counts()[5] == 1


def test_delete_refuses_files_that_are_not_saved_drawings(tmp_path):
    outside = tmp_path / "notes.png"
    outside.write_bytes(b"x")
    with pytest.raises(UserError, match="not one of your saved drawings"):
        OwnDigits(tmp_path / "mine").delete(outside)
    assert outside.exists()


def test_missing_folder_counts_zero(tmp_path):
    assert OwnDigits(tmp_path / "never").counts() == [0] * 10


def test_split_holds_out_every_fifth_and_one_of_a_few(tmp_path):
    own = OwnDigits(tmp_path)
    for _ in range(10):
        own.add(stroke_picture(1), 1)
    for _ in range(3):
        own.add(stroke_picture(2), 2)
    own.add(stroke_picture(3), 3)  # one only: trained on, never checked
    split = load_own_split(tmp_path)
    assert sorted(split.held_labels.tolist()) == [1, 1, 2]
    assert sorted(split.train_labels.tolist()) == [1] * 8 + [2, 2, 3]
    assert split.held_images.shape == (3, 28, 28) and split.held_images.dtype == torch.uint8


@pytest.mark.parametrize("counts", [{}, {1: 5}, {1: 5, 2: 1}])
def test_too_few_drawings_are_refused_in_one_sentence(tmp_path, counts):
    own = OwnDigits(tmp_path / "mine")
    for digit, count in counts.items():
        for _ in range(count):
            own.add(stroke_picture(digit), digit)
    with pytest.raises(UserError) as caught:
        load_own_split(own.root)
    message = str(caught.value)
    assert "at least 2 drawings of each of at least 2 digits" in message
    assert one_sentence(message)


def test_a_bad_folder_is_refused_in_one_sentence(tmp_path):
    (tmp_path / "cats").mkdir()
    with pytest.raises(UserError) as caught:
        load_own_split(tmp_path)
    assert "not a digit folder" in str(caught.value) and one_sentence(str(caught.value))


@pytest.fixture(scope="module")
def mlp_and_own_hand(tmp_path_factory):
    """A quickly trained MLP, and 25 drawings per digit in a consistent new hand made from
    MNIST digits the model and the mix never see."""
    checkpoint, mnist, images, labels = mlp_on_sample_but(250)
    own = OwnDigits(tmp_path_factory.mktemp("own-hand"))
    for image, label in zip(own_hand(images), labels, strict=True):
        own.add(digit_to_paper(image.numpy()), int(label))
    return checkpoint, own, mnist


def test_fine_tuning_learns_the_own_hand_without_forgetting_mnist(mlp_and_own_hand):
    checkpoint, own, mnist = mlp_and_own_hand
    events = []
    result = fine_tune(checkpoint, own.root, mnist, epochs=3, seed=1, on_event=events.append)
    assert result.status == "finished" and result.epochs_completed == 3
    assert result.own_held_out == sum(c // 5 for c in own.counts())
    assert result.own_trained + result.own_held_out == own.total()
    assert result.own_after >= result.own_before + 0.05  # measured: 0.58 -> 0.80 and more
    assert result.mnist_after >= result.mnist_before - 0.02  # mixed with MNIST: not forgotten
    assert result.checkpoint.metrics["own_held_out_accuracy"] == result.own_after
    assert result.checkpoint.state_dict["fc1.weight"].shape == (128, 784)
    assert not torch.equal(
        result.checkpoint.state_dict["fc1.weight"], checkpoint.state_dict["fc1.weight"]
    )
    kinds = {type(e) for e in events}
    assert {LoadingOwnDigits, RunStarted, EpochEvent, RunEnded} <= kinds
    assert "held-out drawings" in result.describe()


def test_the_tuned_model_saves_and_loads(mlp_and_own_hand, tmp_path):
    from core.storage.checkpoint import load_checkpoint, save_checkpoint

    checkpoint, own, mnist = mlp_and_own_hand
    result = fine_tune(checkpoint, own.root, mnist, epochs=1, seed=1)
    loaded = load_checkpoint(save_checkpoint(result.checkpoint, tmp_path / "tuned.pt"))
    assert loaded.metrics["own_held_out_accuracy"] == result.own_after
    assert loaded.dataset.startswith(f"your {result.own_trained} drawings + ")
    assert loaded.temperature != 1.0  # calibrated on MNIST digits outside the mix


def test_fine_tuning_repeats_under_a_seed(mlp_and_own_hand):
    checkpoint, own, mnist = mlp_and_own_hand
    first = fine_tune(checkpoint, own.root, mnist, epochs=1, seed=3)
    second = fine_tune(checkpoint, own.root, mnist, epochs=1, seed=3)
    assert (first.own_after, first.mnist_after) == (second.own_after, second.mnist_after)


def test_fine_tuning_starts_from_the_model_not_from_scratch(mlp_and_own_hand):
    """One step at a tiny learning rate keeps MNIST accuracy where the model had it."""
    checkpoint, own, mnist = mlp_and_own_hand
    result = fine_tune(checkpoint, own.root, mnist, epochs=1, seed=1, lr=1e-6)
    assert abs(result.mnist_after - result.mnist_before) < 0.01
    assert result.mnist_before > 0.8


def test_fine_tuning_can_be_stopped(mlp_and_own_hand):
    checkpoint, own, mnist = mlp_and_own_hand
    seen = []
    result = fine_tune(
        checkpoint,
        own.root,
        mnist,
        epochs=3,
        on_event=seen.append,
        should_stop=lambda: any(isinstance(e, RunStarted) for e in seen),
    )
    assert result.status == "stopped" and result.epochs_completed == 0


def test_fine_tuning_refuses_too_few_drawings(mlp_and_own_hand, tmp_path):
    checkpoint, _own, mnist = mlp_and_own_hand
    OwnDigits(tmp_path).add(stroke_picture(1), 1)
    with pytest.raises(UserError, match="at least 2 drawings"):
        fine_tune(checkpoint, tmp_path, mnist)
