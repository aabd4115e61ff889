from claude_backup.model.layout import chat_path
from claude_backup.model.records import ChatRecord, OrgListing, StoredChat
from claude_backup.sync.plan import plan_sync, same_time

ORG = "11111111-1111-4111-8111-111111111111"
ORG_PATH = f"acct-22222222-2222-4222-8222-222222222222/Org-{ORG}"
C1 = "c1c1c1c1-0000-4000-8000-000000000001"
C2 = "c2c2c2c2-0000-4000-8000-000000000002"
T0, T1 = "2026-01-01T00:00:00.000000Z", "2026-01-02T00:00:00.000000Z"


def rec(
    uuid: str = C1, name: str = "Chat", updated: str = T0, leaf: str | None = "m1"
) -> ChatRecord:
    return ChatRecord(uuid, name, updated, leaf)


def stored(r: ChatRecord, *, org_path: str = ORG_PATH, deleted: bool = False) -> StoredChat:
    return StoredChat(r, chat_path(org_path, r.name, r.uuid, deleted=deleted), ORG, deleted)


def listing(*chats: ChatRecord, org_path: str = ORG_PATH) -> OrgListing:
    return OrgListing(ORG, org_path, chats)


def test_new_chat_is_fetched() -> None:
    plan = plan_sync([listing(rec())], {})
    assert [(f.uuid, f.reason, f.old_path) for f in plan.fetches] == [(C1, "new", None)]


def test_unchanged_chat_is_not_fetched() -> None:
    plan = plan_sync([listing(rec())], {C1: stored(rec())})
    assert plan.fetches == [] and plan.moves == [] and plan.unchanged == 1


def test_timestamps_compare_as_instants() -> None:
    assert same_time("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000000+00:00")
    plan = plan_sync([listing(rec(updated="2026-01-01T00:00:00+00:00"))], {C1: stored(rec())})
    assert plan.unchanged == 1


def test_each_kind_of_change() -> None:
    cases = {
        "updated": rec(updated=T1),
        "branch": rec(leaf="m9"),
    }
    for reason, listed in cases.items():
        plan = plan_sync([listing(listed)], {C1: stored(rec())})
        assert [(f.reason, f.old_path) for f in plan.fetches] == [(reason, stored(rec()).path)], (
            reason
        )


def test_a_rename_alone_is_applied_locally_not_fetched() -> None:
    plan = plan_sync([listing(rec(name="New name"))], {C1: stored(rec())})
    assert plan.fetches == []
    assert [(r.old_path, r.new_path, r.name) for r in plan.renames] == [
        (stored(rec()).path, chat_path(ORG_PATH, "New name", C1), "New name")
    ]
    with_update = plan_sync([listing(rec(name="New name", updated=T1))], {C1: stored(rec())})
    assert [f.reason for f in with_update.fetches] == ["updated"] and with_update.renames == []
    to_no_name = plan_sync([listing(rec(name=""))], {C1: stored(rec())})
    assert [f.reason for f in to_no_name.fetches] == ["renamed"] and to_no_name.renames == []


def test_deleted_chat_moves_to_deleted_folder_or_is_pruned() -> None:
    keep = plan_sync([listing()], {C1: stored(rec())})
    assert [(m.old_path, m.new_path) for m in keep.moves] == [
        (stored(rec()).path, chat_path(ORG_PATH, "Chat", C1, deleted=True))
    ]
    prune = plan_sync([listing()], {C1: stored(rec())}, prune_deleted=True)
    assert [(m.old_path, m.new_path) for m in prune.moves] == [(stored(rec()).path, None)]


def test_a_short_listing_deletes_nothing() -> None:
    """A listing shorter than count_all may have left the chat out: not taken for deleted."""
    short = OrgListing(ORG, ORG_PATH, (), complete=False)
    assert plan_sync([short], {C1: stored(rec())}).moves == []
    assert plan_sync([short], {C1: stored(rec())}, prune_deleted=True).moves == []


def test_already_deleted_chat_stays_unless_pruned() -> None:
    gone = stored(rec(), deleted=True)
    assert plan_sync([listing()], {C1: gone}).moves == []
    assert [m.new_path for m in plan_sync([listing()], {C1: gone}, prune_deleted=True).moves] == [
        None
    ]


def test_deleted_chat_that_reappears_is_restored() -> None:
    plan = plan_sync([listing(rec())], {C1: stored(rec(), deleted=True)})
    assert [f.reason for f in plan.fetches] == ["restored"]


def test_unlisted_org_is_left_alone() -> None:
    assert plan_sync([], {C1: stored(rec())}).moves == []


def test_org_rename_moves_unchanged_chats() -> None:
    new_org = f"acct-22222222-2222-4222-8222-222222222222/Renamed-{ORG}"
    plan = plan_sync([listing(rec(), org_path=new_org)], {C1: stored(rec())})
    assert plan.fetches == []
    assert [(m.old_path, m.new_path) for m in plan.moves] == [
        (stored(rec()).path, chat_path(new_org, "Chat", C1))
    ]


def test_invalid_uuid_is_reported_not_fetched() -> None:
    plan = plan_sync([listing(rec(uuid="../../evil"))], {})
    assert plan.fetches == [] and plan.invalid == ["../../evil"]


def test_duplicate_listing_items_fetch_once() -> None:
    plan = plan_sync([listing(rec(), rec(), rec(C2))], {})
    assert sorted(f.uuid for f in plan.fetches) == [C1, C2]


def test_record_from_json_normalizes_null_and_missing() -> None:
    assert ChatRecord.from_json({"uuid": C1}) == ChatRecord.from_json(
        {"uuid": C1, "name": None, "updated_at": None, "current_leaf_message_uuid": None}
    )
    sentinel = "00000000-0000-4000-8000-000000000000"
    assert ChatRecord.from_json({"uuid": C1, "current_leaf_message_uuid": sentinel}).leaf is None
