"""The Loss playground's state, without Qt: which pair, which tensors and options, the logit
scale s of the stability slider, the last valid comparison (at s), the stability sweep, the
current input error and the lesson that belongs to the input.

glue's habit (``viewers/*/state.py``): the tab is a thin view over this object. It hands the
state what the grids and option widgets hold (``set_inputs``) or the error reading them gave
(``set_error``), moves the slider (``set_scale``), and redraws from the state whenever it
says it changed (``subscribe``). Everything a view or a lesson reads (the verdict, whether
the slider is past the point where the forms part, whether the input is the seed's) is
derived here from the current values, so no word outlives the numbers it was about.

Each change computes at once on the caller's thread: a comparison is about 1-3 ms and a
41-point sweep 4-9 ms with one intra-op thread (64×20 logits, at most the grids' size), under
the window's 16 ms budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from core.device import one_intra_op_thread
from core.errors import InputError
from core.losses import (
    BINARY,
    CLASS,
    PAIRS,
    LossComparison,
    LossOptions,
    StabilitySweep,
    compare,
    is_seed_example,
    log_scales,
    stability_sweep,
)
from core.losses.verdict import Lesson, lesson_caption, scale_text, verdict_word

SCALE_MIN, SCALE_MAX = 1.0, 1000.0  # the slider covers what the sweep covers
SWEEP_POINTS = 41

Listener = Callable[["PlaygroundState"], None]


def scaled(prediction: list, scale: float) -> list:
    """``scale · prediction`` for a 1- or 2-D list (the input itself at scale 1)."""
    if scale == 1.0:
        return prediction
    return [
        [v * scale for v in row] if isinstance(row, list) else row * scale for row in prediction
    ]


def pasted_rows(kind: str, field: str, values: float | list, most: tuple[int, int]) -> list:
    """A pasted tensor as the rows of the ``field`` grid ("prediction" or "target") for a pair
    whose target is ``kind``: class indices one per row, a flat list as one sample (or one
    column for BCE and for targets). Raises ``InputError`` for a shape the grids cannot show
    (``most``: their largest rows and columns)."""
    rows = values if isinstance(values, list) else [values]
    if field == "target" and kind == CLASS:
        rows = [r[0] if isinstance(r, list) and len(r) == 1 else r for r in rows]
        if any(isinstance(r, list) for r in rows):
            raise InputError("a class target is one index per row, e.g. [0, 1, 4]", field=field)
        return rows
    if not isinstance(rows[0], list):  # a flat list: one sample (CE) or one column (BCE)
        rows = [[v] for v in rows] if kind == BINARY or field == "target" else [rows]
    if len(rows) > most[0] or len(rows[0]) > most[1]:
        raise InputError(
            f"the pasted {field} is {len(rows)}×{len(rows[0])}; the playground shows at "
            f"most {most[0]}×{most[1]}",
            field=field,
        )
    return rows


class PlaygroundState:
    """What the playground shows, as plain data; see the module docstring.

    ``prediction``/``target``/``options`` are the last input that could be read (as typed, at
    s = 1); ``comparison`` is the last valid comparison of ``scale · prediction`` — kept while
    ``error`` says what is wrong with a newer input, so the view can grey it out instead of
    blanking it.
    """

    def __init__(self, pair: str = "ce-nll") -> None:
        self.pair = pair
        self.prediction: list | None = None
        self.target: list | None = None
        self.options = LossOptions()
        self.scale = SCALE_MIN
        self.comparison: LossComparison | None = None
        self.error: InputError | None = None
        self.sweep: StabilitySweep | None = None
        self.lesson: Lesson | None = None
        self._listeners: list[Listener] = []

    # ------------------------------------------------------------------ observing
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(state)`` after every change."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener(self)

    # ------------------------------------------------------------------ changing
    def set_pair(self, pair: str) -> None:
        """Choose the pair; the caller sets the tensors that fit it next (``set_inputs``)."""
        if pair not in PAIRS:
            raise KeyError(pair)
        self.pair = pair

    def set_inputs(
        self,
        prediction: list,
        target: list,
        options: LossOptions,
        *,
        lesson: str | None = None,
        scale: float | None = None,
    ) -> None:
        """Compare both forms on ``scale · prediction`` and sweep s = 1 … 1000; an input the
        engine refuses becomes ``error`` and the last valid comparison stays.

        ``lesson``: a sentence true of exactly this input (a preset's), shown while it stays
        so. ``scale``: move the logit scale first (a new example starts at s = 1).
        """
        self.prediction, self.target, self.options = prediction, target, options
        if scale is not None:
            self.scale = min(SCALE_MAX, max(SCALE_MIN, float(scale)))
        if lesson is not None:
            self.lesson = Lesson(lesson, self.pair, prediction, target, options)
        self.error = None
        try:
            with one_intra_op_thread():
                self.comparison = self._compare_at(self.scale)
                self.sweep = stability_sweep(
                    self.pair, prediction, target, options, log_scales(points=SWEEP_POINTS)
                )
        except InputError as exc:
            self.error = exc
        self._changed()

    def set_error(self, error: InputError) -> None:
        """The input cannot be read (a bad cell or option): say so and keep the last result,
        but forget the input, so nothing (the lesson, "is the seed") is said about it."""
        self.error = error
        self.prediction = self.target = None
        self._changed()

    def set_scale(self, scale: float) -> None:
        """Move the logit scale s (clamped to 1 … 1000) and recompare at it."""
        scale = min(SCALE_MAX, max(SCALE_MIN, float(scale)))
        if scale == self.scale:
            return
        self.scale = scale
        if self.prediction is not None and self.target is not None:
            try:
                with one_intra_op_thread():
                    self.comparison = self._compare_at(scale)
                self.error = None
            except InputError as exc:  # e.g. s·x no longer fits in float32
                self.error = exc
        self._changed()

    def _compare_at(self, scale: float) -> LossComparison:
        assert self.prediction is not None and self.target is not None
        return compare(self.pair, scaled(self.prediction, scale), self.target, self.options)

    def clear_lesson(self) -> None:
        self.lesson = None
        self._changed()

    # ------------------------------------------------------------------ reading
    @property
    def verdict(self) -> str:
        """ "agree" / "differ" for the comparison shown (at ``scale``); "" before any."""
        return verdict_word(self.comparison)

    @property
    def fused_value(self) -> float | list | None:
        return self.comparison.fused.value if self.comparison else None

    @property
    def composed_value(self) -> float | list | None:
        return self.comparison.composed.value if self.comparison else None

    @property
    def parting_scale(self) -> float | None:
        """The first s of the sweep where the forms part in the current dtype, or None."""
        if self.sweep is None:
            return None
        return self.sweep.parting_scale(self.options.dtype)

    @property
    def parted(self) -> bool:
        """The slider is at or past the scale where the two forms part."""
        parting = self.parting_scale
        return parting is not None and self.scale >= parting * (1 - 1e-9)

    @property
    def inputs_are_seed(self) -> bool:
        """The tensors (as typed) are one of the seed notebook's examples."""
        return is_seed_example(self.prediction, self.target)

    @property
    def caption(self) -> str:
        """The lesson, while the input is still the one it was written for (else "")."""
        return lesson_caption(
            self.lesson, self.pair, self.prediction, self.target, self.options, self.scale
        )

    @property
    def scaled_note(self) -> str:
        """What the results are of, when s is not 1 ("" at s = 1)."""
        if self.scale == SCALE_MIN:
            return ""
        return f"at s = {scale_text(self.scale)}"


def slider_position(scale: float, steps_per_decade: int) -> int:
    """The integer slider position of a scale on a log axis (0 is s = 1)."""
    return round(math.log10(max(scale, SCALE_MIN)) * steps_per_decade)


def slider_scale(position: int, steps_per_decade: int) -> float:
    """The scale at an integer slider position (the inverse of :func:`slider_position`)."""
    return min(SCALE_MAX, 10 ** (position / steps_per_decade))
