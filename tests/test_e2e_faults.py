"""A bad day must not hurt the archive: faults injected into the fake API and into the process."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_backup.fakeapi import FakeClaudeServer, Fault
from conftest import (
    CLI,
    FAST_FLAGS,
    KEY,
    Fake,
    assert_archive_matches,
    assert_git_healthy,
    chat_files,
    commit_count,
    git,
    make_model,
    sync,
)


def head(archive: Path) -> str | None:
    if commit_count(archive) == 0:
        return None
    return git(archive, "rev-parse", "HEAD").strip()


def details(fake: Fake) -> int:
    return fake.server.count("detail")


def assert_untouched(archive: Path, before: str | None, *, killed: bool = False) -> None:
    """No commit, no half-written file, git clean. A process killed with SIGKILL cannot delete
    its temp file: that one may stay (git ignores it; the next sync removes it)."""
    assert head(archive) == before
    if (archive / ".git").exists():
        git(archive, "fsck", "--full")
        assert "claude-backup-tmp" not in git(archive, "status", "--porcelain")
    temps = list(archive.rglob(".claude-backup-tmp-*"))
    assert len(temps) <= (4 if killed else 0)
    for path in archive.rglob("*.json"):
        if ".git" not in path.parts and path not in temps:
            json.loads(path.read_bytes())


@pytest.fixture
def synced(fake: Fake, tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    assert sync(fake, archive).returncode == 0
    return archive


# -- errors a user can act on -------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_fails_fast(fake: Fake, synced: Path, status: int) -> None:
    fake.server.invalid_session_status = status
    before = head(synced)
    started = time.monotonic()
    result = sync(fake, synced, key="sk-ant-sid01-wrong-key", extra_env={})
    assert result.returncode == 4
    assert time.monotonic() - started < 10
    assert "session key expired or invalid" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "wrong-key" not in result.stderr
    assert_untouched(synced, before)


def test_missing_key_says_where_keys_come_from(fake: Fake, tmp_path: Path) -> None:
    result = sync(fake, tmp_path / "a", key=None, extra_env={"HOME": str(tmp_path)})
    assert result.returncode == 4
    assert "CLAUDE_SESSION_KEY" in result.stderr and "--session-key-file" in result.stderr


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        (Fault("html", endpoint="account", times=None), 5, "Cloudflare"),
        (Fault("html", status=503, endpoint="list", times=None), 5, "Cloudflare"),
        (Fault("redirect", endpoint="account", times=None), 5, "region"),
        (Fault("html_200", endpoint="account", times=None), 6, "HTML"),
        (Fault("html_200", endpoint="detail", times=None), 6, "HTML"),
    ],
)
def test_blocks_and_non_json_end_the_run_cleanly(
    fake: Fake, synced: Path, fault: Fault, code: int, words: str
) -> None:
    fake.model.add_messages(next(iter(fake.model.accounts[0].orgs[0].chats)), 1)
    before = head(synced)
    fake.server.faults.add(dataclasses.replace(fault))
    result = sync(fake, synced)
    assert result.returncode == code, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert_untouched(synced, before)


def test_debug_shows_a_traceback_without_the_key(fake: Fake, synced: Path) -> None:
    fake.server.faults.add(Fault("html", endpoint="account", times=None))
    result = sync(fake, synced, "--debug")
    assert result.returncode == 5 and "Traceback" in result.stderr
    assert KEY not in result.stderr + result.stdout


def test_archive_that_cannot_be_written(fake: Fake, tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = sync(fake, a_file)
    assert result.returncode == 7 and "not a directory" in result.stderr
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert sync(fake, locked / "archive").returncode == 7


@contextlib.contextmanager
def tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A small real file system of our own (root only), unmounted afterwards."""
    mount.mkdir()
    mounted = (
        os.geteuid() == 0
        and not subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True
        ).returncode
    )
    if not mounted:
        pytest.skip("needs root to mount a tmpfs")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_is_reported_and_harmless(fake: Fake, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "160k") as mount:
        org = fake.model.accounts[0].orgs[0]
        for _ in range(3):
            fake.model.add_chat(org, "big", turns=4, text_size=20_000)
        archive = mount / "archive"
        result = sync(fake, archive)
        assert result.returncode == 7, result.stderr
        assert "disk is full" in result.stderr
        assert_untouched(archive, None)


def test_read_only_archive_is_reported_and_harmless(fake: Fake, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "4m") as mount:
        archive = mount / "archive"
        assert sync(fake, archive).returncode == 0
        before = head(archive)
        fake.model.add_messages(next(iter(fake.model.accounts[0].orgs[0].chats)), 1)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        result = sync(fake, archive)
        assert result.returncode == 7, result.stderr
        assert "read-only" in result.stderr and "Traceback" not in result.stderr
        assert_untouched(archive, before)


def test_second_sync_on_the_same_archive_fails_fast(fake: Fake, synced: Path) -> None:
    for chat in list(fake.model.accounts[0].orgs[0].chats):
        fake.model.add_messages(chat, 1)
    fake.server.latency = 0.3
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    env.update(CLAUDE_SESSION_KEY=KEY, CLAUDE_BACKUP_BASE_URL=fake.base_url)
    first = subprocess.Popen(
        [CLI, "sync", str(synced), "-q", *FAST_FLAGS], env=env, stdin=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while fake.server.count("account") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        second = sync(fake, synced)
        assert second.returncode == 8 and "another claude-backup sync" in second.stderr
    finally:
        assert first.wait(60) == 0
    fake.server.latency = 0
    assert_archive_matches(fake, synced)
    assert_git_healthy(synced)


# -- network and server faults -------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=500, endpoint="detail", times=2),
        Fault("status", status=502, endpoint="list", times=1),
        Fault("status", status=503, endpoint="account", times=1),
        Fault("status", status=504, endpoint="detail", times=1),
        Fault("rate_limit", endpoint="detail", times=2),
        Fault("reset", endpoint="detail", times=2),
        Fault("reset", endpoint="account", times=1),
        Fault("invalid_json", endpoint="detail", times=2),
        Fault("invalid_json", endpoint="list", times=1),
    ],
    ids=lambda f: f"{f.kind}-{f.status}-{f.endpoint}",
)
def test_transient_faults_are_retried(fake: Fake, tmp_path: Path, fault: Fault) -> None:
    fake.server.faults.add(dataclasses.replace(fault))  # the plan counts `times` down
    archive = tmp_path / "archive"
    result = sync(fake, archive)
    assert result.returncode == 0, result.stderr
    assert fake.server.faults.hits() == fault.times
    assert_archive_matches(fake, archive)
    assert_git_healthy(archive)


def test_retry_after_is_honoured_and_slows_everyone(fake: Fake, tmp_path: Path) -> None:
    fake.server.faults.add(Fault("rate_limit", retry_after="1", endpoint="detail", times=1))
    started = time.monotonic()
    result = sync(fake, tmp_path / "archive")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 1.0
    log = sorted(fake.server.request_log(), key=lambda r: r.time)
    hit = next(r.time for r in log if r.status == 429)
    # Requests already on the wire when the 429 came back may land just after it; after that,
    # nobody may ask until Retry-After has passed.
    quiet = [r for r in log if hit + 0.2 < r.time < hit + 0.95]
    assert quiet == [] and any(r.time >= hit + 0.95 for r in log)


def test_retry_after_as_http_date(fake: Fake, tmp_path: Path) -> None:
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2))
    fake.server.faults.add(Fault("rate_limit", retry_after=when, endpoint="account", times=1))
    started = time.monotonic()
    assert sync(fake, tmp_path / "archive").returncode == 0
    assert time.monotonic() - started >= 0.9


def test_retries_run_out_then_partial_failure(fake: Fake, tmp_path: Path) -> None:
    victim = next(iter(fake.model.accounts[0].orgs[0].chats))
    fake.server.faults.add(Fault("status", status=500, path_contains=victim, times=None))
    archive = tmp_path / "archive"
    result = sync(fake, archive, "-r", "2")
    assert result.returncode == 3, result.stderr
    assert victim in result.stderr and "everything else was committed" in result.stderr
    assert fake.server.faults.hits() == 3
    files = chat_files(archive)
    assert victim not in files and len(files) == 5
    assert_git_healthy(archive)
    fake.server.faults.clear()
    assert sync(fake, archive).returncode == 0
    assert_archive_matches(fake, archive)


def test_client_errors_are_not_retried(fake: Fake, tmp_path: Path) -> None:
    victim = next(iter(fake.model.accounts[0].orgs[0].chats))
    fake.server.faults.add(Fault("status", status=400, path_contains=victim, times=None))
    result = sync(fake, tmp_path / "archive")
    assert result.returncode == 3
    assert fake.server.faults.hits() == 1


def test_chat_deleted_between_listing_and_fetch_is_a_deletion(fake: Fake, synced: Path) -> None:
    victim = next(iter(fake.model.accounts[0].orgs[0].chats))
    fake.model.add_messages(victim, 1)
    fake.server.faults.add(Fault("not_found", path_contains=victim, endpoint="detail"))
    result = sync(fake, synced)
    assert result.returncode == 0, result.stderr
    assert victim in chat_files(synced, "deleted")
    assert f"Chat-Deleted: {victim}" in git(synced, "log", "-1", "--format=%B")


def test_a_stalled_server_times_out_and_is_retried(fake: Fake, tmp_path: Path) -> None:
    fake.server.faults.add(Fault("stall", seconds=30, endpoint="detail", times=1))
    started = time.monotonic()
    result = sync(fake, tmp_path / "archive", "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20  # far less than waiting out the stall
    assert_archive_matches(fake, tmp_path / "archive")


def test_politeness_limits_connections(fake: Fake, tmp_path: Path) -> None:
    org = fake.model.accounts[0].orgs[0]
    for i in range(30):
        fake.model.add_chat(org, f"more {i}")
    fake.server.latency = 0.02
    result = sync(fake, tmp_path / "archive", "-c", "3")
    assert result.returncode == 0
    assert fake.server.max_in_flight == 3


def test_mixed_faults_on_a_fifth_of_requests(tmp_path: Path) -> None:
    model = make_model(chats=120, seed=3)
    with FakeClaudeServer(model) as server:
        fake = Fake(model, server)
        server.faults.random_mix(0.2, seed=11)
        archive = tmp_path / "archive"
        result = sync(fake, archive, "-r", "12")
        assert result.returncode == 0, result.stderr
        assert server.faults.hits() > 10
        for chat in list(model.accounts[0].orgs[0].chats)[:20]:
            model.add_messages(chat, 1)
        assert sync(fake, archive, "-r", "12").returncode == 0
        server.faults.clear()
        assert_archive_matches(fake, archive)
        assert_git_healthy(archive)


def test_unexpected_shapes_are_stored_or_reported(
    fake: Fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = list(fake.model.accounts[0].orgs[0].chats.values())
    odd, broken = chats[0], chats[1]
    original = fake.model.chat_detail

    def detail(chat):  # type: ignore[no-untyped-def]
        if chat.uuid == broken.uuid:
            return ["not", "an", "object"]
        data = original(chat)
        if chat.uuid == odd.uuid:
            data = {**data, "name": None, "brand_new_field": {"x": [1, None]}, "model": None}
            data.pop("created_at", None)
        return data

    monkeypatch.setattr(fake.model, "chat_detail", detail)
    archive = tmp_path / "archive"
    result = sync(fake, archive)
    assert result.returncode == 3 and broken.uuid in result.stderr
    stored = json.loads(chat_files(archive)[odd.uuid].read_bytes())
    assert stored == detail(odd)
    assert_git_healthy(archive)


# -- crashes and interruptions ---------------------------------------------------------------------


def start_sync(fake: Fake, archive: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    env.update(CLAUDE_SESSION_KEY=KEY, CLAUDE_BACKUP_BASE_URL=fake.base_url)
    return subprocess.Popen(
        [CLI, "sync", str(archive), *FAST_FLAGS],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def kill_and_resume(fake: Fake, archive: Path, saved: int, sig: int) -> bool:
    """Start a sync, signal it once it has saved `saved` chats, check the archive, finish the
    job with another sync and check that. Returns whether the signal interrupted the run."""
    before = head(archive)
    process = start_sync(fake, archive)
    assert process.stdout is not None
    if sig == signal.SIGINT:  # Ctrl-C inside the interpreter's own start-up is Python's
        saved = max(saved, 1)
    for _ in range(saved):
        if not process.stdout.readline():
            break
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=30)  # keep reading: a closed pipe would kill it
    code = process.returncode
    if code == 0:  # finished before the signal: fine, nothing to resume
        assert_archive_matches(fake, archive)
        return False
    assert code in (-signal.SIGKILL, 130), stderr
    moved_on = head(archive) != before
    if not moved_on:
        assert_untouched(archive, before, killed=sig == signal.SIGKILL)
    else:  # killed after the branch moved: that sync is complete
        git(archive, "fsck", "--full")
    # A rename cut short leaves two copies of a chat until the next sync keeps one of them.
    fresh: dict[str, list[bool]] = {}
    for path in archive.glob("*/*/chats/*.json"):
        if path.name.startswith(".claude-backup-tmp-"):
            continue
        found = fake.model.find_chat(path.name[-41:-5])
        current = found is not None and json.loads(path.read_bytes()) == fake.model.chat_detail(
            found[1]
        )
        fresh.setdefault(path.name[-41:-5], []).append(current)
    fake.server.reset_stats()
    result = sync(fake, archive)
    assert result.returncode == 0, result.stderr
    total = sum(len(o.chats) for o in fake.model.accounts[0].orgs if "chat" in o.capabilities)
    surely_stale = total - sum(any(copies) for copies in fresh.values())
    maybe_stale = total - sum(all(copies) for copies in fresh.values())
    fetched = details(fake)
    assert surely_stale <= fetched <= maybe_stale, "chats already written were downloaded again"
    assert_archive_matches(fake, archive)
    assert_git_healthy(archive)
    return True


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_at_random_points_loses_nothing(tmp_path: Path, sig: int) -> None:
    model = make_model(chats=150, seed=5)
    rng = random.Random(sig)
    with FakeClaudeServer(model, latency=0.004) as server:
        fake = Fake(model, server)
        interrupted = 0
        for point in range(6):  # a first sync, each time from an empty folder
            archive = tmp_path / f"first-{point}"
            interrupted += kill_and_resume(fake, archive, rng.randrange(0, 150), sig)
        chats = [c for o in model.accounts[0].orgs for c in o.chats]
        for point in range(5):  # update syncs on the last archive
            for chat in rng.sample(chats, 30):
                model.add_messages(chat, 1)
            model.rename_chat(rng.choice(chats), f"renamed at point {point}")
            model.delete_chat(rng.choice(chats))
            chats = [c for o in model.accounts[0].orgs for c in o.chats]
            interrupted += kill_and_resume(fake, archive, rng.randrange(0, 31), sig)
        assert interrupted >= 7, f"only {interrupted} of 11 signals landed mid-run"


def test_json_output_of_a_partial_sync_is_one_json_object(fake: Fake, tmp_path: Path) -> None:
    victim = next(iter(fake.model.accounts[0].orgs[0].chats))
    fake.server.faults.add(Fault("status", status=500, path_contains=victim, times=None))
    result = sync(fake, tmp_path / "archive", "-r", "0", "--json")
    assert result.returncode == 3, result.stderr
    summary = json.loads(result.stdout)  # one document: the summary, not a second error object
    assert victim in json.dumps(summary)
