"""`claude-backup key set|show|remove`: keep the session key where unattended runs find it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_backup.cli.common import DebugOption, JsonOption

key_app = typer.Typer(
    help="Store the session key for unattended runs (OS keyring or a private file); "
    "show where the key comes from and how old it is. Never prints the key."
)


@key_app.command("set")
def set_key(
    in_file: Annotated[
        bool,
        typer.Option(
            "--file",
            help="Keep the key in a 0600 file beside the config file instead of the OS keyring "
            "(for cron and machines without a keyring service).",
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Store the session key, read from stdin (one per line, one per account) or typed hidden.

    Copy the `sessionKey` cookie's value from claude.ai (developer tools, Storage, Cookies).
    The key is never taken from the command line, where other users could see it.

    Examples:

        wl-paste | claude-backup key set

        claude-backup key set --file < key.txt
    """
    from claude_backup.cli.common import run_command

    def work() -> int:
        import sys

        from claude_backup.errors import AuthError
        from claude_backup.keyage import KeyAges, ages_path, now_utc
        from claude_backup.keys import parse_keys
        from claude_backup.keystore import store

        if sys.stdin is not None and sys.stdin.isatty():
            import getpass

            text = getpass.getpass("Paste the sessionKey cookie value (hidden): ")
        else:
            text = sys.stdin.read() if sys.stdin is not None else ""
        keys = parse_keys(text, "the input")
        if not keys:
            raise AuthError("no session key given: paste it, or pipe it on stdin")
        place = store(keys, in_file=in_file)
        now = now_utc()
        ages = KeyAges(ages_path())
        for key in keys:
            ages.restart(key, now)
        ages.save(now)
        where = "the OS keyring" if place == "keyring" else place
        count = f"{len(keys)} session keys" if len(keys) > 1 else "the session key"
        typer.echo(f"stored {count} in {where}; sync and scheduled runs will use it")
        return 0

    run_command(work, debug)


@key_app.command("show")
def show(
    session_key_file: Annotated[
        Path | None,
        typer.Option(help="Consider this key file, as sync would.", show_default=False),
    ] = None,
    browser: Annotated[
        str | None,
        typer.Option(help="Consider only this browser's cookie.", show_default=False),
    ] = None,
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Where sync would take the session key from now, and how old it is. Never the key."""
    from claude_backup.cli.common import run_command

    def work() -> int:
        import io
        import json

        from claude_backup.config import load
        from claude_backup.errors import AuthError
        from claude_backup.keyage import KeyAges, ages_path, now_utc
        from claude_backup.keys import find_keys
        from claude_backup.keystore import keyring_backend_name, stored_places

        base_url = load({})["base_url"].value
        now = now_utc()
        try:
            keys = find_keys(
                key_file=session_key_file, browser=browser, base_url=base_url, stdin=io.StringIO()
            )
        except AuthError as exc:
            if json_output:
                typer.echo(json.dumps({"keys": [], "error": str(exc)}))
            else:
                typer.echo(f"no session key: {exc}")
            return AuthError.exit_code
        ages = KeyAges(ages_path())
        found = [(key, ages.age(key, now, remember=False)) for key in keys]
        places = stored_places()
        if json_output:
            data = {
                "keys": [
                    {"source": key.source, "age": age.as_json() if age else None}
                    for key, age in found
                ],
                "stored": [{"place": p.place, "keys": p.keys} for p in places],
                "keyring_backend": keyring_backend_name(),
            }
            typer.echo(json.dumps(data))
            return 0
        for number, (key, age) in enumerate(found, start=1):
            label = f"key {number} of {len(found)}" if len(found) > 1 else "session key"
            if age is None:
                typer.echo(f"{label}: from {key.source}, not used by a sync yet")
            else:
                typer.echo(f"{label}: {age.describe(now).removeprefix('session key ')}")
                warning = age.warning(now)
                if warning:
                    typer.echo(f"warning: {warning}")
            if key.source == "keyring":
                typer.echo(f"  keyring backend: {keyring_backend_name()}")
        used = {key.source for key in keys}
        for place in places:
            if place.place not in used:
                typer.echo(f"also stored, not used (an earlier source wins): {place.place}")
        return 0

    run_command(work, debug, json_output=json_output)


@key_app.command("remove")
def remove_key(debug: DebugOption = False) -> None:
    """Forget the stored session key (keyring entry and key file)."""
    from claude_backup.cli.common import run_command

    def work() -> int:
        from claude_backup.keystore import remove

        removed = remove()
        if not removed:
            typer.echo("no stored session key to remove")
        for place in removed:
            typer.echo(
                f"removed the session key from {'the OS keyring' if place == 'keyring' else place}"
            )
        return 0

    run_command(work, debug)


def register(app: typer.Typer) -> None:
    app.add_typer(key_app, name="key")
