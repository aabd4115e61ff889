"""Help in the shape click, git and most CLIs use: `show [OPTIONS] CHAT`, `--limit N`,
`--at REV`, never typer's `{chat}`, `<str>`, `<bool>` or `<list[str]>`.

Recent typer versions print their own type labels; `conventional_help()` (called once by
cli/app.py) changes how its parameters show themselves in help and usage lines. Nothing else
about parsing changes. tests/test_help.py checks every command's help.
"""

from __future__ import annotations

from typing import Any

from typer import core


def _argument_name(self: Any) -> str:
    name = str(self.metavar or self.name).upper()
    return f"{name}..." if self.nargs != 1 else name


def _argument_usage(self: Any) -> str:
    name = str(self.metavar or self.name).upper()
    name = name if self.required else f"[{name}]"
    return f"{name}..." if self.nargs != 1 else name


def _no_type(self: Any, ctx: Any) -> str | None:
    return None


TYPE_METAVARS = {"int": "N", "float": "NUMBER", "path": "PATH", "Path": "PATH"}


def _option_metavar(self: Any, ctx: Any) -> str | None:
    if self.metavar is not None:
        return str(self.metavar)
    label = str(core.TyperArgument.display_type(self, ctx)).strip("<>")  # e.g. "int range"
    return TYPE_METAVARS.get(label.split(" ")[0], "TEXT")


def conventional_help() -> None:
    for cls, name, function in (
        (core.TyperArgument, "_rich_display_name", _argument_name),
        (core.TyperArgument, "_usage_display_name", _argument_usage),
        (core.TyperArgument, "display_type_rich", _no_type),
        (core.TyperOption, "display_type_rich", _option_metavar),
    ):
        if hasattr(cls, name):  # older typer versions print click's help already
            setattr(cls, name, function)
