"""core.inference.ood: "is this a digit?" — rates on unseen digits and drawings, storage, refusals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.data.mnist import load_sample
from core.errors import CheckpointError
from core.inference.classifier import Classifier
from core.inference.ood import (
    CHECK_DIGITS,
    FLAG_RATE,
    PROBE_KINDS,
    OodStats,
    digit_inputs,
    fit_ood,
    model_outputs,
    ood_stats_for,
    probe_drawings,
)
from core.inference.preprocess import canvas_to_input
from core.resources import bundled_model_file
from core.storage.checkpoint import Checkpoint, load_checkpoint
from core.training.models import build_model


@pytest.fixture(scope="module")
def bundled() -> Checkpoint:
    return load_checkpoint(bundled_model_file())


@pytest.fixture(scope="module")
def stats(bundled) -> OodStats:
    return ood_stats_for(bundled)


def _flagged(checkpoint: Checkpoint, stats: OodStats, inputs: torch.Tensor) -> np.ndarray:
    return ~stats.looks_like_digit(stats.score(model_outputs(checkpoint.build(), inputs)))


def test_few_unseen_real_digits_are_flagged(bundled, stats):
    """The threshold was set on the even test digits; the odd ones were never used."""
    unseen, _ = digit_inputs(load_sample().test_images[CHECK_DIGITS], bundled.normalization)
    rate = float(_flagged(bundled, stats, unseen).mean())
    assert rate <= FLAG_RATE, f"{rate:.1%} of real digits flagged"


def test_most_non_digit_drawings_are_flagged(bundled, stats):
    """Drawings from a seed the benchmark does not use: at least 80 % flagged, every kind most."""
    drawings = probe_drawings(25, seed=7)
    assert set(drawings) == set(PROBE_KINDS)
    rates = {}
    for kind, pictures in drawings.items():
        items = [canvas_to_input(p, normalization=bundled.normalization) for p in pictures]
        inputs = torch.stack([item.tensor for item in items])
        rates[kind] = float(_flagged(bundled, stats, inputs).mean())
    assert np.mean(list(rates.values())) >= 0.8, rates
    assert min(rates.values()) >= 0.6, rates


def test_energy_reads_the_logits_of_a_log_softmax_model():
    torch.manual_seed(0)
    model = build_model("mlp", "nll").eval()  # ends in log_softmax: logsumexp of it is 0
    outputs = model_outputs(model, torch.randn(5, 1, 28, 28))
    assert outputs.logits.shape == (5, 10) and outputs.input.shape == (5, 784)
    assert outputs.first.shape == (5, 784) and outputs.last.shape == (5, 64)
    assert not torch.allclose(torch.logsumexp(outputs.logits, 1), torch.zeros(5), atol=1e-3)


def test_fit_threshold_flags_the_chosen_share_of_held_out_digits(bundled):
    model = bundled.build()
    data = load_sample()
    fitted = fit_ood(model, data.train_images[:800], data.train_labels[:800], flag_rate=0.1)
    assert fitted.fitted_on == 600 and fitted.held_out == 200
    held, _ = digit_inputs(data.train_images[:800:4], bundled.normalization)
    rate = float(_flagged(bundled, fitted, held).mean())
    assert rate == pytest.approx(0.1, abs=0.01)


def test_payload_round_trips_through_a_weights_only_file(tmp_path, stats, bundled):
    path = tmp_path / "stats.pt"
    torch.save(stats.to_payload(), path)
    again = OodStats.from_payload(torch.load(path, weights_only=True))
    x, _ = digit_inputs(load_sample().test_images[:20], bundled.normalization)
    outputs = model_outputs(bundled.build(), x)
    np.testing.assert_allclose(again.score(outputs), stats.score(outputs), rtol=1e-4, atol=1e-4)
    assert again.threshold == pytest.approx(stats.threshold)


@pytest.mark.parametrize(
    "change",
    [
        {"method": "guess"},
        {"threshold": float("nan")},
        {"threshold": "high"},
        {"scales": [[0.0, 0.0]]},
        {"mahalanobis": []},
        {"mahalanobis": [{"layer": "first", "centre": [1.0]}]},
    ],
)
def test_malformed_statistics_are_refused(bundled, change):
    """On statistics of the default method (the bundled model stores the energy alone, which
    has no Mahalanobis part to break)."""
    sample = load_sample()
    combined = fit_ood(bundled.build(), sample.train_images[:200], sample.train_labels[:200])
    payload = combined.to_payload() | change
    with pytest.raises(CheckpointError, match="malformed"):
        OodStats.from_payload(payload)


def test_stats_stored_with_a_model_are_used(bundled, stats):
    custom = OodStats(stats.method, -1e9, stats.scales, stats.mahalanobis)
    carrying = dataclasses.replace(bundled, ood=None, metrics={"ood": custom.to_payload()})
    assert ood_stats_for(carrying).threshold == -1e9  # everything is "not a digit"


def test_the_fallback_is_fitted_once_and_kept_in_a_sidecar(bundled, stats, monkeypatch):
    from core.inference import ood

    bare = dataclasses.replace(bundled, ood=None, metrics={})  # a checkpoint without statistics
    monkeypatch.setattr(ood, "_cache", {})
    first = ood_stats_for(bare)
    assert first.fitted_on == ood.FALLBACK_FIT_DIGITS and first.held_out == 500
    assert ood._sidecar(ood.fingerprint(bare)).is_file()

    def no_refit(*args):
        raise AssertionError("refitted although a sidecar exists")

    monkeypatch.setattr(ood, "_cache", {})
    monkeypatch.setattr(ood, "_fit_on_sample", no_refit)
    assert ood_stats_for(bare).threshold == pytest.approx(first.threshold)
    ood._sidecar(ood.fingerprint(bare)).write_bytes(b"damaged")
    monkeypatch.setattr(ood, "_cache", {})
    with pytest.raises(AssertionError, match="refitted"):
        ood_stats_for(bare)  # a damaged sidecar is not trusted


def test_classifier_answers_carry_the_verdict(bundled):
    classifier = Classifier(bundled)
    dot = np.full((280, 280), 255, np.uint8)
    dot[130:150, 130:150] = 0
    digit = 255 - np.asarray(load_sample().test_images[1])
    answers = classifier.predict([dot, digit])
    assert all(a.ood_score is not None for a in answers)
    assert answers[1].looks_like_digit
    assert len(answers[0].logits) == 10
    none = Classifier(bundled, ood=None).predict([dot])[0]
    assert none.ood_score is None and none.looks_like_digit
