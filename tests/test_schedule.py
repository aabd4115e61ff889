"""`schedule show|install|status|remove`: every platform's rendering checked by its own rules
(systemd-analyze, plistlib, a crontab parse, an XML parse), and install/status/remove for real
against cron with a throwaway crontab."""

from __future__ import annotations

import json
import os
import plistlib
import shlex
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from claude_backup.cli.app import app
from claude_backup.errors import UsageError
from claude_backup.schedule import render
from claude_backup.schedule.backends import Ran, make_backend
from claude_backup.schedule.spec import JobSpec, installed_command, parse_timing
from conftest import KEY, Fake, run_cli, sync

runner = CliRunner()
ARGV = (
    "/opt/my venv/bin/claude-backup",
    "sync",
    "/home/ada/claude archive",
    "-q",
    "--notify-command",
    'printf "%s" "$(cat)" | mail -s \'backup 100%\' ada',
)
TASK_NS = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"


def job(every: str = "daily", at: str | None = "03:15", **kw: object) -> JobSpec:
    base: dict[str, object] = dict(
        argv=ARGV,
        timing=parse_timing(every, at),
        archive=Path("/home/ada/claude archive"),
        environment={"CLAUDE_BACKUP_CONFIG": "/home/ada/.config/cb/config.toml"},
    )
    base.update(kw)
    return JobSpec(**base)  # type: ignore[arg-type]


@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(["daily", "hourly", "1h", "2h", "3h", "4h", "6h", "8h", "12h", "24h"]),
)
def test_timing_divides_the_day_and_starts_at_the_given_time(
    hour: int, minute: int, every: str
) -> None:
    timing = parse_timing(every, f"{hour:02d}:{minute:02d}")
    interval = {"daily": 24, "hourly": 1}.get(every) or int(every[:-1])
    assert len(timing.hours) == 24 // interval == len(set(timing.hours))
    assert hour in timing.hours and timing.minute == minute
    assert all((h - hour) % interval == 0 for h in timing.hours)


def test_bad_timing_is_a_usage_error() -> None:
    for every, at in (("5h", None), ("weekly", None), ("daily", "24:00"), ("daily", "3pm")):
        with pytest.raises(UsageError):
            parse_timing(every, at)


def test_a_job_never_holds_the_key() -> None:
    with pytest.raises(UsageError):
        job(argv=(*ARGV, KEY))
    with pytest.raises(UsageError):
        job(environment={"CLAUDE_BACKUP_X": KEY})


@pytest.mark.parametrize("every", ["daily", "6h", "hourly"])
def test_systemd_units_verify(tmp_path: Path, every: str) -> None:
    units = render.systemd_units(job(every, argv=(str(Path(installed_command()[0])), *ARGV[1:])))
    assert set(units) == {"claude-backup.service", "claude-backup.timer"}
    service, timer = units["claude-backup.service"], units["claude-backup.timer"]
    exec_line = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    # systemd's quoting: %% and $$ stand for % and $, and the words come back whole.
    words = shlex.split(exec_line.removeprefix("ExecStart=").replace("%%", "%").replace("$$", "$"))
    assert words[1:] == list(ARGV[1:])
    assert "Environment=CLAUDE_BACKUP_CONFIG=/home/ada/.config/cb/config.toml" in service
    calendar = next(line for line in timer.splitlines() if line.startswith("OnCalendar="))
    expected = {
        "daily": "03",
        "6h": "03,09,15,21",
        "hourly": ",".join(f"{h:02d}" for h in range(24)),
    }
    assert calendar == f"OnCalendar=*-*-* {expected[every]}:15:00"
    assert "Persistent=true" in timer and "WantedBy=timers.target" in timer
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    for name, text in units.items():
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "claude-backup.timer")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    complaints = [line for line in done.stderr.splitlines() if "claude-backup" in line]
    assert done.returncode == 0 and complaints == [], done.stderr
    check = subprocess.run(
        ["systemd-analyze", "calendar", calendar.removeprefix("OnCalendar=")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize("every", ["daily", "12h"])
def test_launchd_plist_is_valid_with_the_right_keys(every: str) -> None:
    data = render.launchd_plist(job(every, log=Path("/Users/ada/Library/Logs/claude-backup.log")))
    assert data.startswith(b"<?xml") and b"<!DOCTYPE plist" in data
    agent = plistlib.loads(data)
    assert agent["Label"] == "ai.claude-backup.sync"
    assert agent["ProgramArguments"] == list(ARGV)
    assert agent["EnvironmentVariables"] == {
        "CLAUDE_BACKUP_CONFIG": "/home/ada/.config/cb/config.toml"
    }
    assert agent["StandardErrorPath"] == "/Users/ada/Library/Logs/claude-backup.log"
    interval = agent["StartCalendarInterval"]
    if every == "daily":
        assert interval == {"Hour": 3, "Minute": 15}
    else:
        assert interval == [{"Hour": 3, "Minute": 15}, {"Hour": 15, "Minute": 15}]


@pytest.mark.parametrize("every", ["daily", "4h", "hourly"])
def test_crontab_line_parses_back_to_the_job(every: str) -> None:
    block = render.cron_block(job(every))
    begin, line, end = block.splitlines()
    assert begin == render.CRON_BEGIN and end == render.CRON_END
    minute, hour, dom, month, dow, command = line.split(None, 5)
    assert (minute, dom, month, dow) == ("15", "*", "*", "*")
    assert hour == {"daily": "3", "4h": "3,7,11,15,19,23", "hourly": "*"}[every]
    assert "%" not in command.replace("\\%", "")  # a bare % would cut the command short
    words = shlex.split(command.replace("\\%", "%"))
    assert words == ["CLAUDE_BACKUP_CONFIG=/home/ada/.config/cb/config.toml", *ARGV]


def test_crontab_block_replaces_itself_and_keeps_other_lines() -> None:
    mine = "MAILTO=ada\n0 1 * * * backup-photos\n"
    once = render.with_cron_block(mine, job())
    twice = render.with_cron_block(once, job("6h"))
    assert twice.count(render.CRON_BEGIN) == 1 and "3,9,15,21" in twice
    assert twice.startswith(mine)
    assert render.without_cron_block(twice).rstrip("\n") == mine.rstrip("\n")
    assert render.cron_block_of(mine) is None


@pytest.mark.parametrize("every", ["daily", "8h"])
def test_task_xml_parses_with_the_command_and_trigger(every: str) -> None:
    text = render.task_xml(job(every))
    root = ET.fromstring(text.encode("utf-16"))
    exec_ = root.find(f"{TASK_NS}Actions/{TASK_NS}Exec")
    assert exec_ is not None
    assert exec_.findtext(f"{TASK_NS}Command") == ARGV[0]
    assert exec_.findtext(f"{TASK_NS}Arguments") == subprocess.list2cmdline(ARGV[1:])
    trigger = root.find(f"{TASK_NS}Triggers/{TASK_NS}CalendarTrigger")
    assert trigger is not None
    assert (trigger.findtext(f"{TASK_NS}StartBoundary") or "").endswith("T03:15:00")
    interval = trigger.findtext(f"{TASK_NS}Repetition/{TASK_NS}Interval")
    assert interval == (None if every == "daily" else "PT8H")
    settings = root.find(f"{TASK_NS}Settings")
    assert settings is not None and settings.findtext(f"{TASK_NS}StartWhenAvailable") == "true"
    principal = root.find(f"{TASK_NS}Principals/{TASK_NS}Principal")
    assert principal is not None and principal.findtext(f"{TASK_NS}LogonType") == "InteractiveToken"


class Recorder:
    """A scheduler's tools, played back: records each command, answers from a table."""

    def __init__(self, answers: dict[str, Ran] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.answers = answers or {}

    def __call__(self, argv: Sequence[str], stdin: str | None) -> Ran:
        self.calls.append(list(argv))
        for prefix, ran in self.answers.items():
            if " ".join(argv).startswith(prefix):
                return ran
        return Ran(0, "", "")


def test_systemd_install_status_remove_with_linger_advice(tmp_path: Path) -> None:
    tools = Recorder(
        {
            "loginctl show-user": Ran(0, "no\n", ""),
            "systemctl --user show": Ran(0, "Mon 2026-11-30 03:15:00 UTC\n", ""),
        }
    )
    backend = make_backend(
        "systemd", runner=tools, environ={"XDG_CONFIG_HOME": str(tmp_path), "USER": "ada"}
    )
    advice = backend.install(job())
    unit_dir = tmp_path / "systemd" / "user"
    assert (unit_dir / "claude-backup.service").read_text() == render.systemd_units(job())[
        "claude-backup.service"
    ]
    assert ["systemctl", "--user", "daemon-reload"] in tools.calls
    assert ["systemctl", "--user", "enable", "--now", "claude-backup.timer"] in tools.calls
    assert any("loginctl enable-linger ada" in line for line in advice)
    state = backend.state()
    assert state.installed and "next run Mon 2026-11-30 03:15:00" in state.detail
    assert backend.remove() and not unit_dir.joinpath("claude-backup.timer").exists()
    assert ["systemctl", "--user", "disable", "--now", "claude-backup.timer"] in tools.calls
    assert not backend.state().installed and not backend.remove()


def test_launchd_and_schtasks_use_their_tools(tmp_path: Path) -> None:
    tools = Recorder()
    launchd = make_backend("launchd", runner=tools, home=tmp_path)
    launchd.install(job())
    plist = tmp_path / "Library" / "LaunchAgents" / "ai.claude-backup.sync.plist"
    assert plistlib.loads(plist.read_bytes())["ProgramArguments"] == list(ARGV)
    assert any(c[:2] == ["launchctl", "bootstrap"] and c[-1] == str(plist) for c in tools.calls)
    assert launchd.state().installed and launchd.remove() and not plist.exists()

    tools = Recorder(
        {
            "schtasks /Query": Ran(
                0, "TaskName: \\claude-backup\nNext Run Time: 30/11/2026 03:15:00\n", ""
            )
        }
    )
    seen: list[bytes] = []

    def keep_xml(argv: Sequence[str], stdin: str | None) -> Ran:
        if "/XML" in argv:
            seen.append(Path(argv[argv.index("/XML") + 1]).read_bytes())
        return tools(argv, stdin)

    schtasks = make_backend("schtasks", runner=keep_xml)
    notes = schtasks.install(job())
    assert seen and seen[0].decode("utf-16") == render.task_xml(job())
    assert any("CLAUDE_BACKUP_CONFIG" in n for n in notes)
    assert "next run 30/11/2026 03:15:00" in schtasks.state().detail
    assert schtasks.remove()
    assert ["schtasks", "/Delete", "/TN", "claude-backup", "/F"] in tools.calls


FAKE_CRONTAB = """#!/bin/sh
# A crontab program for tests: the same interface, a file of its own.
tab="$FAKE_CRONTAB_FILE"
case "$1" in
  -l) if [ -f "$tab" ]; then cat "$tab"; else echo "no crontab for $(id -un)" >&2; exit 1; fi ;;
  -) cat > "$tab" ;;
  -r) rm "$tab" ;;
  *) echo "usage" >&2; exit 2 ;;
esac
"""


def schedule_env(tmp_path: Path, crontab: str | None) -> dict[str, str]:
    env = {"CLAUDE_BACKUP_CONFIG": str(tmp_path / "conf" / "config.toml")}
    if crontab:
        env["CLAUDE_BACKUP_CRONTAB"] = crontab
    return env


def cron_cycle(tmp_path: Path, env: dict[str, str], read_crontab) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "archive"

    def schedule(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("schedule", *args, base_url="http://127.0.0.1:9", extra_env=env)

    job = [str(archive), "--backend", "cron", "--at", "04:40"]
    job += ["--ping-url", "http://127.0.0.1:9/ping/secret-uuid"]
    shown = schedule("show", *job)
    assert shown.returncode == 0, shown.stderr
    assert KEY not in shown.stdout  # CLAUDE_SESSION_KEY was set in the environment
    before = read_crontab()
    installed = schedule("install", *job)
    assert installed.returncode == 0, installed.stderr
    assert "installed: crontab entry, daily at 04:40" in installed.stdout
    assert "secret-uuid" not in installed.stdout
    assert "key set" in installed.stdout  # no stored key yet: the user is told
    tab = read_crontab()
    assert tab.startswith(before) and KEY not in tab
    block = render.cron_block_of(tab)
    assert block is not None
    assert block in shown.stdout  # show printed exactly what install wrote
    line = block.splitlines()[1]
    assert line.startswith("40 4 * * * ")
    words = shlex.split(line.split(None, 5)[5].replace("\\%", "%"))
    command = [w for w in words if "=" not in w.split("/")[0]]
    assert command[0] == installed_command()[0] and Path(command[0]).is_absolute()
    assert command[1:4] == ["sync", str(archive), "-q"] and "secret-uuid" in command[-1]
    assert f"CLAUDE_BACKUP_CONFIG={env['CLAUDE_BACKUP_CONFIG']}" in words
    status = schedule("status")
    assert status.returncode == 0 and status.stdout.startswith("installed: cron, daily at 04:40")
    assert "last run: none yet" in status.stdout
    # A run happened (as the job would record it): status says how it ended.
    (archive / ".git" / "claude-backup").mkdir(parents=True)
    (archive / ".git" / "claude-backup" / "last-sync.json").write_text(
        json.dumps(
            {
                "finished_at": "2026-11-29T04:40:12+00:00",
                "result": "error",
                "exit_code": 4,
                "message": "session key expired",
            }
        )
    )
    status = schedule("status")
    assert (
        "last run: 2026-11-29T04:40:12+00:00, error (exit 4: session key expired)" in status.stdout
    )
    reinstalled = schedule("install", str(archive), "--backend", "cron", "--every", "6h")
    assert reinstalled.returncode == 0, reinstalled.stderr
    assert read_crontab().count(render.CRON_BEGIN) == 1
    removed = schedule("remove")
    assert removed.returncode == 0 and "removed the crontab entry" in removed.stdout
    assert read_crontab().rstrip("\n") == before.rstrip("\n")
    status = schedule("status", "--backend", "cron")
    assert status.stdout.startswith("not installed")


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell script stands in for crontab")
def test_cron_install_status_remove_with_a_crontab_of_its_own(tmp_path: Path) -> None:
    program = tmp_path / "crontab"
    program.write_text(FAKE_CRONTAB)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    tab = tmp_path / "tab"
    tab.write_text("MAILTO=ada\n0 1 * * * backup-photos\n")
    env = {**schedule_env(tmp_path, str(program)), "FAKE_CRONTAB_FILE": str(tab)}
    cron_cycle(tmp_path, env, lambda: tab.read_text())


@pytest.mark.skipif(os.name != "posix", reason="a POSIX shell script stands in for crontab")
def test_status_names_the_schedule_of_its_archive(fake: Fake, tmp_path: Path) -> None:
    program = tmp_path / "crontab"
    program.write_text(FAKE_CRONTAB)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    env = {**schedule_env(tmp_path, str(program)), "FAKE_CRONTAB_FILE": str(tmp_path / "tab")}
    archive = tmp_path / "archive"
    assert sync(fake, archive, extra_env=env).returncode == 0
    before = run_cli("status", str(archive), base_url=fake.base_url, extra_env=env)
    assert "schedule: none (see `claude-backup schedule install`)" in before.stdout
    done = run_cli(
        "schedule", "install", str(archive), "--every", "12h", base_url=fake.base_url, extra_env=env
    )
    assert done.returncode == 0, done.stderr
    after = run_cli("status", str(archive), base_url=fake.base_url, extra_env=env)
    assert "schedule: cron, every 12 hours from 03:17" in after.stdout
    elsewhere = tmp_path / "elsewhere"
    assert sync(fake, elsewhere, extra_env=env).returncode == 0
    other = run_cli("status", str(elsewhere), base_url=fake.base_url, extra_env=env)
    assert "schedule: none" in other.stdout


def _real_crontab_is_empty() -> bool:
    if shutil.which("crontab") is None or sys.platform == "darwin":
        return False
    done = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    return (done.returncode != 0 and "no crontab" in done.stderr) or (
        done.returncode == 0 and not done.stdout.strip()
    )


@pytest.mark.skipif(
    not _real_crontab_is_empty(), reason="needs cron's crontab and no crontab of ours to disturb"
)
def test_cron_install_status_remove_with_the_real_crontab(tmp_path: Path) -> None:
    def read() -> str:
        done = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else ""

    try:
        cron_cycle(tmp_path, schedule_env(tmp_path, None), read)
    finally:
        if render.cron_block_of(read()) is not None:
            subprocess.run(["crontab", "-"], input=render.without_cron_block(read()), text=True)


def test_show_defaults_to_this_machines_scheduler_and_validates_notify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_BACKUP_CONFIG", str(tmp_path / "config.toml"))
    result = runner.invoke(app, ["schedule", "show", str(tmp_path), "--backend", "launchd"])
    assert result.exit_code == 0 and "<key>ProgramArguments</key>" in result.output
    bad = runner.invoke(
        app,
        [
            "schedule",
            "install",
            str(tmp_path),
            "--backend",
            "cron",
            "--notify",
            "nonsense://x/token",
        ],
    )
    assert (
        bad.exit_code == 2 and "not a URL Apprise knows" in bad.output and "token" not in bad.output
    )
    bad = runner.invoke(app, ["schedule", "show", "--backend", "at"])
    assert bad.exit_code == 2


def test_install_warns_when_the_job_will_not_find_its_key() -> None:
    from claude_backup.schedule.advice import key_advice

    secret_service = "SecretService.Keyring"
    assert "key set" in key_advice("systemd", [], "")[0]
    assert "key set --file" in key_advice("cron", ["keyring"], secret_service)[0]
    assert "enable-linger" in key_advice("systemd", ["keyring"], secret_service)[0]
    assert key_advice("cron", ["/home/ada/.config/claude-backup/session-key"], "") == []
    assert key_advice("launchd", ["keyring"], "macOS.Keyring") == []
    assert key_advice("schtasks", ["keyring"], "Windows.WinVaultKeyring") == []


def test_the_job_never_carries_a_secret_from_the_installing_environment() -> None:
    from claude_backup.schedule.spec import carried_environment

    carried = carried_environment(
        {
            "CLAUDE_SESSION_KEY": "sk-ant-sid01-abc",
            "CLAUDE_BACKUP_GIT_TOKEN": "ghp_secret",
            "CLAUDE_BACKUP_CONNECTIONS": "3",
        }
    )
    assert carried == {"CLAUDE_BACKUP_CONNECTIONS": "3"}
