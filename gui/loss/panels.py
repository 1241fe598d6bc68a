"""The Loss playground's panels: the input (x, y and what lies between x and the loss), the
results (both forms' cards, the verdict, the gradients, notes and hint) and the stability
panel (the plot over s = 1 … 1000 and the slider that picks s). Each shows what it is given
from ``gui.loss.state.PlaygroundState``; the words come from ``core.losses.verdict``."""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.losses import BINARY, CLASS, LossComparison, LossPair, StabilitySweep, sweep_summary
from core.losses.verdict import (
    difference_text,
    display_value,
    flatten,
    parting_text,
    scale_note,
    scale_text,
    verdict_reason,
    verdict_title,
)
from gui import theme
from gui.loss.controls import make_label
from gui.loss.loss_widgets import (
    COMPOSED_COLOUR,
    FUSED_COLOUR,
    HeatTable,
    ResultCard,
    StabilityPlot,
    TensorGrid,
)
from gui.loss.state import SCALE_MAX, slider_position, slider_scale

ERROR_STYLE = theme.text_style(theme.ERROR)
NOTE_STYLE = theme.text_style(theme.NOTE)
SLIDER_STEPS_PER_DECADE = 100  # s moves in steps of about 2.3 %
SIGMOID_ONE_FLOAT32 = 16.7  # σ(x) rounds to exactly 1 in float32 from about here


class InputPanel(QGroupBox):
    """x and its target as editable grids, the input error, and the intermediate views."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Input", parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        self.grids = QGridLayout()
        self.grids.setHorizontalSpacing(6)
        self.grids.setVerticalSpacing(2)
        self.prediction_title = make_label("x: logits (row = sample, column = class)")
        self.prediction_title.setToolTip(
            "Raw, unnormalised scores straight from the last Linear layer. Double-click or just "
            "type in a cell to edit; everything recomputes as you type. Ctrl+V pastes a whole "
            "tensor ([[0.1, 2.0], …] or torch's printout), Ctrl+C copies one."
        )
        self.target_title = make_label("y")
        self.prediction_grid = TensorGrid("prediction")
        self.target_grid = TensorGrid("target", kind="class")
        self._target_beside: bool | None = None
        self.place_target(beside=True)
        layout.addLayout(self.grids)
        self.error_label = make_label(style=ERROR_STYLE, wrap=True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.intermediate_table = HeatTable()
        self.intermediate_combo = QComboBox()
        self.intermediate_combo.setToolTip(
            "What happens between the logits and the loss: probabilities (softmax or sigmoid) "
            "and log-probabilities, of s·x when the stability slider is not at 1. Green "
            "shades are probabilities from 0 to 1."
        )
        self.between_label = make_label("between x and the loss:")
        between = QHBoxLayout()
        between.addWidget(self.between_label)
        between.addWidget(self.intermediate_combo, 1)
        layout.addLayout(between)
        layout.addWidget(self.intermediate_table)
        layout.addStretch(1)
        self.setMinimumWidth(400)
        self.setMaximumWidth(520)
        self.intermediate_combo.currentIndexChanged.connect(self.show_intermediate)
        self.comparison: LossComparison | None = None

    def place_target(self, beside: bool) -> None:
        """A one-column target sits beside x; a grid target (ce-soft, multi-label) below it."""
        if beside == self._target_beside:
            return
        self._target_beside = beside
        widgets = (self.prediction_title, self.target_title, self.prediction_grid, self.target_grid)
        for widget in widgets:
            self.grids.removeWidget(widget)
        self.grids.addWidget(self.prediction_title, 0, 0)
        self.grids.addWidget(self.prediction_grid, 1, 0)
        if beside:
            self.grids.addWidget(self.target_title, 0, 1)
            self.grids.addWidget(self.target_grid, 1, 1)
            self.grids.setColumnStretch(1, 0)
            self.target_grid.setFixedWidth(92)  # one column of class indices; x gets the rest
        else:
            self.grids.addWidget(self.target_title, 2, 0)
            self.grids.addWidget(self.target_grid, 3, 0)
            self.target_grid.setMinimumWidth(0)
            self.target_grid.setMaximumWidth(16_777_215)
        self.grids.setColumnStretch(0, 1)

    def fit_target(self) -> None:
        self.place_target(beside=self.target_grid.columnCount() == 1)

    def configure(self, pair: LossPair) -> None:
        """Titles and the target grid's kind for ``pair``."""
        self.target_grid.kind = "class" if pair.target_kind == CLASS else "number"
        if pair.target_kind == CLASS:
            self.target_title.setText("y: class")
            self.target_title.setToolTip("The true class of each row: a whole number 0 … C-1.")
        else:
            self.target_title.setText("t: target in [0, 1]")
            self.target_title.setToolTip(
                "A probability per cell: 0/1 labels or soft targets, same shape as x."
            )
        self.prediction_title.setText(
            "x: logits (row = sample, column = yes/no question)"
            if pair.target_kind == BINARY
            else "x: logits (row = sample, column = class)"
        )

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def show_intermediates(self, comparison: LossComparison, scale: float) -> None:
        """The intermediate views of ``comparison`` (of s·x), keeping the chosen one."""
        self.comparison = comparison
        self.between_label.setText(
            "between x and the loss:"
            if scale == 1
            else f"between {scale_text(scale)}·x and the loss:"
        )
        current = self.intermediate_combo.currentText()
        with QSignalBlocker(self.intermediate_combo):
            self.intermediate_combo.clear()
            self.intermediate_combo.addItems(list(comparison.intermediates))
            index = self.intermediate_combo.findText(current)
            self.intermediate_combo.setCurrentIndex(max(index, 0))
        self.show_intermediate()

    def show_intermediate(self) -> None:
        if self.comparison is None:
            return
        name = self.intermediate_combo.currentText()
        values = self.comparison.intermediates.get(name)
        if values is None:
            return
        probability = name.startswith(("softmax", "sigmoid"))
        self.intermediate_table.set_grid(values, mode="probability" if probability else "plain")


class ResultsPanel(QWidget):
    """Both forms' cards with the verdict between them, notes, both gradients and the hint."""

    GRAD_TIP = (
        "Gradient of the loss with respect to each logit (∂loss/∂x, of s·x when the stability "
        "slider is not at 1): red pushes the logit down, blue pushes it up when training "
        "subtracts it. For cross-entropy it is (softmax - onehot) / N. Both grids share one "
        "colour scale. A number in bold italics is one torch changed (e.g. BCELoss's clamp): "
        "hover it for why. Right-click to copy the gradient as a tensor."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.setSpacing(4)
        self.fused_card = ResultCard("fused / reference", FUSED_COLOUR)
        self.fused_card.setToolTip(
            "Why fused losses exist: one call computes log-softmax with the log-sum-exp trick "
            "(subtract the row max before exp), so huge logits neither overflow nor round "
            "probabilities to 0 or 1, and backward has a simple exact formula (softmax - onehot)."
        )
        self.composed_card = ResultCard("composed / look-alike", COMPOSED_COLOUR)
        cards = QHBoxLayout()
        cards.addWidget(self.fused_card, 4)
        cards.addWidget(self._build_verdict(), 3)
        cards.addWidget(self.composed_card, 4)
        layout.addLayout(cards)
        self.notes_label = make_label(style=NOTE_STYLE, wrap=True)
        self.notes_label.hide()
        layout.addWidget(self.notes_label)
        layout.addLayout(self._build_gradients())
        self.hint_label = make_label(style=theme.text_style(theme.INK), wrap=True)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.hint_label)
        layout.addStretch(1)

    def _build_verdict(self) -> QFrame:
        self.verdict_frame = QFrame()
        self.verdict_frame.setObjectName("verdict")
        layout = QVBoxLayout(self.verdict_frame)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(2)
        self.verdict_label = make_label(style="font-size: 17px; font-weight: bold;")
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.diff_label = make_label(style=theme.text_style(theme.INK, size_px=11), wrap=True)
        self.diff_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.diff_label.setToolTip(
            "Δ value: largest absolute difference of the two losses. Δ grad: largest absolute "
            "difference of the gradients with respect to x. The forms agree when both are "
            "within torch.allclose's |a − b| ≤ atol + rtol·|b| for the dtype (float32 rounding "
            "is about 1e-7 per step)."
        )
        self.expect_label = make_label(style=theme.text_style(theme.MUTED, size_px=11), wrap=True)
        self.expect_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (self.verdict_label, self.diff_label, self.expect_label):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(widget)
        return self.verdict_frame

    def _build_gradients(self) -> QHBoxLayout:
        tables = QHBoxLayout()
        self.fused_grad = HeatTable()
        self.composed_grad = HeatTable()
        for title, table, colour in (
            ("∂loss/∂x, fused   (red +, blue −)", self.fused_grad, FUSED_COLOUR),
            ("∂loss/∂x, composed   (red +, blue −)", self.composed_grad, COMPOSED_COLOUR),
        ):
            column = QVBoxLayout()
            column.setSpacing(2)
            heading = make_label(title, theme.text_style(colour, extra=" font-weight: bold;"))
            heading.setToolTip(self.GRAD_TIP)
            heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            table.setToolTip(self.GRAD_TIP)
            column.addWidget(heading)
            column.addWidget(table)
            column.addStretch(1)
            tables.addLayout(column, 1)
        return tables

    def configure(self, pair: LossPair) -> None:
        self.fused_card.heading.setText("reference (correct)" if pair.mistake else "fused")
        self.composed_card.heading.setText("look-alike" if pair.mistake else "composed")
        self.hint_label.setText(pair.hint)

    def set_stale(self, stale: bool) -> None:
        """Grey out a result that belongs to an older input than the one with the error."""
        for widget in (self.fused_card, self.composed_card, self.verdict_frame):
            widget.setEnabled(not stale)

    def show_comparison(
        self, result: LossComparison, pair: LossPair, scale: float, *, gradients: bool = True
    ) -> None:
        """Cards, verdict and notes; the gradient grids too unless ``gradients`` is False (a
        large grid dragged by the slider gets them from :meth:`show_gradients` a moment later)."""
        for card, form in ((self.fused_card, result.fused), (self.composed_card, result.composed)):
            vector = isinstance(form.value, list)
            card.show_result(form.label, display_value(form.value), form.grad_fn, vector=vector)
            card.value.setToolTip(repr(form.value))
        self._show_verdict(result, pair.mistake, scale)
        notes = ([f"Not finite: {result.overflow}"] if result.overflow else []) + result.notes
        self.notes_label.setText("\n".join(f"• {n}" for n in notes))
        self.notes_label.setVisible(bool(notes))
        if gradients:
            self.show_gradients(result)

    def show_gradients(self, result: LossComparison) -> None:
        """Both gradients on one colour scale; torch's changed cells explained in place."""
        scale_max = max(
            (
                abs(v)
                for v in flatten(result.fused.grad) + flatten(result.composed.grad)
                if math.isfinite(v)
            ),
            default=0.0,
        )
        self.fused_grad.set_grid(result.fused.grad, scale=scale_max)
        self.composed_grad.set_grid(result.composed.grad, scale=scale_max)
        self.composed_grad.annotate([(v.row, v.col, v.text) for v in result.saturated])

    def _show_verdict(self, result: LossComparison, mistake: bool, scale: float) -> None:
        if result.agree:
            colour, background = theme.OK, theme.OK_BG
        else:
            colour, background = theme.ERROR, theme.ERROR_SOFT_BG
        self.verdict_frame.setStyleSheet(
            f"#verdict {{ background: {background}; border: 1px solid {colour}; "
            "border-radius: 4px; }"
        )
        self.verdict_label.setText(verdict_title(result))
        self.verdict_label.setStyleSheet(
            theme.text_style(colour, size_px=17, extra=" font-weight: bold;")
        )
        at = "" if scale == 1 else f"at s = {scale_text(scale)}: "
        self.diff_label.setText(at + difference_text(result))
        self.expect_label.setText(verdict_reason(result, mistake))
        self.expect_label.setToolTip(result.overflow or "")


class StabilityPanel(QGroupBox):
    """The stability plot, the logit-scale slider above it and the sweep's summary below.

    ``scaleChosen(s)`` fires when the learner moves the slider or drags the plot's cursor.
    """

    scaleChosen = Signal(float)  # noqa: N815 (Qt signal naming)

    PLOT_TIP = (
        "Both forms on s·x, in float32 (solid) and float64 (dashed). Where the curves part, "
        "one form has lost precision: Sigmoid rounds to 0 or 1 and BCELoss clamps log(0) to "
        "-100, while BCEWithLogitsLoss stays exact. Differences below 1e-17 (including "
        "exact 0) are drawn at 1e-17; with reduction 'none' the per-sample losses are summed. "
        "The vertical cursor is the slider's s: drag either."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip(self.PLOT_TIP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        layout.addLayout(self._build_slider_row())
        self.plot = StabilityPlot()
        self.plot_caption = make_label(style=theme.text_style(theme.INK), wrap=True)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.plot_caption)
        self.plot.cursorMoved.connect(self.scaleChosen)

    def _build_slider_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = make_label("Stability: scale the logits by s", "font-weight: bold;")
        title.setToolTip(self.PLOT_TIP)
        self.scale_slider = QSlider(Qt.Orientation.Horizontal)
        self.scale_slider.setRange(0, slider_position(SCALE_MAX, SLIDER_STEPS_PER_DECADE))
        self.scale_slider.setSingleStep(5)
        self.scale_slider.setPageStep(SLIDER_STEPS_PER_DECADE // 2)
        self.scale_slider.setAccessibleName("logit scale s")
        self.scale_slider.valueChanged.connect(
            lambda v: self.scaleChosen.emit(slider_scale(v, SLIDER_STEPS_PER_DECADE))
        )
        self.scale_label = make_label("s = 1")
        self.scale_label.setMinimumWidth(
            self.scale_label.fontMetrics().horizontalAdvance("s = 1000 ")
        )
        self.note_label = make_label(style=theme.text_style(theme.MUTED, size_px=11))
        row.addWidget(title)
        row.addWidget(self.scale_slider, 3)
        row.addWidget(self.scale_label)
        row.addWidget(self.note_label, 2)
        return row

    def show_sweep(self, sweep: StabilitySweep) -> None:
        self.plot.show_sweep(sweep)
        self.plot_caption.setText(sweep_summary(sweep))

    def show_scale(self, scale: float, parting: float | None, dtype: str) -> None:
        """Slider, cursor, label and the words about where s is."""
        with QSignalBlocker(self.scale_slider):
            self.scale_slider.setValue(slider_position(scale, SLIDER_STEPS_PER_DECADE))
        self.plot.set_cursor(scale)
        self.scale_label.setText(f"s = {scale_text(scale)}")
        self.note_label.setText(scale_note(scale, parting, dtype))
        tip = self._slider_tip(parting, dtype)
        for widget in (self.scale_slider, self.scale_label, self.note_label):
            widget.setToolTip(tip)

    @staticmethod
    def _slider_tip(parting: float | None, dtype: str) -> str:
        where = parting_text(parting, dtype)
        return (
            "Logit scale s (1 … 1000, logarithmic): the cards, the gradients and 'between x "
            "and the loss' show both forms on s·x, and the plot's cursor marks s. Large s "
            "means confident, saturating predictions. In float32 Sigmoid rounds to exactly 1 "
            f"once x > {SIGMOID_ONE_FLOAT32:g} (and to 0 below about −88.7); BCELoss then "
            "clamps log 0 to −100 (pytorch PR #33160), so Sigmoid+BCELoss stops following "
            f"BCEWithLogitsLoss and its gradient vanishes. {where} Home/End jump to 1 and 1000."
        )
