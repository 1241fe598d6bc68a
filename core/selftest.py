"""The self-test's engine: checks that prove an installation works, each one line, no Qt here.

Each check prints one line (``PASS``/``FAIL``, its name, what it saw) and catches its own
exception, so a missing or broken part is named in one line instead of a traceback. The exit code
is 0 only when every check passes. The run uses a temporary user-data folder, so it never reads or
changes the user's saved model or data; the adapters add the window check (``gui/selftest.py``)
and their own isolation of Qt's settings.

``DIGIT_LAB_SELF_TEST=window,device`` runs only the named checks (the startup-time script uses
``window``).
"""

from __future__ import annotations

import contextlib
import faulthandler
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TRAIN_BATCHES = 5
# The default model's stated accuracy is measured on these same 1,000 bundled test digits, so
# only floating-point differences between devices and builds are allowed for (10 digits).
ACCURACY_TOLERANCE = 0.01


class CheckFailed(Exception):
    """A check ran but saw something wrong; the message says what."""


class CheckSkipped(Exception):
    """A check does not apply to this build (e.g. it needs torchvision, which the CPU build
    leaves out); the message says what it needs. Skipped checks do not fail the self-test."""


Check = tuple[str, Callable[[], str]]


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str
    seconds: float
    skipped: bool = False


def process_age_seconds() -> float | None:
    """Seconds since this process started (Linux /proc), or None where unknown."""
    try:
        stat = Path("/proc/self/stat").read_text()
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def check_torchvision() -> str:
    from core.optional import torchvision_installed

    if not torchvision_installed():
        raise CheckSkipped("skipped: needs torchvision (not included in this build)")
    import torch
    import torchvision
    from torchvision import extension

    if not extension._has_ops():
        raise CheckFailed("torchvision's native library (_C) did not load")
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50, 50, 60, 60]])
    kept = torchvision.ops.nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5).tolist()
    if kept != [0, 2]:
        raise CheckFailed(f"torchvision.ops.nms gave {kept}, expected [0, 2]")
    return f"torchvision {torchvision.__version__} native ops load (nms works)"


def make_loss_check(pair: str) -> Callable[[], str]:
    def check_loss() -> str:
        # The seed notebook's tensors and figures have one home: core.losses.presets.
        from core.losses import SEED_EXAMPLES, SEED_LOSSES, compare

        prediction, target = SEED_EXAMPLES[pair]
        result = compare(pair, prediction, target)
        fused, composed = float(result.fused.value), float(result.composed.value)
        expected = SEED_LOSSES[pair]
        text = f"fused {fused:.4f}, composed {composed:.4f}"
        if round(fused, 4) != expected or round(composed, 4) != expected:
            raise CheckFailed(f"{text}; the seed gives {expected:.4f}")
        if not result.agree:
            raise CheckFailed(f"{text}, but the two forms' gradients disagree")
        return f"{text} (seed {expected:.4f}), gradients agree"

    return check_loss


def check_training() -> str:
    from core.data.mnist import load_sample
    from core.training.train_types import BatchEvent, RunEnded, TrainConfig
    from core.training.trainer import Trainer

    data = load_sample()
    config = TrainConfig(
        model="mlp", epochs=1, batch_size=32, dataset="sample", device="auto", report_every=1
    )
    losses: list[float] = []
    ended: list[RunEnded] = []
    trainer: Trainer | None = None

    def on_event(event: object) -> None:
        if isinstance(event, BatchEvent):
            losses.append(event.loss)
            if len(losses) >= TRAIN_BATCHES and trainer is not None:
                trainer.stop()
        elif isinstance(event, RunEnded):
            ended.append(event)

    trainer = Trainer(config, on_event=on_event, data=data)
    outcome = trainer.run()
    if outcome.status == "failed":
        raise CheckFailed(f"the run failed: {outcome.reason}")
    if len(losses) < TRAIN_BATCHES:
        raise CheckFailed(f"only {len(losses)} batches reported (status {outcome.status})")
    if len(ended) != 1:
        raise CheckFailed(f"expected exactly one RunEnded event, got {len(ended)}")
    if not all(math.isfinite(loss) for loss in losses):
        raise CheckFailed(f"non-finite loss: {losses}")
    return (
        f"{len(losses)} batches of mlp on the bundled sample ({data.train_samples:,} digits), "
        f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, run {outcome.status}"
    )


def check_default_model() -> str:
    from core.data.mnist import load_sample, normalize
    from core.inference.classifier import Classifier, default_checkpoint
    from core.resources import bundled_model_file

    checkpoint = default_checkpoint()
    stated = checkpoint.test_accuracy
    if stated is None:
        raise CheckFailed("the default model states no test accuracy")
    data = load_sample()
    classifier = Classifier(checkpoint, device="cpu")
    probabilities = classifier.probabilities(normalize(data.test_images).unsqueeze(1))
    predicted = probabilities.argmax(axis=1)
    accuracy = float((predicted == data.test_labels.numpy()).mean())
    text = (
        f"{bundled_model_file().name} ({checkpoint.model_name}) classifies "
        f"{data.test_samples:,} bundled test digits at {accuracy:.1%} (states {stated:.1%})"
    )
    if abs(accuracy - stated) > ACCURACY_TOLERANCE:
        raise CheckFailed(f"{text}: off by more than {ACCURACY_TOLERANCE:.0%}")
    return text


def check_device() -> str:
    import torch
    import torch.nn.functional as F

    from core.device import describe_device, resolve_device

    device = resolve_device("auto")
    # A convolution forward and backward: on CUDA this loads cuDNN and cuBLAS from the bundle.
    x = torch.randn(4, 1, 28, 28, device=device)
    weight = torch.randn(8, 1, 3, 3, device=device, requires_grad=True)
    F.conv2d(x, weight).square().mean().backward()
    if weight.grad is None or not bool(torch.isfinite(weight.grad).all()):
        raise CheckFailed(f"a convolution's gradient on {device} is not finite")
    cuda = torch.version.cuda or "none"
    return f"{describe_device(device)}; torch {torch.__version__}, built for CUDA {cuda}"


HEADLESS_CHECKS: list[Check] = [
    ("torchvision", check_torchvision),
    ("loss ce-nll", make_loss_check("ce-nll")),
    ("loss bce-logits", make_loss_check("bce-logits")),
    ("training", check_training),
    ("default model", check_default_model),
    ("device", check_device),
]


def run_check(name: str, check: Callable[[], str]) -> CheckResult:
    start = time.perf_counter()
    skipped = False
    try:
        detail = check()
        passed = True
    except CheckSkipped as exc:
        detail, passed, skipped = str(exc), True, True
    except Exception as exc:  # every failure becomes one line; the exit code carries it
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        detail = message if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {message}"
        passed = False
    return CheckResult(name, passed, detail, time.perf_counter() - start, skipped)


def selected_checks(checks: list[Check]) -> list[Check]:
    """The checks named in ``DIGIT_LAB_SELF_TEST`` (all when it is unset), in their order."""
    wanted = os.environ.get("DIGIT_LAB_SELF_TEST", "").strip()
    if not wanted:
        return checks
    names = {name.strip() for name in wanted.split(",")}
    return [(name, check) for name, check in checks if name in names]


def run_checks(checks: list[Check], isolate: Callable[[Path], None] | None = None) -> int:
    """Run ``checks`` in a temporary user-data folder, one line each and a summary; 0 when all pass.

    ``isolate`` points the caller's own state (Qt's settings) into the same temporary folder.
    """
    # A native crash still names where it happened (not possible when stderr is captured).
    with contextlib.suppress(ValueError, OSError, AttributeError):
        faulthandler.enable()
    from core import __version__

    frozen = "frozen" if getattr(sys, "frozen", False) else "from source"
    print(f"Digit Lab {__version__} self-test ({frozen}, Python {sys.version.split()[0]})")
    selected = selected_checks(checks)
    with tempfile.TemporaryDirectory(prefix="digit-lab-selftest-") as folder:
        saved = os.environ.get("DIGIT_LAB_DATA_DIR")
        os.environ["DIGIT_LAB_DATA_DIR"] = str(Path(folder) / "data")
        try:
            if isolate is not None:
                _isolate(isolate, Path(folder))
            results = [_run_and_print(name, check) for name, check in selected]
        finally:
            if saved is None:
                os.environ.pop("DIGIT_LAB_DATA_DIR", None)
            else:
                os.environ["DIGIT_LAB_DATA_DIR"] = saved
    return _summary(results)


def _isolate(isolate: Callable[[Path], None], folder: Path) -> None:
    try:
        isolate(folder)
    except Exception as exc:  # Qt itself missing: the window check will say so too
        print(f"note: could not isolate settings: {type(exc).__name__}: {exc}")


def _run_and_print(name: str, check: Callable[[], str]) -> CheckResult:
    result = run_check(name, check)
    status = "SKIP" if result.skipped else "PASS" if result.passed else "FAIL"
    print(f"{status}  {name:<16} {result.detail}  [{result.seconds:.2f} s]", flush=True)
    return result


def _summary(results: list[CheckResult]) -> int:
    failed = [result.name for result in results if not result.passed]
    if failed:
        print(f"self-test FAILED: {len(failed)} of {len(results)} checks ({', '.join(failed)})")
        return 1
    if not results:
        print("self-test FAILED: no checks selected (see DIGIT_LAB_SELF_TEST)")
        return 1
    skipped = [result.name for result in results if result.skipped]
    if skipped:
        print(
            f"self-test OK: {len(results) - len(skipped)} of {len(results)} checks passed, "
            f"{len(skipped)} skipped ({', '.join(skipped)})"
        )
    else:
        print(f"self-test OK: all {len(results)} checks passed")
    return 0
