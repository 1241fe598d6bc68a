"""The hidden-layer map: PCA shape, determinism, exactness, the 5-NN measure, CSV."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.mnist import normalize
from core.errors import UserError
from core.inspection.activations import stage_outputs
from core.inspection.embedding_map import (
    build_map,
    fit_pca,
    knn_accuracy,
    map_test_digits,
    nearest_brute,
    nearest_grid,
)
from core.resources import bundled_model_file
from core.storage.checkpoint import load_checkpoint
from core.training.models import MODELS, build_model


@pytest.fixture(scope="module")
def bundled():
    return load_checkpoint(bundled_model_file())


@pytest.fixture(scope="module")
def trained(bundled):
    return bundled.build()


@pytest.fixture(scope="module")
def name(bundled):
    return bundled.model_name


def test_map_has_one_point_per_test_digit(trained, name, sample):
    result = map_test_digits(trained, name, sample)
    n = sample.test_samples
    assert result.points.shape == (n, 2)
    assert result.stage == MODELS[name].embedding_stage.name
    np.testing.assert_array_equal(result.labels, sample.test_labels.numpy())
    with torch.no_grad():
        predicted = trained(normalize(sample.test_images).unsqueeze(1)).argmax(1).numpy()
    np.testing.assert_array_equal(result.predictions, predicted)
    assert result.misclassified.sum() == (predicted != sample.test_labels.numpy()).sum()
    # A trained network separates digits: far above chance (0.1) even in two dimensions.
    assert result.knn_accuracy > 0.6


def test_map_is_deterministic_and_leaves_the_global_seed_alone(trained, name, sample):
    torch.manual_seed(1)
    first = map_test_digits(trained, name, sample)
    after_first = torch.rand(1)
    torch.manual_seed(1)
    second = map_test_digits(trained, name, sample)
    assert torch.equal(after_first, torch.rand(1))
    np.testing.assert_array_equal(first.points, second.points)
    assert first.knn_accuracy == second.knn_accuracy


def test_pca_matches_the_exact_principal_axes():
    torch.manual_seed(2)
    features = torch.randn(500, 12) @ torch.diag(torch.tensor([5.0, 3.0] + [0.5] * 10))
    projection = fit_pca(features)
    centred = features - features.mean(0)
    eigenvalues, eigenvectors = torch.linalg.eigh(centred.T @ centred)
    exact = eigenvectors[:, [-1, -2]].numpy()
    for axis in range(2):
        cosine = abs(float(np.dot(projection.components[:, axis], exact[:, axis])))
        assert cosine == pytest.approx(1.0, abs=1e-4)
        share = float(eigenvalues[-1 - axis] / eigenvalues.sum())
        assert projection.explained[axis] == pytest.approx(share, rel=1e-3)
    points = projection.project(features)
    assert abs(points.mean(0)).max() < 1e-4  # centred
    assert points[:, 0].var() > points[:, 1].var()


def test_a_new_digit_lands_where_its_features_put_it(trained, name, sample):
    result = map_test_digits(trained, name, sample)
    stage = result.stage
    features = stage_outputs(trained, name, normalize(sample.test_images[:3]), [stage])[stage]
    np.testing.assert_allclose(result.projection.project(features), result.points[:3], atol=1e-4)


def test_knn_accuracy_counts_each_point_by_its_neighbours():
    cluster_a = [(0.0, 0.0), (0.1, 0.0), (0.0, 0.1), (0.1, 0.1), (0.05, 0.05), (0.02, 0.08)]
    cluster_b = [(9.0, 9.0), (9.1, 9.0), (9.0, 9.1), (9.1, 9.1), (9.05, 9.05), (9.02, 9.08)]
    points = np.array(cluster_a + cluster_b)
    labels = np.array([0] * 6 + [1] * 6)
    assert knn_accuracy(points, labels) == 1.0
    labels[4] = 1  # an odd one out: its neighbours say 0, and it outvotes nobody
    assert knn_accuracy(points, labels) == pytest.approx(11 / 12)
    with pytest.raises(UserError, match="more than 5 digits"):
        knn_accuracy(points[:5], labels[:5])


@pytest.mark.parametrize("layout", ["gaussian", "clusters_and_outliers", "a_line"])
def test_grid_search_finds_the_same_neighbours_as_brute_force(layout):
    rng = np.random.default_rng(7)
    if layout == "gaussian":
        points = rng.normal(size=(3000, 2))
    elif layout == "clusters_and_outliers":
        centres = rng.normal(size=(10, 2)) * 20
        points = np.concatenate(
            [
                centres[rng.integers(0, 10, 2500)] + rng.normal(size=(2500, 2)),
                rng.normal(size=(40, 2)) * 200,
            ]
        )
    else:  # all on one line: a degenerate box
        points = np.stack([rng.random(1500), np.zeros(1500)], axis=1)
    np.testing.assert_array_equal(nearest_grid(points, 5), nearest_brute(points, 5))


def test_csv_has_a_header_and_one_row_per_digit(trained, name, sample, tmp_path):
    result = build_map(trained, name, sample.test_images[:50], sample.test_labels[:50])
    path = result.write_csv(tmp_path / "map.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "x,y,label,prediction"
    assert len(lines) == 51
    x, y, label, prediction = lines[1].split(",")
    assert float(x) == pytest.approx(result.points[0, 0], rel=1e-5)
    assert int(label) == int(sample.test_labels[0]) and int(prediction) == result.predictions[0]
    with pytest.raises(UserError):
        result.write_csv(tmp_path)  # a folder


def test_mlp_map_uses_its_last_hidden_layer(sample):
    torch.manual_seed(0)
    result = build_map(build_model("mlp").eval(), "mlp", sample.test_images, sample.test_labels)
    assert result.stage == "fc2" and result.points.shape == (sample.test_samples, 2)


def test_mismatched_labels_are_a_user_error(trained, name, sample):
    with pytest.raises(UserError, match="one label each"):
        build_map(trained, name, sample.test_images[:10], sample.test_labels[:9])


def test_reference_is_the_map_and_the_exemplars_from_one_pass(sample):
    from core.inspection.activations import top_exciting
    from core.inspection.embedding_map import build_reference

    torch.manual_seed(0)
    model = build_model("cnn").eval()
    reference = build_reference(model, "cnn", sample, k=3)
    alone = map_test_digits(model, "cnn", sample)
    np.testing.assert_allclose(reference.map.points, alone.points, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(reference.map.predictions, alone.predictions)
    expected = top_exciting(model, "cnn", normalize(sample.test_images), k=3)
    assert reference.exemplars.keys() == expected.keys()
    for name, table in expected.items():
        np.testing.assert_array_equal(reference.exemplars[name], table)
    assert reference.images.shape == (sample.test_samples, 28, 28)


def test_a_reference_pass_can_be_cancelled_between_chunks(sample):
    from core.inspection.activations import Cancelled
    from core.inspection.embedding_map import build_reference

    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # after the first chunk

    with pytest.raises(Cancelled):
        build_reference(build_model("mlp").eval(), "mlp", sample, should_stop=stop)
    assert len(asked) == 2
