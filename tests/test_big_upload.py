"""An upload bigger than the program's memory is stored in constant memory (issue 14 §2 and
§5): streamed to disk, hashed and packed a chunk at a time. Measured in a child process
running the real CLI against the fake Claude.ai: its peak resident memory (VmHWM, which
starts afresh at exec) grows by far less than the file's size."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_backup.fakeapi import FakeClaudeServer
from conftest import FAST_FLAGS, KEY, assert_git_healthy, git, make_model

SIZE = 96 << 20
MEASURED = """
import sys
from claude_backup.cli.app import main
sys.argv[0] = "claude-backup"
try:
    main()
finally:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("peak_kib=" + line.split()[1] + "\\n")
"""

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


def sync_measured(base_url: str, archive: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    env.update(CLAUDE_BACKUP_BASE_URL=base_url, CLAUDE_SESSION_KEY=KEY)
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, "sync", str(archive), *FAST_FLAGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    peaks = [line for line in result.stderr.splitlines() if line.startswith("peak_kib=")]
    return result, int(peaks[-1].split("=")[1]) * 1024


def test_a_big_upload_is_stored_in_constant_memory(tmp_path: Path) -> None:
    model = make_model(chats=3)
    org = model.accounts[0].orgs[0]
    with FakeClaudeServer(model) as server:
        result, baseline = sync_measured(server.base_url, tmp_path / "plain")
        assert result.returncode == 0, result.stderr
        data = os.urandom(1 << 20) * (SIZE >> 20)  # incompressible for zlib's 32 KiB window
        upload = model.add_upload(org, "document", "scan.pdf", data=data)
        archive = tmp_path / "archive"
        result, peak = sync_measured(server.base_url, archive)
    assert result.returncode == 0, result.stderr
    assert peak - baseline < SIZE // 4, (peak, baseline)  # before: about 3.5 times the size
    (stored,) = archive.glob(f"*/*/files/{upload.uuid}/scan.pdf")
    assert stored.stat().st_size == SIZE
    meta = json.loads(stored.parent.with_suffix(".json").read_bytes())
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["size"] == SIZE
    rel = str(stored.relative_to(archive))
    assert git(archive, "cat-file", "-s", f"HEAD:{rel}").strip() == str(SIZE)
    assert_git_healthy(archive)
