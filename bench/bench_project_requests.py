"""Benchmark: requests of a sync that finds nothing new, with 4 projects and with 400 (issue 17).

Each project has two knowledge docs, a memory and a file. After a first sync, a second sync
finds nothing new; the requests it makes are counted by the fake server, in all and those
naming a project. Target: the same count with 4 projects as with 400 (between full passes);
the daily full pass (`--full-pass-hours 0` forces it) reads 4 per project.

`--before-cli PATH` runs the same worlds with another build of the CLI (say, the release
before this change) and reports its counts beside ours.

    python bench/bench_project_requests.py [--projects 4 400] [--before-cli PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from common import FAST, Results, new_model, serve, sync, workdir

from claude_backup.fakeapi import FakeClaude, FakeClaudeServer


def world(projects: int) -> FakeClaude:
    model, org = new_model(seed=3)
    for i in range(20):
        model.add_chat(org, f"Chat {i}", turns=2)
    for i in range(projects):
        project = model.add_project(org, f"Project {i}", "Be brief.")
        model.add_doc(project.uuid, "notes.md", f"notes {i}\n")
        model.add_doc(project.uuid, "plan.md", f"plan {i}\n")
        model.add_project_file(project.uuid, "document", f"brief-{i}.pdf")
        model.set_memory(org, f"Project {i} memory.", project.uuid)
    return model


def no_change(server: FakeClaudeServer, archive: Path, *flags: str) -> tuple[int, int]:
    """(all requests, requests naming a project) of one sync."""
    sync(server, archive, *FAST, *flags)
    log = server.request_log()
    per_project = sum(1 for r in log if "/projects/" in r.path or "project_uuid=" in r.query)
    return len(log), per_project


def measure(results: Results, sizes: list[int], cli: str, label: str, new: bool) -> None:
    counts: dict[int, int] = {}
    for size in sizes:
        archive = workdir(f"projects-{label}-{size}") / "archive"
        with serve(world(size), latency=0.0) as server:
            common.CLI = cli
            sync(server, archive, *FAST)  # the first sync: everything, and the full pass
            total, per_project = no_change(server, archive)
            counts[size] = total
            results.add(
                f"no_change_requests_{label}_{size}_projects",
                total,
                "requests",
                f"{per_project} of them name a project",
            )
            if new:
                full, _ = no_change(server, archive, "--full-pass-hours", "0")
                results.add(
                    f"full_pass_requests_{size}_projects",
                    full,
                    "requests",
                    f"the daily full pass: {(full - total) / max(size, 1):.1f} more per project",
                )
    if new and len(counts) > 1:
        flat = len(set(counts.values())) == 1
        results.add(
            "no_change_requests_grow_with_projects",
            max(counts.values()) - min(counts.values()),
            "requests",
            "= 0 between full passes",
            flat,
        )


def main(argv: list[str] | None = None) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, nargs="+", default=[4, 400])
    parser.add_argument("--before-cli", help="another build of claude-backup to compare with")
    args = parser.parse_args(argv)
    results = Results("project_requests")
    ours = common.CLI
    measure(results, args.projects, ours, "now", new=True)
    if args.before_cli:
        measure(results, args.projects, os.path.expanduser(args.before_cli), "before", new=False)
    common.CLI = ours
    results.emit()
    return results


if __name__ == "__main__":
    main()
