"""``export-script [train's options...] --out train_mnist.py``: a run as a standalone script.

The options are exactly ``train``'s (one table, ``core/training/train_settings.py``), so the script does
what ``main.py train`` with the same options would do, with only torch and torchvision.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    from cli.train_cmd import add_config_arguments

    parser = subparsers.add_parser(
        "export-script",
        help="write a training run as a standalone PyTorch script (runs with torchrun too)",
        description="Write one Python file that trains exactly this run with torch and "
        "torchvision only: 'python FILE' on one device, 'torchrun --nproc_per_node=N FILE' "
        "on several. Takes the train command's options.",
    )
    add_config_arguments(parser)
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE.py",
        help="where to write the script (default: train_<model>_<dataset>.py here)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cli.train_cmd import config_from_args
    from core.storage.paths import check_writable_file
    from core.training.script_export import export_script, write_exported

    config = config_from_args(args)
    script = export_script(config, origin="main.py export-script")
    out = args.out or Path(script.suggested_name)
    if out.suffix != ".py":
        out = out.with_name(out.name + ".py")
    check_writable_file(out)
    print(write_exported(script, out))  # the sample travels beside it when the run used it
    return 0
