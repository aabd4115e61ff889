"""Benchmark 4: peak memory (RSS) of the CLI during the first sync of 10,000 chats holding
over 1 GB of JSON. Target: ≤ 250 MB, i.e. chats are streamed to disk, not held.

The fake serves chats whose messages share a few large strings (see common.add_bulky_chats),
so the server side stays small while the CLI receives, parses, writes and commits > 1 GB.
Runs with `--no-files --no-projects`: this measures chats; uploads are another benchmark.

    python bench/bench_memory.py [--chats 10000] [--chat-kb 110]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    CHATS_ONLY,
    FAST,
    Results,
    add_bulky_chats,
    bench_main,
    commits,
    dir_size,
    new_model,
    serve,
    sync,
    workdir,
)

TARGET_MB = 250


def measure(results: Results, chats: int, chat_kb: int) -> None:
    model, org = new_model(seed=5)
    add_bulky_chats(model, org, chats, chat_kb * 1000)
    archive = workdir("memory") / "archive"
    with serve(model, 0.0) as server:
        run = sync(server, archive, *FAST, *CHATS_ONLY)
    stored = dir_size(archive) - dir_size(archive / ".git")
    results.add("memory_json_stored", stored / 1e9, "GB", "≥ 1 GB of chat JSON", stored >= 1e9)
    results.add("memory_peak_rss", run.rss_mb, "MB", f"≤ {TARGET_MB} MB", run.rss_mb <= TARGET_MB)
    results.add("memory_sync_wall", run.seconds, "s", f"{chats} chats, no latency, informational")
    results.add("memory_git_size", dir_size(archive / ".git") / 1e9, "GB", "informational")
    if commits(archive) < 1:
        raise SystemExit("the sync made no commit")


def main(argv: list[str] | None = None) -> Results:
    return bench_main("memory", __doc__ or "", measure, argv, chats=10_000, chat_kb=110)


if __name__ == "__main__":
    main()
