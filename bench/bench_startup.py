"""Benchmark 6: `claude-backup --help` start-up time (the median of several runs).

Target: ≤ 0.35 s, which needs heavy modules (httpx, dulwich) imported only by the commands
that use them.

    python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CLI, Results, bench_main, median

TARGET_SECONDS = 0.35
HEAVY = ("httpx", "dulwich")


def measure(results: Results, runs: int) -> None:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([CLI, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    wall = median(times)
    results.add("startup_help", wall, "s", f"≤ {TARGET_SECONDS} s", wall <= TARGET_SECONDS)
    probe = (
        "import sys, claude_backup.cli.app as c; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    python = str(Path(CLI).parent / "python")
    loaded = subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.strip()
    count = len([m for m in loaded.split(",") if m])
    results.add(
        "startup_heavy_imports", count, "modules", f"0 of {', '.join(HEAVY)} at import", count == 0
    )


def main(argv: list[str] | None = None) -> Results:
    return bench_main("startup", __doc__ or "", measure, argv, runs=7)


if __name__ == "__main__":
    main()
