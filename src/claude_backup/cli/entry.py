"""The program's entry point. It imports the commands itself, so that Ctrl-C while they load
ends the program with exit code 130 and no traceback."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from claude_backup.cli.app import main as run
    except KeyboardInterrupt:
        sys.exit(130)  # errors.Interrupted's code
    run()
