"""Issue 17 end to end, in process against the fake Claude.ai: profile, styles, skills, memory
mode, the artifact catalog and Claude Code sessions stored raw and readable, incrementally, with
commit lines; features missing (404) skipped quietly; unknown shapes stored raw and reported."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from claude_backup.cli.sync_run import notes
from claude_backup.fakeapi import FakeClaude, FakeClaudeServer, Fault, Org, Plus, plus_of
from claude_backup.model.naming import safe_relative
from claude_backup.read.memory_mode import MELANGE_NOTE, melange_orgs
from claude_backup.sync.extras.skills import unpack
from claude_backup.sync.run import SyncReport
from conftest import assert_git_healthy, git, make_model, sync_in_process

SKILL = {"SKILL.md": b"---\nname: notes\n---\nWrite notes.\n", "ref/style.md": b"Short.\n"}


@dataclass
class World:
    model: FakeClaude
    server: FakeClaudeServer
    plus: Plus
    org: Org  # the personal organization
    team: Org
    archive: Path

    def sync(self, **settings: Any) -> SyncReport:
        report = sync_in_process(self.archive, self.server.base_url, **settings)
        assert report.failures == []
        return report

    def paths(self) -> list[str]:
        return [r.path for r in self.server.request_log()]

    def message(self) -> str:
        return git(self.archive, "log", "-1", "--format=%B")

    def one(self, pattern: str) -> Path:
        """The one file matching `pattern`; `*/*/` means the personal organization's folder."""
        if pattern.startswith("*/*/"):
            pattern = f"*/*-{self.org.uuid}/{pattern[4:]}"
        (found,) = self.archive.glob(pattern)
        return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    model = make_model(chats=4)
    account = model.accounts[0]
    org, team = account.orgs[0], account.orgs[1]
    plus = plus_of(model)
    with FakeClaudeServer(model) as server:
        yield World(model, server, plus, org, team, tmp_path / "archive")


def test_every_part_is_stored_raw_and_readable(world: World) -> None:
    account = world.model.accounts[0]
    world.plus.set_profile(account, conversation_preferences="Metric units, please.")
    world.plus.add_style(world.org, "Terse", "Be terse.", "Short answers")
    world.plus.add_skill(world.org, "notes", SKILL)
    world.plus.add_skill(world.org, "pdf", {"SKILL.md": b"x"}, creator_type="anthropic")
    chat = sorted(world.org.chats)[0]
    world.plus.add_catalog_artifact(world.org, chat, "dash", "Dashboard")
    session = world.plus.add_code_session(world.org, "Fix CI", turns=3)
    report = world.sync()

    profile = world.one("*/profile/account_profile.json")
    assert json.loads(profile.read_bytes())["conversation_preferences"] == "Metric units, please."
    assert profile.read_text().startswith("{\n  ")  # pretty, as chats are
    assert "Metric units, please." in world.one("*/profile/preferences.md").read_text()
    styles = world.one("*/*/styles/list_styles.json")
    assert json.loads(styles.read_bytes())["customStyles"][0]["prompt"] == "Be terse."
    assert (
        world.one("*/*/styles/Terse-*.md").read_text()
        == "# Terse\n\n_Short answers_\n\nBe terse.\n"
    )
    skill = world.one("*/*/skills/notes")
    assert (skill / "SKILL.md").read_bytes() == SKILL["SKILL.md"]
    assert (skill / "ref" / "style.md").read_bytes() == SKILL["ref/style.md"]
    assert not list(world.archive.glob("*/*/skills/pdf"))  # Anthropic's: the raw list only
    catalog = world.one("*/*/artifact-catalog/user_artifacts.json")
    assert json.loads(catalog.read_bytes())["artifacts"][0]["title"] == "Dashboard"
    published = json.loads(world.one("*/*/artifact-catalog/published_artifacts.json").read_bytes())
    page = f"https://claude.ai/public/artifacts/{published[0]['published_artifact_uuid']}"
    assert page in world.one("*/*/artifact-catalog/catalog.md").read_text()
    folder = world.one(f"*/*/code-sessions/Fix CI-{session.id}")
    lines = (folder / "events.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == session.events
    transcript = (folder / "transcript.md").read_text()
    assert "## User" in transcript and "Done with task 3." in transcript
    settings = json.loads(world.one(f"*/*-{world.org.uuid}/memory-settings.json").read_bytes())
    assert settings["memory_mode"] == "classic"
    assert report.accounts[0].extras.skills == 1 and report.accounts[0].extras.code_sessions == 1
    message = world.message()
    for line in (
        "profile preferences added",
        "style added: Terse",
        "skill added: notes",
        "artifact published: Dashboard",
        "Claude Code session added: Fix CI",
        "memory mode: classic",
    ):
        assert line in message
    assert "skill added: pdf" not in message
    assert_git_healthy(world.archive)


def test_a_long_session_is_read_page_after_page(world: World) -> None:
    session = world.plus.add_code_session(world.org, "Long", turns=120)  # 240 events
    world.sync()
    asked = [r for r in world.server.request_log() if r.path.endswith(f"{session.id}/events")]
    assert [r.query for r in asked] == ["limit=100", "limit=100&cursor=100", "limit=100&cursor=200"]
    stored = world.one(f"*/*/code-sessions/Long-{session.id}/events.jsonl").read_text()
    numbers = [json.loads(line)["sequence_num"] for line in stored.splitlines()]
    assert numbers == list(range(1, 241))


def test_later_syncs_fetch_only_what_changed(world: World) -> None:
    account = world.model.accounts[0]
    world.plus.add_skill(world.org, "notes", SKILL)
    session = world.plus.add_code_session(world.org, "Fix CI", turns=1)
    world.sync()
    head = git(world.archive, "rev-parse", "HEAD")
    world.server.reset_stats()
    world.sync()
    assert git(world.archive, "rev-parse", "HEAD") == head
    assert not [p for p in world.paths() if "download-dot-skill-file" in p or "/events" in p]

    world.plus.edit_skill(world.org, "notes", {"SKILL.md": b"---\nname: notes\n---\nv2\n"})
    world.plus.add_code_turns(world.org, session.id, 1)
    world.plus.set_profile(account, conversation_preferences="Shorter.")
    world.server.reset_stats()
    world.sync()
    assert sum("download-dot-skill-file" in p for p in world.paths()) == 1
    assert sum(p.endswith(f"{session.id}/events") for p in world.paths()) == 1
    skill = world.one("*/*/skills/notes")
    assert (skill / "SKILL.md").read_bytes().endswith(b"v2\n")
    assert not (skill / "ref").exists()  # a file gone from the skill leaves the tree
    message = world.message()
    assert "skill updated: notes" in message
    assert message.count("skill updated: notes") == 1
    assert "profile preferences changed" in message
    assert "Claude Code session updated: Fix CI" in message

    world.plus.remove_skill(world.org, "notes")
    world.sync()
    assert not list(world.archive.glob("*/*/skills/notes"))
    assert "skill removed: notes" in world.message()
    assert_git_healthy(world.archive)


def test_a_session_that_leaves_the_listing_stays(world: World) -> None:
    session = world.plus.add_code_session(world.org, "Old work", turns=1)
    world.sync()
    world.plus.org(world.org).sessions.clear()  # ended by the service after a week
    world.sync()
    folder = world.one(f"*/*/code-sessions/Old work-{session.id}")
    assert (folder / "events.jsonl").read_text().count("\n") == 2


def test_missing_features_are_skipped_quietly_with_a_debug_note(world: World) -> None:
    for feature in ("skills", "styles", "code_sessions", "user_artifacts", "memory_settings"):
        world.plus.disable(world.org, feature)
        world.plus.disable(world.team, feature)
    world.plus.disable(world.model.accounts[0], "profile")
    report = world.sync()
    skipped = report.accounts[0].extras.skipped
    assert {"skills", "styles", "Claude Code sessions", "artifact catalog", "profile"} <= set(
        skipped
    )
    assert not notes(report, debug=False)
    lines = notes(report, debug=True)
    assert len([line for line in lines if "skipped skills" in line]) == 1  # once, not per org
    assert all(line.startswith("debug: skipped") for line in lines)
    assert not list(world.archive.glob("*/*/skills")) and not list(world.archive.glob("*/profile"))


@pytest.mark.parametrize(
    ("feature", "stored_at", "said"),
    [
        ("styles", "styles/list_styles.json", "list_styles has no customStyles list"),
        ("skills", "skills/list-skills.json", "list-skills has no skills list"),
        ("code_sessions", "code-sessions/sessions.json", "/v1/code/sessions has no data list"),
    ],
)
def test_an_unexpected_shape_is_stored_raw_and_reported_once(
    world: World, feature: str, stored_at: str, said: str
) -> None:
    odd = {feature: "moved elsewhere", "version": 2}
    world.plus.serve_raw(world.org, feature, odd)
    world.plus.serve_raw(world.team, feature, odd)
    report = world.sync()
    stored = world.one(f"*/*-{world.org.uuid}/{stored_at}")
    assert json.loads(stored.read_bytes()) == odd
    warnings = [line for line in notes(report, debug=False) if line.startswith("warning")]
    assert len(warnings) == 1 and f"({said}; stored as is)" in warnings[0], warnings


def test_melange_mode_is_said_once_in_the_summary_and_in_status(world: World) -> None:
    world.model.set_memory(world.org, "Ada writes programs.")
    world.plus.set_melange(world.team)
    report = world.sync()
    lines = [line for line in notes(report, debug=False) if MELANGE_NOTE in line]
    assert len(lines) == 1 and "Team Org" in lines[0]
    assert melange_orgs(world.archive) == [
        str(world.one(f"*/*-{world.team.uuid}").relative_to(world.archive))
    ]
    world.plus.set_melange(world.org)
    world.sync()
    assert "memory mode changed: classic → melange" in world.message()


def test_skill_zips_cannot_write_outside_their_folder() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes/SKILL.md", b"ok")
        archive.writestr("notes/../../evil.txt", b"no")
        archive.writestr("/etc/passwd", b"no")
        archive.writestr("C:/x.txt", b"no")
        archive.writestr("notes/sub/CON", b"device name")
    files = unpack(out.getvalue())
    assert files["SKILL.md"] == b"ok"
    assert not [p for p in files if ".." in p or p.startswith("/") or ":" in p]
    assert len(files) == 2
    assert safe_relative("a/./b//c.md") == ["a", "b", "c.md"]
    assert safe_relative("../x") is None and safe_relative("") is None


def test_a_skill_that_is_not_a_zip_is_kept_as_it_came(world: World) -> None:
    skill = world.plus.add_skill(world.org, "odd", SKILL)
    skill.zip_bytes = lambda: b"not a zip"  # type: ignore[method-assign]
    report = world.sync()
    assert world.one("*/*/skills/odd/odd.skill").read_bytes() == b"not a zip"
    assert "skills" in report.accounts[0].extras.unexpected


def test_switches_leave_each_part_out(world: World) -> None:
    world.plus.add_skill(world.org, "notes", SKILL)
    world.plus.add_code_session(world.org, "Fix CI")
    world.sync(profile=False, skills=False, catalog=False, code=False)
    asked = " ".join(world.paths())
    for what in ("account_profile", "list_styles", "list-skills", "user_artifacts", "/v1/code"):
        assert what not in asked
    for folder in ("profile", "*/styles", "*/skills", "*/artifact-catalog", "*/code-sessions"):
        assert not list(world.archive.glob(f"*/{folder}"))


def test_claude_code_refusing_the_cookie_is_skipped_not_fatal(world: World) -> None:
    world.plus.add_code_session(world.org, "Fix CI")
    world.server.faults.add(Fault("status", status=401, path_contains="/v1/code/", times=None))
    report = world.sync()  # the chats and everything else are still backed up
    assert "Claude Code sessions" in report.accounts[0].extras.skipped
    assert not list(world.archive.glob("*/*/code-sessions"))
    assert list(world.archive.glob("*/*/chats/*.json"))


def test_a_failed_feature_is_reported_and_the_rest_kept(world: World) -> None:
    world.plus.add_skill(world.org, "notes", SKILL)
    world.server.faults.add(Fault("status", status=400, path_contains="list-skills", times=None))
    report = sync_in_process(world.archive, world.server.base_url)
    assert any(f.startswith("skills:") for f in report.failures)
    assert report.accounts[0].commit is not None  # the rest is committed
