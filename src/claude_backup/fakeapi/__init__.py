"""A fake Claude.ai web API on 127.0.0.1 for tests, benchmarks and the demo command.

Usage::

    model = FakeClaude(seed=1)
    account = model.add_account("sk-ant-sid01-test", "a@example.com")
    org = account.add_org("a@example.com's Organization")
    chat = model.add_chat(org, "Plan", turns=3, branches=1)
    model.attach_upload(chat.uuid, "image", "cat.png")   # bytes at files/{uuid}/contents
    project = model.add_project(org, "Thesis", "Be brief.")  # projects, docs, memory, ...
    with FakeClaudeServer(model) as server:
        httpx.get(f"{server.base_url}/api/account", cookies={"sessionKey": "sk-ant-sid01-test"})
"""

from claude_backup.fakeapi.account_plus import FakeCodeSession, FakeSkill, Plus, plus_of
from claude_backup.fakeapi.extras import Doc, Project, SandboxFile, Upload
from claude_backup.fakeapi.faults import FAULT_KINDS, REGION_URL, TRANSIENT_KINDS, Fault, FaultPlan
from claude_backup.fakeapi.model import (
    ROOT_MESSAGE_UUID,
    Account,
    Chat,
    EmptyStyle,
    FakeClaude,
    FakeClock,
    Message,
    Org,
    populate_demo,
)
from claude_backup.fakeapi.server import (
    ENDPOINT_KINDS,
    FakeClaudeServer,
    RequestRecord,
    endpoint_kind,
)

__all__ = [
    "ENDPOINT_KINDS",
    "FAULT_KINDS",
    "REGION_URL",
    "ROOT_MESSAGE_UUID",
    "TRANSIENT_KINDS",
    "Account",
    "Chat",
    "Doc",
    "EmptyStyle",
    "FakeClaude",
    "FakeClaudeServer",
    "FakeClock",
    "FakeCodeSession",
    "FakeSkill",
    "Fault",
    "FaultPlan",
    "Message",
    "Org",
    "Plus",
    "Project",
    "RequestRecord",
    "SandboxFile",
    "Upload",
    "endpoint_kind",
    "plus_of",
    "populate_demo",
]
