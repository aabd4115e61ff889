"""Installing, inspecting and removing the job with each platform's own scheduler. Every
command goes through a `Runner`, so tests can watch or replace what would be run; every file
written is the one `render` shows."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from claude_backup.childenv import scrubbed_environ
from claude_backup.errors import ClaudeBackupError, UsageError
from claude_backup.privatefile import write_private
from claude_backup.schedule import render
from claude_backup.schedule.spec import JobSpec
from claude_backup.text import one_line

BACKENDS = ("systemd", "launchd", "schtasks", "cron")
CRONTAB_ENV = "CLAUDE_BACKUP_CRONTAB"


class ScheduleError(ClaudeBackupError):
    """The scheduler refused or failed (its own message follows)."""

    exit_code = 1


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], str | None], Ran]


def run_program(argv: Sequence[str], stdin: str | None = None) -> Ran:
    """Run a scheduler tool with the session key kept out of its environment."""
    try:
        done = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            env=scrubbed_environ(),
            timeout=60,
        )
    except FileNotFoundError:
        return Ran(127, "", f"{argv[0]}: not found")
    except subprocess.TimeoutExpired:
        return Ran(124, "", f"{argv[0]}: no answer within 60 s")
    return Ran(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class State:
    installed: bool
    detail: str = ""  # e.g. the next run, as the scheduler tells it


class Backend(Protocol):
    name: str
    label: str

    def files(self, job: JobSpec) -> list[tuple[str, str]]:
        """(where, content) of everything install writes, for `schedule show`."""
        ...

    def install(self, job: JobSpec) -> list[str]:
        """Install or replace the job; advice lines for the user."""
        ...

    def remove(self) -> bool:
        """Remove the job; whether there was one."""
        ...

    def state(self) -> State: ...


def _check(ran: Ran, what: str) -> Ran:
    if ran.returncode != 0:
        said = one_line(ran.stderr or ran.stdout, 300) or f"exit {ran.returncode}"
        raise ScheduleError(f"{what} failed: {said}")
    return ran


def _write(path: Path, text: str | bytes, mode: int = 0o600) -> None:
    data = text.encode() if isinstance(text, str) else text
    try:
        write_private(path, data)
        os.chmod(path, mode)
    except OSError as exc:
        raise ScheduleError(f"cannot write {path}: {exc.strerror}") from exc


class Systemd:
    name = "systemd"
    label = f"systemd user timer {render.TIMER}"

    def __init__(self, runner: Runner, environ: Mapping[str, str], uid: int | None) -> None:
        self.run = runner
        self.environ = environ
        self.uid = uid

    @property
    def unit_dir(self) -> Path:
        base = self.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "systemd" / "user"

    def files(self, job: JobSpec) -> list[tuple[str, str]]:
        return [(str(self.unit_dir / n), t) for n, t in render.systemd_units(job).items()]

    def install(self, job: JobSpec) -> list[str]:
        for where, text in self.files(job):
            _write(Path(where), text)
        _check(self.run(["systemctl", "--user", "daemon-reload"], None), "systemctl daemon-reload")
        _check(
            self.run(["systemctl", "--user", "enable", "--now", render.TIMER], None),
            f"systemctl enable {render.TIMER}",
        )
        return self.linger_advice()

    def linger_advice(self) -> list[str]:
        if self.uid is None:
            return []
        ran = self.run(
            ["loginctl", "show-user", str(self.uid), "--property=Linger", "--value"], None
        )
        if ran.returncode == 0 and ran.stdout.strip() == "no":
            user = self.environ.get("USER") or str(self.uid)
            return [
                "your systemd user instance stops when you log out, and the timer with it; "
                f"to run it while you are logged out: sudo loginctl enable-linger {user}"
            ]
        return []

    def remove(self) -> bool:
        paths = [self.unit_dir / render.SERVICE, self.unit_dir / render.TIMER]
        if not any(p.exists() for p in paths):
            return False
        self.run(["systemctl", "--user", "disable", "--now", render.TIMER], None)
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.run(["systemctl", "--user", "daemon-reload"], None)
        return True

    def state(self) -> State:
        if not (self.unit_dir / render.TIMER).exists():
            return State(False)
        enabled = self.run(["systemctl", "--user", "is-enabled", render.TIMER], None)
        word = enabled.stdout.strip() or "unknown"
        nxt = self.run(
            [
                "systemctl",
                "--user",
                "show",
                render.TIMER,
                "--property=NextElapseUSecRealtime",
                "--value",
            ],
            None,
        ).stdout.strip()
        return State(True, f"timer {word}" + (f", next run {nxt}" if nxt else ""))


class Launchd:
    name = "launchd"
    label = f"launchd agent {render.LAUNCHD_LABEL}"

    def __init__(self, runner: Runner, home: Path, uid: int | None) -> None:
        self.run = runner
        self.home = home
        self.uid = uid

    @property
    def plist(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{render.LAUNCHD_LABEL}.plist"

    @property
    def log(self) -> Path:
        return self.home / "Library" / "Logs" / "claude-backup.log"

    @property
    def domain(self) -> str:
        return f"gui/{self.uid if self.uid is not None else 501}"

    def files(self, job: JobSpec) -> list[tuple[str, str]]:
        return [(str(self.plist), render.launchd_plist(job).decode())]

    def install(self, job: JobSpec) -> list[str]:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.run(["launchctl", "bootout", f"{self.domain}/{render.LAUNCHD_LABEL}"], None)
        _write(self.plist, render.launchd_plist(job))
        _check(
            self.run(["launchctl", "bootstrap", self.domain, str(self.plist)], None),
            "launchctl bootstrap",
        )
        return [f"the job's output goes to {self.log}"]

    def remove(self) -> bool:
        if not self.plist.exists():
            return False
        self.run(["launchctl", "bootout", f"{self.domain}/{render.LAUNCHD_LABEL}"], None)
        self.plist.unlink()
        return True

    def state(self) -> State:
        if not self.plist.exists():
            return State(False)
        loaded = self.run(["launchctl", "print", f"{self.domain}/{render.LAUNCHD_LABEL}"], None)
        return State(True, "loaded" if loaded.returncode == 0 else "not loaded (log in again)")


class Schtasks:
    name = "schtasks"
    label = f"Task Scheduler task {render.TASK_NAME}"

    def __init__(self, runner: Runner) -> None:
        self.run = runner

    def files(self, job: JobSpec) -> list[tuple[str, str]]:
        return [(f"task {render.TASK_NAME} (schtasks /Create /XML)", render.task_xml(job))]

    def install(self, job: JobSpec) -> list[str]:
        folder = Path(tempfile.mkdtemp(prefix="claude-backup-"))
        path = folder / "task.xml"
        try:
            path.write_bytes(render.task_xml(job).encode("utf-16"))
            _check(
                self.run(
                    ["schtasks", "/Create", "/TN", render.TASK_NAME, "/XML", str(path), "/F"], None
                ),
                "schtasks /Create",
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if job.environment:
            names = ", ".join(job.environment)
            return [
                f"Task Scheduler does not pass environment variables: set {names} for your user"
            ]
        return []

    def remove(self) -> bool:
        if not self.state().installed:
            return False
        _check(
            self.run(["schtasks", "/Delete", "/TN", render.TASK_NAME, "/F"], None),
            "schtasks /Delete",
        )
        return True

    def state(self) -> State:
        ran = self.run(["schtasks", "/Query", "/TN", render.TASK_NAME, "/FO", "LIST", "/V"], None)
        if ran.returncode != 0:
            return State(False)
        nxt = next(
            (
                line.split(":", 1)[1].strip()
                for line in ran.stdout.splitlines()
                if line.startswith("Next Run Time")
            ),
            "",
        )
        return State(True, f"next run {nxt}" if nxt else "")


class Cron:
    name = "cron"
    label = "crontab entry"

    def __init__(self, runner: Runner, program: str = "crontab") -> None:
        self.run = runner
        self.program = program

    def read(self) -> str:
        ran = self.run([self.program, "-l"], None)
        if ran.returncode == 0:
            return ran.stdout
        if "no crontab" in (ran.stderr + ran.stdout).lower():
            return ""
        _check(ran, f"{self.program} -l")
        return ""

    def write(self, text: str) -> None:
        _check(self.run([self.program, "-"], text), f"{self.program} -")

    def files(self, job: JobSpec) -> list[tuple[str, str]]:
        return [(f"lines added to your crontab ({self.program} -l)", render.cron_block(job))]

    def install(self, job: JobSpec) -> list[str]:
        self.write(render.with_cron_block(self.read(), job))
        return ["cron mails what the job prints; with -q that is only failures"]

    def remove(self) -> bool:
        current = self.read()
        if render.cron_block_of(current) is None:
            return False
        rest = render.without_cron_block(current)
        if rest.strip():
            self.write(rest)
        else:  # the crontab was ours alone: leave none, as before install
            _check(self.run([self.program, "-r"], None), f"{self.program} -r")
        return True

    def state(self) -> State:
        block = render.cron_block_of(self.read())
        if block is None:
            return State(False)
        line = block.splitlines()[1] if len(block.splitlines()) > 1 else ""
        return State(True, f"crontab line: {' '.join(line.split()[:5])}")


def make_backend(
    name: str,
    *,
    runner: Runner = run_program,
    environ: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Backend:
    env = os.environ if environ is None else environ
    uid = os.getuid() if hasattr(os, "getuid") else None
    if name == "systemd":
        return Systemd(runner, env, uid)
    if name == "launchd":
        return Launchd(runner, home or Path.home(), uid)
    if name == "schtasks":
        return Schtasks(runner)
    if name == "cron":
        return Cron(runner, env.get(CRONTAB_ENV) or "crontab")
    raise UsageError(f"unknown scheduler {name!r}; one of: {', '.join(BACKENDS)}")


def detect(
    *,
    runner: Runner = run_program,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> str:
    """The scheduler of this machine: launchd on macOS, Task Scheduler on Windows, a running
    systemd user instance on Linux, else cron."""
    env = os.environ if environ is None else environ
    system = platform or sys.platform
    if system == "darwin":
        return "launchd"
    if system == "win32":
        return "schtasks"
    if (
        shutil.which("systemctl")
        and runner(["systemctl", "--user", "show-environment"], None).returncode == 0
    ):
        return "systemd"
    program = env.get(CRONTAB_ENV) or "crontab"
    if shutil.which(program):
        return "cron"
    raise ScheduleError(
        "no scheduler found: neither a running systemd user instance nor cron's crontab; "
        "install cron, or use --backend to choose one"
    )
