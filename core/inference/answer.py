"""A model's answer in words: the rules every view of a prediction shares, written once.

The Draw tab, the "Inside the network" tab, ``classify`` and ``inspect`` all show the same
three facts about an answer, and each of them reads them here:

- **which class an index is** (``class_name``): the digit for a digit model, the dataset's name
  for its classes otherwise ("Sneaker" for Fashion-MNIST label 7; ``core.data.datasets``);
- **whether a picture is centred** (``centre_pictures``): MNIST's digits were cropped, fitted to
  20x20 and centred by their centre of mass, so a learner's picture is prepared the same way;
  the pictures of Fashion-MNIST and KMNIST fill their frame, and are only resized;
- **the sentence a learner reads** (``describe`` for one line, ``answer_text`` for the Draw
  tab's headline and the line under it).

Plain Python, no Qt: views choose colours and fonts from ``AnswerText.confident``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.data.datasets import MNIST, DatasetInfo, checkpoint_info
from core.inference.classifier import Prediction

__all__ = [
    "AnswerText",
    "answer_text",
    "centre_pictures",
    "centre_pictures_for",
    "class_name",
    "describe",
    "not_a_class_sentence",
    "sure_text",
]


def class_name(info: DatasetInfo, index: int) -> str:
    """Label ``index``'s name for people: "7" for a digit model, "Sneaker" for Fashion-MNIST's 7.

    "" for an index that names no class (-1 is an empty picture's answer: there is none).
    """
    names = info.class_names
    return names[index] if 0 <= index < len(names) else ""


def centre_pictures(info: DatasetInfo, wanted: bool = True) -> bool:
    """Whether a picture for a model trained on ``info`` is cropped, fitted and centred as MNIST's
    digits were (``core.inference.preprocess`` ``center=True``): when ``wanted`` (the learner's
    switch; the CLI's ``--no-center``) and the dataset's pictures were made so. A Fashion-MNIST or
    KMNIST picture fills its frame and is only resized, whatever the switch says.
    """
    return wanted and info.fit_like_mnist


def centre_pictures_for(checkpoint: Any, wanted: bool = True) -> bool:
    """``centre_pictures`` for the dataset a ``core.storage.checkpoint.Checkpoint`` was trained on."""
    return centre_pictures(checkpoint_info(checkpoint), wanted)


def sure_text(confidence: float) -> str:
    """How sure, as people say it: "98.1%", and "over 99.9%" rather than a rounded "100.0%"."""
    return "over 99.9%" if confidence > 0.999 else f"{confidence:.1%}"


def not_a_class_sentence(info: DatasetInfo = MNIST) -> str:
    """What a high "is this a digit?" score means, e.g. "this does not look like a digit to the
    model" ("a garment" for Fashion-MNIST)."""
    return f"this does not look like a {info.item} to the model"


def describe(prediction: Prediction, info: DatasetInfo = MNIST) -> str:
    """One line of plain words: "7 (98.1%)", "not sure: 4 or 9? (41.0%)", "nothing drawn" or
    "not a digit? (closest: 0, 99.8%)"; class names for a non-digit dataset ("Sneaker (97.0%)")."""
    if prediction.is_empty:
        return "nothing drawn"
    name = class_name(info, prediction.digit)
    if not prediction.looks_like_digit:
        return f"not a {info.item}? (closest: {name}, {prediction.confidence:.1%})"
    if prediction.is_confident:
        return f"{name} ({prediction.confidence:.1%})"
    runner_up = class_name(info, prediction.runner_up)
    return f"not sure: {name} or {runner_up}? ({prediction.confidence:.1%})"


@dataclass(frozen=True)
class AnswerText:
    """An answer as the Draw tab shows it: the big label, the headline and the line under it.

    ``label`` is the class index as text ("7"), "?" for "not a digit?" and "–" for no ink;
    ``confident`` is what a view colours by (``Prediction.is_confident``).
    """

    label: str
    verdict: str
    detail: str
    confident: bool


def answer_text(
    prediction: Prediction, info: DatasetInfo = MNIST, *, threshold: float | None = None
) -> AnswerText:
    """The words for ``prediction`` of a model trained on ``info``.

    ``threshold`` is the model's "is this a digit?" limit (``OodStats.threshold``), quoted when
    the answer is "not a digit?". What only the caller knows (a data-set label, a borrowed model,
    the time taken) is added by the caller to ``detail``.
    """
    if prediction.is_empty:
        return AnswerText(
            "–",
            "Nothing drawn",
            f"Draw a {info.item} on the canvas, or drop a picture file here.",
            False,
        )
    name = class_name(info, prediction.digit)
    if not prediction.looks_like_digit:
        limit = f", real {info.item}s stay under {threshold:.1f}" if threshold is not None else ""
        sentence = not_a_class_sentence(info)
        score = prediction.ood_score if prediction.ood_score is not None else float("nan")
        return AnswerText(
            "?",
            f"Not a {info.item}?",
            f"{sentence[0].upper()}{sentence[1:]} (unusualness {score:.1f}{limit}). Its "
            f"closest guess would be {name} ({prediction.confidence:.1%}): the softmax must "
            "add up to 100% even for a scribble.",
            False,
        )
    runner_up = prediction.runner_up
    detail = (
        f"Next best: {class_name(info, runner_up)} ({prediction.probabilities[runner_up]:.1%})."
    )
    if prediction.is_confident:
        prefix = "" if info.shows_digits else f"{name}: "  # the big label shows the index
        verdict = f"{prefix}{sure_text(prediction.confidence)} sure"
    else:
        verdict = f"Not sure: {name} or {class_name(info, runner_up)}?"
    return AnswerText(str(prediction.digit), verdict, detail, prediction.is_confident)
