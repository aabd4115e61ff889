"""What a push refuses and what it keeps to itself: no secret in any child's environment, no core
dump with a key, the target's hooks run, no remote left broken (a shallow archive, a non-bare
repository, a killed push), no ssh option smuggled in as a host. Real git checks every remote."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claude_backup.archive.repository import Archive
from claude_backup.model.changes import CommitStep
from conftest import (
    CLI,
    FAST_FLAGS,
    KEY,
    Fake,
    add_to_a_chat,
    assert_git_healthy,
    git,
    run_cli,
    sync,
    synced_archive,
)
from test_push import http_remote  # noqa: F401 (a fixture: a git remote over http on loopback)

TOKEN = "ghp_test-token-Q7x9K2mLp4Rt8Vw3"
LOOPBACK = "http://127.0.0.1:9"  # the discard port: nothing answers


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(path)], check=True)
    return path


def push(
    archive: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli("push", str(archive), *args, base_url=LOOPBACK, key=None, extra_env=env)


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def branches(repo: Path) -> str:
    return git(repo, "for-each-ref", "refs/heads")


@pytest.fixture
def archive(fake: Fake, tmp_path: Path) -> Path:
    return synced_archive(fake, tmp_path)


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


# -- secrets ------------------------------------------------------------------------------------


def allow_core_dumps() -> None:
    """In the CLI's process, before it starts: core dumps as large as the machine allows, so
    that a 0 seen in its children is the CLI's doing."""
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


@pytest.mark.skipif(
    resource.getrlimit(resource.RLIMIT_CORE)[1] == 0, reason="core dumps are off on this machine"
)
def test_sync_push_gives_ssh_no_secret_and_no_core_dumps(
    fake: Fake, archive: Path, tmp_path: Path
) -> None:
    """`sync --push` with the key in $CLAUDE_SESSION_KEY (and a git token set): the ssh command
    (and anything it starts) sees neither, and may not dump core."""
    seen = tmp_path / "ssh-saw.txt"
    ssh = executable(
        tmp_path / "fake-ssh",
        f"#!/bin/sh\nenv > {seen}\necho core=$(ulimit -c) >> {seen}\nexit 1\n",
    )
    add_to_a_chat(fake)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_") and k != "GIT_SSH"}
    env.update(
        CLAUDE_SESSION_KEY=KEY,
        CLAUDE_BACKUP_GIT_TOKEN=TOKEN,
        CLAUDE_BACKUP_BASE_URL=fake.base_url,
        GIT_SSH_COMMAND=str(ssh),
    )
    done = subprocess.run(
        [CLI, "sync", str(archive), *FAST_FLAGS, "--push", "--remote", "ssh://git@127.0.0.1/x.git"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=allow_core_dumps,
        timeout=120,
    )
    assert done.returncode == 9, done.stderr  # the sync committed; the push failed
    saw = seen.read_text()
    assert "GIT_SSH_COMMAND" in saw  # the environment is there, less the secrets
    assert KEY not in saw and TOKEN not in saw
    assert "core=0" in saw
    assert KEY not in done.stdout + done.stderr


def test_the_credential_helper_gets_no_session_key(archive: Path, tmp_path: Path) -> None:
    """A session key exported in the shell is not passed on to git's credential helpers."""
    seen = tmp_path / "helper-saw.txt"
    helper = executable(tmp_path / "helper", f"#!/bin/sh\nenv > {seen}\n")
    git(archive, "config", "credential.helper", f"!{helper}")
    done = push(
        archive,
        "--remote",
        f"{LOOPBACK}/archive.git",
        env={"CLAUDE_SESSION_KEY": KEY, "GIT_CONFIG_NOSYSTEM": "1"},
    )
    assert done.returncode == 9
    saw = seen.read_text()
    assert "GIT_TERMINAL_PROMPT=0" in saw and KEY not in saw


# -- local remotes: hooks, non-bare repositories ------------------------------------------------


def test_a_local_push_runs_the_remotes_pre_receive_hook(archive: Path, tmp_path: Path) -> None:
    remote = bare(tmp_path / "remote.git")
    hook = executable(
        remote / "hooks" / "pre-receive",
        "#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n",
    )
    for url in (str(remote), f"file://{remote}"):
        refused = push(archive, "--remote", url)
        assert refused.returncode == 9, refused.stderr
        assert "pre-receive hook declined" in refused.stderr
        assert "pushes are closed today" in refused.stderr
        assert branches(remote) == ""
    log = tmp_path / "hook.log"
    executable(hook, f"#!/bin/sh\ncat >> {log}\n")
    done = push(archive, "--remote", str(remote))
    assert done.returncode == 0, done.stderr
    assert head(archive) in log.read_text()
    assert head(remote) == head(archive)
    git(remote, "fsck", "--full", "--strict")


def test_the_git_folder_of_a_non_bare_repository_is_refused(archive: Path, tmp_path: Path) -> None:
    repo = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", "--initial-branch=main", str(repo)], check=True)
    for target in (repo, repo / ".git"):
        done = push(archive, "--remote", str(target))
        assert done.returncode == 9, done.stderr
        assert "working tree" in done.stderr and "bare" in done.stderr
    assert branches(repo) == ""
    not_a_repo = tmp_path / "empty"
    not_a_repo.mkdir()
    done = push(archive, "--remote", str(not_a_repo))
    assert done.returncode == 9 and "not a git repository" in done.stderr


# -- ssh URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ssh://-oProxyCommand=touch%20pwned/x.git",
        "ssh://git@-oProxyCommand=touch/x.git",
        "-oProxyCommand=touch pwned:x.git",
        "host:-upload-pack=touch",
        "ssh://host/-x.git",
    ],
)
def test_an_ssh_option_in_the_url_is_refused(archive: Path, tmp_path: Path, url: str) -> None:
    done = push(archive, "--remote", url)
    assert done.returncode == 2, done.stderr
    assert "refusing the remote" in done.stderr and "internal error" not in done.stderr
    added = run_cli("remote", "add", "--", "evil", url, str(archive), base_url=LOOPBACK, key=None)
    assert added.returncode == 2 and "refusing the remote" in added.stderr
    assert "evil" not in git(archive, "remote")
    assert not (archive / "pwned").exists() and not Path("pwned").exists()


# -- shallow archives ---------------------------------------------------------------------------


def test_a_shallow_archive_is_pushed_only_where_the_history_is(
    fake: Fake, archive: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    add_to_a_chat(fake)
    assert sync(fake, archive).returncode == 0  # two commits: a depth-1 clone lacks one
    full = bare(tmp_path / "full.git")
    assert push(archive, "--remote", str(full)).returncode == 0
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{archive}", str(shallow)], check=True
    )
    assert (shallow / ".git" / "shallow").exists()
    add_to_a_chat(fake)
    assert sync(fake, shallow).returncode == 0

    # dulwich pushes to the http remote; git, to the path
    http_url, http_repo = request.getfixturevalue("http_remote")
    http_url = http_url.replace("http://", "http://ada@")
    for url, empty in (
        (str(tmp_path / "empty.git"), bare(tmp_path / "empty.git")),
        (http_url, http_repo),
    ):
        refused = push(shallow, "--remote", url, env={"CLAUDE_BACKUP_GIT_TOKEN": TOKEN})
        assert refused.returncode == 9, refused.stderr
        assert "shallow" in refused.stderr and "--unshallow" in refused.stderr
        assert branches(empty) == ""
        git(empty, "fsck", "--full", "--strict")

    # where the remote has the history before the cut, the push is whole
    done = push(shallow, "--remote", str(full))
    assert done.returncode == 0, done.stderr
    assert head(full) == head(shallow)
    git(full, "fsck", "--full", "--strict")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(full), str(clone)], check=True)
    assert_git_healthy(clone)


# -- a killed push ------------------------------------------------------------------------------


def temporary(objects: Path) -> list[str]:
    """Temporary files and folders of a push in progress (or left by one) in `objects`."""
    found = []
    for folder, dirs, files in os.walk(objects):  # (ignores what vanishes as it walks)
        found += [os.path.join(folder, n) for n in dirs + files if n.startswith(("tmp", "inc"))]
    return found


def test_a_killed_push_leaves_no_temporary_pack_in_the_remote(tmp_path: Path) -> None:
    archive = Archive.open(tmp_path / "archive")
    for i in range(24):  # incompressible: the push takes a while
        (archive.root / f"big-{i}.bin").write_bytes(os.urandom(2 << 20))
    changes = archive.changes()
    archive.commit([CommitStep([(c.path, c.new_sha) for c in changes], "big")], author="T <t@e>")
    archive.repo.close()
    remote = bare(tmp_path / "remote.git")
    objects = remote / "objects"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    proc = subprocess.Popen(
        [CLI, "push", str(archive.root), "--remote", str(remote)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if temporary(objects):
            break
        time.sleep(0.005)
    in_flight = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert in_flight, "the push ended before it could be killed; make it bigger"
    # what it started may still finish by itself (a git process of its own); wait for quiet
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = temporary(objects)
        if not busy:
            break
        time.sleep(0.1)
    assert not busy, busy
    git(remote, "fsck", "--full", "--strict")
    done = push(archive.root, "--remote", str(remote))
    assert done.returncode == 0, done.stderr
    assert head(remote) == head(archive.root)
    git(remote, "fsck", "--full", "--strict")
    assert not temporary(objects)


if sys.platform == "win32":  # pragma: no cover
    pytestmark = pytest.mark.skip("POSIX signals and file modes")
