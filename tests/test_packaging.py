"""The PyInstaller bundle: trimming rules, the CPU flavour's torchvision-free paths (fast) and
real builds + frozen self-tests (packaging).

The build tests are marked ``packaging``: ``make test`` skips them (``-m "not packaging"``); run
them with ``.venv/bin/python -m pytest -m packaging tests/test_packaging.py``. CI builds the CPU
flavour through packaging/ci_package_check.sh instead, which runs the same checks, downloads
MNIST from a mirror on 127.0.0.1 with the frozen app, and prints sizes and times.
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


def load_packaging_module(name: str):
    """Import packaging/<name>.py by path (``packaging`` is not a Python package)."""
    spec = importlib.util.spec_from_file_location(f"digit_lab_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle_filter = load_packaging_module("bundle_filter")
inspect_bundle = load_packaging_module("inspect_bundle")
requirements = load_packaging_module("requirements")
mnist_mirror = load_packaging_module("mnist_mirror")


@pytest.mark.parametrize(
    "dest",
    [
        "triton/_C/libtriton.so",
        "torch/include/ATen/ATen.h",
        "torch/bin/protoc",
        "nvidia/cu13/lib/libcusolverMg.so.12",
        "nvidia/cu13/lib/libnvrtc.alt.so.13",
        "PySide6/Qt/translations/qtbase_de.qm",
        "PySide6/Qt/qml/QtQuick/Controls/qmldir",
        "PySide6/Qt/lib/libQt6Quick.so.6",
        "PySide6/Qt/lib/libQt6WebEngineCore.so.6",
        "PySide6/Qt/plugins/sqldrivers/libqsqlite.so",
        # the CPU torch wheel's test files
        "torch/test/test_api",
        "torch/bin/test_jit",
        "torch/bin/TCPStoreTest",
        "torch/bin/script_module_v4.ptl",
        "torch/lib/libtorchbind_test.so",
        "torch/lib/libjitbackend_test.so",
        "torch/lib/libbackend_with_compiler.so",
        "torch/lib/libaoti_custom_ops.so",
    ],
)
def test_unused_parts_are_dropped(dest):
    assert bundle_filter.matches(dest, bundle_filter.ALWAYS_DROP)


@pytest.mark.parametrize(
    "dest",
    [
        "torch/lib/libtorch_cpu.so",
        "torch/lib/libtorch_cuda.so",
        "torchvision/_C_stable.so",
        "nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9",
        "nvidia/cu13/lib/libnvrtc.so.13",
        "nvidia/cu13/lib/libnvrtc-builtins.so.13.0",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "resources/models/default_cnn.pt",
        "torch/bin/torch_shm_manager",
        "torch/lib/libtorch_python.so",
        "torch/lib/libshm.so",
        "torch/lib/libgomp.so.1",
        "torch/testing/_internal/common_utils.py",
    ],
)
def test_needed_parts_are_kept(dest):
    assert not bundle_filter.matches(dest, bundle_filter.ALWAYS_DROP)


def test_triton_is_excluded_as_a_module():
    assert "triton" in bundle_filter.EXCLUDED_MODULES


def test_filter_toc_splits_by_the_drop_rules():
    toc = [
        ("torch/lib/libtorch_cpu.so", "/src/cpu.so", "BINARY"),
        ("torch/lib/libtorchbind_test.so", "/src/bind.so", "BINARY"),
        ("triton/_C/libtriton.so", "/src/triton.so", "BINARY"),
    ]
    kept, dropped = bundle_filter.filter_toc(toc)
    assert [entry[0] for entry in kept] == ["torch/lib/libtorch_cpu.so"]
    assert [entry[0] for entry in dropped] == [
        "torch/lib/libtorchbind_test.so",
        "triton/_C/libtriton.so",
    ]


def test_flavour_follows_the_build_environments_torch():
    assert bundle_filter.flavour("13.0") == "cuda"
    assert bundle_filter.flavour(None) == "cpu"


def test_a_build_without_torchvision_excludes_it_as_a_module():
    assert "torchvision" in bundle_filter.excluded_modules(with_torchvision=False)
    assert "torchvision" not in bundle_filter.excluded_modules(with_torchvision=True)
    assert "triton" in bundle_filter.excluded_modules(with_torchvision=True)


def test_cpu_requirements_come_from_pyproject_without_torch():
    wanted = requirements.requirements(
        ROOT / "pyproject.toml", ["torch", "torchvision"], ["package"]
    )
    names = {requirements.canonical(requirements._NAME.match(r).group(1)) for r in wanted}
    assert "torch" not in names and "torchvision" not in names
    assert {"pyside6-essentials", "pyqtgraph", "numpy", "pyinstaller"} <= names
    assert any("!=6.12.0" in r for r in wanted)  # the version rules travel with the names


def test_cpu_requirements_refuse_an_unknown_extra():
    with pytest.raises(SystemExit, match="no extra nonsense"):
        requirements.requirements(ROOT / "pyproject.toml", [], ["nonsense"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads an ELF file")
def test_elf_needed_reads_torchvision_native_library():
    torchvision = pytest.importorskip("torchvision")

    libs = sorted(Path(torchvision.__file__).parent.glob("_C*.so"))
    assert libs, "torchvision ships no native library here"
    assert "libtorch_cpu.so" in bundle_filter.elf_needed(libs[0])
    assert bundle_filter.elf_needed(ROOT / "main.py") == []


def test_spec_is_valid_python_and_raises_the_recursion_limit():
    source = (PACKAGING / "digit-lab.spec").read_text(encoding="utf-8")
    ast.parse(source)
    assert "setrecursionlimit" in source and "5000" in source


def test_ci_script_is_executable():
    assert os.access(PACKAGING / "ci_package_check.sh", os.X_OK)


def test_inspect_bundle_names_missing_and_unwanted_parts(tmp_path):
    bundle = tmp_path / "digit-lab"
    (bundle / "_internal" / "triton").mkdir(parents=True)
    (bundle / "_internal" / "resources" / "screenshots").mkdir(parents=True)
    (bundle / "_internal" / "torch" / "test").mkdir(parents=True)
    (bundle / "digit-lab").write_text("")
    assert not any("torchvision" in item for item in inspect_bundle.problems(bundle))
    (bundle / "_internal" / "torchvision").mkdir()  # bundled, but without its native library
    (bundle / "_internal" / "big.bin").write_bytes(b"x" * (2 * inspect_bundle.MIB))
    found = inspect_bundle.problems(bundle, max_mib=1)
    assert any("torchvision's native ops missing" in item for item in found)
    assert any("C++ tests should not be bundled" in item for item in found)
    assert any("over 1 MiB" in item for item in found)
    assert any("default model missing" in item for item in found)
    assert any("triton should not be bundled" in item for item in found)
    assert any("screenshots should not be bundled" in item for item in found)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ELF files")
def test_inspect_bundle_names_a_linked_library_left_out(tmp_path):
    import shutil

    torchvision = pytest.importorskip("torchvision")
    library = sorted(Path(torchvision.__file__).parent.glob("_C*.so"))[0]
    (tmp_path / "torchvision").mkdir()
    shutil.copy(library, tmp_path / "torchvision" / library.name)
    missing = inspect_bundle.unresolved_libraries(tmp_path)
    assert "libtorch_cpu.so" in missing
    assert not any(name.startswith("libc.so") for name in missing)  # system libraries are fine


# ------------------------------------------- the CPU flavour: no torchvision, and a mirror


@pytest.fixture
def without_torchvision(monkeypatch):
    """Behave as the CPU flavour does: torchvision is not installed."""
    from core import optional

    monkeypatch.setattr(optional, "torchvision_installed", lambda: False)
    optional.torchvision_problem.cache_clear()
    yield
    optional.torchvision_problem.cache_clear()


@pytest.fixture
def mirror(tmp_path):
    """Four small MNIST archives served on 127.0.0.1 (train: 600 digits, test: the sample's)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    mnist_mirror.write_mirror_files(folder, train_digits=600)
    server = mnist_mirror.serve(folder)
    yield folder, mnist_mirror.mirror_url(server)
    server.shutdown()
    server.server_close()


def test_fallback_mirrors_and_checksums_are_torchvisions():
    from core.data import mnist as data

    datasets = pytest.importorskip("torchvision.datasets")
    assert tuple(datasets.MNIST.mirrors) == data.MNIST_MIRRORS
    assert list(data.MNIST_MD5.items()) == [tuple(pair) for pair in datasets.MNIST.resources]
    assert set(data.MNIST_MD5) == set(data._ARCHIVE_BYTES)


def test_without_torchvision_the_official_mirrors_and_md5_are_used(
    without_torchvision, tmp_path, monkeypatch
):
    from core.data import mnist as data
    from core.errors import DataError

    source = data.mnist_source()
    assert source.mirrors == data.MNIST_MIRRORS and not source.custom
    fetched = []

    def fetch(url, target, on_bytes, should_cancel):
        fetched.append(url)
        target.write_bytes(b"not the real file")

    monkeypatch.setattr(data, "_fetch", fetch)
    with pytest.raises(DataError, match="checksum mismatch"):
        data.download_mnist(tmp_path)
    assert fetched == [m + "train-images-idx3-ubyte.gz" for m in data.MNIST_MIRRORS]
    archive = tmp_path / "archive.gz"
    archive.write_bytes(b"digits")
    assert data._md5_matches(str(archive), hashlib.md5(b"digits").hexdigest())
    assert not data._md5_matches(str(archive), hashlib.md5(b"other").hexdigest())


def test_cli_download_from_a_mirror_on_localhost(without_torchvision, mirror, tmp_path, capsys):
    from cli import main as cli_main
    from core.data.mnist import MIRROR_ENV, load_mnist

    _folder, url = mirror
    os.environ[MIRROR_ENV] = url
    try:
        code = cli_main(["download", "--data-dir", str(tmp_path / "data")])
    finally:
        del os.environ[MIRROR_ENV]
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"from your mirror: {url}" in out
    assert "600 train / 1,000 test" in out
    assert load_mnist("mnist", tmp_path / "data").train_samples == 600


def test_a_set_mirror_serving_something_else_is_refused(mirror, tmp_path, monkeypatch):
    from core.data import mnist as data
    from core.errors import DataError

    folder, url = mirror
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"<html>"))
    monkeypatch.setenv(data.MIRROR_ENV, url)
    with pytest.raises(DataError, match="not an MNIST IDX file") as info:
        data.download_mnist(tmp_path)
    assert url in str(info.value)
    assert not data.mnist_present(tmp_path)


def test_self_test_reports_the_torchvision_check_as_skipped(without_torchvision, capsys):
    from core import selftest

    checks = [("torchvision", selftest.check_torchvision), ("good", lambda: "fine")]
    assert selftest.run_checks(checks) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("SKIP  torchvision")
    assert "skipped: needs torchvision" in lines[1]
    assert lines[-1] == "self-test OK: 1 of 2 checks passed, 1 skipped (torchvision)"


def test_missing_torchvision_is_one_sentence_where_the_feature_is(without_torchvision):
    from core import optional
    from core.errors import UserError

    assert optional.torchvision_version() == "not included in this build"
    sentence = optional.torchvision_missing("Augmented training", "train without augmentation")
    assert sentence == (
        "Augmented training needs torchvision (not included in this build); "
        "train without augmentation."
    )
    with pytest.raises(UserError, match="^Augmented training needs torchvision"):
        optional.require_torchvision("Augmented training")


def test_a_torchvision_that_does_not_load_is_named(monkeypatch):
    from core import optional

    class BrokenTorchvision:  # what PyPI's CUDA torchvision does beside the CPU-only torch
        def find_spec(self, name, path=None, target=None):
            if name == "torchvision":
                raise RuntimeError("operator torchvision::nms does not exist")

    monkeypatch.setattr(optional, "torchvision_installed", lambda: True)
    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    monkeypatch.setattr(sys, "meta_path", [BrokenTorchvision(), *sys.meta_path])
    optional.torchvision_problem.cache_clear()
    try:
        assert optional.torchvision_problem() == (
            "installed but does not load (RuntimeError: operator torchvision::nms does not exist)"
        )
    finally:
        optional.torchvision_problem.cache_clear()


def test_about_names_a_missing_torchvision(without_torchvision):
    from types import SimpleNamespace

    from gui.main_window import MainWindow

    text = MainWindow.about_text(SimpleNamespace(device_description=lambda: "CPU"))
    assert "<td>torchvision</td><td>not included in this build</td>" in text


# ------------------------------------------------------------------ the real build (slow)


@pytest.mark.packaging
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("target", ["package", "package-cpu"])
def test_frozen_app_passes_its_self_test(target):
    # Not tmp_path: pytest keeps the last runs' folders, and a bundle is gigabytes.
    with tempfile.TemporaryDirectory(prefix="digit-lab-package-test-") as folder:
        work = Path(folder)
        env = dict(os.environ, DIST=str(work / "dist"), BUILD=str(work / "build"))
        env["QT_QPA_PLATFORM"] = "offscreen"
        build = subprocess.run(
            ["make", target], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        bundle = work / "dist" / "digit-lab"
        max_mib = 700 if target == "package-cpu" else None
        assert inspect_bundle.problems(bundle, max_mib) == []

        run = subprocess.run(
            [str(bundle / "digit-lab"), "--self-test"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        print(run.stdout)
        assert run.returncode == 0, run.stdout + run.stderr[-3000:]
        assert "FAIL" not in run.stdout
        assert "(frozen," in run.stdout
