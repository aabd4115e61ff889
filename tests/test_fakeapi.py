"""The fake Claude.ai API: a real HTTP server on 127.0.0.1 driven through httpx."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from claude_backup.fakeapi import (
    REGION_URL,
    ROOT_MESSAGE_UUID,
    Account,
    Chat,
    FakeClaude,
    FakeClaudeServer,
    Fault,
    Org,
    endpoint_kind,
    populate_demo,
)

KEY = "sk-ant-sid01-test-key-0123456789"


@dataclass
class World:
    model: FakeClaude
    account: Account
    personal: Org
    team: Org
    api_org: Org
    chats: list[Chat]


def make_world(seed: int = 7, chats: int = 12) -> World:
    model = FakeClaude(seed=seed)
    account = model.add_account(KEY, "ada@example.com", "Ada Lovelace")
    personal = account.add_org("ada@example.com's Organization")
    team = account.add_org("Team", ("chat", "raven"))
    api_org = account.add_org("Console", ("api",))
    made = [
        model.add_chat(personal, f"chat {i}", turns=1 + i % 4, branches=i % 3) for i in range(chats)
    ]
    made.append(model.add_chat(team, "team chat", turns=2))
    return World(model, account, personal, team, api_org, made)


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def server(world: World) -> Iterator[FakeClaudeServer]:
    with FakeClaudeServer(world.model) as srv:
        yield srv


@pytest.fixture
def client(server: FakeClaudeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, cookies={"sessionKey": KEY}, timeout=5) as c:
        yield c


def list_url(org: Org, v2: bool = True) -> str:
    suffix = "chat_conversations_v2" if v2 else "chat_conversations"
    return f"/api/organizations/{org.uuid}/{suffix}"


def detail_url(org: Org, chat_uuid: str) -> str:
    return (
        f"/api/organizations/{org.uuid}/chat_conversations/{chat_uuid}"
        "?tree=True&rendering_mode=messages&render_all_tools=true&consistency=strong"
    )


def get_detail(client: httpx.Client, world: World, chat: Chat) -> dict[str, object]:
    response = client.get(detail_url(world.personal, chat.uuid))
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data


# -- account, orgs, auth ----------------------------------------------------------


def test_account_lists_memberships(world: World, client: httpx.Client) -> None:
    response = client.get("/api/account")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["email_address"] == "ada@example.com"
    assert body["uuid"] == world.account.uuid
    orgs = [m["organization"] for m in body["memberships"]]
    assert [o["uuid"] for o in orgs] == [world.personal.uuid, world.team.uuid, world.api_org.uuid]
    assert orgs[2]["capabilities"] == ["api"]


def test_organizations_array(world: World, client: httpx.Client) -> None:
    orgs = client.get("/api/organizations").json()
    assert [o["name"] for o in orgs] == ["ada@example.com's Organization", "Team", "Console"]
    assert set(orgs[0]) >= {"uuid", "name", "capabilities", "created_at", "updated_at", "settings"}


def test_account_rename_is_served(world: World, client: httpx.Client) -> None:
    world.account.rename(full_name="Ada King", email="king@example.com")
    world.personal.rename("Renamed Org")
    body = client.get("/api/account").json()
    assert (body["full_name"], body["email_address"]) == ("Ada King", "king@example.com")
    assert body["memberships"][0]["organization"]["name"] == "Renamed Org"


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("cookies", [{}, {"sessionKey": "sk-ant-sid01-wrong"}])
def test_invalid_session(world: World, status: int, cookies: dict[str, str]) -> None:
    with FakeClaudeServer(world.model, invalid_session_status=status) as srv:
        response = httpx.get(f"{srv.base_url}/api/account", cookies=cookies)
    assert response.status_code == status
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "permission_error"
    assert body["error"]["message"] == "Invalid authorization"
    assert body["error"]["details"]["error_code"] == "account_session_invalid"
    assert body["request_id"].startswith("req_")


def test_api_only_and_foreign_org_are_forbidden(world: World, client: httpx.Client) -> None:
    other = world.model.add_account("sk-ant-sid01-other", "eve@example.com")
    foreign = other.add_org("Eve's")
    for org in (world.api_org, foreign):
        response = client.get(list_url(org))
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "Invalid authorization for organization"
    chat = world.model.add_chat(foreign, "secret")
    assert client.get(detail_url(foreign, chat.uuid)).status_code == 403


def test_other_methods_and_paths(client: httpx.Client) -> None:
    response = client.post("/api/account", json={"x": 1})
    assert response.status_code == 405
    assert response.json()["type"] == "error"
    assert client.delete("/api/account").status_code == 405
    assert client.get("/api/nope").status_code == 404
    assert client.get("/api/account").status_code == 200  # connection still usable


def test_endpoint_kind() -> None:
    assert endpoint_kind("/api/account") == "account"
    assert endpoint_kind("/api/organizations") == "organizations"
    assert endpoint_kind("/api/organizations/o/chat_conversations_v2") == "list"
    assert endpoint_kind("/api/organizations/o/chat_conversations") == "list"
    assert endpoint_kind("/api/organizations/o/chat_conversations/c") == "detail"
    assert endpoint_kind("/api/organizations/o/projects") == "other"


# -- listing --------------------------------------------------------------------


def test_full_listing_is_sorted_newest_first(world: World, client: httpx.Client) -> None:
    body = client.get(list_url(world.personal), params={"consistency": "strong"}).json()
    assert body["has_more"] is False
    items = body["data"]
    assert len(items) == len(world.personal.chats) == 12
    stamps = [i["updated_at"] for i in items]
    assert stamps == sorted(stamps, reverse=True)
    assert items[0]["uuid"] == world.chats[11].uuid  # the last one created
    assert items[0] == world.model.chat_summary(world.chats[11])
    assert {"chat_messages"} & set(items[0]) == set()


def test_pages_concatenate_to_the_full_list(world: World, client: httpx.Client) -> None:
    full = client.get(list_url(world.personal)).json()["data"]
    pages, offset = [], 0
    while True:
        page = client.get(list_url(world.personal), params={"limit": 5, "offset": offset}).json()
        pages.append(page)
        offset += 5
        if not page["has_more"]:
            break
    assert [len(p["data"]) for p in pages] == [5, 5, 2]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [i for p in pages for i in p["data"]] == full
    exact = client.get(list_url(world.personal), params={"limit": 12}).json()
    assert exact["has_more"] is False


def test_v1_list_is_a_plain_array(world: World, client: httpx.Client) -> None:
    v2 = client.get(list_url(world.personal)).json()["data"]
    v1 = client.get(list_url(world.personal, v2=False)).json()
    assert v1 == v2
    page = client.get(list_url(world.personal, v2=False), params={"limit": 3, "offset": 10})
    assert page.json() == v2[10:]


def test_starred_filter_and_bad_params(world: World, client: httpx.Client) -> None:
    for chat in world.chats:
        world.model.set_starred(chat.uuid, chat is world.chats[3])
    starred = client.get(list_url(world.personal), params={"starred": "true"}).json()["data"]
    assert [i["uuid"] for i in starred] == [world.chats[3].uuid]
    rest = client.get(list_url(world.personal), params={"starred": "false"}).json()["data"]
    assert len(rest) == 11
    assert client.get(list_url(world.personal), params={"limit": "x"}).status_code == 400


def test_ties_are_ordered_by_uuid(client: httpx.Client, world: World) -> None:
    for chat in world.personal.chats.values():
        chat.updated_at = "2026-01-01T00:00:00.000000Z"
    uuids = [i["uuid"] for i in client.get(list_url(world.personal)).json()["data"]]
    assert uuids == sorted(world.personal.chats)


# -- detail, shapes, determinism -------------------------------------------------


def test_detail_equals_model_and_is_byte_stable(world: World, client: httpx.Client) -> None:
    chat = world.chats[5]
    first = client.get(detail_url(world.personal, chat.uuid))
    second = client.get(detail_url(world.personal, chat.uuid))
    assert first.content == second.content
    assert first.json() == world.model.chat_detail(chat)
    assert first.json()["uuid"] == chat.uuid


def test_same_seed_same_bytes_other_seed_differs() -> None:
    def detail_bytes(seed: int) -> bytes:
        world = make_world(seed=seed, chats=3)
        with (
            FakeClaudeServer(world.model) as srv,
            httpx.Client(base_url=srv.base_url, cookies={"sessionKey": KEY}) as c,
        ):
            return c.get(detail_url(world.personal, world.chats[2].uuid)).content

    assert detail_bytes(3) == detail_bytes(3)
    assert detail_bytes(3) != detail_bytes(4)


def test_uuid_and_timestamp_formats(world: World) -> None:
    chat = world.chats[0]
    assert chat.uuid == chat.uuid.lower() and chat.uuid[14] == "4" and len(chat.uuid) == 36
    assert chat.created_at.startswith("2026-03-01T10:")
    assert len(chat.created_at) == len("2026-03-01T10:05:00.123456Z") and chat.created_at[-1] == "Z"
    assert chat.created_at < chat.updated_at


def test_message_tree_shape(world: World) -> None:
    chat = world.chats[5]  # turns=2, branches=2
    detail = world.model.chat_detail(chat)
    messages = detail["chat_messages"]
    assert len(messages) >= 4 + 2 * 1
    seen = {ROOT_MESSAGE_UUID}
    for m in messages:
        assert m["parent_message_uuid"] in seen  # parents precede children
        seen.add(m["uuid"])
    assert [m["index"] for m in messages] == list(range(len(messages)))
    assert messages[0]["parent_message_uuid"] == ROOT_MESSAGE_UUID
    assert detail["current_leaf_message_uuid"] == messages[-1]["uuid"]
    parents = [m["parent_message_uuid"] for m in messages]
    assert len(set(parents)) < len(parents)  # at least one fork


def test_content_variety_across_chats() -> None:
    world = make_world(seed=11, chats=30)
    block_types: set[str] = set()
    tool_names: set[str] = set()
    attachments = files = citations = 0
    for chat in world.chats:
        for m in world.model.chat_detail(chat)["chat_messages"]:
            attachments += bool(m["attachments"] and m["attachments"][0]["extracted_content"])
            files += bool(m["files_v2"])
            for block in m["content"]:
                block_types.add(block["type"])
                tool_names.add(block.get("name", ""))
                citations += bool(block.get("citations"))
    assert block_types == {"text", "thinking", "tool_use", "tool_result"}
    assert {"web_search", "artifacts"} <= tool_names
    assert attachments > 0 and files > 0 and citations > 0


def test_null_versus_missing_varies_by_chat() -> None:
    world = make_world(seed=5, chats=20)
    styles = set()
    for chat in world.chats:
        summary = world.model.chat_summary(chat)
        if chat.summary == "":
            styles.add("summary" in summary)
        assert ("project_uuid" in summary) == (chat.empty_style == "null")
    assert styles == {True, False}


def test_empty_style_switch_changes_bytes_not_meaning(world: World, client: httpx.Client) -> None:
    chat = world.chats[0]
    world.model.set_empty_style(chat.uuid, "null")
    with_nulls = client.get(detail_url(world.personal, chat.uuid)).json()
    world.model.set_empty_style(chat.uuid, "omit")
    omitted = client.get(detail_url(world.personal, chat.uuid)).json()
    assert with_nulls["project_uuid"] is None and "project_uuid" not in omitted
    assert {k: v for k, v in with_nulls.items() if v is not None}.keys() >= omitted.keys() - {
        "chat_messages"
    }


@pytest.mark.parametrize(
    "name",
    ["../../x", "nul\x00byte", "y" * 300, "line\nbreak", "emoji 🎉🦀", "שלום RTL \u202e", ""],
)
def test_hostile_names_round_trip(world: World, client: httpx.Client, name: str) -> None:
    chat = world.model.add_chat(world.personal, name, turns=1)
    response = client.get(detail_url(world.personal, chat.uuid))
    assert response.json()["name"] == name
    assert response.headers["content-type"] == "application/json"
    if name.startswith("emoji"):
        assert "🎉".encode() in response.content  # ensure_ascii=False
    listed = client.get(list_url(world.personal)).json()["data"][0]
    assert listed["name"] == name


def test_big_chat_is_megabytes(world: World, client: httpx.Client) -> None:
    chat = world.model.add_chat(world.personal, "big", turns=150, text_size=16_000)
    response = client.get(detail_url(world.personal, chat.uuid))
    assert response.status_code == 200
    assert 4_500_000 < len(response.content) < 6_500_000
    assert len(response.json()["chat_messages"]) == 300


def test_unknown_chat_is_404_with_marker(world: World, client: httpx.Client) -> None:
    response = client.get(detail_url(world.personal, "0b4c1f6e-0000-4000-8000-000000000001"))
    assert response.status_code == 404
    assert response.json()["error"]["details"]["error_code"] == "chat_conversation_not_found"
    # a chat of another org of the same account is not found through this org
    team_chat = world.chats[-1]
    assert client.get(detail_url(world.personal, team_chat.uuid)).status_code == 404
    assert client.get(detail_url(world.team, team_chat.uuid)).status_code == 200


# -- mutations -------------------------------------------------------------------


def test_add_messages_bumps_updated_and_leaf(world: World, client: httpx.Client) -> None:
    chat = world.chats[0]
    before = get_detail(client, world, chat)
    world.model.add_messages(chat.uuid, turns=2)
    after = get_detail(client, world, chat)
    assert str(after["updated_at"]) > str(before["updated_at"])
    assert after["current_leaf_message_uuid"] != before["current_leaf_message_uuid"]
    old, new = before["chat_messages"], after["chat_messages"]
    assert isinstance(old, list) and isinstance(new, list)
    assert new[: len(old)] == old and len(new) == len(old) + 4
    assert new[len(old)]["parent_message_uuid"] == before["current_leaf_message_uuid"]
    top = client.get(list_url(world.personal)).json()["data"][0]
    assert top["uuid"] == chat.uuid


def test_edit_branch_keeps_old_messages_and_forks(world: World) -> None:
    chat = world.chats[3]  # turns=4, no branches
    old = [m.uuid for m in chat.messages]
    old_updated = chat.updated_at
    world.model.edit_branch(chat.uuid)
    assert [m.uuid for m in chat.messages[: len(old)]] == old
    human, reply = chat.messages[len(old) :]
    assert human.sender == "human" and reply.sender == "assistant"
    assert reply.parent_message_uuid == human.uuid
    edited = [
        m for m in chat.messages[: len(old)] if m.parent_message_uuid == human.parent_message_uuid
    ]
    assert edited and edited[0].sender == "human"  # a human sibling = an edited prompt
    assert chat.current_leaf_message_uuid == reply.uuid
    assert chat.updated_at > old_updated
    assert len(chat.leaves()) == 2


def test_retry_adds_assistant_sibling(world: World) -> None:
    chat = world.chats[0]
    leaf = chat.message(chat.current_leaf_message_uuid or "")
    assert leaf is not None
    world.model.retry(chat.uuid)
    new = chat.messages[-1]
    assert new.sender == "assistant" and new.parent_message_uuid == leaf.parent_message_uuid
    assert chat.current_leaf_message_uuid == new.uuid


def test_switch_leaf_does_not_bump_updated_at(world: World, client: httpx.Client) -> None:
    chat = world.chats[0]
    world.model.retry(chat.uuid)
    before = get_detail(client, world, chat)
    world.model.switch_leaf(chat.uuid)
    after = get_detail(client, world, chat)
    assert after["updated_at"] == before["updated_at"]
    assert after["current_leaf_message_uuid"] != before["current_leaf_message_uuid"]
    assert after["chat_messages"] == before["chat_messages"]
    with pytest.raises(KeyError):
        world.model.switch_leaf(chat.uuid, "not-a-message")


def test_rename(world: World, client: httpx.Client) -> None:
    chat = world.chats[1]
    before = get_detail(client, world, chat)
    world.model.rename_chat(chat.uuid, "new name")
    quiet = get_detail(client, world, chat)
    assert (quiet["name"], quiet["updated_at"]) == ("new name", before["updated_at"])
    world.model.rename_chat(chat.uuid, "newer", bump_updated=True)
    loud = get_detail(client, world, chat)
    assert loud["name"] == "newer" and str(loud["updated_at"]) > str(before["updated_at"])


def test_delete_gives_404(world: World, client: httpx.Client) -> None:
    chat = world.chats[2]
    assert client.get(detail_url(world.personal, chat.uuid)).status_code == 200
    world.model.delete_chat(chat.uuid)
    response = client.get(detail_url(world.personal, chat.uuid))
    assert response.status_code == 404
    assert "chat_conversation_not_found" in response.text
    listed = [i["uuid"] for i in client.get(list_url(world.personal)).json()["data"]]
    assert chat.uuid not in listed and len(listed) == 11
    assert world.model.find_chat(chat.uuid) is None


# -- faults ----------------------------------------------------------------------


def test_status_fault_then_recovery(
    world: World, server: FakeClaudeServer, client: httpx.Client
) -> None:
    server.faults.add(Fault("status", status=503))
    first = client.get("/api/account")
    assert first.status_code == 503
    assert first.json()["type"] == "error"
    assert client.get("/api/account").status_code == 200
    assert server.faults.hits() == 1
    assert [r.status for r in server.request_log()] == [503, 200]
    first_at, second_at = (r.time for r in server.request_log())
    assert 0 < first_at <= second_at <= time.monotonic()
    assert server.request_log()[0].fault == "status"


def test_cloudflare_challenge(server: FakeClaudeServer, client: httpx.Client) -> None:
    server.faults.add(Fault("html"))
    response = client.get("/api/account")
    assert response.status_code == 403
    assert response.headers["cf-mitigated"] == "challenge"
    assert response.headers["server"] == "cloudflare"
    assert response.headers["content-type"].startswith("text/html")
    assert "Just a moment..." in response.text


def test_invalid_json_and_html_200(server: FakeClaudeServer, client: httpx.Client) -> None:
    server.faults.add(Fault("invalid_json"))
    server.faults.add(Fault("html_200"))
    truncated = client.get("/api/account")
    assert truncated.status_code == 200 and truncated.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.content)
    login = client.get("/api/account")
    assert login.status_code == 200 and login.headers["content-type"].startswith("text/html")
    assert login.text.lstrip().lower().startswith("<!doctype html")


def test_redirect(server: FakeClaudeServer, client: httpx.Client) -> None:
    server.faults.add(Fault("redirect"))
    response = client.get("/api/account")
    assert response.status_code == 302
    assert response.headers["location"] == REGION_URL


def test_reset_closes_without_response(server: FakeClaudeServer, client: httpx.Client) -> None:
    server.faults.add(Fault("reset"))
    with pytest.raises(httpx.TransportError):
        client.get("/api/account")
    assert client.get("/api/account").status_code == 200
    log = server.request_log()
    assert (log[0].status, log[0].fault) == (None, "reset")


def test_stall(server: FakeClaudeServer, client: httpx.Client) -> None:
    server.faults.add(Fault("stall", seconds=0.3))
    start = time.monotonic()
    assert client.get("/api/account").status_code == 200
    assert time.monotonic() - start >= 0.3


@pytest.mark.parametrize("retry_after", [None, "7", "Wed, 21 Oct 2026 07:28:00 GMT"])
def test_rate_limit(
    server: FakeClaudeServer, client: httpx.Client, retry_after: str | None
) -> None:
    server.faults.add(Fault("rate_limit", retry_after=retry_after))
    response = client.get("/api/account")
    assert response.status_code == 429
    assert response.headers.get("retry-after") == retry_after
    assert response.json()["error"]["type"] == "rate_limit_error"


def test_not_found_fault_and_matching(
    world: World, server: FakeClaudeServer, client: httpx.Client
) -> None:
    chat = world.chats[0]
    server.faults.add(Fault("not_found", endpoint="detail", path_contains=chat.uuid, times=None))
    assert client.get("/api/account").status_code == 200  # endpoint does not match
    other = client.get(detail_url(world.personal, world.chats[1].uuid))
    assert other.status_code == 200  # path does not match
    for _ in range(3):
        response = client.get(detail_url(world.personal, chat.uuid))
        assert response.status_code == 404
        assert response.json()["error"]["details"]["error_code"] == "chat_conversation_not_found"
    assert server.faults.hits() == 3
    server.faults.clear()
    assert client.get(detail_url(world.personal, chat.uuid)).status_code == 200


def test_fault_applies_before_auth(server: FakeClaudeServer) -> None:
    server.faults.add(Fault("status", status=502, times=2))
    statuses = [httpx.get(f"{server.base_url}/api/account").status_code for _ in range(3)]
    assert statuses == [502, 502, 403]


def test_unknown_fault_kind_rejected() -> None:
    with pytest.raises(ValueError):
        Fault("explode")


def test_random_mix_is_seeded(world: World) -> None:
    def run() -> list[int | None]:
        with FakeClaudeServer(world.model) as srv:
            srv.faults.random_mix(0.5, seed=42, kinds=("500", "429", "invalid_json"))
            with httpx.Client(base_url=srv.base_url, cookies={"sessionKey": KEY}) as c:
                for _ in range(30):
                    c.get("/api/account")
            assert srv.faults.hits() == sum(r.fault is not None for r in srv.request_log())
            return [r.status for r in srv.request_log()]

    first = run()
    assert first == run()
    assert 5 < sum(s != 200 or False for s in first) < 28
    assert {500, 429} <= set(first)


def test_random_mix_with_resets(world: World, server: FakeClaudeServer) -> None:
    server.faults.random_mix(0.5, seed=1, kinds=("reset",), endpoints=("list",))
    failures = 0
    with httpx.Client(base_url=server.base_url, cookies={"sessionKey": KEY}) as c:
        assert all(c.get("/api/account").status_code == 200 for _ in range(5))
        for _ in range(10):
            try:
                assert c.get(list_url(world.personal)).status_code == 200
            except httpx.TransportError:
                failures += 1
    assert failures == server.faults.hits() > 0


# -- concurrency, latency, log ---------------------------------------------------


def test_max_in_flight_and_latency(world: World) -> None:
    with FakeClaudeServer(world.model, latency=0.3) as srv:

        def fetch(_: int) -> int:
            with httpx.Client(base_url=srv.base_url, cookies={"sessionKey": KEY}) as c:
                return c.get("/api/organizations").status_code

        start = time.monotonic()
        with ThreadPoolExecutor(5) as pool:
            assert list(pool.map(fetch, range(5))) == [200] * 5
        elapsed = time.monotonic() - start
        assert elapsed >= 0.3  # each delayed
        assert srv.max_in_flight == 5  # and all five at once
        assert srv.count("organizations") == 5
        srv.wait_idle()
        srv.reset_stats()
        assert srv.max_in_flight == 0 and srv.request_log() == []
        httpx.get(f"{srv.base_url}/api/account", cookies={"sessionKey": KEY})
        assert srv.max_in_flight == 1


def test_latency_includes_the_fakes_own_work(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply leaves `latency` after its request arrived, however long the fake took to build
    it (up to that latency): the benchmarks' ideal assumes a server answering in `latency`."""
    slow_detail = world.model.chat_detail

    def detail(chat: object) -> object:
        time.sleep(0.45)
        return slow_detail(chat)  # type: ignore[arg-type]

    monkeypatch.setattr(world.model, "chat_detail", detail)
    with (
        FakeClaudeServer(world.model, latency=0.5) as srv,
        httpx.Client(base_url=srv.base_url, cookies={"sessionKey": KEY}) as c,
    ):
        c.get("/api/organizations")  # connected
        start = time.monotonic()
        assert c.get(detail_url(world.personal, world.chats[0].uuid)).status_code == 200
        elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < 0.8  # latency and work one after the other would take 0.95 s


def test_request_log_never_holds_the_key(
    world: World, server: FakeClaudeServer, client: httpx.Client
) -> None:
    client.get("/api/account")
    client.get(list_url(world.personal), params={"limit": 2, "offset": 0})
    client.get(detail_url(world.personal, world.chats[0].uuid))
    log = server.request_log()
    assert [r.kind for r in log] == ["account", "list", "detail"]
    assert log[1].query == "limit=2&offset=0"
    assert all(r.method == "GET" and r.status == 200 for r in log)
    assert KEY not in repr(log)
    assert server.count("detail") == 1


# -- demo ------------------------------------------------------------------------


def test_populate_demo() -> None:
    model = FakeClaude(seed=1)
    account = populate_demo(model, "sk-ant-sid01-demo", chats=20)
    assert model.account_for_key("sk-ant-sid01-demo") is account
    assert [o.capabilities for o in account.orgs][2] == ("api",)
    assert sum(len(o.chats) for o in account.orgs) == 20
    assert all(o.chats for o in account.orgs[:2])


# -- uploads, sandbox, projects, memory -------------------------------------------


def test_account_files_pages_with_a_cursor(world: World, server: FakeClaudeServer) -> None:
    for kind in ("image", "document", "blob", "image", "document"):
        world.model.add_upload(world.personal, kind)  # type: ignore[arg-type]
    server.files_page_size = 2
    url = f"/api/organizations/{world.personal.uuid}/account/files"
    with httpx.Client(base_url=server.base_url, cookies={"sessionKey": KEY}) as c:
        seen: list[str] = []
        body = c.get(url, params={"limit": "100"}).json()
        pages = 1
        while True:
            assert len(body["files"]) <= 2
            seen += [f["file_uuid"] for f in body["files"]]
            if body["next_cursor"] is None:
                break
            body = c.get(url, params={"limit": "100", "cursor": body["next_cursor"]}).json()
            pages += 1
        expected = [u.uuid for u in world.model.org_uploads(world.personal)]
        assert seen == expected and pages == (len(expected) + 1) // 2
        dates = [world.model.uploads[u].created_at for u in seen]
        assert dates == sorted(dates, reverse=True)
        assert c.get(url, params={"cursor": "not base64!"}).status_code == 400


def test_uploads_serve_real_bytes(world: World, client: httpx.Client) -> None:
    org = world.personal.uuid
    image = world.model.add_upload(world.personal, "image", "cat.png")
    pdf = world.model.add_upload(world.personal, "document", "paper.pdf")
    contents = f"/api/organizations/{org}/files/{image.uuid}/contents"
    response = client.get(contents)
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" in response.content
    document = client.get(pdf.ref()["document_asset"]["url"])
    assert document.content.startswith(b"%PDF-1.4") and document.content.endswith(b"%%EOF\n")
    preview = client.get(image.ref()["preview_url"])
    assert preview.headers["content-type"] == "image/webp" and preview.content[8:12] == b"WEBP"
    world.model.expire_upload(image.uuid, keep_preview=True)
    assert client.get(contents).status_code == 404
    assert client.get(image.ref()["preview_url"]).status_code == 200
    world.model.expire_upload(image.uuid)
    assert client.get(image.ref()["preview_url"]).status_code == 404
    other = f"/api/organizations/{world.team.uuid}/files/{pdf.uuid}/contents"
    assert client.get(other).status_code == 404  # another org's file
    api = f"/api/organizations/{world.api_org.uuid}/files/{pdf.uuid}/contents"
    assert client.get(api).status_code == 403


def test_generated_file_refs_are_downloadable(client: httpx.Client) -> None:
    world = make_world(seed=11, chats=30)
    refs = [
        f
        for chat in world.chats
        for m in world.model.chat_detail(chat)["chat_messages"]
        for f in m["files_v2"]
    ]
    assert {f["file_kind"] for f in refs} == {"image", "document"}
    for ref in refs:
        upload = world.model.uploads[ref["file_uuid"]]
        assert ref == upload.ref()
        assert ref.get("size_bytes", len(upload.data)) == len(upload.data)


def test_attach_upload_adds_a_turn(world: World, client: httpx.Client) -> None:
    chat = world.chats[0]
    before = chat.updated_at
    upload = world.model.attach_upload(chat.uuid, "blob", "data.bin")
    messages = get_detail(client, world, chat)["chat_messages"]
    human = messages[-2]
    assert isinstance(human, dict) and human["files_v2"] == [upload.ref()]
    assert upload.ref()["path"] == "/mnt/user-data/uploads/data.bin"
    assert chat.updated_at > before and chat.current_leaf_message_uuid == messages[-1]["uuid"]


def test_wiggle_lists_and_downloads(world: World, client: httpx.Client) -> None:
    chat = world.chats[1]
    (path,) = world.model.add_sandbox_turn(chat.uuid, {"out.csv": b"a,b\n"})
    base = f"/api/organizations/{world.personal.uuid}/conversations/{chat.uuid}/wiggle"
    listing = client.get(f"{base}/list-files", params={"prefix": ""}).json()
    assert listing["success"] is True and listing["files"] == [path]
    (meta,) = listing["files_metadata"]
    assert meta["size"] == 4 and meta["content_type"] == "text/plain"
    data = client.get(f"{base}/download-file", params={"path": path})
    assert data.content == b"a,b\n" and data.headers["content-type"] == "application/octet-stream"
    missing = client.get(f"{base}/download-file", params={"path": "/mnt/user-data/outputs/x"})
    assert missing.status_code == 404
    assert (
        missing.json()["error"]["message"]
        == "File not found in container: /mnt/user-data/outputs/x"
    )
    tools = [
        b.get("name") for m in world.model.chat_detail(chat)["chat_messages"] for b in m["content"]
    ]
    assert "create_file" in tools
    world.model.expire_sandbox(chat.uuid)
    assert client.get(f"{base}/list-files").status_code == 404


def test_projects_docs_files_and_chats(world: World, client: httpx.Client) -> None:
    model = world.model
    project = model.add_project(world.personal, "Thesis", "Be brief.", "about it")
    doc = model.add_doc(project.uuid, "notes.md", "# Notes\n")
    upload = model.add_project_file(project.uuid, "image", "logo.png")
    chat = model.add_chat(world.personal, "in project", project_uuid=project.uuid)
    base = f"/api/organizations/{world.personal.uuid}/projects"
    (item,) = client.get(base).json()
    assert item["name"] == "Thesis" and "prompt_template" not in item
    detail = client.get(f"{base}/{project.uuid}").json()
    assert detail["prompt_template"] == "Be brief." and detail["files_count"] == 1
    (listed,) = client.get(f"{base}/{project.uuid}/docs").json()
    assert listed["content"] == "# Notes\n" and listed["file_name"] == "notes.md"
    assert client.get(f"{base}/{project.uuid}/docs/{doc.uuid}").json() == listed
    (file_item,) = client.get(f"{base}/{project.uuid}/files").json()
    assert file_item["file_uuid"] == upload.uuid and file_item["success"] is True
    assert upload.uuid not in [u.uuid for u in model.org_uploads(world.personal)]
    chats = client.get(f"{base}/{project.uuid}/conversations").json()
    assert [c["uuid"] for c in chats] == [chat.uuid]
    updated = project.updated_at
    model.edit_doc(project.uuid, doc.uuid, "changed")
    assert project.updated_at == updated  # doc edits leave updated_at alone
    model.rename_project(project.uuid, "Dissertation")
    assert client.get(f"{base}/{project.uuid}").json()["updated_at"] > updated
    model.delete_project(project.uuid)
    assert client.get(f"{base}/{project.uuid}").status_code == 404
    assert client.get(f"/api/organizations/{world.api_org.uuid}/projects").status_code == 403


def test_memory_org_and_project(world: World, client: httpx.Client) -> None:
    url = f"/api/organizations/{world.personal.uuid}/memory"
    assert client.get(url).status_code == 404
    world.model.set_memory(world.personal, "**Work**\nwrites code")
    body = client.get(url).json()
    assert body["memory"] == "**Work**\nwrites code" and body["controls"] == []
    project = world.model.add_project(world.personal, "P")
    assert client.get(url, params={"project_uuid": project.uuid}).status_code == 404
    world.model.set_memory(world.personal, "project memory", project.uuid)
    assert client.get(url, params={"project_uuid": project.uuid}).json()["memory"] == (
        "project memory"
    )


def test_artifact_and_legacy_turns(world: World) -> None:
    chat = world.chats[2]
    body = {"id": "a", "type": "text/markdown", "command": "create", "content": "# A"}
    world.model.add_artifact_turn(chat.uuid, [body])
    world.model.add_legacy_turn(chat.uuid, '<antArtifact identifier="b">x</antArtifact>')
    messages = world.model.chat_detail(chat)["chat_messages"]
    use = messages[-3]["content"][0]
    assert use["name"] == "artifacts" and use["input"] == body
    assert messages[-3]["content"][1]["tool_use_id"] == use["id"]
    assert messages[-1]["content"] == [] and messages[-1]["text"].startswith("<antArtifact")
    assert chat.current_leaf_message_uuid == messages[-1]["uuid"]


def test_extras_paths_are_other_kind() -> None:
    assert endpoint_kind("/api/organizations/o/account/files") == "other"
    assert endpoint_kind("/api/o/files/f/preview") == "other"
    assert endpoint_kind("/api/organizations/o/conversations/c/wiggle/list-files") == "other"
