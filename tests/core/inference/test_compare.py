"""core.inference.compare: two models side by side, and the turn-it sweep."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.mnist import load_sample
from core.errors import UserError
from core.inference.classifier import Classifier
from core.inference.compare import ANGLES, SHIFTS, shifted, side_by_side, turn_sweep
from core.inference.preprocess import digit_to_paper
from core.resources import bundled_model_file
from core.storage.checkpoint import Checkpoint, load_checkpoint
from core.training.models import build_model


@pytest.fixture(scope="module")
def cnn() -> Classifier:
    return Classifier(load_checkpoint(bundled_model_file()))


@pytest.fixture(scope="module")
def untrained() -> Classifier:
    torch.manual_seed(0)
    checkpoint = Checkpoint.from_model(build_model("mlp", "ce"), "mlp", "ce", dataset="test")
    return Classifier(checkpoint, ood=None)


@pytest.fixture(scope="module")
def paper() -> tuple[np.ndarray, int]:
    data = load_sample()
    return digit_to_paper(data.test_images.numpy()[0]), int(data.test_labels[0])


def test_side_by_side_same_model_agrees(cnn, paper):
    picture, label = paper
    result = side_by_side([cnn, cnn], picture, ["a", "b"])
    assert result.agree
    assert [r.name for r in result.readings] == ["a", "b"]
    assert result.readings[0].prediction.digit == label
    assert np.allclose(result.probability_gap, 0)
    assert np.allclose(result.saliency_gap, 0)
    assert result.summary.startswith("They agree")


def test_side_by_side_finds_the_disagreement(cnn, untrained, paper):
    picture, label = paper
    result = side_by_side([cnn, untrained], picture)
    first, second = result.readings
    assert first.prediction.digit == cnn.predict([picture])[0].digit == label
    assert second.prediction.digit == untrained.predict([picture])[0].digit
    assert np.allclose(first.probabilities, cnn.predict([picture])[0].probabilities, atol=1e-6)
    assert result.agree == (first.prediction.digit == second.prediction.digit)
    gap = first.probabilities - second.probabilities
    assert np.allclose(result.probability_gap, gap)
    assert result.widest_gap_digit == int(np.argmax(np.abs(gap)))
    for reading in result.readings:
        assert reading.saliency.shape == (28, 28)
        assert reading.saliency.max() == pytest.approx(1.0) and reading.saliency_peak > 0
    assert result.input.shape == (28, 28) and result.input.max() <= 1.0
    if not result.agree:
        assert result.summary.startswith("They disagree")


def test_side_by_side_errors(cnn, paper):
    with pytest.raises(UserError, match="two models"):
        side_by_side([cnn], paper[0])
    with pytest.raises(UserError, match="nothing drawn"):
        side_by_side([cnn, cnn], np.full((80, 80), 255, dtype=np.uint8))


def test_shifted_moves_and_loses_what_leaves():
    picture = np.zeros((28, 28), dtype=np.float32)
    picture[10, 12] = 1.0
    assert shifted(picture, 3, 0)[10, 15] == 1.0
    assert shifted(picture, 0, -4)[6, 12] == 1.0
    assert shifted(picture, 20, 0).sum() == 0


def test_turn_sweep_shapes_and_the_unturned_step(cnn, untrained, paper):
    picture, label = paper
    sweep = turn_sweep([cnn, untrained], picture, ["cnn", "mlp"])
    m, a, s = 2, len(ANGLES), len(SHIFTS)
    assert sweep.rotated.shape == (m, a, 10)
    assert sweep.shifted_x.shape == sweep.shifted_y.shape == (m, s, 10)
    assert sweep.rotated_inputs.shape == (a, 28, 28)
    assert np.allclose(sweep.rotated.sum(axis=2), 1, atol=1e-6)
    zero = int(np.flatnonzero(ANGLES == 0)[0])
    direct = cnn.predict([picture])[0].probabilities
    assert np.allclose(sweep.rotated[0, zero], direct, atol=1e-5)
    assert np.allclose(sweep.shifted_x[0, int(np.flatnonzero(SHIFTS == 0)[0])], direct, atol=1e-5)
    assert sweep.digits[0] == label
    low, high = sweep.holds(0)
    assert low <= 0 <= high
    # The rotated inputs really turn: 45 degrees differs from 0.
    assert np.abs(sweep.rotated_inputs[0] - sweep.rotated_inputs[zero]).sum() > 5


def test_holds_stops_at_the_first_change(cnn, paper):
    sweep = turn_sweep([cnn], paper[0])
    digit = sweep.digits[0]
    sweep.shifted_x[0] = np.eye(10)[np.full(len(SHIFTS), digit)]
    sweep.shifted_x[0, 2] = np.eye(10)[(digit + 1) % 10]  # breaks at -6 px
    assert sweep.holds(0, "shifted_x") == (-5.0, 8.0)
