"""`claude-backup schedule install|show|status|remove`: a backup that runs by itself, with the
platform's own scheduler, and says when it fails."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from claude_backup.cli.common import DebugOption, JsonOption

schedule_app = typer.Typer(
    help="Run the sync by itself: systemd timer, launchd agent, Task Scheduler task or cron."
)

ArchiveArg = Annotated[
    Path | None,
    typer.Argument(help="The archive (default: found as for sync).", show_default=False),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        help="systemd, launchd, schtasks or cron. [default: this machine's]", show_default=False
    ),
]
EveryOpt = Annotated[
    str, typer.Option(help="daily, hourly, or every N hours: 2h, 3h, 4h, 6h, 8h, 12h.")
]
AtOpt = Annotated[
    str | None,
    typer.Option(help="Time of day (local), or the first run of the day. [default: 03:17]"),
]
NotifyOpt = Annotated[
    list[str] | None,
    typer.Option(help="Apprise URL told when a run fails (repeatable).", show_default=False),
]
NotifyCommandOpt = Annotated[
    str | None,
    typer.Option(help="Shell command fed the message when a run fails.", show_default=False),
]
NotifySuccessOpt = Annotated[
    bool, typer.Option("--notify-success", help="Notify after good runs too.")
]
PingOpt = Annotated[
    str | None,
    typer.Option(help="Healthchecks-style URL pinged after each run.", show_default=False),
]
KeyFileOpt = Annotated[
    Path | None,
    typer.Option(help="Have the job read keys from this file.", show_default=False),
]
PushOpt = Annotated[bool, typer.Option("--push", help="Push after each run.")]


def _job(
    archive: Path | None,
    every: str,
    at: str | None,
    backend_name: str,
    *,
    notify: list[str] | None,
    notify_command: str | None,
    notify_success: bool,
    ping_url: str | None,
    session_key_file: Path | None,
    push: bool,
) -> Any:
    import os

    from claude_backup.config import load
    from claude_backup.locate import find_archive
    from claude_backup.schedule.spec import (
        JobSpec,
        carried_environment,
        installed_command,
        parse_timing,
    )

    timing = parse_timing(every, at)
    target = find_archive(archive, configured=load({})["archive"].value).absolute()
    argv = [*installed_command(), "sync", str(target), "-q"]
    if session_key_file is not None:
        argv += ["--session-key-file", str(session_key_file.expanduser().absolute())]
    for url in notify or ():
        argv += ["--notify", url]
    if notify_command:
        argv += ["--notify-command", notify_command]
    if notify_success:
        argv.append("--notify-success")
    if ping_url:
        argv += ["--ping-url", ping_url]
    if push:
        argv.append("--push")
    environment = carried_environment(os.environ)
    if "CLAUDE_BACKUP_CONFIG" in environment:
        environment["CLAUDE_BACKUP_CONFIG"] = str(
            Path(environment["CLAUDE_BACKUP_CONFIG"]).expanduser().absolute()
        )
    log = (
        Path.home() / "Library" / "Logs" / "claude-backup.log"
        if backend_name == "launchd"
        else None
    )
    return JobSpec(tuple(argv), timing, target, environment, log)


def _backend_name(chosen: str | None) -> str:
    from claude_backup.schedule.backends import BACKENDS, detect

    if chosen is None:
        return detect()
    from claude_backup.errors import UsageError

    if chosen not in BACKENDS:
        raise UsageError(f"unknown --backend {chosen!r}; one of: {', '.join(BACKENDS)}")
    return chosen


def _redacted(argv: list[str]) -> str:
    """The job's command for the screen: notification URLs cut to scheme and host."""
    import shlex

    from claude_backup.notify import redact_url

    shown = []
    for before, word in zip(["", *argv[:-1]], argv, strict=True):
        shown.append(redact_url(word) if before in ("--notify", "--ping-url") else word)
    return shlex.join(shown)


def _show_job(name: str, job: Any, session_key_file: Path | None) -> None:
    """Print exactly what `schedule install` would write, without writing anything."""
    from claude_backup.schedule.backends import make_backend

    for number, (where, text) in enumerate(make_backend(name).files(job)):
        typer.echo(f"{chr(10) if number else ''}# {where}")
        typer.echo(text, nl=not text.endswith("\n"))


def _install_job(name: str, job: Any, session_key_file: Path | None) -> None:
    """Install (or replace) the scheduled sync: `claude-backup sync ARCHIVE -q` by the absolute
    path of this installation, with the key from `claude-backup key set`, never in the job.

    Examples:

        claude-backup key set && claude-backup schedule install

        claude-backup schedule install ~/claude-archive --every 6h --at 00:30 \\
            --notify ntfy://ntfy.sh/my-topic --ping-url https://hc-ping.com/UUID
    """
    from claude_backup.schedule import record
    from claude_backup.schedule.backends import make_backend

    previous = record.load()
    if previous and previous.get("backend") not in (None, name):
        make_backend(str(previous["backend"])).remove()
    chosen = make_backend(name)
    advice = chosen.install(job)
    record.save(name, job)
    typer.echo(f"installed: {chosen.label}, {job.timing.describe()}")
    typer.echo(f"runs: {_redacted(list(job.argv))}")
    for line in [*advice, *_key_advice(name, session_key_file)]:
        typer.echo(f"note: {line}")


def _job_command(
    command_name: str,
    act: Callable[[str, Any, Path | None], None],
    *,
    check_notify: bool,
) -> None:
    """`show` and `install` as one command shape, so that show always takes the options install
    takes and builds the same job from them; `act` gets the backend's name, the job and the key
    file, and its docstring is the command's help."""

    @schedule_app.command(command_name, help=inspect.getdoc(act))
    def command(
        archive: ArchiveArg = None,
        every: EveryOpt = "daily",
        at: AtOpt = None,
        backend: BackendOpt = None,
        notify: NotifyOpt = None,
        notify_command: NotifyCommandOpt = None,
        notify_success: NotifySuccessOpt = False,
        ping_url: PingOpt = None,
        session_key_file: KeyFileOpt = None,
        push: PushOpt = False,
        debug: DebugOption = False,
    ) -> None:
        from claude_backup.cli.common import run_command

        def work() -> int:
            from claude_backup.errors import UsageError
            from claude_backup.notify import redact_url, valid_notify_url

            for url in (notify or ()) if check_notify else ():
                if not valid_notify_url(url):
                    raise UsageError(f"--notify {redact_url(url)} is not a URL Apprise knows")
            name = _backend_name(backend)
            job = _job(
                archive,
                every,
                at,
                name,
                notify=notify,
                notify_command=notify_command,
                notify_success=notify_success,
                ping_url=ping_url,
                session_key_file=session_key_file,
                push=push,
            )
            act(name, job, session_key_file)
            return 0

        run_command(work, debug)


_job_command("show", _show_job, check_notify=False)
_job_command("install", _install_job, check_notify=True)


def _key_advice(backend: str, key_file: Path | None) -> list[str]:
    if key_file is not None:
        return []
    from claude_backup.keystore import keyring_backend_name, stored_places
    from claude_backup.schedule.advice import key_advice

    places = [place.place for place in stored_places()]
    return key_advice(backend, places, keyring_backend_name() if places else "")


@schedule_app.command("status")
def status(
    backend: BackendOpt = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Whether the job is installed, when it runs, and how its last run ended."""
    from claude_backup.cli.common import run_command

    def work() -> int:
        import json

        from claude_backup.archive.runlog import last_run
        from claude_backup.schedule import record
        from claude_backup.schedule.backends import make_backend

        saved = record.load()
        name = backend or (saved or {}).get("backend") or _backend_name(None)
        state = make_backend(str(name)).state()
        archive = Path(saved["archive"]) if saved and saved.get("archive") else None
        last = last_run(archive) if archive else None
        if json_output:
            data = {
                "installed": state.installed,
                "backend": name,
                "detail": state.detail,
                "schedule": (saved or {}).get("when"),
                "archive": str(archive) if archive else None,
                "last_sync": last,
            }
            typer.echo(json.dumps(data))
            return 0
        if not state.installed:
            typer.echo(f"not installed ({name}); `claude-backup schedule install` sets it up")
            return 0
        when = (saved or {}).get("when", "")
        typer.echo(
            f"installed: {name}"
            + (f", {when}" if when else "")
            + (f"; {state.detail}" if state.detail else "")
        )
        if archive:
            typer.echo(f"archive: {archive}")
        if saved and saved.get("argv"):
            typer.echo(f"runs: {_redacted([str(a) for a in saved['argv']])}")
        if last:
            result = last.get("result")
            detail = (
                f" (exit {last.get('exit_code')}: {last.get('message')})"
                if result == "error"
                else ""
            )
            typer.echo(f"last run: {last.get('finished_at')}, {result}{detail}")
        elif archive:
            typer.echo("last run: none yet")
        return 0

    run_command(work, debug, json_output=json_output)


@schedule_app.command("remove")
def remove(backend: BackendOpt = None, debug: DebugOption = False) -> None:
    """Remove the scheduled sync (the archive and the stored key stay)."""
    from claude_backup.cli.common import run_command

    def work() -> int:
        from claude_backup.schedule import record
        from claude_backup.schedule.backends import make_backend

        saved = record.load()
        name = backend or (saved or {}).get("backend") or _backend_name(None)
        chosen = make_backend(str(name))
        removed = chosen.remove()
        record.forget()
        typer.echo(f"removed the {chosen.label}" if removed else f"no scheduled sync ({name})")
        return 0

    run_command(work, debug)


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
