"""A learning rate changed mid-run: applied at the next step, to every param group, recorded,
replayable; with a schedule it scales the schedule; the saved path records the weights."""

from __future__ import annotations

import pytest
import torch

from core.data.mnist import MnistData, load_sample
from core.errors import UserError
from core.training.train_types import BatchEvent, LrChanged, TrainConfig
from core.training.trainer import MomentumSGD, Trainer, one_cycle_lr


@pytest.fixture(scope="module")
def data() -> MnistData:
    sample = load_sample()
    return MnistData(
        "sample",
        "slice",
        sample.train_images[:640],
        sample.train_labels[:640],
        sample.test_images[:100],
        sample.test_labels[:100],
    )


def _lrs(optimizer) -> list[float]:
    if isinstance(optimizer, MomentumSGD):
        return [optimizer.lr]
    return [group["lr"] for group in optimizer.param_groups]


def test_a_new_lr_reaches_every_param_group_at_the_next_step(data):
    config = TrainConfig(optimizer="adam", lr=0.001, epochs=1, holdout=0.0)
    seen: dict[int, list[float]] = {}
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, BatchEvent):
            seen[event.step] = _lrs(trainer.optimizer)
            if event.step == 3:
                trainer.set_lr(0.02)

    trainer = Trainer(config, on_event, data=data, finalize=None)
    ended = trainer.run()
    assert ended.status == "finished", ended.reason
    assert seen[3] == [0.001] and seen[4] == [0.02] and seen[9] == [0.02]
    changes = [e for e in events if isinstance(e, LrChanged)]
    assert [(c.step, c.lr, c.previous) for c in changes] == [(3, 0.02, 0.001)]
    assert ended.result.lr_changes == [(3, 0.02)]


def test_momentum_sgd_gets_it_too_and_a_replay_repeats_the_run(data):
    config = TrainConfig(epochs=1, holdout=0.0, report_every=1)

    def live(event):
        if isinstance(event, BatchEvent) and event.step == 4:
            trainer.set_lr(0.05)

    trainer = Trainer(config, live, data=data, finalize=None)
    first = trainer.run().result
    assert trainer.optimizer.lr == 0.05
    replay = Trainer(config, None, data=data, finalize=None, lr_changes=first.lr_changes).run()
    plain = Trainer(config, None, data=data, finalize=None).run()
    for key, value in first.checkpoint.state_dict.items():
        assert torch.equal(value, replay.result.checkpoint.state_dict[key])
    assert not torch.equal(
        first.checkpoint.state_dict["fc1.weight"], plain.result.checkpoint.state_dict["fc1.weight"]
    )


def test_with_a_schedule_the_new_lr_scales_it(data):
    config = TrainConfig(optimizer="adam", lr=0.002, epochs=1, holdout=0.0, schedule="onecycle")
    seen = {}

    def on_event(event):
        if isinstance(event, BatchEvent):
            seen[event.step] = _lrs(trainer.optimizer)[0]
            if event.step == 2:
                trainer.set_lr(0.004)

    trainer = Trainer(config, on_event, data=data, finalize=None)
    trainer.run()
    total = 10
    assert seen[2] == pytest.approx(one_cycle_lr(1, total, 0.002))
    assert seen[5] == pytest.approx(one_cycle_lr(4, total, 0.002) * 2)


def test_bad_rates_are_refused(data):
    trainer = Trainer(TrainConfig(), data=data)
    for bad in (0.0, -1.0, float("nan"), 100.0):
        with pytest.raises(UserError):
            trainer.set_lr(bad)


def test_the_path_is_saved_every_k_steps_from_the_initial_weights(data):
    config = TrainConfig(epochs=1, holdout=0.0, seed=3)
    result = Trainer(config, data=data, finalize=None, path_every=4).run().result
    assert result.trajectory_steps == [0, 4, 8, 10]
    assert result.trajectory.shape == (4, 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10)
    torch.manual_seed(3)
    from core.training.models import build_model

    fresh = build_model("mlp")
    assert torch.equal(result.initial_state["fc1.weight"], fresh.fc1.weight.detach())
    final = torch.cat([v.reshape(-1) for v in result.checkpoint.state_dict.values()])
    assert torch.equal(result.trajectory[-1], final)
    assert Trainer(config, data=data, finalize=None).run().result.trajectory is None


def test_the_change_is_in_the_run_record_and_its_csv(data):
    from core.training.run_history import CSV_COLUMNS, BatchBlock, RunHistory
    from core.training.train_types import EpochEvent, RunEnded, RunStarted

    history = RunHistory()
    config = TrainConfig(epochs=1, holdout=0.0)

    def on_event(event):
        if isinstance(event, RunStarted):
            history.start_run(event)
        elif isinstance(event, BatchEvent):
            block = BatchBlock()
            block.add(event)
            history.add_batches(block)
            if event.step == 5:
                trainer.set_lr(0.03)
        elif isinstance(event, LrChanged):
            history.add_lr_change(event)
        elif isinstance(event, EpochEvent):
            history.add_epoch(event)
        elif isinstance(event, RunEnded):
            history.end_run(event)

    trainer = Trainer(config, on_event, data=data, finalize=None)
    trainer.run()
    run = history.runs[-1]
    assert [(c.step, c.lr) for c in run.lr_changes] == [(5, 0.03)]
    rows = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in history.csv_rows()]
    changes = [row for row in rows if row["kind"] == "lr_change"]
    assert len(changes) == 1 and changes[0]["lr"] == 0.03 and changes[0]["step"] == 5
