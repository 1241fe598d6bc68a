"""The training engine: plain Python, no Qt, reporting through events.

The CLI, the GUI worker, the tests and the benchmarks all run this one loop and consume the same
events (``core.training.train_types``). The run is three steps, as in pytorch/examples' ``train()`` and
``test()``: ``_setup`` (data on the device, model, optimizer), ``_train_epoch`` (one pass of
steps, reporting every ``report_every`` batches) and ``_finish`` (score the model as it is, the
held-out digits, the checkpoint). What each speed choice bought is measured in
``benchmarks/train_speed.py`` and the README's "Measured" section.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from core.data.augment import BatchAugmenter
from core.data.datasets import MNIST_MEAN, MNIST_STD
from core.data.mnist import MnistData, load_mnist, normalize
from core.device import describe_device, resolve_device
from core.errors import UserError
from core.inspection.activations import GradientMonitor
from core.storage.checkpoint import Checkpoint
from core.training.evaluation import evaluate_tensors, log_probabilities, loss_function, model_input
from core.training.models import SimpleNet, build_model
from core.training.train_settings import PRESET_NOTES
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    EvalResult,
    HeldOut,
    LrChanged,
    RunEnded,
    RunResult,
    RunStarted,
    TrainConfig,
    TrainEvent,
)

log = logging.getLogger(__name__)

EventCallback = Callable[[TrainEvent], None]


def choose_threads(config: TrainConfig, device: torch.device) -> int:
    """Intra-op threads for a CPU run: ``config.threads`` if set, else a measured choice.

    The MLP's matrices are so small that a second thread mostly waits at barriers: one thread.
    The CNN's convolutions share well, but OpenMP threads spin for cores; when another process
    holds a core a spinning thread costs more than it gives (measured on a shared 2-core machine:
    the CNN ran 4.5x slower with 2 threads than with 1). So: half the cores, at most 4, leaving
    room for the GUI and everything else. The count is fixed per run, so results repeat.
    """
    if config.threads > 0:
        return config.threads
    if device.type != "cpu":
        return torch.get_num_threads()  # host threads barely matter when the GPU computes
    if config.model == "mlp":
        return 1
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def mlp_forward_backward(model: SimpleNet, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One training step's forward and backward of the seed's MLP, without autograd.

    Sets every parameter's ``.grad`` and returns the batch's mean loss. The same gradients as
    ``loss.backward()`` for either head (``nll`` on log_softmax, ``ce`` on logits: both
    differentiate to softmax - onehot), pinned by a test. Why: at batch 64 on a CPU, autograd's
    bookkeeping for this tiny graph was ~16% of a step (684 -> 575 us measured).
    """
    w1, b1 = model.fc1.weight, model.fc1.bias
    w2, b2 = model.fc2.weight, model.fc2.bias
    w3, b3 = model.fc3.weight, model.fc3.bias
    with torch.no_grad():
        x = x.reshape(x.shape[0], -1)
        h1 = torch.addmm(b1, x, w1.t()).relu_()
        h2 = torch.addmm(b2, h1, w2.t()).relu_()
        log_probs = torch.log_softmax(torch.addmm(b3, h2, w3.t()), dim=1)
        loss = F.nll_loss(log_probs, y)
        grad = log_probs.exp_()  # softmax ...
        grad.scatter_add_(1, y.unsqueeze(1), grad.new_full((y.shape[0], 1), -1.0))  # - onehot
        grad.div_(y.shape[0])  # ... of the mean
        w3.grad, b3.grad = grad.t().mm(h2), grad.sum(0)
        grad = torch.ops.aten.threshold_backward(grad.mm(w3), h2, 0)
        w2.grad, b2.grad = grad.t().mm(h1), grad.sum(0)
        grad = torch.ops.aten.threshold_backward(grad.mm(w2), h1, 0)
        w1.grad, b1.grad = grad.t().mm(x), grad.sum(0)
    return loss


def diverged_message(config: TrainConfig, epoch: int) -> str:
    """Why a run whose loss became NaN or infinite is stopped rather than kept as a model."""
    return (
        f"training diverged in epoch {epoch}: the loss became NaN or infinite, so the weights "
        f"are useless; lower the learning rate (now {config.lr:g})"
        + (f" or the momentum (now {config.momentum:g})" if config.optimizer == "sgd" else "")
    )


class MomentumSGD:
    """SGD with momentum, exactly ``torch.optim.SGD(momentum=m)`` (no dampening, no Nesterov,
    no weight decay), as one fused kernel call per step.

    Why not ``torch.optim.SGD(fused=True)`` itself: its Python wrapper costs about as much as the
    kernel at batch 64 on a CPU (measured ~60-100 us a step, ~10% of an MLP step), and building it
    imports torch._dynamo (2.5 s of start-up). A test checks both give the same weights.
    """

    def __init__(self, params: list[nn.Parameter], lr: float, momentum: float) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.momentum = momentum
        self.buffers = [torch.zeros_like(p) for p in self.params]
        self._first = True
        self._fused = hasattr(torch, "_fused_sgd_") and all(
            p.device.type in ("cpu", "cuda") for p in self.params
        )

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        params = [p for p in self.params if p.grad is not None]
        if len(params) != len(self.params):
            raise RuntimeError("every parameter needs a gradient before the optimizer step")
        grads = [p.grad for p in params]
        if self.momentum == 0:
            torch._foreach_add_(params, grads, alpha=-self.lr)
        elif self._fused:
            torch._fused_sgd_(
                params,
                grads,
                self.buffers,
                weight_decay=0.0,
                momentum=self.momentum,
                lr=self.lr,
                dampening=0.0,
                nesterov=False,
                maximize=False,
                is_first_step=self._first,
            )
        else:  # buffer = momentum * buffer + grad (= grad on the first step); p -= lr * buffer
            torch._foreach_mul_(self.buffers, self.momentum)
            torch._foreach_add_(self.buffers, grads)
            torch._foreach_add_(params, self.buffers, alpha=-self.lr)
        self._first = False


def make_optimizer(config: TrainConfig, model: nn.Module, device: torch.device):
    """SGD with momentum as one fused call, or torch's Adam (fused where the device has it)."""
    params = list(model.parameters())
    if config.optimizer == "adam":
        fused = device.type in ("cpu", "cuda")
        return torch.optim.Adam(params, lr=config.lr, fused=fused or None)
    return MomentumSGD(params, lr=config.lr, momentum=config.momentum)


def one_cycle_lr(step: int, total_steps: int, max_lr: float) -> float:
    """The learning rate of ``step`` (0-based) under OneCycle, as ``torch.optim.OneCycleLR``
    with its defaults (30% warm-up from max_lr/25, cosine annealing to max_lr/25e4).

    Computed in Python, so it needs no device sync and works for the fused ``MomentumSGD``,
    which is not a ``torch.optim.Optimizer``.
    """
    warmup = max(1.0, 0.3 * total_steps - 1)
    start, end = max_lr / 25.0, max_lr / 25.0 / 1e4
    if step <= warmup:
        low, high, fraction = start, max_lr, step / warmup
    else:
        low, high = max_lr, end
        fraction = min(1.0, (step - warmup) / max(1.0, total_steps - 1 - warmup))
    return high + (low - high) * (1 + math.cos(math.pi * fraction)) / 2


def set_learning_rate(optimizer, lr: float) -> None:
    if isinstance(optimizer, MomentumSGD):
        optimizer.lr = lr
    else:
        for group in optimizer.param_groups:
            group["lr"] = lr


def autocast_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    """The mixed-precision dtype of a run, or None for float32 throughout.

    bfloat16 needs no loss scaling (float32's exponent range), so no GradScaler and no sync.
    "auto" uses it on CUDA only: on a CPU it is slower than float32 for these small models.
    """
    if config.amp == "on" and device.type in ("cuda", "cpu"):
        return torch.bfloat16
    if config.amp == "auto" and device.type == "cuda":
        return torch.bfloat16
    return None


@dataclass
class _ReportWindow:
    """Batches since the last ``BatchEvent``; a window may span an epoch's end."""

    reported_sum: float = 0.0  # the epoch's loss sum at the last report
    carried_loss: float = 0.0  # loss of the previous epoch's unreported batches
    steps: int = 0
    samples: int = 0
    start: float = 0.0
    elapsed: float = 0.0  # window time spent in earlier epochs


@dataclass
class _RunState:
    """Everything one run holds between its steps (built by ``Trainer._setup``)."""

    cfg: TrainConfig
    device: torch.device
    description: str
    data: MnistData  # the digits trained on (held-out ones removed)
    dataset: str
    model: nn.Module
    optimizer: Any
    criterion: Callable[..., torch.Tensor]
    manual_mlp: bool
    channels_last: bool
    amp: torch.dtype | None
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    held_images: torch.Tensor  # uint8 (N, 28, 28) on the CPU
    held_labels: torch.Tensor
    shuffle: torch.Generator
    steps_per_epoch: int
    total_steps: int
    step: int = 0
    train_seconds: float = 0.0  # excludes evaluation and pauses
    paused_total: float = 0.0
    samples_done: int = 0
    epochs_completed: int = 0
    train_loss: float = float("nan")
    evaluation: EvalResult | None = None
    stopped: bool = False
    window: _ReportWindow = field(default_factory=_ReportWindow)
    augmenter: Callable[[torch.Tensor], torch.Tensor] | None = None  # core.data.augment, or None
    monitor: GradientMonitor | None = None  # opt-in gradient flow (cfg.gradient_stats)
    lr: float = 0.0  # the base (or peak) learning rate now; changed by Trainer.set_lr
    lr_changes: list[tuple[int, float]] = field(default_factory=list)
    trajectory: list[torch.Tensor] = field(default_factory=list)  # opt-in (path_every)
    trajectory_steps: list[int] = field(default_factory=list)
    initial: dict[str, torch.Tensor] | None = None

    def clock(self) -> float:
        return time.perf_counter() - self.paused_total


Finalize = Callable[[nn.Module, HeldOut, Checkpoint], None]
# The "is this a digit?" fit took 6.8 s for 1,000 CNN digits on a loaded 2-core machine (load
# 14) and grows with the count: the first 1,000 held-out digits keep the end of a run short.
OOD_FIT_DIGITS = 1000


def finalize_run(model: nn.Module, held_out: HeldOut, checkpoint: Checkpoint) -> None:
    """The default end of a run: fit on the held-out digits what the app's honest answers need.

    The calibration temperature (``core.inference.calibration.fit_temperature`` on the held-out
    log-probabilities) and the "is this a digit?" statistics (``core.inference.ood.fit_ood`` on the
    held-out images) go into the checkpoint. Each is independent: one failing (too few digits,
    say) leaves the other, and the model, in place.
    """
    from core.inference.calibration import fit_temperature

    try:
        checkpoint.temperature = fit_temperature(held_out.log_probs, held_out.labels)
    except Exception:
        log.exception("fitting the calibration temperature failed")
    from core.inference.ood import fit_ood

    was_training = model.training
    model.eval()  # dropout off: the statistics describe the model as the app runs it
    try:
        count = min(OOD_FIT_DIGITS, len(held_out.labels))
        stats = fit_ood(
            model,
            held_out.images[:count],
            held_out.labels[:count],
            normalization=checkpoint.normalization,
            source=f"{count:,} held-out training digits",
        )
        checkpoint.ood = stats.to_payload()
    except ValueError as exc:  # e.g. too few held-out digits on a tiny data set
        log.info("no 'is this a digit?' statistics for this run: %s", exc)
    except Exception:
        log.exception("fitting the 'is this a digit?' statistics failed")
    finally:
        model.train(was_training)


class Trainer:
    """One training run. ``run()`` blocks; ``pause``/``resume``/``stop`` may come from any thread.

    Events go to ``on_event``: one ``RunStarted`` (once the data is loaded), a ``BatchEvent``
    every ``config.report_every`` batches, an ``EpochEvent`` per epoch, and exactly one
    ``RunEnded``. A stopped run is scored as it is (``RunEnded("stopped", ..., result)`` with an
    evaluation). Failures (bad data, bad settings, out of memory) end the run as
    ``RunEnded("failed", reason)``; ``run()`` itself does not raise for them.

    ``finalize(model, held_out, checkpoint)`` runs once on the final model before ``RunEnded``
    (default ``finalize_run``: calibration temperature and "is this a digit?" statistics fitted
    on the held-out digits, stored in the checkpoint; None skips it). Its failure is logged and
    leaves the run finished.

    ``initial_state`` (a state dict of ``config.model``) starts the run from those weights
    instead of fresh ones: fine-tuning a kept model (``core.data.own_digits.fine_tune``).

    ``set_lr(lr)`` (any thread) changes the learning rate at the next step boundary, for every
    parameter group (with a schedule it scales the schedule by ``lr / config.lr``), and emits
    ``LrChanged``; ``lr_changes`` [(step, lr), ...] replays such changes, so a run with changes
    is reproducible (``RunResult.lr_changes``). ``path_every`` k > 0 saves the flat parameters
    every k steps for the loss landscape's path (``RunResult.trajectory``): one copy of the
    weights to the CPU each time (~0.1 ms and 0.44 MB for the MLP; 0.9 MB for the small CNN).
    """

    def __init__(
        self,
        config: TrainConfig,
        on_event: EventCallback | None = None,
        data: MnistData | None = None,
        finalize: Finalize | None = finalize_run,
        initial_state: dict[str, torch.Tensor] | None = None,
        *,
        lr_changes: list[tuple[int, float]] | None = None,
        path_every: int = 0,
    ) -> None:
        self.config = config
        self.initial_state = initial_state
        self.path_every = max(0, int(path_every))
        self._lr_replay = sorted((int(step), float(lr)) for step, lr in lr_changes or [])
        self._lr_lock = threading.Lock()
        self._lr_requested: float | None = None
        self.data = data
        self.model: nn.Module | None = None
        self.optimizer: Any = None
        self._on_event = on_event
        self._finalize = finalize
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()

    # -- control, thread-safe: the one place the pause/stop state lives ------------------------

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        """Ask the run to end after the current batch (also ends a pause)."""
        self._stop.set()
        self._running.set()

    def set_lr(self, lr: float) -> None:
        """Use ``lr`` from the next step on (thread-safe); a bad value is a ``UserError``."""
        if not (isinstance(lr, int | float) and math.isfinite(lr) and 0 < lr <= 10):
            raise UserError(f"learning rate must be in (0, 10], got {lr}")
        with self._lr_lock:
            self._lr_requested = float(lr)

    @property
    def is_paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        """True once ``stop`` was called: the Training tab shows "stopping" until ``RunEnded``."""
        return self._stop.is_set()

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> RunEnded:
        threads_before = torch.get_num_threads()
        try:
            ended = self._run()
        except UserError as exc:
            ended = RunEnded("failed", str(exc))
        except torch.OutOfMemoryError:
            ended = RunEnded(
                "failed",
                f"out of memory on the device at batch size {self.config.batch_size}; "
                "try a smaller batch size or the CPU",
            )
        except Exception as exc:  # reported, not swallowed: the GUI must keep running
            log.exception("training failed")
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            ended = RunEnded("failed", f"{type(exc).__name__}: {first_line}".rstrip(": "))
        finally:
            torch.set_num_threads(threads_before)
        try:
            self._emit(ended)
        except Exception:
            log.exception("the RunEnded event handler failed")
        return ended

    def _emit(self, event: TrainEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _wait_while_paused(self) -> float:
        """Block while paused (or until stopped); return the seconds spent waiting."""
        start = time.perf_counter()
        while not self._running.wait(timeout=0.1):
            if self._stop.is_set():
                break
        return time.perf_counter() - start

    def _run(self) -> RunEnded:
        state = self._setup()
        cfg = state.cfg
        self.optimizer = state.optimizer  # for watchers: set_lr shows in its param groups
        if self.path_every:
            self._save_path_point(state)  # step 0: the initial weights
        self._emit(
            RunStarted(
                config=cfg,
                device=state.description,
                dataset=state.dataset,
                train_samples=state.data.train_samples,
                test_samples=state.data.test_samples,
                steps_per_epoch=state.steps_per_epoch,
                total_steps=state.total_steps,
                held_out_samples=int(state.held_labels.shape[0]),
                note=run_note(cfg, state.device),
            )
        )
        for epoch in range(1, cfg.epochs + 1):
            seconds = self._train_epoch(state, epoch)
            if state.stopped:
                break
            state.evaluation = evaluate_tensors(state.model, state.test_x, state.test_y, cfg.loss)
            state.epochs_completed = epoch
            self._emit(
                EpochEvent(
                    epoch=epoch,
                    epochs=cfg.epochs,
                    train_loss=state.train_loss,
                    test_loss=state.evaluation.loss,
                    test_accuracy=state.evaluation.accuracy,
                    seconds=seconds,
                )
            )
            if state.monitor is not None:
                self._emit(state.monitor.dead_relus(epoch, state.test_x))
        return self._finish(state)

    # -- setup ----------------------------------------------------------------------------------

    def _setup(self) -> _RunState:
        """Check the settings, load the data onto the device, build model and optimizer."""
        cfg = self.config.validate()
        device = resolve_device(cfg.device)
        data = self.data if self.data is not None else load_mnist(cfg.dataset, cfg.data_dir)
        if data.train_samples == 0 or data.test_samples == 0:
            raise UserError(f"{data.description} has no training or no test digits")
        train, held_images, held_labels = data.hold_out(cfg.held_out_count(data.train_samples))
        torch.set_num_threads(choose_threads(cfg, device))
        if device.type == "cuda":
            # Same seed, same device, same numbers: no autotuned, non-deterministic kernels.
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
        torch.manual_seed(cfg.seed)  # weights (built on the CPU, so equal on every device)
        model = build_model(cfg.model, cfg.loss)
        if self.initial_state is not None:
            model.load_state_dict(self.initial_state)
        model = model.to(device).train()
        self.model = model
        # Channels-last convolutions: ~15-25% faster CNN steps with oneDNN on a CPU, and the
        # layout tensor cores want for mixed precision on a GPU.
        convolutional = any(isinstance(m, nn.Conv2d) for m in model.modules())
        channels_last = convolutional and (
            device.type == "cpu" or (device.type == "cuda" and cfg.amp != "off")
        )
        if channels_last:
            model.to(memory_format=torch.channels_last)
        steps_per_epoch = math.ceil(train.train_samples / cfg.batch_size)
        return _RunState(
            cfg=cfg,
            device=device,
            description=describe_device(device),
            data=train,
            dataset=data.description,
            model=model,
            optimizer=make_optimizer(cfg, model, device),
            criterion=loss_function(cfg.loss),
            manual_mlp=isinstance(model, SimpleNet),
            channels_last=channels_last,
            amp=autocast_dtype(cfg, device),
            # Decode once, normalise once, keep on the device (uint8 -> float32 there on a GPU).
            train_x=model_input(normalize(train.train_images.to(device)), cfg.model).contiguous(),
            train_y=train.train_labels.to(device),
            test_x=model_input(normalize(train.test_images.to(device)), cfg.model).contiguous(),
            test_y=train.test_labels.to(device),
            held_images=held_images,
            held_labels=held_labels,
            shuffle=torch.Generator().manual_seed(cfg.seed),
            steps_per_epoch=steps_per_epoch,
            total_steps=steps_per_epoch * cfg.epochs,
            augmenter=BatchAugmenter(cfg.seed, device) if cfg.augment else None,
            monitor=GradientMonitor(model, cfg.model) if cfg.gradient_stats else None,
            lr=cfg.lr,
        )

    # -- one epoch ------------------------------------------------------------------------------

    def _train_epoch(self, state: _RunState, epoch: int) -> float:
        """One pass over the training digits in a fresh order; returns its training seconds.

        Sets ``state.stopped`` when a stop ends it early. The loss is summed on the device and
        read once per report and once at the end (the only device syncs).
        """
        cfg, window = state.cfg, state.window
        batch = cfg.batch_size
        order = torch.randperm(state.data.train_samples, generator=state.shuffle).to(state.device)
        epoch_start = state.clock()
        loss_sum = torch.zeros((), device=state.device)
        window.reported_sum = -window.carried_loss  # so "sum - reported_sum" includes the carry
        window.start = epoch_start
        batches = 0
        for index in range(state.steps_per_epoch):
            if not self._running.is_set():
                state.paused_total += self._wait_while_paused()
            if self._stop.is_set():
                state.stopped = True
                break
            # Gathering a batch beats copying a permuted dataset per epoch: less memory, and
            # the batch is hot in cache for the first layer.
            rows = order[index * batch : (index + 1) * batch]
            loss_sum += self._step(state, rows).detach()
            state.step += 1
            batches += 1
            if self.path_every and state.step % self.path_every == 0:
                self._save_path_point(state)
            state.samples_done += rows.shape[0]
            window.samples += rows.shape[0]
            window.steps += 1
            if window.steps == cfg.report_every and self._on_event is not None:
                self._report(state, epoch, loss_sum, epoch_start)
        epoch_total = float(loss_sum)  # also waits for the device before the clock stops
        if not math.isfinite(epoch_total):
            raise UserError(diverged_message(cfg, epoch))
        if batches:
            state.train_loss = epoch_total / batches
        epoch_seconds = state.clock() - epoch_start
        window.carried_loss = epoch_total - window.reported_sum
        window.elapsed += state.clock() - window.start
        state.train_seconds += epoch_seconds
        return epoch_seconds

    def _step(self, state: _RunState, rows: torch.Tensor) -> torch.Tensor:
        """One optimizer step on the digits ``rows``; returns the batch's mean loss (on device)."""
        xb = state.train_x.index_select(0, rows)
        yb = state.train_y.index_select(0, rows)
        if state.augmenter is not None:
            xb = state.augmenter(xb)  # random per-sample variation, on the device
        self._change_lr(state)
        if state.cfg.schedule == "onecycle":  # linear in its peak: state.lr scales it
            lr = one_cycle_lr(state.step, state.total_steps, state.lr)
            set_learning_rate(state.optimizer, lr)
        if state.manual_mlp:
            loss = mlp_forward_backward(state.model, xb, yb)
        else:
            if state.channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            # A disabled autocast still sets the device's autocast dtype: no context at all.
            mixed = (
                torch.autocast(state.device.type, dtype=state.amp) if state.amp else nullcontext()
            )
            with mixed:
                loss = state.criterion(state.model(xb), yb)
            state.optimizer.zero_grad(set_to_none=True)
            loss.backward()
        if state.monitor is not None and state.window.steps + 1 == state.cfg.report_every:
            epoch = state.step // state.steps_per_epoch + 1
            report = state.monitor.observe(state.optimizer.step, epoch, state.step + 1)
            if report is not None:
                self._emit(report)
        else:
            state.optimizer.step()
        return loss

    def _report(
        self, state: _RunState, epoch: int, loss_sum: torch.Tensor, epoch_start: float
    ) -> None:
        window = state.window
        total = float(loss_sum)  # note: the one device sync per report
        if not math.isfinite(total):
            raise UserError(diverged_message(state.cfg, epoch))
        now = state.clock()
        self._emit(
            BatchEvent(
                epoch=epoch,
                step=state.step,
                total_steps=state.total_steps,
                loss=(total - window.reported_sum) / window.steps,
                samples_per_second=window.samples / max(window.elapsed + now - window.start, 1e-9),
                seconds=state.train_seconds + now - epoch_start,
            )
        )
        window.reported_sum = total
        window.start, window.samples, window.steps, window.elapsed = state.clock(), 0, 0, 0.0

    # -- result ---------------------------------------------------------------------------------

    def _finish(self, state: _RunState) -> RunEnded:
        """Score the model as it is (also after Stop), the held-out digits, the checkpoint."""
        cfg, model = state.cfg, state.model
        if state.channels_last:
            model.to(memory_format=torch.contiguous_format)  # plain weights for the checkpoint
        if state.stopped or state.evaluation is None:  # mid-epoch weights: score them now
            state.evaluation = evaluate_tensors(model, state.test_x, state.test_y, cfg.loss)
        evaluation = state.evaluation
        held_out = self._held_out(state)
        sps = state.samples_done / state.train_seconds if state.train_seconds > 0 else 0.0
        metrics = {
            "epochs_completed": state.epochs_completed,
            "train_loss": state.train_loss,
            "seconds": state.train_seconds,
            "samples_per_second": sps,
            "train_samples": state.data.train_samples,
            "test_samples": state.data.test_samples,
            "held_out_samples": len(held_out.labels),
            "stopped": state.stopped,
            "test_accuracy": evaluation.accuracy,
            "test_loss": evaluation.loss,
            "per_class_accuracy": evaluation.per_class_accuracy,
        }
        checkpoint = Checkpoint.from_model(
            model,
            cfg.model,
            cfg.loss,
            config=cfg.to_dict(),
            metrics=metrics,
            dataset=state.dataset,
            normalization=(MNIST_MEAN, MNIST_STD),
        )
        if self._finalize is not None and len(held_out.labels):
            try:
                self._finalize(model, held_out, checkpoint)
            except Exception:  # calibration is a bonus; the trained model is kept regardless
                log.exception("finalizing the run on the held-out digits failed")
        result = RunResult(
            config=cfg,
            device=state.description,
            dataset=state.dataset,
            train_samples=state.data.train_samples,
            test_samples=state.data.test_samples,
            epochs_completed=state.epochs_completed,
            seconds=state.train_seconds,
            samples_per_second=sps,
            evaluation=evaluation,
            checkpoint=checkpoint,
            held_out=held_out,
            **self._path_and_lr(state),
        )
        if state.stopped:
            return RunEnded("stopped", "stopped by the user; the model is scored as it is", result)
        return RunEnded("finished", "", result)

    # -- learning-rate changes and the path (issue 26) -------------------------------------------

    def _change_lr(self, state: _RunState) -> None:
        """Apply a requested (or replayed) learning rate before this step, and say so."""
        with self._lr_lock:
            wanted, self._lr_requested = self._lr_requested, None
        while self._lr_replay and self._lr_replay[0][0] <= state.step:
            replayed = self._lr_replay.pop(0)[1]
            wanted = replayed if wanted is None else wanted  # a live request wins
        if wanted is None or wanted == state.lr:
            return
        previous, state.lr = state.lr, wanted
        state.lr_changes.append((state.step, wanted))
        scheduled = state.cfg.schedule != "constant"
        if not scheduled:
            set_learning_rate(state.optimizer, wanted)  # every param group
        self._emit(LrChanged(state.step, wanted, previous, scheduled))

    def _save_path_point(self, state: _RunState) -> None:
        from core.training.landscape import parameter_vector

        if state.initial is None:
            state.initial = {
                k: v.detach().cpu().clone() for k, v in state.model.state_dict().items()
            }
        state.trajectory.append(parameter_vector(state.model))
        state.trajectory_steps.append(state.step)

    def _path_and_lr(self, state: _RunState) -> dict:
        """The ``RunResult`` fields for the learning-rate changes and the saved path."""
        fields: dict = {"lr_changes": list(state.lr_changes)}
        if self.path_every and state.trajectory:
            if state.trajectory_steps[-1] != state.step:
                self._save_path_point(state)
            fields.update(
                trajectory=torch.stack(state.trajectory),
                trajectory_steps=list(state.trajectory_steps),
                initial_state=state.initial,
            )
        return fields

    def _held_out(self, state: _RunState) -> HeldOut:
        """The held-out digits with the final model's log-probabilities for them (CPU)."""
        inputs = model_input(normalize(state.held_images.to(state.device)), state.cfg.model)
        log_probs = log_probabilities(state.model, inputs.contiguous()).cpu()
        return HeldOut(state.held_images, state.held_labels, log_probs)


def run_note(config: TrainConfig, device: torch.device) -> str:
    """A sentence for the user about this run's speed, or "" (e.g. a GPU preset on a CPU)."""
    if config.preset and device.type == "cpu":
        return f"the {config.preset} preset is {PRESET_NOTES.get(config.preset, 'for a GPU')}"
    return ""
