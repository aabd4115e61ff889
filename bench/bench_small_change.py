"""Benchmark 3: a sync after a few changes on claude.ai, on the 10,000-chat archive.

10 chats get new messages, 2 are renamed, 1 is deleted, in each of 3 rounds. Targets:
requests = the no-change requests + 10 fetches; wall time (median of the rounds) ≤ 1.5x the
no-change sync (median of 3); the commit(s) touch only the files of those 13 chats.

    python bench/bench_small_change.py [--chats 10000] [--rounds 3]
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


def measure(results: Results, chats: int, no_change_wall: float, rounds: int) -> None:
    """`rounds` rounds of small changes, each on other chats; wall time is their median (one
    sync of 2-3 s moves by a few tenths on a shared machine)."""
    corpus = ten_thousand(chats)
    walls, totals, fetches = [], [], []
    extra: list[str] = []
    missed = 0
    for round_no in range(rounds):
        before = git(corpus.archive, "rev-parse", "HEAD").strip()
        picked = change_some(corpus, 100 + round_no)  # rounds other than bench_repo_size's
        run = sync(corpus.server, corpus.archive, *CORPUS)
        walls.append(run.seconds)
        totals.append(run.total_requests)
        fetches.append(run.requests.get("detail", 0))
        touched = touched_paths(corpus.archive, before)
        extra += sorted(p.rsplit("/", 1)[-1] for p in touched if chat_of(p, picked) is None)
        missed += len(picked - {chat_of(path, picked) for path in touched})
    expected = 3 + UPDATED  # account, listing, count_all
    results.add(
        "small_change_requests",
        max(totals),
        "requests",
        f"= {expected} (3 + {UPDATED} fetches), most of {rounds} rounds",
        max(totals) == expected,
    )
    results.add(
        "small_change_fetches", max(fetches), "requests", f"{UPDATED} updated, {RENAMED} renamed"
    )
    wall = median(walls)
    ratio = wall / no_change_wall
    results.add("small_change_wall", wall, "s", f"median of {rounds} rounds")
    results.add("small_change_vs_no_change", ratio, "x", "≤ 1.5 x no-change sync", ratio <= 1.5)
    results.add(
        "small_change_files_outside_changes",
        len(extra),
        "files",
        f"= 0; seen: {', '.join(extra[:5]) or 'none'}",
        not extra,
    )
    results.add("small_change_changes_not_committed", missed, "chats", "= 0", missed == 0)


def main(argv: list[str] | None = None) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    results = Results("small_change")
    corpus = ten_thousand(args.chats)
    no_change = median([sync(corpus.server, corpus.archive, *CORPUS).seconds for _ in range(3)])
    results.add("small_change_baseline_no_change_wall", no_change, "s", "informational")
    measure(results, args.chats, no_change, args.rounds)
    results.emit()
    return results


if __name__ == "__main__":
    main()
