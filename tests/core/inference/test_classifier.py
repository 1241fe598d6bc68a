"""Classifier, default_checkpoint and the bundled default model."""

from __future__ import annotations

import re

import numpy as np
import pytest

import core.inference.classifier as inference
from core.errors import CheckpointError
from core.inference.classifier import Classifier, default_checkpoint
from core.inference.preprocess import canvas_to_input
from core.resources import bundled_model_file, current_model_file, resource_path
from core.storage.checkpoint import load_checkpoint, save_checkpoint
from tests.helpers import random_checkpoint


@pytest.fixture(scope="module")
def digits(sample_test_digits) -> tuple[np.ndarray, np.ndarray]:
    return sample_test_digits


@pytest.mark.parametrize("name", ["mlp", "cnn"])
@pytest.mark.parametrize("loss", ["nll", "ce"])
def test_predictions_are_probabilities(name, loss, digits):
    classifier = Classifier(random_checkpoint(name, loss))
    images = list(digits[0][:5])
    predictions = classifier.predict(images)
    assert len(predictions) == 5
    for prediction in predictions:
        assert len(prediction.probabilities) == 10
        assert sum(prediction.probabilities) == pytest.approx(1.0, abs=1e-5)
        assert prediction.digit == int(np.argmax(prediction.probabilities))
        assert prediction.confidence == max(prediction.probabilities)
        assert not prediction.is_empty


def test_batch_equals_one_by_one(digits):
    classifier = Classifier(random_checkpoint())
    images = list(digits[0][:8])
    batch = classifier.predict(images)
    single = [classifier.predict([image])[0] for image in images]
    for a, b in zip(batch, single, strict=True):
        assert a.digit == b.digit
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)


def test_empty_pictures_keep_their_place(digits):
    classifier = Classifier(random_checkpoint())
    blank = np.full((280, 280), 255, np.uint8)
    predictions = classifier.predict([blank, digits[0][0], blank])
    assert [p.is_empty for p in predictions] == [True, False, True]
    assert predictions[0].digit == -1 and predictions[0].is_empty
    assert classifier.predict([]) == []


def test_saliency_is_a_28x28_map_in_unit_range(digits):
    classifier = Classifier(random_checkpoint())
    tensor = canvas_to_input(digits[0][0]).tensor
    heat = classifier.saliency(tensor)
    assert heat.shape == (28, 28)
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)
    # the model's weights are untouched and no graph is left behind
    assert all(p.grad is None for p in classifier.model.parameters())


def test_checkpoint_normalisation_is_used(digits):
    checkpoint = random_checkpoint()
    checkpoint.normalization = (0.5, 0.25)
    item = Classifier(checkpoint).preprocess(digits[0][0])
    np.testing.assert_allclose(item.tensor[0].numpy(), (item.steps["centred"] - 0.5) / 0.25)


# --------------------------------------------------------- default model
def test_default_checkpoint_prefers_the_users_current_model():
    mine = random_checkpoint("mlp", "ce", seed=3)
    save_checkpoint(mine, current_model_file())
    chosen = default_checkpoint()
    assert chosen.model_name == "mlp" and chosen.loss == "ce"


def test_corrupt_current_model_falls_back_to_bundled(monkeypatch, tmp_path):
    bundled = save_checkpoint(random_checkpoint("cnn"), tmp_path / "bundled.pt")
    monkeypatch.setattr(inference, "bundled_model_file", lambda: bundled)
    current_model_file().parent.mkdir(parents=True, exist_ok=True)
    current_model_file().write_text("not a model")
    assert default_checkpoint().model_name == "cnn"


def test_no_model_at_all_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(inference, "bundled_model_file", lambda: tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="no model available"):
        default_checkpoint()


@pytest.mark.parametrize("content", [b"", b"junk\n", b"PK\x03\x04 truncated zip"])
def test_load_model_file_turns_any_failure_into_checkpoint_error(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(path)


def stated_accuracy() -> float:
    """The accuracy resources/models/README.md states for the bundled model."""
    text = resource_path("models", "README.md").read_text()
    match = re.search(r"test accuracy[^0-9]*([0-9]+\.[0-9]+)\s*%", text, re.IGNORECASE)
    assert match, "resources/models/README.md must state the test accuracy"
    return float(match.group(1)) / 100.0


def test_bundled_model_is_right_at_its_stated_accuracy(digits):
    checkpoint = load_checkpoint(bundled_model_file())
    assert checkpoint.model_name.startswith("cnn")  # cnn or cnn-bn, whichever is bundled
    assert bundled_model_file().stat().st_size < 2_000_000
    images, labels = digits
    predictions = Classifier(checkpoint).predict(list(images))
    accuracy = float(np.mean([p.digit for p in predictions] == labels))
    stated = stated_accuracy()
    # Through the preprocessing path a digit may move by a pixel; the stated figure must hold.
    assert accuracy >= stated - 0.005, (accuracy, stated)
    assert checkpoint.test_accuracy == pytest.approx(stated, abs=0.001)
    assert accuracy > 0.9
