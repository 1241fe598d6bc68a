"""The lessons panel: the list of lessons with progress, and one lesson's steps and checks.

A thin view over ``gui.lessons.state.LessonsState``. Two pages in a narrow column (it lives in a
dock beside the tabs, about 260-320 px wide): the list (each lesson with a mark and "2 of 5
checks done"; damaged lesson files as one sentence each above it) and the lesson (goal, Start
and Reset, each step with its checks turning from ○ open to ✓ done, a Hint on request, the
explanation once every check is done). Every mark is a shape and a word, never a colour alone.
Text wraps; the lesson page scrolls; nothing needs a horizontal scroll bar.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.lessons.model import Lesson
from gui import theme
from gui.lessons.state import DONE, LessonsState, StepView

INTRO = (
    "Each lesson sets the lab up, asks for an experiment, and ticks each check when the app "
    "sees you do it. Then it explains why."
)


def _label(text: str = "", *, markdown: bool = False, colour: str | None = None) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.MarkdownText if markdown else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if colour is not None:
        label.setStyleSheet(theme.text_style(colour))
    return label


class FitScroll(QScrollArea):
    """A vertical scroll area whose content is as tall as its wrapped text needs at the
    viewport's width: ``QScrollArea`` sizes a resizable content by its size hint, which knows
    nothing of word wrap, and squeezes wrapped labels into each other in a narrow dock."""

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def refit(self) -> None:
        layout = self.widget().layout()
        if layout is not None and layout.hasHeightForWidth():
            self.widget().setMinimumHeight(layout.heightForWidth(self.viewport().width()))

    def refit_soon(self) -> None:
        QTimer.singleShot(0, self, self.refit)  # after the new widgets are laid out

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt naming)
        super().resizeEvent(event)
        self.refit()


class StepBox(QFrame):
    """One step: its mark and number, what to do, its checks, and a Hint button."""

    def __init__(self, step: StepView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(3)
        state = "done" if step.done else "now" if step.current else "later"
        self.header = _label(f"{step.mark} Step {step.number} — {state}")
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        layout.addWidget(self.header)
        self.text = _label(step.text, markdown=True)
        layout.addWidget(self.text)
        self.check_labels: list[QLabel] = []
        for check in step.checks:
            label = _label(f"{check.mark} {check.description} ({check.words})")
            label.setStyleSheet(theme.text_style(theme.OK if check.done else theme.INK))
            label.setAccessibleName(f"check {check.words}: {check.description}")
            self.check_labels.append(label)
            layout.addWidget(label)
        self.hint_button = QPushButton("Hint")
        self.hint_button.setToolTip("Show a hint for this step")
        self.hint_button.setCheckable(True)
        self.hint = _label(step.hint, markdown=True, colour=theme.NOTE_INK)
        self.hint.setVisible(False)
        self.hint_button.toggled.connect(self.hint.setVisible)
        self.hint_button.setVisible(bool(step.hint) and not step.done and step.current)
        row = QHBoxLayout()
        row.addWidget(self.hint_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.hint)
        if step.current and not step.done:
            self.setStyleSheet(
                f"StepBox {{ border: 2px solid {theme.ACCENT}; border-radius: 4px; }}"
            )


class LessonsPanel(QWidget):
    """``startRequested(id)`` / ``resetRequested(id)``: the buttons; the dock acts on them."""

    startRequested = Signal(str)
    resetRequested = Signal(str)
    reloadRequested = Signal()

    def __init__(self, state: LessonsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.step_boxes: list[StepBox] = []
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_list_page())
        self.pages.addWidget(self._build_lesson_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)
        self.refresh()

    # ------------------------------------------------------------------ building
    def _build_list_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(_label(INTRO, colour=theme.MUTED))
        self.problems_label = _label(colour=theme.ERROR)
        self.problems_label.setAccessibleName("lesson files that could not be used")
        layout.addWidget(self.problems_label)
        self.lesson_list = QListWidget()
        self.lesson_list.setWordWrap(True)
        self.lesson_list.setSpacing(3)
        self.lesson_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lesson_list.setToolTip("Open a lesson: click it, or select it and press Enter")
        self.lesson_list.itemActivated.connect(self._open_item)
        self.lesson_list.itemClicked.connect(self._open_item)
        layout.addWidget(self.lesson_list, 1)
        self.reload_button = QPushButton("Reload lessons")
        self.reload_button.setToolTip(
            "Read the lesson files again: the bundled ones and yours in the data folder's\n"
            "lessons/ (one .toml file per lesson; see docs/lessons.md)"
        )
        self.reload_button.clicked.connect(self.reloadRequested)
        layout.addWidget(self.reload_button)
        return page

    def _build_lesson_page(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        self.back_button = QPushButton("◀ All lessons")
        self.back_button.setToolTip("Back to the list of lessons")
        self.back_button.clicked.connect(lambda: self.show_lesson(None))
        outer.addWidget(self.back_button)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 4, 0)
        self.title_label = _label()
        font = self.title_label.font()
        font.setBold(True)
        font.setPointSize(font.pointSize() + 2)
        self.title_label.setFont(font)
        layout.addWidget(self.title_label)
        self.source_label = _label(colour=theme.MUTED)
        layout.addWidget(self.source_label)
        self.text_label = _label(markdown=True)
        layout.addWidget(self.text_label)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self._start)
        self.reset_button = QPushButton("Reset lesson")
        self.reset_button.setToolTip(
            "Open every check of this lesson again (its progress is forgotten)"
        )
        self.reset_button.clicked.connect(self._reset)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status_label = _label(colour=theme.MUTED)
        layout.addWidget(self.status_label)
        self.steps_layout = QVBoxLayout()
        self.steps_layout.setSpacing(6)
        layout.addLayout(self.steps_layout)
        self.explanation_title = _label(f"{DONE} Lesson done — why it works")
        self.explanation_title.setStyleSheet(
            theme.text_style(theme.OK, extra=" font-weight: bold;")
        )
        layout.addWidget(self.explanation_title)
        self.explanation_label = _label(markdown=True)
        layout.addWidget(self.explanation_label)
        layout.addStretch(1)
        self.scroll = FitScroll(content)
        outer.addWidget(self.scroll, 1)
        return page

    # ------------------------------------------------------------------ showing
    @property
    def lesson(self) -> Lesson | None:
        return self.state.shown

    def show_lesson(self, lesson_id: str | None) -> None:
        """The lesson page for ``lesson_id``; None: the list."""
        self.state.show(lesson_id)
        self.refresh()

    def _open_item(self, item: QListWidgetItem) -> None:
        lesson_id = item.data(Qt.ItemDataRole.UserRole)
        if lesson_id:
            self.show_lesson(str(lesson_id))

    def refresh(self, status: str = "") -> None:
        """Draw the state: the list, or the shown lesson's page (``status``: a sentence)."""
        self._fill_list()
        lesson = self.state.shown
        self.pages.setCurrentIndex(0 if lesson is None else 1)
        if lesson is not None:
            self._fill_lesson(lesson, status)

    def _fill_list(self) -> None:
        problems = self.state.problem_sentences()
        self.problems_label.setText("\n".join(f"⚠ {p}" for p in problems))
        self.problems_label.setVisible(bool(problems))
        current = self.lesson_list.currentRow()
        self.lesson_list.clear()
        for lesson in self.state.lessons:
            mark = self.state.mark(lesson)
            active = " — following" if self.state.is_active(lesson) else ""
            item = QListWidgetItem(
                f"{mark} {lesson.title}\n    {self.state.summary(lesson)}{active}"
            )
            item.setData(Qt.ItemDataRole.UserRole, lesson.id)
            item.setToolTip(f"{lesson.title} ({_source_words(lesson)})")
            self.lesson_list.addItem(item)
        if 0 <= current < self.lesson_list.count():
            self.lesson_list.setCurrentRow(current)

    def _fill_lesson(self, lesson: Lesson, status: str) -> None:
        state = self.state
        self.title_label.setText(lesson.title)
        self.source_label.setText(_source_words(lesson))
        self.text_label.setText(lesson.text)
        active = state.is_active(lesson)
        self.start_button.setText("Set up again" if active else "Start")
        self.start_button.setToolTip(
            "Set the lab up for this lesson again (tab, settings)"
            if active
            else "Follow this lesson: the lab is set up and your experiments are checked"
        )
        finished = state.finished(lesson)
        if status:
            self.status_label.setText(status)
        elif finished:
            self.status_label.setText("Every check is done.")
        elif active:
            self.status_label.setText("Following this lesson: the checks tick as you work.")
        else:
            self.status_label.setText("Press Start to follow this lesson.")
        for box in self.step_boxes:
            self.steps_layout.removeWidget(box)
            box.hide()  # gone from the screen now, deleted when the event loop next runs
            box.deleteLater()
        self.step_boxes = [StepBox(step) for step in state.steps(lesson)]
        for box in self.step_boxes:
            self.steps_layout.addWidget(box)
            box.show()  # at once, not on the next turn of the event loop
            box.hint_button.toggled.connect(lambda _on: self.scroll.refit_soon())
        self.explanation_title.setVisible(finished)
        self.explanation_label.setVisible(finished and bool(lesson.explanation))
        self.explanation_label.setText(lesson.explanation if finished else "")
        self.scroll.refit_soon()

    def take_focus(self) -> None:
        """The list (arrows and Enter open a lesson), or the shown lesson's Start button."""
        if self.state.shown is None:
            self.lesson_list.setFocus()
            if self.lesson_list.currentRow() < 0 and self.lesson_list.count():
                self.lesson_list.setCurrentRow(0)
        else:
            self.start_button.setFocus()

    def _start(self) -> None:
        if self.state.shown is not None:
            self.startRequested.emit(self.state.shown.id)

    def _reset(self) -> None:
        if self.state.shown is not None:
            self.resetRequested.emit(self.state.shown.id)


def _source_words(lesson: Lesson) -> str:
    if lesson.source == "bundled":
        return f"Bundled lesson, {lesson.check_count} checks"
    where = f": {lesson.path}" if lesson.path is not None else ""
    return f"Your lesson{where}, {lesson.check_count} checks"
