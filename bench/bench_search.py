"""Benchmark: `claude-backup search` on a 10,000-chat archive (the shared corpus of mixed
sizes, synced from the fake API), process start included; median of three runs.

Three queries: a title that one chat has (`"Chat 5001"`), a word no chat has, and a word in
nearly every chat (the worst case: every file must be parsed and scanned). Targets: < 2 s for
the first two, < 10 s for the worst case, on these 2-core machines.

    python bench/bench_search.py [--chats 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Results, median, run_cli, ten_thousand

QUERIES = (
    # name, query words, target seconds, expect hits
    ("search_title", ['"Chat {middle}"'], 2.0, True),
    ("search_absent_word", ["xylophone"], 2.0, False),
    ("search_common_word", ["zephyr", "harbor"], 10.0, True),
)


def main(argv: list[str] | None = None) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    corpus = ten_thousand(args.chats)
    results = Results("search")
    results.add("search_corpus_setup", corpus.setup_seconds, "s", f"{args.chats} chats synced")
    for name, words, target, expect in QUERIES:
        times = []
        hits = 0
        for _ in range(args.runs):
            query = [w.format(middle=args.chats // 2 + 1) for w in words]
            run = run_cli(
                corpus.server,
                "search",
                *query,
                "--limit",
                "1000000",
                "--archive",
                str(corpus.archive),
            )
            if run.code not in (0, 1) or (run.code == 0) != expect:
                raise SystemExit(f"{name}: unexpected exit {run.code}: {run.stderr.strip()}")
            times.append(run.seconds)
            hits = sum(1 for line in run.stdout.splitlines() if not line.startswith(" "))
        wall = median(times)
        results.add(f"{name}_wall", wall, "s", f"< {target:g} s, {args.chats} chats", wall < target)
        results.add(f"{name}_hits", hits, "chats", "informational")
        results.add(f"{name}_rss", run.rss_mb, "MB", "informational")
    results.emit()
    return results


if __name__ == "__main__":
    sys.exit(1 if main().failed else 0)
