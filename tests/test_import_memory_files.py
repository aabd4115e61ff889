"""`import` keeps the official export's per-file ("melange") memory as files (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import assert_git_healthy, make_model
from test_read_import import do_import, export_files, flat_zip


def test_memory_files_become_files(tmp_path: Path) -> None:
    model = make_model(chats=2)
    files = export_files(model, tree=False)
    files["memories"][0]["memory_files"] = [
        {"path": "/profile.md", "content": "# Ada\nWrites programs.\n", "updated_at": "2026"},
        {"path": "/people/charles-babbage.md", "content": "Engine designer.\n"},
        {"path": "/../../outside.md", "content": "must not escape"},
        {"path": "/notes.md", "content": None},
    ]
    archive = tmp_path / "archive"
    result = do_import(archive, flat_zip(tmp_path / "export.zip", files))
    assert result.returncode == 0, result.stderr
    account = model.accounts[0]
    folder = archive / f"{account.email}-{account.uuid}" / f"Imported export-{account.uuid}"
    memory = folder / "memory-files"
    assert (memory / "profile.md").read_text() == "# Ada\nWrites programs.\n"
    assert (memory / "people" / "charles-babbage.md").read_text() == "Engine designer.\n"
    assert sorted(p.name for p in memory.rglob("*") if p.is_file()) == [
        "charles-babbage.md",
        "profile.md",
    ]
    assert not list(tmp_path.rglob("outside.md"))
    raw = json.loads((folder / "memory.json").read_text())
    assert raw["memory_files"][0]["path"] == "/profile.md"  # the raw record stays whole
    assert_git_healthy(archive)
