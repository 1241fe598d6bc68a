"""The bundled default model: accurate on real MNIST test digits, small, calibrated, rebuildable."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

from core.data.mnist import load_sample, normalize
from core.inference.ood import OodStats
from core.resources import bundled_model_file
from core.storage.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[2]
MNIST_TRAIN = ROOT.parent / "shared" / "mnist-train"


def load_tool():
    spec = importlib.util.spec_from_file_location(
        "train_default_model", ROOT / "tools" / "train_default_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bundled():
    return load_checkpoint(bundled_model_file())


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        read = model(normalize(images).unsqueeze(1)).argmax(dim=1)
    return float((read == labels).float().mean())


def test_reads_the_samples_mnist_test_digits(bundled):
    """The sample's 1,000 test digits are MNIST test digits the model never trained on."""
    test = load_sample()
    assert accuracy(bundled.build(), test.test_images, test.test_labels) >= 0.99


@pytest.mark.skipif(not MNIST_TRAIN.is_dir(), reason="needs ../shared/mnist-train")
def test_held_out_validation_accuracy(bundled):
    """Recomputed on the 5,000 held-out training digits (the same fixed split as training)."""
    tool = load_tool()
    data = tool.load_training_digits(MNIST_TRAIN)
    _, images, labels = data.hold_out(tool.HELD_OUT)
    assert accuracy(bundled.build(), images, labels) >= 0.994


def test_small_calibrated_and_knows_what_a_digit_is(bundled):
    assert bundled_model_file().stat().st_size <= 1_000_000
    assert bundled.model_name == load_tool().MODEL
    assert bundled.config.get("augment") is True
    assert bundled.temperature != 1.0  # fitted on the held-out digits
    stats = OodStats.from_payload(bundled.ood)
    assert stats.held_out > 0 and "held-out" in stats.source


@pytest.mark.slow
def test_the_recipe_is_deterministic():
    """Two runs of the tool's recipe (one short epoch on the sample) give the same weights."""
    tool = load_tool()
    torch.use_deterministic_algorithms(True)
    try:
        weights = []
        for _ in range(2):
            data = load_sample()
            data.train_images, data.train_labels = data.train_images[:600], data.train_labels[:600]
            checkpoint = tool.train(data, tool.default_config(1, seed=3, holdout=0.1))
            weights.append(checkpoint.state_dict)
    finally:
        torch.use_deterministic_algorithms(False)
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
