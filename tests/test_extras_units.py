"""Pure parts of the extras: names, download sources, sandbox detection, commit lines."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from claude_backup.model.messages import Side, describe_extra, describe_files
from claude_backup.sync.extras.context import ExtrasReport
from claude_backup.sync.extras.paths import safe_file_name, sandbox_relative
from claude_backup.sync.extras.sandbox import uses_sandbox
from claude_backup.sync.extras.uploads import Wanted, file_refs, sources
from claude_backup.sync.tasks import Tasks
from claude_backup.text import human_size

ORG = "0b4c1f6e-1111-4222-8333-444455556666"
FILE = "7d0b6da5-0b7b-4e03-80f8-42057434cdaa"
CHAT = "82458cc8-9f7a-4daf-b43a-dc4fc7af3626"


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("Report (final).PDF", None, "Report (final).pdf"),
        ("../../etc/passwd", None, "etc_passwd"),
        ("", "image/png", "file.png"),
        (None, None, "file"),
        ("CON.txt", None, "CON_.txt"),
        (".bashrc", None, "bashrc"),
    ],
)
def test_safe_file_name(name: Any, mime: Any, expected: str) -> None:
    assert safe_file_name(name, mime) == expected


def test_sandbox_relative_paths_stay_inside() -> None:
    assert sandbox_relative("/mnt/user-data/outputs/a.csv") == "outputs/a.csv"
    assert sandbox_relative("/home/claude/x.py") == "other/home/claude/x.py"
    assert sandbox_relative("/mnt/user-data/../../etc/passwd") == "etc/passwd"
    assert sandbox_relative("/") == "unnamed"


def ref(**extra: Any) -> dict[str, Any]:
    return {"file_uuid": FILE, "file_name": "x", "file_kind": "image", **extra}


def test_sources_in_order_of_preference() -> None:
    contents = f"/organizations/{ORG}/files/{FILE}/contents"
    image = Wanted(ORG, "a/o", ref(preview_url=f"/api/{ORG}/files/{FILE}/preview"))
    assert [s[:2] for s in sources(image)] == [
        ("contents", contents),
        ("preview", f"/{ORG}/files/{FILE}/preview"),
    ]
    document = Wanted(ORG, "a/o", ref(file_kind="document", document_asset={"url": "/api/d/1"}))
    assert [s[0] for s in sources(document)] == ["document_asset", "contents"]
    blob = Wanted(ORG, "a/o", ref(file_kind="blob", path="/mnt/user-data/uploads/x"), CHAT)
    assert [s[0] for s in sources(blob)] == ["contents", "sandbox"]
    assert sources(blob)[1][2] == {"path": "/mnt/user-data/uploads/x"}


@pytest.mark.parametrize(
    "url", ["https://evil.example/api/x", "//evil.example/x", "/api/../x", "/other/x", 7]
)
def test_urls_off_the_api_are_never_followed(url: Any) -> None:
    item = Wanted(ORG, "a/o", ref(file_kind="document", document_asset={"url": url}))
    assert [s[0] for s in sources(item)] == ["contents"]


def test_file_refs_once_each_files_v2_first() -> None:
    other = "11111111-2222-4333-8444-555566667777"
    chat = {
        "chat_messages": [
            {"files_v2": [ref(file_name="new")], "files": [ref(file_name="old")]},
            {"files": [{"file_uuid": other}, {"file_uuid": "not-a-uuid"}, "junk"]},
            "junk",
        ]
    }
    refs = file_refs(chat)
    assert [(r["file_uuid"], r.get("file_name")) for r in refs] == [(FILE, "new"), (other, None)]


def test_uses_sandbox() -> None:
    def chat(block: dict[str, Any]) -> dict[str, Any]:
        return {"chat_messages": [{"content": [block]}]}

    assert uses_sandbox(chat({"type": "tool_use", "name": "create_file"}))
    assert not uses_sandbox(chat({"type": "tool_use", "name": "web_search"}))
    assert not uses_sandbox(chat({"type": "text", "text": "bash_tool"}))
    blob = {"chat_messages": [{"files_v2": [{"path": "/mnt/user-data/uploads/a"}]}]}
    assert uses_sandbox(blob)


def test_report_line() -> None:
    assert ExtrasReport().line() == ""
    report = ExtrasReport(files=3, sandbox=1, bytes=2_621_440, missing=1, artifacts=4)
    assert report.line() == "3 files, 1 sandbox output (2.5 MiB), 1 missing, 4 artifacts"
    assert human_size(999) == "999 B" and human_size(1536) == "1.5 KiB"


def side(path: str | None, value: Any = None) -> Side:
    data = json.dumps(value).encode() if value is not None else (b"x" if path else None)
    return Side(path, data)


ACC = f"a@example.com-{ORG}"
ORGDIR = f"Org-{ORG}"
PROJECT = f"{ACC}/{ORGDIR}/projects/Plans-{FILE}"


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        (
            side(None),
            side(f"{ACC}/{ORGDIR}/files/{FILE}.json", {"file_name": "a.png"}),
            "file added: a.png",
        ),
        (
            side(None),
            side(f"{ACC}/{ORGDIR}/files/{FILE}.json", {"file_name": "a.png", "missing": True}),
            "file missing: a.png",
        ),
        (side(None), side(f"{PROJECT}/project.json", {"name": "Plans"}), "project added: Plans"),
        (
            side(f"{PROJECT}/project.json", {"name": "Plans"}),
            side(f"{ACC}/{ORGDIR}/projects/Ideas-{FILE}/project.json", {"name": "Ideas"}),
            'project renamed "Plans" → "Ideas"',
        ),
        (
            side(None),
            side(f"{ACC}/{ORGDIR}/deleted-projects/Plans-{FILE}/project.json", {"name": "Plans"}),
            "project deleted: Plans",
        ),
        (
            Side(f"{PROJECT}/instructions.md", b"a"),
            Side(f"{PROJECT}/instructions.md", b"b"),
            "project instructions updated: Plans",
        ),
        (
            Side(f"{PROJECT}/docs/n.md", b"a"),
            Side(f"{PROJECT}/docs/n.md", b"b"),
            "project doc changed: n.md (Plans)",
        ),
        (side(f"{PROJECT}/docs/n.md"), side(None), "project doc removed: n.md (Plans)"),
        (side(None), side(f"{ACC}/{ORGDIR}/memory.md"), "memory updated"),
        (side(None), side(f"{PROJECT}/memory.md"), "project memory updated: Plans"),
        (
            side(None),
            side(f"{ACC}/{ORGDIR}/chat-files/Talk-{CHAT}/artifacts/index.json"),
            "artifacts updated: Talk",
        ),
        (
            side(None),
            side(f"{ACC}/{ORGDIR}/chat-files/Talk-{CHAT}/sandbox/outputs/r.csv"),
            "sandbox output added: r.csv (Talk)",
        ),
        (side(None), side(f"{ACC}/{ORGDIR}/chat-files/Talk-{CHAT}/artifacts/a.md"), None),
        (side(None), side(f"{ACC}/{ORGDIR}/files/{FILE}/a.png"), None),
    ],
)
def test_commit_lines(old: Side, new: Side, line: str | None) -> None:
    assert describe_extra(old, new) == line


def test_commit_lines_reach_the_commit_message() -> None:
    change = (side(None), side(f"{ACC}/{ORGDIR}/memory.md"))
    assert describe_files([change]).other == ["memory updated"]


def test_tasks_keep_the_first_failure_and_cancel_the_rest() -> None:
    async def main() -> None:
        tasks = Tasks()

        async def slow() -> None:
            await asyncio.sleep(10)

        async def fail() -> None:
            await asyncio.sleep(0)
            raise OSError("disk full")

        pending = tasks.add(slow())
        tasks.add(fail())
        tasks.raise_failure()  # nothing has failed yet
        await asyncio.sleep(0.01)
        with pytest.raises(OSError, match="disk full"):
            tasks.raise_failure()
        with pytest.raises(OSError, match="disk full"):
            await tasks.wait()
        await tasks.cancel()
        assert pending.cancelled()

    asyncio.run(main())


def test_tasks_wait_for_tasks_added_while_waiting() -> None:
    async def main() -> list[int]:
        tasks, done = Tasks(), []

        async def second() -> None:
            await asyncio.sleep(0.01)
            done.append(2)

        async def first() -> None:
            await asyncio.sleep(0)
            tasks.add(second())
            done.append(1)

        tasks.add(first())
        await tasks.wait()
        return done

    assert asyncio.run(main()) == [1, 2]
