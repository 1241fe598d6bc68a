"""The app's facts for lesson checks: what the learner did and what the lab shows, by name.

``AppFacts`` listens to the tabs' public signals (the playground's ``stateChanged``, the Training
tab's run events, the evaluation view's gallery, the Draw tab's answer and its two dialogs, the
inspector's panels) and keeps ``facts``: a plain dict keyed by the names of
``core.lessons.vocabulary`` (bool, number or text values). ``changed`` fires after every update;
the lessons panel re-evaluates its checks then (a few comparisons: microseconds).

Two kinds of facts: *state* (what is on screen now: ``app.tab``, ``playground.verdict``,
``draw.looks_like_digit``) and *events* (what happened: ``run.*``, ``evaluation.cell_opened``,
``draw.attack_flipped``). ``forget_events()`` drops the events, so a lesson started now is not
done by a run finished before it. Nothing here computes anything slow: every value is read off
an object the tabs already built.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from gui.main_window import MainWindow

TAB_KEYS = ("loss", "training", "draw", "inside")
EVENT_PREFIXES = (
    "run.",
    "evaluation.",
    "draw.attack_",
    "draw.compare",
    "draw.turn_it",
    "draw.fine",
)
SUGGESTED_TOLERANCE = 0.1  # run.lr_is_suggested: within 10 % of the finder's rate
CONV_MODELS = ("cnn", "cnn-bn")
RELIABILITY_POLL_MS = 300
RELIABILITY_POLLS = 200  # a minute: a report that never comes (calibration failed) ends it


class AppFacts(QObject):
    """The facts dict of one main window; ``attach(window)`` once its tabs are built."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.facts: dict[str, Any] = {}
        self.window: MainWindow | None = None
        self._hooked: set[int] = set()  # dialogs already listened to (by id)
        self._run_going = False  # between the Training tab's runStarted and runEnded
        self._reliability_timer = QTimer(self)  # the diagram's report comes after the run's end
        self._reliability_timer.setInterval(RELIABILITY_POLL_MS)
        self._reliability_timer.timeout.connect(self._on_reliability)
        self._polls = 0

    # ------------------------------------------------------------------ wiring
    def attach(self, window: MainWindow) -> None:
        """Listen to ``window``'s tabs (built: ``window.ready``) and read their state now."""
        self.window = window
        window.tabs.currentChanged.connect(self._on_tab)
        loss = window.loss_tab
        if hasattr(loss, "stateChanged"):  # the playground's Qt-free state (helper A)
            loss.stateChanged.connect(self._on_playground)
        self._attach_training(window.training_tab)
        draw = window.draw_tab
        draw.inputChanged.connect(lambda _input: self._on_draw_answer())
        draw.model_box.fool_button.clicked.connect(self._hook_attack)
        draw.model_box.compare_button.clicked.connect(self._hook_compare)
        draw.own_digits_bar.saved.connect(lambda _digit, _count: self._on_own_digits())
        window.state.runOffered.connect(self._on_offer)
        window.inside_tab.panels.currentChanged.connect(lambda _i: self._on_inspector())
        self._on_tab(window.tabs.currentIndex())
        self._on_playground()
        self._on_draw_answer()
        self._on_own_digits()

    def _attach_training(self, tab) -> None:  # noqa: ANN001 - gui.training.training_tab.TrainingTab
        tab.runStarted.connect(self._on_run_started)
        tab.runEnded.connect(self._on_run_ended)
        tab.insideEvent.connect(self._on_inside_event)
        tab.lr_finder.useLearningRate.connect(lambda _lr: self._on_lr_finder())
        if hasattr(tab.lr_finder, "found"):
            tab.lr_finder.found.connect(lambda _lr: self._on_lr_finder())
        evaluation = tab.evaluation
        evaluation.gallery.itemClicked.connect(
            lambda _item: self._set("evaluation.cell_opened", True)
        )
        evaluation.gallery.itemActivated.connect(
            lambda _item: self._set("evaluation.cell_opened", True)
        )
        if hasattr(evaluation, "cellOpened"):  # a confusion cell opened (when the view has it)
            evaluation.cellOpened.connect(lambda *_a: self._set("evaluation.cell_opened", True))
        evaluation.side_tabs.currentChanged.connect(lambda _i: self._on_reliability())
        tab.views.currentChanged.connect(lambda _i: self._on_reliability())

    # ----------------------------------------------------------------- updating
    def update(self, values: dict[str, Any]) -> None:
        """Merge ``values`` (None removes a fact); ``changed`` only when something changed."""
        dirty = False
        for name, value in values.items():
            if value is None:
                dirty = self.facts.pop(name, None) is not None or dirty
            elif self.facts.get(name, _MISSING) != value or type(self.facts.get(name)) is not type(
                value
            ):
                self.facts[name] = value
                dirty = True
        if dirty:
            self.changed.emit()

    def _set(self, name: str, value: Any) -> None:
        self.update({name: value})

    def forget_events(self) -> None:
        """Drop what happened (runs, opened views, attacks); keep what is on screen."""
        kept = {k: v for k, v in self.facts.items() if not k.startswith(EVENT_PREFIXES)}
        if kept != self.facts:
            self.facts = kept
            self.changed.emit()

    # ------------------------------------------------------------------ the tabs
    def _on_tab(self, index: int) -> None:
        self.update({"app.tab": TAB_KEYS[index] if 0 <= index < len(TAB_KEYS) else None})
        self._on_inspector()
        self._on_reliability()

    def _on_playground(self) -> None:
        state = getattr(self.window.loss_tab, "state", None) if self.window else None
        if state is None:
            return
        options = getattr(state, "options", None)
        comparison = getattr(state, "comparison", None)
        self.update(
            {
                "playground.pair": _text(getattr(state, "pair", None)),
                "playground.verdict": getattr(state, "verdict", "") or None,
                "playground.loss": _number(getattr(state, "fused_value", None)),
                "playground.composed_loss": _number(getattr(state, "composed_value", None)),
                "playground.inputs_are_seed": _flag(getattr(state, "inputs_are_seed", None)),
                "playground.dtype": _text(getattr(options, "dtype", None)),
                "playground.scale": _number(getattr(state, "scale", None)),
                "playground.parted": _flag(getattr(state, "parted", None)),
                "playground.parting_scale": _number(getattr(state, "parting_scale", None)),
                "playground.max_logit": _max_logit(comparison),
                "playground.gradients_agree": _gradients_agree(comparison),
            }
        )

    # ------------------------------------------------------------------ training
    def _on_run_started(self, event) -> None:  # noqa: ANN001 - RunStarted
        config = event.config
        self.forget_run()
        self._run_going = True
        self.update(
            {
                "run.started": True,
                "run.finished": False,
                "run.stopped": False,
                "run.model": config.model,
                "run.optimizer": config.optimizer,
                "run.lr": float(config.lr),
                "run.epochs": float(config.epochs),
                "run.batch_size": float(config.batch_size),
                "run.preset": config.preset,
                "run.augment": bool(config.augment),
                "run.gradient_stats": bool(config.gradient_stats),
                "run.diverged": False,
                "run.lr_is_suggested": self._is_suggested(config.lr),
            }
        )

    def forget_run(self) -> None:
        """The last run's results go (a new run starts): nothing of it may tick a check."""
        for name in [k for k in self.facts if k.startswith("run.") and k not in _FINDER]:
            del self.facts[name]

    def _on_run_ended(self, ended) -> None:  # noqa: ANN001 - RunEnded
        self._run_going = False
        result = ended.result
        evaluation = result.evaluation if result is not None else None
        record = self._last_record()
        losses = np.asarray(record.losses.view if record is not None else [], dtype=float)
        nonfinite = record.nonfinite_losses if record is not None else 0
        diverged = nonfinite > 0 or "diverged" in (ended.reason or "")
        finite = losses[np.isfinite(losses)]
        rose = diverged or (finite.size >= 2 and _tail_mean(finite) > _head_mean(finite))
        self.update(
            {
                "run.finished": ended.status == "finished",
                "run.stopped": ended.status == "stopped",
                "run.test_accuracy": float(evaluation.accuracy) if evaluation is not None else None,
                "run.diverged": diverged,
                "run.loss_rose": bool(rose),
            }
        )
        self._on_inspector()
        self._on_reliability()
        if evaluation is not None:
            self._polls = 0
            self._reliability_timer.start()  # until its report is drawn (at most a minute)

    def _last_record(self):  # noqa: ANN202 - core.training.run_history.RunRecord | None
        runs = self.window.training_tab.run_state.history.runs if self.window else []
        return runs[-1] if runs else None

    def _on_inside_event(self, event: object) -> None:
        from core.inspection.activations import DeadReluReport, GradientReport

        if isinstance(event, GradientReport):
            self._on_inspector(reporting=True)
            norms = [x.grad_norm for x in event.layers if math.isfinite(x.grad_norm)]
            if norms and max(norms) > 0:
                self._set("run.gradient_spread", float(min(norms) / max(norms)))
        elif isinstance(event, DeadReluReport) and event.dead_fraction:
            self._set("run.dead_relus", float(max(event.dead_fraction.values())))

    def _on_lr_finder(self) -> None:
        finder = self.window.training_tab.lr_finder if self.window else None
        result = finder.state.result if finder is not None else None
        if result is None:
            return
        self.update({"run.lr_found": True, "run.lr_suggested": float(result.suggested_lr)})

    def _is_suggested(self, lr: float) -> bool:
        self._on_lr_finder()
        suggested = self.facts.get("run.lr_suggested")
        if not isinstance(suggested, float) or suggested <= 0:
            return False
        return abs(lr - suggested) <= SUGGESTED_TOLERANCE * suggested

    def _on_reliability(self) -> None:
        if self.window is None or not self.window.ready:
            return
        plot = self.window.training_tab.evaluation.reliability
        self._polls += 1
        if plot.report is None and self._polls <= RELIABILITY_POLLS:
            return
        self._reliability_timer.stop()
        if plot.report is not None and plot.isVisible():
            self._set("evaluation.reliability_shown", True)

    def _on_inspector(self, reporting: bool = False) -> None:
        """``reporting``: a gradient report just came, so a run is recording right now (its
        thread may already be over when the queued report is delivered)."""
        if self.window is None or not self.window.ready:
            return
        inside = self.window.inside_tab
        on_screen = (
            self.window.tabs.currentWidget() is inside
            and inside.panels.currentWidget() is inside.training_panel
        )
        recording = reporting or (self._run_going and bool(self.facts.get("run.gradient_stats")))
        self._set("inspector.gradient_panel_open", bool(on_screen and recording))

    # ---------------------------------------------------------------------- draw
    def _on_draw_answer(self) -> None:
        draw = self.window.draw_tab if self.window else None
        prediction = draw.prediction if draw is not None else None
        classifier = draw.classifier if draw is not None else None
        model = classifier.checkpoint.model_name if classifier is not None else None
        if prediction is None or prediction.is_empty:
            self.update(
                {
                    "draw.has_drawing": False,
                    "draw.digit": None,
                    "draw.confidence": None,
                    "draw.looks_like_digit": None,
                    "draw.model": model,
                }
            )
            return
        self.update(
            {
                "draw.has_drawing": True,
                "draw.digit": float(prediction.digit),
                "draw.confidence": float(prediction.confidence),
                "draw.looks_like_digit": None
                if draw.ood_pending
                else bool(prediction.looks_like_digit),
                "draw.model": model,
            }
        )

    def _hook_attack(self) -> None:
        dialog = self.window.draw_tab.attack_dialog if self.window else None
        if dialog is None or id(dialog) in self._hooked or not hasattr(dialog, "attacked"):
            return
        self._hooked.add(id(dialog))
        dialog.attacked.connect(self._on_attacked)

    def _on_attacked(self, result) -> None:  # noqa: ANN001 - core.inference.attack.AttackResult
        self.update(
            {
                "draw.attack_flipped": bool(result.flipped),
                "draw.attack_method": str(result.method),
                "draw.attack_pixels": float(result.pixels_changed) if result.flipped else None,
            }
        )

    def _hook_compare(self) -> None:
        dialog = self.window.draw_tab.compare_dialog if self.window else None
        if dialog is None or id(dialog) in self._hooked or not hasattr(dialog, "compared"):
            return
        self._hooked.add(id(dialog))
        dialog.compared.connect(lambda _result: self._on_compared(dialog))
        dialog.tabs.currentChanged.connect(lambda _i: self._on_compared(dialog))

    def _on_compared(self, dialog) -> None:  # noqa: ANN001 - gui.draw.compare_view.CompareDialog
        if dialog.result is None:
            return
        pair, _sweep = dialog.result
        kinds = compared_kinds(self.window, dialog)
        values: dict[str, Any] = {
            "draw.compare_models": float(len(pair.readings)),
            "draw.compare_has_mlp": "mlp" in kinds,
            "draw.compare_has_cnn": any(kind in CONV_MODELS for kind in kinds),
        }
        if dialog.tabs.currentIndex() == 1 and dialog.isVisible():
            values["draw.turn_it_shown"] = True
        self.update(values)

    def _on_own_digits(self) -> None:
        from core.data.own_digits import OwnDigits

        try:
            count = OwnDigits().total()
        except Exception:  # noqa: BLE001 - an unreadable folder: the fact stays unknown
            return
        self._set("draw.own_digits", float(count))

    def _on_offer(self, offer) -> None:  # noqa: ANN001 - gui.app_state.RunOffer
        dialog = getattr(self.window, "own_digits_dialog", None)
        result = getattr(dialog, "result", None)
        if result is None or result.checkpoint is not offer.checkpoint:
            return
        self.update(
            {
                "draw.fine_tuned": True,
                "draw.fine_tune_gain": float(result.own_after - result.own_before),
            }
        )


_MISSING = object()
_FINDER = ("run.lr_found", "run.lr_suggested")


def compared_kinds(window, dialog) -> set[str]:  # noqa: ANN001
    """The model kinds side by side: the Draw tab's and the one chosen in the dialog."""
    kinds = set()
    classifier = window.draw_tab.classifier
    if classifier is not None:
        kinds.add(classifier.checkpoint.model_name)
    key = dialog.other_box.currentData()
    if key == "bundled":
        from core.storage.model_library import bundled_checkpoint

        kinds.add(bundled_checkpoint().model_name)
    elif key is not None:
        entry = next((e for e in window.state.library.entries() if e.id == key), None)
        if entry is not None:
            kinds.add(entry.model_kind)
    return kinds


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: object) -> bool | None:
    return bool(value) if isinstance(value, bool | np.bool_) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _max_logit(comparison: object) -> float | None:
    prediction = getattr(comparison, "prediction", None)
    try:
        values = np.abs(np.asarray(prediction, dtype=float))
    except (TypeError, ValueError):
        return None
    return float(values.max()) if values.size and np.isfinite(values).all() else None


def _gradients_agree(comparison: object) -> bool | None:
    """The two forms' gradients within the comparison's own tolerance (``TOLERANCES``)."""
    from core.losses.options import TOLERANCES

    if comparison is None:
        return None
    rtol, atol = TOLERANCES.get(comparison.options.dtype, TOLERANCES["float32"])
    fused = np.asarray(comparison.fused.grad, dtype=float)
    composed = np.asarray(comparison.composed.grad, dtype=float)
    if fused.shape != composed.shape or not (
        np.isfinite(fused).all() and np.isfinite(composed).all()
    ):
        return False
    return bool(np.allclose(fused, composed, rtol=rtol, atol=atol))


def _head_mean(losses: np.ndarray) -> float:
    return float(losses[: max(1, losses.size // 10)].mean())


def _tail_mean(losses: np.ndarray) -> float:
    return float(losses[-max(1, losses.size // 10) :].mean())
