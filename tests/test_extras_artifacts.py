"""Artifacts rebuilt from chat JSON: golden files, branches, failures, file types. Pure."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from claude_backup.model.layout import ARTIFACTS_INDEX as INDEX
from claude_backup.sync.extras.artifacts import commands, extension, reconstruct

GOLDEN = Path(__file__).parent / "golden" / "artifacts"
ROOT = "00000000-0000-4000-8000-000000000000"


def expected_files(case: Path) -> dict[str, bytes]:
    base = case / "expected"
    return {
        str(p.relative_to(base)).replace("\\", "/"): p.read_bytes()
        for p in base.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir()))
def test_golden(case: str) -> None:
    chat = json.loads((GOLDEN / case / "chat.json").read_bytes())
    assert reconstruct(chat) == expected_files(GOLDEN / case)


def test_reconstruct_is_pure() -> None:
    chat = json.loads((GOLDEN / "tool-calls" / "chat.json").read_bytes())
    before = copy.deepcopy(chat)
    first = reconstruct(chat)
    assert chat == before
    assert reconstruct(json.loads(json.dumps(chat))) == first


def message(n: int, parent: str, content: list[dict[str, Any]], text: str = "") -> dict[str, Any]:
    uuid = f"00000000-0000-4000-8000-{n:012d}"
    return {"uuid": uuid, "parent_message_uuid": parent, "content": content, "text": text}


def call(**fields: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{fields['id']}", "name": "artifacts", "input": fields}


def chat_of(*messages: dict[str, Any], leaf: str | None = None) -> dict[str, Any]:
    last = messages[-1]["uuid"] if messages else None
    return {"chat_messages": list(messages), "current_leaf_message_uuid": leaf or last}


def test_no_artifacts_no_files() -> None:
    plain = message(1, ROOT, [{"type": "text", "text": "hello"}])
    assert reconstruct(chat_of(plain)) == {}
    assert reconstruct({}) == {}
    assert reconstruct({"chat_messages": "nonsense"}) == {}


def test_update_replaces_only_the_first_occurrence() -> None:
    create = call(id="a", type="text/plain", command="create", content="x x x")
    update = call(id="a", command="update", old_str="x", new_str="y")
    one = message(1, ROOT, [create])
    two = message(2, one["uuid"], [update])
    files = reconstruct(chat_of(one, two))
    assert files["artifacts/a.txt"] == b"y x x"
    assert files["artifacts/a/v001.txt"] == b"x x x"


def test_updates_apply_to_their_own_branch() -> None:
    create = message(1, ROOT, [call(id="a", type="text/markdown", content="base")])
    left = message(2, create["uuid"], [call(id="a", command="update", old_str="base", new_str="L")])
    right = message(3, create["uuid"], [call(id="a", command="rewrite", content="R")])
    after_right = message(
        4, right["uuid"], [call(id="a", command="update", old_str="R", new_str="R2")]
    )
    chat = chat_of(create, left, right, after_right, leaf=left["uuid"])
    files = reconstruct(chat)
    assert files["artifacts/a.md"] == b"L"  # the current branch ends at `left`
    assert [files[f"artifacts/a/v00{n}.md"] for n in range(1, 5)] == [b"base", b"L", b"R", b"R2"]
    index = json.loads(files[INDEX])["artifacts"][0]
    assert [v["based_on"] for v in index["versions"]] == [None, 1, 1, 3]


def test_artifact_off_the_current_branch_keeps_its_last_version() -> None:
    one = message(1, ROOT, [{"type": "text", "text": "hi"}])
    side = message(2, ROOT, [call(id="b", type="text/html", content="<p>side</p>")])
    files = reconstruct(chat_of(one, side, leaf=one["uuid"]))
    assert files["artifacts/b.html"] == b"<p>side</p>"
    assert json.loads(files[INDEX])["artifacts"][0]["on_current_branch"] is False


def test_ids_that_clean_to_the_same_name_stay_apart() -> None:
    first = call(id="a/b", type="text/plain", content="1")
    second = call(id="a:b", type="text/plain", content="2")
    second["id"] = "toolu_other"
    files = reconstruct(chat_of(message(1, ROOT, [first, second])))
    assert files["artifacts/a_b.txt"] == b"1"
    assert files["artifacts/a_b-2.txt"] == b"2"


def test_an_artifact_named_index_does_not_clobber_the_index() -> None:
    files = reconstruct(chat_of(message(1, ROOT, [call(id="index", type="application/json")])))
    assert "artifacts/index.json" in files
    index = json.loads(files[INDEX])["artifacts"]
    assert index[0]["skipped"][0]["reason"] == "create without content"


@pytest.mark.parametrize(
    ("type_", "language", "ext"),
    [
        ("text/markdown", "", ".md"),
        ("text/html", "", ".html"),
        ("image/svg+xml", "", ".svg"),
        ("application/vnd.ant.mermaid", "", ".mermaid"),
        ("application/vnd.ant.react", "", ".jsx"),
        ("application/vnd.ant.code", "Python", ".py"),
        ("application/vnd.ant.code", "typescript", ".ts"),
        ("application/vnd.ant.code", "brainfuck", ".txt"),
        ("application/x-unknown", "", ".txt"),
    ],
)
def test_extension(type_: str, language: str, ext: str) -> None:
    assert extension(type_, language) == ext


def test_legacy_tags_need_an_identifier_and_a_closing_tag() -> None:
    text = (
        '<antArtifact type="text/plain">no id</antArtifact>'
        "<antArtifact identifier='x' type='text/plain'>\nok\n</antArtifact>"
        '<antArtifact identifier="open" type="text/plain">never closed'
    )
    found = list(commands({"uuid": "m", "content": [], "text": text}))
    assert [(c.id, c.fields["content"]) for c in found] == [("x", "ok\n")]
