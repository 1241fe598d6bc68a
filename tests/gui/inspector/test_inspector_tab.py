"""The "Inside the network" tab: drawing flows through every layer, hover shows a unit, the map,
and the training panel follows gradient reports."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import QPoint, Qt

from core.data.mnist import MnistData, load_sample, normalize
from core.inspection.activations import DeadReluReport, GradientMonitor, inspect_tensor
from core.storage.checkpoint import Checkpoint
from core.training.models import build_model
from core.training.train_types import RunEnded, RunStarted, TrainConfig
from gui.app_state import AppState
from gui.inspector.inspector_tab import InsideNetworkTab
from gui.inspector.inspector_widgets import UnitGridView


@pytest.fixture(scope="module")
def sample_300(sample):
    """The bundled sample's first 300 test digits: enough for a map, quick to build."""
    data = sample
    return MnistData(
        "sample",
        "300 sample digits",
        data.train_images[:10],
        data.train_labels[:10],
        data.test_images[:300],
        data.test_labels[:300],
    )


@pytest.fixture
def tab(qtbot, sample_300):
    state = AppState()
    torch.manual_seed(0)  # a small CNN of its own: the tests do not depend on the bundled file
    cnn = Checkpoint.from_model(build_model("cnn"), "cnn", "nll", dataset="unit-test data")
    state.set_current_model(cnn, persist=False)
    widget = InsideNetworkTab(state, data=sample_300)
    qtbot.addWidget(widget)
    widget.resize(1260, 740)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.reference is not None, timeout=60_000)
    yield widget
    widget.shutdown()


def draw(qtbot, canvas, points: list[tuple[float, float]]) -> None:
    side = min(canvas.width(), canvas.height())
    pixels = [QPoint(int(x * side), int(y * side)) for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pixels[0])
    for point in pixels[1:]:
        qtbot.mouseMove(canvas, point)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pixels[-1])


ONE = [(0.5, 0.15), (0.5, 0.35), (0.5, 0.55), (0.5, 0.85)]


def test_drawing_flows_through_every_layer(qtbot, tab):
    assert tab.inspection is None and tab.answer.text() == "–"
    with qtbot.waitSignal(tab.digitInspected, timeout=5000) as blocker:
        draw(qtbot, tab.canvas, ONE)
    result = blocker.args[0]
    assert [row.stage.name for row in tab.rows] == [layer.name for layer in result.layers]
    for row in tab.rows:
        assert row.grid.units == result.layer(row.stage.name).shape[0]
    conv1 = next(row for row in tab.rows if row.stage.name == "conv1")
    assert f"{result.layer('conv1').active_fraction:.0%} of its ReLUs fire" in conv1.title.text()
    assert tab.answer.text() == str(result.digit)
    np.testing.assert_allclose(tab.chart.heights, result.probabilities)
    # The same numbers the engine gives for what the canvas shows.
    item = tab.classifier.preprocess(tab.canvas.render_array())
    expected = inspect_tensor(tab.classifier.model, "cnn", item.tensor)
    np.testing.assert_allclose(result.layer("fc1").values, expected.layer("fc1").values, rtol=1e-5)
    # The drawn digit is the star on the map, where its fc1 values project.
    star = tab.map_panel.marker.data["x"][0], tab.map_panel.marker.data["y"][0]
    where = tab.reference.map.projection.project(result.layer("fc1").values)[0]
    np.testing.assert_allclose(star, where, rtol=1e-4)


def test_more_ink_changes_the_flow(qtbot, tab):
    draw(qtbot, tab.canvas, ONE)
    qtbot.waitUntil(lambda: tab.inspection is not None)
    before = tab.inspection.layer("conv1").values.copy()
    with qtbot.waitSignal(tab.digitInspected, timeout=5000):
        draw(qtbot, tab.canvas, [(0.2, 0.3), (0.8, 0.3)])
    assert not np.allclose(before, tab.inspection.layer("conv1").values)
    tab.canvas.clear()
    qtbot.waitUntil(lambda: tab.inspection is None)
    assert all(row.grid.units == 0 for row in tab.rows)


def test_hovering_a_unit_shows_its_template_and_exciting_digits(qtbot, tab, sample_300):
    draw(qtbot, tab.canvas, ONE)
    qtbot.waitUntil(lambda: tab.inspection is not None)
    row = next(row for row in tab.rows if row.stage.name == "fc1")
    grid = row.grid
    target = grid._target()
    centre = grid._unit_rect(5, target).center()
    assert grid.unit_at(centre.x(), centre.y()) == 5
    with qtbot.waitSignal(grid.unitHovered) as blocker:
        qtbot.mouseMove(grid, QPoint(int(centre.x()), int(centre.y())))
    assert blocker.args == [5]
    panel = tab.unit_panel
    assert "fc1, unit 5" in panel.title.text()
    assert "1568 weights" in panel.about.text()  # 32 maps of 7x7 below
    assert panel.template.has_image
    assert panel.exemplars.shown == 8
    # The strip holds the test digits on which fc1 unit 5 is largest.
    with torch.no_grad():
        model = tab.classifier.model
        x = normalize(sample_300.test_images).unsqueeze(1)
        h = F.relu(
            model.fc1(
                torch.flatten(
                    F.relu(F.max_pool2d(model.conv2(F.relu(F.max_pool2d(model.conv1(x), 2))), 2)), 1
                )
            )
        )
    best = int(h[:, 5].argmax())
    assert tab.reference.exemplars["fc1"][5][0] == best


def test_clicking_a_map_point_follows_that_test_digit(qtbot, tab):
    assert len(tab.map_panel.scatter.data) == len(tab.reference.map)
    wrong = int(tab.reference.map.misclassified.sum())
    assert len(tab.map_panel.wrong.data) == wrong
    with qtbot.waitSignal(tab.digitInspected, timeout=5000):
        tab.map_panel.digitChosen.emit(3)
    assert "Test digit 3" in tab.answer_note.text()
    assert tab.inspection is not None
    assert "Test digit 3" in tab.map_panel.describe_digit(3)


def test_a_new_model_rebuilds_the_flow(qtbot, tab):
    torch.manual_seed(0)
    mlp = Checkpoint.from_model(build_model("mlp"), "mlp", "nll", dataset="unit-test data")
    with qtbot.waitSignal(tab.modelReady, timeout=60_000):
        tab.state.set_current_model(mlp, persist=False)
        assert "Loading" in tab.model_label.text()  # prepared on a worker, never here
    assert [row.stage.name for row in tab.rows] == ["fc1", "fc2", "logits"]
    qtbot.waitUntil(
        lambda: tab.reference is not None and tab.reference.map.stage == "fc2", timeout=60_000
    )
    assert tab.weights_panel.shown == ["fc1", "fc2", "fc3"]


def test_a_bad_picture_is_reported_in_place(tab, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    assert not tab.open_image(str(bad))
    assert "bad.png" in tab.error_label.text()


def _reports(name: str, steps: int = 3):
    torch.manual_seed(0)
    model = build_model(name).train()
    data = load_sample()
    x, y = normalize(data.train_images[:64]), data.train_labels[:64]
    monitor = GradientMonitor(model, name, min_interval_s=0.0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    reports = []
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        F.nll_loss(model(x.unsqueeze(1)), y).backward()
        reports.append(monitor.observe(optimizer.step, 1, step))
    return model, monitor, reports


def test_training_panel_follows_gradient_reports(qtbot, tab):
    config = TrainConfig(model="deep-sigmoid")
    tab.on_training_event(RunStarted(config, "cpu", "sample", 64, 64, 3, 3))
    _model, monitor, reports = _reports("deep-sigmoid")
    for report in reports:
        tab.on_training_event(report)
    tab.on_training_event(DeadReluReport(1, {}))
    panel = tab.training_panel
    tab.panels.setCurrentWidget(panel)  # a hidden panel does not redraw
    # Drawn by its timer: the templates on one tick, the curves on the next.
    qtbot.waitUntil(lambda: panel.templates.units == 128 and not panel._dirty, timeout=5000)
    assert set(panel.curves) == set(monitor.names)
    xs, ys = panel.curves["fc1"].getData()
    np.testing.assert_array_equal(xs, [1, 2, 3])
    expected = [np.log10(r.layers[0].grad_norm) for r in reports]  # the axis is logarithmic
    np.testing.assert_allclose(ys, expected, rtol=1e-6)
    assert "vanish" in panel.notes.text()
    tab.on_training_event(RunEnded("finished"))
    assert "finished" in panel.status.text()
    # The next run keeps this one's curves, dashed, for comparison.
    tab.on_training_event(RunStarted(TrainConfig(model="mlp"), "cpu", "sample", 64, 64, 3, 3))
    dashed = panel.plot.listDataItems()
    assert len(dashed) == len(monitor.names) and not panel.curves
    assert dashed[0].name() == "before: Deep sigmoid MLP (lesson)"


def test_unit_grid_maps_positions_to_units(qtbot):
    grid = UnitGridView(height=80)
    qtbot.addWidget(grid)
    grid.resize(400, 80)
    grid.set_values(np.random.default_rng(0).random((32, 7, 7)).astype(np.float32))
    target = grid._target()
    for unit in (0, 13, 31):
        centre = grid._unit_rect(unit, target).center()
        assert grid.unit_at(centre.x(), centre.y()) == unit
    assert grid.unit_at(-5, -5) == -1
    grid.set_values(np.arange(10, dtype=np.float32), signed=True)
    assert grid.units == 10


def test_a_run_without_gradient_flow_says_how_to_turn_it_on(tab):
    tab.on_training_event(RunStarted(TrainConfig(model="mlp"), "cpu", "sample", 64, 64, 3, 3))
    assert "'Gradient flow'" in tab.training_panel.status.text()
    assert tab.training_panel.reports == 0


# ------------------------------------------------------------ one verdict everywhere (issue 23)
@pytest.fixture
def bundled_tab(qtbot, sample_300):
    from core.resources import bundled_model_file
    from core.storage.checkpoint import load_checkpoint

    state = AppState()
    state.set_current_model(load_checkpoint(bundled_model_file()), persist=False)
    widget = InsideNetworkTab(state, data=sample_300)
    qtbot.addWidget(widget)
    widget.resize(1260, 740)
    widget.show()
    qtbot.waitExposed(widget)
    # The "is this a digit?" statistics come from the worker, never from the window's thread.
    qtbot.waitUntil(
        lambda: widget.classifier is not None and widget.classifier.ood_stats is not None,
        timeout=60_000,
    )
    yield widget
    widget.shutdown()


def test_a_dot_is_not_a_digit_here_as_in_the_draw_tab(qtbot, bundled_tab):
    from gui.draw.draw_canvas import Stroke

    tab = bundled_tab
    tab.canvas.add_stroke(Stroke(((0.5, 0.5),), 18 / 280))
    tab.update_now()
    assert not tab.prediction.looks_like_digit
    assert tab.answer.text() == "?" and tab.chart.greyed
    assert "Not a digit?" in tab.answer_note.text()
    assert "does not look like a digit to the model" in tab.answer_note.text()
    # The same words the Draw tab and classify use, from one place.
    from core.inference.answer import answer_text

    assert tab.verdict == answer_text(tab.prediction, threshold=tab.classifier.ood_stats.threshold)
    tab.canvas.clear()
    draw(qtbot, tab.canvas, ONE)
    tab.update_now()
    assert tab.prediction.looks_like_digit and not tab.chart.greyed
    assert tab.answer.text() == str(tab.prediction.digit) == "1"
    assert "Not a digit" not in tab.answer_note.text()


def test_the_verdict_follows_the_statistics_when_they_arrive(qtbot, tab):
    """Until the worker has the model's statistics no verdict is "not a digit"; when they
    arrive the answer shown is re-judged."""
    import dataclasses

    tab.classifier.set_ood(None)  # as before the worker's statistics arrive
    draw(qtbot, tab.canvas, ONE)
    tab.update_now()
    assert tab.prediction.looks_like_digit and tab.answer.text() != "?"
    qtbot.waitUntil(lambda: tab.reference is not None, timeout=60_000)
    from core.inference.ood import ood_stats_for

    fitted = ood_stats_for(tab.classifier.checkpoint, tab.classifier.model)
    strict = dataclasses.replace(fitted, threshold=-1e9)  # every picture is "unusual"
    tab._ood_ready((tab._token, strict))
    assert not tab.prediction.looks_like_digit and tab.answer.text() == "?"


# ------------------------------------------------------------ axes and hovers read as sentences
def test_the_gradient_axis_reads_as_written(qtbot, tab):
    """No "(×0.001)" after "gradient norm (log scale)": the title says what the axis shows."""
    tab.on_training_event(
        RunStarted(TrainConfig(model="deep-sigmoid"), "cpu", "sample", 64, 64, 3, 3)
    )
    for report in _reports("deep-sigmoid")[2]:
        tab.on_training_event(report)
    panel = tab.training_panel
    tab.panels.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: bool(panel.curves) and not panel._dirty, timeout=5000)
    # Tiny gradients (1e-7..1e-5) and many steps: where pyqtgraph would rescale the ticks
    # and append "(×1e-06)" / "(×1000)" to the titles.
    panel.plot.setYRange(-7, -5, padding=0)
    panel.plot.setXRange(0, 20_000, padding=0)
    qtbot.wait(50)
    for name in ("left", "bottom"):
        label = panel.plot.getPlotItem().getAxis(name).labelString()
        assert "×" not in label and "(x" not in label, label
    assert "gradient norm (log scale)" in panel.plot.getPlotItem().getAxis("left").labelString()


def test_hovering_the_map_says_which_digit_in_words(tab):
    panel = tab.map_panel
    tip = panel.scatter.opts["tip"](x=-3.73, y=-2.6, data=3)
    assert tip == panel.describe_digit(3)
    assert tip.startswith("Test digit 3: a ") and "data=" not in tip and "x:" not in tip
