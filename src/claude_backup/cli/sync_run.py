"""`claude-backup sync` once its options are read: settings in, the sync run, a summary out."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer

from claude_backup.archive.runlog import AccountRun, record_run
from claude_backup.cli.common import which_archive
from claude_backup.client import Politeness
from claude_backup.config import load
from claude_backup.errors import (
    ArchiveLocked,
    ClaudeBackupError,
    CommittedButFailed,
    PartialSync,
    PushError,
    UsageError,
)
from claude_backup.hosts import is_loopback
from claude_backup.keyage import KeyAge, KeyAges, ages_path, now_utc
from claude_backup.keys import SessionKey, find_keys
from claude_backup.locate import remember
from claude_backup.notify import Alerts
from claude_backup.read.memory_mode import MELANGE_NOTE
from claude_backup.sync.progress import make_reporter
from claude_backup.sync.run import AccountFailed, AccountReport, SyncReport, SyncSettings, run
from claude_backup.text import one_line, plural
from claude_backup.transport.clients import HTTP_CLIENTS


def run_sync(
    archive: Path | None,
    archive_option: Path | None,
    flags: dict[str, Any],
    *,
    key_file: Path | None,
    browser: str | None,
    quiet: bool,
    json_output: bool,
    debug: bool = False,
    verbose: bool = False,
) -> int:
    """Sync, then tell whoever asked (--notify, --notify-command, --ping-url) how it ended."""
    try:
        settings_values = load(flags)
    except ClaudeBackupError as exc:  # a broken config file: the flags' targets still hear of it
        report_problems(alerts_from(flags).failure(exc, archive_option or archive))
        raise
    value = {name: v.value for name, v in settings_values.items()}
    alerts = alerts_from(value)
    target: Path | None = None
    try:
        target = which_archive(archive, archive_option, announce=False).path.absolute()
        summary = _sync(
            target,
            value,
            alerts,
            key_file=key_file,
            browser=browser,
            quiet=quiet,
            verbose=verbose,
            json_output=json_output,
            debug=debug,
        )
    except BaseException as exc:
        report_problems(alerts.failure(exc, target))
        raise
    report_problems(alerts.success(summary))
    return 0


def alerts_from(value: dict[str, Any]) -> Alerts:
    return Alerts(
        urls=tuple(value.get("notify") or ()),
        command=value.get("notify_command"),
        ping_url=value.get("ping_url"),
        on_success=bool(value.get("notify_success")),
    )


def report_problems(problems: list[str]) -> None:
    for problem in problems:
        typer.echo(f"claude-backup: warning: {problem}", err=True)


def _sync(
    archive: Path,
    value: dict[str, Any],
    alerts: Alerts,
    *,
    key_file: Path | None,
    browser: str | None,
    quiet: bool,
    json_output: bool,
    debug: bool = False,
    verbose: bool = False,
) -> str:
    """The sync itself; returns a one-paragraph summary for a success notification."""
    url = check_base_url(value["base_url"])
    http_client = check_http_client(value["http_client"])
    if value["max_retry_delay"] < value["min_retry_delay"]:
        raise UsageError("--max-retry-delay must be at least --min-retry-delay")
    keys = find_keys(key_file=key_file, browser=browser, base_url=url)
    alerts.watch(keys)
    ages, warnings = check_key_ages(keys, alerts, archive)
    settings = SyncSettings(
        archive=archive,
        base_url=url,
        politeness=Politeness(
            connections=value["connections"],
            success_delay=value["success_delay"],
            retries=value["retries"],
            min_retry_delay=value["min_retry_delay"],
            max_retry_delay=value["max_retry_delay"],
            timeout=value["timeout"],
        ),
        prune_deleted=value["prune_deleted"],
        files=value["files"],
        projects=value["projects"],
        profile=value["profile"],
        skills=value["skills"],
        catalog=value["catalog"],
        code=value["code"],
        full_pass_hours=value["full_pass_hours"],
        http_client=http_client,
        key_file=key_file,
    )
    reporter = make_reporter(quiet=quiet, json_output=json_output, verbose=verbose)
    started = time.monotonic()
    failed: AccountFailed | None = None
    try:
        report = asyncio.run(run(keys, settings, reporter))
    except AccountFailed as exc:  # a later account failed: the earlier ones are committed
        failed, report = exc, exc.report
    except ArchiveLocked:
        raise  # the sync holding the archive writes the record, not this refused one
    except BaseException as exc:
        record_run(settings.archive, started, error=exc, key_ages=ages)
        raise
    finally:
        reporter.close()
    runs = [AccountRun(a.account, a.commit, a.fetched, len(a.failures)) for a in report.accounts]
    unrecorded = record_run(settings.archive, started, accounts=runs, error=failed, key_ages=ages)
    remember(settings.archive)
    pushed, push_error = None, None
    if value["push"] and failed is None:  # even after a partial sync: its commit is sound
        try:
            pushed = push_after_sync(settings.archive, value["remote"])
        except PushError as exc:
            push_error = exc
    lines = [account_line(account) for account in report.accounts]
    lines.append(f"done in {report.seconds:.1f} s; archive: {settings.archive}")
    if pushed is not None:
        lines.append(push_line(pushed))
    if json_output:
        data = summary_json(report, settings.archive, pushed)
        data["warnings"] = warnings
        error = push_error or failed
        if error is not None:
            data.update(error=one_line(str(error), 500), exit_code=error.exit_code)
        typer.echo(json.dumps(data, ensure_ascii=False))
    elif not quiet:
        for line in lines:
            typer.echo(line)
        if pushed is not None and pushed.get("note"):
            typer.echo(f"claude-backup: {pushed['note']}", err=True)
        for note in notes(report, debug=debug):
            typer.echo(f"claude-backup: {note}", err=True)
        for warning in warnings:  # after the summary, where it is seen
            typer.echo(f"claude-backup: warning: {warning}", err=True)
    for failure in report.failures:
        typer.echo(f"claude-backup: failed: {one_line(failure, 300)}", err=True)
    ending = _ending_error(report, failed, unrecorded, push_error)
    if ending is not None:
        ending.in_json_summary = json_output
        raise ending
    return "\n".join([*lines, *warnings])


def _ending_error(
    report: SyncReport,
    failed: AccountFailed | None,
    unrecorded: str | None,
    push_error: PushError | None,
) -> ClaudeBackupError | None:
    """What the sync ends with, if not success: the first that applies."""
    if failed is not None:
        return failed.error
    after = after_commit_problems(report, unrecorded)
    if after:
        return CommittedButFailed("; ".join(after))
    if push_error is not None:
        commits = [a.commit[:12] for a in report.accounts if a.commit]
        landed = (
            f"the sync's commit {', '.join(commits)} is in the archive"
            if commits
            else "the archive is as the sync left it"
        )
        return PushError(f"{push_error}; {landed}: run `claude-backup push` to retry")
    if report.failures:
        listed = "; ".join(one_line(f, 200) for f in report.failures[:5])
        return PartialSync(
            f"{len(report.failures)} item(s) could not be backed up ({listed}); "
            "everything else was committed. Run sync again to retry them."
        )
    return None


def check_key_ages(
    keys: list[SessionKey], alerts: Alerts, archive: Path
) -> tuple[list[KeyAge], list[str]]:
    """Each key's age, the warnings for keys near their expiry, and (at most once a day per
    key) a notification about them."""
    now = now_utc()
    store = KeyAges(ages_path())
    ages: list[KeyAge] = []
    warnings: list[str] = []
    due: list[str] = []
    for key in keys:
        age = store.age(key, now)
        if age is None:
            continue
        ages.append(age)
        warning = age.warning(now)
        if warning:
            warnings.append(warning)
            if store.should_notify(key, now):
                due.append(warning)
    store.save(now)
    if due:
        report_problems(alerts.warning(due, archive))
    return ages, warnings


def notes(report: SyncReport, *, debug: bool) -> list[str]:
    """What the summary says besides counts, once each: organizations in per-file memory
    mode, answers of an unknown shape, listings shorter than `count_all`, and with --debug
    the features this account does not have."""
    lines: list[str] = []
    melange = [org for a in report.accounts for org in a.extras.melange]
    if melange:
        lines.append(f"note: {MELANGE_NOTE} ({', '.join(one_line(o) for o in melange)})")
    for account in report.accounts:
        extras = account.extras
        lines += [f"warning: {one_line(gap, 300)}" for gap in account.listing_gaps]
        lines += [
            f"warning: {feature}: unexpected answer ({one_line(what, 200)}); stored as it came"
            for feature, what in extras.unexpected.items()
        ]
        if debug:
            lines += [
                f"debug: skipped {feature}: not available here ({one_line(why, 200)})"
                for feature, why in extras.skipped.items()
            ]
    return lines


def after_commit_problems(report: SyncReport, unrecorded: str | None) -> list[str]:
    """What failed once the sync's commits had landed, said as such: the backup stands."""
    problems = [f"{a.account}: {a.after_commit}" for a in report.accounts if a.after_commit]
    if unrecorded is not None:
        commits = ", ".join(f"{a.account} {a.commit[:12]}" for a in report.accounts if a.commit)
        done = f"the backup was committed ({commits})" if commits else "the sync finished"
        problems.append(
            f"{done}, but writing the last-sync record failed after it: {unrecorded} "
            "(`claude-backup status` shows the previous sync until the next one)"
        )
    return problems


def push_after_sync(archive: Path, remote: str | None) -> dict[str, Any]:
    """Push a synced archive; a failed push (PushError, exit 9) leaves the sync's commit as is."""
    from claude_backup.archive.remote import push_archive

    result = push_archive(archive, remote)
    pushed = {"remote": result.remote, "commit": result.new, "changed": result.changed}
    return {**pushed, "note": result.note} if result.note else pushed


def push_line(pushed: dict[str, Any]) -> str:
    done = f"pushed {pushed['commit'][:12]}" if pushed["changed"] else "already up to date"
    return f"{pushed['remote']}: {done}"


KIND_WORDS = {
    "new": ("new chat", "new chats"),
    "updated": ("updated chat", "updated chats"),
    "branch": ("chat with a new branch", "chats with new branches"),
    "renamed": ("renamed chat", "renamed chats"),
    "restored": ("restored chat", "restored chats"),
    "deleted": ("chat deleted on claude.ai", "chats deleted on claude.ai"),
    "pruned": ("pruned chat", "pruned chats"),
    "moved": ("moved chat", "moved chats"),
}


def account_line(account: AccountReport) -> str:
    extras = account.extras.line()
    renewed = "; session key renewed" if account.key_renewed else ""
    if account.commit is None:
        up_to_date = plural(account.unchanged, "chat")
        return f"{account.account}: no changes ({up_to_date} up to date){renewed}"
    assert account.summary is not None
    counts = account.summary.counts()
    parts = ", ".join(plural(counts[k], *KIND_WORDS[k]) for k in KIND_WORDS if counts[k])
    parts = "; ".join(p for p in (parts, extras) if p) or "files updated"
    return f"{account.account}: {parts}; commit {account.commit[:12]}{renewed}"


def summary_json(
    report: SyncReport, archive: Path, pushed: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "archive": str(archive),
        "seconds": round(report.seconds, 3),
        "accounts": [
            {
                "account": a.account,
                "commit": a.commit,
                "changes": dict(a.summary.counts()) if a.summary else {},
                "fetched": a.fetched,
                "unchanged": a.unchanged,
                "requests": a.requests,
                "retries": a.retries,
                "failures": a.failures,
                "skills": a.extras.skills,
                "code_sessions": a.extras.code_sessions,
                "project_full_pass": a.extras.project_full_pass,
                "memory_per_file": a.extras.melange,
                "unexpected": a.extras.unexpected,
                "not_available": a.extras.skipped,
                "listing_gaps": a.listing_gaps,
                "session_key_renewed": a.key_renewed,
                "files": {
                    "downloaded": a.extras.files,
                    "sandbox_outputs": a.extras.sandbox,
                    "bytes": a.extras.bytes,
                    "missing": a.extras.missing,
                    "artifacts": a.extras.artifacts,
                },
            }
            for a in report.accounts
        ],
        "failures": len(report.failures),
        "pushed": pushed,
        "exit_code": 3 if report.failures else 0,
    }


def check_http_client(name: str) -> str:
    if name not in HTTP_CLIENTS:
        raise UsageError(f"--http-client must be one of {', '.join(HTTP_CLIENTS)}, not {name!r}")
    return name


def check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url must be an http(s) URL, not {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError("--base-url may use plain http only on this machine (the key is secret)")
    return url.rstrip("/")
