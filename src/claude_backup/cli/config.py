"""`claude-backup config show`: the effective settings and where each one came from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from claude_backup.cli.common import DebugOption, run_command

config_app = typer.Typer(help="The settings claude-backup uses (never the session key).")


@config_app.command("show")
def show(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    debug: DebugOption = False,
) -> None:
    """Print every setting, its value and its source (default, config file, env, flag).

    The config file is TOML (`connections = 1`, `archive = "~/claude-archive"`, ...) at the
    path printed first; CLAUDE_BACKUP_CONFIG points elsewhere. Each setting can also be set by
    an environment variable CLAUDE_BACKUP_<NAME>, and flags win over both.
    """

    def work() -> int:
        import json

        from claude_backup.config import FIELDS, Value, config_path, load
        from claude_backup.locate import default_archive, enclosing_archive

        values = load({})
        archive = values["archive"]
        enclosing = enclosing_archive(Path.cwd())
        if not archive.source.startswith("env") and enclosing is not None:
            values["archive"] = Value(enclosing, "the archive containing this directory")
        elif archive.value is None:
            values["archive"] = Value(default_archive(), "default")
        if json_output:
            data = {
                n: {"value": _plain(_secretive(n, v.value)), "source": v.source}
                for n, v in values.items()
            }
            typer.echo(json.dumps({"config_file": str(config_path()), "settings": data}))
            return 0
        typer.echo(f"# config file: {config_path()}")
        typer.echo("# each setting NAME can also be set as CLAUDE_BACKUP_NAME, or by its flag")
        width = max(len(name) for name in FIELDS)
        for name, value in values.items():
            shown = _secretive(name, value.value)
            typer.echo(f"{name:<{width}} = {_text(shown):<30} # {value.source}")
        return 0

    run_command(work, debug, json_output=json_output)


def _secretive(name: str, value: object) -> object:
    """Notification and ping URLs often carry a token: show their scheme and host only."""
    from claude_backup.notify import redact_url

    if name == "notify" and isinstance(value, tuple):
        return tuple(redact_url(url) for url in value)
    if name == "ping_url" and isinstance(value, str):
        return redact_url(value)
    return value


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, Path) else value


def _text(value: object) -> str:
    if value is None or value == ():
        return "(none)"
    if isinstance(value, tuple):
        return " ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
