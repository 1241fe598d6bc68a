"""The datasets Digit Lab trains on, in one table: what each is called, where its files live,
what its ten classes are, how its pictures are normalised, and whom to credit.

Every 28x28, ten-class IDX dataset torchvision ships under ``torchvision.datasets.mnist`` fits
the same models unchanged (1x28x28 in, 10 classes out), so adding one is a row here: the data
loader (``core.data.mnist``), the ``--dataset`` choices and the settings table
(``core.training.train_settings``), the Data panel, the exported script (``core.training.script_export``), the
evaluation views and the ``classify``/``inspect`` JSON all read this table.

No torch or torchvision import here: ``--help`` and the settings table stay cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DIGIT_NAMES = tuple(str(d) for d in range(10))
# The pixel mean and standard deviation of MNIST's training digits (0..1 scale), the
# normalisation every model here is trained with (pytorch/examples); a checkpoint stores its own.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset in torchvision's IDX layout (``DIR/<folder>/raw/*-ubyte[.gz]``)."""

    name: str  # the app's and the CLI's name, e.g. "fashion-mnist"
    title: str  # for people, e.g. "Fashion-MNIST"
    torchvision_class: str  # in torchvision.datasets, e.g. "FashionMNIST"
    folder: str  # torchvision's folder under the root (its class name), e.g. "FashionMNIST"
    class_names: tuple[str, ...]  # label i's name; digits "0".."9" for MNIST
    short_names: tuple[str, ...]  # at most 8 characters, for axes and captions
    item: str  # what one picture is, e.g. "digit", "garment", "character"
    about: str  # one line for tooltips
    licence: str
    citation: str
    url: str
    download_mb: int  # the four archives together, for the Download button
    # Were its pictures cropped, fitted into 20x20 and centred by mass (MNIST's digits were)?
    # Then a user's picture is prepared the same way (core.inference.preprocess center=True); else it is
    # only resized, as these datasets' pictures fill the frame. Measured: a Fashion-MNIST MLP
    # reads 1,000 real test garments saved as pictures at 87.5% resized, 40.3% centred.
    fit_like_mnist: bool = True

    @property
    def shows_digits(self) -> bool:
        return self.class_names == DIGIT_NAMES


MNIST = DatasetInfo(
    name="mnist",
    title="MNIST",
    torchvision_class="MNIST",
    folder="MNIST",
    class_names=DIGIT_NAMES,
    short_names=DIGIT_NAMES,
    item="digit",
    about="Full MNIST: 60,000 training and 10,000 test handwritten digits.",
    licence="CC BY-SA 3.0 (as TensorFlow Datasets states it)",
    citation='Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of handwritten '
    'digits", 1998.',
    url="http://yann.lecun.com/exdb/mnist/",
    download_mb=11,
)
FASHION_MNIST = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST",
    torchvision_class="FashionMNIST",
    folder="FashionMNIST",
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    short_names=(
        "Top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Boot",
    ),
    item="garment",
    about="Fashion-MNIST: 60,000 training and 10,000 test pictures of Zalando's clothes in "
    "ten kinds, a harder drop-in replacement for MNIST.",
    licence="MIT (Copyright (c) 2017 Zalando SE)",
    citation='H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for '
    'Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.',
    url="https://github.com/zalandoresearch/fashion-mnist",
    download_mb=30,
    fit_like_mnist=False,
)
KMNIST = DatasetInfo(
    name="kmnist",
    title="KMNIST",
    torchvision_class="KMNIST",
    folder="KMNIST",
    # torchvision's names: the romanised hiragana お き す つ な は ま や れ を.
    class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    short_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    item="character",
    about="Kuzushiji-MNIST: 60,000 training and 10,000 test cursive Japanese characters "
    "(ten hiragana: o, ki, su, tsu, na, ha, ma, ya, re, wo).",
    licence='CC BY-SA 4.0 ("KMNIST Dataset" by ROIS-DS CODH, adapted from the '
    '"Kuzushiji Dataset" by NIJL and others, doi:10.20676/00000341)',
    citation='T. Clanuwat, M. Bober-Irizar, A. Kitamoto, A. Lamb, K. Yamamoto, D. Ha, "Deep '
    'Learning for Classical Japanese Literature", arXiv:1812.01718, 2018.',
    url="https://github.com/rois-codh/kmnist",
    download_mb=21,
    fit_like_mnist=False,  # characters scaled to the frame, not centred by mass in 20x20
)

# The IDX datasets with torchvision classes, by the app's name (MNIST first).
IDX_DATASETS: dict[str, DatasetInfo] = {d.name: d for d in (MNIST, FASHION_MNIST, KMNIST)}
# What ``--dataset`` accepts: "auto" (full MNIST when present, else the sample), the IDX
# datasets, "sample" (the bundled MNIST digits) and "folder" (your own pictures,
# core.data.folder_dataset).
DATASET_CHOICES: tuple[str, ...] = ("auto", "mnist", "sample", "folder", "fashion-mnist", "kmnist")
# Names whose data are MNIST digits (their scripts and downloads are MNIST's).
_MNIST_ALIASES = ("auto", "mnist", "sample", "folder", "synthetic")


def dataset_info(name: str) -> DatasetInfo | None:
    """The registry row for ``name``; MNIST for "auto", "sample", "folder"; None if unknown."""
    if name in IDX_DATASETS:
        return IDX_DATASETS[name]
    return MNIST if name in _MNIST_ALIASES else None


def resolve(dataset: str) -> DatasetInfo:
    """The row for a model trained on ``dataset``: MNIST unless it is a non-digit dataset.

    ``dataset`` may be the app's name ("fashion-mnist") or a description a checkpoint stores
    ("Fashion-MNIST (60,000 train / 10,000 test)"); anything else reads as MNIST digits.
    """
    info = dataset_info(dataset)
    if info is not None:
        return info
    text = dataset.strip().lower()
    for candidate in IDX_DATASETS.values():
        if not candidate.shows_digits and text.startswith(candidate.title.lower() + " "):
            return candidate
    return MNIST


def class_names(dataset: str) -> tuple[str, ...]:
    """The ten class names of a model trained on ``dataset`` (see ``resolve``): "0".."9"
    unless it is a non-digit dataset (e.g. "T-shirt/top" ... for "fashion-mnist")."""
    return resolve(dataset).class_names


def checkpoint_dataset(config: Mapping[str, Any], description: str) -> str:
    """The dataset a checkpoint was trained on: its settings' name, else its description."""
    name = config.get("dataset") if isinstance(config, Mapping) else None
    if isinstance(name, str) and dataset_info(name) is not None:
        return name
    return description


def checkpoint_info(checkpoint: Any) -> DatasetInfo:
    """``resolve`` for a ``core.storage.checkpoint.Checkpoint`` (from its ``config`` and ``dataset``)."""
    config = getattr(checkpoint, "config", None) or {}
    return resolve(checkpoint_dataset(config, getattr(checkpoint, "dataset", "") or ""))


def checkpoint_class_names(checkpoint: Any) -> tuple[str, ...]:
    """``class_names`` for a ``core.storage.checkpoint.Checkpoint``."""
    return checkpoint_info(checkpoint).class_names


def attribution_lines() -> list[str]:
    """One credit line per non-MNIST dataset: title, citation, licence (About box, README)."""
    return [
        f"{d.title}: {d.citation} Licence: {d.licence}. {d.url}"
        for d in IDX_DATASETS.values()
        if not d.shows_digits
    ]
