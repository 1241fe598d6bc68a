"""Activations through registry-declared hooks, weights as pictures, top exciting digits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import UserError
from core.inspection import activations as inspection
from core.inspection.activations import (
    first_layer_templates,
    inspect_tensor,
    stage_outputs,
    tile,
    top_exciting,
    unit_template,
    weight_histograms,
)
from core.training.models import MODELS, ModelSpec, StageSpec, build_model


@pytest.fixture
def digit() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(1, 28, 28)


def _model(name: str) -> nn.Module:
    torch.manual_seed(1)
    return build_model(name).eval()


def _no_hooks_left(model: nn.Module) -> bool:
    return all(not m._forward_hooks for m in model.modules())


def test_mlp_layers_match_a_hand_computed_forward(digit):
    model = _model("mlp")
    result = inspect_tensor(model, "mlp", digit)
    assert [layer.name for layer in result.layers] == ["fc1", "fc2", "logits"]
    with torch.no_grad():
        h1 = F.relu(model.fc1(digit.reshape(1, -1)))
        h2 = F.relu(model.fc2(h1))
        logits = model.fc3(h2)
    fc1 = result.layer("fc1")
    assert fc1.shape == (128,) and fc1.kind == "dense"
    np.testing.assert_allclose(fc1.values, h1[0].numpy(), rtol=1e-6)
    assert fc1.active_fraction == pytest.approx(float((h1 > 0).float().mean()))
    top = torch.topk(h2[0], 5)
    assert result.layer("fc2").top_units == [
        (int(i), pytest.approx(float(v))) for v, i in zip(top.values, top.indices, strict=True)
    ]
    assert result.layer("logits").active_fraction is None
    np.testing.assert_allclose(result.layer("logits").values, logits[0].numpy(), rtol=1e-6)
    assert result.digit == int(logits.argmax())
    assert sum(result.probabilities) == pytest.approx(1.0)
    assert _no_hooks_left(model)


def test_cnn_stages_before_and_after_pooling(digit):
    model = _model("cnn")
    result = inspect_tensor(model, "cnn", digit)
    shapes = {layer.name: layer.shape for layer in result.layers}
    assert shapes == {
        "conv1_maps": (16, 28, 28),
        "conv1": (16, 14, 14),
        "conv2": (32, 7, 7),
        "fc1": (128,),
        "logits": (10,),
    }
    with torch.no_grad():
        maps = model.conv1(digit.unsqueeze(0))
        pooled = F.relu(F.max_pool2d(maps, 2))
    np.testing.assert_allclose(result.layer("conv1_maps").values, maps[0].numpy(), rtol=1e-5)
    np.testing.assert_allclose(result.layer("conv1").values, pooled[0].numpy(), rtol=1e-5)
    assert result.layer("conv1_maps").active_fraction is None  # no ReLU there yet
    assert result.layer("conv1").active_fraction == pytest.approx(
        float((pooled > 0).float().mean())
    )
    # A conv unit is a channel scored by its strongest response.
    best = int(pooled[0].flatten(1).amax(1).argmax())
    assert result.layer("conv1").top_units[0][0] == best
    assert _no_hooks_left(model)


def test_json_contract(digit):
    record = inspect_tensor(_model("cnn"), "cnn", digit).to_json()
    assert set(record) >= {"digit", "layers"}
    for layer in record["layers"]:
        assert set(layer) == {"name", "kind", "shape", "active_fraction", "top_units"}
        assert all(set(unit) == {"index", "value"} for unit in layer["top_units"])
        assert len(layer["top_units"]) == 5


def test_a_new_registry_model_needs_no_inspector_code(monkeypatch, digit):
    class Tiny(nn.Module):
        def __init__(self, log_probs: bool = True) -> None:
            super().__init__()
            self.hidden = nn.Linear(784, 6)
            self.act = nn.ReLU()
            self.head = nn.Linear(6, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.act(self.hidden(torch.flatten(x, 1))))

    stages = (
        StageSpec("hidden", "act", "dense", "hidden", "relu"),
        StageSpec("logits", "head", "logits", "head", None),
    )
    monkeypatch.setitem(MODELS, "tiny", ModelSpec("tiny", "Tiny", "test", Tiny, stages))
    model = Tiny().eval()
    result = inspect_tensor(model, "tiny", digit)
    assert [layer.shape for layer in result.layers] == [(6,), (10,)]
    assert unit_template(model, "tiny", "hidden", 2).shape == (28, 28)
    assert unit_template(model, "tiny", "logits", 0).shape == (2, 3)


def test_stage_naming_a_missing_module_is_a_user_error(monkeypatch, digit):
    spec = MODELS["mlp"]
    broken = (replace(spec.stages[0], module="nowhere"), *spec.stages[1:])
    monkeypatch.setitem(MODELS, "mlp", replace(spec, stages=broken))
    with pytest.raises(UserError, match="no module 'nowhere'"):
        inspect_tensor(_model("mlp"), "mlp", digit)


def test_weight_templates_are_the_incoming_weights():
    mlp, cnn = _model("mlp"), _model("cnn")
    np.testing.assert_array_equal(
        unit_template(mlp, "mlp", "fc1", 7), mlp.fc1.weight[7].detach().reshape(28, 28).numpy()
    )
    np.testing.assert_array_equal(
        unit_template(cnn, "cnn", "conv1", 3), cnn.conv1.weight[3, 0].detach().numpy()
    )
    # A CNN fc1 unit reads 32 maps of 7x7: a mosaic of them, NaN between the tiles.
    mosaic = unit_template(cnn, "cnn", "fc1", 5)
    expected = cnn.fc1.weight[5].detach().reshape(32, 7, 7).numpy()
    np.testing.assert_array_equal(mosaic[:7, :7], expected[0])
    np.testing.assert_array_equal(mosaic[:7, 8:15], expected[1])
    assert np.isnan(mosaic[:7, 7]).all()
    assert unit_template(mlp, "mlp", "fc2", 0).shape == (8, 16)  # 128 inputs as a block
    assert first_layer_templates(mlp, "mlp").shape == (128, 28, 28)
    assert first_layer_templates(cnn, "cnn").shape == (16, 5, 5)
    with pytest.raises(UserError, match="no unit 128"):
        unit_template(mlp, "mlp", "fc1", 128)


def test_weight_histograms_cover_every_weight():
    model = _model("cnn")
    histograms = weight_histograms(model, "cnn", bins=20)
    assert [h.name for h in histograms] == ["conv1", "conv2", "fc1", "fc2"]
    for histogram in histograms:
        weight = dict(model.named_modules())[histogram.name].weight
        assert sum(histogram.counts) == weight.numel()
        assert len(histogram.edges) == 21
        assert histogram.std == pytest.approx(float(weight.detach().std(unbiased=False)), rel=1e-4)


def test_top_exciting_digits_are_the_strongest_responders():
    model = _model("cnn")
    torch.manual_seed(5)
    inputs = torch.randn(60, 28, 28)
    best = top_exciting(model, "cnn", inputs, k=4, chunk=16)
    assert best["conv2"].shape == (32, 4)
    assert best["fc1"].shape == (128, 4)
    scores = stage_outputs(model, "cnn", inputs, ["fc1"])["fc1"]
    for unit in (0, 17, 127):
        expected = torch.topk(scores[:, unit], 4).indices.numpy()
        np.testing.assert_array_equal(best["fc1"][unit], expected)
    maps = stage_outputs(model, "cnn", inputs, ["conv2"])["conv2"].flatten(2).amax(2)
    assert best["conv2"][9][0] == int(maps[:, 9].argmax())


def test_tile_lays_maps_out_row_by_row():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    mosaic = tile(maps, columns=3)
    assert mosaic.shape == (2 * 2 + 1, 3 * 3 + 2)
    np.testing.assert_array_equal(mosaic[3:5, 4:7], maps[4])
    assert np.isnan(mosaic[3:5, 8:11]).all()  # the empty sixth tile


def test_model_without_stages_is_refused(monkeypatch, digit):
    monkeypatch.setitem(MODELS, "bare", ModelSpec("bare", "Bare", "", MODELS["mlp"].factory))
    with pytest.raises(UserError, match="declares no stages"):
        inspection.stages_of("bare")


# ------------------------------------------------------------------------ gradient flow


def _batch(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    from core.data.mnist import load_sample, normalize

    data = load_sample()
    return normalize(data.train_images[:n]), data.train_labels[:n]


def _one_step(model: nn.Module, name: str, lr: float = 0.1, interval: float = 0.0):
    x, y = _batch()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss = F.nll_loss(model(x.unsqueeze(1)), y)
    optimizer.zero_grad()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    monitor = inspection.GradientMonitor(model, name, min_interval_s=interval)
    return monitor, monitor.observe(optimizer.step, epoch=1, step=1), grads


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_gradient_report_matches_autograd(name):
    model = _model(name).train()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    _monitor, report, grads = _one_step(model, name, lr=0.1)
    assert report is not None
    assert [layer.name for layer in report.layers] == inspection.weight_layers(name)
    for layer in report.layers:
        key = f"{layer.name}.weight"
        weight = dict(model.named_parameters())[key].detach()
        assert layer.grad_norm == pytest.approx(float(grads[key].norm()), rel=1e-5)
        assert layer.weight_norm == pytest.approx(float(weight.norm()), rel=1e-5)
        change = float((weight - before[key]).norm()) / float(weight.norm())
        assert layer.update_ratio == pytest.approx(change, rel=1e-4)
        assert layer.update_ratio == pytest.approx(
            0.1 * layer.grad_norm / layer.weight_norm, rel=1e-3
        )
    expected = first_layer_templates(model, name)
    np.testing.assert_array_equal(report.templates, expected)


def test_monitor_throttles_reports_but_always_steps():
    model = _model("mlp").train()
    monitor, first, _ = _one_step(model, "mlp", interval=3600.0)
    assert first is not None  # the first report is always due
    x, y = _batch()
    F.nll_loss(model(x), y).backward()
    weight = model.fc1.weight.detach().clone()
    stepped = []
    assert monitor.observe(lambda: stepped.append(1), epoch=1, step=2) is None
    assert stepped == [1]
    assert torch.equal(model.fc1.weight.detach(), weight)


def test_deep_sigmoid_gradients_vanish_where_relu_ones_do_not():
    torch.manual_seed(0)
    sigmoid = build_model("deep-sigmoid").train()
    _m, report, _ = _one_step(sigmoid, "deep-sigmoid")
    norms = {layer.name: layer.grad_norm for layer in report.layers}
    assert norms["fc1"] < 0.01 * norms["out"]
    notes = inspection.flow_notes(report)
    assert len(notes) == 1 and notes[0].startswith("fc1, ") and "they vanish" in notes[0]
    assert "out" not in notes[0].split(":")[0]
    _m, relu_report, _ = _one_step(_model("mlp").train(), "mlp")
    assert not [n for n in inspection.flow_notes(relu_report) if "vanish" in n]


def test_dead_relus_are_counted_and_named():
    model = _model("mlp").train()
    with torch.no_grad():
        model.fc1.bias[:96] = -1e4  # 96 of 128 units can never fire
    monitor = inspection.GradientMonitor(model, "mlp")
    x, _y = _batch(200)
    dead = monitor.dead_relus(epoch=2, inputs=x)
    assert dead.epoch == 2
    assert dead.dead_fraction["fc1"] == pytest.approx(96 / 128)
    assert model.training  # put back as it was
    report = inspection.GradientReport(1, 1, [inspection.LayerFlow("fc1", 1.0, 1.0, 1e-3)])
    notes = inspection.flow_notes(report, dead)
    assert notes == [n for n in notes if "fc1: 75% of its ReLUs are dead" in n] and notes


def test_exploding_updates_are_noted():
    report = inspection.GradientReport(1, 1, [inspection.LayerFlow("fc2", 50.0, 1.0, 0.5)])
    assert "explode" in inspection.flow_notes(report)[0]


def test_temperature_softens_the_answer_like_the_classifier(digit):
    model = _model("mlp")
    raw = inspect_tensor(model, "mlp", digit)
    warm = inspect_tensor(model, "mlp", digit, temperature=2.0)
    logits = torch.tensor(raw.layer("logits").values, dtype=torch.float64)
    np.testing.assert_allclose(warm.probabilities, torch.softmax(logits / 2, 0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(raw.probabilities, torch.softmax(logits, 0).numpy(), rtol=1e-6)
    assert warm.digit == raw.digit


# ------------------------------------------------------------------- through the trainer


def _small_data():
    from core.data.mnist import MnistData, load_sample

    data = load_sample()
    return MnistData(
        "sample",
        "600 sample digits",
        data.train_images[:512],
        data.train_labels[:512],
        data.test_images[:200],
        data.test_labels[:200],
    )


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_trainer_reports_gradient_flow_only_when_asked(name, monkeypatch):
    from core.training.train_types import BatchEvent, EpochEvent, TrainConfig
    from core.training.trainer import Trainer

    monkeypatch.setattr(inspection, "REPORT_INTERVAL_S", 0.0)  # every report, not 5 a second
    data = _small_data()
    config = TrainConfig(model=name, epochs=2, batch_size=64, report_every=2, device="cpu")
    events: list = []
    assert Trainer(config, on_event=events.append, data=data).run().status == "finished"
    assert not [
        e for e in events if isinstance(e, inspection.GradientReport | inspection.DeadReluReport)
    ]
    events.clear()
    on = replace(config, gradient_stats=True)
    assert Trainer(on, on_event=events.append, data=data).run().status == "finished"
    reports = [e for e in events if isinstance(e, inspection.GradientReport)]
    batches = [e for e in events if isinstance(e, BatchEvent)]
    assert [r.step for r in reports] == [b.step for b in batches]  # one per report (no throttle)
    assert {r.epoch for r in reports} == {1, 2}
    assert [layer.name for layer in reports[0].layers] == inspection.weight_layers(name)
    assert all(layer.grad_norm > 0 and 0 < layer.update_ratio < 1 for layer in reports[-1].layers)
    assert reports[-1].templates.shape[0] in (128, 16)
    dead = [e for e in events if isinstance(e, inspection.DeadReluReport)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert [d.epoch for d in dead] == [e.epoch for e in epochs] == [1, 2]
    assert all(0 <= share <= 1 for share in dead[0].dead_fraction.values())
