"""Before Qt starts: say in words what the screen needs, instead of Qt's abort.

On Linux, Qt's xcb plugin needs a few X11 libraries that minimal systems lack; without them Qt
prints a hint naming only ``libxcb-cursor0`` and aborts the process. Loading the plugin
ourselves first names the library that is really missing and the package that provides it.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

# Debian/Ubuntu packages the xcb plugin needs beyond a desktop's usual X11 libraries.
XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
    "libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0 libxcb-shape0 libegl1"
)
_MISSING = re.compile(r"(lib[\w.+-]+\.so[.\d]*): cannot open shared object file")


def _uses_xcb() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform:
        return platform == "xcb"
    wayland = os.environ.get("WAYLAND_DISPLAY") and os.environ.get("XDG_SESSION_TYPE") == "wayland"
    return sys.platform.startswith("linux") and not wayland


def debian_package(library: str) -> str:
    """``libxcb-icccm.so.4`` -> ``libxcb-icccm4`` (Debian's naming for shared libraries)."""
    stem, _, version = library.partition(".so")
    version = version.strip(".").split(".")[0]
    if not version:
        return stem.lower()
    name = f"{stem}-{version}" if stem[-1].isdigit() else f"{stem}{version}"
    return name.lower()  # Debian package names are lower case


def screen_problem() -> str | None:
    """One sentence when the app cannot open a window here, else None (also when unsure)."""
    if not _uses_xcb():
        return None
    if not os.environ.get("DISPLAY"):
        return (
            "no screen found (DISPLAY is not set): run Digit Lab from a desktop session, "
            "use 'main.py COMMAND' headless, or set QT_QPA_PLATFORM=offscreen"
        )
    try:
        from PySide6.QtCore import QLibraryInfo

        plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
        ctypes.CDLL(str(plugins / "platforms" / "libqxcb.so"))
    except OSError as exc:
        match = _MISSING.search(str(exc))
        if match is None:
            return None  # let Qt try and report it
        library = match.group(1)
        return (
            f"the window system library {library} is missing: install it with "
            f"'sudo apt-get install {debian_package(library)}' (Qt's X11 support needs: "
            f"{XCB_PACKAGES})"
        )
    except Exception:  # noqa: BLE001 - a check that cannot run must not stop the app
        return None
    return None
