"""Benchmark 1: the first sync of 2,000 chats of mixed sizes, with 40 ms of server latency.

Wall time is compared with the ideal for the politeness settings: every request costs the
latency (plus the success delay, which holds the connection), spread over the connections:
`requests x (latency + delay) / connections`. Target: ≤ 1.15x that ideal at `-c 6 -d 0`.
Also at the defaults (`-c 2 -d 0.25`), reported against the same formula, on fewer chats
(`--defaults-chats`, 100) so that all benchmarks fit in ten minutes: the defaults are slow
on purpose. Uploads and sandbox files are fetched as by any sync, and counted as requests.

    python bench/bench_full_sync.py [--chats 2000] [--defaults-chats 200] [--latency 0.04]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import KEY, Results, add_mixed_chats, commits, new_model, serve, sync, workdir

from claude_backup.fakeapi import FakeClaudeServer

TARGET_RATIO = 1.15


def measure(
    results: Results, label: str, chats: int, latency: float, connections: int, delay: float
) -> None:
    model, org = new_model()
    add_mixed_chats(model, org, chats)
    archive = workdir(f"full-{label}") / "archive"
    with serve(model, latency) as server:
        run = sync(server, archive, "-c", str(connections), "-d", str(delay))
        in_flight = server.max_in_flight
        floor = http_floor(server, org.uuid, sorted(org.chats), connections) if not delay else 0
    ideal = run.total_requests * (latency + delay) / connections
    ratio = run.seconds / ideal
    flags = f"-c {connections} -d {delay:g}"
    results.add(f"full_sync_{label}_wall", run.seconds, "s", f"{flags}, {chats} chats")
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(run.requests.items()))
    results.add(f"full_sync_{label}_requests", run.total_requests, "requests", kinds)
    results.add(f"full_sync_{label}_ideal", ideal, "s", "requests x (latency+delay) / conns")
    results.add(
        f"full_sync_{label}_vs_ideal",
        ratio,
        "x",
        f"≤ {TARGET_RATIO} x ideal",
        ratio <= TARGET_RATIO,
    )
    if floor:
        results.add(
            f"full_sync_{label}_http_floor_vs_ideal",
            floor / (len(org.chats) * latency / connections),
            "x",
            "informational: bare httpx fetching the same chats with the same connections",
        )
    results.add(f"full_sync_{label}_max_in_flight", in_flight, "requests", f"= {connections}")
    results.add(f"full_sync_{label}_rss", run.rss_mb, "MB", "informational")
    if commits(archive) < 1:
        raise SystemExit("the full sync made no commit")


def http_floor(server: FakeClaudeServer, org: str, chats: list[str], connections: int) -> float:
    """Seconds a bare httpx client takes to fetch the same chats (bench/http_floor.py)."""
    env = {**os.environ, "CLAUDE_SESSION_KEY": KEY}
    out = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("http_floor.py")),
            server.base_url,
            str(connections),
        ],
        input="".join(f"{org} {chat}\n" for chat in chats),
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return float(out.strip())


def main(argv: list[str] | None = None) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.04)
    parser.add_argument("--defaults-chats", type=int, default=100, help="0 skips this run")
    args = parser.parse_args(argv)
    results = Results("full_sync")
    measure(results, "c6", args.chats, args.latency, 6, 0.0)
    if args.defaults_chats:
        measure(results, "defaults", args.defaults_chats, args.latency, 2, 0.25)
    results.emit()
    return results


if __name__ == "__main__":
    main()
