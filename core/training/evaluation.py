"""Evaluation on a test set: accuracy, loss, confusion matrix, per-class accuracy, mistakes.

One function serves the trainer (after every epoch), the ``evaluate`` CLI and the GUI, so the
numbers a user sees are always computed the same way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.data.mnist import NUM_CLASSES, MnistData, normalize
from core.training.train_types import EvalResult, Misclassified

# Images per forward pass: bounds memory (a CNN's first feature map is 50 KB per image).
EVAL_BATCH = 1000


def loss_function(loss: str):
    """The training criterion for a model head: ``nll`` on log-probabilities, ``ce`` on logits."""
    return F.nll_loss if loss == "nll" else F.cross_entropy


def model_input(images: torch.Tensor, model_name: str) -> torch.Tensor:
    """Normalised float images shaped for the model: (N, 784) for the MLP, (N, 1, 28, 28) else.

    Flattening once here spares the MLP a reshape per batch.
    """
    if model_name == "mlp":
        return images.reshape(images.shape[0], images.shape[-2] * images.shape[-1])
    return images.reshape(images.shape[0], 1, images.shape[-2], images.shape[-1])


def evaluate(
    model: nn.Module,
    data: MnistData,
    device: torch.device | str,
    loss: str = "nll",
    max_misclassified: int = 200,
) -> EvalResult:
    """Evaluate ``model`` on ``data``'s test split on ``device``.

    Whatever the head (``loss``: "nll" log-probabilities or "ce" logits) the reported loss is the
    mean negative log-likelihood. Misclassified digits are listed most confident first (the most
    instructive mistakes), at most ``max_misclassified`` of them.
    """
    return evaluate_outputs(model, data, device, max_misclassified)[0]


def evaluate_outputs(
    model: nn.Module,
    data: MnistData,
    device: torch.device | str,
    max_misclassified: int = 200,
) -> tuple[EvalResult, torch.Tensor]:
    """``evaluate`` plus the (N, 10) log-probabilities it scored (for calibration)."""
    device = torch.device(device)
    # (N, 28, 28) suits every registry model: the MLP flattens, the CNN adds the channel axis.
    inputs = normalize(data.test_images.to(device))
    log_probs = log_probabilities(model, inputs)
    labels = data.test_labels.to(device)
    return score_log_probs(log_probs, labels, max_misclassified), log_probs


def log_probabilities(
    model: nn.Module, inputs: torch.Tensor, batch: int = EVAL_BATCH
) -> torch.Tensor:
    """float32 (N, 10) log-probabilities of ``inputs`` (prepared as for ``evaluate_tensors``),
    in eval mode without autograd, ``batch`` images at a time; the model's mode is kept."""
    was_training = model.training
    model.eval()
    parts = []
    try:
        with torch.inference_mode():
            for start in range(0, inputs.shape[0], batch):
                out = model(inputs[start : start + batch])
                parts.append(F.log_softmax(out.float(), dim=1))
    finally:
        model.train(was_training)
    if not parts:
        return torch.zeros((0, NUM_CLASSES), device=inputs.device)
    return torch.cat(parts)


def evaluate_tensors(
    model: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    loss: str,
    max_misclassified: int = 200,
    batch: int = EVAL_BATCH,
) -> EvalResult:
    """``evaluate`` on inputs already normalised, shaped and on the model's device (the trainer
    prepares them once per run rather than once per epoch). ``loss`` names the head; the loss
    reported is the mean negative log-likelihood either way."""
    del loss  # log_softmax makes both heads' outputs log-probabilities
    return score_log_probs(log_probabilities(model, inputs, batch), labels, max_misclassified)


def score_log_probs(
    log_probs: torch.Tensor, labels: torch.Tensor, max_misclassified: int = 200
) -> EvalResult:
    """Accuracy, mean NLL, confusion, per-class accuracy and the most confident mistakes."""
    n = int(labels.shape[0])
    if n == 0:
        return EvalResult(0.0, 0.0, 0, [[0] * NUM_CLASSES for _ in range(NUM_CLASSES)], [0.0] * 10)
    total_loss = F.nll_loss(log_probs.double(), labels, reduction="sum")
    confidence, predicted = log_probs.max(dim=1)
    predicted, confidence, truth = predicted.cpu(), confidence.exp().cpu(), labels.cpu()
    confusion = torch.bincount(truth * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2).reshape(
        NUM_CLASSES, NUM_CLASSES
    )
    per_class_total = confusion.sum(dim=1)
    per_class = [
        float(confusion[c, c]) / float(per_class_total[c]) if per_class_total[c] else 0.0
        for c in range(NUM_CLASSES)
    ]
    wrong = (predicted != truth).nonzero().squeeze(1)
    order = torch.argsort(confidence[wrong], descending=True, stable=True)
    wrong = wrong[order][:max_misclassified]
    misclassified = [
        Misclassified(int(i), int(truth[i]), int(predicted[i]), float(confidence[i]))
        for i in wrong.tolist()
    ]
    return EvalResult(
        accuracy=float(confusion.diagonal().sum()) / n,
        loss=float(total_loss) / n,
        samples=n,
        confusion=confusion.tolist(),
        per_class_accuracy=per_class,
        misclassified=misclassified,
    )
