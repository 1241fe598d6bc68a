"""The training engine: it learns, reports, pauses, stops promptly, repeats itself, fails cleanly."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from core.data.mnist import MnistData, normalize
from core.device import available_devices
from core.errors import UserError
from core.training.evaluation import evaluate
from core.training.models import build_model
from core.training.train_settings import apply_preset
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    RunEnded,
    RunStarted,
    TrainConfig,
)
from core.training.trainer import MomentumSGD, Trainer, mlp_forward_backward, one_cycle_lr


def small(data: MnistData, n_train: int = 512, n_test: int = 200) -> MnistData:
    return MnistData(
        "sample",
        "small slice of the sample",
        data.train_images[:n_train],
        data.train_labels[:n_train],
        data.test_images[:n_test],
        data.test_labels[:n_test],
    )


def run(config: TrainConfig, data: MnistData, on_event=None) -> tuple[RunEnded, list]:
    events = []

    def record(event):
        events.append(event)
        if on_event is not None:
            on_event(event)

    ended = Trainer(config, record, data=data, finalize=None).run()
    return ended, events


def test_loss_falls_within_a_few_hundred_steps(sample):
    ended, events = run(TrainConfig(epochs=1, report_every=10), sample)
    assert ended.status == "finished", ended.reason
    losses = [e.loss for e in events if isinstance(e, BatchEvent)]
    assert len(losses) == 5  # 3,600 digits (400 held out): 57 steps, reported every 10
    assert losses[0] > 1.5  # chance level is ln(10) = 2.3
    assert losses[-1] < 0.8 * losses[0] and losses[-1] < 1.0


def test_events_arrive_in_order_with_plain_data(sample):
    data = small(sample)
    ended, events = run(TrainConfig(epochs=2, batch_size=100, report_every=2, holdout=0), data)
    assert isinstance(events[0], RunStarted)
    assert events[-1] is ended and ended.status == "finished"
    assert sum(isinstance(e, RunEnded) for e in events) == 1
    started = events[0]
    assert (started.train_samples, started.test_samples) == (512, 200)
    assert started.steps_per_epoch == 6 and started.total_steps == 12  # last batch is partial
    batches = [e for e in events if isinstance(e, BatchEvent)]
    assert [b.step for b in batches] == [2, 4, 6, 8, 10, 12]
    assert all(isinstance(b.loss, float) and b.samples_per_second > 0 for b in batches)
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert all(0 <= e.test_accuracy <= 1 and e.seconds > 0 for e in epochs)
    result = ended.result
    assert result.epochs_completed == 2
    assert result.evaluation.accuracy == epochs[-1].test_accuracy
    # seconds: every training step and every evaluation; set-up and the end of the run apart
    assert sum(e.seconds for e in epochs) == pytest.approx(result.seconds)
    assert 0 < result.eval_seconds < result.seconds
    assert result.setup_seconds > 0 and result.finish_seconds > 0
    assert result.samples_per_second == pytest.approx(1024 / (result.seconds - result.eval_seconds))
    assert result.checkpoint.metrics["test_accuracy"] == result.evaluation.accuracy
    assert result.checkpoint.dataset == "small slice of the sample"


def test_no_callback_means_no_batch_reports_but_a_result(sample):
    ended = Trainer(TrainConfig(epochs=1), data=small(sample)).run()
    assert ended.status == "finished"
    assert 0 <= ended.result.evaluation.accuracy <= 1


def test_stop_mid_epoch_ends_after_the_batch_and_scores_the_model_as_it_is(sample):
    trainer_box = {}

    def stop_at_step_5(event):
        if isinstance(event, BatchEvent) and event.step == 5:
            trainer_box["trainer"].stop()

    events = []
    trainer = Trainer(
        TrainConfig(epochs=3, report_every=1),
        lambda e: (events.append(e), stop_at_step_5(e)),
        data=sample,
    )
    trainer_box["trainer"] = trainer
    ended = trainer.run()
    assert ended.status == "stopped"
    assert [e.step for e in events if isinstance(e, BatchEvent)] == [1, 2, 3, 4, 5]
    assert not any(isinstance(e, EpochEvent) for e in events)
    assert events[-1] is ended
    result = ended.result
    assert result.epochs_completed == 0
    assert result.checkpoint.metrics["stopped"] is True
    # Scored as it is, on the whole test set, and usable as a model.
    model = result.checkpoint.build()
    assert result.evaluation.samples == sample.test_samples
    again = evaluate(model, sample, "cpu", "nll")
    assert result.evaluation.accuracy == pytest.approx(again.accuracy)
    assert result.checkpoint.metrics["test_accuracy"] == result.evaluation.accuracy
    assert torch.isfinite(model(torch.zeros(1, 28, 28))).all()
    # The checkpoint holds exactly the trainer's current weights.
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(tensor, result.checkpoint.state_dict[name])


class JumpingClock:
    """``time`` for the trainer whose clock the test moves on: a pause "lasts" 1,000 s
    without anybody waiting for it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def perf_counter(self) -> float:
        return time.perf_counter() + self.offset


def test_a_pause_is_left_out_of_the_training_time(sample, monkeypatch):
    clock = JumpingClock()
    monkeypatch.setattr("core.training.run_state.time", clock)

    class ResumeWhenWaitedOn(threading.Event):
        """The trainer's run/pause flag; the trainer blocking on it moves the clock on
        1,000 s and resumes, as a user clicking Resume a long while later would."""

        def wait(self, timeout=None):
            if not self.is_set():
                clock.offset += 1000.0
                self.set()
            return super().wait(timeout)

    steps_seen = []
    paused_seen = []

    def pause_at_step_3(event):
        if isinstance(event, BatchEvent):
            steps_seen.append(event.step)
            if event.step == 3:
                trainer.pause()
                paused_seen.append(trainer.is_paused)

    trainer = Trainer(TrainConfig(epochs=1, report_every=1), pause_at_step_3, data=small(sample))
    trainer._running = ResumeWhenWaitedOn()
    trainer._running.set()
    ended = trainer.run()
    assert paused_seen == [True] and not trainer.is_paused
    assert ended.status == "finished"
    assert steps_seen == list(range(1, len(steps_seen) + 1))  # no step lost or repeated
    assert clock.offset == 1000.0  # the run did wait on the pause
    assert ended.result.seconds < 1000  # training time leaves the pause out


def test_pause_and_resume_from_another_thread(sample):
    steps_seen = []
    total = []

    def pause_at_step_3(event):
        if isinstance(event, RunStarted):
            total.append(event.total_steps)
        if isinstance(event, BatchEvent):
            steps_seen.append(event.step)
            if event.step == 3:
                trainer.pause()
                threading.Timer(0.05, trainer.resume).start()

    trainer = Trainer(TrainConfig(epochs=1, report_every=1), pause_at_step_3, data=small(sample))
    ended = trainer.run()
    assert ended.status == "finished" and not trainer.is_paused
    assert steps_seen == list(range(1, total[0] + 1))  # every step ran, once


def test_stop_while_paused_ends_the_run(sample):
    trainer = Trainer(TrainConfig(epochs=1), data=sample)
    trainer.pause()
    threading.Timer(0.2, trainer.stop).start()
    ended = trainer.run()  # returns (a hang would trip the faulthandler timeout)
    assert ended.status == "stopped" and ended.result.epochs_completed == 0


def test_same_seed_same_numbers_and_another_seed_differs(sample):
    data = small(sample, 1024)
    for model in ("mlp", "cnn"):
        config = dict(model=model, epochs=1, batch_size=64, report_every=4)
        one, events_one = run(TrainConfig(seed=7, **config), data)
        two, events_two = run(TrainConfig(seed=7, **config), data)
        other, _ = run(TrainConfig(seed=8, **config), data)
        losses = [
            [e.loss for e in evs if isinstance(e, BatchEvent)] for evs in (events_one, events_two)
        ]
        assert losses[0] == losses[1]
        for name, tensor in one.result.checkpoint.state_dict.items():
            assert torch.equal(tensor, two.result.checkpoint.state_dict[name]), (model, name)
        assert not torch.equal(
            one.result.checkpoint.state_dict["fc1.weight"],
            other.result.checkpoint.state_dict["fc1.weight"],
        )


@pytest.mark.parametrize("loss_name", ["nll", "ce"])
def test_hand_written_mlp_backward_matches_autograd(sample, loss_name):
    torch.manual_seed(0)
    reference = build_model("mlp", loss_name)
    manual = build_model("mlp", loss_name)
    manual.load_state_dict(reference.state_dict())
    x = torch.randn(37, 28, 28)  # a partial batch
    y = torch.randint(10, (37,))
    criterion = F.nll_loss if loss_name == "nll" else F.cross_entropy
    expected = criterion(reference(x), y)
    expected.backward()
    got = mlp_forward_backward(manual, x, y)
    assert torch.allclose(got, expected.detach(), atol=1e-6)
    for p, q in zip(reference.parameters(), manual.parameters(), strict=True):
        assert torch.allclose(p.grad, q.grad, atol=1e-6, rtol=1e-5)


def test_momentum_sgd_equals_torch_sgd():
    x, y = torch.randn(256, 784), torch.randint(10, (256,))
    weights = []
    for kind in ("torch", "ours"):
        torch.manual_seed(0)
        model = build_model("mlp")
        params = list(model.parameters())
        if kind == "torch":
            optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
        else:
            optimizer = MomentumSGD(params, lr=0.05, momentum=0.9)
        for i in range(4):
            optimizer.zero_grad(set_to_none=True)
            F.nll_loss(model(x[i * 64 : (i + 1) * 64]), y[i * 64 : (i + 1) * 64]).backward()
            optimizer.step()
        weights.append(torch.cat([p.detach().flatten() for p in params]))
    assert torch.allclose(weights[0], weights[1], atol=1e-7)


@pytest.mark.parametrize(
    ("model", "loss", "optimizer"),
    [("cnn", "ce", "sgd"), ("mlp", "ce", "adam"), ("cnn", "nll", "adam")],
)
def test_every_model_loss_and_optimizer_trains(sample, model, loss, optimizer):
    config = TrainConfig(
        model=model, loss=loss, optimizer=optimizer, lr=0.001 if optimizer == "adam" else 0.01
    )
    config.epochs = 1
    ended, _ = run(config, small(sample, 256, 100))
    assert ended.status == "finished", ended.reason
    assert ended.result.checkpoint.loss == loss
    assert ended.result.checkpoint.build()  # weights fit the registry model


def test_mlp_reaches_90_percent_on_the_sample_in_5_epochs(sample):
    ended, _ = run(TrainConfig(model="mlp", epochs=5, seed=1, device="cpu"), sample)
    assert ended.result.evaluation.accuracy >= 0.90


@pytest.mark.slow
def test_cnn_reaches_95_percent_on_the_sample_in_5_epochs(sample):
    ended, _ = run(TrainConfig(model="cnn", epochs=5, seed=1, device="cpu"), sample)
    assert ended.result.evaluation.accuracy >= 0.95


def test_bad_settings_and_data_fail_without_raising(tmp_path):
    ended, events = run(TrainConfig(lr=-1.0), None)
    assert ended.status == "failed" and "learning rate" in ended.reason
    assert events == [ended]
    ended, events = run(TrainConfig(dataset="mnist", data_dir=str(tmp_path)), None)
    assert ended.status == "failed" and str(tmp_path) in ended.reason
    assert events == [ended]


def test_a_crashing_event_handler_fails_the_run_once(sample):
    ended_events = []

    def handler(event):
        if isinstance(event, RunEnded):
            ended_events.append(event)
        elif isinstance(event, BatchEvent):
            raise ValueError("handler bug")

    ended = Trainer(TrainConfig(epochs=1), handler, data=small(sample)).run()
    assert ended.status == "failed" and "handler bug" in ended.reason
    assert ended_events == [ended]


def test_thread_setting_is_restored(sample):
    before = torch.get_num_threads()
    Trainer(TrainConfig(epochs=1, threads=1), data=small(sample, 64, 10)).run()
    assert torch.get_num_threads() == before


def test_report_windows_span_epoch_ends(sample):
    data = small(sample)  # 6 steps per epoch at batch 100
    config = TrainConfig(epochs=2, batch_size=100, holdout=0)
    every_step, events_1 = run(replace(config, report_every=1), data)
    every_4, events_4 = run(replace(config, report_every=4), data)
    per_step = [e.loss for e in events_1 if isinstance(e, BatchEvent)]
    windows = [e for e in events_4 if isinstance(e, BatchEvent)]
    assert [w.step for w in windows] == [4, 8, 12]
    assert [w.epoch for w in windows] == [1, 2, 2]
    for window in windows:
        expected = sum(per_step[window.step - 4 : window.step]) / 4
        assert window.loss == pytest.approx(expected, rel=1e-5)


def test_a_diverging_run_fails_instead_of_keeping_nan_weights(sample):
    ended = Trainer(TrainConfig(lr=10.0, momentum=0.99, epochs=1), data=sample).run()
    assert ended.status == "failed"
    assert "diverged" in ended.reason and "learning rate" in ended.reason
    assert ended.result is None


def test_seed_out_of_range_is_a_user_error():
    with pytest.raises(UserError, match="seed"):
        TrainConfig(seed=2**70).validate()
    with pytest.raises(UserError, match="seed"):
        TrainConfig(seed=-1).validate()


DEVICES = ["cpu"] + [name for name in ("cuda", "mps") if name in available_devices()]


@pytest.mark.parametrize("device", DEVICES)
def test_same_seed_same_numbers_on_each_device(sample, device):
    config = TrainConfig(model="cnn", epochs=1, batch_size=64, report_every=4, device=device)
    data = small(sample, 512, 100)
    (one, events_one), (two, events_two) = run(config, data), run(config, data)
    losses = [
        [e.loss for e in evs if isinstance(e, BatchEvent)] for evs in (events_one, events_two)
    ]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for name, tensor in one.result.checkpoint.state_dict.items():
        assert tensor.device.type == "cpu"  # checkpoints are saved from the CPU copy
        assert torch.allclose(tensor, two.result.checkpoint.state_dict[name], atol=1e-5)


def test_held_out_digits_are_never_trained_on_and_scored_at_the_end(sample):
    data = small(sample, 1000, 100)
    seen = []
    finalized = []

    def finalize(model, held_out, checkpoint):
        finalized.append((held_out, checkpoint))
        checkpoint.metrics["finalized"] = True

    ended = Trainer(
        TrainConfig(epochs=1, holdout=0.2), seen.append, data=data, finalize=finalize
    ).run()
    assert ended.status == "finished", ended.reason
    held = ended.result.held_out
    assert seen[0].held_out_samples == 200 and seen[0].train_samples == 800
    assert held.images.shape == (200, 28, 28) and held.images.dtype == torch.uint8
    assert held.log_probs.shape == (200, 10)
    assert torch.allclose(held.log_probs.exp().sum(1), torch.ones(200), atol=1e-5)
    # The held-out digits are training digits the run left out: none of them was trained on.
    rest, images, labels = data.hold_out(200)
    assert torch.equal(images, held.images) and torch.equal(labels, held.labels)
    flat_rest = {bytes(row.numpy()) for row in rest.train_images.reshape(800, -1)}
    assert not any(bytes(row.numpy()) in flat_rest for row in images.reshape(200, -1))
    # The final model's answers, not some earlier one's.
    model = ended.result.checkpoint.build()
    again = torch.log_softmax(model(normalize(images)), dim=1)
    assert torch.allclose(again, held.log_probs, atol=1e-4)
    assert [c for _, c in finalized] == [ended.result.checkpoint]
    assert ended.result.checkpoint.metrics["finalized"] is True


def test_held_out_count_is_capped_and_a_failing_finalize_keeps_the_run(sample):
    assert TrainConfig().held_out_count(60_000) == 5000
    assert TrainConfig().held_out_count(4_000) == 400
    assert TrainConfig(holdout=0).held_out_count(4_000) == 0

    def broken(model, held_out, checkpoint):
        raise ValueError("calibration bug")

    ended = Trainer(TrainConfig(epochs=1), data=small(sample, 256, 50), finalize=broken).run()
    assert ended.status == "finished"


def test_one_cycle_schedule_matches_torch():
    total, max_lr = 50, 0.1
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, total_steps=total, cycle_momentum=False
    )
    expected = []
    for _ in range(total):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    got = [one_cycle_lr(step, total, max_lr) for step in range(total)]
    assert got == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_speedrun_preset_trains_and_says_when_it_is_slow(sample, device):
    config = replace(apply_preset(TrainConfig(), "speedrun"), epochs=1, device=device)
    ended, events = run(config, small(sample, 1024, 200))
    assert ended.status == "finished", ended.reason
    started = events[0]
    assert started.config.schedule == "onecycle" and started.config.batch_size >= 256
    if device == "cpu":
        assert "GPU" in started.note and "slow" in started.note
    else:
        assert started.note == ""
    assert ended.result.checkpoint.build()  # plain contiguous float32 weights


def test_mixed_precision_on_the_cpu_still_learns(sample):
    config = TrainConfig(model="cnn", optimizer="adam", lr=0.003, epochs=1, amp="on", device="cpu")
    ended, events = run(config, small(sample, 1024, 200))
    assert ended.status == "finished", ended.reason
    losses = [e.loss for e in events if isinstance(e, BatchEvent)]
    assert losses[-1] < losses[0]
    assert all(t.dtype == torch.float32 for t in ended.result.checkpoint.state_dict.values())


def test_the_default_end_of_a_run_calibrates_and_fits_the_digit_check(sample):
    ended = Trainer(TrainConfig(epochs=1), data=sample).run()
    checkpoint = ended.result.checkpoint
    held = ended.result.held_out
    assert checkpoint.temperature != 1.0  # fitted on the 400 held-out digits
    better = F.nll_loss(torch.log_softmax(held.log_probs / checkpoint.temperature, 1), held.labels)
    assert better <= F.nll_loss(held.log_probs, held.labels) + 1e-6
    assert checkpoint.ood is not None and "threshold" in checkpoint.ood
