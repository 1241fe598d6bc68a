"""Check a built bundle's contents and print what takes the space.

    python packaging/inspect_bundle.py dist/digit-lab [--max-mib 700]

Exit code 1 names each problem: torchvision bundled without its native library (the "operator
torchvision::nms does not exist" failure), something that should have been trimmed (triton, Qt
translations, QML/WebEngine, the CPU wheel's test files), a resource the app needs (sample,
default model, icon) absent, a linked library missing, or the bundle over ``--max-mib``.
A bundle without torchvision is fine (the CPU flavour where no CPU torchvision exists).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

MUST_EXIST = {
    "the bundled MNIST sample": "resources/mnist_sample/MNIST/raw/*-ubyte.gz",
    "the default model": "resources/models/*.pt",
    "the app icon": "resources/icons/digit-lab.png",
    "the bundled lessons": "resources/lessons/*.toml",
    "the app's version metadata": "digit_lab*.*-info",
    "torch's CPU library": "torch/lib/libtorch_cpu*",
    "Qt widgets": "PySide6/Qt/lib/libQt6Widgets*",
}
# Libraries every Linux desktop provides (glibc, the GPU driver, GL, X11/Wayland, GTK for the
# optional platform theme); PyInstaller leaves them out on purpose.
SYSTEM_LIBRARIES = (
    "ld-linux",
    "libc.so",
    "libm.so",
    "libdl.so",
    "libpthread.so",
    "librt.so",
    "libutil.so",
    "libresolv.so",
    "libcuda.so",
    "libGL.so",
    "libEGL.so",
    "libdrm.so",
    "libwayland-",
    "libxcb",
    "libX",
    "libxkbcommon",
    "libgtk-3.so",
    "libgdk-3.so",
)
MUST_NOT_EXIST = {
    "triton": "triton",
    "Qt translations": "PySide6/Qt/translations",
    "QML modules": "PySide6/Qt/qml",
    "Qt Quick/QML libraries": "PySide6/Qt/lib/libQt6Q[mu]*",
    "Qt WebEngine": "PySide6/Qt/lib/libQt6WebEngine*",
    "torch headers": "torch/include",
    "screenshots": "resources/screenshots",
    "torch's C++ tests": "torch/test",
    "torch's test programs": "torch/bin/test_*",
    "torch's test libraries": "torch/lib/lib*_test.so",
}
MIB = 1024 * 1024


def tree_size(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(folder, name)).st_size
    return total


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit in ("B", "KB") else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def internal_dir(bundle: Path) -> Path:
    return bundle / "_internal" if (bundle / "_internal").is_dir() else bundle


def breakdown(bundle: Path, top: int = 12) -> list[str]:
    """Lines: total, then the biggest top-level entries of _internal/ (and two levels of nvidia)."""
    inner = internal_dir(bundle)
    entries = sorted(((tree_size(p), p) for p in inner.iterdir()), key=lambda x: x[0], reverse=True)
    total = tree_size(bundle)
    files = sum(len(f) for _d, _s, f in os.walk(bundle))
    lines = [f"bundle {bundle}: {human(total)} in {files:,} files"]
    for size, path in entries[:top]:
        lines.append(f"  {human(size):>9}  {path.relative_to(bundle)}")
        if path.name in ("nvidia", "torch", "PySide6") and path.is_dir():
            subs = sorted(((tree_size(p), p) for p in path.iterdir()), key=lambda x: -x[0])
            for sub_size, sub in subs[:5]:
                lines.append(f"  {'':>9}  {human(sub_size):>9}  {sub.relative_to(bundle)}")
    rest = sum(size for size, _p in entries[top:])
    lines.append(f"  {human(rest):>9}  ({len(entries) - top} more entries)")
    return lines


def problems(bundle: Path, max_mib: int | None = None) -> list[str]:
    inner = internal_dir(bundle)
    found: list[str] = []
    exe = bundle / ("digit-lab.exe" if sys.platform == "win32" else "digit-lab")
    if not exe.is_file():
        found.append(f"the executable {exe.name} is missing")
    for what, pattern in MUST_EXIST.items():
        if not list(inner.glob(pattern)):
            found.append(f"{what} missing ({pattern})")
    for what, pattern in MUST_NOT_EXIST.items():
        if list(inner.glob(pattern)):
            found.append(f"{what} should not be bundled ({pattern})")
    if (inner / "torchvision").is_dir() and not list(inner.glob("torchvision/_C*")):
        found.append("torchvision's native ops missing (torchvision/_C*)")
    if max_mib is not None and tree_size(bundle) > max_mib * MIB:
        found.append(f"the bundle is {tree_size(bundle) / MIB:,.0f} MiB, over {max_mib:,} MiB")
    if sys.platform.startswith("linux"):
        for needed, users in sorted(unresolved_libraries(bundle).items()):
            found.append(f"{needed} is linked by {users[0]} but not bundled")
    return found


def unresolved_libraries(bundle: Path) -> dict[str, list[str]]:
    """Linked libraries (DT_NEEDED) found neither in the bundle nor among system libraries.

    This is how a CUDA library left out of the bundle shows without a GPU to run on.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bundle_filter import elf_needed

    names: set[str] = set()
    libraries: list[Path] = []
    for folder, _dirs, files in os.walk(bundle):
        for name in files:
            names.add(name)
            if ".so" in name:
                libraries.append(Path(folder, name))
    missing: dict[str, list[str]] = {}
    for library in libraries:
        for needed in elf_needed(library):
            if needed not in names and not needed.startswith(SYSTEM_LIBRARIES):
                missing.setdefault(needed, []).append(str(library.relative_to(bundle)))
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, nargs="?", default=Path("dist") / "digit-lab")
    parser.add_argument("--max-mib", type=int, help="fail when the bundle is larger (MiB)")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"error: {args.bundle} is not a folder (run 'make package')", file=sys.stderr)
        return 2
    print("\n".join(breakdown(args.bundle)))
    issues = problems(args.bundle, args.max_mib)
    for issue in issues:
        print(f"PROBLEM: {issue}")
    print("bundle contents: OK" if not issues else f"bundle contents: {len(issues)} problem(s)")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
