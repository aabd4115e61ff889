"""Stored keys (`key set|show|remove`), their place in the lookup order, write-back of a renewed
key, and key age, with a file-backed keyring."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from typer.testing import CliRunner

from claude_backup import keystore
from claude_backup.cli.app import app
from claude_backup.keyage import KeyAges, ages_path
from claude_backup.keys import SessionKey, find_keys
from conftest import KEY, run_cli, sync
from filekeyring import FileKeyring

K1, K2, K3 = "sk-ant-sid01-aaaa", "sk-ant-sid01-bbbb", "sk-ant-sid01-cccc"
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "config.toml"
    monkeypatch.setenv("CLAUDE_BACKUP_CONFIG", str(path))
    monkeypatch.delenv("CLAUDE_SESSION_KEY", raising=False)
    return path.parent


@pytest.fixture
def ring(tmp_path: Path) -> Iterator[KeyringBackend]:
    backend = FileKeyring(tmp_path / "keyring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def lookup(**kw: object) -> list[str]:
    base: dict[str, object] = dict(
        key_file=None,
        browser=None,
        base_url="https://claude.ai",
        environ={},
        stdin=io.StringIO(""),
        browser_lookup=lambda b, h: K3,
    )
    base.update(kw)
    return [k.reveal() for k in find_keys(**base)]  # type: ignore[arg-type]


def test_key_set_stores_in_the_keyring_used_after_the_key_file_before_the_browser(
    config: Path, ring: KeyringBackend, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["key", "set"], input=f"{K1}\n{K2}\n")
    assert result.exit_code == 0, result.output
    assert "OS keyring" in result.output and K1 not in result.output
    assert ring.get_password(keystore.SERVICE, keystore.USERNAME) == f"{K1}\n{K2}\n"
    key_file = tmp_path / "k"
    key_file.write_text(K3)
    assert lookup(key_file=key_file) == [K3]  # --session-key-file comes first
    assert lookup() == [K1, K2]  # then the keyring, before the browser
    assert lookup(browser="firefox") == [K3]  # an explicit --browser asks for the browser
    assert {
        k.source
        for k in find_keys(
            key_file=None,
            browser=None,
            base_url="https://claude.ai",
            environ={},
            stdin=io.StringIO(""),
        )
    } == {"keyring"}

    shown = runner.invoke(app, ["key", "show"])
    assert shown.exit_code == 0 and "keyring" in shown.output and "28 days" in shown.output
    assert K1 not in shown.output and K2 not in shown.output

    removed = runner.invoke(app, ["key", "remove"])
    assert removed.exit_code == 0 and "OS keyring" in removed.output
    assert ring.get_password(keystore.SERVICE, keystore.USERNAME) is None
    assert lookup() == [K3]
    assert "no stored" in runner.invoke(app, ["key", "remove"]).output


def test_key_set_file_is_private_and_replaces_the_keyring_copy(
    config: Path, ring: KeyringBackend
) -> None:
    assert runner.invoke(app, ["key", "set"], input=K1).exit_code == 0
    result = runner.invoke(app, ["key", "set", "--file"], input=f"  {K2}  \n")
    assert result.exit_code == 0, result.output
    path = config / "session-key"
    assert path.read_text() == f"{K2}\n"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ring.get_password(keystore.SERVICE, keystore.USERNAME) is None
    assert lookup() == [K2]
    assert [k.source for k in keystore.stored_keys()] == [str(path)]


def test_key_set_rejects_what_is_not_a_key_without_echoing_it(
    config: Path, ring: KeyringBackend
) -> None:
    result = runner.invoke(app, ["key", "set"], input="hunter2-secret\n")
    assert result.exit_code == 4
    assert "hunter2" not in result.output and "not a session key" in result.output
    assert runner.invoke(app, ["key", "set"], input="\n").exit_code == 4
    assert keystore.stored_places() == []


def test_key_set_without_a_keyring_says_to_use_a_file(config: Path) -> None:
    # The tests' default backend is keyring's null backend, which stores nothing.
    from keyring.backends.fail import Keyring as Failing

    previous = keyring.get_keyring()
    keyring.set_keyring(Failing())
    try:
        result = runner.invoke(app, ["key", "set"], input=K1)
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == 4 and "key set --file" in result.output
    assert not (config / "session-key").exists()


def test_renewed_key_is_written_back_where_it_came_from(
    config: Path, ring: KeyringBackend, tmp_path: Path
) -> None:
    keystore.store([SessionKey(K1, "x"), SessionKey(K2, "x")], in_file=False)
    old = keystore.stored_keys()[1]
    assert keystore.store_renewed_key(old, K3)
    assert ring.get_password(keystore.SERVICE, keystore.USERNAME) == f"{K1}\n{K3}\n"
    keystore.store([SessionKey(K1, "x")], in_file=True)
    (old,) = keystore.stored_keys()
    assert keystore.store_renewed_key(old, K2)
    assert (config / "session-key").read_text() == f"{K2}\n"
    ages = KeyAges(ages_path())
    age = ages.age(SessionKey(K2, "f"), datetime.now(timezone.utc), remember=False)
    assert age is not None and age.first_used is not None
    # Not ours to write: the environment, stdin, a browser; a key no longer stored; junk.
    assert not keystore.store_renewed_key(SessionKey(K2, "CLAUDE_SESSION_KEY"), K3)
    assert not keystore.store_renewed_key(SessionKey(K3, str(config / "session-key")), K1)
    assert not keystore.store_renewed_key(old.__class__(K2, old.source), "not a key")


def test_key_age_warns_from_23_days_and_keeps_only_a_salted_hash(config: Path) -> None:
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    key = SessionKey(K1, "keyring")
    ages = KeyAges(ages_path())
    first = ages.age(key, now - timedelta(days=23))
    assert first is not None and first.warning(now - timedelta(days=23)) is None
    ages.save(now)
    raw = ages_path().read_text()
    assert K1 not in raw and "aaaa" not in raw
    assert stat.S_IMODE(ages_path().stat().st_mode) == 0o600 or sys.platform == "win32"
    again = KeyAges(ages_path()).age(key, now)
    assert again is not None
    assert again.warning(now - timedelta(days=1)) is None  # 22 days old
    warning = again.warning(now)  # 23 days old: 5 days left
    assert warning is not None and "in about 5 days" in warning and "key set" in warning
    late = again.warning(now + timedelta(days=6))
    assert late is not None and "expected to have expired" in late
    # Another salt (another machine's file) does not recognise the key.
    other = tmp_ages = KeyAges(ages_path().with_name("other.json"))
    assert tmp_ages.digest(key) != KeyAges(ages_path()).digest(key) and other.salt


def test_key_show_warns_from_23_days(config: Path, ring: KeyringBackend) -> None:
    assert runner.invoke(app, ["key", "set"], input=K1).exit_code == 0
    fresh = runner.invoke(app, ["key", "show"])
    assert "first used less than an hour ago" in fresh.output and "warning" not in fresh.output
    ages = KeyAges(ages_path())
    now = datetime.now(timezone.utc)
    ages.restart(SessionKey(K1, "keyring"), now - timedelta(days=23, minutes=5))
    ages.save(now)
    old = runner.invoke(app, ["key", "show"])
    assert old.exit_code == 0
    assert "warning: session key from keyring: expected to expire in about 5 days" in old.output
    assert "first used 23 days ago" in old.output and K1 not in old.output


def test_browser_cookie_expiry_is_the_key_age(config: Path) -> None:
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    soon = SessionKey(K1, "firefox cookies", expires=(now + timedelta(days=3)).timestamp())
    age = KeyAges(ages_path()).age(soon, now)
    assert age is not None and age.from_cookie and age.first_used is None
    warning = age.warning(now)
    assert warning is not None and "cookie expires 2026-11-04" in warning


def key_set_in_a_file_keyring(fake, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """`key set` in a process of its own, into a file-backed keyring; the environment that
    finds it again, as a scheduled run's would."""
    env = {
        "PYTHON_KEYRING_BACKEND": "filekeyring.FileKeyring",
        "PYTHONPATH": str(Path(__file__).parent),
        "FILE_KEYRING_PATH": str(tmp_path / "keyring.json"),
        "CLAUDE_BACKUP_CONFIG": str(tmp_path / "conf" / "config.toml"),
    }
    stored = run_cli(
        "key", "set", base_url=fake.base_url, key=None, stdin=KEY, extra_env=env, process=True
    )
    assert stored.returncode == 0, stored.stderr
    return env


def test_unattended_sync_takes_the_key_from_a_file_backed_keyring(fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = key_set_in_a_file_keyring(fake, tmp_path)
    stored_there = json.loads((tmp_path / "keyring.json").read_text())
    assert stored_there == {"claude-backup/session-keys": f"{KEY}\n"}
    archive = tmp_path / "archive"
    result = sync(fake, archive, key=None, extra_env=env, process=True)
    assert result.returncode == 0, result.stderr
    record = json.loads((archive / ".git" / "claude-backup" / "last-sync.json").read_text())
    assert record["result"] == "ok"
    shown = run_cli("key", "show", base_url=fake.base_url, key=None, extra_env=env, process=True)
    assert shown.returncode == 0 and "from keyring" in shown.stdout and KEY not in shown.stdout


def test_a_renewed_key_is_written_back_to_the_keyring_it_came_from(fake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from claude_backup.fakeapi.wire import KeyEvent

    env = key_set_in_a_file_keyring(fake, tmp_path)
    fake.server.wire.add_key_event(KeyEvent("renew", after=2, revoke_old=True))
    result = sync(fake, tmp_path / "archive", key=None, extra_env=env, process=True)
    assert result.returncode == 0, result.stderr
    new = fake.server.wire.issued_keys[0]
    stored_there = json.loads((tmp_path / "keyring.json").read_text())
    assert stored_there == {"claude-backup/session-keys": f"{new}\n"}
    assert new not in result.stdout + result.stderr
    again = sync(fake, tmp_path / "archive", key=None, extra_env=env, process=True)
    assert again.returncode == 0, again.stderr  # the old key was revoked: the new one is used
