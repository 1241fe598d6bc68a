"""The "Inside the network" tab in the main window: it follows the Draw tab's digit."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt


def test_opening_the_tab_brings_the_draw_tabs_digit(qtbot, main_window):
    main_window.resize(1280, 800)
    main_window.show()
    qtbot.waitExposed(main_window)
    main_window.tabs.setCurrentWidget(main_window.draw_tab)
    canvas = main_window.draw_tab.canvas
    side = min(canvas.width(), canvas.height())
    left, top = (canvas.width() - side) // 2, (canvas.height() - side) // 2
    points = [QPoint(left + int(side * 0.5), top + int(side * y)) for y in (0.2, 0.4, 0.6, 0.8)]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(canvas, point)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])
    inside = main_window.inside_tab
    assert inside.canvas.is_blank()
    with qtbot.waitSignal(inside.digitInspected, timeout=10_000) as blocker:
        main_window.tabs.setCurrentWidget(inside)
    assert not inside.canvas.is_blank()
    assert inside.answer.text() == str(blocker.args[0].digit)
    # Coming back with the same drawing does not replace what was drawn here meanwhile.
    inside.canvas.clear()
    main_window.tabs.setCurrentWidget(main_window.draw_tab)
    main_window.tabs.setCurrentWidget(inside)
    assert inside.canvas.is_blank()
    qtbot.waitUntil(lambda: inside.reference is not None, timeout=60_000)


def test_the_training_tabs_runs_reach_the_inspectors_training_panel(main_window):
    from core.training.train_types import RunEnded, RunStarted, TrainConfig

    started = RunStarted(TrainConfig(model="mlp"), "cpu", "sample", 64, 64, 1, 1)
    main_window.training_tab.runStarted.emit(started)
    assert "MLP" in main_window.inside_tab.training_panel.status.text()
    main_window.training_tab.runEnded.emit(RunEnded("stopped", "stopped by the user"))
    assert "Run stopped" in main_window.inside_tab.training_panel.status.text()
