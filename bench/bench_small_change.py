"""Benchmark 3: a sync after a few changes on claude.ai, on the 10,000-chat archive.

10 chats get new messages, 2 are renamed, 1 is deleted. Targets: requests = the no-change
requests + 10 fetches; wall time ≤ 1.5x the no-change sync; the commit(s) touch only the
files of those 13 chats.

    python bench/bench_small_change.py [--chats 10000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPUS, Corpus, Results, git, median, sync, ten_thousand

UPDATED, RENAMED, DELETED = 10, 2, 1


def change_some(corpus: Corpus, round_no: int) -> set[str]:
    """Update, rename and delete a few chats on the fake; returns the uuids touched."""
    uuids = corpus.chat_uuids()
    step = max(1, len(uuids) // (UPDATED + RENAMED + DELETED + 1))
    picked = [uuids[(round_no * 7 + i * step) % len(uuids)] for i in range(13)]
    for uuid in picked[:UPDATED]:
        corpus.model.add_messages(uuid, turns=1)
    for n, uuid in enumerate(picked[UPDATED : UPDATED + RENAMED]):
        corpus.model.rename_chat(uuid, f"Renamed {round_no}.{n}")
    for uuid in picked[UPDATED + RENAMED :]:
        corpus.model.delete_chat(uuid)
    return set(picked)


def touched_paths(archive: Path, since: str) -> list[str]:
    """Every path changed between `since` and HEAD."""
    out = git(archive, "diff", "--name-only", "--no-renames", since, "HEAD")
    return [line for line in out.splitlines() if line.strip()]


def chat_of(path: str, uuids: set[str]) -> str | None:
    """The chat a path belongs to: its file (`chats/<title>-<uuid>.json`) or a file derived
    from it (`chat-files/<title>-<uuid>/...`)."""
    for part in path.split("/"):
        uuid = part.removesuffix(".json")[-36:]
        if uuid in uuids:
            return uuid
    return None


def measure(results: Results, chats: int, no_change_wall: float) -> None:
    corpus = ten_thousand(chats)
    before = git(corpus.archive, "rev-parse", "HEAD").strip()
    picked = change_some(corpus, 0)
    run = sync(corpus.server, corpus.archive, *CORPUS)
    fetches = run.requests.get("detail", 0)
    expected = 2 + UPDATED
    results.add(
        "small_change_requests",
        run.total_requests,
        "requests",
        f"= {expected} (2 + {UPDATED} fetches)",
        run.total_requests == expected,
    )
    results.add(
        "small_change_fetches",
        fetches,
        "requests",
        f"{UPDATED} updated + {RENAMED} renamed chats",
        None,
    )
    ratio = run.seconds / no_change_wall
    results.add("small_change_wall", run.seconds, "s", "informational")
    results.add("small_change_vs_no_change", ratio, "x", "≤ 1.5 x no-change sync", ratio <= 1.5)
    touched = touched_paths(corpus.archive, before)
    extra = sorted(path.rsplit("/", 1)[-1] for path in touched if chat_of(path, picked) is None)
    results.add(
        "small_change_files_outside_changes",
        len(extra),
        "files",
        f"= 0; seen: {', '.join(extra[:5]) or 'none'}",
        not extra,
    )
    missed = len(picked - {chat_of(path, picked) for path in touched})
    results.add("small_change_changes_not_committed", missed, "chats", "= 0", missed == 0)


def main(argv: list[str] | None = None) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=10_000)
    args = parser.parse_args(argv)
    results = Results("small_change")
    corpus = ten_thousand(args.chats)
    no_change = median([sync(corpus.server, corpus.archive, *CORPUS).seconds for _ in range(3)])
    results.add("small_change_baseline_no_change_wall", no_change, "s", "informational")
    measure(results, args.chats, no_change)
    results.emit()
    return results


if __name__ == "__main__":
    main()
