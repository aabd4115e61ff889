"""`claude-backup push` and `remote`: real remotes on loopback (bare repositories, git daemon,
sshd, git http-backend), each checked with a real `git clone` and `git fsck --full`."""

from __future__ import annotations

import base64
import getpass
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from claude_backup.archive.remote import absolute_location, is_location, local_path, redact
from conftest import (
    Fake,
    add_to_a_chat,
    assert_git_healthy,
    commit_count,
    git,
    run_cli,
    sync,
    synced_archive,
)

SSHD = Path("/usr/sbin/sshd")
TOKEN = "ghp_test-token-Q7x9K2mLp4Rt8Vw3"


# -- helpers ------------------------------------------------------------------------------------


def push(
    archive: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "push", str(archive), *args, base_url="http://127.0.0.1:9", key=None, extra_env=env
    )


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, base_url="http://127.0.0.1:9", key=None, extra_env=env)


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(path)], check=True)
    return path


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def assert_remote_matches(remote: Path, archive: Path, clone_url: str | None = None) -> Path:
    """A real `git clone` of the remote has the archive's HEAD and files; both fsck clean."""
    clone = remote.parent / f"clone-{time.monotonic_ns()}"
    subprocess.run(
        ["git", "clone", "-q", clone_url or str(remote), str(clone)],
        check=True,
        capture_output=True,
        env=_ssh_env(),
    )
    assert head(clone) == head(archive)
    git(remote, "fsck", "--full", "--strict")
    assert_git_healthy(clone)
    assert git(clone, "ls-files") == git(archive, "ls-files")
    return clone


_SSH_COMMAND: dict[str, str] = {}


def _ssh_env() -> dict[str, str]:
    return {**os.environ, **_SSH_COMMAND}


def loose_objects(repo: Path) -> int:
    return sum(1 for p in (repo / ".git" / "objects").glob("??/*"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server did not listen on {port}: {log.read_text(errors='replace')}")


@contextmanager
def server_process(args: list[str], port: int, log: Path) -> Iterator[None]:
    """Start a server in a process group of its own; always stop that group."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    try:
        wait_for_port(port, proc, log)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def archive(fake: Fake, tmp_path: Path) -> Path:
    return synced_archive(fake, tmp_path)


# -- local remotes ------------------------------------------------------------------------------


def test_push_to_a_bare_repository_by_path_then_file_url(
    fake: Fake, archive: Path, tmp_path: Path
) -> None:
    remote = bare(tmp_path / "remote.git")
    assert loose_objects(archive) == 0  # a sync leaves its objects packed
    subprocess.run(  # as an older version, or git itself, leaves them
        ["git", "-C", str(archive), "hash-object", "-w", "--stdin"],
        input=b"a loose object",
        check=True,
        capture_output=True,
    )
    assert loose_objects(archive) == 1
    result = push(archive, "--remote", str(remote))
    assert result.returncode == 0, result.stderr
    assert f"to {remote} (new branch)" in result.stdout
    assert loose_objects(archive) == 0  # packed before pushing
    assert list((archive / ".git" / "objects" / "pack").glob("*.pack"))
    assert_remote_matches(remote, archive)

    first = head(archive)
    add_to_a_chat(fake)
    assert sync(fake, archive).returncode == 0
    result = push(archive, "--remote", f"file://{remote}")
    assert result.returncode == 0, result.stderr
    assert f"pushed main {first[:12]}..{head(archive)[:12]}" in result.stdout
    assert_remote_matches(remote, archive, clone_url=f"file://{remote}")

    again = push(archive, "--remote", str(remote))
    assert again.returncode == 0 and "is up to date" in again.stdout
    assert_git_healthy(archive)


def test_git_remote_add_origin_is_the_default(archive: Path, tmp_path: Path) -> None:
    remote = bare(tmp_path / "remote.git")
    git(archive, "remote", "add", "origin", str(remote))
    result = push(archive)
    assert result.returncode == 0, result.stderr
    assert "to origin (new branch)" in result.stdout
    assert_remote_matches(remote, archive)
    assert git(archive, "rev-parse", "origin/main").strip() == head(archive)
    assert_git_healthy(archive)


def test_relative_path_of_a_configured_remote_is_relative_to_the_archive(
    archive: Path, tmp_path: Path
) -> None:
    remote = bare(tmp_path / "remote.git")
    git(archive, "remote", "add", "origin", "../remote.git")
    result = push(archive)
    assert result.returncode == 0, result.stderr
    assert_remote_matches(remote, archive)


def test_remote_commands(archive: Path, tmp_path: Path) -> None:
    remote = bare(tmp_path / "remote.git")
    added = cli("remote", "add", "backup", str(remote), str(archive))
    assert added.returncode == 0, added.stderr
    assert git(archive, "remote", "get-url", "backup").strip() == str(remote)
    listed = cli("remote", "list", str(archive))
    assert listed.stdout == f"backup\t{remote}\n"
    assert push(archive, "--remote", "backup").returncode == 0
    assert_remote_matches(remote, archive)
    git(archive, "fetch", "-q", "backup")  # real git understands what we wrote

    again = cli("remote", "add", "backup", str(remote), str(archive))
    assert again.returncode == 2 and "already exists" in again.stderr
    secret = cli("remote", "add", "other", f"https://ada:{TOKEN}@example.org/a.git", str(archive))
    assert secret.returncode == 2 and "CLAUDE_BACKUP_GIT_TOKEN" in secret.stderr
    assert TOKEN not in secret.stderr and TOKEN not in (archive / ".git" / "config").read_text()
    bad = cli("remote", "add", "no/slash", str(remote), str(archive))
    assert bad.returncode == 2 and "remote name" in bad.stderr

    removed = cli("remote", "remove", "backup", str(archive))
    assert removed.returncode == 0, removed.stderr
    assert cli("remote", "list", str(archive)).stdout == ""
    assert git(archive, "for-each-ref", "refs/remotes") == ""
    gone = cli("remote", "remove", "backup", str(archive))
    assert gone.returncode == 2 and "no remote named 'backup'" in gone.stderr
    unknown = push(archive, "--remote", "backup")
    assert unknown.returncode == 9 and "no remote named 'backup'" in unknown.stderr


# -- network remotes ----------------------------------------------------------------------------


def test_push_to_git_daemon(fake: Fake, archive: Path, tmp_path: Path) -> None:
    base = tmp_path / "served"
    base.mkdir()
    remote = bare(base / "archive.git")
    port = free_port()
    daemon = [
        "git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
        "--informative-errors", f"--base-path={base}", "--listen=127.0.0.1", f"--port={port}",
    ]  # fmt: skip
    url = f"git://127.0.0.1:{port}/archive.git"
    with server_process(daemon, port, tmp_path / "daemon.log"):
        result = push(archive, "--remote", url)
        assert result.returncode == 0, result.stderr
        assert_remote_matches(remote, archive, clone_url=url)
        add_to_a_chat(fake)
        assert sync(fake, archive).returncode == 0
        result = push(archive, "--remote", url)
        assert result.returncode == 0, result.stderr
        assert_remote_matches(remote, archive, clone_url=url)


@dataclass
class SshServer:
    port: int
    user: str
    command: str  # GIT_SSH_COMMAND for a client that trusts only this server's host key


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[SshServer]:
    if not SSHD.exists():
        pytest.skip("openssh-server is not installed (/usr/sbin/sshd)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    keys = tmp_path / "ssh"
    keys.mkdir(mode=0o700)
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True
        )
    (keys / "authorized_keys").write_text((keys / "client_key.pub").read_text())
    port = free_port()
    (keys / "known_hosts").write_text(f"[127.0.0.1]:{port} {(keys / 'host_key.pub').read_text()}")
    config = keys / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {keys / 'host_key'}\n"
        f"PidFile {keys / 'sshd.pid'}\nAuthorizedKeysFile {keys / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\n"
    )
    command = (
        f"ssh -F /dev/null -o Port={port} -i {keys / 'client_key'} -o IdentitiesOnly=yes "
        f"-o BatchMode=yes -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=/dev/null "
        f"-o UserKnownHostsFile={keys / 'known_hosts'}"
    )
    with server_process([str(SSHD), "-D", "-e", "-f", str(config)], port, keys / "sshd.log"):
        _SSH_COMMAND["GIT_SSH_COMMAND"] = command
        try:
            yield SshServer(port, getpass.getuser(), command)
        finally:
            _SSH_COMMAND.clear()


def test_push_over_ssh(fake: Fake, archive: Path, tmp_path: Path, ssh_server: SshServer) -> None:
    remote = bare(tmp_path / "remote.git")
    env = {"GIT_SSH_COMMAND": ssh_server.command}
    url = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}{remote}"
    result = push(archive, "--remote", url, env=env)
    assert result.returncode == 0, result.stderr
    assert_remote_matches(remote, archive, clone_url=url)

    add_to_a_chat(fake)
    assert sync(fake, archive).returncode == 0
    scp_like = f"{ssh_server.user}@127.0.0.1:{remote}"  # port from the ssh command
    git(archive, "remote", "add", "origin", scp_like)
    result = push(archive, env=env)
    assert result.returncode == 0, result.stderr
    assert "pushed main" in result.stdout
    assert_remote_matches(remote, archive, clone_url=scp_like)


class _GitHttp(BaseHTTPRequestHandler):
    """`git http-backend` behind HTTP basic auth, the way a forge serves smart HTTP."""

    root: Path
    user = "ada"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        wanted = base64.b64encode(f"{self.user}:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {wanted}":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self._body()
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "REMOTE_USER": self.user,
            "REMOTE_ADDR": "127.0.0.1",
        }
        out = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60
        ).stdout
        sep = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
        header_block, _, payload = out.partition(sep)
        status = 200
        headers = []
        for line in header_block.decode().splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers.append((key, value.strip()))
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()


@pytest.fixture
def http_remote(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    base = tmp_path / "http"
    base.mkdir()
    remote = bare(base / "archive.git")
    handler = type("Handler", (_GitHttp,), {"root": base})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/archive.git", remote
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_push_over_http_with_a_token_or_a_credential_helper(
    fake: Fake, archive: Path, tmp_path: Path, http_remote: tuple[str, Path]
) -> None:
    url, remote = http_remote
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("")
    no_helper = {"GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}
    with_user = url.replace("http://", "http://ada@")

    refused = push(archive, "--remote", with_user, env=no_helper)
    assert refused.returncode == 9, refused.stderr
    assert "asked for credentials" in refused.stderr and "CLAUDE_BACKUP_GIT_TOKEN" in refused.stderr
    wrong = push(archive, "--remote", with_user, env={**no_helper, "CLAUDE_BACKUP_GIT_TOKEN": "x"})
    assert wrong.returncode == 9 and "refused them" in wrong.stderr

    result = push(
        archive, "--remote", with_user, env={**no_helper, "CLAUDE_BACKUP_GIT_TOKEN": TOKEN}
    )
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    git(remote, "fsck", "--full", "--strict")
    assert head(remote) == head(archive)

    # A git credential helper answers when no token is in the environment.
    gitconfig.write_text(
        '[credential]\n\thelper = "!f() { test $1 = get && echo username=ada && '
        f'echo password={TOKEN}; }}; f"\n'
    )
    add_to_a_chat(fake)
    assert sync(fake, archive).returncode == 0
    git(archive, "remote", "add", "origin", url)
    result = push(archive, env=no_helper)
    assert result.returncode == 0, result.stderr
    assert head(remote) == head(archive)
    git(remote, "fsck", "--full", "--strict")
    stored = b"".join(p.read_bytes() for p in (archive / ".git").rglob("*") if p.is_file())
    assert TOKEN.encode() not in stored


def test_credentials_are_never_sent_over_plain_http_to_another_host(archive: Path) -> None:
    result = push(
        archive,
        "--remote",
        "http://ada@192.0.2.1/archive.git",
        env={"CLAUDE_BACKUP_GIT_TOKEN": TOKEN},
    )
    assert result.returncode == 9 and "use an https:// URL" in result.stderr


# -- refusals and failures ----------------------------------------------------------------------


def test_non_fast_forward_is_refused_unless_forced(
    fake: Fake, archive: Path, tmp_path: Path
) -> None:
    remote = bare(tmp_path / "remote.git")
    assert push(archive, "--remote", str(remote)).returncode == 0
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(remote), str(other)], check=True)
    (other / "note.txt").write_text("pushed from another machine\n")
    git(other, "add", "note.txt")
    git(other, "-c", "user.name=x", "-c", "user.email=x@example.org", "commit", "-qm", "note")
    git(other, "push", "-q", "origin", "main")
    theirs = head(other)

    add_to_a_chat(fake)
    assert sync(fake, archive).returncode == 0
    ours = head(archive)
    refused = push(archive, "--remote", str(remote))
    assert refused.returncode == 9, refused.stderr
    assert "has commits on main that this archive lacks" in refused.stderr
    assert "--force" in refused.stderr
    assert head(remote) == theirs
    assert head(archive) == ours
    assert_git_healthy(archive)

    forced = push(archive, "--remote", str(remote), "--force")
    assert forced.returncode == 0, forced.stderr
    assert f"forced main {theirs[:12]}..{ours[:12]}" in forced.stdout
    assert_remote_matches(remote, archive)


def test_unreachable_remotes_fail_clearly_and_leave_the_archive_alone(
    archive: Path, tmp_path: Path
) -> None:
    before = head(archive)
    closed = free_port()
    cases = {
        f"git://127.0.0.1:{closed}/archive.git": "cannot push to git://127.0.0.1",
        f"ssh://127.0.0.1:{closed}/archive.git": "cannot push to ssh://127.0.0.1",
        f"http://127.0.0.1:{closed}/archive.git": "cannot push to http://127.0.0.1",
        str(tmp_path / "missing.git"): "git init --bare",
        str(archive): "is a repository with a working tree",
    }
    env = {"GIT_SSH_COMMAND": "ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=5"}
    for url, message in cases.items():
        result = push(archive, "--remote", url, env=env)
        assert result.returncode == 9, (url, result.stdout, result.stderr)
        assert message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    no_origin = push(archive)
    assert no_origin.returncode == 9 and "remote add origin" in no_origin.stderr
    assert head(archive) == before
    assert commit_count(archive) == 1
    assert_git_healthy(archive)


def test_push_needs_an_archive(tmp_path: Path) -> None:
    result = push(tmp_path / "nothing", "--remote", str(bare(tmp_path / "remote.git")))
    assert result.returncode == 7 and "run `claude-backup sync" in result.stderr
    assert not (tmp_path / "nothing").exists()


# -- restore ------------------------------------------------------------------------------------


def test_clone_of_the_remote_then_sync_continues_incrementally(
    fake: Fake, archive: Path, tmp_path: Path
) -> None:
    remote = bare(tmp_path / "remote.git")
    git(archive, "remote", "add", "origin", str(remote))
    assert push(archive).returncode == 0
    restored = tmp_path / "new-machine"
    subprocess.run(["git", "clone", "-q", str(remote), str(restored)], check=True)
    changed = add_to_a_chat(fake)
    fake.server.reset_stats()
    result = sync(fake, restored)
    assert result.returncode == 0, result.stderr
    details = [r.path for r in fake.server.request_log() if r.kind == "detail"]
    assert len(details) == 1 and changed in details[0]
    assert commit_count(restored) == 2
    assert_git_healthy(restored)
    pushed = push(restored)  # the clone's origin is the remote: a plain fast-forward
    assert pushed.returncode == 0, pushed.stderr
    assert_remote_matches(remote, restored)


# -- pure helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("origin", False),
        ("backup-2", False),
        ("git@github.com:me/archive.git", True),
        ("ssh://git@host/me/archive.git", True),
        ("https://host/me/archive.git", True),
        ("/srv/archive.git", True),
        ("./archive.git", True),
        ("~/archive.git", True),
    ],
)
def test_is_location(value: str, expected: bool) -> None:
    assert is_location(value) is expected


def test_local_paths_and_redaction(tmp_path: Path) -> None:
    assert local_path("git@github.com:me/a.git") is None
    assert local_path("https://host/a.git") is None
    assert local_path("file:///srv/a%20b.git") == Path("/srv/a b.git")
    assert local_path("/srv/a.git") == Path("/srv/a.git")
    assert absolute_location("a.git", tmp_path) == str(tmp_path / "a.git")
    assert absolute_location("git@host:a.git", tmp_path) == "git@host:a.git"
    assert redact(f"https://ada:{TOKEN}@host:8443/a.git") == "https://ada:***@host:8443/a.git"
    assert redact("https://ada@host/a.git") == "https://ada@host/a.git"
