"""``download --dataset fashion-mnist|kmnist``: torchvision's downloader, one sentence on failure."""

from __future__ import annotations

import pytest

from cli import main as cli_main
from core.data.mnist import download_dataset
from core.errors import DataError
from core.optional import torchvision_problem


def test_without_torchvision_download_is_one_error_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("core.optional.torchvision_problem", lambda: "not included in this build")
    code = cli_main(["download", "--dataset", "kmnist", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1] == (
        "error: Downloading KMNIST needs torchvision (not included in this build); put its files "
        "in DIR/KMNIST/raw and use that folder."
    )


@pytest.mark.skipif(torchvision_problem() is not None, reason="needs a working torchvision")
def test_an_unreachable_mirror_fails_in_one_sentence_through_torchvision(tmp_path, monkeypatch):
    from torchvision import datasets

    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    progress = []
    with pytest.raises(DataError) as caught:
        download_dataset("fashion-mnist", tmp_path, progress=lambda *p: progress.append(p))
    message = str(caught.value)
    assert message.startswith(
        "could not download Fashion-MNIST's train-images-idx3-ubyte.gz (are you offline?); "
        "tried http://127.0.0.1:9/: "
    )
    assert "\n" not in message and str(tmp_path / "FashionMNIST" / "raw") in message
    assert progress == [(0, 4)]
