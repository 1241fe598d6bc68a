"""core.inference.answer: class names, the centring rule and the words of an answer."""

from __future__ import annotations

import pytest

from core.data.datasets import FASHION_MNIST, KMNIST, MNIST
from core.inference.answer import (
    answer_text,
    centre_pictures,
    centre_pictures_for,
    class_name,
    describe,
    sure_text,
)
from core.inference.classifier import EMPTY_PREDICTION, Prediction
from core.storage.checkpoint import Checkpoint

SURE = Prediction(7, 0.9, [0.01] * 7 + [0.9, 0.03, 0.0])
UNSURE = Prediction(4, 0.4, [0.0] * 4 + [0.4, 0.1, 0.1, 0.0, 0.0, 0.3])
ODD = Prediction(0, 0.998, [0.998] + [0.0002] * 9, ood_score=12.34, looks_like_digit=False)


def test_class_names_come_from_the_dataset():
    assert class_name(MNIST, 7) == "7"
    assert class_name(FASHION_MNIST, 7) == "Sneaker"
    assert class_name(KMNIST, 0) == "o"
    assert class_name(MNIST, -1) == "" and class_name(FASHION_MNIST, 10) == ""


def test_pictures_are_centred_only_for_datasets_made_that_way():
    assert centre_pictures(MNIST) and not centre_pictures(MNIST, wanted=False)
    assert not centre_pictures(FASHION_MNIST) and not centre_pictures(KMNIST, wanted=True)
    fashion = Checkpoint("mlp", "nll", {}, config={"dataset": "fashion-mnist"})
    digits = Checkpoint("mlp", "nll", {}, config={"dataset": "sample"})
    assert not centre_pictures_for(fashion) and centre_pictures_for(digits)
    assert not centre_pictures_for(digits, wanted=False)


def test_describe_says_when_not_sure():
    assert describe(SURE) == "7 (90.0%)"
    assert describe(UNSURE) == "not sure: 4 or 9? (40.0%)"
    assert describe(EMPTY_PREDICTION) == "nothing drawn"
    assert describe(ODD) == "not a digit? (closest: 0, 99.8%)"
    assert SURE.is_confident and not UNSURE.is_confident


def test_describe_names_the_classes_of_other_datasets():
    assert describe(SURE, FASHION_MNIST) == "Sneaker (90.0%)"
    assert describe(UNSURE, FASHION_MNIST) == "not sure: Coat or Ankle boot? (40.0%)"
    assert describe(ODD, FASHION_MNIST) == "not a garment? (closest: T-shirt/top, 99.8%)"


@pytest.mark.parametrize(
    ("confidence", "text"), [(0.981, "98.1%"), (0.9995, "over 99.9%"), (1.0, "over 99.9%")]
)
def test_sure_text_never_rounds_up_to_certainty(confidence, text):
    assert sure_text(confidence) == text


def test_answer_text_for_each_kind_of_answer():
    sure = answer_text(SURE)
    assert (sure.label, sure.verdict, sure.confident) == ("7", "90.0% sure", True)
    assert sure.detail == "Next best: 8 (3.0%)."
    unsure = answer_text(UNSURE)
    assert (unsure.label, unsure.verdict, unsure.confident) == ("4", "Not sure: 4 or 9?", False)
    assert unsure.detail == "Next best: 9 (30.0%)."
    empty = answer_text(EMPTY_PREDICTION)
    assert (empty.label, empty.verdict) == ("–", "Nothing drawn")
    assert "Draw a digit" in empty.detail
    odd = answer_text(ODD, threshold=8.0)
    assert (odd.label, odd.verdict, odd.confident) == ("?", "Not a digit?", False)
    assert odd.detail.startswith(
        "This does not look like a digit to the model (unusualness 12.3, real digits stay under 8.0)"
    )
    assert "closest guess would be 0 (99.8%)" in odd.detail
    assert "stay under" not in answer_text(ODD).detail  # no threshold known: none quoted


def test_answer_text_names_a_class_beside_the_big_index():
    sure = answer_text(SURE, FASHION_MNIST)
    assert (sure.label, sure.verdict) == ("7", "Sneaker: 90.0% sure")
    assert answer_text(UNSURE, FASHION_MNIST).verdict == "Not sure: Coat or Ankle boot?"
    assert answer_text(ODD, FASHION_MNIST).verdict == "Not a garment?"
