"""Checkpoints: one per model, plain data only, written atomically, read weights-only and checked.

The file is ``torch.save`` of a dict of plain Python data and tensors. It is read only with
``torch.load(..., weights_only=True)``: a file that would need code to unpickle is refused, and
no code in it runs. There is deliberately no fallback to ``weights_only=False``.

Reading is bounded by what a Digit Lab model can be: the file is opened once (a folder, a FIFO or
a device is named as such, never waited on), its size and, for a zip archive, every entry's
declared uncompressed size are checked against the largest model in the registry *before*
anything is decompressed, so a small file that inflates to gigabytes is refused unread. What the
unpickler returns is then validated structurally (string keys, dense real floating tensors of the
registry model's shapes, finite weights of sane magnitude, a known format version). Every
refusal is one sentence of our own, in one of four kinds: not a model file, made by another
program, needs code to load, damaged.
"""

from __future__ import annotations

import errno
import functools
import io
import math
import os
import pickle
import pickletools
import stat
import warnings
import zipfile
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core import __version__
from core.data.datasets import MNIST_MEAN, MNIST_STD
from core.errors import CheckpointError
from core.storage.atomic import atomic_path
from core.storage.model_schema import (
    check_normalization,
    check_ood,
    check_record,
    check_tensor_basics,
)
from core.storage.safe_read import kind_of
from core.training.models import LOSS_CHOICES, MODELS, build_model

FORMAT = "digit-lab-checkpoint"
FORMAT_VERSION = 1
# Weights are accepted in these dtypes (cast to the model's float32 when built); complex and
# integer tensors are refused: loading them would silently drop the imaginary part or mean
# that something other than trained weights is in the file.
WEIGHT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
MAX_WEIGHT = 1e4  # no trained MNIST weight comes near; larger means a broken or forged file
METADATA_BYTES = 1 << 20  # data.pkl and the small records beside it (settings, metrics, stats)
TEMPERATURE_RANGE = (0.05, 20.0)  # softmax temperatures a calibrated model can sensibly have


@dataclass
class Checkpoint:
    """A trained model and what is needed to trust and reuse it.

    ``temperature`` is the calibration temperature T (``core.inference.calibration.fit_temperature``): the
    probabilities shown are ``softmax(outputs / T)``; 1.0 means uncalibrated (files written
    before calibration existed read as 1.0). ``ood`` holds the "is this a digit?" statistics as
    plain data (``core.inference.ood.OodStats.to_payload``), or None.
    """

    model_name: str
    loss: str
    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    dataset: str = ""
    normalization: tuple[float, float] = (MNIST_MEAN, MNIST_STD)
    app_version: str = __version__
    temperature: float = 1.0
    ood: dict[str, Any] | None = None

    @classmethod
    def from_model(cls, model: nn.Module, model_name: str, loss: str, **kwargs: Any) -> Checkpoint:
        state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
        return cls(model_name=model_name, loss=loss, state_dict=state, **kwargs)

    def build(self, device: torch.device | str = "cpu") -> nn.Module:
        """The model with these weights, in eval mode, on ``device``."""
        model = build_model(self.model_name, self.loss)
        try:
            model.load_state_dict(self.state_dict)
        except RuntimeError as exc:
            raise CheckpointError(
                f"weights do not fit model {self.model_name!r}: {str(exc).splitlines()[0]}"
            ) from None
        return model.to(device).eval()

    def probabilities(self, outputs: torch.Tensor, *, calibrated: bool = True) -> torch.Tensor:
        """Class probabilities from the model's outputs (logits or log-probabilities).

        ``softmax(outputs / T)`` when ``calibrated``; dividing log-probabilities by T gives the
        same result as dividing logits, since softmax ignores the per-row constant.
        """
        scale = self.temperature if calibrated else 1.0
        return torch.softmax(outputs.float() / scale, dim=-1)

    @property
    def is_calibrated(self) -> bool:
        return self.temperature != 1.0

    @property
    def test_accuracy(self) -> float | None:
        value = self.metrics.get("test_accuracy")
        return float(value) if value is not None else None

    def summary(self) -> str:
        """One line for the UI: name, dataset, accuracy."""
        acc = self.test_accuracy
        acc_text = f"{acc:.1%} test accuracy" if acc is not None else "accuracy unknown"
        dataset = self.dataset or "unknown data"
        return (
            f"{MODELS[self.model_name].title if self.model_name in MODELS else self.model_name}"
            f" ({self.loss}) trained on {dataset}, {acc_text}"
        )


def _plain(value: Any) -> Any:
    """Dataclasses and tuples to dicts and lists, so weights-only loading accepts them."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def save_checkpoint(checkpoint: Checkpoint, path: str | os.PathLike[str]) -> Path:
    """Write ``checkpoint`` to ``path`` atomically (temp file in the same folder, then replace)."""
    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_name": checkpoint.model_name,
        "loss": checkpoint.loss,
        "state_dict": checkpoint.state_dict,
        "config": _plain(checkpoint.config),
        "metrics": _plain(checkpoint.metrics),
        "dataset": checkpoint.dataset,
        "normalization": [float(x) for x in checkpoint.normalization],
        "app_version": checkpoint.app_version,
        "temperature": float(checkpoint.temperature),
    }
    if checkpoint.ood is not None:
        payload["ood"] = _plain(checkpoint.ood)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
    except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as RuntimeError
        raise CheckpointError(
            f"could not write the model file {path}: {_write_problem(exc)}"
        ) from None
    return path


def _write_problem(exc: BaseException) -> str:
    """Why a save failed, in words (never torch's text or our temp file's name)."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOSPC or "file write failed" in text or "unexpected pos" in text:
        return "the disk is full"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is not writable"
    if code == errno.ENAMETOOLONG:
        return "the path is too long"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


# ------------------------------------------------------------------ reading
def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint safely; any problem becomes a one-sentence ``CheckpointError``.

    Peak memory is bounded by ``max_file_bytes()`` plus the decoded weights, whatever the file
    claims: sizes are checked before anything is decompressed or unpickled.
    """
    path = Path(path)
    label = _label(path)
    raw = read_model_bytes(path, max_file_bytes())
    if not raw:
        raise CheckpointError(f"{label} is empty, not a model file")
    if raw.startswith(b"PK\x03\x04"):
        pickle_bytes = _check_archive(raw, label)
    elif raw[:1] == b"\x80":  # a pickle: torch's legacy format, or a bare pickle
        pickle_bytes = raw
    else:
        raise CheckpointError(f"{label} is not a model file (it holds no PyTorch data)")
    payload = _unpickle(raw, pickle_bytes, label)
    return _from_payload(payload, label)


def _label(path: Path) -> str:
    """The file's name as messages show it (long names shortened)."""
    name = path.name or str(path)
    return repr(name if len(name) <= 80 else f"{name[:40]}…{name[-30:]}")


@functools.cache
def max_weight_bytes() -> int:
    """The most bytes of weights any registry model can hold (float64, the widest dtype)."""
    sizes = []
    for name in MODELS:
        state = build_model(name).state_dict()
        sizes.append(sum(t.numel() for t in state.values()) * 8)
    return max(sizes)


@functools.cache
def _max_tensors() -> int:
    return max(len(build_model(name).state_dict()) for name in MODELS)


def max_file_bytes() -> int:
    """No Digit Lab model file is larger: the weights plus the metadata records."""
    return max_weight_bytes() + 2 * METADATA_BYTES


def read_model_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing what is not a readable regular file or is over ``limit``.

    Opened non-blocking, then checked with ``fstat``: a FIFO is named, never waited on, and the
    check is on the very file that is read (no race between "is it a file?" and the read).
    """
    label = _label(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise CheckpointError(_open_problem(path, label, exc)) from None
    try:
        mode = os.fstat(fd)
        if not stat.S_ISREG(mode.st_mode):
            raise CheckpointError(f"model file {label} is {kind_of(mode.st_mode)}, not a file")
        if mode.st_size > limit:
            raise CheckpointError(_too_large(label, mode.st_size, limit))
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                raise CheckpointError(_too_large(label, total, limit))
        return b"".join(chunks)
    except OSError as exc:
        raise CheckpointError(f"model file {label} could not be read ({_strerror(exc)})") from None
    finally:
        os.close(fd)


def _too_large(label: str, size: int, limit: int) -> str:
    return (
        f"{label} is not a Digit Lab model: it holds {size / 1e6:.1f} MB, and a Digit Lab model "
        f"file is at most {limit / 1e6:.1f} MB"
    )


def _strerror(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _open_problem(path: Path, label: str, exc: OSError) -> str:
    """One sentence for a model path that cannot be opened, naming what is wrong with it."""
    code = exc.errno
    if code == errno.ENOENT:
        if os.path.lexists(path):
            return f"model file {label} is a link to something that does not exist"
        return f"model file {str(path)!r} does not exist"
    if code == errno.ELOOP:
        return f"model file {label} is a symbolic link that loops back on itself"
    if code == errno.ENAMETOOLONG:
        return (
            f"the model path is too long for this system ({len(str(path))} characters, "
            f"longest name {max((len(p) for p in path.parts), default=0)})"
        )
    if code in (errno.EACCES, errno.EPERM):
        return f"model file {label} cannot be read: permission denied"
    if code == errno.ENOTDIR:
        return f"model file {str(path)!r} does not exist (part of its path is not a folder)"
    if code == errno.EISDIR:
        return f"model file {label} is a folder, not a file"
    return f"model file {label} could not be opened ({_strerror(exc)})"


def _check_archive(raw: bytes, label: str) -> bytes:
    """Check a zip checkpoint's table of contents against what a model can hold; its pickle.

    Only the central directory is read here; the declared uncompressed sizes bound what the
    loader will allocate (it allocates by those sizes), so a bomb is refused before inflating.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise CheckpointError(
            f"{label} is damaged (cut short or corrupted) and cannot be read"
        ) from None
    pickles = [e for e in entries if e.filename.rsplit("/", 1)[-1] == "data.pkl"]
    if len(pickles) != 1:
        raise CheckpointError(f"{label} is a zip archive of something else, not a model file")
    weights = sum(e.file_size for e in entries if "/data/" in f"/{e.filename}")
    others = [e for e in entries if "/data/" not in f"/{e.filename}"]
    if (
        weights > max_weight_bytes()
        or any(e.file_size > METADATA_BYTES for e in others)
        or len(entries) > _max_tensors() + 64
    ):
        declared = sum(e.file_size for e in entries)
        raise CheckpointError(
            f"{label} was refused unread: it unpacks to {declared / 1e6:,.0f} MB, and a Digit Lab "
            f"model holds at most {max_file_bytes() / 1e6:.1f} MB"
        )
    try:
        if archive.testzip() is not None:
            raise zipfile.BadZipFile("checksum")
        return archive.read(pickles[0])
    except Exception:  # a bad checksum, a truncated or malformed entry
        raise CheckpointError(
            f"{label} is damaged (cut short or corrupted) and cannot be read"
        ) from None


def _well_formed_pickle(data: bytes) -> bool:
    """True if ``data`` starts with a complete, parseable pickle (without running any of it)."""
    try:
        for _ in pickletools.genops(io.BytesIO(data)):
            pass
    except Exception:  # any malformation: truncated, bad opcode, bad argument
        return False
    return True


def _unpickle(raw: bytes, pickle_bytes: bytes, label: str) -> Any:
    """``torch.load`` weights-only, its failures sorted into our own sentences.

    A well-formed pickle that the weights-only reader refuses references code (a class or a
    function to call): "needs code to load". Anything else the reader trips over is damage.
    Warnings the reader raises on odd files are ours to judge, not the user's stderr.
    """
    zipped = raw.startswith(b"PK")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if _well_formed_pickle(pickle_bytes):
            raise CheckpointError(
                f"{label} was refused: it needs to run code to load, and Digit Lab opens only "
                "files that hold plain weights and settings"
            ) from None
        problem = "is damaged (cut short or corrupted) and cannot be read"
    except Exception:  # arbitrary bytes can trip the reader anywhere (KeyError, IndexError...)
        problem = "is damaged (cut short or corrupted) and cannot be read"
    if not zipped:
        problem = "is not a model file (it holds no PyTorch data Digit Lab can read)"
    raise CheckpointError(f"{label} {problem}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_header(payload: Any, name: str) -> tuple[str, str]:
    """The model kind and loss, once the payload is known to be ours and of a readable version."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        bare = (
            isinstance(payload, dict)
            and payload
            and all(isinstance(v, torch.Tensor) for v in payload.values())
        )
        what = "bare PyTorch weights" if bare else "PyTorch data"
        raise CheckpointError(
            f"{name} was made by another program, not Digit Lab: it holds {what} without a "
            "Digit Lab model description"
        )
    version = payload.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{name} has an invalid format version {version!r:.40}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} was written by a newer Digit Lab (format {version}); "
            f"this version reads format {FORMAT_VERSION}"
        )
    model_name, loss = payload.get("model_name"), payload.get("loss")
    if not isinstance(model_name, str) or model_name not in MODELS:
        raise CheckpointError(f"{name} holds an unknown model {model_name!r:.40}")
    if not isinstance(loss, str) or loss not in LOSS_CHOICES:
        raise CheckpointError(f"{name} holds an unknown loss {loss!r:.40}")
    return model_name, loss


def _check_weights(state: Any, model_name: str, name: str) -> dict[str, torch.Tensor]:
    """Refuse weights that are not exactly the registry model's: keys, layout, dtype, shape, size.

    Floating-point entries may be any real floating dtype (they are cast when built); the few
    non-floating buffers a model has (BatchNorm's batch counter) must have the model's own dtype.
    """
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"{name} has no usable weights")
    reference = build_model(model_name).state_dict()
    if not all(isinstance(k, str) for k in state):
        raise CheckpointError(f"{name} has weights under names that are not text")
    if set(state) != set(reference):
        odd = sorted(set(reference) - set(state)) or sorted(set(state) - set(reference))
        raise CheckpointError(
            f"{name}: weights do not fit model {model_name!r} (at {odd[0][:40]!r})"
        )
    for key, tensor in state.items():
        _check_tensor(tensor, reference[key], key, model_name, name)
    return {k: v.contiguous() for k, v in state.items()}


def _check_tensor(
    tensor: Any, expected: torch.Tensor, key: str, model_name: str, name: str
) -> None:
    if not isinstance(tensor, torch.Tensor) or tensor.layout != torch.strided:
        raise CheckpointError(f"{name} has weight {key[:40]!r} that is not a plain dense tensor")
    check_tensor_basics(tensor, f"weight {key[:40]}", name)
    floating = expected.is_floating_point()
    allowed = WEIGHT_DTYPES if floating else (expected.dtype,)
    if tensor.is_quantized or tensor.dtype not in allowed:
        kind = "real floating-point numbers" if floating else str(expected.dtype)[6:]
        raise CheckpointError(
            f"{name} has weight {key[:40]!r} of type {str(tensor.dtype).removeprefix('torch.')}"
            f"; this model's {key[:40]!r} holds {kind}"
        )
    if tuple(tensor.shape) != tuple(expected.shape):
        raise CheckpointError(
            f"{name}: weights do not fit model {model_name!r} ({key} is "
            f"{tuple(tensor.shape)}, the model needs {tuple(expected.shape)})"
        )
    if floating and not torch.isfinite(tensor).all():
        raise CheckpointError(f"{name} has weights that are NaN or infinite (a diverged run?)")
    if floating and tensor.numel() and float(tensor.abs().max()) > MAX_WEIGHT:
        raise CheckpointError(
            f"{name} has weights over {MAX_WEIGHT:g} in magnitude (a broken run?)"
        )


def _check_extras(payload: dict, name: str) -> tuple[tuple[float, float], float]:
    """The normalisation and temperature, validated (both optional, with old defaults)."""
    norm = payload.get("normalization")
    normalization = check_normalization([MNIST_MEAN, MNIST_STD] if norm is None else norm, name)
    temperature = payload.get("temperature", 1.0)
    low, high = TEMPERATURE_RANGE
    if not (_is_number(temperature) and low <= temperature <= high):
        raise CheckpointError(
            f"{name} has a calibration temperature {temperature!r:.40} outside {low}..{high}"
        )
    return normalization, float(temperature)


def _from_payload(payload: Any, name: str) -> Checkpoint:
    model_name, loss = _check_header(payload, name)
    state = _check_weights(payload.get("state_dict"), model_name, name)
    config = payload.get("config") or {}
    metrics = payload.get("metrics") or {}
    if not isinstance(config, dict) or not isinstance(metrics, dict):
        raise CheckpointError(f"{name} has malformed settings or metrics")
    check_record(config, name, "settings")
    check_record(metrics, name, "metrics")
    for key in ("dataset", "app_version"):
        if not isinstance(payload.get(key) or "", str):
            raise CheckpointError(f"{name} has a {key.replace('_', ' ')} that is not text")
    accuracy = metrics.get("test_accuracy")
    if accuracy is not None and not (_is_number(accuracy) and 0 <= accuracy <= 1):
        raise CheckpointError(f"{name} states a test accuracy {accuracy!r:.40} that is not in 0..1")
    normalization, temperature = _check_extras(payload, name)
    ood = payload.get("ood")
    if ood is not None:
        check_ood(ood, build_model(model_name, loss), name)
    checkpoint = Checkpoint(
        model_name=model_name,
        loss=loss,
        state_dict=state,
        config=dict(config),
        metrics=dict(metrics),
        dataset=str(payload.get("dataset") or "")[:200],
        normalization=normalization,
        app_version=str(payload.get("app_version") or "")[:40],
        temperature=temperature,
        ood=ood,
    )
    checkpoint.build()  # refuse weights that do not fit the model now, not at first use
    return checkpoint
