"""Fashion-MNIST and KMNIST: one registry, read from torchvision's layout, named classes.

No real copy can be had offline, so every dataset here is a synthetic IDX folder written with
``core.data.mnist.write_idx_dataset``.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from core.data import datasets
from core.data.datasets import FASHION_MNIST, IDX_DATASETS, KMNIST, class_names
from core.data.mnist import (
    DATASET_CHOICES,
    choose_dataset,
    download_dataset,
    find_raw_folder,
    load_mnist,
    mnist_present,
    write_idx_dataset,
)
from core.errors import DataError
from core.optional import MissingFeatureError
from core.storage.checkpoint import Checkpoint
from core.training.models import build_model
from core.training.train_settings import SETTINGS, restore_value
from core.training.train_types import TrainConfig
from tests.helpers import synthetic


def test_every_choice_and_table_reads_the_registry():
    for name in ("fashion-mnist", "kmnist"):
        assert name in DATASET_CHOICES
        assert name in SETTINGS["dataset"].values
    titles = {c.value: c.title for c in SETTINGS["dataset"].choices}
    assert titles["fashion-mnist"] == "Fashion-MNIST" and titles["kmnist"] == "KMNIST"
    for info in IDX_DATASETS.values():
        assert len(info.class_names) == 10 and len(set(info.class_names)) == 10
        assert info.licence and info.citation and info.url
    assert FASHION_MNIST.folder == FASHION_MNIST.torchvision_class == "FashionMNIST"


@pytest.mark.parametrize("name", ["fashion-mnist", "kmnist"])
def test_dataset_choice_round_trips_through_settings(name):
    assert restore_value("dataset", name) == name
    assert restore_value("dataset", "cifar-10") == SETTINGS["dataset"].default
    assert restore_value("dataset", 7) == "auto"
    config = dataclasses.replace(TrainConfig(), dataset=name)
    assert config.validate().dataset == name  # the settings table accepts it


def test_loads_a_synthetic_fashion_mnist_folder(tmp_path):
    arrays = synthetic()
    raw = write_idx_dataset(tmp_path, *arrays, dataset="fashion-mnist")
    assert raw == tmp_path / "FashionMNIST" / "raw"
    assert find_raw_folder(tmp_path, "fashion-mnist") == raw
    assert find_raw_folder(tmp_path, "mnist") is None  # not mistaken for MNIST
    assert find_raw_folder(raw, "fashion-mnist") == raw  # the raw folder itself works too
    data = load_mnist("fashion-mnist", tmp_path)
    assert data.name == "fashion-mnist"
    assert data.description == "Fashion-MNIST (40 train / 20 test)"
    assert torch.equal(data.train_images, torch.from_numpy(arrays[0]))
    assert torch.equal(data.test_labels, torch.from_numpy(arrays[3]).long())
    assert class_names(data.name)[0] == "T-shirt/top"
    assert class_names(data.description)[9] == "Ankle boot"  # a checkpoint stores this


def test_a_kmnist_folder_is_validated_by_the_idx_reader(tmp_path):
    train_images, train_labels, test_images, test_labels = synthetic()
    raw = write_idx_dataset(
        tmp_path, train_images, train_labels, test_images, test_labels, gzip=False, dataset="kmnist"
    )
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x14" + b"\x0c" * 20)
    with pytest.raises(DataError, match="label 12 is not a class 0-9"):
        load_mnist("kmnist", tmp_path)


@pytest.mark.parametrize("name,folder", [("fashion-mnist", "FashionMNIST"), ("kmnist", "KMNIST")])
def test_a_missing_folder_is_one_sentence(tmp_path, name, folder):
    write_idx_dataset(tmp_path, *synthetic())  # MNIST is there, the asked-for dataset is not
    with pytest.raises(DataError) as caught:
        load_mnist(name, tmp_path)
    message = str(caught.value)
    assert message.count(". ") == 0 and "\n" not in message
    assert str(tmp_path / folder / "raw") in message and "download" in message
    assert IDX_DATASETS[name].title in message


def test_choice_for_the_data_panel(tmp_path, isolated_user_dirs):
    write_idx_dataset(tmp_path, *synthetic(), dataset="kmnist")
    assert choose_dataset(False, str(tmp_path), "kmnist") == ("kmnist", str(tmp_path))
    assert choose_dataset(False, str(tmp_path), "fashion-mnist") == ("fashion-mnist", None)
    assert choose_dataset(True, None) == ("sample", None)  # MNIST's choice is unchanged
    assert not mnist_present(None, "kmnist")
    write_idx_dataset(isolated_user_dirs / "data", *synthetic(), dataset="kmnist")
    assert mnist_present(None, "kmnist") and not mnist_present(None, "mnist")


def test_class_names_from_a_checkpoint():
    model = build_model("mlp", "nll")
    fashion = Checkpoint.from_model(
        model, "mlp", "nll", config={"dataset": "fashion-mnist"}, dataset="Fashion-MNIST (4 / 2)"
    )
    assert datasets.checkpoint_class_names(fashion) == FASHION_MNIST.class_names
    by_description = Checkpoint.from_model(model, "mlp", "nll", dataset="KMNIST (40 / 20)")
    assert datasets.checkpoint_class_names(by_description) == KMNIST.class_names
    for dataset in (
        "mnist",
        "sample",
        "folder",
        "auto",
        "",
        "bundled MNIST sample (4,000 / 1,000)",
    ):
        assert class_names(dataset) == tuple("0123456789")


def test_without_torchvision_the_download_says_so_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr("core.optional.torchvision_problem", lambda: "not included in this build")
    with pytest.raises(MissingFeatureError) as caught:
        download_dataset("fashion-mnist", tmp_path)
    assert str(caught.value) == (
        "Downloading Fashion-MNIST needs torchvision (not included in this build); put its "
        "files in DIR/FashionMNIST/raw and use that folder."
    )


def test_attribution_credits_each_dataset():
    lines = datasets.attribution_lines()
    assert any("Xiao" in line and "MIT" in line for line in lines)
    assert any("Clanuwat" in line and "CC BY-SA 4.0" in line for line in lines)
