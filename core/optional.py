"""Optional parts of the installation: torchvision, which the CPU build of the app leaves out.

PyPI's torchvision for Linux links CUDA's torch, so it cannot load beside the CPU-only torch wheel
that keeps the CPU download small (packaging/README.md). The app itself needs no torchvision;
a feature that does calls :func:`require_torchvision` (or shows :func:`torchvision_missing`)
so the user reads one sentence where the feature is, instead of a traceback.

Contract: ``torchvision_missing(feature, instead)`` returns ``None`` when torchvision imports
and works here, else the sentence to show; the import is tried once per process (it costs
about half a second) and never raises.
"""

from __future__ import annotations

import functools
import importlib.util

from core.errors import UserError


class MissingFeatureError(UserError):
    """A feature needs an optional package this installation does not have."""


def torchvision_installed() -> bool:
    """True when a torchvision package is present at all (cheap: does not import it)."""
    return importlib.util.find_spec("torchvision") is not None


@functools.cache
def torchvision_problem() -> str | None:
    """Why torchvision cannot be used here (``None`` when it imports), e.g. a CUDA build beside
    a CPU-only torch failing with ``operator torchvision::nms does not exist``."""
    if not torchvision_installed():
        return "not included in this build"
    try:
        import torchvision  # noqa: F401
    except Exception as exc:  # any import failure makes the feature unavailable, with its reason
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"installed but does not load ({type(exc).__name__}: {first})"
    return None


def torchvision_version() -> str:
    """torchvision's version, or why there is none (for About and the self-test)."""
    problem = torchvision_problem()
    if problem is not None:
        return problem
    import torchvision

    return str(torchvision.__version__)


def torchvision_missing(feature: str, instead: str = "") -> str | None:
    """The one sentence to show where ``feature`` is, or ``None`` when torchvision works.

    ``instead`` names what the user can do (e.g. "use Folder… with your own images").
    """
    problem = torchvision_problem()
    if problem is None:
        return None
    sentence = f"{feature} needs torchvision ({problem})"
    return f"{sentence}; {instead}." if instead else f"{sentence}."


def require_torchvision(feature: str, instead: str = "") -> None:
    """Raise :class:`MissingFeatureError` with :func:`torchvision_missing`'s sentence."""
    message = torchvision_missing(feature, instead)
    if message is not None:
        raise MissingFeatureError(message)
