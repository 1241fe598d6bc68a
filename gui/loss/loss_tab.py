"""Loss playground: type or generate logits and targets, see both forms of a loss pair side by
side (values, gradients, grad_fn, intermediates) and how they behave as the logits grow.

A thin view over :class:`gui.loss.state.PlaygroundState`: it hands the state what the grids and
options hold, and redraws every panel from the state when it changes. All numbers come from
``core.losses``, all words about them from ``core.losses.verdict``. Every edit recomputes at
once; the last valid result stays visible (greyed) while the input is invalid.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from core.errors import InputError
from core.losses import (
    BINARY,
    CLASS,
    PAIRS,
    PRESETS,
    PROBABILITY,
    LossComparison,
    LossOptions,
    LossPreset,
    default_example,
    pytorch_code,
    random_example,
    seed_example,
)
from core.losses.verdict import flatten
from gui.loss.controls import Banner, GenerateRow, OptionsRow, PairRow
from gui.loss.panels import InputPanel, ResultsPanel, StabilityPanel
from gui.loss.split import FittedSplit
from gui.loss.state import SCALE_MAX, SCALE_MIN, PlaygroundState, pasted_rows

LIVE_CELLS = 200  # gradients up to this many cells follow the slider at every step
GRIDS_EVERY_MS = 60  # larger ones at most this often while the slider moves

# The tab's attributes that are its parts' widgets (tests, lessons and the main window use them).
PARTS = {
    "pair_row": ("pair_combo", "preset_combo", "reduction_combo", "dtype_combo"),
    "generate_row": [
        "rows_spin",
        "cols_spin",
        "random_button",
        "seed_spin",
        "normal_button",
        "scale_spin",
        "seed_button",
        "copy_button",
    ],
    "options_row": ("weight_edit", "smoothing_spin", "ignore_spin", "pos_weight_edit"),
    "banner": ("title_label", "formula_label", "explain_label", "lesson_label"),
    "inputs": [
        "prediction_title",
        "target_title",
        "prediction_grid",
        "target_grid",
        "error_label",
        "intermediate_combo",
        "intermediate_table",
    ],
    "results": [
        "fused_card",
        "composed_card",
        "verdict_frame",
        "verdict_label",
        "diff_label",
        "expect_label",
        "notes_label",
        "fused_grad",
        "composed_grad",
        "hint_label",
    ],
    "stability": ("plot", "plot_caption", "scale_slider", "scale_label"),
}


class LossPlaygroundTab(QWidget):
    """The playground. It talks to the rest of the window through ``statusMessage`` (text,
    timeout in ms), which ``gui.main_window`` connects to its status bar, and tells lessons
    that anything shown changed through ``stateChanged`` (read ``state`` for the facts)."""

    statusMessage = Signal(str, int)  # noqa: N815 (Qt signal naming)
    stateChanged = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = PlaygroundState()
        self._target_kind = ""
        self._sliding = False
        self._shown: LossComparison | None = None
        self._grids_timer = QTimer(self)
        self._grids_timer.setSingleShot(True)
        self._grids_timer.setInterval(GRIDS_EVERY_MS)
        self._grids_timer.timeout.connect(self._show_grids)
        self._copied_timer = QTimer(self)  # owned by the tab, so it dies with it
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(1500)
        self._build()
        self._connect()
        self._shortcuts()
        self.state.subscribe(lambda _state: self._render())
        self.load_preset("Seed example: CE")

    # ================================================================== building
    def _build(self) -> None:
        self.pair_row, self.generate_row = PairRow(), GenerateRow()
        self.options_row, self.banner = OptionsRow(), Banner()
        self.inputs, self.results, self.stability = InputPanel(), ResultsPanel(), StabilityPanel()
        for part, names in PARTS.items():
            for name in names:
                setattr(self, name, getattr(getattr(self, part), name))
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 6, 8, 4)
        root.setSpacing(4)
        for row in (self.pair_row, self.generate_row, self.options_row, self.banner):
            root.addWidget(row)
        middle = QWidget()
        middle_layout = QHBoxLayout(middle)
        middle_layout.setContentsMargins(0, 0, 0, 0)
        middle_layout.addWidget(self.inputs, 0)
        middle_layout.addWidget(self.results, 1)
        self.splitter = FittedSplit(middle, self.stability)
        self.upper = self.splitter.upper
        root.addWidget(self.splitter, 1)

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
            grid.paste_failed.connect(self.state.set_error)
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
        self.stability.scaleChosen.connect(self.set_scale)

    def _shortcuts(self) -> None:
        """The tab's keys, wherever the keyboard is in the window while the tab shows.

        Window-wide (not on the tab's children): after Ctrl+1 or a click on the tab the keyboard
        is on the tab bar. A QShortcut of a hidden tab never fires, so Training's Ctrl+R and
        Ctrl+E do not clash; a focused line edit or spin box still takes its own keys first.
        """
        context = Qt.ShortcutContext.WindowShortcut
        for keys, slot in (
            ("Ctrl+R", lambda: self.randomize(normal=False)),
            ("Ctrl+Shift+R", lambda: self.randomize(normal=True)),
            ("Ctrl+E", self.load_seed_example),
            ("Ctrl+Shift+C", self.copy_code),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(context)
            shortcut.activated.connect(slot)

    # ================================================================== reading the state
    @property
    def pair_name(self) -> str:
        return self.pair_combo.currentData()

    @property
    def comparison(self) -> LossComparison | None:
        """The comparison shown (of s·x at the slider's scale)."""
        return self.state.comparison

    @property
    def error(self) -> InputError | None:
        return self.state.error

    def options(self) -> LossOptions:
        """The option widgets as ``LossOptions``; a malformed weight raises ``InputError``."""
        return self.options_row.options(
            self.reduction_combo.currentText(), self.dtype_combo.currentText()
        )

    # ================================================================== actions
    def set_pair(self, name: str) -> None:
        self.pair_combo.setCurrentIndex(self.pair_combo.findData(name))

    def set_scale(self, scale: float) -> None:
        """Move the stability slider's logit scale s (1 … 1000): cards and cursor follow. The
        split stays as it is while sliding, so the slider never moves under the mouse."""
        self._sliding = True
        try:
            self.state.set_scale(min(SCALE_MAX, max(SCALE_MIN, scale)))
        finally:
            self._sliding = False

    def _on_pair_changed(self) -> None:
        old_kind = self._target_kind
        self._configure_for_pair()
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

    def load_preset(self, title: str | LossPreset) -> None:
        """A ready-made case (a title of ``PRESETS`` or a preset), with its lesson, at s = 1
        and torch's default options."""
        preset = PRESETS[title] if isinstance(title, str) else title
        self._reset_options()
        with QSignalBlocker(self.pair_combo):
            self.set_pair(preset.pair)
        self._configure_for_pair()
        self.set_example(preset.prediction, preset.target, lesson=preset.lesson)

    def load_seed_example(self) -> None:
        """The seed's printed tensors for the current kind of pair (one-hot targets for ce-soft)."""
        self.load_preset(seed_example(self.pair_name))

    def _reset_options(self) -> None:
        blockers = [QSignalBlocker(w) for w in (self.reduction_combo, self.dtype_combo)]
        self.reduction_combo.setCurrentIndex(0)
        self.dtype_combo.setCurrentIndex(0)
        self.options_row.reset()
        del blockers

    def set_example(self, prediction: list, target: list, lesson: str | None = None) -> None:
        """Show new tensors (resizing the spins) and recompute once, at s = 1."""
        with QSignalBlocker(self.rows_spin), QSignalBlocker(self.cols_spin):
            self.cols_spin.setMinimum(1 if self._target_kind == BINARY else 2)
            self.rows_spin.setValue(len(prediction))
            self.cols_spin.setValue(len(prediction[0]))
        self.prediction_grid.set_values(prediction)
        self.target_grid.set_values(target)
        self.inputs.fit_target()
        self.recompute(lesson=lesson, scale=SCALE_MIN)

    def paste_tensor(self, field: str, values: float | list) -> None:
        """Show a pasted tensor in the ``field`` grid ("prediction" or "target"), resizing the
        N and C spins to its shape; a shape that does not fit the pair is shown as an error."""
        most = (self.rows_spin.maximum(), self.cols_spin.maximum())
        try:
            rows = pasted_rows(self._target_kind, field, values, most)
        except InputError as exc:
            self.state.set_error(exc)
            return
        if field == "target":
            self.target_grid.set_values(rows)
        else:
            with QSignalBlocker(self.rows_spin), QSignalBlocker(self.cols_spin):
                self.rows_spin.setValue(len(rows))
                self.cols_spin.setValue(len(rows[0]))
            self.prediction_grid.set_values(rows)
            self._shape_target(len(rows), len(rows[0]))
        self.recompute()

    def randomize(self, normal: bool = False) -> None:
        seed = self.seed_spin.value()
        rows, cols = self.rows_spin.value(), self.cols_spin.value()
        scale = self.scale_spin.value()
        example = random_example(self.pair_name, rows, cols, seed, normal=normal, scale=scale)
        self.set_example(*example)
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
        self._shape_target(rows, cols)
        self.recompute()

    def _shape_target(self, rows: int, cols: int) -> None:
        if self._target_kind == CLASS:
            self.target_grid.set_shape(rows, 1, fill="0")
        else:
            self.target_grid.set_shape(rows, cols, fill="0.0")
        self.inputs.fit_target()

    def _configure_for_pair(self) -> None:
        pair = PAIRS[self.pair_name]
        if pair.target_kind != self._target_kind and self._target_kind:
            self.splitter.needs_fit = True  # once the new tensors are in the grids
        self._target_kind = pair.target_kind
        self.splitter.grid_target = pair.target_kind == PROBABILITY
        self.state.set_pair(pair.name)
        with QSignalBlocker(self.cols_spin):
            self.cols_spin.setMinimum(1 if pair.target_kind == BINARY else 2)
        self.options_row.configure(pair)
        self.inputs.configure(pair)
        self.results.configure(pair)
        self.banner.show_pair(pair)

    # ================================================================== computing and showing
    def recompute(self, *, lesson: str | None = None, scale: float | None = None) -> None:
        """Read the grids and options and hand them to the state (or the first error)."""
        errors: list[InputError] = []
        tensors = []
        for grid in (self.prediction_grid, self.target_grid):
            try:
                tensors.append(grid.read())
            except InputError as exc:
                errors.append(exc)
        try:
            options = self.options()
        except InputError as exc:
            errors.append(exc)
        if errors:
            self.state.set_error(errors[0])
            return
        self.state.set_inputs(*tensors, options, lesson=lesson, scale=scale)

    def _render(self) -> None:
        """Show the state: the error (or none), the result if it is new, the lesson, the
        slider and the sweep; then tell listeners."""
        state = self.state
        self._show_error(state.error)
        if state.comparison is not None and state.comparison is not self._shown:
            self._shown = state.comparison
            self._show_result(state.comparison)
        self.results.set_stale(state.error is not None)
        self.banner.show_lesson(state.caption)
        if state.sweep is not None and state.sweep is not self.plot.sweep:
            self.stability.show_sweep(state.sweep)
        self.stability.show_scale(state.scale, state.parting_scale, state.options.dtype)
        self.stateChanged.emit()

    def _show_result(self, result: LossComparison) -> None:
        """Cards and verdict at once. The grids too, except while the slider drags a grid of
        more than LIVE_CELLS cells (filling a grid costs ~10 µs a cell): theirs follow at most
        every GRIDS_EVERY_MS, so a drag never waits for thousands of cells."""
        live = not self._sliding or len(flatten(result.fused.grad)) <= LIVE_CELLS
        self.results.show_comparison(result, PAIRS[result.pair], self.state.scale, gradients=live)
        if live:
            self._grids_timer.stop()
            self.inputs.show_intermediates(result, self.state.scale)
        elif not self._grids_timer.isActive():
            self._grids_timer.start()
        if not self._sliding:
            QTimer.singleShot(0, self.splitter.refit_after_layout)

    def _show_grids(self) -> None:
        """The gradient and intermediate grids of the comparison shown (after a drag step)."""
        result = self.state.comparison
        if result is not None:
            self.results.show_gradients(result)
            self.inputs.show_intermediates(result, self.state.scale)

    def _show_error(self, error: InputError | None) -> None:
        self.options_row.mark(error.field if error is not None else None)
        if error is None:
            self.inputs.show_error("")
            return
        if error.field == "prediction":
            self.prediction_grid.mark_error(error)
        elif error.field == "target":
            self.target_grid.mark_error(error)
        suffix = " (results show the last valid input)" if self.comparison else ""
        self.inputs.show_error(f"⚠ {error}{suffix}")

    def update_sweep(self) -> None:
        """Redraw the stability plot from the state (the state sweeps with every input)."""
        if self.state.sweep is not None:
            self.stability.show_sweep(self.state.sweep)

    def fit_splitter(self) -> None:
        """Fit the split to the inputs and results (see ``gui.loss.split``)."""
        self.splitter.fit()

    def shutdown(self) -> None:
        """Called by the main window on close: stop the timers (there are no threads)."""
        self._copied_timer.stop()
        self._grids_timer.stop()
