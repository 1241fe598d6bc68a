"""core.inference.attack: the differentiable preprocessing, the three attacks, the search."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from core.data.mnist import load_sample
from core.errors import UserError
from core.inference import attack as attack_module
from core.inference.attack import (
    METHODS,
    AttackResult,
    _smallest_level,
    attack,
    geometry,
    model_input,
)
from core.inference.classifier import Classifier
from core.inference.preprocess import canvas_to_input, digit_to_paper
from core.resources import bundled_model_file
from core.storage.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_checkpoint(bundled_model_file()))


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    data = load_sample()
    return data.test_images.numpy(), data.test_labels.numpy()


def pictures(digits) -> list[np.ndarray]:  # noqa: ANN001
    """Test digits as the app meets them: canvas paper, a small file, light-on-dark, off-square."""
    images = digits[0]
    wide = np.full((120, 300), 250, dtype=np.uint8)
    wide[10:110, 150:250] = np.asarray(Image.fromarray(255 - images[3]).resize((100, 100)))
    return [
        digit_to_paper(images[0]),
        digit_to_paper(images[1], side=200),
        255 - digit_to_paper(images[2]),  # light ink on dark
        images[4],  # 28x28 as MNIST stores it
        wide,
    ]


def real_answer(classifier: Classifier, picture: np.ndarray) -> int:
    return classifier.predict([picture])[0].digit


def test_model_input_is_the_app_preprocessing(classifier, digits):
    for picture in pictures(digits):
        unit = picture.astype(np.float32) / 255.0
        geo = geometry(unit)
        ours = model_input(torch.from_numpy(unit), geo, classifier.normalization)
        theirs = canvas_to_input(picture, normalization=classifier.normalization).tensor
        assert ours.shape == (1, 1, 28, 28)
        assert torch.allclose(ours.reshape(28, 28), theirs.reshape(28, 28), atol=1e-5)


def test_gradient_reaches_the_picture_pixels(classifier, digits):
    picture = digit_to_paper(digits[0][0])
    unit = torch.from_numpy(picture.astype(np.float32) / 255.0).requires_grad_(True)
    geo = geometry(unit.detach().numpy())
    classifier.model(model_input(unit, geo, classifier.normalization))[0, 7].backward()
    grad = unit.grad.numpy()
    top, bottom, left, right = geo.crop
    assert np.abs(grad[top:bottom, left:right]).sum() > 0
    outside = grad.copy()
    outside[top:bottom, left:right] = 0
    assert not outside.any()  # pixels outside the ink's box do not reach the model


def drawn_seven() -> np.ndarray:
    """A 7 as the canvas draws it: a solid black pen on blank white paper (both at a bound)."""
    paper = Image.new("L", (280, 280), 255)
    points = [(84, 70), (196, 70), (168, 126), (140, 182), (126, 224)]
    ImageDraw.Draw(paper).line(points, fill=0, width=18, joint="curve")
    return np.asarray(paper)


def test_gradient_reaches_blank_paper_and_solid_ink(classifier):
    """A clamp passes no gradient at 0 and 1, where a drawing's paper and pen sit: the attack
    could then neither add ink beside a stroke nor lighten a solid one."""
    picture = drawn_seven()
    unit = torch.from_numpy(picture.astype(np.float32) / 255.0).requires_grad_(True)
    geo = geometry(unit.detach().numpy())
    classifier.model(model_input(unit, geo, classifier.normalization))[0, 3].backward()
    top, bottom, left, right = geo.crop
    inside = unit.grad.numpy()[top:bottom, left:right]
    crop = picture[top:bottom, left:right]
    assert (inside[crop == 255] != 0).mean() > 0.9  # blank paper
    assert (inside[crop == 0] != 0).mean() > 0.9  # solid ink


@pytest.mark.parametrize("method", METHODS)
def test_a_drawn_digit_flips(classifier, method):
    picture = drawn_seven()
    before = real_answer(classifier, picture)
    result = attack(classifier, picture, method)
    assert result.flipped and result.digit == before
    assert real_answer(classifier, result.adversarial_picture) == result.adversarial_digit != before


def test_empty_picture_has_no_geometry():
    assert geometry(np.ones((50, 50), dtype=np.float32)) is None


@pytest.mark.parametrize("method", METHODS)
def test_each_method_flips_what_the_app_reads(classifier, digits, method):
    for index in range(3):
        picture = digit_to_paper(digits[0][index])
        result = attack(classifier, picture, method)
        assert isinstance(result, AttackResult)
        assert result.flipped, result.explanation
        assert result.digit == real_answer(classifier, picture)
        assert result.adversarial_digit != result.digit
        assert result.adversarial_picture.dtype == np.uint8
        assert real_answer(classifier, result.adversarial_picture) == result.adversarial_digit
        difference = result.adversarial_picture.astype(int) - picture.astype(int)
        assert result.epsilon == pytest.approx(np.abs(difference).max() / 255.0)
        assert result.pixels_changed == np.count_nonzero(difference)
        assert np.allclose(result.perturbation, difference / 255.0, atol=1e-6)
        assert result.probabilities.shape == result.adversarial_probabilities.shape == (10,)
        assert result.inputs[0].shape == result.inputs[1].shape == (28, 28)
        assert result.explanation and str(result.digit) in result.explanation
        if method == "pixels":
            assert 1 <= result.dots <= attack_module.MAX_DOTS
        else:
            assert 0 < result.epsilon < 1 and result.dots == 0


def test_target_digit(classifier, digits):
    picture = digit_to_paper(digits[0][0])
    source = real_answer(classifier, picture)
    target = (source + 3) % 10
    for method in ("pgd", "pixels"):
        result = attack(classifier, picture, method, target=target)
        assert result.flipped
        assert result.adversarial_digit == target
        assert real_answer(classifier, result.adversarial_picture) == target


def test_smallest_level_bisects_below_the_first_success():
    calls = []

    def attempt(level: int) -> np.ndarray | None:
        calls.append(level)
        return np.full(1, level) if level >= 37 else None

    level, found = _smallest_level(attempt)
    assert 37 <= level <= 37 + 37 // attack_module.PRECISION
    assert found is not None and found[0] == level
    assert _smallest_level(lambda level: None) == (255, None)


def test_fgsm_epsilon_is_close_to_the_smallest_that_works(classifier, digits):
    picture = digit_to_paper(digits[0][1])
    result = attack(classifier, picture, "fgsm")
    level = round(result.epsilon * 255)
    direction = np.sign(result.perturbation)
    weaker = np.clip(picture + (level // 2) * direction, 0, 255).astype(np.uint8)
    assert real_answer(classifier, weaker) == result.digit


def test_user_errors(classifier, digits):
    picture = digit_to_paper(digits[0][0])
    source = real_answer(classifier, picture)
    with pytest.raises(UserError, match="nothing drawn"):
        attack(classifier, np.full((100, 100), 255, dtype=np.uint8))
    with pytest.raises(UserError, match="already reads"):
        attack(classifier, picture, target=source)
    with pytest.raises(UserError, match="from 0 to 9"):
        attack(classifier, picture, target=10)
    with pytest.raises(UserError, match="unknown attack method"):
        attack(classifier, picture, "cw")


def test_json_record(classifier, digits):
    result = attack(classifier, digit_to_paper(digits[0][0]), "fgsm")
    record = result.to_json("adv.png")
    for key in ("digit", "adversarial_digit", "epsilon", "pixels_changed", "out"):
        assert key in record
    assert record["out"] == "adv.png"
    assert len(record["adversarial_probabilities"]) == 10
