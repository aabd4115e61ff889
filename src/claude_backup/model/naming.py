"""Safe, unique, portable file names for chats, organizations and accounts.

Names come from the server and are untrusted. Every name we build is one path component that is
valid on Linux, macOS and Windows: no separators, control or invisible characters, no reserved
device names, no trailing dot or space, at most 255 bytes. Uniqueness comes from the uuid suffix,
which also makes case-insensitive collisions impossible.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from pathvalidate import sanitize_filename

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SUFFIX_RE = re.compile(r"-(" + UUID_RE.pattern + r")(?:\.json)?$")
_WHITESPACE_RE = re.compile(r"\s+")

TITLE_MAX_BYTES = 80
FOLDER_TITLE_MAX_BYTES = 48
UNTITLED = "untitled"
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and UUID_RE.fullmatch(value) is not None


def clean_title(name: object, max_bytes: int = TITLE_MAX_BYTES) -> str:
    """A readable, safe rendering of `name` for use inside a file name (never empty)."""
    return _clean_title(name if isinstance(name, str) else "", max_bytes)


@functools.lru_cache(maxsize=8192)  # a sync names each chat's file and folder several times
def _clean_title(text: str, max_bytes: int) -> str:
    text = unicodedata.normalize("NFC", text)
    # Control (Cc) and format (Cf: zero-width, bidi overrides) characters become spaces.
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    text = _WHITESPACE_RE.sub(" ", text)
    text = sanitize_filename(text, replacement_text="_", platform="universal", max_len=255)
    text = _truncate_utf8(text, max_bytes)
    text = text.strip(" .-_")
    return text or UNTITLED


def _truncate_utf8(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def entry_name(
    title: object, uuid: str, *, suffix: str = "", max_bytes: int = TITLE_MAX_BYTES
) -> str:
    """`<safe title>-<uuid><suffix>`: the name of a chat file or a folder."""
    if not is_uuid(uuid):
        raise ValueError(f"not a uuid: {uuid!r}")
    return f"{clean_title(title, max_bytes)}-{uuid}{suffix}"


def chat_file_name(title: object, uuid: str) -> str:
    return entry_name(title, uuid, suffix=".json")


def folder_name(title: object, uuid: str) -> str:
    return entry_name(title, uuid, max_bytes=FOLDER_TITLE_MAX_BYTES)


def uuid_of(name: str) -> str | None:
    """The uuid a name built by `entry_name` ends with, or None."""
    match = _SUFFIX_RE.search(name)
    return match.group(1) if match else None


def safe_relative(name: str) -> list[str] | None:
    """A path from outside (a zip entry, an export's file path) as safe components, or None
    when it points outside its folder (absolute, a drive, `..`) or names nothing."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        return None
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return [clean_title(p, 100) for p in parts]


def name_key(path: str) -> str:
    """What two spellings of a path share when a file system takes them for the same file:
    macOS and Windows ignore case, macOS also Unicode normalization (NFC/NFD)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", path).casefold())


class PathClaims:
    """Relative paths handed out under one folder, none of which collides with another on any
    file system: not by case, not by Unicode normalization, and no path is a file where
    another needs a folder (`notes.md` and `notes.md/v001.md`)."""

    def __init__(self) -> None:
        self._files: set[str] = set()
        self._folders: dict[str, str] = {}  # key -> the spelling first used

    def add(self, path: str, *, folder: bool = False) -> None:
        """Mark a file (or a folder) and its parent folders as taken, as spelled."""
        parts = path.split("/")
        for end in range(1, len(parts) + folder):
            spelled = "/".join(parts[:end])
            self._folders.setdefault(name_key(spelled), spelled)
        if not folder:
            self._files.add(name_key(path))

    def is_free(self, path: str, *, folder: bool = False) -> bool:
        """Whether `path` could be taken, as a file (or as a folder) and its parents."""
        parts = path.split("/")
        for end in range(1, len(parts)):
            if name_key("/".join(parts[:end])) in self._files:
                return False
        key = name_key(path)
        if folder:
            return key not in self._files and self._folders.get(key, path) == path
        return key not in self._files and key not in self._folders

    def is_taken(self, path: str) -> bool:
        """Whether a file or a folder of that name (in any spelling) was handed out."""
        key = name_key(path)
        return key in self._files or key in self._folders

    def claim(self, path: str) -> str:
        """`path` if it is free, else the first free variant: a folder in the way of a file
        (or a file in the way of a folder) gets `-2`, `-3`, ... added to that component."""
        parts = path.split("/")
        done: list[str] = []
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            candidate, counter = part, 1
            while not self.is_free("/".join([*done, candidate]), folder=not last):
                counter += 1
                candidate = _numbered(part, counter, keep_extension=last)
            done.append(candidate)
        claimed = "/".join(done)
        self.add(claimed)
        return claimed


def _numbered(name: str, counter: int, *, keep_extension: bool) -> str:
    stem, dot, ext = name.rpartition(".")
    if keep_extension and dot and stem:
        return f"{stem}-{counter}.{ext}"
    return f"{name}-{counter}"
