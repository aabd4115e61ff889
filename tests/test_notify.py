"""Notifications of an unattended sync: Apprise's JSON webhook received by a local HTTP server,
a shell command fed the message, healthchecks-style pings, key-age warnings; never the key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from claude_backup.errors import (
    ArchiveLocked,
    AuthError,
    BlockedError,
    PartialSync,
    PushError,
)
from claude_backup.notify import Alerts, failure_event, redact_url
from conftest import KEY, Fake, run_cli, sync


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def _take(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                inbox.received.append((self.command, self.path, self.rfile.read(size)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _take

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json_messages(self) -> list[dict[str, str]]:
        return [json.loads(body) for _, path, body in self.received if path == "/hook"]

    def pings(self) -> list[str]:
        return [path for _, path, _ in self.received if path.startswith("/ping")]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    yield box
    box.server.shutdown()


def env_for(tmp_path: Path) -> dict[str, str]:
    return {"CLAUDE_BACKUP_CONFIG": str(tmp_path / "conf" / "config.toml")}


def test_failure_reaches_apprise_the_command_and_the_ping(
    fake: Fake, inbox: Inbox, tmp_path: Path
) -> None:
    wrong = "sk-ant-sid01-not-known-to-the-server-Q7"
    got, env_seen = tmp_path / "message.txt", tmp_path / "env.txt"
    result = sync(
        fake,
        tmp_path / "archive",
        "-q",
        "--notify",
        f"json://{inbox.url}/hook",
        "--notify-command",
        f"cat > '{got}'; env > '{env_seen}'",
        "--ping-url",
        f"http://{inbox.url}/ping/abc",
        key=wrong,
        extra_env=env_for(tmp_path),
    )
    assert result.returncode == 4, result.stderr
    assert result.stdout == "" and "warning" not in result.stderr
    (message,) = inbox.json_messages()
    assert message["type"] == "failure" and "exit 4" in message["title"]
    assert "claude-backup key set" in message["message"]
    text = got.read_text()
    assert text.startswith(message["title"]) and "claude-backup key set" in text
    assert "CLAUDE_BACKUP_EVENT=failure" in env_seen.read_text()
    assert "CLAUDE_BACKUP_EXIT_CODE=4" in env_seen.read_text()
    assert "CLAUDE_SESSION_KEY" not in env_seen.read_text()
    assert inbox.pings() == ["/ping/abc/fail"]
    everything = b"".join(body for _, _, body in inbox.received).decode() + text
    everything += env_seen.read_text()
    assert wrong not in everything and "sk-ant-" not in everything


def test_success_pings_and_notifies_only_when_asked(
    fake: Fake, inbox: Inbox, tmp_path: Path
) -> None:
    config = tmp_path / "conf" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        f'notify = ["json://{inbox.url}/hook"]\nping_url = "http://{inbox.url}/ping"\n'
    )
    archive = tmp_path / "archive"
    first = sync(fake, archive, "-q", extra_env=env_for(tmp_path))
    assert first.returncode == 0, first.stderr
    assert inbox.pings() == ["/ping"] and inbox.json_messages() == []
    second = sync(fake, archive, "-q", "--notify-success", extra_env=env_for(tmp_path))
    assert second.returncode == 0, second.stderr
    (message,) = inbox.json_messages()
    assert message["type"] == "success" and "no changes" in message["message"]
    assert inbox.pings() == ["/ping", "/ping"]


def test_undeliverable_notification_is_a_warning_not_a_failure(fake: Fake, tmp_path: Path) -> None:
    result = sync(
        fake,
        tmp_path / "archive",
        "-q",
        "--notify-success",
        "--notify",
        "json://127.0.0.1:9/token-secret",
        "--notify-command",
        "echo broken >&2; exit 3",
        extra_env=env_for(tmp_path),
    )
    assert result.returncode == 0
    assert "notification to json://127.0.0.1/… failed" in result.stderr
    assert "--notify-command exited with 3: broken" in result.stderr
    assert "token-secret" not in result.stderr


def test_key_age_warning_from_23_days_in_summary_status_and_once_a_day_by_notification(
    fake: Fake, inbox: Inbox, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    env = env_for(tmp_path)
    hook = ["--notify", f"json://{inbox.url}/hook"]
    assert sync(fake, archive, *hook, extra_env=env).returncode == 0
    ages_file = tmp_path / "conf" / "key-ages.json"
    ages = json.loads(ages_file.read_text())
    assert KEY not in ages_file.read_text()
    (entry,) = ages["keys"].values()
    first = datetime.fromisoformat(entry["first_used"])
    assert abs(first - datetime.now(timezone.utc)) < timedelta(hours=1)
    young = first - timedelta(days=22)
    entry["first_used"] = young.isoformat()
    ages_file.write_text(json.dumps(ages))
    quiet = sync(fake, archive, *hook, extra_env=env)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
    assert inbox.json_messages() == []
    entry["first_used"] = (first - timedelta(days=23, hours=1)).isoformat()
    ages_file.write_text(json.dumps(ages))
    warned = sync(fake, archive, *hook, extra_env=env)
    assert warned.returncode == 0
    assert "expected to expire in about 5 days" in warned.stderr
    assert "claude-backup key set" in warned.stderr
    (message,) = inbox.json_messages()
    assert message["type"] == "warning" and "key set" in message["message"]
    again = sync(fake, archive, *hook, "-q", extra_env=env)
    assert again.returncode == 0 and again.stderr == ""
    assert len(inbox.json_messages()) == 1  # once a day
    status = run_cli("status", str(archive), base_url=fake.base_url, extra_env=env)
    assert "expected to expire in about 5 days" in status.stdout, status.stdout
    assert KEY not in status.stdout


def test_each_failure_says_what_to_do() -> None:
    cases = {
        AuthError("session key expired or invalid"): "claude-backup key set",
        BlockedError("Cloudflare challenge"): "next run tries again",
        PartialSync("2 item(s) could not be backed up"): "retries the rest",
        ArchiveLocked("another sync holds the archive"): "still running",
        PushError("remote refused"): "claude-backup push",
        KeyboardInterrupt(): "next run completes",
        RuntimeError("boom"): "--debug",
    }
    for exc, fix in cases.items():
        event = failure_event(exc, Path("/a"))
        assert fix in event.body and "archive: /a" in event.body, (exc, event.body)


def test_secrets_are_hidden_and_urls_redacted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    alerts = Alerts(command=f"cat > '{out}'")
    from claude_backup.keys import SessionKey

    alerts.watch([SessionKey(KEY, "env")])
    assert alerts.failure(AuthError(f"rejected {KEY}"), tmp_path) == []
    assert KEY not in out.read_text() and "<session key>" in out.read_text()
    assert redact_url("tgram://123456:ABCDEF/987") == "tgram://123456/…"
    assert redact_url("https://hc-ping.com/uuid-secret") == "https://hc-ping.com/…"


def test_children_never_inherit_the_key() -> None:
    from claude_backup.childenv import scrubbed_environ

    env = scrubbed_environ(
        {"CLAUDE_BACKUP_EVENT": "failure"},
        environ={"CLAUDE_SESSION_KEY": KEY, "SAVED": f"x {KEY}", "PATH": "/bin", "HOME": "/h"},
    )
    assert env == {"PATH": "/bin", "HOME": "/h", "CLAUDE_BACKUP_EVENT": "failure"}
