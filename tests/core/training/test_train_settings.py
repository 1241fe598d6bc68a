"""The settings table: one row per TrainConfig field, and any stored value restores safely."""

from __future__ import annotations

import dataclasses

import pytest

from core.data.mnist import DATASET_CHOICES
from core.errors import UserError
from core.training.models import MODELS
from core.training.train_settings import (
    PRESETS,
    QT_INT_MAX,
    SETTINGS,
    apply_preset,
    coerce,
    report_every,
    restore_config,
    restore_value,
    stored_values,
)
from core.training.train_types import TrainConfig


def test_every_config_field_has_one_row_with_its_default():
    fields = [f.name for f in dataclasses.fields(TrainConfig)]
    assert sorted(SETTINGS) == sorted(fields)
    for name, row in SETTINGS.items():
        assert row.default == getattr(TrainConfig(), name)
        assert row.tooltip and row.label
        if row.kind in (int, float):
            assert row.low is not None and row.high is not None and not row.choices
        elif row.kind is str and not row.optional:
            assert row.choices


def test_choices_come_from_the_registries():
    assert SETTINGS["model"].values == tuple(MODELS)
    assert SETTINGS["dataset"].values == DATASET_CHOICES
    assert all(choice.tooltip for choice in SETTINGS["model"].choices)


def test_flags_and_keys_are_unique():
    flags = [row.cli_flag for row in SETTINGS.values() if row.cli_flag]
    keys = [row.settings_key for row in SETTINGS.values() if row.settings_key]
    assert len(flags) == len(set(flags)) and len(keys) == len(set(keys))
    assert SETTINGS["batch_size"].cli_flag == "--batch-size"
    assert SETTINGS["epochs"].settings_key == "training/epochs"


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("epochs", "2147483648", 1000),
        ("epochs", 2147483648, 1000),
        ("epochs", "-5", 1),
        ("epochs", "7", 7),
        ("epochs", "7.0", 7),
        ("epochs", "seven", 5),
        ("epochs", None, 5),
        ("epochs", [1, 2], 5),
        ("epochs", "9" * 5000, 1000),
        ("seed", "99999999999999999999", QT_INT_MAX),
        ("batch_size", "1e30", 65536),
        ("lr", "nan", 0.01),
        ("lr", "inf", 0.01),
        ("lr", "-1", 1e-5),
        ("lr", "0.05", 0.05),
        ("momentum", "1e400", 0.9),
        ("model", "transformer", "mlp"),
        ("model", "cnn", "cnn"),
        ("model", 3, "mlp"),
        ("data_dir", "", None),
        ("data_dir", "/x", "/x"),
    ],
)
def test_any_stored_value_restores_to_a_valid_one(name, raw, expected):
    assert restore_value(name, raw) == expected


def test_restored_config_always_validates_and_round_trips():
    garbage = {key: "99999999999999999999" for key in stored_values(TrainConfig())}
    assert restore_config(garbage).validate()
    config = TrainConfig(model="cnn", epochs=3, lr=0.1, seed=42)
    assert restore_config(stored_values(config)) == config


def test_coerce_serves_other_settings_too():
    assert coerce("99999999999999999999", int, 4, 1, 40) == 40
    assert coerce("junk", bool, True) is True
    assert coerce("false", bool, True) is False


def test_validate_uses_the_table():
    with pytest.raises(UserError, match="epochs must be 1..1000"):
        TrainConfig(epochs=1001).validate()
    with pytest.raises(UserError, match="unknown optimizer"):
        TrainConfig(optimizer="rmsprop").validate()
    with pytest.raises(UserError, match="learning rate"):
        TrainConfig(lr=0).validate()


def test_report_cadence_gives_about_a_hundred_points_per_epoch():
    assert report_every(4_000, 64) == 1  # the sample: every batch
    assert report_every(60_000, 64) == 9  # full MNIST: 938 steps -> ~104 points
    assert report_every(60_000, 8192) == 1
    assert report_every(10, 64) == 1
    assert report_every(60_000, 64, live=False) > 10**9  # nobody watching: no batch reports
    # On a GPU a report is a sync that drains the queue: never every batch.
    assert report_every(55_000, 512, device_type="cuda") == 4
    assert report_every(4_000, 8192, device_type="cuda") == 2


def test_presets_are_valid_configs():
    for name in PRESETS:
        config = apply_preset(TrainConfig(), name).validate()
        assert config.batch_size >= 128  # the CPU speed run: 128 (twice the steps of 256)
    speed = apply_preset(TrainConfig(), "speedrun")
    assert (speed.optimizer, speed.schedule) == ("adam", "onecycle")
