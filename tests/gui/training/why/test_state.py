"""The why-training states without Qt: captions follow the result, jobs run headless."""

from __future__ import annotations

from core.data.mnist import load_sample
from core.training.landscape import LINE_READING
from core.training.train_types import TrainConfig
from core.training.trainer import Trainer
from gui.training.why.state import LandscapeSource, LandscapeState, LrFinderState, lr_text


def test_landscape_state_runs_its_job_and_says_what_it_found():
    data = load_sample()
    result = Trainer(TrainConfig(epochs=1, report_every=50), data=data, finalize=None).run().result
    state = LandscapeState()
    state.set_source(LandscapeSource.from_run(result, "run 7", data))
    assert "run 7" in state.status and not state.has_path
    assert state.line_caption() == LINE_READING
    state.settings.grid, state.settings.samples = 5, 200
    outcome = state.job()(lambda done, total: None, lambda: False)
    state.finish(outcome)
    assert "Lowest training loss at alpha" in state.line_caption()
    assert "random filter-normalised" in state.slice_caption()
    assert state.heat().shape == (5, 5)
    assert "seed 1" in state.status


def test_lr_finder_state_compares_with_the_setting():
    state = LrFinderState(config=TrainConfig(lr=0.01))
    state.fail("the learning-rate finder was cancelled")
    assert state.status == "The learning-rate finder was cancelled." and not state.busy
    assert lr_text(0.01) == "0.01" and lr_text(3e-4) == "3.0e-4"
