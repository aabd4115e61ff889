"""`claude-backup verify`: check that the archive is whole (offline), and with --online that
it holds everything claude.ai lists."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from claude_backup.cli.common import DebugOption, JsonOption, run_command

if TYPE_CHECKING:
    from claude_backup.config import Value
    from claude_backup.sync.verify import Verified


def verify(
    archive: Annotated[
        Path | None,
        typer.Argument(help="The archive (default: found as for sync).", show_default=False),
    ] = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also compare with claude.ai: every chat listed there stored with the same "
            "updated_at, counts equal to count_all, every project and skill stored.",
        ),
    ] = False,
    session_key_file: Annotated[
        Path | None,
        typer.Option(help="With --online: a file holding session keys.", show_default=False),
    ] = None,
    browser: Annotated[
        str | None,
        typer.Option(help="With --online: take the key from this browser.", show_default=False),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="With --online: where the API lives. [default: https://claude.ai]"),
    ] = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Check the archive: git objects, chat files, uploads, artifact indexes, skills.

    Exits 0 when everything is there, 10 (naming each missing or inconsistent item) when not.

    Examples:

        claude-backup verify

        claude-backup verify ~/claude-archive --online --json
    """

    def work() -> int:
        return run_verify(
            archive,
            online=online,
            key_file=session_key_file,
            browser=browser,
            base_url=base_url,
            json_output=json_output,
        )

    run_command(work, debug, json_output=json_output)


def run_verify(
    archive: Path | None,
    *,
    online: bool,
    key_file: Path | None,
    browser: str | None,
    base_url: str | None,
    json_output: bool,
) -> int:
    import json

    from claude_backup.config import load
    from claude_backup.errors import ArchiveError, VerifyFailed
    from claude_backup.locate import find_archive
    from claude_backup.sync.verify import verify_offline

    settings = load({"base_url": base_url})
    path = find_archive(archive, configured=settings["archive"].value)
    if not (path / ".git").exists():
        raise ArchiveError(f"no archive at {path}; nothing to verify")
    result = verify_offline(path)
    if online:
        _verify_online(path, settings, key_file, browser, result)
    if json_output:
        out = {"archive": str(path), "online": online, **result.to_json()}
        out["exit_code"] = VerifyFailed.exit_code if result.problems else 0
        typer.echo(json.dumps(out, ensure_ascii=False))
        return int(out["exit_code"])
    checked = ", ".join(f"{n} {what}" for what, n in result.checked.items())
    typer.echo(f"checked {path}: {checked}")
    if not result.problems:
        typer.echo("ok: nothing missing, nothing inconsistent")
        return 0
    for problem in result.problems:
        typer.echo(f"  {problem.line()}")
    first = result.problems[0].line()
    raise VerifyFailed(
        f"{len(result.problems)} problem(s) found; the first: {first[:300]}"
        + ("" if online else " (run `sync`, then verify again)")
    )


def _verify_online(
    path: Path,
    settings: Mapping[str, Value],
    key_file: Path | None,
    browser: str | None,
    result: Verified,
) -> None:
    import asyncio

    from claude_backup.cli.sync_run import check_base_url
    from claude_backup.client import ClaudeClient, Politeness
    from claude_backup.keys import find_keys
    from claude_backup.sync.verify import verify_online

    value = {k: v.value for k, v in settings.items()}
    url = check_base_url(str(value["base_url"]))
    politeness = Politeness(
        connections=int(value["connections"]),
        success_delay=float(value["success_delay"]),
        retries=int(value["retries"]),
        min_retry_delay=float(value["min_retry_delay"]),
        max_retry_delay=float(value["max_retry_delay"]),
        timeout=float(value["timeout"]),
    )

    async def each() -> None:
        for key in find_keys(key_file=key_file, browser=browser, base_url=url):
            async with ClaudeClient(url, key, politeness) as client:
                await verify_online(path, client, result)

    asyncio.run(each())


def register(app: typer.Typer) -> None:
    app.command()(verify)
