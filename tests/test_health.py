"""`claude-backup status --check [--max-age]`: one line, exit 0 only for a recent good sync."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from claude_backup.archive.health import check_health, parse_duration
from claude_backup.archive.runlog import RUNLOG
from claude_backup.cli.app import app
from claude_backup.errors import UsageError

runner = CliRunner()


def record(archive: Path, **entry: object) -> None:
    path = archive / ".git" / RUNLOG
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry))


def ago(**kw: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(**kw)).isoformat(timespec="seconds")


def check(archive: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["status", str(archive), "--check", *extra])
    return result.exit_code, result.output


def test_exit_codes_and_one_line(tmp_path: Path) -> None:
    code, out = check(tmp_path)
    assert code == 1 and out.startswith("CRITICAL: no sync recorded") and out.count("\n") == 1
    record(tmp_path, finished_at=ago(hours=3), result="ok", exit_code=0)
    code, out = check(tmp_path)
    assert code == 0 and out.startswith("OK: last sync 3 h 0 min ago") and out.count("\n") == 1
    code, out = check(tmp_path, "--max-age", "2h")
    assert code == 1 and "older than 2h" in out and out.count("\n") == 1
    record(tmp_path, finished_at=ago(hours=25), result="ok", exit_code=0)
    assert check(tmp_path)[0] == 0  # the default allows 26 h: a nightly job running late
    record(tmp_path, finished_at=ago(hours=27), result="ok", exit_code=0)
    assert check(tmp_path)[0] == 1
    record(
        tmp_path,
        finished_at=ago(minutes=5),
        result="error",
        exit_code=4,
        message="session key expired or invalid",
    )
    code, out = check(tmp_path)
    assert code == 1 and "failed (exit 4): session key expired" in out and out.count("\n") == 1
    record(tmp_path, finished_at=ago(minutes=5), result="partial", exit_code=3)
    code, out = check(tmp_path)
    assert code == 1 and "exit 3" in out
    code, out = check(tmp_path, "--max-age", "soon")
    assert code == 2 and "not a duration" in out


def test_durations() -> None:
    assert parse_duration("26h") == timedelta(hours=26)
    assert parse_duration("1d12h") == timedelta(hours=36)
    assert parse_duration("90m") == parse_duration("5400") == timedelta(minutes=90)
    for bad in ("", "h", "-1h", "0", "2x", "1h 2"):
        with pytest.raises(UsageError):
            parse_duration(bad)


@given(st.integers(min_value=1, max_value=10_000), st.sampled_from("smhdw"))
def test_any_whole_duration_parses(number: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    assert parse_duration(f"{number}{unit}").total_seconds() == number * seconds


def test_unreadable_record(tmp_path: Path) -> None:
    record(tmp_path, finished_at="yesterday", result="ok")
    healthy, line = check_health(tmp_path, "26h")
    assert not healthy and "unreadable" in line
