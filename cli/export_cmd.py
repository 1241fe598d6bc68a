"""``export-script [train's options...] --out train_mnist.py``: a run as a standalone script.

The options are exactly ``train``'s (one table, ``core/training/train_settings.py``), so the script does
what ``main.py train`` with the same options would do, with only torch and torchvision.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cli import add_command


def register(subparsers: Any) -> None:
    from cli.train_cmd import add_config_arguments

    parser = add_command(
        subparsers,
        "export-script",
        description="Write one Python file that trains exactly this run with torch and "
        "torchvision only: 'python FILE' on one device, 'torchrun --nproc_per_node=N FILE' "
        "on several. Takes the train command's options.",
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--out",
        metavar="FILE.py",
        help="where to write the script (default: train_<model>_<dataset>.py here; "
        "a folder: that name inside it)",
    )
    parser.set_defaults(func=run)


def script_path(given: str | None, suggested: str) -> Path:
    """Where ``--out`` says to write: a folder gets the suggested name inside it (as ``cp``
    does), a name without ``.py`` gets it; an empty name or an unwritable place is one sentence
    (``core.storage.paths``' checks), before anything is written."""
    from core.storage.paths import check_writable_file, is_dir, user_path

    out = Path(suggested) if given is None else user_path(given, "--out")
    if is_dir(out):
        out = out / suggested
    elif out.suffix != ".py":
        out = out.with_name(out.name + ".py")
    return check_writable_file(out, "--out")


def run(args: argparse.Namespace) -> int:
    from cli.train_cmd import config_from_args
    from core.training.script_export import export_script, write_exported

    config = config_from_args(args)
    script = export_script(config, origin="main.py export-script")
    out = script_path(args.out, script.suggested_name)
    print(write_exported(script, out))  # the sample travels beside it when the run used it
    return 0
