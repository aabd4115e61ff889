"""Run every benchmark (in one process, so the 10,000-chat archive is built once) and print a
summary line per figure that misses its target, then one JSON line with everything.

    python bench/run_all.py            # about 6-8 minutes on 2 cores
    BENCH_KEEP=1 python bench/run_all.py   # keep the archives under $TMPDIR/claude-backup-bench

Exit status 1 if any figure misses its target.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_full_sync
import bench_memory
import bench_no_change
import bench_repo_size
import bench_small_change
import bench_startup
from common import Results, machine

BENCHMARKS: list[tuple[str, Callable[[list[str]], Results]]] = [
    ("startup", bench_startup.main),
    ("full_sync", bench_full_sync.main),
    ("no_change", bench_no_change.main),
    ("small_change", bench_small_change.main),
    ("repo_size", bench_repo_size.main),
    ("memory", bench_memory.main),
]


def main() -> int:
    started = time.perf_counter()
    everything = []
    failed: list[str] = []
    for name, run in BENCHMARKS:
        print(f"== {name}", flush=True)
        begun = time.perf_counter()
        results = run([])
        print(f"   ({time.perf_counter() - begun:.0f} s)", flush=True)
        everything.append({"benchmark": results.benchmark, "figures": results.figures})
        failed += results.failed
    total = time.perf_counter() - started
    print(f"== all benchmarks: {total:.0f} s; targets missed: {', '.join(failed) or 'none'}")
    summary = {"machine": machine(), "seconds": round(total, 1), "results": everything}
    print("JSON " + json.dumps(summary, sort_keys=True), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
