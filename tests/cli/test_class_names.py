"""``classify`` and ``inspect`` name the class beside its index, from the model's dataset."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from cli import main as cli_main
from core.data.datasets import FASHION_MNIST, KMNIST
from core.data.mnist import load_sample
from core.storage.checkpoint import Checkpoint, save_checkpoint
from core.training.models import build_model


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    """A test digit as a dark-on-light PNG: a Fashion-MNIST model still gives it a class."""
    data = load_sample()
    path = tmp_path_factory.mktemp("pictures") / "picture.png"
    Image.fromarray(255 - data.test_images[0].numpy()).resize((200, 200)).save(path)
    return path


def model(tmp_path, name: str, **kwargs) -> str:
    torch.manual_seed(0)
    checkpoint = Checkpoint.from_model(build_model("mlp", "ce"), "mlp", "ce", **kwargs)
    return str(save_checkpoint(checkpoint, tmp_path / name))


def last_json(capsys, *args: str) -> dict:
    assert cli_main(list(args)) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_classify_json_names_a_fashion_mnist_class(capsys, tmp_path, picture):
    path = model(tmp_path, "fashion.pt", config={"dataset": "fashion-mnist"}, dataset="x")
    record = last_json(capsys, "classify", str(picture), "--model", path, "--json")
    assert list(record)[:3] == ["path", "digit", "class_name"]
    assert record["class_name"] == FASHION_MNIST.class_names[record["digit"]]
    assert cli_main(["classify", str(picture), "--model", path]) == 0
    text = capsys.readouterr().out
    assert f"[class {record['digit']}: {record['class_name']}]" in text


def test_classify_json_of_a_digit_model_names_the_digit(capsys, tmp_path, picture):
    path = model(tmp_path, "digits.pt", config={"dataset": "sample"}, dataset="bundled sample")
    record = last_json(capsys, "classify", str(picture), "--model", path, "--json")
    assert record["class_name"] == str(record["digit"])


def test_inspect_json_carries_the_class_name_beside_the_index(capsys, tmp_path, picture):
    # A checkpoint without settings: the dataset's description alone names the classes.
    path = model(tmp_path, "kmnist.pt", dataset="KMNIST (60,000 train / 10,000 test)")
    record = last_json(capsys, "inspect", str(picture), "--model", path, "--json")
    assert list(record)[:2] == ["digit", "class_name"]
    assert record["class_name"] == KMNIST.class_names[record["digit"]]


def test_train_evaluate_classify_on_a_synthetic_fashion_mnist_folder(capsys, tmp_path, picture):
    """The whole CLI path with --dataset fashion-mnist (synthetic files: no real copy offline)."""
    from core.data.mnist import write_idx_dataset
    from tests.helpers import synthetic

    write_idx_dataset(tmp_path / "data", *synthetic(300, 100), dataset="fashion-mnist")
    out = tmp_path / "fashion.pt"
    data_args = ["--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "data")]
    trained = last_json(
        capsys, "train", *data_args, "--epochs", "1", "--device", "cpu", "--out", str(out), "--json"
    )
    assert trained["dataset"] == "fashion-mnist" and trained["test_samples"] == 100
    assert cli_main(["evaluate", "--model", str(out), *data_args, "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[-1])["class_names"] == list(FASHION_MNIST.class_names)
    assert any(line.startswith("per-class accuracy: T-shirt/top: ") for line in lines)
    assert not any(line.startswith("note:") for line in lines)
    assert cli_main(["evaluate", "--model", str(out), "--dataset", "sample"]) == 0
    assert "note: the model was trained on Fashion-MNIST but is scored on MNIST" in (
        capsys.readouterr().out
    )
    record = last_json(capsys, "classify", str(picture), "--model", str(out), "--json")
    assert record["class_name"] == FASHION_MNIST.class_names[record["digit"]]


@pytest.mark.parametrize("dataset,center", [("fashion-mnist", False), ("mnist", True)])
def test_garments_are_resized_not_centred_like_digits(capsys, tmp_path, picture, dataset, center):
    """Fashion-MNIST pictures fill their frame: MNIST's crop-fit-centre would shrink them."""
    from core.inference.classifier import Classifier
    from core.inference.preprocess import read_paper
    from core.storage.checkpoint import load_checkpoint

    path = model(tmp_path, f"{dataset}.pt", config={"dataset": dataset}, dataset="x")
    record = last_json(capsys, "classify", str(picture), "--model", path, "--json")
    classifier = Classifier(load_checkpoint(path))
    pixels = read_paper(str(picture)).pixels
    expected = classifier.predict([pixels], center=center)[0].probabilities
    other = classifier.predict([pixels], center=not center)[0].probabilities
    assert record["probabilities"] == pytest.approx(expected, abs=1e-6)
    assert record["probabilities"] != pytest.approx(other, abs=1e-6)
