"""``download`` subcommand: fetch full MNIST into the data folder, as the Data panel's button does.

    digit-lab download                      # into the user data folder (where the app looks)
    digit-lab download --data-dir DIR       # into DIR/MNIST/raw
    DIGIT_LAB_MNIST_MIRROR=http://host/mnist/ digit-lab download   # from a mirror you choose

The same ``core.data.mnist.download_mnist`` as the app, so the packaged app's download can be proved
headless (CI serves the four files on 127.0.0.1). Files already there are kept. Offline, a
wrong mirror or a damaged file is one ``error:`` line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cli import add_command


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "download",
        description="Download the 60,000 + 10,000 MNIST digits into the data folder, checked "
        "against their checksums. DIGIT_LAB_MNIST_MIRROR='URL [URL ...]' fetches from "
        "your own mirror instead (its files are checked as MNIST IDX files).",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="where to put MNIST (DIR/MNIST/raw); default: the user data folder",
    )
    parser.add_argument(
        "--dataset",
        choices=("mnist", "fashion-mnist", "kmnist"),
        default="mnist",
        help="which dataset (core.data.datasets); fashion-mnist and kmnist use torchvision's own "
        "downloader and checksums, into DIR/FashionMNIST/raw or DIR/KMNIST/raw",
    )
    parser.set_defaults(func=run_download)


def run_download(args: argparse.Namespace) -> int:
    from core.data.mnist import download_mnist, load_mnist, mnist_source

    if getattr(args, "dataset", "mnist") != "mnist":
        return _download_other(args.dataset, args.data_dir)

    source = mnist_source()
    where = "your mirror" if source.custom else "MNIST's mirrors"
    print(f"downloading MNIST from {where}: {', '.join(source.mirrors)}", flush=True)
    bar = _ByteBar(enabled=sys.stderr.isatty())
    try:
        root = download_mnist(args.data_dir, progress=bar)
    finally:
        bar.close()
    data = load_mnist("mnist", root)  # proves the four files decode and agree
    print(f"MNIST is in {root / 'MNIST' / 'raw'}: {data.description}", flush=True)
    return 0


def _download_other(dataset: str, data_dir: Path | None) -> int:
    """Fashion-MNIST or KMNIST through torchvision (``core.data.mnist.download_dataset``)."""
    from core.data.datasets import IDX_DATASETS
    from core.data.mnist import download_dataset, load_mnist

    info = IDX_DATASETS[dataset]
    print(f"downloading {info.title} with torchvision", flush=True)
    root = download_dataset(
        dataset, data_dir, status=lambda text: print(f"  {text}", file=sys.stderr, flush=True)
    )
    data = load_mnist(dataset, root)  # proves the four files decode and agree
    print(f"{info.title} is in {root / info.folder / 'raw'}: {data.description}", flush=True)
    print(f"credit: {info.citation} Licence: {info.licence}.", flush=True)
    return 0


class _ByteBar:
    """``progress(done, total)`` drawn as a tqdm bar in bytes on a terminal, silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="B", unit_scale=True, dynamic_ncols=True)
        self.bar.total = max(total, done)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
