"""Every field of a model file is checked before anything is built: a forged field is refused
in one sentence (a CheckpointError), never a traceback or NaN probabilities later."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from core.errors import CheckpointError
from core.resources import bundled_model_file
from core.storage.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def payload() -> dict:
    """The bundled model's file with full detector statistics (energy and two Mahalanobis
    layers, as ``OodStats.to_payload`` writes them), whatever method the bundled one uses."""
    from core.storage.model_schema import layer_widths
    from core.training.models import build_model

    raw = torch.load(bundled_model_file(), map_location="cpu", weights_only=True)
    widths = layer_widths(build_model(raw["model_name"], raw["loss"]))
    k = 4
    raw["ood"] = {
        "version": 2,
        "method": "energy+mahalanobis+pixels",
        "threshold": 1.5,
        "scales": [[0.0, 1.0], [2.0, 0.5], [3.0, 0.7]],
        "fitted_on": 900,
        "held_out": 300,
        "source": "test",
        "mahalanobis": [
            {
                "layer": layer,
                "centre": torch.zeros(widths[layer]),
                "basis": torch.eye(widths[layer], k),
                "class_means": torch.randn(10, k),
                "precision": torch.eye(k),
            }
            for layer in ("first", "input")
        ],
    }
    return raw


def _maha(p: dict) -> dict:
    return p["ood"]["mahalanobis"][0]


def _first_weight(p: dict) -> str:
    return next(iter(p["state_dict"]))


MUTATIONS = {
    "method is a list": lambda p: p["ood"].__setitem__("method", ["energy"]),
    "method is a dict": lambda p: p["ood"].__setitem__("method", {"energy": 1}),
    "method unknown": lambda p: p["ood"].__setitem__("method", "telepathy"),
    "fitted_on text": lambda p: p["ood"].__setitem__("fitted_on", "many"),
    "fitted_on inf": lambda p: p["ood"].__setitem__("fitted_on", math.inf),
    "fitted_on negative": lambda p: p["ood"].__setitem__("fitted_on", -5),
    "fitted_on bool": lambda p: p["ood"].__setitem__("fitted_on", True),
    "held_out float": lambda p: p["ood"].__setitem__("held_out", 2.5),
    "threshold nan": lambda p: p["ood"].__setitem__("threshold", math.nan),
    "threshold text": lambda p: p["ood"].__setitem__("threshold", "low"),
    "scales empty": lambda p: p["ood"].__setitem__("scales", []),
    "scale zero": lambda p: p["ood"].__setitem__("scales", [[0.0, 0.0]] * len(p["ood"]["scales"])),
    "ood a list": lambda p: p.__setitem__("ood", [1, 2]),
    "class means (0, K)": lambda p: _maha(p).__setitem__(
        "class_means", torch.zeros(0, _maha(p)["basis"].shape[1])
    ),
    "class means (9, K)": lambda p: _maha(p).__setitem__(
        "class_means", torch.zeros(9, _maha(p)["basis"].shape[1])
    ),
    "centre too long": lambda p: _maha(p).__setitem__(
        "centre", torch.zeros(_maha(p)["centre"].shape[0] + 3)
    ),
    "basis wrong length": lambda p: _maha(p).__setitem__(
        "basis", torch.zeros(5, _maha(p)["basis"].shape[1])
    ),
    "precision not square": lambda p: _maha(p).__setitem__("precision", torch.zeros(3, 4)),
    "statistic on meta": lambda p: _maha(p).__setitem__(
        "precision", torch.empty_like(_maha(p)["precision"], device="meta")
    ),
    "statistic complex": lambda p: _maha(p).__setitem__(
        "centre", _maha(p)["centre"].to(torch.complex64)
    ),
    "statistic inf": lambda p: _maha(p)["centre"].__setitem__(0, math.inf),
    "statistic a list": lambda p: _maha(p).__setitem__("centre", [0.0] * 3),
    "layer wrong": lambda p: _maha(p).__setitem__("layer", ["x"]),
    "too few layers": lambda p: p["ood"].__setitem__("mahalanobis", []),
    "weight on meta": lambda p: p["state_dict"].__setitem__(
        _first_weight(p), torch.empty_like(p["state_dict"][_first_weight(p)], device="meta")
    ),
    "normalisation 1e308, 1e-308": lambda p: p.__setitem__("normalization", [1e308, 1e-308]),
    "normalisation nan": lambda p: p.__setitem__("normalization", [math.nan, 1.0]),
    "normalisation text": lambda p: p.__setitem__("normalization", ["0.1", "0.3"]),
    "normalisation std 0": lambda p: p.__setitem__("normalization", [0.1, 0.0]),
    "normalisation three values": lambda p: p.__setitem__("normalization", [0.1, 0.3, 1.0]),
    "config holds a tensor": lambda p: p.__setitem__("config", {"lr": torch.zeros(3)}),
    "metrics hold inf": lambda p: p.__setitem__("metrics", {"loss": math.inf}),
    "config keys not text": lambda p: p.__setitem__("config", {1: "a"}),
    "dataset a list": lambda p: p.__setitem__("dataset", ["mnist"]),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_a_forged_field_is_refused_in_one_sentence(tmp_path, payload, mutation):
    forged = copy.deepcopy(payload)
    MUTATIONS[mutation](forged)
    path = tmp_path / "forged.pt"
    torch.save(forged, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert "forged.pt" in text and "\n" not in text and len(text) < 300


def test_the_untouched_payload_loads(tmp_path, payload):
    path = tmp_path / "fine.pt"
    torch.save(copy.deepcopy(payload), path)
    checkpoint = load_checkpoint(path)
    assert checkpoint.ood is not None
    from core.inference.ood import OodStats

    OodStats.from_payload(checkpoint.ood)  # what the schema passes, the detector accepts
