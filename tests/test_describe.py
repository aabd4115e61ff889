import json

from claude_backup.model.changes import FileChange
from claude_backup.model.layout import chat_path
from claude_backup.model.messages import NewChat, Side, describe_chat, describe_files, message
from claude_backup.sync.commits import pair_moves, plan_commits
from claude_backup.text import one_line

ACC = "acct-22222222-2222-4222-8222-222222222222"
ORG = f"{ACC}/Org-11111111-1111-4111-8111-111111111111"
C = "c1c1c1c1-0000-4000-8000-000000000001"
ROOT = "00000000-0000-4000-8000-000000000000"


def chat(name: str, messages: list[tuple[str, str]], leaf: str | None = None) -> bytes:
    msgs = [{"uuid": u, "parent_message_uuid": p} for u, p in messages]
    body = {
        "uuid": C,
        "name": name,
        "chat_messages": msgs,
        "current_leaf_message_uuid": leaf or (msgs[-1]["uuid"] if msgs else None),
    }
    return json.dumps(body).encode()


LINE = [("h1", ROOT), ("a1", "h1")]


def test_new_chat() -> None:
    change = describe_chat(C, Side(None, None), Side(chat_path(ORG, "T", C), chat("T", LINE)))
    assert change.kinds == ("new",) and change.what == "new (2 messages)" and change.title == "T"


def test_a_new_chat_is_described_from_what_the_sync_knew_without_reading_it() -> None:
    path = chat_path(ORG, "T", C)
    data = chat("T", [*LINE, ("h2", "a1")])

    def unread(sha: bytes) -> bytes:
        raise AssertionError("read back")

    known = {b"1" * 40: NewChat.of(json.loads(data))}
    _, summary = plan_commits([FileChange(path, None, b"1" * 40)], unread, known)
    assert [(c.kinds, c.what, c.title) for c in summary.chats] == [
        (("new",), "new (3 messages)", "T")
    ]
    # an update is described from both versions, read as ever
    blobs = {b"1" * 40: chat("T", LINE), b"2" * 40: data}
    _, summary = plan_commits([FileChange(path, b"1" * 40, b"2" * 40)], blobs.__getitem__, known)
    assert [c.what for c in summary.chats] == ["1 message added"]


def test_messages_added_vs_new_branch_vs_switch() -> None:
    p = chat_path(ORG, "T", C)
    old = Side(p, chat("T", LINE))
    added = describe_chat(C, old, Side(p, chat("T", [*LINE, ("h2", "a1"), ("a2", "h2")])))
    assert added.kinds == ("updated",) and added.what == "2 messages added"
    forked = describe_chat(C, old, Side(p, chat("T", [*LINE, ("h1b", ROOT), ("a1b", "h1b")])))
    assert forked.kinds == ("branch",) and forked.what == "new branch (+2 messages)"
    switched = describe_chat(C, old, Side(p, chat("T", LINE, leaf="h1")))
    assert switched.what == "branch switched"


def test_rename_and_delete_and_restore() -> None:
    old = Side(chat_path(ORG, "Old", C), chat("Old", LINE))
    renamed = describe_chat(C, old, Side(chat_path(ORG, "New", C), chat("New", LINE)))
    assert renamed.kinds == ("renamed",) and renamed.what == 'renamed "Old" → "New"'
    gone = Side(chat_path(ORG, "Old", C, deleted=True), chat("Old", LINE))
    assert describe_chat(C, old, gone).kinds == ("deleted",)
    assert describe_chat(C, gone, old).kinds[0] == "restored"
    assert describe_chat(C, old, Side(None, None)).kinds == ("pruned",)


def test_message_has_counts_lines_and_trailers() -> None:
    summary = describe_files([(Side(None, None), Side(chat_path(ORG, "T", C), chat("T", LINE)))])
    text = message(summary)
    first, _, line, _, trailer = text.strip().split("\n")
    assert first == "Sync: 1 new" and line == f"new (2 messages)  {C}  T"
    assert trailer == f"Chat-New: {C}"


def test_one_line_strips_control_and_invisible_characters() -> None:
    assert one_line("a\nb\x00c\u202ed") == "a b c d"
    assert one_line("x" * 200, 10) == "x" * 9 + "…"


def blob(store: dict[bytes, bytes], data: bytes) -> bytes:
    sha = str(len(store)).encode()
    store[sha] = data
    return sha


def test_rename_with_new_content_is_split_into_two_commits() -> None:
    store: dict[bytes, bytes] = {}
    old_path, new_path = chat_path(ORG, "Old", C), chat_path(ORG, "New", C)
    old_sha = blob(store, chat("Old", LINE))
    new_sha = blob(store, chat("New", [*LINE, ("h2", "a1")]))
    changes = [FileChange(old_path, old_sha, None), FileChange(new_path, None, new_sha)]
    steps, summary = plan_commits(changes, store.__getitem__)
    assert len(steps) == 2
    assert dict(steps[0].entries) == {old_path: None, new_path: old_sha}
    assert dict(steps[1].entries) == {new_path: new_sha}
    assert summary.chats[0].kinds == ("renamed", "updated")


def test_pure_rename_is_one_commit() -> None:
    store: dict[bytes, bytes] = {}
    sha = blob(store, chat("Same", LINE))
    old_path, new_path = chat_path(ORG, "Same", C), chat_path(ORG, "Same", C, deleted=True)
    changes = [FileChange(old_path, sha, None), FileChange(new_path, None, sha)]
    steps, summary = plan_commits(changes, store.__getitem__)
    assert len(steps) == 1 and summary.chats[0].kinds == ("deleted",)


def test_org_files_pair_across_folder_renames() -> None:
    a = f"{ACC}/A-11111111-1111-4111-8111-111111111111/organization.json"
    b = f"{ACC}/B-11111111-1111-4111-8111-111111111111/organization.json"
    moves, rest = pair_moves([FileChange(a, b"1", None), FileChange(b, None, b"2")])
    assert [(m.old_path, m.new_path) for m in moves] == [(a, b)] and rest == []
