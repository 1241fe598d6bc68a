"""Checkpoints: a trained model survives the round trip; anything else is refused, unexecuted."""

from __future__ import annotations

import os
import pickle
import zipfile

import pytest
import torch

from core.checkpoint import FORMAT_VERSION, load_checkpoint, save_checkpoint
from core.data import MnistData, load_sample
from core.errors import CheckpointError
from core.train_types import TrainConfig
from core.trainer import Trainer


@pytest.fixture(scope="module")
def trained():
    sample = load_sample()
    data = MnistData(
        "sample",
        "sample slice",
        sample.train_images[:512],
        sample.train_labels[:512],
        sample.test_images[:100],
        sample.test_labels[:100],
    )
    ended = Trainer(TrainConfig(model="cnn", loss="ce", epochs=1), data=data).run()
    assert ended.status == "finished", ended.reason
    return ended.result


def test_round_trip_keeps_weights_settings_and_metrics(tmp_path, trained):
    path = save_checkpoint(trained.checkpoint, tmp_path / "models" / "cnn.pt")
    assert [p.name for p in path.parent.iterdir()] == ["cnn.pt"]  # no temp file left behind
    loaded = load_checkpoint(path)
    assert (loaded.model_name, loaded.loss) == ("cnn", "ce")
    assert loaded.dataset == "sample slice"
    assert loaded.config["model"] == "cnn" and loaded.config["epochs"] == 1
    assert loaded.metrics["test_accuracy"] == pytest.approx(trained.evaluation.accuracy)
    assert loaded.normalization == (0.1307, 0.3081)
    x = torch.randn(3, 28, 28)
    original = trained.checkpoint.build()
    with torch.no_grad():
        assert torch.equal(loaded.build()(x), original(x))


def test_saving_over_an_existing_file_replaces_it(tmp_path, trained):
    path = tmp_path / "m.pt"
    path.write_bytes(b"old")
    save_checkpoint(trained.checkpoint, path)
    assert load_checkpoint(path).model_name == "cnn"


class _Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True])
def test_hostile_pickle_is_refused_and_never_runs(tmp_path, trained, legacy):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"format": "digit-lab-checkpoint", "format_version": 1, "x": _Hostile(marker)}
    if legacy:
        with open(path, "wb") as handle:
            pickle.dump(payload, handle, protocol=2)
    else:
        torch.save(payload, path)
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(path)
    assert not marker.exists()


def test_files_that_are_not_checkpoints_are_refused(tmp_path, trained):
    cases = {
        "text.pt": b"hello, I am not a model",
        "random.pt": os.urandom(4096),
        "empty.pt": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match=name):
            load_checkpoint(tmp_path / name)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not a Digit Lab model file"):
        load_checkpoint(tmp_path / "plain.pt")
    with zipfile.ZipFile(tmp_path / "zip.pt", "w") as archive:
        archive.writestr("data.txt", "nothing")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "zip.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_newer_format_and_misfit_weights_are_refused(tmp_path, trained):
    path = save_checkpoint(trained.checkpoint, tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = FORMAT_VERSION + 1
    torch.save(payload, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="newer"):
        load_checkpoint(tmp_path / "newer.pt")
    payload["format_version"] = FORMAT_VERSION
    payload["model_name"] = "mlp"  # CNN weights under the MLP's name
    torch.save(payload, tmp_path / "misfit.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(tmp_path / "misfit.pt")


def test_trained_checkpoint_needs_no_code_to_load(tmp_path, trained):
    """Everything the trainer puts in a checkpoint is plain data the weights-only loader accepts."""
    path = save_checkpoint(trained.checkpoint, tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    assert isinstance(payload["config"], dict) and isinstance(payload["metrics"], dict)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("normalization", "0.1,0.3", "normalisation"),
        ("normalization", [0.1], "normalisation"),
        ("normalization", [0.1307, 0.0], "normalisation"),
        ("config", ["not", "a", "dict"], "malformed"),
        ("metrics", {"test_accuracy": "high"}, "test accuracy"),
        ("metrics", {"test_accuracy": 1.5}, "test accuracy"),
    ],
)
def test_malformed_metadata_is_refused_at_load(tmp_path, trained, key, value, match):
    payload = torch.load(save_checkpoint(trained.checkpoint, tmp_path / "m.pt"), weights_only=True)
    payload[key] = value
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(tmp_path / "bad.pt")


def test_non_finite_weights_are_refused(tmp_path, trained):
    payload = torch.load(save_checkpoint(trained.checkpoint, tmp_path / "m.pt"), weights_only=True)
    first = next(iter(payload["state_dict"]))
    payload["state_dict"][first][...] = float("nan")
    torch.save(payload, tmp_path / "nan.pt")
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(tmp_path / "nan.pt")


def test_write_failure_is_a_checkpoint_error(tmp_path, trained, monkeypatch):
    def full_disk(*args, **kwargs):
        raise RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError, match="could not write"):
        save_checkpoint(trained.checkpoint, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []
