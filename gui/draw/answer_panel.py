"""The Draw tab's right-hand column: the answer in words, the bars, and what the model sees.

A view over ``gui.draw.state.DrawAnswer``: ``show_answer`` writes the big digit, the verdict and
the detail line, fills the bars and the preprocessing steps; ``show_saliency`` lays the saliency
map over the 28×28 input. The tab owns the session and decides when to read the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.inference.preprocess import Preprocessed
from gui import theme
from gui.draw.draw_views import HeatScale, PixelView, ProbabilityChart
from gui.draw.state import ACCENT, NOTE, AnswerWords, DrawAnswer, DrawSession

STEP_SIDE = 52
INPUT_SIDE = 112
TONES = {ACCENT: theme.ACCENT, NOTE: theme.NOTE}

STEP_TITLES = {
    "crop": ("crop", "The ink's bounding box, light on dark (inverted if drawn dark on light)."),
    "fit20": ("fit 20×20", "Scaled to fit a 20×20 box, keeping the aspect ratio, anti-aliased."),
    "centred": (
        "centre",
        "Placed in 28×28 so the centre of mass of the ink is at the centre, as MNIST did.",
    ),
    "resized": ("resize", "The whole canvas squeezed to 28×28: no crop, no centring."),
    "normalised": (
        "normalise",
        "(x − 0.1307) / 0.3081: the same normalisation as the training data.",
    ),
}


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def note(text: str = "", size_px: int | None = None) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(theme.text_style(theme.MUTED, size_px=size_px))
    return label


def check_box(text: str, tooltip: str, slot, checked: bool = False) -> QCheckBox:  # noqa: ANN001
    box = QCheckBox(text)
    box.setChecked(checked)
    box.setToolTip(tooltip)
    box.toggled.connect(slot)
    return box


class AnswerPanel(QWidget):
    """The answer box, the probability chart with its switches, and "What the model sees".

    ``calibratedToggled`` and ``saliencyToggled`` carry the learner's switches to the tab.
    """

    calibratedToggled = Signal(bool)
    saliencyToggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addWidget(self._build_answer_box())
        column.addLayout(self._build_chart(), stretch=1)
        column.addWidget(self._build_sees_box())

    # ------------------------------------------------------------------ layout
    def _build_answer_box(self) -> QFrame:
        answer = QFrame()
        answer.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(answer)
        layout.setContentsMargins(14, 6, 14, 6)
        self.digit_label = QLabel("–")
        big = QFont(self.font())
        big.setPointSize(48)
        big.setBold(True)
        self.digit_label.setFont(big)
        self.digit_label.setFixedWidth(84)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setToolTip("The digit with the highest probability")
        layout.addWidget(self.digit_label)
        words = QVBoxLayout()
        words.setSpacing(2)
        self.verdict_label = QLabel()
        verdict_font = QFont(self.font())
        verdict_font.setPointSizeF(verdict_font.pointSizeF() * 1.5)
        verdict_font.setBold(True)
        self.verdict_label.setFont(verdict_font)
        self.verdict_label.setWordWrap(True)
        self.detail_label = note()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(theme.text_style(theme.ERROR))
        self.error_label.hide()
        words.addStretch(1)
        for label in (self.verdict_label, self.detail_label, self.error_label):
            words.addWidget(label)
        words.addStretch(1)
        layout.addLayout(words, stretch=1)
        return answer

    def _build_chart(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(0)
        header = QHBoxLayout()
        header.addWidget(heading("Probabilities"))
        header.addStretch(1)
        self.logits_box = QCheckBox("show logits")
        self.logits_box.setToolTip(
            "Plot the logits instead of the probabilities: the raw scores of the output layer,\n"
            "on their own axis (they can be negative). softmax turns them into probabilities:\n"
            "p = exp(z) / Σ exp(z), so only their differences matter."
        )
        header.addWidget(self.logits_box)
        self.calibrated_box = check_box(
            "calibrated",
            "Probabilities after temperature scaling: softmax(z / T), with T fitted on digits\n"
            "the model never trained on so that '90 % sure' is right about 90 % of the time.\n"
            "Untick to compare with the raw softmax(z); the answer itself never changes.",
            self.calibratedToggled.emit,
            checked=True,
        )
        header.addWidget(self.calibrated_box)
        box.addLayout(header)
        self.chart = ProbabilityChart()
        # 84 px: the ten bars stay readable, and the answer, the chart and "What the model
        # sees" fit at 1024x700 with a banner up; the chart takes any spare height.
        self.chart.setMinimumHeight(84)
        self.logits_box.toggled.connect(self.chart.set_show_logits)
        box.addWidget(self.chart, stretch=1)
        return box

    def _build_sees_box(self) -> QGroupBox:
        sees = QGroupBox("What the model sees")
        layout = QHBoxLayout(sees)
        layout.setSpacing(12)
        left = QVBoxLayout()
        left.setSpacing(6)
        self.input_view = PixelView(INPUT_SIDE, grid=True)
        self.input_view.setToolTip(
            "The 28×28 picture the model actually receives (before normalisation).\n"
            "Every square is one input pixel."
        )
        left.addWidget(self.input_view, alignment=Qt.AlignmentFlag.AlignTop)
        self.saliency_box = check_box(
            "Saliency",
            "Overlay |∂ score(predicted digit) / ∂ input pixel|, the score being the digit's logit:\n"
            "the same autograd as in the loss playground, pointed at the input instead of the\n"
            "weights. Bright pixels are where a little more or less ink would change it most.",
            self.saliencyToggled.emit,
        )
        left.addWidget(self.saliency_box)
        left.addStretch(1)
        layout.addLayout(left)
        layout.addLayout(self._build_steps(), stretch=1)
        return sees

    def _build_steps(self) -> QVBoxLayout:
        steps = QVBoxLayout()
        steps.setSpacing(4)
        steps.addWidget(heading("Preprocessing steps"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        self.step_views: list[PixelView] = []
        self.step_labels: list[QLabel] = []
        self.step_arrows: list[QLabel] = []
        for index in range(4):
            if index:
                arrow = QLabel("→")
                arrow.setStyleSheet(theme.text_style(theme.FAINT))
                grid.addWidget(arrow, 0, 2 * index - 1)
                self.step_arrows.append(arrow)
            view = PixelView(STEP_SIDE)
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            label.setWordWrap(True)
            label.setMinimumWidth(STEP_SIDE)
            label.setStyleSheet(theme.text_style(theme.INK, size_px=11))
            grid.addWidget(view, 0, 2 * index, alignment=Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(label, 1, 2 * index)
            self.step_views.append(view)
            self.step_labels.append(label)
        grid.setColumnStretch(7, 1)  # pack the steps to the left when some are hidden
        steps.addLayout(grid)
        self.steps_note = note(size_px=11)
        steps.addWidget(self.steps_note)
        # The saliency's scale sits under the steps, not under the picture: the picture's column
        # sets the box's height, and at 1024x700 with a banner up the box has no more to give.
        self.heat_scale = HeatScale()
        self.heat_scale.setFixedWidth(INPUT_SIDE)
        self.heat_scale_label = note("", size_px=10)
        steps.addWidget(self.heat_scale)
        steps.addWidget(self.heat_scale_label)
        steps.addStretch(1)
        return steps

    # ------------------------------------------------------------------ showing
    def show_words(self, words: AnswerWords) -> None:
        self.digit_label.setText(words.digit)
        self.digit_label.setStyleSheet(theme.text_style(TONES.get(words.tone, theme.FAINT)))
        self.verdict_label.setText(words.verdict)
        self.detail_label.setText(words.detail)

    def show_answer(self, answer: DrawAnswer) -> None:
        """Words, bars and steps for one reading of the canvas."""
        self.show_words(answer.words)
        prediction = answer.prediction
        if prediction.is_empty:
            self.chart.set_probabilities(None)
        else:
            self.chart.set_probabilities(
                prediction.probabilities,
                prediction.is_confident,
                logits=prediction.logits,
                greyed=answer.bars_greyed,
            )
        self.show_steps(answer.preprocessed, answer.centred)

    def show_steps(self, item: Preprocessed, centred: bool) -> None:
        names = ["crop", "fit20", "centred", "normalised"] if centred else ["resized", "normalised"]
        for index, (view, label) in enumerate(zip(self.step_views, self.step_labels, strict=True)):
            name = names[index] if index < len(names) else None
            visible = name is not None
            view.setVisible(visible)
            label.setVisible(visible)
            if index:
                self.step_arrows[index - 1].setVisible(visible)
            if name is None:
                continue
            title, tip = STEP_TITLES[name]
            label.setText(title)
            view.setToolTip(tip)
            label.setToolTip(tip)
            values = item.steps.get(name)
            if name == "normalised":
                view.set_array(values, None, None)  # min..max: the values are in model units
            else:
                view.set_array(values)
        self.input_view.set_array(item.steps.get("centred", item.steps.get("resized")))
        if item.is_empty:
            self.steps_note.setText("Nothing to show until there is ink on the canvas.")
        elif centred:
            self.steps_note.setText("Hover a step for what it does.")
        else:
            self.steps_note.setText(
                "Preprocessing is off: a small or off-centre digit reaches the model as it is."
            )

    def show_saliency(self, result: tuple[object, float] | None) -> None:
        """The saliency overlay and its scale (``result``: map and peak, or None)."""
        on = self.saliency_box.isChecked()
        heat = result[0] if (on and result is not None) else None
        self.input_view.set_overlay(heat)
        self.heat_scale.setVisible(on)
        self.heat_scale_label.setVisible(on)
        if heat is not None:
            peak = result[1]
            self.heat_scale_label.setText(f"0 … {peak:.2g} ∂logit/∂pixel")
            self.heat_scale.setToolTip(
                "Black: the answer does not depend on that pixel. Brightest: a change of one\n"
                f"input unit there moves the digit's logit by {peak:.2g}."
            )
        else:
            self.heat_scale_label.setText("draw something first" if on else "")

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def clear_error(self) -> None:
        self.error_label.hide()
        self.error_label.clear()

    def set_calibration(self, temperature: float) -> None:
        """The "calibrated" switch names the model's temperature; off when it has none."""
        has = temperature != 1.0
        self.calibrated_box.setEnabled(has)
        self.calibrated_box.setText(
            f"calibrated (T = {temperature:.2f})" if has else "calibrated (no T)"
        )


class ModelOfferBar(QFrame):
    """ "This digit is one of Run #3's mistakes… [Score with Run #3's model]", in place.

    Shown while a "Try in Draw" digit's run is offered, or while that run's model is borrowed
    (then the button goes back to the model in use); hidden otherwise. ``clicked`` either way.
    """

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(
            f"QFrame {{ background: {theme.INFO_BG}; border: 1px solid {theme.INFO_BORDER};"
            " border-radius: 4px; } QLabel { border: none; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setStyleSheet(theme.text_style(theme.INFO_INK))
        self.button = QPushButton()
        self.button.clicked.connect(self.clicked)
        layout.addWidget(self.label, stretch=1)
        layout.addWidget(self.button)
        self.hide()

    def show_for(self, session: DrawSession, current_name: str) -> None:
        """Say what ``session`` offers or borrows (hidden when neither)."""
        if session.offered is not None:
            self.label.setText(session.offer_text())
            self.button.setText(f"Score with {session.offered.name}'s model")
            self.button.setToolTip(
                "Answer with the model that made this mistake, here only (the model the app\n"
                "uses does not change; Models… or the banner above the tabs does that)."
            )
        elif session.scored_by:
            self.label.setText(
                f"Scored by {session.scored_by}'s model, here only: the app still uses "
                f"{current_name}."
            )
            self.button.setText("Back to the model in use")
            self.button.setToolTip("Answer with the app's current model again")
        self.setVisible(session.offered is not None or bool(session.scored_by))


class ModelBox(QGroupBox):
    """Which model answers, and the ways to change it (the tab connects the buttons)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        layout = QVBoxLayout(self)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        self.buttons = QHBoxLayout()
        self.train_button = QPushButton("Train a better model…")
        self.train_button.setToolTip(
            "Open the Training tab. A CNN trained on full MNIST (60,000 digits) reads\n"
            "hand-drawn digits far more reliably than the small bundled model."
        )
        self.load_button = QPushButton("Load model…")
        self.load_button.setToolTip("Use a Digit Lab model file (.pt) saved earlier")
        self.bundled_button = QPushButton("Use bundled model")
        self.bundled_button.setToolTip(
            "Go back to the model shipped with Digit Lab (your models stay in Models…, Ctrl+M)"
        )
        for button in (self.train_button, self.load_button, self.bundled_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        layout.addLayout(self.buttons)
        explore = QHBoxLayout()
        self.fool_button = QPushButton("Fool the model…")
        self.fool_button.setToolTip(
            "Find the smallest change to your drawing that flips the answer (FGSM, PGD or\n"
            "fewest pixels), and see why a network can be this fragile (Ctrl+Shift+F)"
        )
        self.fool_button.setShortcut("Ctrl+Shift+F")
        self.compare_button = QPushButton("Side by side…")
        self.compare_button.setToolTip(
            "Your drawing read by two models: both answers, both bars, where they disagree,\n"
            "each one's saliency; and the drawing turned and shifted step by step"
        )
        for button in (self.fool_button, self.compare_button):
            explore.addWidget(button)
        explore.addStretch(1)
        layout.addLayout(explore)
