"""Uploads, projects, knowledge docs, memory and sandbox files of the fake world, with real bytes.

File bytes are derived from the file's uuid (a hash), never from the model's random generator,
so adding this data does not change any chat the generator makes.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]
FileKind = Literal["image", "document", "blob"]

SANDBOX_ROOT = "/mnt/user-data"
MIME = {"image": "image/png", "document": "application/pdf", "blob": "application/octet-stream"}


def _stream(seed: str, size: int) -> bytes:
    """`size` pseudo-random bytes derived from `seed`."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_bytes(seed: str, width: int = 16, height: int = 12) -> bytes:
    """A valid RGB PNG whose pixels come from `seed`."""
    pixels = _stream(seed, width * height * 3)
    rows = b"".join(b"\x00" + pixels[y * width * 3 : (y + 1) * width * 3] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def pdf_bytes(title: str) -> bytes:
    """A small valid one-page PDF showing `title` (ASCII only), with a correct xref table."""
    text = "".join(ch for ch in title if 32 <= ord(ch) < 127 and ch not in "()\\")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def webp_bytes(seed: str) -> bytes:
    """A stand-in for the lossy WebP preview: a RIFF/WEBP header and derived bytes."""
    body = b"WEBPVP8 " + _stream("preview:" + seed, 200)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def blob_bytes(seed: str, size: int = 3000) -> bytes:
    return b"\x00BLOB" + _stream(seed, size - 5)


@dataclass(eq=False)
class Upload:
    """A stored upload. `gone`: every URL answers 404; `contents_gone`: only the lossy preview
    is left (images)."""

    uuid: str
    org_uuid: str
    kind: FileKind
    name: str
    created_at: str
    data: bytes
    path: str | None = None  # blobs: where the sandbox sees it
    in_account_list: bool = True
    gone: bool = False
    contents_gone: bool = False

    @property
    def mime(self) -> str:
        return MIME[self.kind]

    def ref(self) -> JSON:
        """The `files_v2` item (§2.7): what a message and `account/files` carry."""
        base = f"/api/{self.org_uuid}/files/{self.uuid}"
        out: JSON = {
            "file_kind": self.kind,
            "file_uuid": self.uuid,
            "file_name": self.name,
            "created_at": self.created_at,
        }
        if self.kind == "image":
            out.update(
                thumbnail_url=f"{base}/thumbnail",
                preview_url=f"{base}/preview",
                thumbnail_asset=_asset(f"{base}/thumbnail", "thumbnail", 400, 300),
                preview_asset=_asset(f"{base}/preview", "preview", 1600, 1200),
            )
        elif self.kind == "document":
            contents = f"/api/organizations/{self.org_uuid}/files/{self.uuid}/contents"
            out.update(
                size_bytes=len(self.data),
                thumbnail_asset=_asset(f"{base}/thumbnail", "thumbnail", 200, 260),
                document_asset={"url": contents},
            )
        else:
            out.update(size_bytes=len(self.data), path=self.path)
        return out


def _asset(url: str, variant: str, width: int, height: int) -> JSON:
    return {
        "url": url,
        "file_variant": variant,
        "primary_color": "f0eee6",
        "image_width": width,
        "image_height": height,
    }


def make_upload(
    uuid: str, org_uuid: str, kind: FileKind, name: str, ts: str, data: bytes | None = None
) -> Upload:
    if data is None:
        if kind == "image":
            data = png_bytes(uuid)
        elif kind == "document":
            data = pdf_bytes(f"{name} {uuid}")
        else:
            data = blob_bytes(uuid)
    path = f"{SANDBOX_ROOT}/uploads/{name}" if kind == "blob" else None
    return Upload(uuid, org_uuid, kind, name, ts, data, path)


@dataclass(eq=False)
class Doc:
    """A project knowledge document: text only (§2.8); docs have no `updated_at`."""

    uuid: str
    file_name: str
    content: str
    created_at: str

    def to_json(self, project_uuid: str) -> JSON:
        return {
            "uuid": self.uuid,
            "file_name": self.file_name,
            "content": self.content,
            "created_at": self.created_at,
            "estimated_token_count": max(1, len(self.content) // 4),
            "project_uuid": project_uuid,
        }


@dataclass(eq=False)
class Project:
    uuid: str
    org_uuid: str
    name: str
    created_at: str
    updated_at: str
    description: str = ""
    prompt_template: str = ""
    is_private: bool = True
    is_starred: bool = False
    archived_at: str | None = None
    docs: dict[str, Doc] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)
    memory: str | None = None
    memory_updated_at: str | None = None

    def summary(self) -> JSON:
        """The list item: no `prompt_template` (§6.7: only the detail is sure to have it)."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "description": self.description,
            "is_private": self.is_private,
            "is_starred": self.is_starred,
            "is_harmony_project": False,
            "archived_at": self.archived_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def detail(self) -> JSON:
        return {
            **self.summary(),
            "prompt_template": self.prompt_template,
            "docs_count": len(self.docs),
            "files_count": len(self.files),
        }

    def file_items(self) -> list[JSON]:
        return [{**f.ref(), "success": True, "size_bytes": len(f.data)} for f in self.files]


@dataclass(eq=False)
class SandboxFile:
    path: str
    data: bytes
    created_at: str
    content_type: str = "text/plain"  # outputs are always text/plain (§2.8)

    def metadata(self) -> JSON:
        return {
            "path": self.path,
            "size": len(self.data),
            "content_type": self.content_type,
            "created_at": self.created_at,
            "custom_metadata": {},
        }


def memory_json(text: str | None, updated_at: str | None) -> JSON:
    out: JSON = {"memory": text or "", "controls": []}
    if updated_at is not None:
        out["updated_at"] = updated_at
    return out
