"""Digit Lab entry point: no arguments launches the app; subcommands run headless.

python main.py                 # the desktop app
python main.py loss --list-pairs
python main.py train --model cnn --epochs 5 --json
python main.py classify digit.png --json
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    try:
        import multiprocessing

        multiprocessing.freeze_support()  # a frozen app must not re-run itself in workers
        argv = list(sys.argv[1:] if argv is None else argv)
        if not argv:
            from gui.app import run_app

            return run_app()
        from cli import main as cli_main
    except KeyboardInterrupt:  # Ctrl+C before the command's own handler is in place
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
