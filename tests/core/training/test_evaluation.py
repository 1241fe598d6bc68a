"""Evaluation: accuracy, loss, confusion matrix, per-class accuracy, the mistakes."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from core.data.mnist import MnistData, load_sample
from core.device import available_devices
from core.training.evaluation import evaluate
from core.training.models import build_model

DEVICES = ["cpu"] + [name for name in ("cuda", "mps") if name in available_devices()]


class ConstantModel(nn.Module):
    """Predicts class 3 with probability 0.6 and 0.4/9 for each other class, whatever it sees."""

    def __init__(self) -> None:
        super().__init__()
        probs = torch.full((10,), 0.4 / 9)
        probs[3] = 0.6
        self.register_buffer("log_probs", probs.log())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_probs.expand(x.shape[0], 10)


def data_with_labels(labels: list[int]) -> MnistData:
    n = len(labels)
    images = torch.zeros(n, 28, 28, dtype=torch.uint8)
    targets = torch.tensor(labels)
    return MnistData("synthetic", "test", images, targets, images, targets)


def test_counts_confusion_per_class_and_loss():
    labels = [3, 3, 3, 1, 1, 7, 0, 3]
    result = evaluate(ConstantModel(), data_with_labels(labels), "cpu", "nll")
    assert result.samples == 8
    assert result.accuracy == 4 / 8
    assert result.confusion[3][3] == 4
    assert result.confusion[1][3] == 2 and result.confusion[7][3] == 1
    assert sum(map(sum, result.confusion)) == 8
    assert all(row[c] == 0 for row in result.confusion for c in range(10) if c != 3)
    assert result.per_class_accuracy[3] == 1.0
    assert result.per_class_accuracy[1] == 0.0
    assert result.per_class_accuracy[5] == 0.0  # no digit 5 in the set: 0, not NaN
    expected_loss = -(4 * math.log(0.6) + 4 * math.log(0.4 / 9)) / 8
    assert abs(result.loss - expected_loss) < 1e-5
    mistakes = result.misclassified
    assert sorted(m.index for m in mistakes) == [3, 4, 5, 6]
    assert all(m.predicted == 3 and abs(m.confidence - 0.6) < 1e-6 for m in mistakes)
    assert [m.true_label for m in sorted(mistakes, key=lambda m: m.index)] == [1, 1, 7, 0]


def test_misclassified_list_is_capped_most_confident_first():
    torch.manual_seed(0)
    model = build_model("mlp", "ce")
    result = evaluate(model, load_sample(), "cpu", "ce", max_misclassified=25)
    assert len(result.misclassified) == 25
    confidences = [m.confidence for m in result.misclassified]
    assert confidences == sorted(confidences, reverse=True)
    assert all(m.predicted != m.true_label for m in result.misclassified)


@pytest.mark.parametrize("device", DEVICES)
def test_nll_and_ce_heads_with_the_same_weights_agree_and_mode_is_restored(device):
    torch.manual_seed(0)
    nll_model = build_model("cnn", "nll").to(device)
    ce_model = build_model("cnn", "ce").to(device)
    ce_model.load_state_dict(nll_model.state_dict())
    data = load_sample()
    small = MnistData(
        "sample",
        "slice",
        data.train_images[:10],
        data.train_labels[:10],
        data.test_images[:300],
        data.test_labels[:300],
    )
    nll_model.train()
    one = evaluate(nll_model, small, device, "nll")
    two = evaluate(ce_model, small, device, "ce")
    assert nll_model.training  # evaluate put it back as it found it
    assert one.accuracy == two.accuracy and one.confusion == two.confusion
    assert abs(one.loss - two.loss) < 1e-5


def test_calibration_outputs_are_the_scored_log_probabilities():
    from core.training.evaluation import evaluate_outputs

    data = data_with_labels([3, 3, 1, 2])
    result, log_probs = evaluate_outputs(ConstantModel(), data, "cpu")
    assert log_probs.shape == (4, 10)
    assert torch.allclose(log_probs.exp().sum(1), torch.ones(4))
    assert result.accuracy == 0.5
