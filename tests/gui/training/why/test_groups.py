"""Repeat groups in the run list (issue 26): a row each with its accuracy as mean ± sd, ticked to
overlay its band on the Repeats page, kept across a restart with the runs' lr marks."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.training.repeats import RepeatResult, SeedRun
from core.training.run_history import BatchBlock, RunHistory
from core.training.run_store import runs_file, save_runs
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    LrChanged,
    RunEnded,
    RunStarted,
    TrainConfig,
)
from gui.app_state import AppState


def _group(lr: float, accuracies: list[float]) -> RepeatResult:
    runs = [
        SeedRun(
            seed=i + 1,
            steps=list(range(1, 41)),
            losses=[2.0 / (s + i) + lr for s in range(1, 41)],
            epoch_accuracy=[a],
            final_accuracy=a,
            status="finished",
        )
        for i, a in enumerate(accuracies)
    ]
    return RepeatResult(f"mlp sgd lr {lr:g}", TrainConfig(lr=lr, dataset="sample"), runs)


def _finished_run(history: RunHistory, lr_change_at: int | None = None) -> None:
    config = TrainConfig(epochs=1, dataset="sample")
    history.start_run(RunStarted(config, "cpu", "bundled sample", 640, 100, 20, 20))
    block = BatchBlock()
    for step in range(1, 21):
        block.add(BatchEvent(1, step, 20, 2.3 / step, 1000.0, 0.01 * step))
    history.add_batches(block)
    if lr_change_at is not None:
        history.add_lr_change(LrChanged(lr_change_at, 0.002, 0.01))
    history.add_epoch(EpochEvent(1, 1, 0.3, 0.25, 0.9, 1.5))
    history.end_run(RunEnded("finished"))


def test_a_group_row_says_mean_and_sd_and_ticking_it_asks_for_its_band(qtbot):
    from gui.training.run_list import RunListView

    history = RunHistory()
    _finished_run(history)
    history.add_group(_group(0.01, [0.90, 0.92, 0.94]))
    view = RunListView(history)
    qtbot.addWidget(view)
    view.rebuild()
    table = view.table
    assert table.rowCount() == 2
    assert table.item(1, 0).text() == "R1 \u00d73"
    assert table.item(1, 7).text() == "92.00% \u00b1 2.00%"
    assert (
        "seeds 1\u20133" in table.item(1, 5).text() and table.item(1, 6).text() == "3 of 3 finished"
    )
    with qtbot.waitSignal(view.groupVisibilityChanged) as blocker:
        table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    assert blocker.args == [history.groups[0], False] and not history.groups[0].visible
    # a new run's row goes above the groups; the run rows still map to the runs
    _finished_run(history)
    view.add_row(history.runs[-1])
    assert table.rowCount() == 3 and table.item(1, 0).text() == "#2"
    assert table.item(2, 0).text() == "R1 \u00d73"
    table.selectRow(2)
    assert view.selected_run() is None and view.selected_group() is history.groups[0]
    with qtbot.waitSignal(view.groupActivated):
        table.cellDoubleClicked.emit(2, 3)


def test_groups_and_lr_marks_come_back_after_a_restart_and_the_list_chooses_the_overlay(qtbot):
    from gui.training.training_tab import TrainingTab

    history = RunHistory()
    _finished_run(history, lr_change_at=12)
    for lr, accuracies in ((0.01, [0.90, 0.91]), (0.05, [0.93, 0.95]), (0.1, [0.6, 0.7])):
        history.add_group(_group(lr, accuracies))
    save_runs(history.runs, runs_file(), history.groups)
    state = AppState()
    state.load_startup_model()
    tab = TrainingTab(state)
    qtbot.addWidget(tab)
    run_list, repeats = tab.plots.run_list, tab.why.repeats
    qtbot.waitUntil(lambda: len(repeats._items) == 8)  # drawn once the saved list is read
    assert run_list.table.rowCount() == 4
    (run,) = tab.plots.runs
    assert run.lr_changes == [LrChanged(12, 0.002, 0.01)]
    assert any(key.startswith("lr-") for key in tab.plots.curves_of(run))  # its mark is drawn
    assert run_list.table.item(3, 7).text() == "65.00% \u00b1 7.07%"
    # no restored run has weights: the Landscape page offers the model in use
    assert tab.why.landscape.state.source.title.startswith("The model in use")
    assert [g.number for g in repeats.state.results] == [2, 3]  # the newest two overlay
    assert len(repeats._items) == 8 and "bigger than the noise" in repeats.summary.text()
    run_list.table.item(1, 0).setCheckState(Qt.CheckState.Checked)  # R1 too: three bands
    assert len(repeats._items) == 12 and "R1" in repeats.summary.text()
    for row in (1, 2, 3):
        run_list.table.item(row, 0).setCheckState(Qt.CheckState.Unchecked)
    assert repeats._items == [] and "Tick a repeat group" in repeats.summary.text()
    run_list.groupActivated.emit(history.groups[0])
    assert tab.views.currentWidget() is repeats
    tab.plots.clear_button.click()  # Clear old runs forgets the groups on both sides
    assert run_list.table.rowCount() == 0 and tab.run_state.history.groups == []
    assert repeats._items == [] and not repeats.clear_button.isEnabled()
    assert tab.exports.wait()
    tab.shutdown()


def test_export_as_script_keeps_alt_s_and_answers_ctrl_shift_e(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence

    from gui.training.run_list import RunListView

    view = RunListView(RunHistory())
    qtbot.addWidget(view)
    view.show()
    view.activateWindow()  # a window's shortcuts answer while it is the active one
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.wait(50)
    # the underlined s is the button's own key (a setShortcut would have replaced it)
    assert view.script_button.shortcut() == QKeySequence("Alt+S")
    with qtbot.waitSignal(view.scriptRequested, timeout=2000):
        qtbot.keyClick(
            view.table,
            Qt.Key.Key_E,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
