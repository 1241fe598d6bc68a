"""The playground's words come from the numbers: verdict, tolerance, values, lesson captions."""

from __future__ import annotations

from core.losses import (
    PRESETS,
    SEED_EXAMPLES,
    LossOptions,
    compare,
    is_seed_example,
    onehot,
    seed_example,
)
from core.losses.verdict import (
    Lesson,
    difference_text,
    display_value,
    lesson_caption,
    parting_text,
    scale_note,
    scale_text,
    tolerance_text,
    verdict_reason,
    verdict_title,
    verdict_word,
)

SEED_X, SEED_Y = SEED_EXAMPLES["ce-nll"]


def test_display_value_scalar_and_vector():
    assert display_value(1.68021) == "1.6802"
    assert display_value([0.5, 1.25]) == "[0.5000, 1.2500]"
    long = display_value([float(i) for i in range(30)])
    assert long.endswith(", … 6 more]") and long.count(",") == 24


def test_the_tolerance_is_said_per_dtype():
    assert tolerance_text("float32") == "1e-5 + 1e-4·|v|"
    assert tolerance_text("float64") == "1e-12 + 1e-9·|v|"


def test_identical_forms_say_so_and_agree():
    result = compare("ce-nll", SEED_X, SEED_Y)
    assert verdict_word(result) == "agree" and verdict_title(result).startswith("agree")
    assert difference_text(result) == "Δ value 0, Δ grad 0: identical"
    assert verdict_reason(result, mistake=False) == "equivalent forms, as expected"


def test_agreement_within_rounding_states_the_tolerance():
    result = compare("ce-after-logsoftmax", SEED_X, SEED_Y)
    assert result.agree and (result.value_diff > 0 or result.grad_diff > 0)
    assert difference_text(result).endswith("\nwithin 1e-5 + 1e-4·|v|")
    float64 = compare("ce-after-logsoftmax", SEED_X, SEED_Y, LossOptions(dtype="float64"))
    assert difference_text(float64).endswith("\nwithin 1e-12 + 1e-9·|v|")
    assert verdict_reason(result, mistake=True) == "harmless: the extra step changes nothing"


def test_differ_only_when_the_numbers_do():
    result = compare("nll-on-logits", SEED_X, SEED_Y)
    assert verdict_word(result) == "differ" and verdict_title(result).startswith("differ")
    assert "beyond 1e-5 + 1e-4·|v|" in difference_text(result)
    assert verdict_reason(result, mistake=True) == "as expected: this is the mistake"
    assert verdict_word(None) == ""


def test_overflow_is_named_never_rounding():
    preset = PRESETS["Large logits: naive softmax overflows"]
    result = compare(preset.pair, preset.prediction, preset.target)
    reason = verdict_reason(result, mistake=False)
    assert reason == "not finite: exp(x) overflowed (float32)" and "rounding" not in reason
    assert difference_text(result).endswith("a result is not finite")


def test_lesson_caption_follows_the_input():
    lesson = Lesson("1.6802 for both forms", "ce-nll", SEED_X, SEED_Y)
    options = LossOptions()
    assert lesson_caption(lesson, "ce-nll", SEED_X, SEED_Y, options) == lesson.text
    edited = [row[:] for row in SEED_X]
    edited[0][0] = 3.5
    assert lesson_caption(lesson, "ce-nll", edited, SEED_Y, options) == ""
    assert lesson_caption(lesson, "ce-manual", SEED_X, SEED_Y, options) == ""
    assert lesson_caption(None, "ce-nll", SEED_X, SEED_Y, options) == ""
    summed = lesson_caption(lesson, "ce-nll", SEED_X, SEED_Y, LossOptions(reduction="sum"))
    assert summed == "With the preset's reduction mean: 1.6802 for both forms"
    wide = lesson_caption(lesson, "ce-nll", SEED_X, SEED_Y, LossOptions(dtype="float64"), 10.0)
    assert wide == "At s = 1 and with the preset's float32: 1.6802 for both forms"
    weighted = LossOptions(weight=[1.0] * 5)
    assert "no weight" in lesson_caption(lesson, "ce-nll", SEED_X, SEED_Y, weighted)


def test_seed_example_per_kind_of_target():
    assert seed_example("bce-logits").title == "Seed example: BCE"
    assert seed_example("ce-nll").title == "Seed example: CE"
    soft = seed_example("ce-soft")
    assert soft.pair == "ce-soft" and soft.target == onehot(SEED_Y, 5)
    assert "does not give it" in seed_example("nll-on-logits").lesson
    assert "gives the same" in seed_example("ce-manual").lesson


def test_is_seed_example():
    assert is_seed_example(SEED_X, SEED_Y) and is_seed_example(SEED_X, onehot(SEED_Y, 5))
    assert is_seed_example(*SEED_EXAMPLES["bce-logits"])
    assert not is_seed_example(SEED_X, [0, 1, 3])
    assert not is_seed_example(None, None)
    edited = [row[:] for row in SEED_X]
    edited[2][4] = 0.1356
    assert not is_seed_example(edited, SEED_Y)


def test_saturated_bce_differs_beyond_the_float32_tolerance():
    result = compare("bce-logits", [[25.0], [-30.0]], [[0.0], [1.0]])
    text = difference_text(result)
    assert not result.agree and verdict_word(result) == "differ"
    assert text.startswith(f"Δ value {result.value_diff:.2g}, Δ grad {result.grad_diff:.2g}")
    assert text.endswith("\nbeyond 1e-5 + 1e-4·|v|")


def test_scale_text():
    assert [scale_text(s) for s in (1.0, 1.0233, 25.12, 251.2, 1000.0)] == [
        "1",
        "1.02",
        "25.1",
        "251",
        "1000",
    ]


def test_the_slider_note_says_where_s_is_against_the_parting_point():
    assert scale_note(5.0, 22.4, "float32") == "the forms part at s ≈ 22.4 (float32)"
    assert scale_note(50.0, 22.4, "float32") == "past the parting point (s ≈ 22.4, float32)"
    assert scale_note(1.0, 1.0, "float64") == "the forms differ already at s = 1 (float64)"
    assert scale_note(3.0, None, "float32") == "the forms do not part up to s = 1000 (float32)"
    assert "never part" in parting_text(None, "float32")
    assert "s ≈ 63.1 in float64" in parting_text(63.0957, "float64")
