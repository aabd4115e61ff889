"""A chat that appears while a paginated listing is read (created, or bumped to the top by a
new message, between two pages) is in the same sync."""

from __future__ import annotations

import json
from pathlib import Path

from claude_backup.fakeapi import FakeClaudeServer
from conftest import Fake, assert_git_healthy, chat_files, make_model, sync


def test_chats_created_or_bumped_between_pages_are_in_the_same_sync(tmp_path: Path) -> None:
    model = make_model(chats=0)
    org = model.accounts[0].orgs[0]
    chats = [model.add_chat(org, f"Chat {n}", turns=1) for n in range(30)]
    oldest = chats[0]  # on the last page of the listing
    archive = tmp_path / "archive"
    created: list[str] = []

    def meanwhile(page: int) -> None:
        if page == 0:  # the user writes while the sync reads the first page
            created.append(model.add_chat(org, "Written meanwhile", turns=1).uuid)
            model.add_messages(oldest.uuid, turns=1)

    with FakeClaudeServer(model) as server:
        server.chats_page_size = 7
        server.after_listing_page = meanwhile
        result = sync(Fake(model, server), archive, "--no-files")
        assert result.returncode == 0, result.stderr
        listing = [r for r in server.request_log() if "chat_conversations_v2" in r.path]
    assert len(listing) > 2  # the listing was paginated
    stored = chat_files(archive)
    assert created and created[0] in stored
    bumped = json.loads(stored[oldest.uuid].read_text())
    assert len(bumped["chat_messages"]) == 4
    assert bumped["updated_at"] == oldest.updated_at
    assert_git_healthy(archive)
