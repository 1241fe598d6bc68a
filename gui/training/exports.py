"""What the Training tab writes: a run (or the settings) as a standalone script and every run's
curves as CSV on request, and its run list after each run (``save_runs_later``, in a worker: a
write ends with an fsync, 10+ ms the window must not wait for). Each writes atomically and says
in the tab what went wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QWidget

from core.errors import UserError
from core.storage.atomic import write_text_atomic
from core.training.run_history import RunHistory, RunRecord
from core.training.script_export import ExportedScript, export_script
from core.training.train_types import TrainConfig
from gui.file_dialogs import ask_save_path
from gui.workers import SHUTDOWN_WAIT_MS, FunctionWorker, is_running, start_worker, wait_for

Say = Callable[..., None]  # show_message(text, *, error=False)


class TabExports(QObject):
    """Script and CSV exports of the tab's runs, and the saved run list; ``say`` shows the
    outcome in the tab."""

    def __init__(
        self,
        parent: QWidget,
        history: RunHistory,
        settings: Callable[[], TrainConfig],
        say: Say,
        save: Callable[[], bool | str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.history = history
        self.settings = settings
        self.say = say
        self._save = save  # True, or why not; Qt-free, run on a worker thread
        self._save_thread: QThread | None = None
        self._save_worker: FunctionWorker | None = None
        self._save_again = False

    def save_runs_later(self) -> None:
        """Save the run list in a worker; one save at a time, the newest state last."""
        if self._save is None:
            return
        if is_running(self._save_thread):
            self._save_again = True
            return
        worker = FunctionWorker(self._save)
        worker.done.connect(self._runs_saved)  # bound methods of this QObject: queued
        worker.failed.connect(self._runs_saved)
        self._save_worker = worker
        self._save_thread = start_worker(worker, self, name="save-runs")

    def _runs_saved(self, _tag: object, outcome: object) -> None:
        """``outcome``: True, or why the list was not saved (a sentence)."""
        self._save_worker = None
        if outcome is not True:
            problem = str(outcome) or "the run list could not be saved"
            self.say(f"{problem[0].upper()}{problem[1:]}.", error=True)
        if self._save_again:
            self._save_again = False
            self.save_runs_later()

    def wait(self) -> bool:
        """Let a save in flight finish (at most ``SHUTDOWN_WAIT_MS``)."""
        return wait_for(self._save_thread, SHUTDOWN_WAIT_MS)

    def script_for(self, run: RunRecord | None) -> ExportedScript | None:
        config, origin = (
            (self.settings(), "the Training tab's settings")
            if run is None
            else (run.config, f"run {run.number} of the Training tab ({run.label})")
        )
        # A learning rate changed mid-run is a step of the script's schedule (issue 26).
        changes = [(c.step, c.lr) for c in run.lr_changes] if run is not None else []
        try:
            return export_script(config, origin=origin, lr_changes=changes)
        except UserError as exc:
            self.say(f"Could not export the script: {exc}", error=True)
            return None

    def write_script(self, path: str | Path, script: ExportedScript) -> bool:
        try:
            write_text_atomic(path, script.text)
        except (OSError, UserError) as exc:
            self.say(f"Could not export the script: {exc}", error=True)
            return False
        name = Path(path).name
        self.say(
            f"Script saved to {path}: run it with 'python {name}' or 'torchrun "
            f"--nproc_per_node=N {name}'."
        )
        return True

    def export_script_to(self, path: str | Path, run: RunRecord | None = None) -> bool:
        """Write ``run`` (or the current settings) as a standalone script; say so in place."""
        script = self.script_for(run)
        return script is not None and self.write_script(path, script)

    def script_dialog(self, run: RunRecord | None) -> None:
        script = self.script_for(run)  # made once: its name suggests the file, then it is written
        if script is None:
            return
        path = ask_save_path(
            self.parent_widget,
            "script",
            "Export as script",
            script.suggested_name,
            ".py",
            "Python (*.py)",
        )
        if path is not None:
            self.write_script(path, script)

    def csv_dialog(self) -> None:
        runs = self.history.runs
        if not runs:
            self.say("No runs to export yet.", error=True)
            return
        path = ask_save_path(
            self.parent_widget,
            "curves",
            "Export curves",
            "digit-lab-runs.csv",
            ".csv",
            "CSV (*.csv)",
        )
        if path is None:
            return
        try:
            self.history.export_csv(path)
        except OSError as exc:
            self.say(f"Could not write {path}: {exc.strerror or exc}", error=True)
            return
        self.say(f"Curves of {len(runs)} run(s) saved to {path}.")
