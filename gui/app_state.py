"""State shared by the tabs: the one place that holds "the current model" and the model library.

Models are never swapped silently. Loading a file is the learner's choice: the model is kept in
the library and used (``set_current_model``). A finished run is only *offered*
(``offer_run``): it is kept in the library and ``runOffered`` carries both accuracies, so a
banner can ask; it becomes current when the learner accepts (``accept_offer``). The Models view
chooses any kept model (``use_entry``) or the bundled one (``use_bundled``). The choice is saved
in the library, so ``main.py classify`` uses the same model.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from core.errors import UserError
from core.storage.checkpoint import Checkpoint, load_checkpoint
from core.storage.model_library import (
    BUNDLED_NAME,
    CurrentModel,
    LibraryEntry,
    ModelLibrary,
    bundled_checkpoint,
    current_checkpoint,
)

log = logging.getLogger(__name__)


@dataclass
class RunOffer:
    """A finished run kept in the library, waiting for the learner to choose it (or not)."""

    entry: LibraryEntry | None  # None when it could not be kept (disk full...)
    checkpoint: Checkpoint
    new_accuracy: float | None
    current_name: str  # the model in use now
    current_accuracy: float | None
    status: str = "finished"  # how the run ended: "finished" or "stopped"

    def describe(self) -> str:
        """ "New model 97.9 % · in use: Bundled model 98.2 %" for the banner."""

        def pct(value: float | None) -> str:
            return "accuracy unknown" if value is None else f"{value:.1%}"

        return (
            f"New model: {pct(self.new_accuracy)} test accuracy. "
            f"In use: {self.current_name}, {pct(self.current_accuracy)}."
        )


@dataclass(frozen=True)
class Kept:
    """What keeping a model in the library gave: its entry, or why it could not be kept."""

    entry: LibraryEntry | None
    problem: str | None


class AppState(QObject):
    modelChanged = Signal(object)  # Checkpoint
    libraryChanged = Signal()  # entries, names or the current choice changed
    runOffered = Signal(object)  # RunOffer
    # RunOffer and the answer: "kept", "used", "discarded", or "withdrawn" (a new run began)
    offerAnswered = Signal(object, str)
    statusMessage = Signal(str, int)  # text, timeout ms (0 = until replaced)

    def __init__(self, parent: QObject | None = None, library: ModelLibrary | None = None) -> None:
        super().__init__(parent)
        self._model: Checkpoint | None = None
        self._entry_id: str | None = None  # library entry in use; None: bundled or unsaved
        self._model_name = BUNDLED_NAME
        self.library = library or ModelLibrary()
        self.startup_note = ""  # why the chosen model was not used at start-up ("" if it was)
        self._startup_chosen = False
        self._bundled: Checkpoint | None = None  # read once: see ``bundled``

    @property
    def current_model(self) -> Checkpoint | None:
        return self._model

    @property
    def current_entry_id(self) -> str | None:
        return self._entry_id

    @property
    def current_name(self) -> str:
        return self._model_name

    def load_startup_model(self, choice: CurrentModel | None = None) -> str:
        """The one place that chooses the model used at start-up: the library's current choice
        (or the bundled model); returns the reason if it fell back ("" if not).

        Chosen once: the first call decides, later calls (the main window, a tab built without
        a window) return the same note and change nothing. ``choice``: that choice already read
        (the start-up thread reads it while the window loads). Never raises for a bad user
        folder or model file; only a missing bundled model leaves no model (``current_model``
        None, ``startup_note`` says why, the Draw tab explains it).
        """
        if self._startup_chosen:
            return self.startup_note
        self._startup_chosen = True
        try:
            choice = choice if choice is not None else current_checkpoint(self.library)
        except UserError as exc:
            self.startup_note = str(exc)
            return self.startup_note
        self.startup_note = f"Using the bundled model: {choice.reason}." if choice.reason else ""
        if choice.entry is None and choice.name == BUNDLED_NAME:
            self._bundled = choice.checkpoint  # read on the start-up thread: not again
        self._apply(choice.checkpoint, choice.entry.id if choice.entry else None, choice.name)
        return self.startup_note

    def bundled(self) -> Checkpoint:
        """The model shipped with the app, read and checked once per session: reading it is
        40-90 ms (unpickling, schema checks, a model built), too long for the window's thread
        at every Models dialog or Ctrl+Shift+B. Raises ``UserError`` when it cannot be used.
        Shared: callers build their own model from it and never change it."""
        if self._bundled is None:
            self._bundled = bundled_checkpoint()
        return self._bundled

    def _apply(self, checkpoint: Checkpoint, entry_id: str | None, name: str) -> None:
        self._model, self._entry_id, self._model_name = checkpoint, entry_id, name
        self.modelChanged.emit(checkpoint)

    def load_model_file(self, path: str | os.PathLike[str]) -> Checkpoint:
        """The one path from a model file the learner opens to the model in use (Training and
        Draw tabs alike): read weights-only and checked, kept in the library, used now.
        Raises ``UserError`` (one sentence) for a file that cannot be used."""
        checkpoint = load_checkpoint(path)
        self.set_current_model(checkpoint)
        return checkpoint

    def set_current_model(self, checkpoint: Checkpoint, *, persist: bool = True) -> None:
        """Use ``checkpoint`` now (a file the learner loaded); ``persist`` keeps it in the
        library as the current choice, so the next launch and ``classify`` use it too."""
        entry = None
        if persist:
            try:
                entry = self.library.add(checkpoint, source="loaded")
                self.library.set_current(entry.id)
            except UserError as exc:  # a full disk must not stop the app
                log.warning("could not keep the model: %s", exc)
                self.show_status(f"Model in use, but it could not be kept: {exc}")
            self.libraryChanged.emit()
        self._apply(
            checkpoint, entry.id if entry else None, entry.name if entry else "Loaded model"
        )

    def keep(self, checkpoint: Checkpoint) -> Kept:
        """Keep a trained model in the library; safe on any thread (no Qt), so the training
        worker does it and the window never waits for the file."""
        try:
            return Kept(self.library.add(checkpoint, source="trained"), None)
        except UserError as exc:
            log.warning("could not keep the trained model: %s", exc)
            return Kept(None, str(exc))

    def offer_run(
        self, checkpoint: Checkpoint, kept: Kept | None = None, *, status: str = "finished"
    ) -> RunOffer:
        """Offer a scored run (kept in the library first unless ``kept`` says whether it is:
        ``Kept(None, None)`` is a run not kept unasked); the model in use does not change."""
        kept = kept if kept is not None else self.keep(checkpoint)
        entry = kept.entry
        if kept.problem:
            self.show_status(
                f"The trained model could not be kept in the library: {kept.problem}", 0
            )
        in_use = self._model
        offer = RunOffer(
            entry,
            checkpoint,
            checkpoint.test_accuracy,
            self._model_name if in_use is not None else "no model",
            in_use.test_accuracy if in_use is not None else None,
            status,
        )
        self.libraryChanged.emit()
        self.runOffered.emit(offer)
        return offer

    def accept_offer(self, offer: RunOffer) -> None:
        """The learner chose the offered run: it is kept (if not yet) and becomes current."""
        if offer.entry is None:
            offer.entry = self.keep(offer.checkpoint).entry
        if offer.entry is None:
            self._apply(offer.checkpoint, None, "Trained model (not kept)")
        else:
            try:
                self.use_entry(offer.entry.id, offer.checkpoint)
            except UserError as exc:  # the choice could not be saved: use it for this session
                self.show_status(f"Using the new model; the choice could not be saved: {exc}", 0)
                self._apply(offer.checkpoint, offer.entry.id, offer.entry.name)
        self.offerAnswered.emit(offer, "used")

    def keep_offer(self, offer: RunOffer) -> LibraryEntry | None:
        """The learner keeps the offered run in the library (without using it)."""
        if offer.entry is None:
            kept = self.keep(offer.checkpoint)
            offer.entry = kept.entry
            if kept.problem:
                self.show_status(f"The model could not be kept: {kept.problem}", 0)
            self.libraryChanged.emit()
        self.offerAnswered.emit(offer, "kept")
        return offer.entry

    def discard_offer(self, offer: RunOffer) -> None:
        """The learner does not want the offered run: a copy kept unasked is deleted."""
        entry = offer.entry
        if entry is not None and entry.id != self._entry_id:
            try:
                self.library.delete(entry.id)
                offer.entry = None
            except UserError as exc:
                self.show_status(f"The model could not be deleted: {exc}", 0)
            self.libraryChanged.emit()
        self.offerAnswered.emit(offer, "discarded")

    def withdraw_offer(self, offer: RunOffer) -> None:
        """A new run began: the banner about the last one goes (what was kept stays)."""
        self.offerAnswered.emit(offer, "withdrawn")

    def use_entry(self, entry_id: str, checkpoint: Checkpoint | None = None) -> None:
        """Make a library entry current; a ``UserError`` (said in place) if it cannot be used,
        in which case the model in use does not change."""
        entry = self.library.entry(entry_id)
        loaded = checkpoint if checkpoint is not None else self.library.load(entry_id)
        self.library.set_current(entry_id)
        self.libraryChanged.emit()
        self._apply(loaded, entry_id, entry.name)
        self.show_status(f"Now using {entry.name}.")

    def use_bundled(self) -> bool:
        """Go back to the model shipped with the app (one click from the Models menu)."""
        try:
            self.library.set_current(None)
        except UserError as exc:  # the choice is not saved, but the app still switches
            self.show_status(f"Using the bundled model for now; the choice was not saved: {exc}", 0)
        try:
            bundled = self.bundled()
        except UserError as exc:
            self.show_status(str(exc), 0)
            return False
        self.libraryChanged.emit()
        self._apply(bundled, None, BUNDLED_NAME)
        self.show_status(f"Now using the {BUNDLED_NAME.lower()}.")
        return True

    def entry_renamed(self, entry_id: str) -> None:
        """Keep the name shown for the model in use in step with the library."""
        if entry_id == self._entry_id:
            self._model_name = self.library.entry(entry_id).name
        self.libraryChanged.emit()

    def entry_deleted(self, entry_id: str) -> None:
        """The model in use was deleted from the library: fall back to the bundled one."""
        if entry_id == self._entry_id:
            self.use_bundled()
        else:
            self.libraryChanged.emit()

    def show_status(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusMessage.emit(text, timeout_ms)
