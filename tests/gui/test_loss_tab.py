"""Loss playground: edit cells and see results and errors update (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from core.losses import PAIRS, PRESETS, SEED_EXAMPLES, compare
from gui.loss_tab import LossPlaygroundTab


@pytest.fixture
def tab(qtbot):
    widget = LossPlaygroundTab()
    qtbot.addWidget(widget)
    widget.resize(1280, 740)
    widget.show()
    yield widget
    widget.shutdown()


def values(tab):
    return tab.fused_card.value.text(), tab.composed_card.value.text()


def test_starts_on_the_seed_example_with_the_seed_figures(tab):
    assert tab.pair_name == "ce-nll"
    assert values(tab) == ("1.6802", "1.6802")
    assert tab.verdict_label.text().startswith("agree")
    assert tab.fused_card.grad_fn.text() == "NllLossBackward0"
    assert tab.composed_card.grad_fn.text() == "NllLossBackward0"
    assert tab.prediction_grid.rowCount() == 3 and tab.prediction_grid.columnCount() == 5


def test_editing_a_cell_recomputes_live(tab):
    tab.prediction_grid.set_text(0, 4, "3.5")
    x, y = SEED_EXAMPLES["ce-nll"]
    x = [row[:] for row in x]
    x[0][4] = 3.5
    expected = F.cross_entropy(torch.tensor(x), torch.tensor(y)).item()
    assert tab.fused_card.value.text() == f"{expected:.4f}"
    assert tab.comparison.prediction[0][4] == 3.5
    assert tab.fused_grad.item(0, 4).text() == f"{tab.comparison.fused.grad[0][4]:.4f}"


def test_results_follow_the_typing_before_enter(tab, qtbot):
    from PySide6.QtWidgets import QLineEdit

    grid = tab.prediction_grid
    grid.setCurrentCell(0, 4)
    grid.editItem(grid.item(0, 4))
    editor = grid.findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "3.5")  # no Enter yet
    assert grid.text_at(0, 4) == "3.5"
    assert tab.comparison.prediction[0][4] == 3.5
    assert tab.fused_card.value.text() != "1.6802"


def test_bad_cell_is_marked_and_last_valid_result_stays(tab):
    before = values(tab)
    tab.prediction_grid.set_text(1, 2, "abc")
    assert (1, 2) in tab.prediction_grid.marked_cells()
    assert "prediction[1][2]" in tab.error_label.text()
    assert "not a number" in tab.error_label.text()
    assert "not a number" in tab.prediction_grid.item(1, 2).toolTip()
    assert values(tab) == before  # the last valid result is still shown
    assert not tab.fused_card.isEnabled()  # ...greyed out as stale
    tab.prediction_grid.set_text(1, 2, "0.3935")
    assert tab.error_label.text() == ""
    assert not tab.prediction_grid.marked_cells()
    assert tab.fused_card.isEnabled() and values(tab) == before


@pytest.mark.parametrize(
    ("text", "words"),
    [("7", "out of range"), ("1.5", "whole number"), ("", "empty"), ("nan", "NaN")],
)
def test_bad_class_index_is_marked(tab, text, words):
    tab.target_grid.set_text(2, 0, text)
    assert (2, 0) in tab.target_grid.marked_cells()
    assert "target[2]" in tab.error_label.text() and words in tab.error_label.text()
    assert values(tab) == ("1.6802", "1.6802")


def test_switching_to_bce_loads_the_bce_seed(tab):
    tab.set_pair("bce-logits")
    assert values(tab) == ("0.7907", "0.7907")
    assert tab.cols_spin.value() == 1 and tab.cols_spin.minimum() == 1
    assert tab.composed_card.grad_fn.text() == "BinaryCrossEntropyBackward0"
    tab.target_grid.set_text(0, 0, "1.5")
    assert "between 0 and 1" in tab.error_label.text()
    assert (0, 0) in tab.target_grid.marked_cells()


def test_seed_example_button_for_each_kind(tab, qtbot):
    tab.set_pair("ce-manual")
    tab.randomize()
    qtbot.mouseClick(tab.seed_button, Qt.MouseButton.LeftButton)
    assert tab.pair_name == "ce-manual" and values(tab) == ("1.6802", "1.6802")
    tab.set_pair("nll-on-logits")
    qtbot.mouseClick(tab.seed_button, Qt.MouseButton.LeftButton)
    assert tab.pair_name == "nll-on-logits" and values(tab) == ("1.6802", "-0.4610")
    assert "does not give it" in tab.lesson_label.text()
    tab.set_pair("ce-soft")
    qtbot.mouseClick(tab.seed_button, Qt.MouseButton.LeftButton)
    assert values(tab) == ("1.6802", "1.6802")  # one-hot targets give the same loss
    tab.set_pair("bce-logits")
    tab.randomize(normal=True)
    qtbot.mouseClick(tab.seed_button, Qt.MouseButton.LeftButton)
    assert values(tab) == ("0.7907", "0.7907")


def test_random_uses_torch_rand_with_the_seed(tab, qtbot):
    tab.seed_spin.setValue(7)
    tab.rows_spin.setValue(4)
    tab.cols_spin.setValue(6)
    qtbot.mouseClick(tab.random_button, Qt.MouseButton.LeftButton)
    x = tab.comparison.prediction
    assert len(x) == 4 and len(x[0]) == 6
    expected = torch.rand((4, 6), generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    assert torch.allclose(torch.tensor(x, dtype=torch.float64), expected, atol=5e-5)
    assert tab.seed_spin.value() == 8
    assert tab.target_grid.rowCount() == 4


def test_shape_spins_resize_both_grids(tab):
    tab.rows_spin.setValue(6)
    tab.cols_spin.setValue(8)
    assert (tab.prediction_grid.rowCount(), tab.prediction_grid.columnCount()) == (6, 8)
    assert tab.target_grid.rowCount() == 6 and tab.error_label.text() == ""
    assert len(tab.comparison.fused.grad) == 6
    tab.cols_spin.setValue(3)  # class 4 and 3 are now out of range
    assert "out of range" in tab.error_label.text()


@pytest.mark.parametrize("title", list(PRESETS))
def test_every_preset_loads_and_says_whether_the_forms_agree(tab, title):
    tab.load_preset(title)
    preset = PRESETS[title]
    assert tab.pair_name == preset.pair and tab.error_label.text() == ""
    expected = compare(preset.pair, preset.prediction, preset.target)
    assert tab.comparison.agree == expected.agree
    assert tab.verdict_label.text().startswith("agree" if expected.agree else "differ")
    assert tab.lesson_label.text() == preset.lesson


def test_mistake_pair_differs(tab):
    tab.set_pair("nll-on-logits")
    assert tab.verdict_label.text().startswith("differ")
    assert "mistake" in tab.expect_label.text()
    assert tab.composed_card.value.text() == "-0.4610"


def test_options_update_and_unsupported_ones_are_said_plainly(tab):
    tab.smoothing_spin.setValue(0.1)
    assert tab.notes_label.isVisible()
    assert "cannot honour label_smoothing" in tab.notes_label.text()
    tab.weight_edit.setText("1, 2, x, 1, 1")
    assert "weight[2]" in tab.error_label.text()
    assert "background" in tab.weight_edit.styleSheet()
    tab.weight_edit.setText("1, 2, 3, 1, 1")
    assert tab.error_label.text() == "" and tab.comparison.options.weight == [1, 2, 3, 1, 1]
    tab.reduction_combo.setCurrentText("none")
    assert isinstance(tab.comparison.fused.value, list)
    assert tab.fused_card.value.text().startswith("[")
    tab.set_pair("bce-logits")
    assert not tab.smoothing_spin.isEnabled() and tab.pos_weight_edit.isEnabled()


def test_copy_as_pytorch_code_runs_and_gives_the_same_value(tab, qtbot):
    tab.load_preset("Large logits: Sigmoid+BCE saturates")
    qtbot.mouseClick(tab.copy_button, Qt.MouseButton.LeftButton)
    code = QGuiApplication.clipboard().text()
    assert "BCEWithLogitsLoss" in code
    namespace: dict = {}
    exec(compile(code, "<clipboard>", "exec"), namespace)  # the snippet we generated
    assert namespace["fused"].item() == pytest.approx(tab.comparison.fused.value)
    assert namespace["composed"].item() == pytest.approx(tab.comparison.composed.value)


def test_stability_plot_shows_the_saturation(tab, qtbot):
    tab.load_preset("Seed example: BCE")
    qtbot.waitUntil(
        lambda: tab.plot.sweep is not None and tab.plot.sweep.pair == "bce-logits", timeout=5000
    )
    sweep = tab.plot.sweep
    assert sweep.difference("float32")[0] < 1e-6 and sweep.difference("float32")[-1] > 100
    xs, ys = tab.plot.curves["composed float32"].getData()
    assert len(xs) == len(sweep.scales)
    assert "float32: the forms part" in tab.plot_caption.text()
    tab.set_pair("ce-nll")
    qtbot.waitUntil(lambda: tab.plot.sweep.pair == "ce-nll", timeout=5000)
    assert "float32: identical" in tab.plot_caption.text()


def test_teaching_tooltips(tab):
    assert "NllLossBackward0" in tab.fused_card.grad_fn_heading.toolTip()
    assert "log-sum-exp" in tab.fused_card.toolTip()
    for index in range(tab.pair_combo.count()):
        name = tab.pair_combo.itemData(index)
        if name:
            assert tab.pair_combo.itemData(index, Qt.ItemDataRole.ToolTipRole) == (
                PAIRS[name].explanation
            )


def test_keyboard_shortcut_for_random(tab, qtbot):
    tab.activateWindow()
    tab.prediction_grid.setFocus()
    seed = tab.seed_spin.value()
    qtbot.keyClick(tab.prediction_grid, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert tab.seed_spin.value() == seed + 1


def test_lives_in_the_main_window(main_window):
    main_window.resize(1280, 800)
    assert main_window.tabs.widget(0) is main_window.loss_tab
    assert main_window.loss_tab.fused_card.value.text() == "1.6802"


def test_probability_targets_get_more_room_for_the_inputs(main_window):
    main_window.resize(1280, 800)
    main_window.show()
    tab = main_window.loss_tab
    tab.set_pair("ce-nll")
    top, bottom = tab.splitter.sizes()
    tab.set_pair("ce-soft")
    soft_top, soft_bottom = tab.splitter.sizes()
    assert soft_top / soft_bottom > top / bottom
    tab.set_pair("ce-nll")
    back_top, back_bottom = tab.splitter.sizes()
    assert back_top / back_bottom < soft_top / soft_bottom
    assert abs(back_top / back_bottom - top / bottom) < 0.05
