"""A stand-in MNIST mirror on 127.0.0.1, so Download MNIST can be proved without the internet.

    python packaging/mnist_mirror.py FOLDER [--url-file PATH]

Writes the four gzipped IDX files a mirror serves into FOLDER (the training set: 6,000 synthetic
digits made from the bundled sample, shifted; the test set: the sample's 1,000 real test digits),
then serves FOLDER over HTTP on 127.0.0.1 at a free port until killed. It prints the URL to give
as ``DIGIT_LAB_MNIST_MIRROR`` (and writes it to ``--url-file`` for scripts), and one line per
request on stderr. The 6,000 train digits differ from the sample's 4,000, so a model trained on
what was downloaded shows that the download, not the sample, was used.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN_DIGITS = 6_000


def write_mirror_files(folder: Path, train_digits: int = TRAIN_DIGITS) -> list[Path]:
    """The four ``*-ubyte.gz`` files under their mirror names, directly in ``folder``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from core.data.mnist import load_sample, synthetic_mnist, write_idx_dataset

    sample = load_sample()
    train = synthetic_mnist(train_digits, 10, seed=1)
    raw = write_idx_dataset(
        folder / "staging",
        train.train_images,
        train.train_labels,
        sample.test_images,
        sample.test_labels,
        gzip=True,
    )
    files = []
    for archive in sorted(raw.glob("*-ubyte.gz")):
        files.append(Path(shutil.move(str(archive), folder / archive.name)))
    shutil.rmtree(folder / "staging")
    return files


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``folder`` on 127.0.0.1 at a free port, running in a daemon thread."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="mnist-mirror", daemon=True).start()
    return server


def mirror_url(server: http.server.ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--url-file", type=Path, help="write the mirror's URL here when ready")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    files = write_mirror_files(args.folder)
    server = serve(args.folder)
    url = mirror_url(server)
    print(f"serving {len(files)} files at {url}", flush=True)
    if args.url_file:
        args.url_file.write_text(url + "\n", encoding="utf-8")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
