"""The lessons tests' window and player: the real main window, the lessons dock open, and the
moves a learner makes (start a lesson, press Start in Training, draw on the canvas)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

RUN_TIMEOUT_MS = 90_000


class LessonPlayer:
    """Drives the window as a learner would and reads the lesson's progress off the panel."""

    def __init__(self, qtbot, window) -> None:  # noqa: ANN001
        self.qtbot = qtbot
        self.window = window
        self.dock = window.lessons_dock
        self.panel = self.dock.panel

    # ------------------------------------------------------------------ lessons
    def start(self, lesson_id: str) -> None:
        """Open the lesson from the list (a click) and press Start; nothing may be done yet."""
        panel = self.panel
        items = [panel.lesson_list.item(i) for i in range(panel.lesson_list.count())]
        item = next(i for i in items if i.data(Qt.ItemDataRole.UserRole) == lesson_id)
        panel.lesson_list.scrollToItem(item)
        rect = panel.lesson_list.visualItemRect(item)
        self.qtbot.mouseClick(
            panel.lesson_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
        )
        assert panel.state.shown is not None and panel.state.shown.id == lesson_id
        self.qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        assert self.dock.state.is_active(panel.state.shown)
        self.assert_none_done()

    @property
    def lesson(self):  # noqa: ANN201
        return self.dock.state.active.lesson

    def marks(self) -> list[str]:
        """Each check's label on the panel, in order (the words the learner reads)."""
        return [label.text() for box in self.panel.step_boxes for label in box.check_labels]

    def done(self) -> set[str]:
        return set(self.dock.state.store.get(self.lesson).done)

    def assert_none_done(self) -> None:
        assert self.done() == set()
        assert all(text.startswith("○") and text.endswith("(open)") for text in self.marks())
        assert not self.panel.explanation_label.isVisible()

    def assert_all_done(self) -> None:
        self.panel.show_lesson(self.lesson.id)
        assert self.done() == set(self.lesson.check_keys()), self.dock.facts.facts
        assert all(text.startswith("✓") and text.endswith("(done)") for text in self.marks())
        assert self.panel.explanation_label.isVisible()
        assert self.dock.state.store.path.exists()  # kept in the data folder

    def wait_done(self, count: int, timeout: int = 30_000) -> None:
        """Wait until ``count`` checks of the lesson are done (facts arrive through signals)."""
        self.qtbot.waitUntil(lambda: len(self.done()) >= count, timeout=timeout)

    # ------------------------------------------------------------------ training
    def train(self) -> object:
        """Press the Training tab's Start and wait for its run to end; the RunEnded."""
        tab = self.window.training_tab
        with self.qtbot.waitSignal(tab.runEnded, timeout=RUN_TIMEOUT_MS) as ended:
            self.qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
        self.qtbot.waitUntil(lambda: not tab.is_running, timeout=RUN_TIMEOUT_MS)
        return ended.args[0]

    def show_tab(self, attribute: str) -> None:
        self.window.tabs.setCurrentWidget(getattr(self.window, attribute))

    # ------------------------------------------------------------------ drawing
    def draw(self, canvas, points: list[tuple[float, float]]) -> None:  # noqa: ANN001
        """Drag the mouse through ``points`` (0..1 of the canvas square)."""
        side = min(canvas.width(), canvas.height())
        left, top = (canvas.width() - side) // 2, (canvas.height() - side) // 2
        pixels = [QPoint(left + int(x * side), top + int(y * side)) for x, y in points]
        self.qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pixels[0])
        for point in pixels[1:]:
            self.qtbot.mouseMove(canvas, point)
        self.qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pixels[-1])


@pytest.fixture
def player(qtbot, main_window):
    """The main window at 1280x800 with the lessons dock open, and a player for it."""
    main_window.resize(1280, 800)
    main_window.show()
    qtbot.waitExposed(main_window)
    main_window.training_tab.device_combo.setCurrentIndex(
        main_window.training_tab.device_combo.findData("cpu")
    )
    main_window.lessons_dock.set_open(True)
    yield LessonPlayer(qtbot, main_window)
    main_window.training_tab.shutdown()
