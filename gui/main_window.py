"""The main window: four tabs, a menu, a status bar, geometry remembered between runs.

It is built in two steps so that it can be on screen before PyTorch is imported (see
``gui/startup.py``): the shell (title, menus, the four tabs named, each showing a
``LoadingPage``) needs only Qt; ``install(state)`` then builds the real tabs, the one on show
first, one per event-loop turn when ``gradual``. ``MainWindow(state)`` does both at once.
"""

from __future__ import annotations

import html
import platform
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from core import APP_NAME, __version__
from gui.startup import LoadingPage

if TYPE_CHECKING:
    from gui.app_state import AppState

DEFAULT_SIZE = (1280, 800)
# (attribute, tab name), in tab order.
TABS = (
    ("loss_tab", "Loss playground"),
    ("training_tab", "Training"),
    ("draw_tab", "Draw"),
    ("inside_tab", "Inside the network"),
)
DRAW_INDEX = 2
_device_text: str | None = None  # MainWindow.device_description, read once


class MainWindow(QMainWindow):
    """``tabsReady`` fires once every tab is built and wired (at once without ``deferred``)."""

    tabsReady = Signal()

    def __init__(self, state: AppState | None = None, *, deferred: bool = False) -> None:
        super().__init__()
        self.state = state
        self.ready = False
        self.failure = ""  # why the tabs could not be built ("" while loading or once in)
        self.build_seconds: dict[str, float] = {}  # how long each tab took to build (benchmarks)
        self.setWindowTitle(APP_NAME)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.loading_pages = [LoadingPage(name) for _attribute, name in TABS]
        for index, (page, (_attribute, name)) in enumerate(
            zip(self.loading_pages, TABS, strict=True)
        ):
            self.tabs.addTab(page, name)
            self.tabs.setTabToolTip(index, f"Ctrl+{index + 1}")
        central = QWidget(self)
        self.central_layout = QVBoxLayout(central)
        self.central_layout.setContentsMargins(0, 0, 0, 0)
        self.central_layout.setSpacing(0)
        self.central_layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_menu()
        self._restore_settings()
        self.statusBar().showMessage("Loading PyTorch…")
        if not deferred:
            self.install(state)

    # --------------------------------------------------------------- the tabs
    def install(self, state: AppState | None = None, *, gradual: bool = False) -> None:
        """Build the real tabs over ``state`` (a new ``AppState`` when None), the one on show
        first; ``gradual``: one tab per event-loop turn, so the window keeps painting."""
        if state is None:
            from gui.app_state import AppState

            state = self.state or AppState(self)
        self.state = state
        # The learner's chosen model (or the bundled one, saying why) before the tabs need it.
        self._startup_note = state.load_startup_model()
        self.device_description()  # before any tab pins the window's thread
        current = self.tabs.currentIndex()
        order = [current] + [i for i in (DRAW_INDEX, 0, 1, 2, 3) if i != current]
        order = list(dict.fromkeys(order))
        if not gradual:
            for index in order:
                self._build_tab(index)
            self._finish_install()
            return
        self._pending = order
        QTimer.singleShot(0, self._build_next)

    def _build_next(self) -> None:
        if not self._pending:
            self._finish_install()
            return
        self._build_tab(self._pending.pop(0))
        QTimer.singleShot(0, self._build_next)

    def _build_tab(self, index: int) -> None:
        from gui.draw.draw_tab import DrawTab
        from gui.inspector.inspector_tab import InsideNetworkTab
        from gui.loss.loss_tab import LossPlaygroundTab
        from gui.training.training_tab import TrainingTab

        started = time.perf_counter()
        attribute, name = TABS[index]
        makers = {
            "loss_tab": lambda: LossPlaygroundTab(self),
            "training_tab": lambda: TrainingTab(self.state, self),
            "draw_tab": lambda: DrawTab(self.state, self),
            "inside_tab": lambda: InsideNetworkTab(self.state, self),
        }
        widget = makers[attribute]()
        setattr(self, attribute, widget)
        current = self.tabs.currentIndex()
        self.tabs.setUpdatesEnabled(False)
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, name)
        self.tabs.setTabToolTip(index, f"Ctrl+{index + 1}")
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        self.tabs.setUpdatesEnabled(True)
        self.loading_pages[index].deleteLater()
        self.build_seconds[attribute] = round(time.perf_counter() - started, 3)

    def _finish_install(self) -> None:
        """Every tab is in: the banner, the links between tabs, the menus that need a model."""
        self.tabs.setCurrentIndex(self.tabs.currentIndex())
        self.central_layout.insertWidget(0, self._run_offer_banner())
        self.tabs.currentChanged.connect(self._follow_draw_tab)
        # The inspector's training panel follows the Training tab's runs (gradient reports
        # reach it once the training worker forwards them: see InsideNetworkTab.on_training_event).
        self.training_tab.runStarted.connect(self.inside_tab.on_training_event)
        self.training_tab.runEnded.connect(self.inside_tab.on_training_event)
        self.training_tab.insideEvent.connect(self.inside_tab.on_training_event)
        self.state.statusMessage.connect(self._show_status)
        self.loss_tab.statusMessage.connect(self._show_status)
        self.training_tab.openPlaygroundPair.connect(self.open_playground_pair)
        self.training_tab.tryInDraw.connect(self.show_in_draw)
        self.draw_tab.trainingRequested.connect(
            lambda: self.tabs.setCurrentWidget(self.training_tab)
        )
        self.draw_tab.own_digits_bar.openRequested.connect(self.show_own_digits)
        self.draw_tab.own_digits_bar.saved.connect(self._own_digits_saved)
        self.models_menu.setEnabled(True)
        self.statusBar().showMessage(self._startup_note or f"Device: {self.device_description()}")
        from gui.lessons.dock import install_lessons

        install_lessons(self)  # the lessons panel (Ctrl+L, View and Help menus): issue 27
        self.ready = True
        self.tabsReady.emit()

    def show_failure(self, text: str) -> None:
        """PyTorch (or a part of the app) could not be imported: said on every tab."""
        self.failure = text
        for page in self.loading_pages:
            page.show_failure(text)
        self.statusBar().showMessage(f"Digit Lab could not start: {text}")

    # ----------------------------------------------------------------- menu
    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        # Ctrl+Q everywhere (the README's key): the standard Quit key has no binding in some
        # key schemes (Windows, the offscreen platform), where Ctrl+Q would then do nothing.
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.menuBar().addMenu("&View")
        for index, name in enumerate(("Loss playground", "Training", "Draw", "Inside the network")):
            action = QAction(name, self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)

        self._build_models_menu()

        self._build_help_menu()

    def _build_help_menu(self) -> None:
        """The README's first five minutes and keyboard table (``gui.help_view``), and About."""
        from gui.help_view import HELP_TOPICS

        help_menu = self.menuBar().addMenu("&Help")
        self.help_actions = {}
        for topic in HELP_TOPICS:
            action = QAction(topic.menu_text, self)
            action.setShortcut(QKeySequence(topic.shortcut))
            action.triggered.connect(lambda _=False, t=topic: self.show_help(t.heading))
            help_menu.addAction(action)
            self.help_actions[topic.heading] = action
        help_menu.addSeparator()
        about_action = QAction("&About Digit Lab", self)
        about_action.triggered.connect(self.show_about)
        help_menu.addAction(about_action)

    def show_help(self, heading: str) -> QWidget:
        """The Help window for README section ``heading`` (non-modal, one per topic)."""
        from gui.help_view import HELP_TOPICS, HelpDialog

        dialogs = self.__dict__.setdefault("help_dialogs", {})
        if heading not in dialogs:
            topic = next(t for t in HELP_TOPICS if t.heading == heading)
            dialogs[heading] = HelpDialog(topic, self)
        dialog = dialogs[heading]
        dialog.refresh()
        dialog.show()
        dialog.raise_()
        return dialog

    def _run_offer_banner(self) -> QWidget:
        """The banner above the tabs that offers a finished run as the current model."""
        from gui.library.model_library_view import RunOfferBanner

        self.run_offer = RunOfferBanner(self.state, self.centralWidget())
        return self.run_offer

    def _build_models_menu(self) -> None:
        models_menu = self.menuBar().addMenu("&Models")
        self.models_menu = models_menu
        models_menu.setEnabled(False)  # until the tabs and the model are in
        library_action = QAction("&Models…", self)
        library_action.setShortcut(QKeySequence("Ctrl+M"))
        library_action.setToolTip("Every trained or loaded model: choose, rename, delete")
        library_action.triggered.connect(self.show_models)
        bundled_action = QAction("Use &bundled model", self)
        bundled_action.setShortcut(QKeySequence("Ctrl+Shift+B"))
        bundled_action.triggered.connect(lambda: self.state.use_bundled())
        models_menu.addAction(library_action)
        models_menu.addAction(bundled_action)
        own_action = QAction("My &digits…", self)
        own_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        own_action.setToolTip("Your saved drawings: browse, delete, fine-tune the model on them")
        own_action.triggered.connect(self.show_own_digits)
        models_menu.addSeparator()
        models_menu.addAction(own_action)

    def show_models(self) -> None:
        """The Models dialog (non-modal, one at a time)."""
        from gui.library.model_library_view import ModelLibraryDialog

        if getattr(self, "models_dialog", None) is None:
            self.models_dialog = ModelLibraryDialog(self.state, self)
        self.models_dialog.refresh()
        self.models_dialog.show()
        self.models_dialog.raise_()

    def show_own_digits(self) -> None:
        """The My digits dialog (non-modal, one at a time)."""
        from gui.draw.own_digits_view import OwnDigitsDialog

        if getattr(self, "own_digits_dialog", None) is None:
            self.own_digits_dialog = OwnDigitsDialog(self.state, parent=self)
        self.own_digits_dialog.refresh()
        self.own_digits_dialog.show()
        self.own_digits_dialog.raise_()

    def _own_digits_saved(self, _digit: int, _count: int) -> None:
        dialog = getattr(self, "own_digits_dialog", None)
        if dialog is not None and dialog.isVisible():
            dialog.refresh()

    @staticmethod
    def device_description() -> str:
        """The device training uses, e.g. "cpu (2 threads)". Read once, before the window's own
        thread is given one intra-op thread (the Draw tab does it): the thread count said is
        the one a run gets, not the window's."""
        global _device_text
        if _device_text is None:
            from core.device import describe_device, resolve_device

            _device_text = describe_device(resolve_device("auto"))
        return _device_text

    def about_text(self) -> str:
        import PySide6
        from PySide6.QtCore import qVersion

        if not getattr(self, "ready", True):  # tabs still loading: never wait for torch here
            return f"<h3>{APP_NAME} {__version__}</h3><p>PyTorch is still loading…</p>"
        import torch

        from core.data.datasets import attribution_lines
        from core.optional import torchvision_version

        return (
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>A desktop lab for learning deep learning: compare loss functions, train an MNIST "
            "classifier and watch it learn, then draw digits for it to read.</p>"
            "<table>"
            f"<tr><td>torch</td><td>{torch.__version__}</td></tr>"
            f"<tr><td>torchvision</td><td>{torchvision_version()}</td></tr>"
            f"<tr><td>Qt / PySide6</td><td>{qVersion()} / {PySide6.__version__}</td></tr>"
            f"<tr><td>Python</td><td>{platform.python_version()}</td></tr>"
            f"<tr><td>Device in use</td><td>{self.device_description()}</td></tr>"
            "</table>"
            "<p>MNIST: Y. LeCun, C. Cortes, C. J. C. Burges.</p>"
            + "".join(f"<p><small>{html.escape(line)}</small></p>" for line in attribution_lines())
        )

    def show_about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", self.about_text())

    def open_playground_pair(self, pair: str) -> None:
        """Show the Loss playground on ``pair`` (a LossPair name), e.g. from the Training tab."""
        self.tabs.setCurrentWidget(self.loss_tab)
        self.loss_tab.set_pair(pair)

    def show_in_draw(self, image: object, label: object = None, model: object = None) -> None:
        """Show the Draw tab on a data set digit ("Try in Draw" from the evaluation view), with
        the model whose mistake it is offered there (``gui.draw.state.OfferedModel``)."""
        self.tabs.setCurrentWidget(self.draw_tab)
        self.draw_tab.show_digit(image, label, model)

    def _follow_draw_tab(self, index: int) -> None:
        """Opening "Inside the network" brings the Draw tab's digit along (when it changed)."""
        if self.tabs.widget(index) is self.inside_tab and not self.draw_tab.canvas.is_blank():
            self.inside_tab.offer_picture(self.draw_tab.canvas.render_array())

    def _show_status(self, text: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ------------------------------------------------------------- settings
    def _restore_settings(self) -> None:
        from core.storage.settings_file import geometry_bytes, stored_int

        settings = QSettings()  # each value checked: a bad one is dropped, never fatal
        geometry = geometry_bytes(settings.value("window/geometry"))
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        tab = stored_int(settings.value("window/tab", 0), 0, 0, self.tabs.count() - 1)
        self.tabs.setCurrentIndex(tab)

    def save_settings(self) -> None:
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/tab", self.tabs.currentIndex())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.save_settings()
        for attribute, _name in TABS:
            shutdown = getattr(getattr(self, attribute, None), "shutdown", None)
            if shutdown is not None:
                shutdown()  # stops and waits for any worker thread
        if getattr(self, "own_digits_dialog", None) is not None:
            self.own_digits_dialog.shutdown()  # a fine-tune in progress
        super().closeEvent(event)
