"""The Draw tab's Qt-free session: model, switches, the answer in words, one intra-op thread."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from core.data.datasets import IDX_DATASETS
from core.device import one_intra_op_thread
from core.storage.checkpoint import Checkpoint
from core.training.models import build_model
from gui.draw.state import (
    ACCENT,
    FAINT,
    NOTE,
    DrawSession,
    OfferedModel,
    pin_to_one_intra_op_thread,
)
from tests.helpers import ROOT


def checkpoint(name: str = "mlp", dataset: str = "unit-test data", seed: int = 0) -> Checkpoint:
    torch.manual_seed(seed)
    return Checkpoint.from_model(build_model(name), name, "nll", dataset=dataset)


def seven() -> np.ndarray:
    picture = np.full((280, 280), 255, np.uint8)
    picture[60:80, 80:200] = 0
    picture[80:230, 150:170] = 0
    return picture


@pytest.fixture
def session() -> DrawSession:
    session = DrawSession()
    session.use_checkpoint(checkpoint())
    return session


def test_importing_the_state_loads_no_qt():
    code = "import sys, gui.draw.state; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_blank_picture_says_nothing_drawn(session):
    answer = session.read(np.full((280, 280), 255, np.uint8))
    assert answer.prediction.is_empty
    assert (answer.words.digit, answer.words.tone, answer.words.verdict) == (
        "–",
        FAINT,
        "Nothing drawn",
    )
    opening = session.words(answer.prediction, 0.0, opening="x.png")
    assert opening.verdict == "Opening x.png…"


def test_a_drawing_gets_an_answer_in_words(session):
    answer = session.read(seven())
    prediction = answer.prediction
    assert not prediction.is_empty and answer.centred
    assert answer.words.digit == str(prediction.digit)
    assert answer.words.tone in (ACCENT, NOTE)
    assert "Next best" in answer.words.detail and "ms" in answer.words.detail
    assert set(answer.preprocessed.steps) >= {"crop", "fit20", "centred", "normalised"}


def test_the_centring_switch_and_a_dataset_that_fills_its_frame(session):
    session.centre_wanted = False
    assert not session.read(seven()).centred
    session.centre_wanted = True
    session.use_checkpoint(checkpoint(dataset="fashion-mnist"))
    assert not session.dataset_info.fit_like_mnist
    assert not session.centred  # Fashion-MNIST pictures are only resized
    answer = session.read(seven())
    assert "resized" in answer.preprocessed.steps


def test_named_classes_are_said_by_name():
    session = DrawSession()
    session.use_checkpoint(checkpoint(dataset="fashion-mnist"))
    prediction = session.read(seven()).prediction
    names = IDX_DATASETS["fashion-mnist"].class_names
    words = session.words(prediction, 1.0)
    assert names[prediction.runner_up] in words.detail
    if prediction.is_confident:
        assert words.verdict.startswith(names[prediction.digit])


def test_uncertain_answers_name_both_digits():
    model = build_model("mlp")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    session = DrawSession()
    session.use_checkpoint(Checkpoint.from_model(model, "mlp", "nll"))
    words = session.read(seven()).words
    assert words.tone == NOTE and words.verdict.startswith("Not sure:")


def test_calibration_switch_sets_the_temperature(session):
    session.classifier.checkpoint.temperature = 2.0
    session.set_calibrated(True)
    assert session.classifier.temperature == 2.0 and session.temperature == 2.0
    session.set_calibrated(False)
    assert session.classifier.temperature == 1.0
    session.use_checkpoint(session.classifier.checkpoint)
    assert session.classifier.temperature == 1.0  # the switch outlives a model change


def test_a_try_in_draw_digit_brings_its_label_and_offers_its_run(session):
    run = OfferedModel(checkpoint(seed=3), "Run #3")
    session.receive_digit(4, run)
    assert session.label_for_saving == 4
    assert "Run #3" in session.offer_text()
    words = session.read(seven()).words
    assert "Labelled 4 in the data set" in words.detail
    session.use_checkpoint(run.checkpoint, borrowed_as=run.name)
    assert session.offered is None  # accepted
    assert session.scored_by == "Run #3"
    assert "Scored by Run #3's model" in session.read(seven()).words.detail
    assert "Run #3" in session.model_html()
    session.forget_digit()
    assert session.label_for_saving is None and session.offer_text() == ""


def test_the_model_in_use_is_not_offered_again(session):
    session.receive_digit(2, OfferedModel(session.classifier.checkpoint, "Run #1"))
    assert session.offered is None and session.reference_label == 2


def test_an_untrained_model_says_its_answers_are_guesses():
    session = DrawSession()
    session.use_random_model()
    words = session.read(seven()).words
    assert session.model_is_random and "random guess" in words.detail


def test_saliency_needs_ink(session):
    assert session.saliency(session.read(np.full((280, 280), 255, np.uint8)).preprocessed) is None
    heat, peak = session.saliency(session.read(seven()).preprocessed)
    assert heat.shape == (28, 28) and peak > 0


def test_pinning_gives_this_thread_one_intra_op_thread_and_others_the_default():
    """Run in a fresh process: pinning changes the calling thread for good."""
    code = (
        "import threading, torch\n"
        "torch.set_num_threads(2)\n"
        "from gui.draw.state import pin_to_one_intra_op_thread\n"
        "mine = pin_to_one_intra_op_thread()\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append(torch.get_num_threads())); t.start(); t.join()\n"
        "print(mine, torch.get_num_threads(), seen[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1", "2"]


def test_one_thread_for_a_block_then_back():
    before = torch.get_num_threads()
    with one_intra_op_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert pin_to_one_intra_op_thread() >= 1
