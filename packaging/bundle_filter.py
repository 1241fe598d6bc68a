"""What the Digit Lab bundle leaves out, and why; used by ``digit-lab.spec``.

PyInstaller's hooks for torch, nvidia-* and PySide6 collect whole packages. The app only needs
torch's runtime libraries, the CUDA libraries that torch links (plus the ones it loads lazily for
cuDNN and CUDA linear algebra) and Qt's widgets. Everything matched here is dropped from the
analysis TOCs before the bundle is assembled, for both flavours (the CUDA wheel has no test
files, the CPU wheel no nvidia/). Kept free of PyInstaller imports so a unit test can check the
rules without building.
"""

from __future__ import annotations

import fnmatch
import os
import struct
from collections.abc import Iterable

# Python packages the app never imports, or that torch imports only optionally.
EXCLUDED_MODULES = [
    "triton",  # ~1 GB; torch only uses it for torch.compile on GPUs (it checks has_triton())
    "torch.utils.tensorboard",
    "torch.utils.benchmark",
    "torch.utils.hipify",
    "torch.utils.bottleneck",
    "torch.contrib",
    "tensorboard",
    "tkinter",
    "matplotlib",
    "IPython",
    "pytest",
    "_pytest",
    "pluggy",
    "iniconfig",
    "pygments",
    "hypothesis",
    "PyInstaller",
    # Qt modules that pyqtgraph can use but the app does not (pyqtgraph.opengl, printing, SVG export
    # still work without the Quick/QML/Web stack).
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest",
    "PySide6.QtQmlFeatures",
    "PySide6.QtLabsStyleKit",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.Qt3DCore",
    "PySide6.QtMultimedia",
]

# Destination paths (inside _internal/) that are never needed at run time.
ALWAYS_DROP = [
    # triton's libraries come in through torch's hidden imports even when the module is excluded
    "triton/*",
    # headers, CMake files, code generators, build tools
    "torch/include/*",
    "torch/share/*",
    "torch/bin/protoc*",
    # the CPU wheel's C++ test programs and test libraries (~125 MB; the CUDA wheel has none).
    # torch/bin/torch_shm_manager stays: torch.multiprocessing starts it to share tensors.
    "torch/test/*",
    "torch/bin/test_*",
    "torch/bin/*Test",
    "torch/bin/*.pt",
    "torch/bin/*.ptl",
    "torch/bin/upgrader_models/*",
    "torch/lib/lib*_test.so",
    "torch/lib/libbackend_with_compiler.so",
    "torch/lib/libaoti_custom_ops.so",
    "torchgen/packaged/*",
    "*.a",
    "*.lib",
    "*.h",
    "*.hpp",
    "*.cuh",
    "nvidia/*/include/*",
    # CUDA libraries torch neither links nor loads
    "nvidia/*/libcusolverMg.so*",
    "nvidia/*/libnvrtc.alt.so*",
    "nvidia/*/libnvrtc-builtins.alt.so*",
    "nvidia/*/libcufftw.so*",
    "nvidia/*/libnvblas.so*",
    "nvidia/*/libnvperf_host.so*",
    "nvidia/*/libnvperf_target.so*",
    "nvidia/*/libpcsamplingutil.so*",
    "nvidia/*/libcheckpoint.so*",
    "nvidia/*/libcufile_rdma.so*",
    # Qt: translations (the UI is English), QML/Quick, WebEngine, 3D, Multimedia, designer tools
    "PySide6/Qt/translations/*",
    "PySide6/Qt/qml/*",
    "PySide6/Qt/metatypes/*",
    "PySide6/Qt/libexec/*",
    "PySide6/Qt/lib/libQt6Quick*",
    "PySide6/Qt/lib/libQt6Qml*",
    "PySide6/Qt/lib/libQt6WebEngine*",
    "PySide6/Qt/lib/libQt63D*",
    "PySide6/Qt/lib/libQt6Multimedia*",
    "PySide6/Qt/lib/libQt6Pdf*",
    "PySide6/Qt/lib/libQt6Designer*",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "PySide6/Qt/lib/libQt6LabsStyleKit*",
    "PySide6/Qt/plugins/qmltooling/*",
    "PySide6/Qt/plugins/designer/*",
    "PySide6/Qt/plugins/sqldrivers/*",
    "PySide6/Qt/plugins/multimedia/*",
    "PySide6/Qt/plugins/sceneparsers/*",
    "PySide6/Qt/plugins/renderers/*",
    "PySide6/Qt/plugins/webview/*",
    "PySide6/qml/*",
    "PySide6/*.pyi",
    "PySide6/include/*",
    "PySide6/typesystems/*",
    "PySide6/glue/*",
    "PySide6/doc/*",
    "PySide6/scripts/*",
    "PySide6/support/*",
    "shiboken6/*.pyi",
    "*/__pycache__/*",
]

# torch's own libraries keep their static symbol tables; stripping them is safe and saves ~170 MB.
STRIP_PATTERNS = ["torch/lib/libtorch*.so", "torch/lib/libc10*.so"]

_DT_NEEDED = 1
_SHT_DYNAMIC = 6


def elf_needed(path: str | os.PathLike[str]) -> list[str]:
    """The DT_NEEDED sonames of a 64-bit little-endian ELF file; [] for anything else.

    A tiny reader instead of ``readelf`` so the spec has no extra tool dependency; it reads
    only the headers, the dynamic section and its string table, not the whole library.
    """
    try:
        with open(path, "rb") as handle:
            header = handle.read(64)
            if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
                return []
            shoff = struct.unpack_from("<Q", header, 0x28)[0]
            shentsize, shnum = struct.unpack_from("<HH", header, 0x3A)
            handle.seek(shoff)
            table = handle.read(shentsize * shnum)
            sections = [
                struct.unpack_from("<IIQQQQIIQQ", table, index * shentsize)
                for index in range(shnum)
            ]
            names: list[str] = []
            for _n, sh_type, _f, _a, offset, size, link, _i, _al, entsize in sections:
                if sh_type != _SHT_DYNAMIC or not entsize:
                    continue
                handle.seek(offset)
                dynamic = handle.read(size)
                strtab_offset, strtab_size = sections[link][4], sections[link][5]
                handle.seek(strtab_offset)
                strtab = handle.read(strtab_size)
                for entry in range(0, len(dynamic) - entsize + 1, entsize):
                    tag, value = struct.unpack_from("<qQ", dynamic, entry)
                    if tag == 0:
                        break
                    if tag == _DT_NEEDED:
                        names.append(strtab[value : strtab.index(b"\0", value)].decode())
            return names
    except (OSError, struct.error, ValueError, IndexError):
        return []


def matches(dest: str, patterns: Iterable[str]) -> bool:
    """True when a bundle path (``/`` separated) matches any glob (``*`` crosses folders)."""
    dest = dest.replace(os.sep, "/")
    return any(fnmatch.fnmatchcase(dest, pattern) for pattern in patterns)


def filter_toc(
    entries: list[tuple[str, str, str]],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Split a TOC of (dest, src, typecode) into (kept, dropped) following ALWAYS_DROP."""
    kept = [entry for entry in entries if not matches(entry[0], ALWAYS_DROP)]
    dropped = [entry for entry in entries if matches(entry[0], ALWAYS_DROP)]
    return kept, dropped


def excluded_modules(with_torchvision: bool) -> list[str]:
    """EXCLUDED_MODULES, plus torchvision for a build without it: the app imports it lazily
    (and only where it is optional), which PyInstaller would otherwise chase."""
    return EXCLUDED_MODULES + ([] if with_torchvision else ["torchvision"])


def flavour(cuda_version: str | None) -> str:
    """The bundle's flavour from the build environment's torch (``torch.version.cuda``)."""
    return "cuda" if cuda_version else "cpu"
