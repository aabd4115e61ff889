"""Projects cost nothing per project between full passes; a doc edit (which leaves the
project's `updated_at`) arrives at the next full pass; `count_all` catches a short listing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_backup.fakeapi import FakeClaude, FakeClaudeServer, Org, plus_of
from claude_backup.sync.run import SyncReport
from conftest import git, make_model, sync_in_process

ONLY_PROJECTS = {"profile": False, "skills": False, "catalog": False, "code": False}


@dataclass
class World:
    model: FakeClaude
    server: FakeClaudeServer
    org: Org
    archive: Path

    def sync(self, **settings: Any) -> SyncReport:
        report = sync_in_process(self.archive, self.server.base_url, **settings)
        assert report.failures == []
        return report

    def requests(self, **settings: Any) -> int:
        self.server.reset_stats()
        self.sync(**settings)
        self.server.wait_idle()
        return len(self.server.request_log())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    model = make_model(chats=3)
    with FakeClaudeServer(model) as server:
        yield World(model, server, model.accounts[0].orgs[0], tmp_path / "archive")


def test_a_no_change_sync_costs_the_same_with_1_or_20_projects(world: World) -> None:
    world.model.add_project(world.org, "One", "x")
    world.sync(**ONLY_PROJECTS)
    with_one = world.requests(**ONLY_PROJECTS)
    for i in range(19):
        world.model.add_project(world.org, f"More {i}", "y")
    world.sync(**ONLY_PROJECTS)
    assert world.requests(**ONLY_PROJECTS) == with_one
    # the daily full pass reads each project: detail, chats, docs, memory
    full = world.requests(full_pass_hours=0, **ONLY_PROJECTS)
    assert full == with_one + 4 * 20


def test_a_doc_edit_arrives_with_the_full_pass(world: World) -> None:
    project = world.model.add_project(world.org, "Thesis", "x")
    doc = world.model.add_doc(project.uuid, "outline.md", "v1\n")
    world.sync()
    world.model.edit_doc(project.uuid, doc.uuid, "v2\n")
    world.sync()  # within the day: the listing did not move, nothing is read
    (stored,) = world.archive.glob(f"*/*/projects/Thesis-{project.uuid}/docs/outline.md")
    assert stored.read_text() == "v1\n"
    report = world.sync(full_pass_hours=0)
    assert report.accounts[0].extras.project_full_pass
    assert stored.read_text() == "v2\n"
    assert "project doc changed: outline.md (Thesis)" in git(
        world.archive, "log", "-1", "--format=%B"
    )


def test_the_full_pass_is_remembered_between_syncs(world: World) -> None:
    world.model.add_project(world.org, "Thesis", "x")
    assert world.sync().accounts[0].extras.project_full_pass  # the first: nothing remembered
    assert not world.sync().accounts[0].extras.project_full_pass
    state = world.archive / ".git" / "claude-backup" / "extras.json"
    data = json.loads(state.read_bytes())
    data["projects_full_pass"] = {k: 0 for k in data["projects_full_pass"]}  # a day later
    state.write_text(json.dumps(data))
    assert world.sync().accounts[0].extras.project_full_pass


def test_a_renamed_project_is_read_at_once(world: World) -> None:
    project = world.model.add_project(world.org, "Thesis", "x")
    world.sync()
    world.model.rename_project(project.uuid, "Dissertation")
    world.model.set_instructions(project.uuid, "In English.")
    world.server.reset_stats()
    world.sync()
    asked = [r.path for r in world.server.request_log() if project.uuid in r.path]
    assert any(p.endswith(project.uuid) for p in asked)  # the detail, at once
    (folder,) = world.archive.glob(f"*/*/projects/Dissertation-{project.uuid}")
    assert (folder / "instructions.md").read_text() == "In English."


def test_a_short_listing_is_paged_again_and_reported(world: World) -> None:
    for i in range(6):
        world.model.add_chat(world.org, f"Extra {i}")
    plus_of(world.model).listing_cap = 3  # the unpaged listing stops short
    report = world.sync(**ONLY_PROJECTS)
    stored = list(world.archive.glob(f"*/*-{world.org.uuid}/chats/*.json"))
    assert len(stored) == len(world.org.chats)
    (gap,) = report.accounts[0].listing_gaps
    assert "paging again found them" in gap


def test_a_gap_paging_cannot_close_is_reported_once(world: World) -> None:
    plus = plus_of(world.model)
    plus.serve_raw(world.org, "count_all", {"count": len(world.org.chats) + 5})
    first = world.sync(**ONLY_PROJECTS)
    (gap,) = first.accounts[0].listing_gaps
    assert "count_all says" in gap and "even when paged again" in gap
    world.server.reset_stats()
    again = world.sync(**ONLY_PROJECTS)
    assert again.accounts[0].listing_gaps == []
    lists = [r for r in world.server.request_log() if r.kind == "list"]
    assert len(lists) == 2  # one listing per organization, not paged again
