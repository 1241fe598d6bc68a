"""The PyInstaller bundle: trimming rules (fast) and a real build + frozen self-test (packaging).

The build test is marked ``packaging``: ``make test`` skips it (``-m "not packaging"``); run it
with ``.venv/bin/python -m pytest -m packaging tests/test_packaging.py``. CI builds through
packaging/ci_package_check.sh instead, which runs the same checks and prints sizes and times.
"""

from __future__ import annotations

import ast
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
    ],
)
def test_needed_parts_are_kept(dest):
    assert not bundle_filter.matches(dest, bundle_filter.ALWAYS_DROP)


def test_triton_is_excluded_as_a_module():
    assert "triton" in bundle_filter.EXCLUDED_MODULES


def test_cpu_only_keeps_exactly_the_linked_cuda_libraries():
    toc = [
        ("torch/_C.so", "/src/_C.so", "EXTENSION"),
        ("torch/lib/libtorch_cuda.so", "/src/libtorch_cuda.so", "BINARY"),
        ("torch/lib/libtorch_cuda_linalg.so", "/src/linalg.so", "BINARY"),
        ("nvidia/cu13/lib/libcublas.so.13", "/src/libcublas.so.13", "BINARY"),
        ("nvidia/cu13/lib/libcublasLt.so.13", "/src/libcublasLt.so.13", "BINARY"),
        ("nvidia/cu13/lib/libcusolver.so.12", "/src/libcusolver.so.12", "BINARY"),
        ("nvidia/cudnn/lib/libcudnn_adv.so.9", "/src/libcudnn_adv.so.9", "BINARY"),
    ]
    links = {
        "/src/_C.so": ["libtorch_cuda.so"],
        "/src/libtorch_cuda.so": ["libcublas.so.13"],
        "/src/libcublas.so.13": ["libcublasLt.so.13"],
        "/src/linalg.so": ["libcusolver.so.12"],
    }
    kept = bundle_filter.linked_closure(toc, bundle_filter.is_cuda_only, lambda p: links.get(p, []))
    assert kept == {"nvidia/cu13/lib/libcublas.so.13", "nvidia/cu13/lib/libcublasLt.so.13"}


def test_filter_toc_cpu_only_drops_lazy_cuda_libraries(monkeypatch):
    toc = [
        ("torch/lib/libtorch_cpu.so", "/src/cpu.so", "BINARY"),
        ("torch/lib/libtorch_cuda_linalg.so", "/src/linalg.so", "BINARY"),
        ("nvidia/cudnn/lib/libcudnn_adv.so.9", "/src/adv.so", "BINARY"),
        ("triton/_C/libtriton.so", "/src/triton.so", "BINARY"),
    ]
    monkeypatch.setattr(bundle_filter, "elf_needed", lambda _path: [])
    kept, dropped = bundle_filter.filter_toc(toc, cpu_only=False)
    assert [entry[0] for entry in dropped] == ["triton/_C/libtriton.so"]
    kept, dropped = bundle_filter.filter_toc(toc, cpu_only=True)
    assert [entry[0] for entry in kept] == ["torch/lib/libtorch_cpu.so"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads an ELF file")
def test_elf_needed_reads_torchvision_native_library():
    import torchvision

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
    (bundle / "digit-lab").write_text("")
    found = inspect_bundle.problems(bundle)
    assert any("torchvision's native ops missing" in item for item in found)
    assert any("default model missing" in item for item in found)
    assert any("triton should not be bundled" in item for item in found)
    assert any("screenshots should not be bundled" in item for item in found)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ELF files")
def test_inspect_bundle_names_a_linked_library_left_out(tmp_path):
    import shutil

    import torchvision

    library = sorted(Path(torchvision.__file__).parent.glob("_C*.so"))[0]
    (tmp_path / "torchvision").mkdir()
    shutil.copy(library, tmp_path / "torchvision" / library.name)
    missing = inspect_bundle.unresolved_libraries(tmp_path)
    assert "libtorch_cpu.so" in missing
    assert not any(name.startswith("libc.so") for name in missing)  # system libraries are fine


# ------------------------------------------------------------------ the real build (slow)


@pytest.mark.packaging
@pytest.mark.timeout(3600)
def test_frozen_app_passes_its_self_test():
    # Not tmp_path: pytest keeps the last runs' folders, and a bundle is gigabytes.
    with tempfile.TemporaryDirectory(prefix="digit-lab-package-test-") as folder:
        work = Path(folder)
        env = dict(os.environ, DIST=str(work / "dist"), BUILD=str(work / "build"))
        env["QT_QPA_PLATFORM"] = "offscreen"
        build = subprocess.run(
            ["make", "package"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        bundle = work / "dist" / "digit-lab"
        assert inspect_bundle.problems(bundle) == []

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
