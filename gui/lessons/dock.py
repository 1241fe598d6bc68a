"""The lessons dock: the panel beside the tabs, its facts, Ctrl+L, and where it is placed.

``install_lessons(window)`` is called once the tabs are built (``MainWindow._finish_install``):
it reads the catalog, attaches ``AppFacts`` to the tabs, adds the dock (hidden until asked for)
and the "Lessons" action (Ctrl+L) to the View and Help menus. Each change of the facts is matched
against the active lesson's current step on the window's thread (a few comparisons).

Where it goes: the tabs need about 1,000 px of width (the Training tab's settings column and
curves), so beside them the dock fits from about 1,270 px on. In a narrower window it opens as a
floating tool window over the window's right edge (it stays above the window, can be moved, and
docks again by double-clicking its title) instead of squeezing the tabs or pushing the window
past the screen. It starts hidden the first time: the first five minutes (F1) come first, and
one key opens the path; after that, whether it is open is remembered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget

from gui.lessons.facts import AppFacts
from gui.lessons.panel import LessonsPanel
from gui.lessons.setup import apply_setup
from gui.lessons.state import LessonsState

if TYPE_CHECKING:
    from core.lessons.session import CheckPassed
    from gui.main_window import MainWindow

DOCK_WIDTH = 260  # a step's text and two buttons; beside the tabs from 1,275 px of window
FLOAT_MARGIN = 8
VISIBLE_KEY = "lessons/visible"
ACTIVE_KEY = "lessons/active"


class LessonsDock(QDockWidget):
    """The dock of one main window: ``panel`` (the view), ``state``, ``facts``, ``action``."""

    def __init__(self, window: MainWindow, state: LessonsState | None = None) -> None:
        super().__init__("Lessons", window)
        self.window_ = window
        self.setObjectName("lessonsDock")  # saveState/restoreState key
        self.setAllowedAreas(
            Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.state = state if state is not None else LessonsState()
        self.facts = AppFacts(self)
        self.panel = LessonsPanel(self.state, self)
        self.panel.setMinimumWidth(DOCK_WIDTH - 20)
        self.setWidget(self.panel)
        self.panel.startRequested.connect(self.start)
        self.panel.resetRequested.connect(self.reset)
        self.panel.reloadRequested.connect(self.reload)
        self.action = QAction("&Lessons", self)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+L"))
        self.action.setToolTip("Guided experiments that check what you do (Ctrl+L)")
        self.action.triggered.connect(self.set_open)
        self.visibilityChanged.connect(self._visibility_changed)
        self.passed: list[CheckPassed] = []  # every check passed this session (tests, status)

    # ------------------------------------------------------------------ placing
    def set_open(self, on: bool) -> None:
        """Show the dock (beside the tabs when they keep their room, else floating) or hide it."""
        if not on:
            self.hide()
            return
        window = self.window_
        if window.dockWidgetArea(self) == Qt.DockWidgetArea.NoDockWidgetArea:
            window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self)
        if fits_beside(window):
            self.setFloating(False)
            self.show()
            window.resizeDocks([self], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        else:
            self.setFloating(True)
            self.resize(DOCK_WIDTH, max(300, window.height() - 120))
            frame = window.geometry()
            self.move(frame.right() - DOCK_WIDTH - FLOAT_MARGIN, frame.top() + 60)
        self.show()
        self.raise_()
        if self.isFloating():
            self.activateWindow()
        self.panel.take_focus()  # the keyboard follows Ctrl+L into the panel

    def _visibility_changed(self, visible: bool) -> None:
        self.action.setChecked(visible)
        if self.window_.isVisible():  # a closing window hides its docks: keep the choice
            QSettings().setValue(VISIBLE_KEY, visible)

    # ------------------------------------------------------------------ lessons
    def start(self, lesson_id: str) -> None:
        """Follow ``lesson_id``: set the lab up, forget earlier events, match from now on."""
        lesson = self.state.lesson(lesson_id)
        if lesson is None:
            return
        self.facts.forget_events()
        self.state.start(lesson)
        self.state.show(lesson.id)
        QSettings().setValue(ACTIVE_KEY, lesson_id)
        problem = apply_setup(self.window_, lesson.setup)
        self.panel.refresh(problem or "")
        self.observe()

    def reset(self, lesson_id: str) -> None:
        lesson = self.state.lesson(lesson_id)
        if lesson is None:
            return
        self.state.reset(lesson)
        if self.state.is_active(lesson):
            self.facts.forget_events()
        self.panel.refresh("Every check is open again.")

    def reload(self) -> None:
        self.state.reload()
        self.panel.refresh()

    def observe(self) -> None:
        """Match the facts against the active lesson; redraw and say what passed."""
        passed = self.state.observe(self.facts.facts)
        if not passed and not self.state.save_problem:
            return
        self.passed.extend(passed)
        self.panel.refresh()
        if passed:
            last = passed[-1]
            lesson = self.state.active.lesson if self.state.active else None
            title = lesson.title if lesson else "lesson"
            if last.lesson_done:
                text = f"Lesson “{title}” done: every check passed. Read why in the Lessons panel."
            elif last.step_done:
                text = f"Lesson “{title}”: step {last.step + 1} done. ✓ {last.check.description}"
            else:
                text = f"Lesson “{title}”: ✓ {last.check.description}"
            self.window_.statusBar().showMessage(text, 8000)
            if lesson is not None and self.state.shown is None:
                self.panel.show_lesson(lesson.id)  # a tick the learner can see

    def restore(self) -> None:
        """Last session's active lesson (its setup is not applied again) and visibility."""
        settings = QSettings()
        active = settings.value(ACTIVE_KEY, "")
        lesson = self.state.lesson(str(active)) if isinstance(active, str) and active else None
        if lesson is not None:
            self.state.start(lesson)
            self.state.show(lesson.id)
            self.panel.refresh()
        if str(settings.value(VISIBLE_KEY, "false")).lower() == "true":
            self.set_open(True)


def fits_beside(window: MainWindow) -> bool:
    """Whether the dock fits beside the tabs without squeezing them or widening the window."""
    central: QWidget = window.centralWidget()
    needed = central.minimumSizeHint().width() + DOCK_WIDTH + 8
    screen = window.screen()
    room = screen.availableGeometry().width() if screen is not None else needed
    return window.width() >= needed and room >= needed


def install_lessons(window: MainWindow) -> LessonsDock:
    """The lessons dock for ``window`` (tabs built): facts attached, menus and Ctrl+L added."""
    dock = LessonsDock(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()
    dock.facts.attach(window)
    dock.facts.changed.connect(dock.observe)
    for menu_action in window.menuBar().actions():
        title = menu_action.text().replace("&", "")
        menu = menu_action.menu()
        if menu is None:
            continue
        if title == "View":
            menu.addSeparator()
            menu.addAction(dock.action)
        elif title == "Help":
            help_action = QAction("&Lessons…", dock)
            help_action.setToolTip("Open the lessons panel (Ctrl+L)")
            help_action.triggered.connect(lambda: dock.set_open(True))
            menu.insertAction(menu.actions()[0] if menu.actions() else None, help_action)
    window.lessons_dock = dock
    dock.restore()
    return dock
