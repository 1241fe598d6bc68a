"""The CPU build environment's requirements, read from pyproject.toml (one list, not two).

    python packaging/requirements.py --without torch torchvision --extra package --out FILE
    python packaging/requirements.py --check-cpu-torch

The first writes the project's dependencies (plus the named extras) except the named packages,
one per line, for ``pip install -r FILE`` (stdout without ``--out``): the CPU flavour installs torch (and torchvision, where a CPU
build of it exists) from the CPU wheels first, so pip must not be asked for PyPI's CUDA ones.
The second exits 1 with one sentence when the environment's torch is built for CUDA.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    """PEP 503 normalised name: ``PySide6_Essentials`` and ``pyside6-essentials`` are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(pyproject: Path, without: list[str], extras: list[str]) -> list[str]:
    """The dependency strings of ``pyproject`` (and ``extras``) whose names are not ``without``."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        raise SystemExit(f"error: pyproject.toml has no extra {', '.join(unknown)}")
    wanted = list(project.get("dependencies", []))
    for extra in extras:
        wanted += optional[extra]
    skip = {canonical(name) for name in without}
    kept = []
    for requirement in wanted:
        match = _NAME.match(requirement)
        if match and canonical(match.group(1)) not in skip:
            kept.append(requirement)
    return kept


def check_cpu_torch() -> int:
    import torch

    if torch.version.cuda:
        print(
            f"error: this environment's torch {torch.__version__} is built for CUDA "
            f"{torch.version.cuda}; the CPU flavour needs the CPU-only wheel "
            f"(see packaging/README.md: CPU_TORCH / CPU_PIP_ARGS)",
            file=sys.stderr,
        )
        return 1
    print(f"torch {torch.__version__}: CPU-only build")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without", nargs="*", default=[], metavar="NAME")
    parser.add_argument("--extra", nargs="*", default=[], metavar="EXTRA")
    parser.add_argument("--out", type=Path, help="write here (UTF-8) instead of stdout")
    parser.add_argument("--check-cpu-torch", action="store_true")
    args = parser.parse_args(argv)
    if args.check_cpu_torch:
        return check_cpu_torch()
    text = "\n".join(requirements(ROOT / "pyproject.toml", args.without, args.extra)) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")  # PowerShell's ">" would write UTF-16
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
