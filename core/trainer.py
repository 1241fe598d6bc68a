"""The training engine: plain Python, no Qt, reporting through events.

The CLI, the GUI worker, the tests and the benchmarks all run this one loop and consume the same
events (``core.train_types``). What makes it fast on a CPU, measured against the seed notebook's
DataLoader loop (benchmarks/train_speed.py), each step kept only because it paid:

- the whole dataset is decoded once, normalised once to float32 and held on the device; each
  epoch draws a permutation and each batch is one ``index_select`` (no per-sample Python, no
  permuted copy of the dataset);
- the seed's MLP gets a hand-derived backward pass (``mlp_forward_backward``), ~16% of a step;
- SGD with momentum is one fused kernel call (``MomentumSGD``), gradients are dropped, not zeroed;
- the loss is summed on the device and read (a sync point) once per report, not per batch;
- the MLP runs on one intra-op thread (see ``choose_threads``).
``torch.compile`` was measured and not kept: on the MLP it was 2-3x slower per step on this CPU
and took about a minute to compile.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from core.checkpoint import MNIST_MEAN, MNIST_STD, Checkpoint
from core.data import MnistData, load_mnist, normalize
from core.device import describe_device, resolve_device
from core.errors import UserError
from core.evaluation import evaluate_tensors, loss_function, model_input
from core.models import SimpleNet, build_model
from core.train_types import (
    BatchEvent,
    EpochEvent,
    EvalResult,
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


class Trainer:
    """One training run. ``run()`` blocks; ``pause``/``resume``/``stop`` may come from any thread.

    Events go to ``on_event``: one ``RunStarted`` (once the data is loaded), a ``BatchEvent``
    every ``config.report_every`` batches, an ``EpochEvent`` per epoch, and exactly one
    ``RunEnded``. Failures (bad data, bad settings, out of memory) end the run as
    ``RunEnded("failed", reason)``; ``run()`` itself does not raise for them.
    """

    def __init__(
        self,
        config: TrainConfig,
        on_event: EventCallback | None = None,
        data: MnistData | None = None,
    ) -> None:
        self.config = config
        self.data = data
        self.model: nn.Module | None = None
        self._on_event = on_event
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared while paused
        self._running.set()

    # -- control, thread-safe ---------------------------------------------------------------

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        """Ask the run to end after the current batch (also ends a pause)."""
        self._stop.set()
        self._running.set()

    @property
    def is_paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
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
        cfg = self.config.validate()
        device = resolve_device(cfg.device)
        data = self.data if self.data is not None else load_mnist(cfg.dataset, cfg.data_dir)
        if data.train_samples == 0 or data.test_samples == 0:
            raise UserError(f"{data.description} has no training or no test digits")
        torch.set_num_threads(choose_threads(cfg, device))
        if device.type == "cuda":
            # Same seed, same device, same numbers: no autotuned, non-deterministic kernels.
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True

        torch.manual_seed(cfg.seed)  # weights (built on the CPU, so equal on every device)
        model = build_model(cfg.model, cfg.loss).to(device).train()
        self.model = model
        optimizer = make_optimizer(cfg, model, device)
        criterion = loss_function(cfg.loss)
        manual_mlp = isinstance(model, SimpleNet)
        # oneDNN's channels-last convolutions and pooling: ~15-25% faster CNN steps on a CPU.
        channels_last = cfg.model == "cnn" and device.type == "cpu"
        if channels_last:
            model.to(memory_format=torch.channels_last)
        shuffle = torch.Generator().manual_seed(cfg.seed)

        # Decode once, normalise once, keep on the device (uint8 -> float32 there on a GPU).
        train_x = model_input(normalize(data.train_images.to(device)), cfg.model).contiguous()
        train_y = data.train_labels.to(device)
        test_x = model_input(normalize(data.test_images.to(device)), cfg.model).contiguous()
        test_y = data.test_labels.to(device)

        n, batch = data.train_samples, cfg.batch_size
        steps_per_epoch = math.ceil(n / batch)
        total_steps = steps_per_epoch * cfg.epochs
        description = describe_device(device)
        self._emit(
            RunStarted(
                config=cfg,
                device=description,
                dataset=data.description,
                train_samples=n,
                test_samples=data.test_samples,
                steps_per_epoch=steps_per_epoch,
                total_steps=total_steps,
            )
        )

        step = 0
        train_seconds = 0.0  # excludes evaluation and pauses
        paused_total = 0.0
        samples_done = 0
        epochs_completed = 0
        evaluation: EvalResult | None = None
        train_loss = float("nan")
        stopped = False
        # A report window may span an epoch's end: what it holds from the previous epoch.
        carried_loss, report_steps, report_samples, report_elapsed = 0.0, 0, 0, 0.0

        def clock() -> float:
            return time.perf_counter() - paused_total

        for epoch in range(1, cfg.epochs + 1):
            order = torch.randperm(n, generator=shuffle).to(device)
            epoch_start = clock()
            loss_sum = torch.zeros((), device=device)  # summed on the device, read per report
            reported_sum = -carried_loss  # so "sum - reported_sum" includes the carry
            report_start = epoch_start
            batches_in_epoch = 0
            for index in range(steps_per_epoch):
                if not self._running.is_set():
                    paused_total += self._wait_while_paused()
                if self._stop.is_set():
                    stopped = True
                    break
                # Gathering a batch beats copying a permuted dataset per epoch: less memory,
                # and the batch is hot in cache for the first layer.
                rows = order[index * batch : (index + 1) * batch]
                xb, yb = train_x.index_select(0, rows), train_y.index_select(0, rows)
                if manual_mlp:
                    loss = mlp_forward_backward(model, xb, yb)
                else:
                    if channels_last:
                        xb = xb.contiguous(memory_format=torch.channels_last)
                    loss = criterion(model(xb), yb)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                optimizer.step()
                loss_sum += loss.detach()
                step += 1
                batches_in_epoch += 1
                samples_done += yb.shape[0]
                report_samples += yb.shape[0]
                report_steps += 1
                if report_steps == cfg.report_every and self._on_event is not None:
                    total = float(loss_sum)  # note: the one device sync per report
                    if not math.isfinite(total):
                        raise UserError(diverged_message(cfg, epoch))
                    now = clock()
                    self._emit(
                        BatchEvent(
                            epoch=epoch,
                            step=step,
                            total_steps=total_steps,
                            loss=(total - reported_sum) / report_steps,
                            samples_per_second=report_samples
                            / max(report_elapsed + now - report_start, 1e-9),
                            seconds=train_seconds + now - epoch_start,
                        )
                    )
                    reported_sum = total
                    report_start, report_samples, report_steps, report_elapsed = clock(), 0, 0, 0.0
            epoch_total = float(loss_sum)  # also waits for the device before the clock stops
            if not math.isfinite(epoch_total):
                raise UserError(diverged_message(cfg, epoch))
            if batches_in_epoch:
                train_loss = epoch_total / batches_in_epoch
            epoch_seconds = clock() - epoch_start
            carried_loss = epoch_total - reported_sum
            report_elapsed += clock() - report_start
            train_seconds += epoch_seconds
            if stopped:
                break
            evaluation = evaluate_tensors(model, test_x, test_y, cfg.loss)
            epochs_completed = epoch
            self._emit(
                EpochEvent(
                    epoch=epoch,
                    epochs=cfg.epochs,
                    train_loss=train_loss,
                    test_loss=evaluation.loss,
                    test_accuracy=evaluation.accuracy,
                    seconds=epoch_seconds,
                )
            )

        samples_per_second = samples_done / train_seconds if train_seconds > 0 else 0.0
        if channels_last:
            model.to(memory_format=torch.contiguous_format)  # plain weights for the checkpoint
        metrics = {
            "epochs_completed": epochs_completed,
            "train_loss": train_loss,
            "seconds": train_seconds,
            "samples_per_second": samples_per_second,
            "train_samples": n,
            "test_samples": data.test_samples,
            "stopped": stopped,
        }
        if evaluation is not None and not stopped:
            metrics |= {
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
            dataset=data.description,
            normalization=(MNIST_MEAN, MNIST_STD),
        )
        result = RunResult(
            config=cfg,
            device=description,
            dataset=data.description,
            train_samples=n,
            test_samples=data.test_samples,
            epochs_completed=epochs_completed,
            seconds=train_seconds,
            samples_per_second=samples_per_second,
            # A stopped run's weights are mid-epoch: no evaluation describes them.
            evaluation=None if stopped else evaluation,
            checkpoint=checkpoint,
        )
        if stopped:
            return RunEnded("stopped", "stopped by the user", result)
        return RunEnded("finished", "", result)
