"""The Training tab's "why" pages (issue 26), placed beside the live curves: the learning-rate
finder, the loss landscape around the last run's model, repeats over seeds, and the control that
changes the learning rate of a running run (in the Run box). The views live in gui/training/why/;
this only places and wires them (repeat groups shared with the run list), and gives their buttons
keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence

from gui.training.why.landscape_view import LandscapeView
from gui.training.why.lr_control import LrControl
from gui.training.why.lr_finder_view import LrFinderView
from gui.training.why.repeats_view import RepeatsView

if TYPE_CHECKING:
    from gui.training.training_tab import TrainingTab


class WhyPages:
    """The why-views of one Training tab: pages in its views, the lr control for its Run box."""

    def __init__(self, tab: TrainingTab) -> None:
        self.tab = tab
        self.lr_finder = LrFinderView(tab.config)
        self.lr_finder.useLearningRate.connect(self._use_found_lr)
        self.landscape = LandscapeView()
        self.repeats = RepeatsView(tab.config, history=tab.run_state.history)
        for view, title, tip in (
            (self.lr_finder, "Learning rate", "Find a good learning rate before a run"),
            (self.landscape, "Landscape", "The loss around the last run's model, and its path"),
            (self.repeats, "Repeats", "The same settings over seeds: is a difference noise?"),
        ):
            tab.views.addTab(view, title)
            tab.views.setTabToolTip(tab.views.count() - 1, tip)
        self.lr_control = LrControl()
        self._give_keys()
        self._wire_groups()

    def _wire_groups(self) -> None:
        """Repeat groups are rows of the run list (mean ± sd) and bands on the Repeats page:
        ticking a row overlays its band, double-clicking opens the page, Clear on either side
        forgets them on both, and a new group is saved with the run list."""
        run_list = self.tab.plots.run_list
        self.repeats.groupsChanged.connect(self._groups_changed)
        run_list.groupVisibilityChanged.connect(lambda _group, _shown: self.repeats.redraw())
        run_list.groupActivated.connect(lambda _group: self.show_repeats())
        # The tab's own Clear handler was connected first, so the groups are gone by now.
        self.tab.plots.clearRequested.connect(self.repeats.redraw)
        QTimer.singleShot(0, self.tab, self._show_restored_groups)  # the list is read after this
        state = self.tab.state  # until a run ends, the Landscape page offers the model in use
        self.landscape.name_of_model = lambda: state.current_name
        state.modelChanged.connect(self.landscape.follow_model)
        self.landscape.follow_model(state.current_model)

    def _show_restored_groups(self) -> None:
        self.tab.plots.run_list.show_groups()
        self.repeats.redraw()

    def _groups_changed(self) -> None:
        self.tab.plots.run_list.show_groups()
        self.tab.exports.save_runs_later()

    def show_repeats(self) -> None:
        self.tab.views.setCurrentWidget(self.repeats)

    def _give_keys(self) -> None:
        """Keys for the why-views' buttons that do not clash with the always-visible column
        (each view's own buttons are only live while its page shows)."""
        self.lr_control.apply.setText("Appl&y lr")  # Alt+A is the data panel's "Use s&ample"
        keys = {
            self.lr_control.half: "Ctrl+[",
            self.lr_control.double: "Ctrl+]",
            self.lr_finder.use_button: "Ctrl+U",
            self.repeats.clear_button: "Ctrl+Shift+Delete",  # as Clear old runs on its page
            self.lr_finder.find_button: "Ctrl+Shift+L",  # Ctrl+L: the lessons panel
            self.landscape.compute_button: "Ctrl+G",
            self.repeats.run_button: "Ctrl+R",
            self.lr_finder.cancel_button: "Esc",
            self.landscape.cancel_button: "Esc",
            self.repeats.cancel_button: "Esc",
        }
        for button, key in keys.items():
            button.setShortcut(QKeySequence(key))
            button.setToolTip(f"{button.toolTip()} ({key})".lstrip())

    def find_learning_rate(self) -> None:
        """Open the learning-rate finder on the current settings and start it."""
        self.tab.views.setCurrentWidget(self.lr_finder)
        self.lr_finder.find(self.tab.config())

    def _use_found_lr(self, lr: float) -> None:
        self.tab.lr_spin.setValue(lr)
        self.tab.show_message(f"Learning rate set to {lr:.3g}, the finder's suggestion.")

    def shutdown(self) -> None:
        """Stop the views' jobs and wait for them (each wait has a timeout)."""
        for view in (self.lr_finder, self.landscape, self.repeats):
            view.shutdown()
