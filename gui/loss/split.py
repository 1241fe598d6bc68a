"""How the Loss playground shares its height: the inputs and results above (in a scroll area),
the stability panel below, in a vertical splitter that fits what the upper part asks for.

Until the learner drags the splitter, every window size gets the fitted split; a new kind of
pair (a probability target is a second full grid) gets a fresh one; long notes grow the upper
part, taking height from the plot down to PLOT_MIN_HEIGHT. Past that a small window scrolls
the upper part: a table never shows fewer rows than it has (issue 22).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QWidget

# Inputs and results above, stability plot below (pixels at 1280x800).
SPLITTER_SIZES = (400, 280)
SPLITTER_SIZES_GRID_TARGET = (500, 180)
TOP_MIN_HEIGHT = 160
GROW_MARGIN = 16  # wrapped labels ask for a little more than sizeHint says
PLOT_MIN_HEIGHT = 180  # the stability panel keeps this much when the results grow


class FittedSplit(QSplitter):
    """The upper ``content`` in a vertical scroll area over ``lower``, split as described in
    the module docstring. ``grid_target`` says whether the pair's target is a full grid."""

    def __init__(self, content: QWidget, lower: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.upper = QScrollArea()  # a small window scrolls the inputs, never cuts a table
        self.upper.setWidget(content)
        self.upper.setWidgetResizable(True)
        self.upper.setFrameShape(QFrame.Shape.NoFrame)
        self.upper.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lower = lower
        self.addWidget(self.upper)
        self.addWidget(lower)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.setChildrenCollapsible(False)
        self.setSizes(list(SPLITTER_SIZES))
        self.grid_target = False
        self.user_split = False
        self.needs_fit = False
        self.splitterMoved.connect(self._on_moved)

    def fit(self) -> None:
        """Give the upper part the height it asks for and the plot the rest (at least
        PLOT_MIN_HEIGHT)."""
        total = sum(self.sizes()) or sum(SPLITTER_SIZES)
        preferred = SPLITTER_SIZES_GRID_TARGET if self.grid_target else SPLITTER_SIZES
        top = min(self.wanted_height(), preferred[0], total - PLOT_MIN_HEIGHT)
        top = max(TOP_MIN_HEIGHT, top)
        self.setSizes([top, max(total - top, self.lower.minimumHeight())])

    def wanted_height(self) -> int:
        """The upper part's preferred height now, not as cached before the last edit (Qt
        recomputes layouts lazily, so every nested layout is invalidated first)."""
        top = self.upper.widget()
        for child in top.findChildren(QWidget):
            if child.layout() is not None:
                child.layout().invalidate()
        top.layout().invalidate()
        return top.sizeHint().height()

    def refit_after_layout(self) -> None:
        """Runs once Qt has laid out a new result: a new kind of pair gets a fresh split,
        otherwise the top only grows if it has to."""
        if self.needs_fit:
            self.needs_fit = False
            self.fit()
        else:
            self.grow_if_needed()

    def grow_if_needed(self) -> None:
        """Long notes (e.g. BCE saturation) need more height: take it from the plot, keeping
        the plot at least PLOT_MIN_HEIGHT."""
        top, bottom = self.sizes()
        wanted = self.wanted_height() + GROW_MARGIN
        if wanted > top and bottom > PLOT_MIN_HEIGHT:
            grow = min(wanted - top, bottom - PLOT_MIN_HEIGHT)
            self.setSizes([top + grow, bottom - grow])

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt naming)
        """Until the learner drags the splitter, every window size gets the fitted split."""
        super().resizeEvent(event)
        if not self.user_split:
            self.fit()

    def _on_moved(self) -> None:
        self.user_split = True
