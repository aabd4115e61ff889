"""`claude-backup config show`: the effective settings and where each one came from."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from claude_backup.cli.common import DebugOption, JsonOption, run_command

config_app = typer.Typer(
    help="The settings claude-backup uses (never the session key).", no_args_is_help=True
)


@config_app.command("show")
def show(
    json_output: JsonOption = False,
    debug: DebugOption = False,
) -> None:
    """Print every setting, its value and its source (default, config file, env, flag).

    The output is valid TOML: paste it, or any of its lines, into the config file (settings
    not set, and URLs shown without their tokens, are comments). The config file is at the
    path printed first; CLAUDE_BACKUP_CONFIG points elsewhere. Each setting can also be set by
    an environment variable CLAUDE_BACKUP_<NAME>, and flags win over both.
    """

    def work() -> int:
        from claude_backup.config import FIELDS, Value, config_path, load
        from claude_backup.locate import CONFIGURED, FROM_ENV, locate_archive

        values = load({})
        located = locate_archive(None)
        if located.source not in (CONFIGURED, FROM_ENV):
            values["archive"] = Value(located.path.absolute(), located.source)
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
            line = f"{name:<{width}} = {toml_value(shown)}"
            if value.value is None or value.value == ():
                line = f"# {name:<{width - 2}} = (not set)"
            elif shown != value.value:  # a token hidden: pasting this line would lose it
                line = f"# {line}"
            typer.echo(f"{line:<{width + 36}} # {value.source}")
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
    return str(value.expanduser().absolute()) if isinstance(value, Path) else value


def toml_value(value: object) -> str:
    """A TOML literal: true/false, numbers as they are, a list as an array, anything else a
    quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
