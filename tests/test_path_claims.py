"""Names unique on every file system (issue 14 §3): whatever names a server sends, the paths
we hand out never collide by case, by Unicode normalization (NFC/NFD), or as a file where
another path needs a folder."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from claude_backup.model.naming import PathClaims, name_key
from claude_backup.sync.extras.artifacts import reconstruct

ROOT = "00000000-0000-4000-8000-000000000000"
component = st.sampled_from(
    [
        "a",
        "A",
        "notes",
        "NOTES",
        "notes.md",
        "Notes.MD",
        "caf\u00e9",
        "cafe\u0301",
        "x.csv",
        "X.CSV",
    ]
)
paths = st.lists(component, min_size=1, max_size=3).map("/".join)


def assert_portable(found: list[str]) -> None:
    keys = [name_key(p) for p in found]
    assert len(keys) == len(set(keys)), found
    folders = {
        name_key("/".join(p.split("/")[:n])) for p in found for n in range(1, p.count("/") + 1)
    }
    assert not folders & set(keys), found  # no file where a folder is needed
    spelled: dict[str, str] = {}
    for p in found:  # one spelling per folder
        for n in range(1, p.count("/") + 1):
            folder = "/".join(p.split("/")[:n])
            assert spelled.setdefault(name_key(folder), folder) == folder, found


@given(st.lists(paths, max_size=12))
def test_claimed_paths_never_collide(wanted: list[str]) -> None:
    claims = PathClaims()
    found = [claims.claim(path) for path in wanted]
    assert_portable(found)
    for path, got in zip(wanted, found, strict=True):
        assert got.count("/") == path.count("/")


def test_a_free_path_is_kept_as_is() -> None:
    claims = PathClaims()
    assert claims.claim("outputs/Report.csv") == "outputs/Report.csv"
    assert claims.claim("outputs/report.csv") == "outputs/report-2.csv"
    assert claims.claim("outputs/Report.csv/x") == "outputs/Report.csv-2/x"
    assert claims.claim("OUTPUTS/y") == "OUTPUTS-2/y"


types = st.sampled_from(["text/markdown", "text/html", "application/vnd.ant.code", "text/plain"])


@given(st.lists(st.tuples(component, types), min_size=1, max_size=8))
def test_artifact_files_never_collide(artifacts: list[tuple[str, str]]) -> None:
    blocks: list[dict[str, Any]] = []
    for n, (artifact_id, type_) in enumerate(artifacts):
        fields = {"id": artifact_id, "command": "create", "type": type_, "content": f"{n}\n"}
        blocks.append({"type": "tool_use", "id": f"t{n}", "name": "artifacts", "input": fields})
    chat = {
        "chat_messages": [{"uuid": "m1", "parent_message_uuid": ROOT, "content": blocks}],
        "current_leaf_message_uuid": "m1",
    }
    assert_portable(list(reconstruct(chat)))
