"""Benchmark 5: repository size and push cost after 30 syncs of small changes (10,000 chats).

Each round changes a few chats on the fake (10 updated, 2 renamed, 1 deleted) and syncs.
Targets: `.git` ≤ 1.3x the size real `git gc` reaches on a copy of the same history; objects
are packed (no loose objects left). Push cost: a bare clone made before the 30 rounds is
brought up to date with real `git push`; its time and the pack git sends are reported.

    python bench/bench_repo_size.py [--chats 10000] [--rounds 30]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_small_change import change_some
from common import CORPUS, Results, bench_main, dir_size, git, sync, ten_thousand, workdir

TARGET_RATIO = 1.3


def loose_objects(archive: Path) -> int:
    for line in git(archive, "count-objects", "-v").splitlines():
        if line.startswith("count:"):
            return int(line.split(":")[1])
    return -1


def measure(results: Results, chats: int, rounds: int) -> None:
    corpus = ten_thousand(chats)
    scratch = workdir("repo-size")
    remote = scratch / "remote.git"
    git(corpus.archive, "clone", "--quiet", "--bare", str(corpus.archive), str(remote))
    base = git(corpus.archive, "rev-parse", "HEAD").strip()
    sync_times = []
    for round_no in range(1, rounds + 1):
        change_some(corpus, round_no)
        sync_times.append(sync(corpus.server, corpus.archive, *CORPUS).seconds)
    ours = dir_size(corpus.archive / ".git")
    loose = loose_objects(corpus.archive)
    copy = scratch / "gc-copy.git"
    shutil.copytree(corpus.archive / ".git", copy, symlinks=True)
    subprocess.run(["git", "--git-dir", str(copy), "gc", "--quiet"], check=True)
    theirs = dir_size(copy)
    ratio = ours / theirs
    results.add("repo_git_size", ours / 1e6, "MB", f"after {rounds} small-change syncs")
    results.add("repo_git_gc_size", theirs / 1e6, "MB", "real git gc on a copy")
    results.add(
        "repo_size_vs_git_gc", ratio, "x", f"≤ {TARGET_RATIO} x git gc", ratio <= TARGET_RATIO
    )
    results.add("repo_loose_objects", loose, "objects", "= 0 (packed)", loose == 0)
    packs = len(list((corpus.archive / ".git" / "objects" / "pack").glob("*.pack")))
    results.add("repo_packs", packs, "packs", "informational")
    results.add(
        "repo_small_sync_median", sorted(sync_times)[len(sync_times) // 2], "s", "informational"
    )
    rev_range = f"{base}..HEAD"
    thin = subprocess.run(
        ["git", "-C", str(corpus.archive), "pack-objects", "--revs", "--thin", "--stdout", "-q"],
        input=f"HEAD\n^{base}\n".encode(),
        capture_output=True,
        check=True,
    ).stdout
    results.add("push_pack_size", len(thin) / 1e6, "MB", f"what git sends for {rev_range[:7]}…")
    started = time.perf_counter()
    git(corpus.archive, "push", "--quiet", str(remote), "HEAD:refs/heads/main")
    results.add("push_seconds", time.perf_counter() - started, "s", "real git push, informational")


def main(argv: list[str] | None = None) -> Results:
    return bench_main("repo_size", __doc__ or "", measure, argv, chats=10_000, rounds=30)


if __name__ == "__main__":
    main()
