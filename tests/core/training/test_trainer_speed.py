"""The CPU speed run (issue 28): its preset, net, loss, thread probe and timing fields.

Accuracy and seconds on full MNIST are figures, not assertions: ``benchmarks/train_speed.py``
measures them (``docs/measured.md``). These tests pin what makes them possible.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from core.data.mnist import MnistData
from core.training.models import build_model, flops_per_digit
from core.training.train_settings import PRESETS, apply_preset
from core.training.train_types import BatchEvent, EpochEvent, RunStarted, TrainConfig
from core.training.trainer import (
    CPU_EVAL_BATCH,
    Trainer,
    choose_threads,
    criterion,
    fastest_threads,
    make_optimizer,
    setup_run,
)


def small(data: MnistData, n_train: int = 1024, n_test: int = 200) -> MnistData:
    return replace(
        data,
        train_images=data.train_images[:n_train],
        train_labels=data.train_labels[:n_train],
        test_images=data.test_images[:n_test],
        test_labels=data.test_labels[:n_test],
    )


def test_flops_are_counted_per_layer_and_the_fast_net_has_a_quarter_of_the_cnns():
    # conv 1->16 5x5 on 24x24 outputs, conv 16->32 3x3 on 10x10, 800->128, 128->10
    expected = 2 * (24 * 24 * 16 * 25 + 10 * 10 * 32 * 16 * 9 + 800 * 128 + 128 * 10)
    assert flops_per_digit(build_model("cnn-fast")) == expected == 1_589_760
    assert flops_per_digit(build_model("mlp")) == 2 * (784 * 128 + 128 * 64 + 64 * 10)
    assert flops_per_digit(build_model("cnn-fast")) < flops_per_digit(build_model("cnn")) / 3.5


def test_the_cpu_preset_is_two_epochs_of_the_fast_net_with_its_recipe():
    config = apply_preset(TrainConfig(), "cpu-speedrun").validate()
    assert (config.model, config.epochs, config.optimizer, config.schedule) == (
        "cnn-fast",
        2,
        "adam",
        "onecycle",
    )
    assert config.label_smoothing == 0.1 and (config.adam_beta1, config.adam_beta2) == (0.7, 0.9)
    assert config.augment is False and config.amp == "off"
    assert PRESETS["speedrun"]["model"] == "cnn"  # the GPU recipe is left as it was


def test_adam_gets_the_configured_betas():
    config = apply_preset(TrainConfig(), "cpu-speedrun")
    model = build_model(config.model, config.loss)
    optimizer = make_optimizer(config, model, torch.device("cpu"))
    assert optimizer.param_groups[0]["betas"] == (0.7, 0.9)
    plain = make_optimizer(TrainConfig(optimizer="adam"), model, torch.device("cpu"))
    assert plain.param_groups[0]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("head", ["nll", "ce"])
def test_label_smoothing_is_the_same_loss_for_either_head(head):
    torch.manual_seed(0)
    logits, labels = torch.randn(32, 10), torch.randint(0, 10, (32,))
    outputs = F.log_softmax(logits, 1) if head == "nll" else logits
    smoothed = criterion(TrainConfig(loss=head, label_smoothing=0.1))(outputs, labels)
    expected = F.cross_entropy(logits, labels, label_smoothing=0.1)
    assert smoothed == pytest.approx(float(expected), rel=1e-6)
    assert smoothed != pytest.approx(float(F.cross_entropy(logits, labels)))  # not the plain loss
    assert criterion(TrainConfig(loss=head)) is not None


def test_label_smoothing_leaves_the_hand_written_mlp_step_for_autograd(sample):
    plain = setup_run(TrainConfig(device="cpu", holdout=0), small(sample, 256, 50))
    smoothed = setup_run(
        TrainConfig(device="cpu", holdout=0, label_smoothing=0.1), small(sample, 256, 50)
    )
    assert plain.manual_mlp and not smoothed.manual_mlp


def test_the_fast_net_asks_for_every_core_and_others_keep_their_rule(monkeypatch):
    monkeypatch.setattr("core.training.trainer.os.cpu_count", lambda: 2)
    cpu = torch.device("cpu")
    assert choose_threads(TrainConfig(model="cnn-fast"), cpu) == 2
    assert choose_threads(TrainConfig(model="cnn"), cpu) == 1
    assert choose_threads(TrainConfig(model="mlp"), cpu) == 1
    assert choose_threads(TrainConfig(model="cnn-fast", threads=1), cpu) == 1
    monkeypatch.setattr("core.training.trainer.os.cpu_count", lambda: 16)
    assert choose_threads(TrainConfig(model="cnn-fast"), cpu) == 4


def test_the_thread_probe_picks_the_faster_count_and_leaves_the_model_alone(monkeypatch):
    """A fake clock makes 2 threads slow (a busy machine): the probe picks 1, and back."""
    torch.manual_seed(0)
    model = build_model("cnn-fast", "ce")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    now = [0.0]

    def slow_with_two() -> float:
        now[0] += 1.0 if torch.get_num_threads() == 2 else 0.1
        return now[0]

    threads_before = torch.get_num_threads()
    monkeypatch.setattr("core.training.trainer.time.perf_counter", slow_with_two)
    try:
        assert fastest_threads(model, x, y, F.cross_entropy, (2, 1)) == 1

        def slow_with_one() -> float:
            now[0] += 1.0 if torch.get_num_threads() == 1 else 0.1
            return now[0]

        monkeypatch.setattr("core.training.trainer.time.perf_counter", slow_with_one)
        assert fastest_threads(model, x, y, F.cross_entropy, (2, 1)) == 2
    finally:
        torch.set_num_threads(threads_before)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name])
    assert all(p.grad is None for p in model.parameters())


def test_the_cpu_speedrun_trains_through_the_engine_with_live_reports(sample):
    config = replace(apply_preset(TrainConfig(), "cpu-speedrun"), device="cpu", report_every=2)
    events: list = []
    ended = Trainer(config, events.append, data=small(sample, 1024, 300), finalize=None).run()
    assert ended.status == "finished", ended.reason
    started = events[0]
    assert isinstance(started, RunStarted) and started.note == ""  # no "slow on a CPU" note
    assert started.device.startswith("cpu (")
    batches = [e for e in events if isinstance(e, BatchEvent)]
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert len(batches) >= 3 and len(epochs) == 2  # a live curve, one evaluation an epoch
    assert batches[-1].loss < batches[0].loss
    result = ended.result
    assert result.evaluation.accuracy > 0.4  # 16 steps of 128 digits: far above chance (0.1)
    assert result.seconds == pytest.approx(sum(e.seconds for e in epochs))
    assert result.eval_seconds > 0 and result.setup_seconds > 0


def test_the_cpu_evaluates_in_small_batches(sample):
    state = setup_run(TrainConfig(model="cnn-fast", device="cpu"), small(sample, 256, 50))
    assert state.eval_batch == CPU_EVAL_BATCH < 1000


def test_an_exported_speed_run_script_keeps_its_loss_and_betas():
    from core.training.script_export import export_script

    text = export_script(apply_preset(TrainConfig(), "cpu-speedrun")).text
    compile(text, "train_cnn-fast.py", "exec")
    assert "partial(F.cross_entropy, label_smoothing=0.1)(model(data), target)" in text
    assert "betas=(0.7, 0.9)" in text
    plain = export_script(TrainConfig()).text
    assert "label_smoothing=" not in plain.split("def main")[0] and "betas" not in plain
