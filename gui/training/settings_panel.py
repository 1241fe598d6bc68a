"""The Training tab's "Model and training settings" box, built from the settings table.

Every control comes from ``core.training.train_settings.SETTINGS`` (label, range, choices,
tooltip), so a setting is described in one place; ``config()`` reads them back as a
``TrainConfig`` and ``set_config`` shows one. A preset fills the controls and a hand change to a
setting it fixes makes them "Custom".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabBar,
    QTabWidget,
    QWidget,
)

from core.device import available_devices
from core.training.train_settings import (
    PRESET_NOTES,
    PRESETS,
    SETTINGS,
    Setting,
    apply_preset,
)
from core.training.train_types import TrainConfig
from gui import theme
from gui.training.augment_strip import AugmentStrip
from gui.training.state import mnemonic_of, unique_mnemonic

WIDE_SETTINGS = ("model", "loss", "optimizer")  # a full row each; the others two per row
PLAYGROUND_PAIR = "ce-nll"


def control_name(setting: Setting) -> str:
    """The attribute a setting's widget gets on the tab (``epochs_spin``, ``model_combo``)."""
    if setting.choices:
        return f"{setting.name}_combo"
    if setting.kind is bool:
        return f"{setting.name}_check"
    return {"batch_size": "batch_spin"}.get(setting.name, f"{setting.name}_spin")


def make_control(setting: Setting) -> QWidget:
    """A combo box for a choice, a spin box for a number, a check box for a yes/no setting,
    ranged and explained by the table."""
    if setting.kind is bool:
        widget: QWidget = QCheckBox(setting.label)
    elif setting.choices:
        combo = QComboBox()
        for choice in setting.choices:
            combo.addItem(choice.title, choice.value)
            combo.setItemData(combo.count() - 1, choice.tooltip, Qt.ItemDataRole.ToolTipRole)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        widget = combo
    elif setting.kind is float:
        spin = QDoubleSpinBox()
        spin.setDecimals(setting.decimals)
        spin.setSingleStep(setting.step)
        if setting.name == "lr":
            spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        spin.setRange(*setting.control_range)
        widget = spin
    else:
        spin = QSpinBox()
        spin.setSingleStep(int(setting.step))
        low, high = setting.control_range
        spin.setRange(int(low), int(min(high, 2**31 - 1)))
        widget = spin
    widget.setToolTip(setting.tooltip)
    return widget


def changed_signal(widget: QWidget) -> SignalInstance:
    """The signal a settings widget sends when the learner changes its value."""
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.valueChanged


def value_of(widget: QWidget, kind: type) -> object:
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return kind(widget.value())


def _keyed(container: QWidget) -> list[QWidget]:
    """Controls whose text can carry a mnemonic: buttons, check boxes, labels with a buddy."""
    found = [w for w in container.findChildren(QAbstractButton) if "&" in w.text()]
    return found + [w for w in container.findChildren(QLabel) if w.buddy() is not None]


def _retext(widget: QWidget, text: str) -> None:
    """Set ``text`` keeping a button's own shortcut: ``setText`` replaces a button's shortcut
    with the text's mnemonic (how Ctrl+P was once lost)."""
    old = widget.text()
    if text == old:
        return
    own = widget.shortcut() if isinstance(widget, QAbstractButton) else QKeySequence()
    widget.setText(text)
    if not own.isEmpty() and own != QKeySequence.mnemonic(old):
        widget.setShortcut(own)


def make_mnemonics_unique(
    always: list[QWidget], tabs: QTabWidget, promised: tuple[QWidget, ...] = ()
) -> None:
    """Give every Alt+letter in view one meaning: ``promised`` controls (the README's keyboard
    table names their keys) keep theirs, then ``always`` (the column beside the pages) and the
    page tabs, then each page of ``tabs`` against those (pages never show together). Letters
    from the settings table stay where they are unless another control had it first."""
    taken = {m for m in (mnemonic_of(w.text()) for w in promised) if m}
    bar = tabs.tabBar()
    for index in range(bar.count()):
        bar.setTabText(index, unique_mnemonic(bar.tabText(index), taken))
    for container in always:
        for widget in _keyed(container):
            if widget not in promised:
                _retext(widget, unique_mnemonic(widget.text(), taken))
    for index in range(tabs.count()):
        page, page_taken = tabs.widget(index), set(taken)
        for inner in page.findChildren(QTabBar):  # e.g. the evaluation's per-digit/confidence
            for i in range(inner.count()):
                inner.setTabText(i, unique_mnemonic(inner.tabText(i), page_taken))
        for widget in _keyed(page):
            if widget not in promised:
                _retext(widget, unique_mnemonic(widget.text(), page_taken))


class SettingsPanel(QGroupBox):
    """One control per remembered ``TrainConfig`` setting, in the table's order."""

    openPlaygroundPair = Signal(str)  # a LossPair name the learner wants to see
    resetRequested = Signal()
    presetChosen = Signal(str)  # the sentence saying what the chosen preset is for ("" if none)
    findLrRequested = Signal()  # the learner asks the learning-rate finder (issue 26)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model and training settings", parent)
        self.controls: dict[str, QWidget] = {}
        self._showing_config = False  # set_config is filling the controls
        self._build()

    def control(self, name: str) -> QWidget:
        return self.controls[name]

    def _build(self) -> None:
        grid = QGridLayout(self)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self._build_reset_button()
        row, col = 0, 0
        # Dataset and folder come from the data panel; settings without a key have no widget.
        shown = [s for s in SETTINGS.values() if s.settings_key is not None]
        for setting in sorted(shown, key=lambda s: s.name != "preset"):  # a preset comes first
            widget = make_control(setting)
            self.controls[setting.name] = widget
            wide = setting.name in WIDE_SETTINGS
            if wide and col:
                row, col = row + 1, 0
            if isinstance(widget, QCheckBox):
                grid.addWidget(widget, row, col, 1, 2)
            else:
                label = QLabel(setting.label)
                label.setBuddy(widget)
                label.setToolTip(setting.tooltip)
                grid.addWidget(label, row, col)
                grid.addWidget(widget, row, col + 1, 1, 3 if wide else 1)
            if setting.name == "loss":
                row += 1
                grid.addWidget(self._build_playground_link(), row, 1, 1, 3)
            if setting.name == "momentum":  # under the lr and momentum pair
                row += 1
                grid.addWidget(self._build_find_lr_link(), row, 1, 1, 3)
            if setting.name == "preset":  # "start from": the way back to the defaults beside it
                grid.addWidget(self.reset_button, row, 2, 1, 2, Qt.AlignmentFlag.AlignRight)
                grid.addWidget(self._build_preset_note(), row + 1, 0, 1, 4)
                row, col = row + 2, 0
                continue
            row, col = (row + 1, 0) if wide or col else (row, 2)
        self._mark_absent_devices()
        self._show_preset_note()
        self.controls["optimizer"].currentIndexChanged.connect(self.update_momentum_enabled)
        for name, widget in self.controls.items():
            if name == "preset":
                widget.currentIndexChanged.connect(self._apply_preset)
                widget.currentIndexChanged.connect(self._show_preset_note)
            else:
                changed_signal(widget).connect(self._leave_preset_if_changed)
        self.augment_strip = AugmentStrip()
        grid.addWidget(self.augment_strip, row + 1, 0, 1, 4)
        self.controls["augment"].toggled.connect(self._show_augment_strip)
        self._show_augment_strip(self.controls["augment"].isChecked())

    def _show_augment_strip(self, on: bool) -> None:
        if on:
            self.augment_strip.show_examples()
        else:
            self.augment_strip.hide()

    def _build_preset_note(self) -> QLabel:
        """One line under the preset saying what it is for (the table's tooltip of the choice)."""
        self.preset_note = QLabel()
        self.preset_note.setObjectName("presetNote")
        self.preset_note.setWordWrap(True)
        self.preset_note.setStyleSheet(theme.text_style(theme.MUTED))
        return self.preset_note

    def _show_preset_note(self) -> None:
        combo = self.controls["preset"]
        tip = combo.itemData(combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) or ""
        self.preset_note.setText(tip.replace("\n", " "))
        self.preset_note.setVisible(bool(combo.currentData()) and bool(tip))

    def _build_reset_button(self) -> None:
        self.reset_button = QPushButton("Rese&t settings")
        self.reset_button.setToolTip(
            "Put every setting here back to its default: the seed notebook's recipe\n"
            "(MLP, NLL loss, SGD lr 0.01 momentum 0.9, batch 64, 5 epochs)."
        )
        self.reset_button.clicked.connect(self.resetRequested)

    def _build_playground_link(self) -> QLabel:
        self.loss_link = QLabel(
            f"<a href='{PLAYGROUND_PAIR}'>Same numbers? Compare them in the playground</a>"
        )
        self.loss_link.setToolTip("Opens the Loss playground on the CrossEntropy vs NLL pair.")
        self.loss_link.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.loss_link.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.loss_link.linkActivated.connect(self.openPlaygroundPair)
        return self.loss_link

    def _build_find_lr_link(self) -> QLabel:
        self.find_lr_link = QLabel(
            "<a href='find'>Which learning rate? Let the finder suggest one</a>"
        )
        self.find_lr_link.setToolTip(
            "Trains a copy of the model for about 100 batches while the rate grows (fastai's\n"
            "lr_find) and marks the rate where the loss falls fastest; your settings stay."
        )
        self.find_lr_link.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.find_lr_link.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.find_lr_link.linkActivated.connect(lambda _link: self.findLrRequested.emit())
        return self.find_lr_link

    def _mark_absent_devices(self) -> None:
        """Devices this machine lacks stay listed (so the learner knows they exist), disabled."""
        present = available_devices()
        combo = self.controls["device"]
        for row in range(combo.count()):
            name = combo.itemData(row)
            if name == "auto":
                combo.setItemText(row, f"auto ({present[0]})")
            elif name not in present:
                combo.setItemText(row, f"{name} (not present)")
                combo.model().item(row).setEnabled(False)
        combo.setToolTip(f"{SETTINGS['device'].tooltip}\nPresent here: {', '.join(present)}.")

    # ----------------------------------------------------------------- values
    def config(self, dataset: str = "auto", data_dir: str | None = None) -> TrainConfig:
        """The ``TrainConfig`` the controls describe (the dataset is the data panel's), with
        the chosen preset's settings that have no control."""
        values = {name: value_of(w, SETTINGS[name].kind) for name, w in self.controls.items()}
        # A preset's settings without a control here (label smoothing, Adam's betas) come with
        # it, so the tab runs the preset the command line runs; "Custom" leaves them default.
        hidden = {k: v for k, v in PRESETS.get(values["preset"], {}).items() if k not in values}
        return TrainConfig(**values, **hidden, dataset=dataset, data_dir=data_dir)

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls (values outside the limits are clamped)."""
        self._showing_config = True
        try:
            for name, widget in self.controls.items():
                value = getattr(config, name)
                if isinstance(widget, QComboBox):
                    index = widget.findData(value)
                    item = widget.model().item(index) if index >= 0 else None
                    if item is not None and item.isEnabled():
                        widget.setCurrentIndex(index)
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                else:
                    widget.setValue(value)
        finally:
            self._showing_config = False
        self.update_momentum_enabled()

    def _apply_preset(self) -> None:
        """Choosing a preset puts its settings in the controls (and says what it is for)."""
        combo = self.controls["preset"]
        name = combo.currentData()
        if self._showing_config or not name:
            return
        self.set_config(apply_preset(self.config(), name))
        note = PRESET_NOTES.get(name)
        self.presetChosen.emit(f"{combo.currentText()}: {note}." if note else "")

    def _leave_preset_if_changed(self) -> None:
        """A setting changed by hand that the preset fixes makes the settings "Custom"."""
        combo = self.controls["preset"]
        name = combo.currentData()
        if self._showing_config or not name:
            return
        config = self.config()
        if any(getattr(config, key) != value for key, value in PRESETS[name].items()):
            combo.setCurrentIndex(combo.findData(""))

    def update_momentum_enabled(self) -> None:
        self.controls["momentum"].setEnabled(self.controls["optimizer"].currentData() == "sgd")
