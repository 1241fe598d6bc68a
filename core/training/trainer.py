"""The training engine: plain Python, no Qt, reporting through events.

The CLI, the GUI worker, the tests and the benchmarks all run this one loop and consume the same
events (``core.training.train_types``). The run is three steps, as in pytorch/examples' ``train()`` and
``test()``: ``setup_run`` (data on the device, model, optimizer), ``Trainer._train_epoch`` (one
pass of steps, reporting every ``report_every`` batches) and ``core.training.run_state.finish_run``
(score the model as it is, the held-out digits, the checkpoint). What each speed choice bought
is measured in ``benchmarks/train_speed.py`` and ``docs/measured.md``.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from core.data.augment import BatchAugmenter
from core.data.mnist import MnistData, load_mnist, normalize
from core.device import describe_device, resolve_device
from core.errors import UserError
from core.inspection.activations import GradientMonitor
from core.training.evaluation import EVAL_BATCH, evaluate_tensors, loss_function, model_input
from core.training.models import SimpleNet, build_model
from core.training.run_state import (  # noqa: F401  (finalize_run, OOD_FIT_DIGITS: re-exported)
    OOD_FIT_DIGITS,
    Finalize,
    RunState,
    finalize_run,
    finish_run,
)
from core.training.train_settings import PRESET_NOTES
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    LrChanged,
    RunEnded,
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
    room for the GUI and everything else. The speed run's net (``cnn-fast``) is the exception:
    it exists to be fast, so it takes every core, at most 4 (issue 28), unless a probe of its
    first batch finds one thread faster at that moment (``fastest_threads``). Every other
    count depends on the settings and the machine only, never on the load, so results repeat.
    """
    if config.threads > 0:
        return config.threads
    if device.type != "cpu":
        return torch.get_num_threads()  # host threads barely matter when the GPU computes
    if config.model == "mlp":
        return 1
    cores = os.cpu_count() or 2
    if config.model == "cnn-fast":
        return max(1, min(4, cores))
    return max(1, min(4, cores // 2))


# Test digits per forward pass on a CPU. Not "as big as fits": 10,000 digits through the fast
# CNN took 1.5-1.8 s in batches of 128-512 and 2.8-3.5 s in batches of 1,000 (1 thread,
# load 7): a small batch's feature maps stay in the cache. A GPU keeps EVAL_BATCH.
CPU_EVAL_BATCH = 256
PROBE_ROUNDS = 3  # timed forward+backward passes per thread count (after one untimed)


def fastest_threads(
    model: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    loss: Callable[..., torch.Tensor],
    candidates: tuple[int, ...],
) -> int:
    """The thread count among ``candidates`` whose forward and backward of this batch is
    fastest now, timed on a copy of ``model`` (the run's weights and random numbers untouched).

    Why: on a quiet 2-core machine the speed run's net trains faster on both cores, but when
    other work holds a core, OpenMP threads wait at every barrier for a descheduled partner,
    and one epoch took 178 s on 2 threads against 14 s on 1 (load 6, docs/measured.md). A
    probe of a few batches costs ~0.1 s when quiet and picks right in both cases.
    """
    probe = copy.deepcopy(model).train()
    best = {threads: math.inf for threads in candidates}
    for round_ in range(PROBE_ROUNDS + 1):
        for threads in candidates:
            torch.set_num_threads(threads)
            start = time.perf_counter()
            loss(probe(inputs), labels).backward()
            if round_:  # the first pass builds oneDNN's kernels: not timed
                best[threads] = min(best[threads], time.perf_counter() - start)
    return min(candidates, key=lambda threads: best[threads])


def mlp_forward_backward(
    model: SimpleNet, x: torch.Tensor, y: torch.Tensor, weight: float = 1.0
) -> torch.Tensor:
    """One training step's forward and backward of the seed's MLP, without autograd.

    Sets every parameter's ``.grad`` (of ``weight`` times the mean loss: an augmented batch
    weighs its two halves as two batches, ``BatchAugmenter.loss_weight``) and returns the
    batch's mean loss. The same gradients as ``(weight * loss).backward()`` for either head
    (``nll`` on log_softmax, ``ce`` on logits: both differentiate to softmax - onehot), pinned
    by a test. Why: at batch 64 on a CPU, autograd's bookkeeping for this tiny graph was ~16% of
    a step (684 -> 575 us measured).
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
        grad.div_(y.shape[0] / weight)  # ... of the (weighted) mean
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
        betas = (config.adam_beta1, config.adam_beta2)
        return torch.optim.Adam(params, lr=config.lr, betas=betas, fused=fused or None)
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


def criterion(config: TrainConfig) -> Callable[..., torch.Tensor]:
    """The training loss: the head's (``loss_function``), or with label smoothing
    ``cross_entropy(label_smoothing=s)`` for either head (log_softmax of log-probabilities
    gives them back, so it is right for the ``nll`` head too)."""
    if config.label_smoothing > 0:
        return partial(F.cross_entropy, label_smoothing=config.label_smoothing)
    return loss_function(config.loss)


def settle_threads(
    cfg: TrainConfig,
    device: torch.device,
    model: nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    loss: Callable[..., torch.Tensor],
) -> None:
    """The speed run's net takes every core (``choose_threads``) unless the moment's load makes
    one faster: the one thread choice that depends on the load (the device line says which it
    was; ``--threads`` pins it, so a run can be repeated number for number)."""
    if device.type == "cpu" and cfg.threads == 0 and cfg.model == "cnn-fast":
        candidates = (torch.get_num_threads(), 1)
        torch.set_num_threads(fastest_threads(model, inputs, labels, loss, candidates))


def build_run_model(
    cfg: TrainConfig, device: torch.device, initial_state: dict[str, torch.Tensor] | None
) -> tuple[nn.Module, bool]:
    """The run's model on ``device`` in training mode, seeded (or from ``initial_state``), and
    whether it is in channels-last layout."""
    torch.manual_seed(cfg.seed)  # weights (built on the CPU, so equal on every device)
    model = build_model(cfg.model, cfg.loss)
    if initial_state is not None:
        model.load_state_dict(initial_state)
    model = model.to(device).train()
    # Channels-last convolutions: ~15-25% faster CNN steps with oneDNN on a CPU (1.6x for the
    # fast CNN's batches of 128), and the layout tensor cores want for mixed precision on a GPU.
    convolutional = any(isinstance(m, nn.Conv2d) for m in model.modules())
    channels_last = convolutional and (
        device.type == "cpu" or (device.type == "cuda" and cfg.amp != "off")
    )
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model, channels_last


def setup_run(
    config: TrainConfig,
    data: MnistData | None = None,
    initial_state: dict[str, torch.Tensor] | None = None,
) -> RunState:
    """Check the settings, load the data onto the device, build model and optimizer.

    Sets the intra-op thread count for the run (``choose_threads``); ``Trainer.run`` puts the
    caller's back afterwards. ``setup_seconds`` is the time this took.
    """
    begin = time.perf_counter()
    cfg = config.validate()
    device = resolve_device(cfg.device)
    data = data if data is not None else load_mnist(cfg.dataset, cfg.data_dir)
    if data.train_samples == 0 or data.test_samples == 0:
        raise UserError(f"{data.description} has no training or no test digits")
    train, held_images, held_labels = data.hold_out(cfg.held_out_count(data.train_samples))
    torch.set_num_threads(choose_threads(cfg, device))
    if device.type == "cuda":
        # Same seed, same device, same numbers: no autotuned, non-deterministic kernels.
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    model, channels_last = build_run_model(cfg, device, initial_state)
    steps_per_epoch = math.ceil(train.train_samples / cfg.batch_size)
    loss = criterion(cfg)
    # Decode once, normalise once, keep on the device (uint8 -> float32 there on a GPU).
    layout = torch.channels_last if channels_last else torch.contiguous_format
    train_x = model_input(normalize(train.train_images.to(device)), cfg.model)
    test_x = model_input(normalize(train.test_images.to(device)), cfg.model)
    train_x = train_x.contiguous(memory_format=layout)
    first = slice(0, cfg.batch_size)
    settle_threads(cfg, device, model, train_x[first], train.train_labels[first], loss)
    state = RunState(
        cfg=cfg,
        device=device,
        description=describe_device(device),
        data=train,
        dataset=data.description,
        model=model,
        optimizer=make_optimizer(cfg, model, device),
        criterion=loss,
        manual_mlp=isinstance(model, SimpleNet) and not cfg.label_smoothing,
        channels_last=channels_last,
        amp=autocast_dtype(cfg, device),
        train_x=train_x,
        train_y=train.train_labels.to(device),
        test_x=test_x.contiguous(memory_format=layout),
        test_y=train.test_labels.to(device),
        held_images=held_images,
        held_labels=held_labels,
        shuffle=torch.Generator().manual_seed(cfg.seed),
        steps_per_epoch=steps_per_epoch,
        total_steps=steps_per_epoch * cfg.epochs,
        augmenter=BatchAugmenter(cfg.seed, device) if cfg.augment else None,
        monitor=GradientMonitor(model, cfg.model) if cfg.gradient_stats else None,
        lr=cfg.lr,
        eval_batch=CPU_EVAL_BATCH if device.type == "cpu" else EVAL_BATCH,
    )
    state.setup_seconds = time.perf_counter() - begin
    return state


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

    def _wait_while_paused(self) -> None:
        """Block while paused (or until stopped)."""
        while not self._running.wait(timeout=0.1):
            if self._stop.is_set():
                break

    def _run(self) -> RunEnded:
        state = setup_run(self.config, self.data, self.initial_state)
        cfg = state.cfg
        self.model = state.model
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
            scoring = time.perf_counter()  # the test digits in batches of EVAL_BATCH, once
            state.evaluation = evaluate_tensors(
                state.model, state.test_x, state.test_y, cfg.loss, batch=state.eval_batch
            )
            scored = time.perf_counter() - scoring
            state.eval_seconds += scored
            seconds += scored
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
        return finish_run(state, self._finalize, self._path_and_lr(state))

    # -- one epoch ------------------------------------------------------------------------------

    def _train_epoch(self, state: RunState, epoch: int) -> float:
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
                state.sit_out(self._wait_while_paused)
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

    def _step(self, state: RunState, rows: torch.Tensor) -> torch.Tensor:
        """One optimizer step on the digits ``rows``; returns the batch's mean loss (on device)."""
        xb = state.train_x.index_select(0, rows)
        yb = state.train_y.index_select(0, rows)
        weight = 1.0
        if state.augmenter is not None:  # the clean digits and a varied copy of each, on the device
            xb, yb = state.augmenter.with_copies(xb, yb)
            weight = state.augmenter.loss_weight
        self._change_lr(state)
        if state.cfg.schedule == "onecycle":  # linear in its peak: state.lr scales it
            lr = one_cycle_lr(state.step, state.total_steps, state.lr)
            set_learning_rate(state.optimizer, lr)
        if state.manual_mlp:
            loss = mlp_forward_backward(state.model, xb, yb, weight)
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
            (loss * weight if weight != 1.0 else loss).backward()
        if state.monitor is not None and state.window.steps + 1 == state.cfg.report_every:
            epoch = state.step // state.steps_per_epoch + 1
            report = state.monitor.observe(state.optimizer.step, epoch, state.step + 1)
            if report is not None:
                self._emit(report)
        else:
            state.optimizer.step()
        return loss

    def _report(
        self, state: RunState, epoch: int, loss_sum: torch.Tensor, epoch_start: float
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
                seconds=state.train_seconds + state.eval_seconds + now - epoch_start,
            )
        )
        window.reported_sum = total
        window.start, window.samples, window.steps, window.elapsed = state.clock(), 0, 0, 0.0

    # -- learning-rate changes and the path (issue 26) -------------------------------------------

    def _change_lr(self, state: RunState) -> None:
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

    def _save_path_point(self, state: RunState) -> None:
        from core.training.landscape import parameter_vector

        if state.initial is None:
            state.initial = {
                k: v.detach().cpu().clone() for k, v in state.model.state_dict().items()
            }
        state.trajectory.append(parameter_vector(state.model))
        state.trajectory_steps.append(state.step)

    def _path_and_lr(self, state: RunState) -> dict:
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


def run_note(config: TrainConfig, device: torch.device) -> str:
    """A sentence for the user about this run's speed, or "" (e.g. a GPU preset on a CPU)."""
    if config.preset in PRESET_NOTES and device.type == "cpu":
        return f"the {config.preset} preset is {PRESET_NOTES[config.preset]}"
    return ""
