"""The ``map`` CLI contract: CSV only with --out, the JSON last line, one-line errors."""

from __future__ import annotations

import csv
import json

import pytest

from cli import main as cli_main
from core.data.mnist import load_sample
from core.resources import bundled_model_file
from tests.helpers import run_main


def run_cli(capsys, *args: str) -> tuple[int, list[str], str]:
    code = cli_main(["map", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_json_and_csv_for_the_sample(capsys, tmp_path):
    out = tmp_path / "map.csv"
    code, lines, err = run_cli(
        capsys,
        "--model",
        str(bundled_model_file()),
        "--dataset",
        "sample",
        "--out",
        str(out),
        "--json",
    )
    assert code == 0, err
    record = json.loads(lines[-1])
    test_labels = load_sample().test_labels.tolist()
    assert record["points"] == len(test_labels)
    assert record["seconds"] > 0
    assert 0.6 < record["knn_accuracy"] <= 1.0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["x", "y", "label", "prediction"]
    assert [int(row["label"]) for row in rows] == test_labels
    wrong = sum(int(row["label"]) != int(row["prediction"]) for row in rows)
    assert wrong == record["misclassified"]


def test_no_file_without_out(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, lines, _ = run_cli(capsys, "--dataset", "sample")
    assert code == 0
    assert "5-NN accuracy" in lines[-1]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ["--dataset", "mnist", "--data-dir", "/nonexistent/folder"],
        ["--dataset", "imagenet"],
        ["--model", "/nonexistent/model.pt"],
    ],
)
def test_bad_input_is_one_error_line_exit_2(capsys, args):
    code, lines, err = run_cli(capsys, *args)
    assert code == 2 and not lines
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_out_to_a_folder_is_one_error_line(capsys, tmp_path):
    code, _lines, err = run_cli(capsys, "--dataset", "sample", "--out", str(tmp_path), "--json")
    assert code == 2 and err.startswith("error: ")


def test_end_to_end_as_a_user_runs_it(tmp_path):
    result = run_main("map", "--dataset", "sample", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["points"] == 1000
