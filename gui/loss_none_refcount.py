"""Workaround: PySide6 6.12.0 on Python 3.11 drops a reference to ``None`` on every call of a
void Qt method (``label.setText(...)``, ``table.setItem(...)``...).

Measured here: ``sys.getrefcount(None)`` falls by exactly 1 per such call, from about 59,000
after start-up, and at 0 CPython aborts with "Fatal Python error: none_dealloc: deallocating
None". A playground edit on a 64×20 grid makes ~15,000 such calls, so the app would die after
a few edits (any tab that updates widgets often dies the same way, only later).

Python 3.12+ made ``None`` immortal (PEP 683), so the bug is invisible there; on 3.11 we do the
same by hand: give ``None`` a reference count so large it can never reach zero. ``None`` is a
static object that is never freed anyway, so nothing else changes. Remove this once PySide6
returns ``None`` with a proper ``Py_INCREF`` or Python 3.11 is no longer supported.
"""

from __future__ import annotations

import ctypes
import platform
import sys

_BOOST = 1 << 40  # ~1e12 leaked references before trouble: centuries of clicking


def protect_none_refcount() -> bool:
    """Make ``None`` effectively immortal on CPython < 3.12; return True if it was needed."""
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is the first field
    if refcount.value < _BOOST // 2:
        refcount.value += _BOOST
    return True


protect_none_refcount()
