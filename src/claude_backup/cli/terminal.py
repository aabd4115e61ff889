"""`show` on a terminal: the chat rendered (headings, code, lists) in a pager, not raw Markdown
with `<details>` HTML. Piped or with --format, `show` prints the Markdown as it is."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from claude_backup.childenv import scrubbed_environ

_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.DOTALL)
_DETAILS = re.compile(r"^\s*</?details>\s*$", re.MULTILINE)


def readable(markdown: str) -> str:
    """The Markdown without the HTML a terminal cannot fold: each `<details>` block opens with
    its summary in bold, and its content follows."""
    text = _SUMMARY.sub(lambda m: f"\n**▸ {m.group(1).strip()}**\n", markdown)
    return _DETAILS.sub("", text)


def page_markdown(markdown: str) -> None:
    """Rendered; through $PAGER (else `less -R`) when longer than the terminal."""
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()
    document = Markdown(readable(markdown), code_theme="ansi_dark", hyperlinks=False)
    with console.capture() as captured:
        console.print(document)
    text = captured.get()
    pager = os.environ.get("PAGER") or ("less -R" if shutil.which("less") else "")
    if text.count("\n") < console.height or not pager:
        sys.stdout.write(text)
        return
    env = scrubbed_environ({"LESS": os.environ.get("LESS", "FRX")})
    try:
        subprocess.run(pager, shell=True, input=text.encode(), env=env, check=False)
    except OSError:
        sys.stdout.write(text)
