"""Checkpoints: a model survives the round trip; anything else is refused, unexecuted, in a sentence."""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from pathlib import Path

import pytest
import torch

from core.errors import CheckpointError
from core.storage import checkpoint as checkpoint_module
from core.storage.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    load_checkpoint,
    max_file_bytes,
    save_checkpoint,
)
from core.training.models import MODELS, build_model


def make_checkpoint(model_name: str = "cnn", loss: str = "ce", seed: int = 0) -> Checkpoint:
    torch.manual_seed(seed)
    return Checkpoint.from_model(
        build_model(model_name, loss),
        model_name,
        loss,
        config={"model": model_name, "epochs": 1},
        metrics={"test_accuracy": 0.91},
        dataset="sample slice",
    )


@pytest.fixture
def saved(tmp_path) -> Path:
    return save_checkpoint(make_checkpoint(), tmp_path / "good.pt")


def payload_of(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def refusal(path: Path) -> str:
    """The one sentence a refused file gets; it must be ours, not torch's."""
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message
    for torch_text in ("weights_only", "torch.load", "Traceback", "pickle", "GLOBAL"):
        assert torch_text not in message, message
    return message


# ------------------------------------------------------------------ round trip
def test_round_trip_keeps_weights_settings_metrics_and_calibration(tmp_path):
    original = make_checkpoint()
    original.temperature = 1.7
    original.ood = {"method": "energy", "threshold": -3.5, "scales": [[0.0, 1.0]], "fitted_on": 90}
    path = save_checkpoint(original, tmp_path / "models" / "cnn.pt")
    assert [p.name for p in path.parent.iterdir()] == ["cnn.pt"]  # no temp file left behind
    loaded = load_checkpoint(path)
    assert (loaded.model_name, loaded.loss, loaded.dataset) == ("cnn", "ce", "sample slice")
    assert loaded.config["epochs"] == 1 and loaded.test_accuracy == pytest.approx(0.91)
    assert loaded.normalization == (0.1307, 0.3081)
    assert loaded.temperature == pytest.approx(1.7) and loaded.is_calibrated
    assert loaded.ood == {
        "method": "energy",
        "threshold": -3.5,
        "scales": [[0.0, 1.0]],
        "fitted_on": 90,
    }
    x = torch.randn(3, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded.build()(x), original.build()(x))


def test_files_from_before_calibration_read_as_uncalibrated(tmp_path, saved):
    payload = payload_of(saved)
    del payload["temperature"]
    torch.save(payload, tmp_path / "old.pt")
    old = load_checkpoint(tmp_path / "old.pt")
    assert old.temperature == 1.0 and not old.is_calibrated and old.ood is None


def test_probabilities_apply_the_temperature_to_either_head():
    logits = torch.tensor([[2.0, 0.0, -1.0]])
    checkpoint = make_checkpoint()
    checkpoint.temperature = 2.0
    expected = torch.softmax(logits / 2.0, dim=1)
    assert torch.allclose(checkpoint.probabilities(logits), expected)
    # log-probabilities (the nll head) give the same calibrated probabilities as logits
    assert torch.allclose(checkpoint.probabilities(torch.log_softmax(logits, dim=1)), expected)
    assert torch.allclose(checkpoint.probabilities(logits, calibrated=False), logits.softmax(1))


def test_saving_over_an_existing_file_replaces_it(tmp_path):
    path = tmp_path / "m.pt"
    path.write_bytes(b"old")
    save_checkpoint(make_checkpoint(), path)
    assert load_checkpoint(path).model_name == "cnn"


def test_bundled_model_still_loads():
    from core.resources import bundled_model_file

    checkpoint = load_checkpoint(bundled_model_file())
    assert checkpoint.model_name in MODELS and checkpoint.test_accuracy >= 0.99


# ------------------------------------------------- four kinds of bad model file
class _Hostile:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True])
def test_files_that_need_code_are_refused_and_never_run(tmp_path, legacy):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"format": "digit-lab-checkpoint", "format_version": 1, "x": _Hostile(marker)}
    if legacy:
        with open(path, "wb") as handle:
            pickle.dump(payload, handle, protocol=2)
    else:
        torch.save(payload, path)
    message = refusal(path)
    assert "evil.pt" in message and "needs to run code" in message
    assert "disable" not in message and "trust" not in message
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("text.pt", b"hello, I am not a model\n", "is not a model file"),
        ("random.pt", bytes(range(7, 256)) * 17, "is not a model file"),
        ("protocol-only.pt", b"\x80\x04garbage that is no pickle", "is not a model file"),
        ("empty.pt", b"", "is empty, not a model file"),
    ],
)
def test_files_that_are_not_model_files_say_so(tmp_path, name, content, kind):
    (tmp_path / name).write_bytes(content)
    message = refusal(tmp_path / name)
    assert name in message and kind in message and "run code" not in message


def test_random_bytes_are_never_called_code(tmp_path):
    for seed in range(20):
        generator = torch.Generator().manual_seed(seed)
        data = torch.randint(0, 256, (4096,), dtype=torch.uint8, generator=generator)
        (tmp_path / "r.pt").write_bytes(bytes(data.tolist()))
        assert "not a model file" in refusal(tmp_path / "r.pt")


@pytest.mark.parametrize(
    ("payload", "what"),
    [
        ({"fc1.weight": torch.zeros(3, 3)}, "bare PyTorch weights"),
        ({"epoch": 3, "model": {"w": torch.zeros(2)}}, "PyTorch data"),
        ([torch.zeros(2)], "PyTorch data"),
    ],
)
def test_files_made_by_other_programs_say_so(tmp_path, payload, what):
    torch.save(payload, tmp_path / "other.pt")
    message = refusal(tmp_path / "other.pt")
    assert "made by another program" in message and what in message


def test_a_zip_of_something_else_is_not_a_model_file(tmp_path):
    with zipfile.ZipFile(tmp_path / "zip.pt", "w") as archive:
        archive.writestr("data.txt", "nothing")
    assert "zip archive of something else" in refusal(tmp_path / "zip.pt")


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_truncated_files_are_damaged(tmp_path, saved, cut):
    data = saved.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: int(len(data) * cut)])
    assert "is damaged" in refusal(tmp_path / "cut.pt")


def test_a_flipped_byte_in_the_weights_is_damage(tmp_path, saved):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("/data/4"))
    data[info.header_offset + 200] ^= 0xFF  # inside fc1.weight, after the local header
    (tmp_path / "flipped.pt").write_bytes(bytes(data))
    assert "is damaged" in refusal(tmp_path / "flipped.pt")


# ---------------------------------------------------------- memory is bounded
def write_bomb(source: Path, target: Path, inflated: int) -> None:
    """``source`` with its first weight entry replaced by ``inflated`` zeros, deflated."""
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            if info.filename.endswith("/data/0"):
                entry = zipfile.ZipInfo(info.filename)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(entry, "w", force_zip64=True) as out:
                    for _ in range(inflated // len(chunk)):
                        out.write(chunk)
            else:
                zout.writestr(info, zin.read(info))


def test_a_small_file_that_inflates_to_much_more_is_refused_unread(tmp_path, saved, monkeypatch):
    bomb = tmp_path / "bomb.pt"
    write_bomb(saved, bomb, 64 << 20)
    assert bomb.stat().st_size < max_file_bytes()  # small on disk: only its contents give it away

    def must_not_run(*args, **kwargs):
        raise AssertionError("the bomb reached torch.load")

    monkeypatch.setattr(checkpoint_module.torch, "load", must_not_run)
    message = refusal(bomb)
    assert "refused unread" in message and "68 MB" in message


def test_a_file_larger_than_any_model_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.pt"
    with open(big, "wb") as handle:
        handle.truncate(max_file_bytes() + 1)  # sparse: no disk used
    assert "at most" in refusal(big)


# ------------------------------------------------------------ structure checks
@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: {**{1: s.pop("conv1.weight")}, **s}, "not text"),
        (lambda s: s.update({"conv1.weight": s["conv1.weight"].to_sparse()}), "dense"),
        (lambda s: s.update({"fc2.bias": s["fc2.bias"].to(torch.complex64)}), "complex64"),
        (lambda s: s.update({"fc2.bias": s["fc2.bias"].to(torch.int64)}), "int64"),
        (lambda s: s.update({"fc2.bias": s["fc2.bias"].to(torch.bool)}), "bool"),
        (lambda s: s.update({"fc2.bias": torch.zeros(11)}), r"\(11,\)"),
        (lambda s: s.update({"extra.weight": torch.zeros(1)}), "extra.weight"),
        (lambda s: s.pop("fc2.bias"), "fc2.bias"),
        (lambda s: s.update({"fc2.bias": "not a tensor"}), "dense tensor"),
        (lambda s: s["fc2.bias"].fill_(float("nan")), "NaN"),
        (lambda s: s["fc2.bias"].fill_(float("inf")), "NaN or infinite"),
        (lambda s: s["fc2.bias"].fill_(2e4), "magnitude"),
        (lambda s: s.clear(), "no usable weights"),
    ],
)
def test_weights_are_checked_against_the_registry_model(tmp_path, saved, change, match):
    payload = payload_of(saved)
    result = change(payload["state_dict"])
    if isinstance(result, dict):
        payload["state_dict"] = result
    torch.save(payload, tmp_path / "bad.pt")
    message = refusal(tmp_path / "bad.pt")
    assert "bad.pt" in message
    assert re.search(match, message), message


def test_half_precision_weights_are_accepted(tmp_path, saved):
    payload = payload_of(saved)
    payload["state_dict"] = {k: v.half() for k, v in payload["state_dict"].items()}
    torch.save(payload, tmp_path / "half.pt")
    assert load_checkpoint(tmp_path / "half.pt").build()(torch.zeros(1, 28, 28)).dtype == (
        torch.float32
    )


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("format_version", FORMAT_VERSION + 1, "newer"),
        ("format_version", "1", "invalid format version"),
        ("format_version", True, "invalid format version"),
        ("format_version", 0, "invalid format version"),
        ("format_version", 2**80, "newer"),
        ("model_name", "mlp", "do not fit"),
        ("model_name", ["cnn"], "unknown model"),
        ("loss", None, "unknown loss"),
        ("normalization", "0.1,0.3", "normalisation"),
        ("normalization", [0.1], "normalisation"),
        ("normalization", [0.1307, 0.0], "normalisation"),
        ("config", ["not", "a", "dict"], "malformed"),
        ("metrics", {"test_accuracy": "high"}, "test accuracy"),
        ("metrics", {"test_accuracy": 1.5}, "test accuracy"),
        ("temperature", 0.0, "temperature"),
        ("temperature", float("nan"), "temperature"),
        ("temperature", "2", "temperature"),
        ("ood", [1, 2], "statistics"),
    ],
)
def test_malformed_metadata_is_refused_at_load(tmp_path, saved, key, value, match):
    payload = payload_of(saved)
    payload[key] = value
    torch.save(payload, tmp_path / "bad.pt")
    assert match in refusal(tmp_path / "bad.pt")


# ------------------------------------------------------------ paths that are odd
def test_paths_that_are_not_files_are_named_as_such(tmp_path):
    (tmp_path / "folder.pt").mkdir()
    assert "is a folder" in refusal(tmp_path / "folder.pt")
    os.mkfifo(tmp_path / "pipe.pt")
    assert "is a pipe (FIFO)" in refusal(tmp_path / "pipe.pt")  # named, never waited on
    os.symlink(tmp_path / "loop-b.pt", tmp_path / "loop-a.pt")
    os.symlink(tmp_path / "loop-a.pt", tmp_path / "loop-b.pt")
    assert "loops back on itself" in refusal(tmp_path / "loop-a.pt")
    os.symlink(tmp_path / "gone.pt", tmp_path / "dangling.pt")
    assert "link to something that does not exist" in refusal(tmp_path / "dangling.pt")
    assert "does not exist" in refusal(tmp_path / "missing.pt")


def test_a_path_under_a_file_is_missing_in_words(tmp_path, saved):
    assert "part of its path is not a folder" in refusal(saved / "m.pt")


def test_a_name_too_long_for_the_system_is_one_sentence(tmp_path):
    message = refusal(tmp_path / ("m" * 300 + ".pt"))
    assert "too long" in message and len(message) < 200


def test_an_unreadable_file_is_one_sentence(tmp_path, saved, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checkpoint_module.os, "open", denied)
    assert "cannot be read: permission denied" in refusal(saved)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_in_an_unreadable_folder_is_one_sentence(tmp_path, saved):
    os.chmod(tmp_path, 0)
    try:
        assert "permission denied" in refusal(saved)
    finally:
        os.chmod(tmp_path, 0o755)


# ------------------------------------------------------------------ writing
def test_a_full_disk_is_said_in_words(tmp_path, monkeypatch):
    def full_disk(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(make_checkpoint(), tmp_path / "m.pt")
    assert "disk is full" in str(info.value) and "enforce" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no temp file of ours left behind


def test_any_corruption_is_a_model_or_one_sentence(tmp_path, saved):
    """Property: whatever bytes change or go missing, the loader returns a checked model or
    refuses in one sentence of ours; no other exception escapes."""
    original = saved.read_bytes()
    generator = torch.Generator().manual_seed(7)
    outcomes = {"loaded": 0, "refused": 0}
    for trial in range(60):
        data = bytearray(original)
        if trial % 3 == 0:
            data = data[: int(torch.randint(1, len(data), (1,), generator=generator))]
        else:
            for position in torch.randint(0, len(data), (1 + trial % 5,), generator=generator):
                data[int(position)] = int(torch.randint(0, 256, (1,), generator=generator))
        path = tmp_path / f"mutant{trial}.pt"
        path.write_bytes(bytes(data))
        try:
            loaded = load_checkpoint(path)
        except CheckpointError as exc:
            assert "\n" not in str(exc) and path.name in str(exc)
            outcomes["refused"] += 1
        else:
            assert all(torch.isfinite(t).all() for t in loaded.state_dict.values())
            outcomes["loaded"] += 1
    assert outcomes["refused"] >= 30  # most corruptions are caught (zip checksums)


def test_an_impossible_target_folder_is_one_sentence(tmp_path, saved):
    with pytest.raises(CheckpointError, match="could not write") as info:
        save_checkpoint(make_checkpoint(), saved / "inside-a-file" / "m.pt")
    assert ".tmp" not in str(info.value)
    with pytest.raises(CheckpointError, match="path is too long"):
        save_checkpoint(make_checkpoint(), tmp_path / ("d" * 300) / "m.pt")


def test_models_with_integer_buffers_round_trip(tmp_path):
    """BatchNorm's batch counter is an int64 buffer of the model itself: accepted as such."""
    from core.training.models import MODELS

    for name in MODELS:
        checkpoint = make_checkpoint(name)
        for tensor in checkpoint.state_dict.values():
            if not tensor.is_floating_point():
                tensor.fill_(123_456)  # counts batches: may exceed the weights' bound
        loaded = load_checkpoint(save_checkpoint(checkpoint, tmp_path / f"{name}.pt"))
        assert loaded.model_name == name
    if "cnn-bn" in MODELS:
        payload = payload_of(save_checkpoint(make_checkpoint("cnn-bn"), tmp_path / "bn.pt"))
        counter = next(k for k, v in payload["state_dict"].items() if not v.is_floating_point())
        payload["state_dict"][counter] = payload["state_dict"][counter].float()
        torch.save(payload, tmp_path / "bn-float.pt")
        assert "holds int64" in refusal(tmp_path / "bn-float.pt")
