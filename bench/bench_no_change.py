"""Benchmark 2: a sync that finds nothing new, on a 10,000-chat archive (40 ms latency).

Targets: requests = /account + one listing and its count_all per chat organization, nothing
else; wall time < 2 s including process start; no new commit. The median of three runs is
reported.

    python bench/bench_no_change.py [--chats 10000] [--runs 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPUS, Results, bench_main, commits, median, sync, ten_thousand

TARGET_SECONDS = 2.0


def measure(results: Results, chats: int, runs: int) -> float:
    corpus = ten_thousand(chats)
    before = commits(corpus.archive)
    times, requests, rss = [], [], []
    kinds: dict[str, int] = {}
    for _ in range(runs):
        run = sync(corpus.server, corpus.archive, *CORPUS)
        times.append(run.seconds)
        requests.append(run.total_requests)
        rss.append(run.rss_mb)
        kinds = run.requests
    expected = 3  # /account + the listing of the one chat organization + its count_all
    wall = median(times)
    seen = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
    results.add(
        "no_change_requests",
        max(requests),
        "requests",
        f"= {expected}: account + 1 listing + count_all; seen: {seen}",
        max(requests) == expected,
    )
    results.add(
        "no_change_wall", wall, "s", f"< {TARGET_SECONDS:g} s, {chats} chats", wall < TARGET_SECONDS
    )
    new = commits(corpus.archive) - before
    results.add("no_change_new_commits", new, "commits", "= 0", new == 0)
    results.add("no_change_rss", median(rss), "MB", "informational")
    return wall


def main(argv: list[str] | None = None) -> Results:
    return bench_main("no_change", __doc__ or "", measure, argv, chats=10_000, runs=3)


if __name__ == "__main__":
    main()
