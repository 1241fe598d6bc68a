"""Batch augmentation: each training batch is the clean digits plus a varied copy of each, and
its loss weighs the two halves as two batches (why: core/data/augment.py's docstring)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.data.augment import BatchAugmenter
from core.data.mnist import load_sample, normalize
from core.training.models import build_model
from core.training.trainer import mlp_forward_backward


def test_with_copies_keeps_the_clean_digits_and_adds_one_copy_each():
    data = load_sample()
    inputs = normalize(data.test_images[:16]).unsqueeze(1)
    labels = data.test_labels[:16]
    batch, doubled = BatchAugmenter(3).with_copies(inputs, labels)
    assert batch.shape == (32, 1, 28, 28) and doubled.tolist() == labels.tolist() * 2
    assert torch.equal(batch[:16], inputs)  # the clean half is untouched
    assert torch.equal(batch[16:], BatchAugmenter(3)(inputs))  # the same stream as a plain call
    assert not torch.equal(batch[16:], inputs)


def test_the_weighted_loss_is_the_sum_of_the_two_halves_mean_losses():
    """With ``loss_weight`` 2 the clean half's gradient is exactly a clean run's gradient."""
    torch.manual_seed(0)
    model = build_model("cnn", "nll").eval()  # no dropout; batch norm's running statistics
    x, y = torch.randn(8, 1, 28, 28), torch.randint(10, (8,))
    copies = torch.randn(8, 1, 28, 28)
    weight = BatchAugmenter(0).loss_weight
    joint = F.nll_loss(model(torch.cat([x, copies])), torch.cat([y, y])) * weight
    separate = F.nll_loss(model(x), y) + F.nll_loss(model(copies), y)
    assert torch.allclose(joint, separate, atol=1e-6)


def test_the_hand_written_mlp_backward_takes_the_weight():
    torch.manual_seed(0)
    reference, manual = build_model("mlp", "nll"), build_model("mlp", "nll")
    manual.load_state_dict(reference.state_dict())
    x, y = torch.randn(12, 28, 28), torch.randint(10, (12,))
    (F.nll_loss(reference(x), y) * 2.0).backward()
    loss = mlp_forward_backward(manual, x, y, weight=2.0)
    assert torch.allclose(loss, F.nll_loss(reference(x), y).detach(), atol=1e-6)  # the mean
    for p, q in zip(reference.parameters(), manual.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, atol=1e-6, rtol=1e-5)
