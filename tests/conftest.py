"""Shared fixtures: a populated fake Claude.ai on 127.0.0.1, the real CLI, the real git."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# No test reads or writes the real config folder or the real OS keyring, in this process or in
# the CLI processes it starts (they inherit the environment).
_HOME = Path(tempfile.mkdtemp(prefix="claude-backup-tests-"))
os.environ["XDG_CONFIG_HOME"] = str(_HOME / "config")
os.environ["XDG_DATA_HOME"] = str(_HOME / "data")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

from claude_backup.client import Politeness  # noqa: E402
from claude_backup.fakeapi import FakeClaude, FakeClaudeServer  # noqa: E402

if TYPE_CHECKING:
    from claude_backup.archive.repository import Archive
    from claude_backup.model.changes import FileChange
    from claude_backup.sync.run import SyncReport

# Never the developer's own config (nor its remembered archive), even in module fixtures.
os.environ["CLAUDE_BACKUP_CONFIG"] = str(Path(tempfile.mkdtemp(prefix="cb-config-")) / "c.toml")
os.environ.pop("CLAUDE_BACKUP_ARCHIVE", None)

KEY = "sk-ant-sid01-e2e-secret-Z9fQ3xkLmN7pR2vT8wYb-AAAA"
CLI = str(Path(sys.executable).parent / "claude-backup")
AUTHOR = "Test <test@example.com>"
FAST_POLITENESS = Politeness(
    connections=4, success_delay=0, min_retry_delay=0.01, max_retry_delay=0.05
)
FAST_FLAGS = ["-c", "4", "-d", "0", "--min-retry-delay", "0.01", "--max-retry-delay", "0.05"]


@dataclass
class Fake:
    model: FakeClaude
    server: FakeClaudeServer

    @property
    def base_url(self) -> str:
        return self.server.base_url


def make_model(chats: int = 6, seed: int = 1, key: str = KEY) -> FakeClaude:
    model = FakeClaude(seed=seed)
    account = model.add_account(key, "ada@example.com", "Ada Lovelace")
    personal = account.add_org("ada@example.com's Organization")
    team = account.add_org("Team Org", capabilities=("chat", "raven"))
    account.add_org("API Console", capabilities=("api",))
    for i in range(chats):
        model.add_chat(personal if i % 3 else team, f"Chat {i}", turns=2 + i % 3, branches=i % 2)
    return model


@pytest.fixture(autouse=True)
def own_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config folder: the archive used last is remembered there, and
    must come neither from the developer's machine nor from another test."""
    path = tmp_path_factory.mktemp("config") / "config.toml"
    monkeypatch.setenv("CLAUDE_BACKUP_CONFIG", str(path))
    return path


@pytest.fixture
def fake() -> Iterator[Fake]:
    model = make_model()
    with FakeClaudeServer(model) as server:
        yield Fake(model, server)


def run_cli(
    *args: str,
    base_url: str,
    key: str | None = KEY,
    stdin: str | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 120,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would: in this process through typer's runner, or with `process`
    (or CLAUDE_BACKUP_TEST_PROCESSES=1 for every call) as the installed program in a child
    process, where the test is about that boundary (signals, exit status, the environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    if os.environ.get("CLAUDE_BACKUP_CONFIG"):  # set per test by the `own_config` fixture
        env["CLAUDE_BACKUP_CONFIG"] = os.environ["CLAUDE_BACKUP_CONFIG"]
    env["CLAUDE_BACKUP_BASE_URL"] = base_url
    env["HOME"] = env.get("HOME", "/tmp")
    if key is not None:
        env["CLAUDE_SESSION_KEY"] = key
    env.update(extra_env or {})
    if not (process or ALWAYS_IN_A_PROCESS):
        return _run_in_this_process(list(args), env, stdin)
    return subprocess.run(
        [CLI, *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


ALWAYS_IN_A_PROCESS = os.environ.get("CLAUDE_BACKUP_TEST_PROCESSES") == "1"


def _run_in_this_process(
    args: list[str], env: dict[str, str], stdin: str | None
) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from claude_backup.cli.app import app

    changes: dict[str, str | None] = {k: None for k in os.environ if k not in env}
    changes.update(env)
    result = CliRunner().invoke(
        app, args, input=stdin, env=changes, catch_exceptions=False, prog_name="claude-backup"
    )
    return subprocess.CompletedProcess(
        ["claude-backup", *args], result.exit_code, result.stdout, result.stderr
    )


def sync(fake: Fake, archive: Path, *extra: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return run_cli("sync", str(archive), *FAST_FLAGS, *extra, base_url=fake.base_url, **kw)


class Quiet:
    """A progress reporter that says nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def sync_in_process(archive: Path, base_url: str, **settings: Any) -> SyncReport:
    """One sync of KEY's account called directly (no CLI), with quick retries and no output."""
    from claude_backup.keys import SessionKey
    from claude_backup.sync.run import SyncSettings, run

    chosen = SyncSettings(archive, base_url, FAST_POLITENESS, **settings)
    return asyncio.run(run([SessionKey(KEY, "test")], chosen, Quiet()))  # type: ignore[arg-type]


def commit_all(archive: Archive) -> list[FileChange]:
    """What a sync does at its end: commit every change the archive finds, in one commit."""
    from claude_backup.model.changes import CommitStep

    changes = archive.changes()
    if changes:
        steps = [CommitStep([(c.path, c.new_sha) for c in changes], "sync")]
        archive.commit(steps, author=AUTHOR)
    return changes


def synced_archive(fake: Fake, tmp_path: Path) -> Path:
    """`tmp_path/archive`, made by one sync of `fake` through the CLI."""
    path = tmp_path / "archive"
    result = sync(fake, path)
    assert result.returncode == 0, result.stderr
    return path


def add_to_a_chat(fake: Fake) -> str:
    """One more turn in a chat of the first organization; its uuid."""
    chat = next(iter(fake.model.accounts[0].orgs[0].chats.values()))
    fake.model.add_messages(chat.uuid, turns=1)
    return str(chat.uuid)


def git(archive: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(archive), *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def commit_count(archive: Path) -> int:
    try:
        return int(git(archive, "rev-list", "--count", "HEAD").strip())
    except subprocess.CalledProcessError:
        return 0


def chat_files(archive: Path, kind: str = "chats") -> dict[str, Path]:
    """chat uuid -> file, for every chat file in a `kind` folder."""
    found: dict[str, Path] = {}
    for path in archive.glob(f"*/*/{kind}/*.json"):
        if path.name.startswith(".claude-backup-tmp-"):
            continue  # an interrupted write: never a chat file
        uuid = path.name[-41:-5]
        assert uuid not in found, f"two files for chat {uuid}"
        found[uuid] = path
    return found


def assert_archive_matches(fake: Fake, archive: Path) -> None:
    """Every chat the server has is in chats/, byte-for-value equal; nothing else is there."""
    files = chat_files(archive)
    expected = {}
    for account in fake.model.accounts:
        for org in account.orgs:
            if "chat" in org.capabilities:
                for chat in org.chats.values():
                    expected[chat.uuid] = fake.model.chat_detail(chat)
    assert set(files) == set(expected)
    for uuid, path in files.items():
        assert json.loads(path.read_bytes()) == expected[uuid], uuid


def assert_git_healthy(archive: Path) -> None:
    git(archive, "fsck", "--full", "--strict")
    assert git(archive, "status", "--porcelain", "--untracked-files=all") == ""
