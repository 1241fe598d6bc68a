"""The lessons panel itself: Ctrl+L, teachers' files, damaged files, hints, reset, and fit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QLabel

TEACHER_LESSON = """
title = "Find the Draw tab"
text = "A lesson a teacher wrote."
explanation = "You found it."

[setup]
tab = "loss"

[[steps]]
text = "Open the **Draw** tab."
hint = "Ctrl+3 opens it."

[[steps.checks]]
condition = 'app.tab == "draw"'
description = "The Draw tab is shown"

[[steps]]
text = "Now open Training."

[[steps.checks]]
condition = 'app.tab == "training"'
description = "The Training tab is shown"
"""


@pytest.fixture
def teacher_files(isolated_user_dirs):
    folder = isolated_user_dirs / "lessons"
    folder.mkdir()
    (folder / "find-draw.toml").write_text(TEACHER_LESSON, encoding="utf-8")
    (folder / "broken.toml").write_text('title = "Broken\n[[steps]]\n', encoding="utf-8")
    return folder


def _walk_problems(panel) -> list[str]:  # noqa: ANN001
    """Wrapped text cut short, or a horizontal scroll bar, anywhere in the panel."""
    problems = []
    for widget in panel.findChildren(QLabel):
        shown = widget.isVisible() and widget.wordWrap() and widget.text()
        if shown and widget.heightForWidth(widget.width()) > widget.height() + 1:
            problems.append(f"cut: {widget.text()[:40]!r}")
    for area in panel.findChildren(QAbstractScrollArea):
        if area.isVisible() and area.horizontalScrollBar().isVisible():
            problems.append(f"horizontal scroll bar in {type(area).__name__}")
    return problems


def test_ctrl_l_opens_and_closes_the_panel(qtbot, main_window):
    main_window.resize(1280, 800)
    main_window.show()
    qtbot.waitExposed(main_window)
    dock = main_window.lessons_dock
    assert not dock.isVisible()  # hidden until asked for
    view_actions = [
        a for m in main_window.menuBar().actions() if m.menu() for a in m.menu().actions()
    ]
    assert dock.action in view_actions and dock.action.shortcut().toString() == "Ctrl+L"
    for _ in range(2):  # open, then close
        was_open = dock.isVisible()
        main_window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is main_window)
        target = QApplication.focusWidget() or main_window
        qtbot.keyClick(target, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda was_open=was_open: dock.isVisible() != was_open)
        assert dock.action.isChecked() == dock.isVisible()
        if dock.isVisible():  # the keyboard went along: Enter opens the first lesson
            qtbot.waitUntil(lambda: QApplication.focusWidget() is dock.panel.lesson_list)
            qtbot.keyClick(dock.panel.lesson_list, Qt.Key.Key_Return)
            assert dock.panel.lesson is dock.state.lessons[0]
            dock.panel.show_lesson(None)


def test_a_teachers_lesson_is_listed_and_a_damaged_file_is_one_sentence(qtbot, teacher_files):
    from gui.main_window import MainWindow

    window = MainWindow()  # the app starts despite the damaged file
    qtbot.addWidget(window)
    dock = window.lessons_dock
    ids = [lesson.id for lesson in dock.state.lessons]
    assert "find-draw" in ids and "01-seed-losses" in ids and "broken" not in ids
    assert dock.state.lesson("find-draw").source == "yours"
    text = dock.panel.problems_label.text()
    assert text.count("\n") == 0 and text.startswith("⚠ broken.toml could not be used: line ")
    assert dock.panel.problems_label.isVisibleTo(dock.panel)
    (teacher_files / "broken.toml").unlink()  # the teacher mends it and adds another
    (teacher_files / "second.toml").write_text(TEACHER_LESSON, encoding="utf-8")
    qtbot.mouseClick(dock.panel.reload_button, Qt.MouseButton.LeftButton)
    assert "second" in [lesson.id for lesson in dock.state.lessons]
    assert not dock.panel.problems_label.isVisibleTo(dock.panel)
    window.close()


def test_checks_tick_the_hint_shows_and_reset_puts_progress_back(qtbot, teacher_files, player):
    window = player.window
    player.start("find-draw")
    assert window.tabs.currentWidget() is window.loss_tab  # the setup's tab
    box = player.panel.step_boxes[0]
    assert box.hint_button.isVisible() and not box.hint.isVisible()
    qtbot.mouseClick(box.hint_button, Qt.MouseButton.LeftButton)
    assert box.hint.isVisible() and "Ctrl+3" in box.hint.text()
    window.tabs.setCurrentWidget(window.training_tab)  # step 2 first: it does not count yet
    window.tabs.setCurrentWidget(window.draw_tab)
    player.wait_done(1)
    assert player.marks()[0].startswith("✓") and player.marks()[1].startswith("○")
    assert "step 1 done" in window.statusBar().currentMessage()
    window.tabs.setCurrentWidget(window.training_tab)
    player.wait_done(2)
    player.assert_all_done()
    assert "You found it." in player.panel.explanation_label.text()
    summary = player.panel.lesson_list.item(
        [lesson.id for lesson in player.dock.state.lessons].index("find-draw")
    ).text()
    assert summary.startswith("✓")
    qtbot.mouseClick(player.panel.reset_button, Qt.MouseButton.LeftButton)
    player.assert_none_done()
    assert '"find-draw"' not in player.dock.state.store.path.read_text()


@pytest.mark.parametrize("size", [(1024, 700), (1280, 800)])
def test_the_panel_fits_beside_every_tab(qtbot, main_window, size):
    main_window.resize(*size)
    main_window.show()
    qtbot.waitExposed(main_window)
    dock = main_window.lessons_dock
    dock.set_open(True)
    dock.start("04-too-big-a-step")  # step 1 done, step 2 with its hint open: the longest page
    lesson = dock.state.active.lesson
    for key in ("0.0", "0.1"):
        dock.state.store.mark_done(lesson, key)
    dock.panel.refresh()
    qtbot.mouseClick(dock.panel.step_boxes[1].hint_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert main_window.width() == size[0]  # the window was not widened past the screen
    central = main_window.centralWidget()
    assert central.width() >= central.minimumSizeHint().width()  # the tabs keep their room
    frame = main_window.frameGeometry()
    assert frame.contains(dock.frameGeometry()) or not dock.isFloating()
    screen = main_window.screen().availableGeometry().width()  # offscreen: 800 px
    assert dock.isFloating() == (min(size[0], screen) < 1275)
    for index in range(main_window.tabs.count()):
        main_window.tabs.setCurrentIndex(index)
        qtbot.wait(20)
        for page in (0, 1):
            dock.panel.pages.setCurrentIndex(page)
            qtbot.wait(20)
            assert _walk_problems(dock.panel) == [], (size, index, page)
