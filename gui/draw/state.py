"""The Draw tab's session, without Qt: which model reads the canvas, how, and what it says.

glue's habit (``viewers/*/state.py``): the tab is a thin view over this object. It holds the
classifier in use, the dataset whose classes it names, the learner's switches (MNIST
preprocessing, calibrated probabilities), the label of a data-set digit sent by "Try in Draw",
and the model that digit's run offers. ``read(picture)`` turns a canvas picture into a
``DrawAnswer``: the prediction, what the model saw, and the words a learner reads.

Inference runs on the window's thread (a forward pass is ~1 ms), with ONE intra-op thread:
on a busy 2-core machine two OpenMP threads spin for 100+ ms on a 0.5 ms pass when one of them
is descheduled (issue 22). ``pin_to_one_intra_op_thread`` does it for the calling thread only.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch

from core.data.datasets import MNIST, DatasetInfo, checkpoint_info
from core.device import one_intra_op_thread
from core.inference.answer import answer_text, centre_pictures, class_name
from core.inference.classifier import Classifier, Prediction, checkpoint_temperature
from core.inference.preprocess import Preprocessed
from core.storage.checkpoint import Checkpoint

log = logging.getLogger(__name__)

# Tones the view maps to colours (gui.theme): the answer, an unsure answer, no answer.
ACCENT, NOTE, FAINT = "accent", "note", "faint"


def pin_to_one_intra_op_thread() -> int:
    """Give the *calling* thread one intra-op thread; other threads keep torch's default.

    ``torch.set_num_threads`` sets the calling thread's OpenMP team size *and* the default every
    new thread copies at its first parallel operation (ATen's lazy per-thread init). So: set 1
    here, then put the default back from a short-lived helper thread, whose own setting dies
    with it. Training and other workers started later still get every core. Returns the
    calling thread's count afterwards: 1 where the backend keeps it per thread (OpenMP, the
    default on Linux, Windows and macOS wheels); with a backend whose pool is process-wide,
    the default wins and ``one_intra_op_thread`` narrows each call instead.
    """
    others = torch.get_num_threads()
    if others <= 1:
        return 1
    torch.set_num_threads(1)
    helper = threading.Thread(
        target=torch.set_num_threads, args=(others,), name="torch-default-threads"
    )
    helper.start()
    helper.join()
    now = torch.get_num_threads()
    log.debug("window thread: %d intra-op thread(s), others %d", now, others)
    return now


@dataclass(frozen=True)
class AnswerWords:
    """What the answer box says: the big label, its tone, the verdict and the detail line."""

    digit: str
    tone: str  # ACCENT, NOTE or FAINT
    verdict: str
    detail: str


@dataclass(frozen=True)
class DrawAnswer:
    """One reading of the canvas: the prediction, the preprocessed input, words and timing."""

    prediction: Prediction
    preprocessed: Preprocessed
    latency_ms: float
    words: AnswerWords
    centred: bool

    @property
    def bars_greyed(self) -> bool:
        return not self.prediction.is_empty and not self.prediction.looks_like_digit


@dataclass(frozen=True)
class OfferedModel:
    """A model a "Try in Draw" digit came with (the run that got it wrong), not yet in use."""

    checkpoint: Checkpoint
    name: str  # e.g. "Run #3"


class DrawSession:
    """The Draw tab's state: model, dataset, switches and the digit's label; no Qt.

    ``use_checkpoint`` swaps the model (raises ``UserError`` for one that cannot be built);
    ``read`` answers a picture. ``scored_by`` names the model that answers when it is not the
    app's current one (a run's model borrowed for its own mistake).
    """

    def __init__(self) -> None:
        self.classifier: Classifier | None = None
        self.dataset_info: DatasetInfo = MNIST
        self.centre_wanted = True  # the learner's switch; see ``centred``
        self.calibrated = True
        self.model_is_random = False
        self.reference_label: int | None = None  # a data-set digit's true label
        self.offered: OfferedModel | None = None  # the run a "Try in Draw" digit came from
        self.scored_by: str | None = None  # a borrowed model's name, None: the app's model

    # ------------------------------------------------------------------ model
    def use_checkpoint(self, checkpoint: Checkpoint, *, borrowed_as: str | None = None) -> None:
        """Answer with ``checkpoint`` from now on (its OOD statistics come later: ``set_ood``).

        ``borrowed_as``: the name of a model used here without becoming the app's current one.
        """
        classifier = Classifier(checkpoint, ood=None)
        if not self.calibrated:
            classifier.temperature = 1.0
        self.classifier = classifier
        self.model_is_random = False
        self.scored_by = borrowed_as
        self.dataset_info = checkpoint_info(checkpoint)
        if self.offered is not None and self.offered.checkpoint is checkpoint:
            self.offered = None  # accepted
        with one_intra_op_thread():
            classifier.warm_up()

    def use_random_model(self) -> None:
        """No model file at all: an untrained CNN keeps the tab usable, clearly labelled."""
        from core.training.models import build_model

        checkpoint = Checkpoint.from_model(
            build_model("cnn"), "cnn", "nll", dataset="nothing (untrained)"
        )
        self.classifier = Classifier(checkpoint, ood=None)
        self.model_is_random = True
        self.scored_by = None
        self.dataset_info = MNIST
        with one_intra_op_thread():
            self.classifier.warm_up()

    def set_calibrated(self, on: bool) -> None:
        self.calibrated = on
        if self.classifier is not None:
            checkpoint = self.classifier.checkpoint
            self.classifier.temperature = checkpoint_temperature(checkpoint) if on else 1.0

    @property
    def temperature(self) -> float:
        """The model's calibration temperature (1.0: it has none)."""
        return checkpoint_temperature(self.classifier.checkpoint) if self.classifier else 1.0

    @property
    def centred(self) -> bool:
        """MNIST's crop-fit-centre: when wanted and the model's pictures were made so (digits;
        a Fashion-MNIST or KMNIST picture fills its frame and is only resized)."""
        return centre_pictures(self.dataset_info, self.centre_wanted)

    # ---------------------------------------------------------------- a digit
    def receive_digit(self, label: int | None, offered: OfferedModel | None) -> None:
        """A data-set digit arrives ("Try in Draw"): its label, and the run that read it."""
        self.reference_label = None if label is None else int(label)
        current = self.classifier.checkpoint if self.classifier is not None else None
        self.offered = (
            offered if offered is not None and offered.checkpoint is not current else None
        )

    def forget_digit(self) -> None:
        """The data-set digit left the canvas (cleared, undone, a new picture)."""
        self.reference_label = None
        self.offered = None

    @property
    def label_for_saving(self) -> int | None:
        """The digit "Add to my digits as" should offer before the model's answer: the known
        label of a data-set digit (the model's answer may be its mistake)."""
        return self.reference_label

    # ------------------------------------------------------------------ read
    def read(self, picture: np.ndarray) -> DrawAnswer:
        """Preprocess ``picture`` (the canvas, dark on light) and answer it, in words too."""
        if self.classifier is None:
            raise RuntimeError("no model yet")
        started = time.perf_counter()
        centred = self.centred
        with one_intra_op_thread():
            item = self.classifier.preprocess(picture, center=centred)
            prediction = self.classifier.predict_preprocessed([item])[0]
        latency = (time.perf_counter() - started) * 1000.0
        return DrawAnswer(prediction, item, latency, self.words(prediction, latency), centred)

    def saliency(self, item: Preprocessed | None) -> tuple[np.ndarray, float] | None:
        """The saliency map (0..1) and its peak for ``item``'s answer, None without ink."""
        if self.classifier is None or item is None or item.tensor is None:
            return None
        with one_intra_op_thread():
            return self.classifier.saliency_map(item.tensor)

    # ----------------------------------------------------------------- words
    def class_name(self, index: int) -> str:
        """Class ``index`` for people: the digit, or its name for e.g. a Fashion-MNIST model."""
        return class_name(self.dataset_info, index) or str(index)

    def words(
        self, prediction: Prediction, latency_ms: float, opening: str | None = None
    ) -> AnswerWords:
        """The sentence a learner reads for ``prediction`` (``core.inference.answer``'s words,
        with what only this tab knows added); ``opening``: a file being read."""
        if prediction.is_empty and opening:
            return AnswerWords(
                "–",
                FAINT,
                f"Opening {opening}…",
                "Reading the picture; you can keep working meanwhile (Cancel: Ctrl+.).",
            )
        stats = self.classifier.ood_stats if self.classifier is not None else None
        text = answer_text(
            prediction, self.dataset_info, threshold=None if stats is None else stats.threshold
        )
        if prediction.is_empty or not prediction.looks_like_digit:
            return AnswerWords(text.label, FAINT, text.verdict, text.detail)
        detail = f"{text.detail} Answered in {latency_ms:.1f} ms."
        if self.reference_label is not None:
            right = "right" if prediction.digit == self.reference_label else "wrong"
            label = self.class_name(self.reference_label)
            detail = f"Labelled {label} in the data set ({right}). {detail}"
        if self.scored_by:
            detail = f"Scored by {self.scored_by}'s model, not the one in use. {detail}"
        if self.model_is_random:
            detail = f"Untrained model: this is a random guess. {detail}"
        return AnswerWords(text.label, ACCENT if text.confident else NOTE, text.verdict, detail)

    def offer_text(self) -> str:
        """The one line that offers the digit's own model ("" when there is nothing to offer)."""
        if self.offered is None:
            return ""
        return (
            f"This digit is one of {self.offered.name}'s mistakes, but the model in use reads it "
            "here. Score it with the model that got it wrong?"
        )

    def model_html(self) -> str:
        """The Model box's text: the summary and a hint when the model is small or weak."""
        if self.classifier is None:
            return ""
        checkpoint = self.classifier.checkpoint
        acc = checkpoint.test_accuracy
        parts = [f"<b>{checkpoint.summary()}</b>"]
        if self.scored_by:
            parts.insert(0, f"Borrowed for this digit: {self.scored_by}'s model.")
        if checkpoint.dataset.lower().startswith("bundled"):  # "bundled MNIST sample (4,000…"
            parts.append(
                "Trained on the small bundled sample only; a model trained on full MNIST in "
                "the Training tab reads your handwriting better."
            )
        elif acc is not None and acc < 0.97:
            parts.append("Below 97% on its test set: training longer or a CNN should help.")
        return "<br>".join(parts)

    def model_tooltip(self) -> str:
        if self.classifier is None:
            return ""
        checkpoint = self.classifier.checkpoint
        acc = checkpoint.test_accuracy
        return (
            f"Model: {checkpoint.model_name}, loss {checkpoint.loss}\n"
            f"Dataset: {checkpoint.dataset or 'unknown'}\n"
            f"Test accuracy: {'unknown' if acc is None else f'{acc:.2%}'}\n"
            f"Saved by Digit Lab {checkpoint.app_version or '?'}"
        )
