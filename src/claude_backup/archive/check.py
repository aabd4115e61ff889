"""The git half of `claude-backup verify`: is every object of the archive's history there and
sound? (Reads only; one of the modules that may import dulwich.)

`git fsck --full --strict` runs when git is installed, in a scrubbed environment (no user or
system config, no hooks, C locale). Then our own walk of every commit reachable from HEAD
checks that each tree and blob is present, so that a missing object is reported with the
file that needs it (`…/chats/Plan-<uuid>.json`), not only its hash. Without git, the walk also
re-hashes every object it reads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dulwich.errors import NotGitRepository
from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tree
from dulwich.refs import Ref
from dulwich.repo import Repo

FSCK_TIMEOUT = 3600.0
MAX_FSCK_LINES = 50


@dataclass(frozen=True)
class GitProblem:
    item: str  # what is missing or broken, named as a user would look for it
    detail: str


def check_repository(root: Path, *, use_git: bool = True) -> list[GitProblem]:
    """Every problem found in the archive's git data; empty when it is sound."""
    problems: list[GitProblem] = []
    git = shutil.which("git") if use_git else None
    if git is not None:
        problems += _fsck(git, root)
    try:
        repo = Repo(str(root))
    except (NotGitRepository, OSError) as exc:
        return [*problems, GitProblem(str(root / ".git"), f"not a readable repository: {exc}")]
    with repo:
        problems += list(_walk(repo, rehash=git is None))
    return problems


def committed_files(root: Path) -> dict[str, bytes] | None:
    """Every file of the last commit: path -> blob sha; None when there is no commit (or its
    tree cannot be read: `check_repository` says why)."""
    try:
        repo = Repo(str(root))
    except (NotGitRepository, OSError):
        return None
    with repo:
        head = _head(repo)
        if head is None:
            return None
        try:
            commit = repo.object_store[ObjectID(head)]
            assert isinstance(commit, Commit)
            return dict(_tree_files(repo.object_store, commit.tree, ""))
        except (KeyError, AssertionError, OSError, ValueError):
            return None


def _head(repo: Repo) -> bytes | None:
    try:
        _, sha = repo.refs.follow(Ref(b"HEAD"))
    except (KeyError, OSError):
        return None
    return sha


def _tree_files(
    store: BaseObjectStore, tree_sha: bytes, prefix: str
) -> Iterator[tuple[str, bytes]]:
    tree = store[ObjectID(tree_sha)]
    if not isinstance(tree, Tree):
        raise ValueError("not a tree")
    for entry in tree.iteritems():
        name = entry.path.decode("utf-8", "surrogateescape")
        if entry.mode & 0o170000 == 0o040000:
            yield from _tree_files(store, entry.sha, f"{prefix}{name}/")
        else:
            yield f"{prefix}{name}", entry.sha


def _fsck(git: str, root: Path) -> list[GitProblem]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LC_ALL": "C",
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
    if os.name == "nt":  # git for Windows needs these to start
        env.update({k: os.environ[k] for k in ("SYSTEMROOT", "TEMP", "TMP") if k in os.environ})
    command = [
        git,
        "-c",
        "safe.directory=*",
        "-c",
        "core.hooksPath=" + os.devnull,
        "-C",
        str(root),
        "fsck",
        "--full",
        "--strict",
        "--no-progress",
        "--no-dangling",
    ]
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, timeout=FSCK_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return [GitProblem("git fsck", f"could not run: {exc}")]
    if done.returncode == 0:
        return []
    lines = (done.stdout + done.stderr).decode("utf-8", "replace").splitlines()
    found = [GitProblem("git fsck", line.strip()) for line in lines if line.strip()]
    return found[:MAX_FSCK_LINES] or [GitProblem("git fsck", f"exit code {done.returncode}")]


def _walk(repo: Repo, *, rehash: bool) -> Iterator[GitProblem]:
    """Each missing or unreadable object reachable from HEAD, once, named by the first path
    (newest commit first) that needs it."""
    store = repo.object_store
    head = _head(repo)
    if head is None:
        return
    seen: set[bytes] = set()
    commits = [head]
    while commits:
        sha = commits.pop()
        if sha in seen:
            continue
        seen.add(sha)
        commit, problem = _read(store, sha, rehash)
        if commit is None or not isinstance(commit, Commit):
            yield GitProblem(f"commit {sha.decode()[:12]}", problem or "not a commit")
            continue
        label = f"commit {sha.decode()[:12]}"
        yield from _walk_tree(store, commit.tree, "", label, seen, rehash)
        commits.extend(commit.parents)


def _walk_tree(
    store: BaseObjectStore, sha: bytes, prefix: str, label: str, seen: set[bytes], rehash: bool
) -> Iterator[GitProblem]:
    if sha in seen:
        return
    seen.add(sha)
    tree, problem = _read(store, sha, rehash)
    if tree is None or not isinstance(tree, Tree):
        where = prefix.rstrip("/") or "(the top folder)"
        yield GitProblem(where, f"tree {sha.decode()[:12]} of {label}: {problem or 'not a tree'}")
        return
    for entry in tree.iteritems():
        path = prefix + entry.path.decode("utf-8", "surrogateescape")
        if entry.mode & 0o170000 == 0o040000:
            yield from _walk_tree(store, entry.sha, path + "/", label, seen, rehash)
            continue
        if entry.sha in seen or entry.mode & 0o170000 == 0o160000:  # (a submodule: not ours)
            continue
        seen.add(entry.sha)
        if rehash:
            blob, problem = _read(store, entry.sha, rehash)
            ok = blob is not None and isinstance(blob, Blob)
        else:
            ok, problem = _present(store, entry.sha)
        if not ok:
            yield GitProblem(path, f"blob {entry.sha.decode()[:12]} of {label}: {problem}")


def _present(store: BaseObjectStore, sha: bytes) -> tuple[bool, str | None]:
    try:
        return (ObjectID(sha) in store), "missing from the object store"
    except (OSError, ValueError) as exc:
        return False, f"unreadable: {exc}"


def _read(store: BaseObjectStore, sha: bytes, rehash: bool) -> tuple[ShaFile | None, str | None]:
    try:
        obj = store[ObjectID(sha)]
    except KeyError:
        return None, "missing from the object store"
    except Exception as exc:  # a damaged pack or loose object: any error dulwich raises
        return None, f"unreadable: {type(exc).__name__}: {exc}"
    if rehash:
        again = ShaFile.from_raw_string(obj.type_num, obj.as_raw_string())
        if again.id != sha:
            return None, f"its content hashes to {again.id.decode()[:12]}"
    return obj, None
