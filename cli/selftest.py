"""``digit-lab --self-test``: the window check from ``gui/`` and the headless checks from ``core/``.

Exit code 0 only when every check passes; see ``core/selftest.py`` for the contract.
"""

from __future__ import annotations

import os

from core.selftest import HEADLESS_CHECKS, Check, run_checks


def all_checks() -> list[Check]:
    from gui.selftest import check_window

    return [("window", check_window), *HEADLESS_CHECKS]


def run_self_test() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from gui.selftest import isolate_settings

    return run_checks(all_checks(), isolate=isolate_settings)
