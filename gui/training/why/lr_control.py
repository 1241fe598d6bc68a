"""A control for the Run box: change the learning rate of a running run.

The learner types or steps a rate (x2 / /2 buttons for the usual moves) and clicks Apply;
``lrRequested(lr)`` goes to the tab, which calls ``Trainer.set_lr`` (thread-safe; the trainer uses
it from the next step, for every parameter group, scaling a schedule). Enabled only while a run
runs; the run's ``LrChanged`` event marks the curves.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QPushButton, QWidget

from gui.training.why.state import lr_text


class LrControl(QWidget):
    lrRequested = Signal(float)  # noqa: N815 (Qt naming)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=10.0, value=0.01)
        self.box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.box.setToolTip(
            "A new learning rate for the running run, used from its next step on (with a\n"
            "schedule it scales the schedule). Watch the loss react; the change is recorded\n"
            "with the run and exported with its script."
        )
        self.half = QPushButton("\u00f72")
        self.half.setToolTip("Halve the learning rate")
        self.half.clicked.connect(lambda: self._scale(0.5))
        self.double = QPushButton("\u00d72")
        self.double.setToolTip("Double the learning rate")
        self.double.clicked.connect(lambda: self._scale(2.0))
        self.apply = QPushButton("&Apply lr")
        self.apply.clicked.connect(self._apply)
        self.note = QLabel("")
        # Two rows: it fits the Training tab's Run box (380 px) at any window size (issue 22).
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Learning rate now")
        label.setBuddy(self.box)
        layout.addWidget(label, 0, 0)
        layout.addWidget(self.box, 0, 1)
        layout.addWidget(self.apply, 0, 2)
        layout.addWidget(self.half, 1, 1)
        layout.addWidget(self.double, 1, 2)
        layout.addWidget(self.note, 2, 0, 1, 3)
        self.note.setWordWrap(True)
        self.set_running(False)

    def set_running(self, running: bool, lr: float | None = None) -> None:
        """Enable while a run runs; ``lr`` shows its current rate."""
        if lr is not None:
            self.box.setValue(lr)
        for widget in (self.box, self.half, self.double, self.apply):
            widget.setEnabled(running)
        if not running:
            self.note.setText("")

    def changed(self, lr: float, step: int) -> None:
        """The trainer applied a change (its ``LrChanged`` event): say so."""
        self.box.setValue(lr)
        self.note.setText(f"lr {lr_text(lr)} from step {step + 1}")

    def _scale(self, factor: float) -> None:
        self.box.setValue(self.box.value() * factor)

    def _apply(self) -> None:
        self.lrRequested.emit(float(self.box.value()))
