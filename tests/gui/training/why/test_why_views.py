"""The "why training" views: each computes in a worker with progress, shows its result and its
reading, can be cancelled, and hands the tab what it needs (a learning rate)."""

from __future__ import annotations

import pytest

from core.data.mnist import MnistData, load_sample
from core.training.train_types import TrainConfig
from core.training.trainer import Trainer


@pytest.fixture(scope="module")
def small() -> MnistData:
    sample = load_sample()
    return MnistData(
        "sample",
        "slice",
        sample.train_images[:1200],
        sample.train_labels[:1200],
        sample.test_images[:300],
        sample.test_labels[:300],
    )


@pytest.fixture(scope="module")
def run_with_path(small):
    config = TrainConfig(epochs=2, holdout=0.0, report_every=20)
    return Trainer(config, data=small, finalize=None, path_every=5).run().result


def test_landscape_view_draws_the_line_the_slice_and_the_path(qtbot, small, run_with_path):
    from gui.training.why.landscape_view import LandscapeView

    view = LandscapeView()
    qtbot.addWidget(view)
    assert not view.compute_button.isEnabled()
    view.set_run(run_with_path, "run 1", small)
    assert view.compute_button.isEnabled() and view.path_box.isEnabled()
    view.grid_box.setValue(5)
    view.compute()
    assert view.state.busy and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not view.state.busy, timeout=60_000)
    result = view.state.result
    assert result is not None and result.path is not None, view.state.status
    assert view.image.image.shape == (5, 5)
    assert len(view.path_curve.getData()[0]) == len(run_with_path.trajectory_steps)
    assert len(view.train_curve.getData()[0]) == len(result.line)
    assert "path" in view.slice_caption.text() and "How to read it" in view.line_caption.text()
    assert "run's recorded initial weights" in view.status.text()


def test_landscape_view_cancels(qtbot, small, run_with_path):
    from gui.training.why.landscape_view import LandscapeView

    view = LandscapeView()
    qtbot.addWidget(view)
    view.set_run(run_with_path, "run 1", small)
    view.path_box.setChecked(False)
    view.grid_box.setValue(41)
    view.compute()
    view.cancel()
    qtbot.waitUntil(lambda: not view.state.busy, timeout=60_000)
    assert view.state.result is None and "cancelled" in view.status.text()
    assert view.compute_button.isEnabled()
    assert view.shutdown()


def test_lr_finder_view_suggests_and_hands_over_the_rate(qtbot, small):
    from gui.training.why.lr_finder_view import LrFinderView

    view = LrFinderView(settings=lambda: TrainConfig(holdout=0.0))
    qtbot.addWidget(view)
    view.state.data = lambda: small
    assert not view.use_button.isEnabled()
    view.find()
    qtbot.waitUntil(lambda: not view.state.busy, timeout=60_000)
    result = view.state.result
    assert result is not None, view.state.status
    assert view.suggestion.isVisible() and "Suggested learning rate" in view.status.text()
    with qtbot.waitSignal(view.useLearningRate) as blocker:
        view.use_button.click()
    assert blocker.args == [pytest.approx(result.suggested_lr)]


def test_lr_control_asks_for_a_new_rate_only_while_running(qtbot):
    from gui.training.why.lr_control import LrControl

    control = LrControl()
    qtbot.addWidget(control)
    assert not control.apply.isEnabled()
    control.set_running(True, 0.01)
    control.double.click()
    with qtbot.waitSignal(control.lrRequested) as blocker:
        control.apply.click()
    assert blocker.args == [pytest.approx(0.02)]
    control.changed(0.02, 99)
    assert "step 100" in control.note.text()


def test_repeats_view_overlays_two_configurations(qtbot, small):
    from gui.training.why.repeats_view import RepeatsView

    view = RepeatsView(settings=lambda: TrainConfig(epochs=1, holdout=0.0, report_every=5))
    qtbot.addWidget(view)
    view.state.data = lambda: small
    view.count.setValue(2)
    view.start()
    qtbot.waitUntil(lambda: not view.state.busy, timeout=120_000)
    view.start(TrainConfig(epochs=1, holdout=0.0, report_every=5, lr=0.05))
    qtbot.waitUntil(lambda: not view.state.busy, timeout=120_000)
    assert len(view.state.results) == 2, view.summary.text()
    text = view.summary.text()
    assert "\u00b1" in text and "over 2 seeds" in text and "noise" in text
    assert len(view._items) == 8  # two bands: low, high, shade, mean each


def test_the_landscape_offers_the_model_in_use_until_a_run_of_this_session_ends(
    qtbot, small, run_with_path
):
    from gui.training.why.landscape_view import LandscapeView

    view = LandscapeView()
    qtbot.addWidget(view)
    view.name_of_model = lambda: "Bundled model"
    view.follow_model(None)
    assert view.state.source is None and not view.compute_button.isEnabled()
    view.follow_model(run_with_path.checkpoint)  # after a restart: no run has weights
    assert view.compute_button.isEnabled() and not view.path_box.isEnabled()
    assert "The model in use (Bundled model)" in view.status.text()
    view.set_run(run_with_path, "run 1", small)
    view.follow_model(run_with_path.checkpoint)  # a new model in use: the run stays
    assert view.state.source.title == "run 1" and view.path_box.isEnabled()
