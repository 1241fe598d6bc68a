"""The Draw tab names the classes of a model trained on another dataset (core.data.datasets)."""

from __future__ import annotations

import torch

from core.data.datasets import FASHION_MNIST
from core.data.mnist import load_sample
from core.storage.checkpoint import Checkpoint
from core.training.models import build_model
from gui.app_state import AppState
from gui.draw.draw_tab import DrawTab


def digits_model() -> Checkpoint:
    return Checkpoint.from_model(build_model("mlp", "nll"), "mlp", "nll", dataset="MNIST")


def test_a_fashion_mnist_model_names_its_answer_and_bars(qtbot):
    torch.manual_seed(0)
    fashion = Checkpoint.from_model(
        build_model("mlp", "nll"), "mlp", "nll", config={"dataset": "fashion-mnist"}, dataset="x"
    )
    state = AppState()
    state.set_current_model(fashion, persist=False)
    tab = DrawTab(state)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: not tab.ood_pending, timeout=120_000)
    assert tab.center_box.isChecked() and not tab.center_box.isEnabled() and not tab.session.centred
    ticks = tab.chart.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == list(FASHION_MNIST.short_names)
    tab.show_digit(load_sample().test_images[0].numpy())
    qtbot.waitUntil(lambda: tab.prediction is not None and not tab.prediction.is_empty)
    prediction = tab.prediction
    assert prediction.looks_like_digit  # a real test picture: the answer is shown, not "?"
    assert FASHION_MNIST.class_names[prediction.digit] in tab.verdict_label.text()
    runner = FASHION_MNIST.class_names[prediction.runner_up]
    assert f"Next best: {runner}" in tab.detail_label.text()
    resized = tab.classifier.preprocess(tab.canvas.render_array(), center=False)
    assert torch.equal(tab.preprocessed.tensor, resized.tensor)  # not MNIST-centred
    state.set_current_model(digits_model(), persist=False)
    assert tab.center_box.isEnabled() and tab.session.centred
    assert tab.shutdown()  # the new model's "is this a digit" fit ends before the test does


def test_the_about_box_credits_each_dataset(qapp):
    from types import SimpleNamespace

    from gui.main_window import MainWindow

    text = MainWindow.about_text(SimpleNamespace(device_description=lambda: "CPU", ready=True))
    assert "Xiao" in text and "MIT" in text and "arXiv:1708.07747" in text
    assert "Clanuwat" in text and "CC BY-SA 4.0" in text
