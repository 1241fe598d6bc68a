"""The training engine: it learns, reports, pauses, stops promptly, repeats itself, fails cleanly."""

from __future__ import annotations

import threading
import time

import pytest
import torch
import torch.nn.functional as F

from core.data import MnistData, load_sample
from core.errors import UserError
from core.models import build_model
from core.train_types import (
    BatchEvent,
    EpochEvent,
    RunEnded,
    RunStarted,
    TrainConfig,
)
from core.trainer import MomentumSGD, Trainer, mlp_forward_backward


@pytest.fixture(scope="module")
def sample() -> MnistData:
    return load_sample()


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

    ended = Trainer(config, record, data=data).run()
    return ended, events


def test_loss_falls_within_a_few_hundred_steps(sample):
    ended, events = run(TrainConfig(epochs=1, report_every=10), sample)
    assert ended.status == "finished", ended.reason
    losses = [e.loss for e in events if isinstance(e, BatchEvent)]
    assert len(losses) == 6  # 63 steps, reported every 10
    assert losses[0] > 1.5  # chance level is ln(10) = 2.3
    assert losses[-1] < 0.8 * losses[0] and losses[-1] < 1.0


def test_events_arrive_in_order_with_plain_data(sample):
    data = small(sample)
    ended, events = run(TrainConfig(epochs=2, batch_size=100, report_every=2), data)
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
    assert result.samples_per_second == pytest.approx(1024 / result.seconds)
    assert result.checkpoint.metrics["test_accuracy"] == result.evaluation.accuracy
    assert result.checkpoint.dataset == "small slice of the sample"


def test_no_callback_means_no_batch_reports_but_a_result(sample):
    ended = Trainer(TrainConfig(epochs=1), data=small(sample)).run()
    assert ended.status == "finished"
    assert 0 <= ended.result.evaluation.accuracy <= 1


def test_stop_mid_epoch_returns_promptly_with_a_consistent_state(sample):
    trainer_box = {}

    def stop_at_step_5(event):
        if isinstance(event, BatchEvent) and event.step == 5:
            trainer_box["stopped_at"] = time.perf_counter()
            trainer_box["trainer"].stop()

    events = []
    trainer = Trainer(
        TrainConfig(epochs=3, report_every=1),
        lambda e: (events.append(e), stop_at_step_5(e)),
        data=sample,
    )
    trainer_box["trainer"] = trainer
    ended = trainer.run()
    assert time.perf_counter() - trainer_box["stopped_at"] < 1.0
    assert ended.status == "stopped"
    assert [e.step for e in events if isinstance(e, BatchEvent)] == [1, 2, 3, 4, 5]
    assert not any(isinstance(e, EpochEvent) for e in events)
    assert events[-1] is ended
    result = ended.result
    assert result.epochs_completed == 0 and result.evaluation is None
    assert result.checkpoint.metrics["stopped"] is True
    assert "test_accuracy" not in result.checkpoint.metrics  # no accuracy claimed for it
    model = result.checkpoint.build()
    assert torch.isfinite(model(torch.zeros(1, 28, 28))).all()
    # The checkpoint holds exactly the trainer's current weights.
    for name, tensor in trainer.model.state_dict().items():
        assert torch.equal(tensor, result.checkpoint.state_dict[name])


def test_pause_and_resume_from_another_thread(sample):
    trainer_box = {}
    paused_seen = []

    def pause_at_step_3(event):
        if isinstance(event, BatchEvent) and event.step == 3:
            trainer = trainer_box["trainer"]
            trainer.pause()
            paused_seen.append(trainer.is_paused)
            threading.Timer(0.4, trainer.resume).start()

    trainer = Trainer(TrainConfig(epochs=1, report_every=1), pause_at_step_3, data=small(sample))
    trainer_box["trainer"] = trainer
    start = time.perf_counter()
    ended = trainer.run()
    wall = time.perf_counter() - start
    assert paused_seen == [True] and not trainer.is_paused
    assert ended.status == "finished"
    assert wall >= 0.4
    assert ended.result.seconds < wall - 0.35  # training time leaves the pause out


def test_stop_while_paused_ends_the_run(sample):
    trainer = Trainer(TrainConfig(epochs=1), data=sample)
    trainer.pause()
    threading.Timer(0.2, trainer.stop).start()
    start = time.perf_counter()
    ended = trainer.run()
    assert ended.status == "stopped"
    assert time.perf_counter() - start < 5


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
    every_step, events_1 = run(TrainConfig(epochs=2, batch_size=100, report_every=1), data)
    every_4, events_4 = run(TrainConfig(epochs=2, batch_size=100, report_every=4), data)
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
