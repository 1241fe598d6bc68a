"""What the playground says about a comparison, in words: the verdict, why, the tolerance it was
judged by, the numbers shown, and the caption a preset's lesson gets while it is still true.

The tab, the lessons and the tests read the same sentences from here, so a verdict is always
derived from a :class:`LossComparison` and never typed into a view and left there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from core.losses.compare import LossComparison
from core.losses.options import TOLERANCES, LossOptions
from core.losses.tensor_text import format_number

AGREE, DIFFER = "agree", "differ"
MAX_SHOWN_VALUES = 24  # a "none" vector longer than this shows its first values and a count


def flatten(value: float | list) -> list[float]:
    """Every number of a scalar or a nested list, in order."""
    if isinstance(value, list):
        return [v for item in value for v in flatten(item)]
    return [value]


def display_value(value: float | list) -> str:
    """4 decimals as the seed notebook printed; a vector (reduction "none") whole, up to
    MAX_SHOWN_VALUES values, then how many more there are (the tooltip has them all)."""
    if not isinstance(value, list):
        return format_number(value)
    flat = flatten(value)
    shown = ", ".join(format_number(v) for v in flat[:MAX_SHOWN_VALUES])
    more = len(flat) - MAX_SHOWN_VALUES
    return f"[{shown}{f', … {more} more' if more > 0 else ''}]"


def _power(value: float) -> str:
    """1e-05 as "1e-5": a tolerance reads as a power of ten."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def tolerance_text(dtype: str) -> str:
    """The tolerance "agree" is judged by in ``dtype``, as torch.allclose applies it to the
    losses and to every gradient element: |a − b| ≤ atol + rtol·|b|."""
    rtol, atol = TOLERANCES[dtype]
    return f"{_power(atol)} + {_power(rtol)}·|v|"


def verdict_word(result: LossComparison | None) -> str:
    """ "agree" when the losses and gradients are equal within the tolerance, else "differ";
    "" when there is nothing to judge yet."""
    if result is None:
        return ""
    return AGREE if result.agree else DIFFER


def verdict_title(result: LossComparison) -> str:
    """The verdict's big word, with its mark."""
    return "agree ✓" if result.agree else "differ ✗"


def difference_text(result: LossComparison) -> str:
    """The largest differences, then how they compare with the dtype's tolerance."""
    numbers = f"Δ value {result.value_diff:.2g}, Δ grad {result.grad_diff:.2g}"
    if result.agree and result.value_diff == 0 and result.grad_diff == 0:
        return f"{numbers}: identical"
    if result.agree:
        return f"{numbers}\nwithin {tolerance_text(result.options.dtype)}"
    if result.overflow or not (
        math.isfinite(result.value_diff) and math.isfinite(result.grad_diff)
    ):
        return f"{numbers}\na result is not finite"
    return f"{numbers}\nbeyond {tolerance_text(result.options.dtype)}"


def verdict_reason(result: LossComparison, mistake: bool) -> str:
    """Why the forms agree or differ, in a few words; an overflow is named, never "rounding"."""
    if result.overflow:
        return f"not finite: {result.overflow_step} overflowed ({result.options.dtype})"
    if result.agree:
        return (
            "harmless: the extra step changes nothing"
            if mistake
            else "equivalent forms, as expected"
        )
    if mistake:
        return "as expected: this is the mistake"
    if result.notes:
        return "an option or a saturated value parts them (see the notes)"
    return "same maths, but float rounding parts them here (see the plot below)"


def scale_text(scale: float) -> str:
    """A logit scale as the slider's label shows it: 3 significant digits, never "1e+03"."""
    return f"{scale:.0f}" if scale >= 100 else f"{scale:.3g}"


def scale_note(scale: float, parting: float | None, dtype: str) -> str:
    """Where the slider's s is, against where the two forms part in ``dtype``."""
    if parting is None:
        return f"the forms do not part up to s = 1000 ({dtype})"
    if parting <= 1.0:
        return f"the forms differ already at s = 1 ({dtype})"
    if scale >= parting:
        return f"past the parting point (s ≈ {scale_text(parting)}, {dtype})"
    return f"the forms part at s ≈ {scale_text(parting)} ({dtype})"


def parting_text(parting: float | None, dtype: str) -> str:
    """Where the forms part for these logits, as the slider's tooltip says it."""
    if parting is None:
        return f"For these logits the two forms never part in {dtype} up to s = 1000."
    if parting <= 1.0:
        return f"For these logits the two forms differ already at s = 1 in {dtype}."
    return (
        f"For these logits the two forms part at s ≈ {scale_text(parting)} in {dtype} "
        "(where the |fused − composed| curve leaves the floor)."
    )


@dataclass(frozen=True)
class Lesson:
    """A sentence that is true of one input: the pair, the tensors and the options it was
    written for (a preset's, or the seed example's)."""

    text: str
    pair: str
    prediction: list
    target: list
    options: LossOptions = field(default_factory=LossOptions)


def _option_changes(lesson: Lesson, options: LossOptions) -> list[str]:
    """The lesson's own values of the options that now differ, e.g. ["reduction mean"]."""
    changed = []
    for option in fields(LossOptions):
        name = option.name
        then = getattr(lesson.options, name)
        if then == getattr(options, name):
            continue
        if name == "dtype":
            changed.append(str(then))
        elif then is None:
            changed.append(f"no {name}")
        else:
            changed.append(f"{name} {format_number(then) if isinstance(then, float) else then}")
    return changed


def lesson_caption(
    lesson: Lesson | None,
    pair: str,
    prediction: list | None,
    target: list | None,
    options: LossOptions,
    scale: float = 1.0,
) -> str:
    """The lesson while it still describes what is shown, else "".

    Edited tensors or another pair take it away (its numbers would be wrong); changed options
    or a logit scale other than 1 keep it, said to be about the preset's settings, so a lesson
    that invites "switch the dtype to float64" survives the switch without claiming its figures
    for the new result.
    """
    if lesson is None or pair != lesson.pair:
        return ""
    if prediction != lesson.prediction or target != lesson.target:
        return ""
    said = []
    if scale != 1.0:
        said.append("at s = 1")
    changes = _option_changes(lesson, options)
    if changes:
        said.append(f"with the preset's {', '.join(changes)}")
    if not said:
        return lesson.text
    lead = " and ".join(said)
    return f"{lead[0].upper()}{lead[1:]}: {lesson.text}"
