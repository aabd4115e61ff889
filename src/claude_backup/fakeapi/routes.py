"""The fake server's answers beyond chats: uploads, sandbox files, projects and memory (§1 #7-#18).

GET /api/organizations/{org}/account/files?limit=&cursor=     {"files": [...], "next_cursor"}
GET /api/organizations/{org}/files/{file}/contents             the original bytes
GET /api/{org}/files/{file}/preview | /thumbnail               lossy WebP stand-in
GET /api/organizations/{org}/conversations/{chat}/wiggle/list-files?prefix=
GET /api/organizations/{org}/conversations/{chat}/wiggle/download-file?path=
GET /api/organizations/{org}/projects[/{project}[/docs[/{doc}]|/files|/conversations]]
GET /api/organizations/{org}/memory[?project_uuid=]
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from claude_backup.fakeapi.extras import webp_bytes
from claude_backup.fakeapi.faults import Reply, error_reply, json_bytes
from claude_backup.fakeapi.model import Account, FakeClaude, Org

MAX_FILES_PAGE = 100


class BadRequest(Exception):
    pass


def param(params: Mapping[str, list[str]], name: str) -> str | None:
    """The first value of a query parameter."""
    values = params.get(name)
    return values[0] if values else None


def not_found(request_id: str, message: str = "Not found") -> Reply:
    return error_reply(404, message, request_id, error_type="not_found_error")


def org_refused(request_id: str) -> Reply:
    """What claude.ai answers for an organization that is not yours or has no chat."""
    return error_reply(
        403, "Invalid authorization for organization", request_id, error_type="permission_error"
    )


def encode_cursor(offset: int) -> str:
    """Opaque like the real one, and full of characters that must be URL-encoded."""
    return base64.b64encode(json.dumps({"o": offset, "k": "~/+"}).encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        offset = json.loads(base64.b64decode(cursor, validate=True))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadRequest("invalid cursor") from None
    if not isinstance(offset, int) or offset < 0:
        raise BadRequest("invalid cursor")
    return offset


def route_extra(
    model: FakeClaude,
    account: Account,
    rest: list[str],
    params: dict[str, list[str]],
    request_id: str,
    *,
    files_page_size: int = MAX_FILES_PAGE,
) -> Reply | None:
    """The reply for an extras path, or None when the path is not one of them."""
    if len(rest) == 4 and rest[1] == "files" and rest[3] in ("preview", "thumbnail"):
        return _preview(model, account, rest[0], rest[2], request_id)
    if len(rest) < 3 or rest[0] != "organizations":
        return None
    org = account.org(rest[1])
    tail = rest[2:]
    if tail[0] not in ("account", "files", "conversations", "projects", "memory"):
        return None
    if org is None or "chat" not in org.capabilities:
        return org_refused(request_id)
    if tail == ["account", "files"]:
        return _account_files(model, org, params, files_page_size)
    if len(tail) == 3 and tail[0] == "files" and tail[2] == "contents":
        return _contents(model, org, tail[1], request_id)
    if len(tail) == 4 and tail[0] == "conversations" and tail[2] == "wiggle":
        return _wiggle(model, org, tail[1], tail[3], params, request_id)
    if tail[0] == "projects":
        return _projects(model, org, tail[1:], request_id)
    if tail == ["memory"]:
        memory = model.memory_json(org, param(params, "project_uuid"))
        return Reply(200, json_bytes(memory)) if memory is not None else not_found(request_id)
    return None


def _account_files(
    model: FakeClaude, org: Org, params: dict[str, list[str]], page_size: int
) -> Reply:
    raw_limit = param(params, "limit")
    try:
        limit = int(raw_limit) if raw_limit is not None else MAX_FILES_PAGE
    except ValueError:
        raise BadRequest("limit must be an integer") from None
    if limit < 1:
        raise BadRequest("limit must be positive")
    cursor = param(params, "cursor")
    offset = decode_cursor(cursor) if cursor else 0
    uploads = model.org_uploads(org)
    end = offset + min(limit, page_size, MAX_FILES_PAGE)
    with model.lock:
        items = [u.ref() for u in uploads[offset:end]]
    next_cursor = encode_cursor(end) if end < len(uploads) else None
    return Reply(200, json_bytes({"files": items, "next_cursor": next_cursor}))


def _contents(model: FakeClaude, org: Org, file_uuid: str, request_id: str) -> Reply:
    with model.lock:
        upload = model.uploads.get(file_uuid)
        if upload is None or upload.org_uuid != org.uuid or upload.gone or upload.contents_gone:
            return not_found(request_id, "File not found")
        return Reply(200, upload.data, upload.mime)


def _preview(
    model: FakeClaude, account: Account, org_uuid: str, file_uuid: str, request_id: str
) -> Reply:
    org = account.org(org_uuid)
    with model.lock:
        upload = model.uploads.get(file_uuid)
        if org is None or upload is None or upload.org_uuid != org.uuid or upload.gone:
            return not_found(request_id, "File not found")
        return Reply(200, webp_bytes(upload.uuid), "image/webp")


def _wiggle(
    model: FakeClaude,
    org: Org,
    chat_uuid: str,
    action: str,
    params: dict[str, list[str]],
    request_id: str,
) -> Reply | None:
    with model.lock:
        chat = org.chats.get(chat_uuid)
        if chat is None:
            return not_found(request_id, "Conversation not found")
        if action == "list-files":
            if chat.sandbox_gone:
                return not_found(request_id, "Container not found")
            prefix = param(params, "prefix") or ""
            files = [f for path, f in sorted(chat.sandbox.items()) if path.startswith(prefix)]
            body = {
                "success": True,
                "files": [f.path for f in files],
                "files_metadata": [f.metadata() for f in files],
            }
            return Reply(200, json_bytes(body))
        if action == "download-file":
            path = param(params, "path") or ""
            found = None if chat.sandbox_gone else chat.sandbox.get(path)
            if found is None:
                return not_found(request_id, f"File not found in container: {path}")
            return Reply(200, found.data, "application/octet-stream")
    return None


def _projects(model: FakeClaude, org: Org, tail: list[str], request_id: str) -> Reply | None:
    with model.lock:
        if not tail:
            items = sorted(org.projects.values(), key=lambda p: p.updated_at, reverse=True)
            return Reply(200, json_bytes([p.summary() for p in items]))
        project = org.projects.get(tail[0])
        if project is None:
            return not_found(request_id, "Project not found")
        rest = tail[1:]
        if not rest:
            return Reply(200, json_bytes(project.detail()))
        if rest == ["docs"]:
            docs = sorted(project.docs.values(), key=lambda d: (d.created_at, d.uuid))
            return Reply(200, json_bytes([d.to_json(project.uuid) for d in docs]))
        if len(rest) == 2 and rest[0] == "docs":
            doc = project.docs.get(rest[1])
            if doc is None:
                return not_found(request_id, "Document not found")
            return Reply(200, json_bytes(doc.to_json(project.uuid)))
        if rest == ["files"]:
            return Reply(200, json_bytes(project.file_items()))
        if rest == ["conversations"]:
            return Reply(200, json_bytes(model.project_chats(org, project.uuid)))
    return None
