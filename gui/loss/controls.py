"""The Loss playground's controls above the results: the pair row, the generate row, the
options row and the banner that explains the pair. They hold widgets and read them; what the
values mean is decided in ``gui.loss.state`` and ``core.losses``."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.losses import PAIRS, PRESETS, LossOptions, LossPair
from core.losses.tensor_text import parse_number
from gui import theme

LINE_ERROR_STYLE = f"QLineEdit {{ background: {theme.ERROR_BG}; }}"


def make_label(text: str = "", style: str = "", wrap: bool = False) -> QLabel:
    label = QLabel(text)
    if style:
        label.setStyleSheet(style)
    label.setWordWrap(wrap)
    return label


def _row(widget: QWidget) -> QHBoxLayout:
    row = QHBoxLayout(widget)
    row.setContentsMargins(0, 0, 0, 0)
    return row


class PairRow(QWidget):
    """Which pair, a preset, the reduction and the dtype."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pair_combo = self._pair_combo()
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
        row = _row(self)
        row.addWidget(QLabel("Pair"))
        row.addWidget(self.pair_combo, 3)
        row.addSpacing(8)
        row.addWidget(self.preset_combo, 2)
        row.addSpacing(8)
        row.addWidget(QLabel("Reduction"))
        row.addWidget(self.reduction_combo)
        row.addWidget(QLabel("dtype"))
        row.addWidget(self.dtype_combo)

    @staticmethod
    def _pair_combo() -> QComboBox:
        combo = QComboBox()
        separated = False
        for pair in PAIRS.values():
            if pair.mistake and not separated:
                combo.insertSeparator(combo.count())
                separated = True
            combo.addItem(f"{pair.name}: {pair.fused_label} vs {pair.composed_label}", pair.name)
            combo.setItemData(combo.count() - 1, pair.explanation, Qt.ItemDataRole.ToolTipRole)
        combo.setToolTip(
            "Which two forms to compare. The first five are equivalent pairs; the rest are "
            "common mistakes (and one harmless look-alike)."
        )
        combo.setMinimumContentsLength(42)
        return combo


class GenerateRow(QWidget):
    """The shape (N, C), random tensors with a seed, the seed example and copying as code."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
            "Put a runnable script reproducing this comparison (at the slider's logit scale) "
            "on the clipboard. (Ctrl+Shift+C)"
        )
        row = _row(self)
        for widget, space in (
            (QLabel("N"), 0),
            (self.rows_spin, 0),
            (QLabel("C"), 0),
            (self.cols_spin, 12),
            (self.random_button, 0),
            (self.seed_spin, 6),
            (self.normal_button, 0),
            (self.scale_spin, 6),
            (self.seed_button, 0),
        ):
            row.addWidget(widget)
            if space:
                row.addSpacing(space)
        row.addStretch(1)
        row.addWidget(self.copy_button)


class OptionsRow(QWidget):
    """weight, label_smoothing, ignore_index and pos_weight, enabled where the pair takes them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self._lay_out()

    def _lay_out(self) -> None:
        row = _row(self)
        row.addWidget(make_label("Options", "font-weight: bold;"))
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

    def editors(self) -> tuple[QWidget, ...]:
        return (self.weight_edit, self.pos_weight_edit, self.smoothing_spin, self.ignore_spin)

    def configure(self, pair: LossPair) -> None:
        """Enable the options ``pair`` takes."""
        self.weight_edit.setEnabled("weight" in pair.options)
        self.smoothing_spin.setEnabled("label_smoothing" in pair.options)
        self.ignore_spin.setEnabled("ignore_index" in pair.options)
        self.pos_weight_edit.setEnabled("pos_weight" in pair.options)

    def reset(self) -> None:
        """torch's defaults, without signals (a preset recomputes once afterwards)."""
        blockers = [QSignalBlocker(w) for w in self.editors()]
        self.weight_edit.clear()
        self.pos_weight_edit.clear()
        self.smoothing_spin.setValue(0.0)
        self.ignore_spin.setValue(-100)
        del blockers

    def options(self, reduction: str, dtype: str) -> LossOptions:
        """The option widgets as ``LossOptions``; a malformed weight raises ``InputError``."""
        return LossOptions(
            reduction=reduction,
            weight=self._read_vector(self.weight_edit, "weight"),
            label_smoothing=(
                round(self.smoothing_spin.value(), 4) if self.smoothing_spin.isEnabled() else 0.0
            ),
            ignore_index=self.ignore_spin.value() if self.ignore_spin.isEnabled() else -100,
            pos_weight=self._read_vector(self.pos_weight_edit, "pos_weight"),
            dtype=dtype,
        )

    @staticmethod
    def _read_vector(edit: QLineEdit, field: str) -> list[float] | None:
        if not edit.isEnabled():
            return None
        text = edit.text().strip().strip("[]").replace(",", " ")
        if not text:
            return None
        return [parse_number(part, field=field, row=i) for i, part in enumerate(text.split())]

    def mark(self, field: str | None) -> None:
        """Colour the line edit an error points at (``None``: clear both)."""
        self.weight_edit.setStyleSheet(LINE_ERROR_STYLE if field == "weight" else "")
        self.pos_weight_edit.setStyleSheet(LINE_ERROR_STYLE if field == "pos_weight" else "")


class Banner(QFrame):
    """The pair's title, formula and explanation, and the lesson of the input (when true)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossBanner")
        self.setStyleSheet(
            f"#lossBanner {{ background: {theme.INFO_BG}; border: 1px solid {theme.INFO_BORDER};"
            " border-radius: 4px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setSpacing(1)
        self.title_label = make_label(style="font-weight: bold; font-size: 13px;")
        self.formula_label = make_label(
            style=theme.text_style(theme.INFO_INK, extra=" font-family: monospace;"), wrap=True
        )  # a long formula wraps instead of widening the window
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        heading = QHBoxLayout()
        heading.setSpacing(16)
        heading.addWidget(self.title_label)
        heading.addWidget(self.formula_label, 1)
        layout.addLayout(heading)
        self.explain_label = make_label(wrap=True)
        self.lesson_label = make_label(
            style=theme.text_style(theme.INFO_INK, extra=" font-style: italic;"), wrap=True
        )
        self.lesson_label.setToolTip(
            "What this preset shows. It stays while the tensors are the preset's, and goes as "
            "soon as an edit makes it untrue."
        )
        layout.addWidget(self.explain_label)
        layout.addWidget(self.lesson_label)

    def show_pair(self, pair: LossPair) -> None:
        self.title_label.setText(pair.title)
        self.formula_label.setText(pair.formula)
        self.explain_label.setText(pair.explanation)

    def show_lesson(self, caption: str) -> None:
        self.lesson_label.setText(caption)
        self.lesson_label.setVisible(bool(caption))
