"""Loss playground: type or generate logits and targets, see both forms of a loss pair side by
side (values, gradients, grad_fn, intermediates) and how they behave as the logits grow.

All numbers come from ``core.losses``; this tab only reads the grids, shows results and marks
bad cells. Every edit recomputes at once; the last valid result stays visible while the input
is invalid.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import InputError
from core.losses import (
    BINARY,
    CLASS,
    PAIRS,
    PRESETS,
    PROBABILITY,
    SEED_EXAMPLES,
    LossComparison,
    LossOptions,
    compare,
    default_example,
    log_scales,
    onehot,
    pytorch_code,
    random_example,
    stability_sweep,
    sweep_summary,
)
from core.losses.tensor_text import format_number, parse_number
from gui import theme
from gui.loss.loss_widgets import (
    COMPOSED_COLOUR,
    FUSED_COLOUR,
    HeatTable,
    ResultCard,
    StabilityPlot,
    TensorGrid,
)

ERROR_STYLE = theme.text_style(theme.ERROR)
NOTE_STYLE = theme.text_style(theme.NOTE)
LINE_ERROR_STYLE = f"QLineEdit {{ background: {theme.ERROR_BG}; }}"
# Inputs and results above, stability plot below (pixels at 1280x800).
SPLITTER_SIZES = (400, 280)
SPLITTER_SIZES_GRID_TARGET = (500, 180)
TOP_MIN_HEIGHT = 200
GROW_MARGIN = 16  # wrapped labels ask for a little more than sizeHint says
PLOT_MIN_HEIGHT = 200  # the stability plot keeps this much when the results grow
MAX_SHOWN_VALUES = 24  # a "none" vector longer than this shows its first values and a count


def _flatten(value: float | list) -> list[float]:
    if isinstance(value, list):
        return [v for item in value for v in _flatten(item)]
    return [value]


def display_value(value: float | list) -> str:
    """4 decimals as the seed notebook printed; a vector (reduction "none") whole, up to
    MAX_SHOWN_VALUES values, then how many more there are (the tooltip has them all)."""
    if not isinstance(value, list):
        return format_number(value)
    flat = _flatten(value)
    shown = ", ".join(format_number(v) for v in flat[:MAX_SHOWN_VALUES])
    more = len(flat) - MAX_SHOWN_VALUES
    return f"[{shown}{f', … {more} more' if more > 0 else ''}]"


def verdict_reason(result: LossComparison, mistake: bool) -> str:
    """Why the forms agree or differ, in a few words; an overflow is named, never "rounding"."""
    if result.overflow:
        return f"not finite: {result.overflow_step} overflowed ({result.options.dtype})"
    if result.agree:
        return (
            "harmless: the extra step changes nothing"
            if mistake
            else ("equivalent forms, as expected")
        )
    if mistake:
        return "as expected: this is the mistake"
    if result.notes:
        return "an option or a saturated value parts them (see the notes)"
    return "same maths, but float rounding parts them here (see the plot below)"


def _label(text: str = "", style: str = "", wrap: bool = False) -> QLabel:
    label = QLabel(text)
    if style:
        label.setStyleSheet(style)
    label.setWordWrap(wrap)
    return label


class LossPlaygroundTab(QWidget):
    """The playground. It talks to the rest of the window only through ``statusMessage``
    (text, timeout in ms), which ``gui.main_window`` connects to its status bar."""

    statusMessage = Signal(str, int)  # noqa: N815 (Qt signal naming)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: LossComparison | None = None
        self.error: InputError | None = None
        self._target_kind = ""
        self._user_split = False
        self._needs_fit = False
        self._sweep_timer = QTimer(self)
        self._sweep_timer.setSingleShot(True)
        self._sweep_timer.setInterval(120)
        self._sweep_timer.timeout.connect(self.update_sweep)
        self._copied_timer = QTimer(self)  # owned by the tab, so it dies with it
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(1500)
        self._build()
        self._connect()
        self._shortcuts()
        self.load_preset("Seed example: CE")

    # ================================================================== building
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 6, 8, 4)
        root.setSpacing(4)
        root.addLayout(self._build_top_row())
        root.addLayout(self._build_generate_row())
        root.addWidget(self._build_options())
        root.addWidget(self._build_banner())

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        middle = QWidget()
        middle_layout = QHBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self._build_inputs(), 0)
        middle_layout.addWidget(self._build_results(), 1)
        splitter.addWidget(middle)
        splitter.addWidget(self._build_plot())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes(list(SPLITTER_SIZES))
        self.splitter = splitter
        splitter.splitterMoved.connect(self._on_splitter_moved)
        root.addWidget(splitter, 1)

    def _build_top_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.pair_combo = QComboBox()
        separated = False
        for pair in PAIRS.values():
            if pair.mistake and not separated:
                self.pair_combo.insertSeparator(self.pair_combo.count())
                separated = True
            self.pair_combo.addItem(
                f"{pair.name}: {pair.fused_label} vs {pair.composed_label}", pair.name
            )
            index = self.pair_combo.count() - 1
            self.pair_combo.setItemData(index, pair.explanation, Qt.ItemDataRole.ToolTipRole)
        self.pair_combo.setToolTip(
            "Which two forms to compare. The first five are equivalent pairs; the rest are "
            "common mistakes (and one harmless look-alike)."
        )
        self.pair_combo.setMinimumContentsLength(42)
        self.preset_combo = QComboBox()
        self.preset_combo.addItem("Presets…", None)
        for title in PRESETS:
            self.preset_combo.addItem(title, title)
        self.preset_combo.setToolTip("Ready-made cases: each shows one thing worth seeing.")
        self.reduction_combo = QComboBox()
        self.reduction_combo.addItems(["mean", "sum", "none"])
        self.reduction_combo.setToolTip(
            "How per-sample losses become one number: mean (the default in training), sum, or "
            "none (one loss per sample; gradients are then of their sum)."
        )
        self.dtype_combo = QComboBox()
        self.dtype_combo.addItems(["float32", "float64"])
        self.dtype_combo.setToolTip(
            "Precision of the computation. float32 is what models train in; float64 shows "
            "what is rounding and what is a real difference."
        )
        row.addWidget(QLabel("Pair"))
        row.addWidget(self.pair_combo, 3)
        row.addSpacing(8)
        row.addWidget(self.preset_combo, 2)
        row.addSpacing(8)
        row.addWidget(QLabel("Reduction"))
        row.addWidget(self.reduction_combo)
        row.addWidget(QLabel("dtype"))
        row.addWidget(self.dtype_combo)
        return row

    def _build_generate_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.rows_spin = QSpinBox()
        self.rows_spin.setRange(1, 64)
        self.rows_spin.setToolTip("N: number of samples (rows of the prediction)")
        self.cols_spin = QSpinBox()
        self.cols_spin.setRange(2, 20)
        self.cols_spin.setToolTip(
            "C: number of classes (columns). BCE uses one logit per yes/no question, usually 1."
        )
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip(
            "Logits from torch.rand(N, C) (uniform in [0, 1), as the seed notebook did) with "
            "the seed on the right, and random targets. The seed then steps on by one. (Ctrl+R)"
        )
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 999_999)
        self.seed_spin.setPrefix("seed ")
        self.seed_spin.setToolTip("torch.manual_seed for Random and Random normal")
        self.normal_button = QPushButton("Random normal ×")
        self.normal_button.setToolTip(
            "Logits from torch.randn(N, C) times the scale: large scales make confident, "
            "saturating predictions. (Ctrl+Shift+R)"
        )
        self.scale_spin = QDoubleSpinBox()
        self.scale_spin.setRange(0.01, 1000.0)
        self.scale_spin.setDecimals(2)
        self.scale_spin.setValue(3.0)
        self.scale_spin.setToolTip("Scale of the normal logits")
        self.seed_button = QPushButton("Seed example")
        self.seed_button.setToolTip(
            "The seed notebook's printed tensors (3×5 logits with targets 0, 1, 4; 3×1 logits "
            "with targets 0, 1, 0): CE 1.6802 and BCE 0.7907 for both forms. (Ctrl+E)"
        )
        self.copy_button = QPushButton("Copy as PyTorch code")
        self.copy_button.setToolTip(
            "Put a runnable script reproducing this comparison on the clipboard. (Ctrl+Shift+C)"
        )
        row.addWidget(QLabel("N"))
        row.addWidget(self.rows_spin)
        row.addWidget(QLabel("C"))
        row.addWidget(self.cols_spin)
        row.addSpacing(12)
        row.addWidget(self.random_button)
        row.addWidget(self.seed_spin)
        row.addSpacing(6)
        row.addWidget(self.normal_button)
        row.addWidget(self.scale_spin)
        row.addSpacing(6)
        row.addWidget(self.seed_button)
        row.addStretch(1)
        row.addWidget(self.copy_button)
        return row

    def _build_banner(self) -> QFrame:
        banner = QFrame()
        banner.setObjectName("lossBanner")
        banner.setStyleSheet(
            f"#lossBanner {{ background: {theme.INFO_BG}; border: 1px solid {theme.INFO_BORDER};"
            " border-radius: 4px; }"
        )
        layout = QVBoxLayout(banner)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setSpacing(1)
        self.title_label = _label(style="font-weight: bold; font-size: 13px;")
        self.formula_label = _label(
            style=theme.text_style(theme.INFO_INK, extra=" font-family: monospace;")
        )
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label.setWordWrap(True)  # a long formula wraps instead of widening the window
        heading = QHBoxLayout()
        heading.setSpacing(16)
        heading.addWidget(self.title_label)
        heading.addWidget(self.formula_label, 1)
        layout.addLayout(heading)
        self.explain_label = _label(wrap=True)
        self.lesson_label = _label(
            style=theme.text_style(theme.INFO_INK, extra=" font-style: italic;"), wrap=True
        )
        layout.addWidget(self.explain_label)
        layout.addWidget(self.lesson_label)
        return banner

    def _build_inputs(self) -> QGroupBox:
        box = QGroupBox("Input")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        grids = QGridLayout()
        grids.setHorizontalSpacing(6)
        grids.setVerticalSpacing(2)
        self.prediction_title = _label("x: logits (row = sample, column = class)")
        self.prediction_title.setToolTip(
            "Raw, unnormalised scores straight from the last Linear layer. Double-click or just "
            "type in a cell to edit; everything recomputes as you type. Ctrl+V pastes a whole "
            "tensor ([[0.1, 2.0], …] or torch's printout), Ctrl+C copies one."
        )
        self.target_title = _label("y")
        self.prediction_grid = TensorGrid("prediction")
        self.target_grid = TensorGrid("target", kind="class")
        self.grids = grids
        self._target_beside: bool | None = None
        self._place_target(beside=True)
        layout.addLayout(grids)
        self.error_label = _label(style=ERROR_STYLE, wrap=True)
        layout.addWidget(self.error_label)
        self.intermediate_table = HeatTable()
        self.intermediate_combo = QComboBox()
        self.intermediate_combo.setToolTip(
            "What happens between the logits and the loss: probabilities (softmax or sigmoid) "
            "and log-probabilities. Green shades are probabilities from 0 to 1."
        )
        between = QHBoxLayout()
        between.addWidget(_label("between x and the loss:"))
        between.addWidget(self.intermediate_combo, 1)
        layout.addLayout(between)
        layout.addWidget(self.intermediate_table)
        layout.addStretch(1)
        box.setMinimumWidth(410)
        box.setMaximumWidth(520)
        return box

    def _place_target(self, beside: bool) -> None:
        """A one-column target sits beside x; a grid target (ce-soft, multi-label) below it."""
        if beside == self._target_beside:
            return
        self._target_beside = beside
        for widget in (
            self.prediction_title,
            self.target_title,
            self.prediction_grid,
            self.target_grid,
        ):
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

    def _build_options(self) -> QWidget:
        options = QWidget()
        row = QHBoxLayout(options)
        row.setContentsMargins(0, 0, 0, 0)
        self.weight_edit = QLineEdit()
        self.weight_edit.setPlaceholderText("e.g. 1, 2, 1 (one per class)")
        self.weight_edit.setToolTip(
            "Class weights (weight=): rare classes can count more. With reduction 'mean' torch "
            "divides by the sum of the weights of the true classes, not by N."
        )
        self.smoothing_spin = QDoubleSpinBox()
        self.smoothing_spin.setRange(0.0, 1.0)
        self.smoothing_spin.setSingleStep(0.05)
        self.smoothing_spin.setDecimals(2)
        self.smoothing_spin.setToolTip(
            "label_smoothing: mixes the one-hot target with a uniform one, so the model is not "
            "pushed towards infinite confidence. NLLLoss has no such option."
        )
        self.ignore_spin = QSpinBox()
        self.ignore_spin.setRange(-1000, 1000)
        self.ignore_spin.setValue(-100)
        self.ignore_spin.setToolTip(
            "ignore_index: rows whose target equals this are skipped (no loss, no gradient); "
            "-100 is torch's default, used for padding."
        )
        self.pos_weight_edit = QLineEdit()
        self.pos_weight_edit.setPlaceholderText("e.g. 3 (one per column)")
        self.pos_weight_edit.setToolTip(
            "pos_weight (BCEWithLogitsLoss only): how much more a missed positive costs than a "
            "false alarm, e.g. negatives/positives for imbalanced labels. BCELoss has none."
        )
        row.addWidget(_label("Options", "font-weight: bold;"))
        row.addSpacing(4)
        for name, widget, stretch in (
            ("weight", self.weight_edit, 2),
            ("label_smoothing", self.smoothing_spin, 0),
            ("ignore_index", self.ignore_spin, 0),
            ("pos_weight", self.pos_weight_edit, 1),
        ):
            label = QLabel(name)
            label.setToolTip(widget.toolTip())
            label.setBuddy(widget)
            row.addWidget(label)
            row.addWidget(widget, stretch)
            row.addSpacing(10)
        return options

    def _build_results(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self._build_cards())
        self.notes_label = _label(style=NOTE_STYLE, wrap=True)
        self.notes_label.hide()
        layout.addWidget(self.notes_label)
        layout.addLayout(self._build_gradients())
        self.hint_label = _label(style=theme.text_style(theme.INK), wrap=True)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.hint_label)
        layout.addStretch(1)
        return panel

    def _build_cards(self) -> QHBoxLayout:
        cards = QHBoxLayout()
        self.fused_card = ResultCard("fused / reference", FUSED_COLOUR)
        self.fused_card.setToolTip(
            "Why fused losses exist: one call computes log-softmax with the log-sum-exp trick "
            "(subtract the row max before exp), so huge logits neither overflow nor round "
            "probabilities to 0 or 1, and backward has a simple exact formula (softmax - onehot)."
        )
        self.composed_card = ResultCard("composed / look-alike", COMPOSED_COLOUR)
        cards.addWidget(self.fused_card, 5)
        cards.addWidget(self._build_verdict(), 3)
        cards.addWidget(self.composed_card, 5)
        return cards

    def _build_verdict(self) -> QFrame:
        self.verdict = QFrame()
        self.verdict.setObjectName("verdict")
        verdict_layout = QVBoxLayout(self.verdict)
        verdict_layout.setContentsMargins(8, 6, 8, 6)
        verdict_layout.setSpacing(2)
        self.verdict_label = _label(style="font-size: 17px; font-weight: bold;")
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.diff_label = _label(style=theme.text_style(theme.INK, size_px=12))
        self.diff_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.diff_label.setToolTip(
            "Δ value: largest absolute difference of the two losses. Δ grad: largest absolute "
            "difference of the gradients with respect to x; about 1e-7 is float32 rounding."
        )
        self.expect_label = _label(style=theme.text_style(theme.MUTED, size_px=11), wrap=True)
        self.expect_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (self.verdict_label, self.diff_label, self.expect_label):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            verdict_layout.addWidget(widget)
        return self.verdict

    def _build_gradients(self) -> QHBoxLayout:
        tables = QHBoxLayout()
        self.fused_grad = HeatTable()
        self.composed_grad = HeatTable()
        grad_tip = (
            "Gradient of the loss with respect to each logit (∂loss/∂x): red pushes the logit "
            "down, blue pushes it up when training subtracts it. For cross-entropy it is "
            "(softmax - onehot) / N. Both grids share one colour scale. A number in bold "
            "italics is one torch changed (e.g. BCELoss's clamp): hover it for why. Right-click "
            "to copy the gradient as a tensor."
        )
        for title, table, colour in (
            ("∂loss/∂x, fused   (red +, blue −)", self.fused_grad, FUSED_COLOUR),
            ("∂loss/∂x, composed   (red +, blue −)", self.composed_grad, COMPOSED_COLOUR),
        ):
            column = QVBoxLayout()
            column.setSpacing(2)
            heading = _label(title, theme.text_style(colour, extra=" font-weight: bold;"))
            heading.setToolTip(grad_tip)
            heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            table.setToolTip(grad_tip)
            column.addWidget(heading)
            column.addWidget(table)
            column.addStretch(1)
            tables.addLayout(column, 1)
        return tables

    def _build_plot(self) -> QWidget:
        box = QGroupBox("Stability: scale the logits by s = 1 … 1000")
        box.setToolTip(
            "Both forms on s·x, in float32 (solid) and float64 (dashed). Where the curves part, "
            "one form has lost precision: Sigmoid rounds to 0 or 1 and BCELoss clamps log(0) to "
            "-100, while BCEWithLogitsLoss stays exact. Differences below 1e-17 (including "
            "exact 0) are drawn at 1e-17; with reduction 'none' the per-sample losses are summed."
        )
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        self.plot = StabilityPlot()
        self.plot_caption = _label(style=theme.text_style(theme.INK), wrap=True)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.plot_caption)
        return box

    def _connect(self) -> None:
        self.pair_combo.currentIndexChanged.connect(self._on_pair_changed)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.reduction_combo.currentIndexChanged.connect(self.recompute)
        self.dtype_combo.currentIndexChanged.connect(self.recompute)
        self.rows_spin.valueChanged.connect(self._on_shape_changed)
        self.cols_spin.valueChanged.connect(self._on_shape_changed)
        self.random_button.clicked.connect(lambda: self.randomize(normal=False))
        self.normal_button.clicked.connect(lambda: self.randomize(normal=True))
        self.seed_button.clicked.connect(self.load_seed_example)
        self.copy_button.clicked.connect(self.copy_code)
        self._copied_timer.timeout.connect(lambda: self.copy_button.setText("Copy as PyTorch code"))
        for grid in (self.prediction_grid, self.target_grid):
            grid.edited.connect(self.recompute)
            grid.pasted.connect(lambda values, g=grid: self.paste_tensor(g.field, values))
            grid.paste_failed.connect(self._show_error)
            grid.copied.connect(
                lambda text, g=grid: self.statusMessage.emit(
                    f"{g.field} copied as a tensor: {text[:60]}{'…' if len(text) > 60 else ''}",
                    4000,
                )
            )
        self.weight_edit.textChanged.connect(self.recompute)
        self.pos_weight_edit.textChanged.connect(self.recompute)
        self.smoothing_spin.valueChanged.connect(self.recompute)
        self.ignore_spin.valueChanged.connect(self.recompute)
        self.intermediate_combo.currentIndexChanged.connect(self._show_intermediate)

    def _shortcuts(self) -> None:
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in (
            ("Ctrl+R", lambda: self.randomize(normal=False)),
            ("Ctrl+Shift+R", lambda: self.randomize(normal=True)),
            ("Ctrl+E", self.load_seed_example),
            ("Ctrl+Shift+C", self.copy_code),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)

    # ================================================================== state
    @property
    def pair_name(self) -> str:
        return self.pair_combo.currentData()

    def set_pair(self, name: str) -> None:
        self.pair_combo.setCurrentIndex(self.pair_combo.findData(name))

    def options(self) -> LossOptions:
        """The option widgets as ``LossOptions``; a malformed weight raises ``InputError``."""
        return LossOptions(
            reduction=self.reduction_combo.currentText(),
            weight=self._read_vector(self.weight_edit, "weight"),
            label_smoothing=(
                round(self.smoothing_spin.value(), 4) if self.smoothing_spin.isEnabled() else 0.0
            ),
            ignore_index=self.ignore_spin.value() if self.ignore_spin.isEnabled() else -100,
            pos_weight=self._read_vector(self.pos_weight_edit, "pos_weight"),
            dtype=self.dtype_combo.currentText(),
        )

    @staticmethod
    def _read_vector(edit: QLineEdit, field: str) -> list[float] | None:
        if not edit.isEnabled():
            return None
        text = edit.text().strip().strip("[]").replace(",", " ")
        if not text:
            return None
        return [parse_number(part, field=field, row=i) for i, part in enumerate(text.split())]

    def set_example(self, prediction: list, target: list) -> None:
        """Show new tensors (resizing the spins) and recompute once."""
        rows, cols = len(prediction), len(prediction[0])
        with QSignalBlocker(self.rows_spin), QSignalBlocker(self.cols_spin):
            self.cols_spin.setMinimum(1 if self._target_kind == BINARY else 2)
            self.rows_spin.setValue(rows)
            self.cols_spin.setValue(cols)
        self.prediction_grid.set_values(prediction)
        self.target_grid.set_values(target)
        self._place_target(beside=self.target_grid.columnCount() == 1)
        self.recompute()

    def _configure_for_pair(self) -> None:
        pair = PAIRS[self.pair_name]
        refit = pair.target_kind != self._target_kind and bool(self._target_kind)
        self._target_kind = pair.target_kind
        if refit:
            self._needs_fit = True  # once the new tensors are in the grids (set_example)
        self.target_grid.kind = "class" if pair.target_kind == CLASS else "number"
        if pair.target_kind == CLASS:
            self.target_title.setText("y: class")
            self.target_title.setToolTip("The true class of each row: a whole number 0 … C-1.")
        else:
            self.target_title.setText("t: target in [0, 1]")
            self.target_title.setToolTip(
                "A probability per cell: 0/1 labels or soft targets, same shape as x."
            )
        binary = pair.target_kind == BINARY
        self.prediction_title.setText(
            "x: logits (row = sample, column = yes/no question)"
            if binary
            else "x: logits (row = sample, column = class)"
        )
        with QSignalBlocker(self.cols_spin):
            self.cols_spin.setMinimum(1 if binary else 2)
        self.weight_edit.setEnabled("weight" in pair.options)
        self.smoothing_spin.setEnabled("label_smoothing" in pair.options)
        self.ignore_spin.setEnabled("ignore_index" in pair.options)
        self.pos_weight_edit.setEnabled("pos_weight" in pair.options)
        self.title_label.setText(pair.title)
        self.formula_label.setText(pair.formula)
        self.explain_label.setText(pair.explanation)
        self.fused_card.heading.setText("reference (correct)" if pair.mistake else "fused")
        self.composed_card.heading.setText("look-alike" if pair.mistake else "composed")

    def fit_splitter(self) -> None:
        """Give the inputs and results the height they ask for and the plot the rest.

        A probability target is a second full grid below x, so its pair asks for more. Called
        on every resize until the learner moves the splitter, and when the kind of pair changes.
        """
        total = sum(self.splitter.sizes()) or sum(SPLITTER_SIZES)
        preferred = (
            SPLITTER_SIZES_GRID_TARGET if self._target_kind == PROBABILITY else SPLITTER_SIZES
        )
        wanted = self._top_wanted_height()
        top = max(TOP_MIN_HEIGHT, min(wanted, preferred[0]))
        self.splitter.setSizes([top, max(total - top, self.plot.minimumHeight())])

    def _top_wanted_height(self) -> int:
        """The inputs' and results' preferred height now, not as cached before the last edit
        (Qt recomputes layouts lazily, so every nested layout is invalidated first)."""
        top = self.splitter.widget(0)
        for child in top.findChildren(QWidget):
            if child.layout() is not None:
                child.layout().invalidate()
        top.layout().invalidate()
        return top.sizeHint().height()

    def _refit_after_layout(self) -> None:
        """Runs once Qt has laid out the new result: a new kind of pair gets a fresh split,
        otherwise the top only grows if it has to."""
        if self._needs_fit:
            self._needs_fit = False
            self.fit_splitter()
        else:
            self._grow_top_if_needed()

    def _grow_top_if_needed(self) -> None:
        """Long notes (e.g. BCE saturation) need more height: take it from the plot, keeping the
        plot at least PLOT_MIN_HEIGHT, so no gradient row is hidden behind a scroll bar."""
        top, bottom = self.splitter.sizes()
        wanted = self._top_wanted_height() + GROW_MARGIN
        if wanted > top and bottom > PLOT_MIN_HEIGHT:
            grow = min(wanted - top, bottom - PLOT_MIN_HEIGHT)
            self.splitter.setSizes([top + grow, bottom - grow])

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt naming)
        """Until the learner drags the splitter, every window size gets the fitted split."""
        super().resizeEvent(event)
        if not self._user_split:
            self.fit_splitter()

    def _on_splitter_moved(self) -> None:
        self._user_split = True

    # ================================================================== actions
    def _on_pair_changed(self) -> None:
        old_kind = self._target_kind
        self._configure_for_pair()
        self.lesson_label.hide()
        if self._target_kind != old_kind:
            self.set_example(*default_example(self.pair_name))
        else:
            self.recompute()

    def _on_preset_chosen(self, index: int) -> None:
        title = self.preset_combo.itemData(index)
        if title:
            self.load_preset(title)
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentIndex(0)

    def load_preset(self, title: str) -> None:
        preset = PRESETS[title]
        self._reset_options()
        with QSignalBlocker(self.pair_combo):
            self.set_pair(preset.pair)
        self._configure_for_pair()
        self.set_example(preset.prediction, preset.target)
        self.lesson_label.setText(preset.lesson)
        self.lesson_label.show()

    def _reset_options(self) -> None:
        widgets = (
            self.reduction_combo,
            self.dtype_combo,
            self.weight_edit,
            self.pos_weight_edit,
            self.smoothing_spin,
            self.ignore_spin,
        )
        blockers = [QSignalBlocker(w) for w in widgets]
        self.reduction_combo.setCurrentIndex(0)
        self.dtype_combo.setCurrentIndex(0)
        self.weight_edit.clear()
        self.pos_weight_edit.clear()
        self.smoothing_spin.setValue(0.0)
        self.ignore_spin.setValue(-100)
        del blockers

    def load_seed_example(self) -> None:
        """The seed's printed tensors for the current kind of pair (one-hot targets for ce-soft)."""
        pair = PAIRS[self.pair_name]
        if pair.target_kind == BINARY:
            self.load_preset("Seed example: BCE")
            return
        x, y = SEED_EXAMPLES["ce-nll"]
        if pair.target_kind == PROBABILITY:
            self._reset_options()
            self.set_example(x, onehot(y, len(x[0])))
            self.lesson_label.setText(
                "The seed's logits with one-hot targets: the same 1.6802 as with class indices."
            )
            self.lesson_label.show()
            return
        self.load_preset("Seed example: CE")
        if pair.name != "ce-nll":
            with QSignalBlocker(self.pair_combo):
                self.set_pair(pair.name)
            self._configure_for_pair()
            self.recompute()
            other = "gives the same" if pair.agrees else "does not give it"
            self.lesson_label.setText(
                "The seed notebook's printed tensors: CrossEntropyLoss gives 1.6802; "
                f"{pair.composed_label} {other}."
            )

    def paste_tensor(self, field: str, values: float | list) -> None:
        """Show a pasted tensor in the ``field`` grid ("prediction" or "target"), resizing the
        N and C spins to its shape; a shape that does not fit the pair is shown as an error."""
        kind = self._target_kind
        rows = values if isinstance(values, list) else [values]
        if field == "target" and kind == CLASS:
            rows = [r[0] if isinstance(r, list) and len(r) == 1 else r for r in rows]
            if any(isinstance(r, list) for r in rows):
                self._show_error(
                    InputError("a class target is one index per row, e.g. [0, 1, 4]", field=field)
                )
                return
            self.target_grid.set_values(rows)
            self.recompute()
            return
        if not isinstance(rows[0], list):  # a flat list: one sample (CE) or one column (BCE)
            rows = [[v] for v in rows] if kind == BINARY or field == "target" else [rows]
        if len(rows) > self.rows_spin.maximum() or len(rows[0]) > self.cols_spin.maximum():
            self._show_error(
                InputError(
                    f"the pasted {field} is {len(rows)}×{len(rows[0])}; the playground shows at "
                    f"most {self.rows_spin.maximum()}×{self.cols_spin.maximum()}",
                    field=field,
                )
            )
            return
        if field == "target":
            self.target_grid.set_values(rows)
            self.recompute()
            return
        self._show_pasted_prediction(rows)

    def _show_pasted_prediction(self, rows: list[list[float]]) -> None:
        target = self.target_grid
        with QSignalBlocker(self.rows_spin), QSignalBlocker(self.cols_spin):
            self.rows_spin.setValue(len(rows))
            self.cols_spin.setValue(len(rows[0]))
        self.prediction_grid.set_values(rows)
        if self._target_kind == CLASS:
            target.set_shape(len(rows), 1, fill="0")
        else:
            target.set_shape(len(rows), len(rows[0]), fill="0.0")
        self._place_target(beside=target.columnCount() == 1)
        self.lesson_label.hide()
        self.recompute()

    def randomize(self, normal: bool = False) -> None:
        seed = self.seed_spin.value()
        prediction, target = random_example(
            self.pair_name,
            self.rows_spin.value(),
            self.cols_spin.value(),
            seed,
            normal=normal,
            scale=self.scale_spin.value(),
        )
        self.lesson_label.hide()
        self.set_example(prediction, target)
        self.seed_spin.setValue(seed + 1)

    def copy_code(self) -> str | None:
        if self.comparison is None:
            return None
        code = pytorch_code(self.comparison)
        QGuiApplication.clipboard().setText(code)
        self.copy_button.setText("Copied ✓")
        self._copied_timer.start()
        self.statusMessage.emit("PyTorch code for this comparison is on the clipboard", 4000)
        return code

    def _on_shape_changed(self) -> None:
        rows, cols = self.rows_spin.value(), self.cols_spin.value()
        self.prediction_grid.set_shape(rows, cols)
        if self._target_kind == CLASS:
            self.target_grid.set_shape(rows, 1, fill="0")
        else:
            self.target_grid.set_shape(rows, cols, fill="0.0")
        self._place_target(beside=self.target_grid.columnCount() == 1)
        self.recompute()

    # ================================================================== computing
    def recompute(self) -> None:
        """Read the grids and options, compare, and show the result or mark the error."""
        errors: list[InputError] = []
        tensors = []
        for grid in (self.prediction_grid, self.target_grid):
            try:
                tensors.append(grid.read())
            except InputError as exc:
                errors.append(exc)
        for edit in (self.weight_edit, self.pos_weight_edit):
            edit.setStyleSheet("")
        if errors:
            self._show_error(errors[0])
            return
        try:
            result = compare(self.pair_name, tensors[0], tensors[1], self.options())
        except InputError as exc:
            self._show_error(exc)
            return
        self.error = None
        self.error_label.setText("")
        self._set_stale(False)
        self.show_comparison(result)
        self._sweep_timer.start()

    def _show_error(self, error: InputError) -> None:
        self.error = error
        if error.field == "prediction":
            self.prediction_grid.mark_error(error)
        elif error.field == "target":
            self.target_grid.mark_error(error)
        elif error.field == "weight":
            self.weight_edit.setStyleSheet(LINE_ERROR_STYLE)
        elif error.field == "pos_weight":
            self.pos_weight_edit.setStyleSheet(LINE_ERROR_STYLE)
        suffix = " (results show the last valid input)" if self.comparison else ""
        self.error_label.setText(f"⚠ {error}{suffix}")
        self._set_stale(True)

    def _set_stale(self, stale: bool) -> None:
        for widget in (self.fused_card, self.composed_card, self.verdict):
            widget.setEnabled(not stale)

    def show_comparison(self, result: LossComparison) -> None:
        self.comparison = result
        pair = PAIRS[result.pair]
        for card, form in ((self.fused_card, result.fused), (self.composed_card, result.composed)):
            vector = isinstance(form.value, list)
            card.show_result(form.label, display_value(form.value), form.grad_fn, vector=vector)
            card.value.setToolTip(repr(form.value))
        self._show_verdict(result, pair.mistake)
        scale = max(
            (
                abs(v)
                for v in _flatten(result.fused.grad) + _flatten(result.composed.grad)
                if math.isfinite(v)
            ),
            default=0.0,
        )
        self.fused_grad.set_grid(result.fused.grad, scale=scale)
        self.composed_grad.set_grid(result.composed.grad, scale=scale)
        self.composed_grad.annotate([(v.row, v.col, v.text) for v in result.saturated])
        current = self.intermediate_combo.currentText()
        with QSignalBlocker(self.intermediate_combo):
            self.intermediate_combo.clear()
            self.intermediate_combo.addItems(list(result.intermediates))
            index = self.intermediate_combo.findText(current)
            self.intermediate_combo.setCurrentIndex(max(index, 0))
        self._show_intermediate()
        QTimer.singleShot(0, self._refit_after_layout)
        notes = ([f"Not finite: {result.overflow}"] if result.overflow else []) + result.notes
        self.hint_label.setText(pair.hint)
        self.notes_label.setText("\n".join(f"• {n}" for n in notes))
        self.notes_label.setVisible(bool(notes))

    def _show_verdict(self, result: LossComparison, mistake: bool) -> None:
        if result.agree:
            text, colour, background = "agree ✓", theme.OK, theme.OK_BG
        else:
            text, colour, background = "differ ✗", theme.ERROR, theme.ERROR_SOFT_BG
        self.verdict.setStyleSheet(
            f"#verdict {{ background: {background}; border: 1px solid {colour}; "
            "border-radius: 4px; }"
        )
        self.verdict_label.setText(text)
        self.verdict_label.setStyleSheet(
            theme.text_style(colour, size_px=17, extra=" font-weight: bold;")
        )
        self.diff_label.setText(f"Δ value {result.value_diff:.2g}\nΔ grad {result.grad_diff:.2g}")
        self.expect_label.setText(verdict_reason(result, mistake))
        self.expect_label.setToolTip(result.overflow or "")

    def _show_intermediate(self) -> None:
        if self.comparison is None:
            return
        name = self.intermediate_combo.currentText()
        values = self.comparison.intermediates.get(name)
        if values is None:
            return
        probability = name.startswith(("softmax", "sigmoid"))
        self.intermediate_table.set_grid(values, mode="probability" if probability else "plain")

    def update_sweep(self) -> None:
        """Recompute the stability plot for the current valid input."""
        result = self.comparison
        if result is None:
            return
        sweep = stability_sweep(
            result.pair, result.prediction, result.target, result.options, log_scales(points=41)
        )
        self.plot.show_sweep(sweep)
        self.plot_caption.setText(sweep_summary(sweep))

    def shutdown(self) -> None:
        """Called by the main window on close: stop the timers (there are no threads)."""
        self._sweep_timer.stop()
        self._copied_timer.stop()
