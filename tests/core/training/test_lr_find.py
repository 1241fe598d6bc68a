"""The learning-rate finder: fastai's range test on a copy; a good suggestion where the good rates
are known, and on the digits no worse than the default rate."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from core.data.mnist import load_sample
from core.errors import UserError
from core.training.lr_find import (
    LrFindCancelled,
    LrFindSettings,
    find_lr,
    find_lr_for_config,
    steepest,
    valley,
)
from core.training.train_types import TrainConfig
from core.training.trainer import Trainer


def _regression_batches(curvature: float, seed: int = 0):
    """Least squares whose Hessian is ``curvature`` * I: plain SGD converges for lr < 2/curvature
    (fastest at 1/curvature) and diverges beyond."""
    generator = torch.Generator().manual_seed(seed)
    w_true = torch.randn(8, 1, generator=generator)
    while True:
        x = torch.randn(256, 8, generator=generator)
        q, _ = torch.linalg.qr(x)  # orthonormal columns: x^T x / n = curvature * I below
        x = q * math.sqrt(256 * curvature / 2)
        yield x, x @ w_true


def test_on_a_problem_with_known_good_rates_the_suggestion_is_one_of_them():
    curvature = 4.0  # good rates: below 2 / 4 = 0.5, best 0.25
    model = nn.Linear(8, 1, bias=False)
    nn.init.zeros_(model.weight)
    result = find_lr(
        model,
        lambda m: torch.optim.SGD(m.parameters(), lr=1e-7),
        _regression_batches(curvature),
        nn.functional.mse_loss,
        LrFindSettings(start_lr=1e-5, end_lr=100.0),
    )
    assert result.diverged  # past 2 / curvature the loss blew up and the test stopped
    assert 0.01 <= result.suggested_lr < 2 / curvature
    assert result.curve[-1][0] > 2 / curvature
    assert torch.count_nonzero(model.weight) == 0  # the model itself was not trained


def test_the_curve_spans_decades_and_the_run_on_digits_is_no_worse_than_the_default():
    data = load_sample()
    config = TrainConfig()
    result = find_lr_for_config(config, data)
    summary = result.to_json()
    assert summary["points"] >= 50 and summary["decades"] >= 4
    lrs = [lr for lr, _ in result.curve]
    assert lrs == sorted(lrs)

    def one_epoch(lr: float) -> float:
        run = dataclasses.replace(config, lr=lr, epochs=1, report_every=50)
        return Trainer(run, data=data, finalize=None).run().result.evaluation.accuracy

    assert one_epoch(result.suggested_lr) >= one_epoch(config.lr)


def test_valley_and_steepest_on_a_made_up_curve():
    lrs = [10 ** (-6 + i * 0.25) for i in range(25)]
    losses = [2.3] * 8 + [2.3 - 0.25 * i for i in range(1, 9)] + [0.3 + 0.5 * i for i in range(9)]
    assert 8 <= valley(lrs, losses) <= 15
    assert 8 <= steepest(lrs, losses) <= 16


def test_cancel_and_bad_settings():
    data = load_sample()
    with pytest.raises(LrFindCancelled):
        find_lr_for_config(TrainConfig(), data, stop=lambda: True)
    with pytest.raises(UserError):
        LrFindSettings(start_lr=1.0, end_lr=0.1).validate()
