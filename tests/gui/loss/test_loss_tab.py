"""Loss playground: edit cells and see results and errors update (pytest-qt, offscreen)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from core.losses import PAIRS, PRESETS, SEED_EXAMPLES, compare
from gui import theme
from gui.loss.loss_tab import LossPlaygroundTab
from gui.loss.loss_widgets import ROW_HEIGHT
from gui.loss.split import GROW_MARGIN, PLOT_MIN_HEIGHT


@pytest.fixture
def tab(qtbot):
    widget = LossPlaygroundTab()
    qtbot.addWidget(widget)
    widget.resize(1280, 740)
    widget.show()
    yield widget
    widget.shutdown()


def shown(label) -> str:
    """A label's text as read, without the zero-width spaces that let it wrap."""
    return label.text().replace("\u200b", "")


def values(tab):
    return tab.fused_card.value.text(), tab.composed_card.value.text()


def test_starts_on_the_seed_example_with_the_seed_figures(tab):
    assert tab.pair_name == "ce-nll"
    assert values(tab) == ("1.6802", "1.6802")
    assert tab.verdict_label.text().startswith("agree")
    assert shown(tab.fused_card.grad_fn) == "NllLossBackward0"
    assert shown(tab.composed_card.grad_fn) == "NllLossBackward0"
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
    tab.prediction_grid.set_text(1, 2, repr(SEED_EXAMPLES["ce-nll"][0][1][2]))
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
    assert shown(tab.composed_card.grad_fn) == "BinaryCrossEntropyBackward0"
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
    assert tab.pair_name == "nll-on-logits" and values(tab) == ("1.6802", "-0.4268")
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
    assert tab.composed_card.value.text() == "-0.4268"


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


def test_probability_targets_get_more_room_for_the_inputs(main_window, qtbot):
    main_window.resize(1280, 800)
    main_window.show()
    tab = main_window.loss_tab
    tab.set_pair("ce-nll")
    top, bottom = tab.splitter.sizes()

    def ratio() -> float:
        upper, lower = tab.splitter.sizes()
        return upper / lower

    tab.set_pair("ce-soft")  # the split is refitted once Qt has laid out the new grids
    qtbot.waitUntil(lambda: ratio() > top / bottom, timeout=3000)
    soft = ratio()
    tab.set_pair("ce-nll")
    qtbot.waitUntil(lambda: ratio() < soft, timeout=3000)
    # back to the class-target split, give or take the margin a wrapped label may add
    assert abs(tab.splitter.sizes()[0] - top) <= GROW_MARGIN


# ------------------------------------------------------------------ seed, hints, overflow
def test_seed_example_shows_the_notebooks_printed_tensors(tab, qtbot):
    tab.randomize()
    qtbot.mouseClick(tab.seed_button, Qt.MouseButton.LeftButton)
    assert tab.prediction_grid.read() == SEED_EXAMPLES["ce-nll"][0]
    assert tab.target_grid.read() == [0, 1, 4]
    assert "reconstructed" not in tab.lesson_label.text() + tab.seed_button.toolTip()
    assert "printed" in tab.lesson_label.text()


def test_hint_comes_from_the_pair(tab):
    for name in ("ce-nll", "bce-logits", "ce-naive"):
        tab.set_pair(name)
        assert tab.hint_label.text() == PAIRS[name].hint


def test_a_cell_too_large_for_float32_is_marked_and_float64_takes_it(tab):
    tab.prediction_grid.set_text(0, 0, "1e39")
    assert "1e39, which does not fit in float32 (largest 3.4e38): use float64" in (
        tab.error_label.text()
    )
    assert (0, 0) in tab.prediction_grid.marked_cells()
    tab.dtype_combo.setCurrentText("float64")
    assert tab.error_label.text() == "" and tab.comparison.options.dtype == "float64"


def test_a_weight_too_large_for_float32_marks_the_weight_field(tab):
    tab.weight_edit.setText("1e39, 1, 1, 1, 1")
    assert "weight[0] is 1e39" in tab.error_label.text()
    assert theme.ERROR_BG in tab.weight_edit.styleSheet()


def test_naive_overflow_is_named_in_the_verdict_never_rounding(tab, qtbot):
    tab.load_preset("Large logits: naive softmax overflows")
    assert tab.verdict_label.text().startswith("differ")
    assert tab.expect_label.text() == "not finite: exp(x) overflowed (float32)"
    assert "rounding" not in tab.expect_label.text()
    assert "Not finite: in NLLLoss(log(exp(x)" in tab.notes_label.text()
    qtbot.waitUntil(lambda: tab.plot.sweep is not None and tab.plot.sweep.pair == "ce-naive")
    assert tab.plot.breaks["float32"][0].isVisible()  # the break is drawn, not only told
    assert "not finite from s" in tab.plot_caption.text()


def test_bce_saturation_preset_explains_the_composed_gradient(tab):
    tab.load_preset("Large logits: Sigmoid+BCE saturates")
    cell = tab.composed_grad.item(1, 0)
    assert cell.text() == "-0.0234" and cell.font().italic()
    assert "below the 1e-12 BCELoss's backward divides by" in cell.toolTip()  # where it appears
    assert not tab.composed_grad.item(3, 0).font().italic()  # x = -18 is not saturated
    notes = tab.notes_label.text()
    assert tab.notes_label.isVisibleTo(tab)
    assert "x[1][0] = -30" in notes and "1e-12" in notes and "-0.0234 (exact: -0.2500)" in notes
    assert "−0.0234" in tab.lesson_label.text()
    tab.load_preset("Seed example: BCE")
    assert not tab.composed_grad.item(1, 0).font().italic()


def test_reduction_none_shows_the_whole_vector(tab):
    tab.reduction_combo.setCurrentText("none")
    shown = tab.fused_card.value.text()
    expected = [f"{v:.4f}" for v in tab.comparison.fused.value]
    assert shown == "[" + ", ".join(expected) + "]" and "…" not in shown


# ------------------------------------------------------------------ paste and copy
def test_pasting_a_json_tensor_reshapes_the_grids(tab):
    tab.prediction_grid.paste("[[0.1, 2.0], [0.3, 0.4]]")
    assert (tab.rows_spin.value(), tab.cols_spin.value()) == (2, 2)
    assert tab.comparison.prediction == [[0.1, 2.0], [0.3, 0.4]]
    assert tab.target_grid.rowCount() == 2 and tab.error_label.text() == ""
    tab.target_grid.paste("[1, 0]")
    assert tab.comparison.target == [1, 0]


def test_pasting_torch_printout_and_a_bad_paste(tab):
    tab.set_pair("bce-logits")
    tab.prediction_grid.paste("tensor([[0.1320],\n        [0.3074]], requires_grad=True)")
    assert tab.comparison.prediction == [[0.132], [0.3074]]
    before = tab.comparison
    tab.prediction_grid.paste("[[1, 2], [3]]")
    assert "ragged" in tab.error_label.text() and tab.comparison is before


def test_copy_puts_the_grid_on_the_clipboard_as_the_cli_reads_it(tab, qtbot):
    with qtbot.waitSignal(tab.statusMessage, timeout=2000) as blocker:
        text = tab.prediction_grid.copy()
    assert "prediction copied" in blocker.args[0]
    assert QGuiApplication.clipboard().text() == text
    assert json.loads(text) == SEED_EXAMPLES["ce-nll"][0]
    assert json.loads(tab.fused_grad.copy()) == tab.comparison.fused.grad


def test_copy_code_reports_through_the_status_signal(main_window):
    main_window.loss_tab.copy_code()
    assert "clipboard" in main_window.statusBar().currentMessage()


# ------------------------------------------------------------------ layout at two sizes
def _rows_all_visible(table) -> bool:
    header = table.horizontalHeader().height()
    return table.viewport().height() >= table.rowCount() * ROW_HEIGHT and header > 0


def test_first_launch_at_1280x800_shows_every_row_without_scroll_bars(main_window, qtbot):
    main_window.resize(1280, 800)
    main_window.show()
    qtbot.waitExposed(main_window)
    tab = main_window.loss_tab
    for table in (tab.prediction_grid, tab.target_grid, tab.intermediate_table, tab.fused_grad):
        assert _rows_all_visible(table), table
        assert not table.verticalScrollBar().isVisible()
        assert not table.horizontalScrollBar().isVisible()


def test_at_1024x700_gradient_grids_show_all_columns_and_titles_are_whole(main_window, qtbot):
    main_window.resize(1024, 700)
    main_window.show()
    qtbot.waitExposed(main_window)
    tab = main_window.loss_tab
    for pair in ("ce-nll", "ce-on-probs", "ce-naive"):
        tab.set_pair(pair)
        for table in (tab.fused_grad, tab.composed_grad):
            qtbot.waitUntil(lambda t=table: not t.horizontalScrollBar().isVisible(), timeout=2000)
            assert table.horizontalHeader().length() <= table.viewport().width()
            assert "…" not in table.item(0, 0).text()
        for card in (tab.fused_card, tab.composed_card):
            label = card.form
            qtbot.waitUntil(lambda lb=label: lb.height() >= lb.heightForWidth(lb.width()))


def test_ctrl_v_and_ctrl_c_on_a_grid(tab, qtbot):
    tab.activateWindow()
    grid = tab.prediction_grid
    grid.setFocus()
    QGuiApplication.clipboard().setText("[[1.0, 2.0, 3.0]]")
    qtbot.keyClick(grid, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert tab.comparison.prediction == [[1.0, 2.0, 3.0]] and tab.rows_spin.value() == 1
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert json.loads(QGuiApplication.clipboard().text()) == [[1.0, 2.0, 3.0]]


def test_context_menu_actions_copy_and_paste(tab):
    grid = tab.prediction_grid
    copy, paste = grid.actions()
    QGuiApplication.clipboard().setText("0.5\t1.5\n2.5\t3.5")  # cells from a spreadsheet
    paste.trigger()
    assert tab.comparison.prediction == [[0.5, 1.5], [2.5, 3.5]]
    QGuiApplication.clipboard().clear()
    copy.trigger()
    assert json.loads(QGuiApplication.clipboard().text()) == [[0.5, 1.5], [2.5, 3.5]]
    (copy_grad,) = tab.composed_grad.actions()
    copy_grad.trigger()
    assert json.loads(QGuiApplication.clipboard().text()) == tab.comparison.composed.grad


def test_long_grad_fn_names_wrap_instead_of_being_cut(main_window, qtbot):
    main_window.resize(1024, 700)
    main_window.show()
    tab = main_window.loss_tab
    tab.set_pair("bce-logits")
    label = tab.fused_card.grad_fn
    assert shown(label) == "BinaryCrossEntropyWithLogitsBackward0"
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    metrics = label.fontMetrics()
    widest = max(metrics.horizontalAdvance(part) for part in label.text().split("\u200b"))
    assert widest <= label.width()  # every unbreakable piece fits: wrapped, never clipped


# ------------------------------------------------------------------ the logit-scale slider
def _cells(table) -> list[str]:
    return [
        table.item(r, c).text() for r in range(table.rowCount()) for c in range(table.columnCount())
    ]


def test_the_slider_moves_the_cursor_and_both_cards_values_and_gradients(tab, qtbot):
    tab.load_preset("Seed example: BCE")
    x, t = SEED_EXAMPLES["bce-logits"]
    before = (values(tab), _cells(tab.fused_grad), _cells(tab.composed_grad))
    assert tab.state.scale == 1 and tab.plot.cursor_scale() == pytest.approx(1.0)
    with qtbot.waitSignal(tab.stateChanged, timeout=2000):
        tab.scale_slider.setValue(tab.scale_slider.maximum())
    assert tab.state.scale == pytest.approx(1000.0)
    assert all(line.value() == pytest.approx(3.0) for line in tab.plot.cursors)
    expected = compare("bce-logits", [[v * 1000 for v in row] for row in x], t)
    assert values(tab) == (
        f"{expected.fused.value:.4f}",
        f"{expected.composed.value:.4f}",
    )
    assert _cells(tab.fused_grad) != before[1] and _cells(tab.composed_grad) != before[2]
    assert tab.composed_grad.item(2, 0).text() == "0"  # BCELoss's clamp: no gradient at all
    assert tab.verdict_label.text().startswith("differ") and tab.state.parted
    assert "past the parting point" in tab.stability.note_label.text()
    assert tab.diff_label.text().startswith("at s = 1000: Δ value")
    tab.scale_slider.setValue(0)
    assert values(tab) == ("0.7907", "0.7907") and tab.plot.cursors[0].value() == 0.0


def test_dragging_the_plot_cursor_moves_the_slider(tab):
    tab.load_preset("Seed example: BCE")
    line = tab.plot.cursors[1]
    line.setValue(2.0)  # s = 100, as a drag leaves it
    line.sigDragged.emit(line)
    assert tab.state.scale == pytest.approx(100.0)
    assert tab.scale_slider.value() == 200
    assert tab.plot.cursors[0].value() == pytest.approx(2.0)  # both plots' cursors
    assert tab.scale_label.text() == "s = 100"


def test_the_slider_tooltip_teaches_where_the_forms_part(tab):
    tab.load_preset("Seed example: BCE")
    tip = tab.scale_slider.toolTip()
    assert "#33160" in tip and "−100" in tip and "16.7" in tip
    parting = tab.state.parting_scale
    assert parting is not None and f"s ≈ {parting:.3g}" in tip
    tab.set_scale(parting)
    assert tab.state.parted
    tab.set_pair("ce-nll")
    assert "never part" in tab.scale_slider.toolTip() and not tab.state.parted


def test_a_new_example_starts_at_s_1(tab):
    tab.set_scale(50)
    tab.load_seed_example()
    assert tab.state.scale == 1 and tab.scale_slider.value() == 0
    assert values(tab) == ("1.6802", "1.6802")


def test_copied_code_reproduces_the_cards_at_the_slider_scale(tab):
    tab.load_preset("Seed example: BCE")
    tab.set_scale(40)
    namespace: dict = {}
    exec(compile(tab.copy_code(), "<clipboard>", "exec"), namespace)  # the snippet we generated
    assert namespace["composed"].item() == pytest.approx(tab.state.composed_value)


# ------------------------------------------------------------------ words follow the state
def test_the_seed_caption_goes_as_soon_as_an_edit_changes_the_value(tab):
    assert "1.6802 for both forms" in tab.lesson_label.text()
    assert tab.lesson_label.isVisibleTo(tab)
    tab.prediction_grid.set_text(0, 0, "2.0")
    assert tab.fused_card.value.text() != "1.6802"
    assert tab.lesson_label.text() == "" and not tab.lesson_label.isVisibleTo(tab)
    tab.prediction_grid.set_text(0, 0, "0.4499")  # the seed's own value again: true again
    assert "1.6802 for both forms" in tab.lesson_label.text()
    tab.reduction_combo.setCurrentText("sum")
    assert tab.lesson_label.text().startswith("With the preset's reduction mean:")
    tab.randomize()
    assert tab.lesson_label.text() == ""


def test_agree_says_its_tolerance_and_identical_says_so(tab):
    assert tab.diff_label.text() == "Δ value 0, Δ grad 0: identical"
    tab.load_preset("Harmless: CE after LogSoftmax")
    assert tab.verdict_label.text().startswith("agree")
    assert tab.comparison.grad_diff > 0
    assert tab.diff_label.text().endswith("within 1e-5 + 1e-4·|v|")
    tab.set_pair("nll-on-logits")
    assert tab.diff_label.text().endswith("beyond 1e-5 + 1e-4·|v|")


def test_facts_for_the_lessons(tab, qtbot):
    state = tab.state
    assert (state.pair, state.verdict, state.scale) == ("ce-nll", "agree", 1.0)
    assert state.inputs_are_seed and not state.parted
    assert state.fused_value == pytest.approx(1.6802, abs=5e-5)
    with qtbot.waitSignal(tab.stateChanged, timeout=2000):
        tab.prediction_grid.set_text(0, 0, "5")
    assert not state.inputs_are_seed
    with qtbot.waitSignal(tab.stateChanged, timeout=2000):
        tab.set_pair("nll-on-logits")
    assert state.pair == "nll-on-logits" and state.verdict == "differ"
    with qtbot.waitSignal(tab.stateChanged, timeout=2000):
        tab.prediction_grid.set_text(0, 0, "x")
    assert state.error is not None and state.verdict == "differ"  # the last valid result


@pytest.mark.parametrize(
    "title", ["Large logits: Sigmoid+BCE saturates", "Soft targets (label mixing)"]
)
def test_at_1024x700_long_notes_scroll_the_inputs_and_never_cut_a_table(main_window, qtbot, title):
    """Issue 22: a small window scrolls the upper part; every table keeps all its rows."""
    main_window.resize(1024, 700)
    main_window.show()
    qtbot.waitExposed(main_window)
    tab = main_window.loss_tab
    tab.load_preset(title)
    tables = (tab.prediction_grid, tab.target_grid, tab.intermediate_table)
    tables += (tab.fused_grad, tab.composed_grad)

    def whole() -> bool:
        return all(_rows_all_visible(t) and not t.verticalScrollBar().isVisible() for t in tables)

    qtbot.waitUntil(whole, timeout=3000)
    assert tab.stability.height() >= PLOT_MIN_HEIGHT - 1  # the plot keeps its room


def test_the_split_stays_while_sliding_so_the_slider_does_not_move(main_window, qtbot):
    main_window.resize(1280, 800)
    main_window.show()
    qtbot.waitExposed(main_window)
    tab = main_window.loss_tab
    tab.load_preset("Seed example: BCE")
    qtbot.wait(50)
    sizes = tab.splitter.sizes()
    for position in range(0, tab.scale_slider.maximum() + 1, 25):  # notes appear past s ≈ 26
        tab.scale_slider.setValue(position)
        qtbot.wait(5)
    assert tab.notes_label.isVisibleTo(tab) and tab.splitter.sizes() == sizes


def test_a_large_grid_follows_the_slider_cards_at_once_gradients_soon_after(tab, qtbot):
    from core.losses import random_example

    tab.set_pair("bce-logits")
    tab.set_example(*random_example("bce-logits", 64, 20, 3, normal=True, scale=3.0))
    tab.scale_slider.setValue(250)  # a drag step: s = 316
    result = tab.comparison
    assert tab.fused_card.value.text() == f"{result.fused.value:.4f}"  # at once
    qtbot.waitUntil(lambda: tab.composed_grad.values is result.composed.grad, timeout=3000)
    assert tab.fused_grad.values is result.fused.grad
    assert (
        tab.intermediate_table.values == result.intermediates[tab.intermediate_combo.currentText()]
    )
