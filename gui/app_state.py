"""State shared by the tabs: the one place that holds "the current model".

The Training tab sets it when a run finishes or a file is loaded; the Draw tab listens. Setting
it also saves it as the user's current model file, so ``main.py classify`` uses the same one.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from core.checkpoint import Checkpoint, save_checkpoint
from core.errors import CheckpointError
from core.resources import current_model_file

log = logging.getLogger(__name__)


class AppState(QObject):
    modelChanged = Signal(object)  # Checkpoint
    statusMessage = Signal(str, int)  # text, timeout ms (0 = until replaced)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model: Checkpoint | None = None

    @property
    def current_model(self) -> Checkpoint | None:
        return self._model

    def set_current_model(self, checkpoint: Checkpoint, *, persist: bool = True) -> None:
        """Make ``checkpoint`` the app's model; ``persist`` keeps it for the next launch and CLI."""
        self._model = checkpoint
        if persist:
            try:
                save_checkpoint(checkpoint, current_model_file())
            except (OSError, CheckpointError) as exc:  # a full disk must not stop the app
                log.warning("could not save the current model: %s", exc)
                self.show_status(f"Model in use, but it could not be saved: {exc}")
        self.modelChanged.emit(checkpoint)

    def show_status(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusMessage.emit(text, timeout_ms)
