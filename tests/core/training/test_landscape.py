"""The loss landscape: values equal a direct evaluation, directions are filter-normalised and
skip biases/batch norm, the path's projection recovers a known trajectory, cancel works."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.data.mnist import MnistData, load_sample
from core.errors import UserError
from core.training.landscape import (
    LandscapeCancelled,
    LandscapeSettings,
    compute_landscape,
    fixed_subsets,
    flat_mask,
    initial_state_for,
    parameter_vector,
    project_path,
    random_directions,
)
from core.training.models import build_model
from core.training.train_types import TrainConfig
from core.training.trainer import Trainer


@pytest.fixture(scope="module")
def data() -> MnistData:
    return load_sample()


@pytest.fixture(scope="module")
def trained(data):
    config = TrainConfig(epochs=3, holdout=0.1, report_every=50)
    result = Trainer(config, data=data, finalize=None, path_every=20).run().result
    return result


def _direct_loss(model, data, settings, model_name="mlp") -> float:
    train, _ = fixed_subsets(data, model_name, settings.samples, settings.seed)
    with torch.no_grad():
        out = model.eval()(train.x)
    return float(F.nll_loss(F.log_softmax(out, dim=1), train.y))


def test_line_and_grid_equal_a_direct_evaluation(data, trained):
    model = trained.checkpoint.build("cpu")
    init, _ = initial_state_for("mlp", "nll", 1, None)
    settings = LandscapeSettings(grid=5, line_points=11, samples=300, seed=2)
    result = compute_landscape(model, "mlp", data, init, settings)
    alphas = [a for a, _ in result.line]
    assert alphas[0] == 0.0 and 1.0 in alphas and alphas[-1] == pytest.approx(1.5)
    # alpha = 0.45: a fresh model with interpolated weights, scored directly
    probe = build_model("mlp")
    final = trained.checkpoint.state_dict
    probe.load_state_dict({k: init[k] + 0.45 * (final[k] - init[k]) for k in final})
    line = dict(result.line)
    assert line[0.45] == pytest.approx(_direct_loss(probe, data, settings), rel=1e-5)
    # grid corner (row 0 = y low, column 4 = x high)
    d1, d2 = random_directions(model, settings.seed)
    vector = parameter_vector(model) + result.grid_x[4] * d1 + result.grid_y[0] * d2
    torch.nn.utils.vector_to_parameters(vector, probe.parameters())
    assert result.grid_loss[0][4] == pytest.approx(_direct_loss(probe, data, settings), rel=1e-5)
    assert result.centre_loss() == pytest.approx(line[1.0], rel=1e-5)
    # the model is left as it was
    assert torch.equal(model.fc1.weight, final["fc1.weight"])


def test_a_cnn_gets_a_smaller_picture_scored_channels_last_to_the_same_values(data):
    assert (
        LandscapeSettings.for_model("mlp").grid,
        LandscapeSettings.for_model("mlp").samples,
    ) == (
        11,
        1000,
    )
    cnn = LandscapeSettings.for_model("cnn-bn")
    assert (cnn.grid, cnn.samples, cnn.line_points) == (9, 400, 21)
    assert LandscapeSettings.for_model("cnn", grid=5).grid == 5  # a choice wins
    torch.manual_seed(3)
    model = build_model("cnn-bn")
    with torch.no_grad():  # running statistics that matter
        model.bn2.running_mean.uniform_(-0.5, 0.5)
        model.bn2.running_var.uniform_(0.5, 2.0)
    init, _ = initial_state_for("cnn-bn", "nll", 1, None)
    settings = LandscapeSettings.for_model("cnn-bn", grid=3, line_points=11, samples=60)
    result = compute_landscape(model, "cnn-bn", data, init, settings)
    assert result.grid_size == 3 and result.train_samples == 60
    probe = build_model("cnn-bn")  # plain NCHW, scored directly
    probe.load_state_dict(model.state_dict())
    d1, d2 = random_directions(model, settings.seed)
    vector = parameter_vector(model) + result.grid_x[2] * d1 + result.grid_y[0] * d2
    torch.nn.utils.vector_to_parameters(vector, probe.parameters())
    direct = _direct_loss(probe, data, settings, "cnn-bn")
    assert result.grid_loss[0][2] == pytest.approx(direct, rel=1e-4)
    assert model.conv2.weight.is_contiguous()  # the model's layout is left as it came


def test_directions_are_filter_normalised_and_zero_on_biases_and_batch_norm():
    torch.manual_seed(0)
    model = build_model("cnn-bn")
    d1, _ = random_directions(model, seed=5)
    mask = flat_mask(model)
    offset = 0
    for p in model.parameters():
        part = d1[offset : offset + p.numel()].reshape(p.shape)
        offset += p.numel()
        if p.dim() <= 1:
            assert torch.count_nonzero(part) == 0
        else:
            w = p.detach().reshape(p.shape[0], -1).norm(dim=1)
            assert torch.allclose(part.reshape(p.shape[0], -1).norm(dim=1), w, rtol=1e-4)
    assert int(mask.sum()) == sum(p.numel() for p in model.parameters() if p.dim() > 1)


def test_the_projection_recovers_a_known_trajectory():
    generator = torch.Generator().manual_seed(0)
    size = 500
    u, v = torch.linalg.qr(torch.randn(size, 2, generator=generator))[0].T
    final = torch.randn(size, generator=generator)
    known = [
        (3.0 * (1 - t) ** 2, 1.5 * torch.sin(torch.tensor(6.283185307 * t)).item())
        for t in [i / 19 for i in range(20)]
    ]
    snapshots = torch.stack([final + a * u + b * v for a, b in known])
    path = project_path(snapshots, final)
    assert path.points[-1] == pytest.approx((0.0, 0.0), abs=1e-5)
    assert sum(path.explained) == pytest.approx(1.0, abs=1e-6)
    # a rotation/reflection of the plane: every distance from the final point is kept
    for (x, y), (a, b) in zip(path.points, known, strict=True):
        assert (x * x + y * y) ** 0.5 == pytest.approx((a * a + b * b) ** 0.5, abs=1e-4)
    assert torch.dot(path.directions[0], path.directions[1]).abs() < 1e-5


def test_a_run_with_a_saved_path_gets_its_own_plane(data, trained):
    model = trained.checkpoint.build("cpu")
    settings = LandscapeSettings(grid=5, line_points=11, samples=200)
    result = compute_landscape(
        model, "mlp", data, trained.initial_state, settings, snapshots=trained.trajectory
    )
    assert result.directions == "path (PCA)"
    assert len(result.path.points) == len(trained.trajectory_steps)
    xs = [p[0] for p in result.path.points]
    assert max(abs(x) for x in xs) <= max(result.grid_x)
    assert result.line[0][1] > 2.0  # alpha 0 is the untrained network: about ln 10


def test_the_landscape_is_reproducible_and_cancellable(data, trained):
    model = trained.checkpoint.build("cpu")
    init, _ = initial_state_for("mlp", "nll", 1, None)
    settings = LandscapeSettings(grid=3, line_points=11, samples=100, seed=4)
    first = compute_landscape(model, "mlp", data, init, settings)
    again = compute_landscape(model, "mlp", data, init, settings)
    assert first.grid_loss == again.grid_loss and first.line == again.line
    ticks = []
    with pytest.raises(LandscapeCancelled):
        compute_landscape(
            model,
            "mlp",
            data,
            init,
            settings,
            progress=lambda done, total: ticks.append((done, total)),
            stop=lambda: len(ticks) >= 3,
        )
    assert ticks[-1] == (3, 11 + 1 + 9)  # the line (plus alpha = 1), then the 3x3 grid
    assert torch.equal(model.fc1.weight, trained.checkpoint.state_dict["fc1.weight"])


def test_settings_are_checked():
    for bad in (LandscapeSettings(grid=4), LandscapeSettings(span=0), LandscapeSettings(samples=1)):
        with pytest.raises(UserError):
            bad.validate()


def test_initial_weights_default_to_the_runs_seeded_init():
    state, note = initial_state_for("mlp", "nll", 7, None)
    torch.manual_seed(7)
    assert torch.equal(state["fc1.weight"], build_model("mlp").fc1.weight.detach())
    assert "seed 7" in note
    _, unknown = initial_state_for("mlp", "nll", None, None)
    assert "seed 1" in unknown
