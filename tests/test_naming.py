import unicodedata
import uuid as uuidlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import validate_filename

from claude_backup.model.naming import (
    chat_file_name,
    clean_title,
    folder_name,
    is_uuid,
    uuid_of,
)

U = "0b8e2a2e-9a3c-4c1e-8f43-2d7c3b1e6a10"
HOSTILE = [
    "../../x",
    "/",
    "\\",
    "a\x00b",
    "line\nbreak\r\n",
    "x" * 300,
    "CON",
    "nul.txt",
    ".",
    "..",
    "trailing. ",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "emoji 🎉🔥",
    "-rf",
    "",
    "   ",
    'a:b*c?d"e<f>g|h',
    "\ud800 lone surrogate",
    "é" * 200,
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_make_portable_file_names(name: str) -> None:
    file_name = chat_file_name(name, U)
    validate_filename(file_name, platform="universal")
    assert len(file_name.encode("utf-8")) <= 255
    assert "/" not in file_name and "\\" not in file_name
    assert file_name.endswith(f"-{U}.json")
    assert uuid_of(file_name) == U


def test_titles_stay_readable() -> None:
    assert clean_title("Plan the trip") == "Plan the trip"
    assert clean_title("a/b") == "a_b"
    assert clean_title("") == "untitled"
    assert clean_title(None) == "untitled"
    assert clean_title("line\nbreak") == "line break"


def test_folder_names_are_shorter() -> None:
    assert len(folder_name("y" * 300, U).encode()) <= 48 + 1 + 36


def test_rejects_non_uuid() -> None:
    with pytest.raises(ValueError):
        chat_file_name("x", "../../etc")
    assert not is_uuid("../x")
    assert uuid_of("plain.json") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.uuids())
def test_any_name_is_safe_and_unique_per_uuid(name: str, uid: uuidlib.UUID) -> None:
    u = str(uid)
    file_name = chat_file_name(name, u)
    validate_filename(file_name, platform="universal")
    assert len(file_name.encode("utf-8")) <= 255
    assert uuid_of(file_name) == u
    title = file_name[: -len(u) - 6]
    assert title and not title.startswith((".", " ", "-"))
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in title)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=100), st.uuids(), st.uuids())
def test_different_chats_never_share_a_file(name: str, a: uuidlib.UUID, b: uuidlib.UUID) -> None:
    if a != b:
        assert chat_file_name(name, str(a)).lower() != chat_file_name(name, str(b)).lower()
