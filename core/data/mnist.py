"""MNIST-shaped data in memory: the bundled sample, full MNIST, Fashion-MNIST and KMNIST in
torchvision's folder layout (``core.data.datasets`` lists them), and IDX files.

Everything is decoded once into uint8 tensors; the trainer normalises and slices batches from
them, so no per-sample Python work (PIL, transforms) ever happens in the training loop.

Folder layout is torchvision's: ``DIR/MNIST/raw/train-images-idx3-ubyte`` (gzipped or not;
``DIR/FashionMNIST/raw``, ``DIR/KMNIST/raw`` for the others), so a folder that torchvision
downloaded works here and the other way round.
"""

from __future__ import annotations

import errno
import gzip as gzip_module
import http.client
import math
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from core.data.datasets import (
    DATASET_CHOICES,
    IDX_DATASETS,
    MNIST,
    MNIST_MEAN,
    MNIST_STD,
    DatasetInfo,
)
from core.data.digits import (  # noqa: F401  (re-exported: most callers import them from here)
    HELD_OUT_SEED,
    IMAGE_SIDE,
    NUM_CLASSES,
    MnistData,
)
from core.data.http_fetch import FetchCancelled, check_mirror, one_line, stream_to_file
from core.errors import DataError, UserError, os_problem
from core.resources import default_mnist_dir, sample_data_dir
from core.storage.atomic import write_bytes_atomic
from core.storage.paths import check_folder, is_dir, is_file
from core.storage.safe_read import open_stream

# (split, kind) -> file stem, as torchvision names them.
FILE_STEMS = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
_IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
_LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension


def normalize(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 images to float32 normalised as in training (ToTensor then Normalize).

    In place on one new float32 tensor: full MNIST would otherwise hold three 188 MB temporaries.
    """
    return images_uint8.to(torch.float32).div_(255.0).sub_(MNIST_MEAN).div_(MNIST_STD)


def _describe(title: str, train: int, test: int) -> str:
    return f"{title} ({train:,} train / {test:,} test)"


# ----------------------------------------------------------------------------- IDX reading


# The memory an IDX file's header may ask for (items x 784 bytes of images), checked before a
# byte of data is read: the reader allocates what the header announces and training holds a few
# copies, so 1,000,000 announced digits (784 MB, then 5.3 GB in training) are refused here.
# 128 MiB is 171,196 digits: MNIST's 60,000 and EMNIST-sized sets fit.
IDX_MEMORY_BUDGET = 128 << 20
MAX_IDX_ITEMS = IDX_MEMORY_BUDGET // (IMAGE_SIDE * IMAGE_SIDE)


@contextmanager
def _open_idx(path: Path) -> Iterator[BinaryIO]:
    """The file's decompressed byte stream; gzip and read errors become ``DataError``."""
    try:
        # A regular file only (a FIFO or /dev/zero here is named, never read), of sane size.
        with open_stream(path, "idx", "the dataset file", DataError) as raw:
            stream: BinaryIO = gzip_module.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw
            yield stream
    except (EOFError, gzip_module.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"{path} is a damaged gzip file ({exc}); delete it and fetch it again"
        ) from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {os_problem(exc)}") from None


def _read_exactly(stream: BinaryIO, count: int) -> bytearray:
    """Up to ``count`` bytes, fewer only at the end of the stream; never more in memory."""
    buffer = bytearray(count)
    view, done = memoryview(buffer), 0
    while done < count:
        got = stream.readinto(view[done:])
        if not got:
            break
        done += got
    del view
    if done < count:
        del buffer[done:]
    return buffer


def _idx_dims(path: Path, stream: BinaryIO, kind: str) -> tuple[int, ...]:
    """Read and check an IDX header (magic, shape, announced size) before any data."""
    ndim = 3 if kind == "images" else 1
    header = bytes(_read_exactly(stream, 4 + 4 * ndim))
    if len(header) < 4 + 4 * ndim:
        raise DataError(f"{path} is truncated: {len(header)} bytes, shorter than an IDX header")
    magic = struct.unpack(">I", header[:4])[0]
    expected_magic = _IMAGES_MAGIC if kind == "images" else _LABELS_MAGIC
    if magic != expected_magic:
        raise DataError(
            f"{path} is not an MNIST {kind} file (IDX magic number {magic:#010x}, "
            f"expected {expected_magic:#010x})"
        )
    dims = struct.unpack(f">{ndim}I", header[4:])
    if kind == "images" and dims[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{path} holds {dims[1]}x{dims[2]} images; MNIST images are 28x28")
    if dims[0] > MAX_IDX_ITEMS:
        needed = dims[0] * IMAGE_SIDE * IMAGE_SIDE
        raise DataError(
            f"{path} announces {dims[0]:,} {kind} ({needed / 1e6:,.0f} MB of digits), more than "
            f"the {MAX_IDX_ITEMS:,} ({IDX_MEMORY_BUDGET / 1e6:,.0f} MB) Digit Lab reads"
        )
    return dims


def read_idx(path: str | os.PathLike[str], kind: str) -> torch.Tensor:
    """Decode one MNIST IDX file (``kind`` "images" or "labels"), checking every size.

    Returns uint8 (N, 28, 28) for images and int64 (N,) for labels; a truncated, foreign or
    corrupt file raises ``DataError`` naming the file and what is wrong. The file is streamed:
    the header is checked first and only the bytes it announces are decompressed (plus one to
    detect trailing junk), so a small gzip file that inflates to gigabytes costs no more memory
    than the digits its header promises.
    """
    path = Path(path)
    with _open_idx(path) as stream:
        dims = _idx_dims(path, stream, kind)
        expected = math.prod(dims)
        data = _read_exactly(stream, expected)
        if len(data) < expected:
            raise DataError(
                f"{path} is truncated: the header announces {dims[0]:,} {kind} "
                f"({expected:,} bytes) but only {len(data):,} bytes follow"
            )
        if stream.read(1):
            raise DataError(f"{path} is corrupt: unexpected bytes after the {dims[0]:,} {kind}")
    tensor = (
        torch.frombuffer(data, dtype=torch.uint8).reshape(dims)
        if expected
        else (torch.zeros(dims, dtype=torch.uint8))
    )
    if kind == "labels":
        if tensor.numel() and int(tensor.max()) >= NUM_CLASSES:
            raise DataError(f"{path} is corrupt: label {int(tensor.max())} is not a class 0-9")
        tensor = tensor.to(torch.int64)
    return tensor


def find_raw_folder(
    data_dir: str | os.PathLike[str] | None = None, dataset: str = "mnist"
) -> Path | None:
    """The folder holding the four IDX files of ``dataset`` (a ``core.data.datasets`` name), or None.

    Accepts torchvision's root (``DIR/MNIST/raw``, ``DIR/FashionMNIST/raw``, ...), its ``raw``
    folder, or a folder holding the files directly, so "Use folder..." works wherever the user
    points.
    """
    root = Path(data_dir) if data_dir is not None else default_mnist_dir()
    info = IDX_DATASETS.get(dataset, MNIST)
    for candidate in (root / info.folder / "raw", root / "raw", root):
        if all(_find_file(candidate, stem) for stem in FILE_STEMS.values()):
            return candidate
    return None


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):  # prefer the uncompressed file torchvision extracts
        if is_file(folder / name):
            return folder / name
    return None


def mnist_present(data_dir: str | os.PathLike[str] | None = None, dataset: str = "mnist") -> bool:
    """True when all four files of ``dataset`` (default MNIST) are in ``data_dir`` (default:
    the user's data folder)."""
    return find_raw_folder(data_dir, dataset) is not None


def read_idx_folder(folder: str | os.PathLike[str], name: str, title: str) -> MnistData:
    """Read the four IDX files of a raw folder, checking images and labels agree."""
    folder = Path(folder)
    parts: dict[tuple[str, str], torch.Tensor] = {}
    for key, stem in FILE_STEMS.items():
        path = _find_file(folder, stem)
        if path is None:
            raise DataError(f"{folder / stem} (or .gz) is missing")
        parts[key] = read_idx(path, key[1])
    for split in ("train", "test"):
        n_images = parts[(split, "images")].shape[0]
        n_labels = parts[(split, "labels")].shape[0]
        if n_images != n_labels or n_images == 0:
            raise DataError(
                f"{folder / FILE_STEMS[(split, 'labels')]} has {n_labels:,} labels for "
                f"{n_images:,} images"
            )
    return MnistData(
        name=name,
        description=_describe(
            title, len(parts[("train", "labels")]), len(parts[("test", "labels")])
        ),
        train_images=parts[("train", "images")],
        train_labels=parts[("train", "labels")],
        test_images=parts[("test", "images")],
        test_labels=parts[("test", "labels")],
    )


def load_sample() -> MnistData:
    """The bundled sample: 4,000 train / 1,000 test real MNIST digits (see its ATTRIBUTION.md)."""
    raw = sample_data_dir() / "MNIST" / "raw"
    if not is_dir(raw):
        raise DataError(f"the bundled MNIST sample is missing: {raw} does not exist")
    return read_idx_folder(raw, "sample", "bundled MNIST sample")


def load_mnist(dataset: str = "auto", data_dir: str | os.PathLike[str] | None = None) -> MnistData:
    """Load ``dataset`` (one of ``DATASET_CHOICES``): "mnist" (full MNIST from ``data_dir``),
    "fashion-mnist" or "kmnist" (from ``data_dir`` in torchvision's layout), "sample", "auto",
    or "folder" (the pictures in ``data_dir``/0 .. /9, see ``core.data.folder_dataset``).

    "auto" uses full MNIST when its files are present, else the bundled sample; the returned
    ``description`` says which, so callers can tell the user.
    """
    if dataset not in DATASET_CHOICES:
        raise UserError(f"unknown dataset {dataset!r}; choose {', '.join(DATASET_CHOICES)}")
    if dataset == "sample":
        return load_sample()
    if dataset == "folder":  # pictures in DIR/0 .. DIR/9, through the canvas preprocessing
        if data_dir is None:
            raise DataError(
                "the folder dataset needs --data-dir DIR, with pictures in DIR/0 to DIR/9"
            )
        from core.data.folder_dataset import load_folder_dataset  # it imports torch and PIL work

        return load_folder_dataset(data_dir)
    if data_dir is not None and not _missing(data_dir):
        check_folder(data_dir, "data folder")  # unreadable or overlong: one sentence
    info = IDX_DATASETS.get(dataset, MNIST)
    raw = find_raw_folder(data_dir, info.name)
    if raw is None:
        if dataset == "auto":
            return load_sample()
        raise DataError(_not_found_sentence(info, data_dir))
    return read_idx_folder(raw, info.name, info.title)


def _not_found_sentence(info: DatasetInfo, data_dir: str | os.PathLike[str] | None) -> str:
    """Why ``info``'s files are not there and what to do, in one sentence."""
    where = Path(data_dir) if data_dir is not None else default_mnist_dir()
    instead = (
        "download it or use --dataset sample"
        if info is MNIST
        else "download it (the Data panel's Download button, or 'download --dataset "
        f"{info.name}') or point --data-dir at a copy"
    )
    full = "full MNIST" if info is MNIST else info.title
    return (
        f"{full} is not in {where} (expected {where / info.folder / 'raw'}/"
        f"train-images-idx3-ubyte[.gz] and its three companions); {instead}"
    )


def _missing(path: str | os.PathLike[str]) -> bool:
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return False


def choose_dataset(
    use_sample: bool, folder: str | None, dataset: str = "mnist"
) -> tuple[str, str | None]:
    """(dataset, data_dir) for ``TrainConfig`` from the learner's choice: always explicit.

    For MNIST: the sample when asked for; else the chosen folder if it holds MNIST; else the
    downloaded MNIST in the user's data folder; else the sample (nothing else is there). For
    another IDX dataset (``dataset`` "fashion-mnist", "kmnist"): the chosen folder if it holds
    it, else the user's data folder (where loading says in one sentence if it is missing).
    """
    if dataset != "mnist" and dataset in IDX_DATASETS:
        if folder is not None and mnist_present(folder, dataset):
            return dataset, folder
        return dataset, None
    if use_sample:
        return "sample", None
    if folder is not None and mnist_present(folder):
        return "mnist", folder
    if mnist_present():
        return "mnist", None
    return "sample", None


# ----------------------------------------------------------------------------- download


class DownloadCancelled(UserError):
    """The learner cancelled ``download_mnist``: not a failure, nothing changed."""


# Sizes of torchvision's four MNIST archives, so progress has a total before any reply.
_ARCHIVE_BYTES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
# MNIST's mirrors and checksums as torchvision.datasets.MNIST lists them, for installations
# without torchvision (the CPU build leaves it out); torchvision's own are used when it loads,
# and tests/test_packaging.py checks the two agree.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# DIGIT_LAB_MNIST_MIRROR="URL [URL ...]" replaces the mirrors (a classroom server, a local copy,
# CI's server on 127.0.0.1). A mirror the user sets is trusted like a folder they choose: its
# files must be MNIST IDX files (checked before extraction), not the official bytes, so a course
# may serve its own digits.
MIRROR_ENV = "DIGIT_LAB_MNIST_MIRROR"


@dataclass(frozen=True)
class MnistSource:
    """Where ``download_mnist`` fetches from and how it checks each archive."""

    mirrors: tuple[str, ...]
    files: tuple[tuple[str, str], ...]  # (archive name, md5) in download order
    custom: bool  # mirrors from MIRROR_ENV: archives checked as IDX files, not by checksum


def mnist_source() -> MnistSource:
    """The mirrors (``DIGIT_LAB_MNIST_MIRROR`` when set) and the four archives' checksums.

    Never imports torchvision: ``torchvision.datasets`` pulls in sympy and took 12-120 s to
    import on a busy machine, all before an offline download could even say it failed.
    tests/test_packaging.py checks these constants agree with torchvision's own.
    """
    files = tuple(MNIST_MD5.items())
    custom = os.environ.get(MIRROR_ENV, "").split()
    if custom:  # checked now: "notaurl" or "http://[::1" is one sentence, not a traceback
        try:
            mirrors = tuple(check_mirror(url, f"the mirror in {MIRROR_ENV}") for url in custom)
        except UserError as exc:
            raise DataError(str(exc)) from None
        return MnistSource(mirrors, files, True)
    return MnistSource(MNIST_MIRRORS, files, False)


def _archive_problem(archive: Path, md5: str, source: MnistSource) -> str | None:
    """Why a fetched archive cannot be used, or None (checksum, or IDX format for a set mirror)."""
    if source.custom:
        try:
            read_idx(archive, "images" if "images" in archive.name else "labels")
        except DataError as exc:
            return f"not an MNIST IDX file ({exc})"
        return None
    return None if _md5_matches(str(archive), md5) else "checksum mismatch"


def _md5_matches(path: str, md5: str) -> bool:
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest() == md5


# Seconds to wait for a mirror to answer (connecting, then each read): offline, the download
# fails within a few seconds instead of looking hung.
NETWORK_TIMEOUT = 5.0


def _fetch(
    url: str,
    target: Path,
    on_bytes: Callable[[int], None],
    should_cancel: Callable[[], bool] | None,
) -> None:
    """Stream ``url`` to ``target`` (via a fresh .part file), reporting bytes; the cancel is
    checked at least every half second and a stalled server fails (``core.data.http_fetch``)."""
    try:
        stream_to_file(url, target, on_bytes, should_cancel)
    except FetchCancelled:
        raise DownloadCancelled("download cancelled") from None


@dataclass
class _Download:
    """One ``download_mnist`` call: where to, from where, and the byte count for progress."""

    raw: Path
    source: MnistSource
    progress: Callable[[int, int], None] | None
    should_cancel: Callable[[], bool] | None
    status: Callable[[str], None]
    total: int
    done: int = 0

    def advance(self, count: int) -> None:
        self.done += count
        if self.progress:
            self.progress(min(self.done, self.total), self.total)

    def cancel_if_asked(self) -> None:
        if self.should_cancel and self.should_cancel():
            raise DownloadCancelled("download cancelled")


def _download_archive(job: _Download, filename: str, md5: str) -> None:
    """Fetch one archive from the first mirror that serves it intact, and extract it."""
    from urllib.error import URLError
    from urllib.parse import urlsplit

    archive = job.raw / filename
    errors = []
    for mirror in job.source.mirrors:
        before = job.done
        try:
            job.status(f"connecting to {urlsplit(mirror).hostname or mirror}...")
            _fetch(f"{mirror}{filename}", archive, job.advance, job.should_cancel)
            job.status(f"checking {filename}...")
            problem = _archive_problem(archive, md5, job.source)
            if problem:
                archive.unlink(missing_ok=True)
                raise OSError(problem)
            # Extracted atomically: a quit mid-way must not leave a truncated file that would
            # then be preferred over the intact archive.
            write_bytes_atomic(
                job.raw / filename.removesuffix(".gz"),
                gzip_module.decompress(archive.read_bytes()),
            )
            return
        except (URLError, OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise DataError(f"cannot save {filename} in {job.raw}: {os_problem(exc)}") from None
            errors.append(f"{mirror}: {one_line(exc)}")  # a redirect loop's text has 3 lines
            job.done = before
    raise DataError(
        f"could not download {filename} (are you offline?); tried "
        + "; ".join(errors)
        + ". The bundled sample remains available."
    )


def download_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    status: Callable[[str], None] | None = None,
) -> Path:
    """Fetch full MNIST from its mirrors (see ``mnist_source``), checked against its checksums.

    ``progress(done, total)`` counts bytes over the four files; ``status(text)`` says what is
    happening in words ("connecting to ...", "checking ..."); ``should_cancel`` is polled every
    64 KB and cancelling raises ``DownloadCancelled``. Files already there are kept. Returns
    the root folder to pass as ``data_dir``. Offline: ``DataError`` saying so, within
    ``NETWORK_TIMEOUT`` seconds per mirror.
    """
    source = mnist_source()
    root = Path(data_dir) if data_dir is not None else default_mnist_dir()
    raw = root / "MNIST" / "raw"
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {raw}: {os_problem(exc)}") from None
    job = _Download(
        raw,
        source,
        progress,
        should_cancel,
        status or (lambda _text: None),
        total=sum(_ARCHIVE_BYTES.get(name, 0) for name, _ in source.files),
    )
    job.advance(0)
    for filename, md5 in source.files:
        job.cancel_if_asked()
        if _find_file(raw, filename.removesuffix(".gz")) is None:
            _download_archive(job, filename, md5)
        else:
            job.done += _ARCHIVE_BYTES.get(filename, 0)
        job.advance(0)
    if progress:
        progress(job.total, job.total)  # a mirror's file may differ in size from the table
    job.status("done")
    return root


def download_dataset(
    dataset: str,
    data_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    status: Callable[[str], None] | None = None,
) -> Path:
    """Fetch ``dataset`` ("mnist", "fashion-mnist", "kmnist") into ``data_dir``; return the root.

    MNIST goes through ``download_mnist`` (``progress`` in bytes). The others use torchvision's
    own downloader with the mirrors and MD5 checksums its dataset class lists
    (``torchvision.datasets.utils.download_and_extract_archive``, one archive at a time, as its
    ``download()`` does), so ``progress(done, total)`` counts the four archives and cancelling
    takes effect between them. Without torchvision (the CPU build) it raises
    ``core.optional.MissingFeatureError`` saying so; offline, ``DataError`` in one sentence.
    """
    if dataset in ("mnist", "auto"):
        return download_mnist(data_dir, progress, should_cancel, status)
    info = IDX_DATASETS.get(dataset)
    if info is None:
        raise UserError(
            f"{dataset!r} cannot be downloaded; choose one of {', '.join(IDX_DATASETS)}"
        )
    from core.optional import require_torchvision

    require_torchvision(
        f"Downloading {info.title}", f"put its files in DIR/{info.folder}/raw and use that folder"
    )
    say = status or (lambda _text: None)
    say("starting torchvision...")
    from torchvision import datasets  # slow on a busy machine: called on a download thread

    dataset_class = getattr(datasets, info.torchvision_class)
    root = Path(data_dir) if data_dir is not None else default_mnist_dir()
    raw = root / info.folder / "raw"
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {raw}: {os_problem(exc)}") from None
    resources = list(dataset_class.resources)
    for done, (filename, md5) in enumerate(resources):
        if progress:
            progress(done, len(resources))
        if should_cancel and should_cancel():
            raise DownloadCancelled("download cancelled")
        if _find_file(raw, filename.removesuffix(".gz")) is None:
            say(f"downloading {filename}...")
            _torchvision_fetch(dataset_class, info, raw, filename, md5)
    if progress:
        progress(len(resources), len(resources))
    say("done")
    return root


def _torchvision_fetch(dataset_class: type, info: DatasetInfo, raw: Path, filename: str, md5: str):
    """One archive through torchvision's checked download, trying its mirrors in turn."""
    from urllib.error import URLError

    from torchvision.datasets.utils import download_and_extract_archive

    errors = []
    for mirror in dataset_class.mirrors:
        try:
            download_and_extract_archive(
                f"{mirror}{filename}", download_root=str(raw), filename=filename, md5=md5
            )
            return
        except (RuntimeError, URLError, OSError, http.client.HTTPException) as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise DataError(f"cannot save {filename} in {raw}: {os_problem(exc)}") from None
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            errors.append(f"{mirror}: {getattr(exc, 'reason', None) or lines[0]}")
    raise DataError(
        f"could not download {info.title}'s {filename} (are you offline?); tried "
        + "; ".join(errors)
        + f". Or put its files in {raw} yourself."
    )


# ----------------------------------------------------------------------------- IDX writing


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_dataset(
    folder: str | os.PathLike[str],
    train_images: torch.Tensor | np.ndarray,
    train_labels: torch.Tensor | np.ndarray,
    test_images: torch.Tensor | np.ndarray,
    test_labels: torch.Tensor | np.ndarray,
    gzip: bool = True,
    dataset: str = "mnist",
) -> Path:
    """Write MNIST-format IDX files under ``folder/MNIST/raw`` (torchvision's layout; for
    ``dataset`` "fashion-mnist" ``folder/FashionMNIST/raw``, and so on).

    Used by tools/make_sample.py and by the benchmarks, which fake full-size MNIST with it, and
    by tests, which fake the other datasets. Each file is written atomically. Returns the raw
    folder.
    """
    raw = Path(folder) / IDX_DATASETS[dataset].folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {
        ("train", "images"): train_images,
        ("train", "labels"): train_labels,
        ("test", "images"): test_images,
        ("test", "labels"): test_labels,
    }
    for (split, kind), value in arrays.items():
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
        array = np.asarray(array)
        if kind == "images" and (array.ndim != 3 or array.shape[1:] != (28, 28)):
            raise ValueError(f"{split} images must be (N, 28, 28), got {array.shape}")
        if kind == "labels" and array.ndim != 1:
            raise ValueError(f"{split} labels must be (N,), got {array.shape}")
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError(f"{split} {kind} must hold values 0..255")
        payload = _idx_bytes(array, _IMAGES_MAGIC if kind == "images" else _LABELS_MAGIC)
        target = raw / (FILE_STEMS[(split, kind)] + (".gz" if gzip else ""))
        if gzip:
            # mtime=0 keeps the bytes reproducible, so regenerating the sample changes nothing.
            payload = gzip_module.compress(payload, compresslevel=9, mtime=0)
        write_bytes_atomic(target, payload)
    return raw


# ----------------------------------------------------------------------------- synthetic data


def synthetic_mnist(
    train_samples: int = 60_000, test_samples: int = 10_000, seed: int = 0
) -> MnistData:
    """MNIST-sized data made from the bundled sample's digits, each randomly shifted by up to
    2 pixels, so speed can be measured at full size (and still learn) without the real files."""
    sample = load_sample()
    generator = torch.Generator().manual_seed(seed)
    images = torch.cat([sample.train_images, sample.test_images])
    labels = torch.cat([sample.train_labels, sample.test_labels])

    def make(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        picks = torch.randint(len(labels), (n,), generator=generator)
        out = images[picks]
        shifts = torch.randint(-2, 3, (n, 2), generator=generator)
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                rows = ((shifts[:, 0] == dy) & (shifts[:, 1] == dx)).nonzero().squeeze(1)
                if len(rows) and (dy or dx):
                    out[rows] = torch.roll(out[rows], shifts=(dy, dx), dims=(1, 2))
        return out.contiguous(), labels[picks].clone()

    train_images, train_labels = make(train_samples)
    test_images, test_labels = make(test_samples)
    return MnistData(
        "synthetic",
        _describe("synthetic MNIST-size data", train_samples, test_samples),
        train_images,
        train_labels,
        test_images,
        test_labels,
    )
