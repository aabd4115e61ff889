"""Pushing the archive to a git remote, and the archive's list of remotes.

A push sends the branch HEAD points to (`main`) to the same branch of the remote with dulwich,
over SSH, HTTP(S), git:// or to a local path / file:// URL. It never moves the local branch nor
touches the files: a failed push leaves the archive as the sync left it. A remote branch with
commits the archive lacks is never overwritten unless `force` is given.

A local path or file:// URL is pushed with the real `git push`, so that the target's hooks
(`pre-receive`, `update`) run and judge the push as for any other push, and git's receive-pack
writes the objects (in a quarantine it removes if the push dies). Network remotes go through
dulwich; the remote's own git runs its hooks there.

Credentials for HTTP(S): the user name in the URL, and a token from $CLAUDE_BACKUP_GIT_TOKEN,
else from git's credential helpers (`git credential fill`). We store none of them anywhere,
and no process we start (ssh, git, a credential helper) inherits the token or a session key.
SSH uses the ssh command (GIT_SSH_COMMAND, GIT_SSH or core.sshCommand, as git does).

A shallow archive (`git clone --depth`) is pushed only where the remote already has the
history it lacks (as git does); an ssh host or path starting with `-` is refused (ssh would
read it as an option).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import urllib3.exceptions
from dulwich.client import (
    GitClient,
    HTTPProxyUnauthorized,
    HTTPUnauthorized,
    get_transport_and_path,
)
from dulwich.errors import GitProtocolError, NotGitRepository
from dulwich.graph import can_fast_forward
from dulwich.objects import ObjectID
from dulwich.pack import UnpackedObject
from dulwich.refs import Ref
from dulwich.repo import Repo

from claude_backup.archive.repository import Archive
from claude_backup.archive.runlog import record_push
from claude_backup.childenv import scrubbed_environ
from claude_backup.errors import ArchiveError, PushError, UsageError
from claude_backup.hosts import is_loopback
from claude_backup.keys import ENV_VAR, GIT_TOKEN_ENV, forbid_core_dumps, take_secret

DEFAULT_REMOTE = "origin"
TOKEN_ENV = GIT_TOKEN_ENV
# Variables that would point a `git` we start at another repository than the archive.
GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_SHALLOW_FILE",
    "GIT_NAMESPACE",
)
TOKEN_USER = "git"  # the user name sent with a token when the URL names none
CREDENTIAL_TIMEOUT = 60.0
_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class PushResult:
    remote: str  # the remote's name, or its URL (without a password) when given as a URL
    branch: str  # "main"
    old: str | None  # the remote branch before the push; None if it did not exist
    new: str  # what the remote branch is now: the archive's HEAD
    forced: bool  # commits on the remote were overwritten (only with force=True)
    packed: int  # loose objects packed before pushing
    note: str = ""  # what the user should know (a remote whose HEAD names another branch)

    @property
    def changed(self) -> bool:
        return self.old != self.new


def push_archive(root: Path, remote: str | None = None, *, force: bool = False) -> PushResult:
    """Push the archive at `root` to `remote`: a remote name, a URL or a path; None = origin.

    Takes the archive lock (call it after a sync has released it). Raises PushError when the
    push fails; the local branch and files are never changed, whatever happens.
    """
    archive = _open_archive(root)
    name = remote or DEFAULT_REMOTE
    try:
        with archive.lock():
            result = _push(archive, remote, force)
    except PushError as exc:
        record_push(archive.root, name, str(exc))
        raise
    finally:
        archive.repo.close()
    record_push(archive.root, name, None)
    return result


def _open_archive(root: Path) -> Archive:
    root = root.expanduser().absolute()
    if not (root / ".git").exists():
        raise ArchiveError(f"no archive at {root}; run `claude-backup sync {root}` first")
    return Archive.open(root)


def _push(archive: Archive, remote: str | None, force: bool) -> PushResult:
    take_secret(ENV_VAR)  # a key exported in the shell: no child of ours gets it
    token = take_secret(TOKEN_ENV)
    if token:
        forbid_core_dumps()
    repo = archive.repo
    name, url = find_remote(repo, remote, archive.root)
    check_url(url)
    shown = name or redact(url)
    ref, local = _head(repo)
    branch = ref.decode("utf-8", "replace").removeprefix("refs/heads/")
    target = _check_local_target(url)
    packed = archive.pack()
    seen: dict[str, ObjectID | None] = {}

    def update_refs(refs: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
        old = refs.get(ref)
        seen["old"] = old
        if not any(r.startswith(b"refs/heads/") for r in refs):
            seen["empty"] = local  # a new repository: its HEAD may name another branch
        if old is not None and old != local and not _fast_forward(repo, old, local):
            if not force:
                raise PushError(
                    f"{shown} has commits on {branch} that this archive lacks (remote "
                    f"{old.decode()[:12]}, local {local.decode()[:12]}); refusing to overwrite "
                    "them. Another archive may be pushing there: use a remote of its own, or "
                    "push --force to replace the remote's branch with this archive's"
                )
            seen["forced"] = old
        _check_shallow(repo, old, shown, archive.root)
        return {ref: local}

    if target is not None:
        update_refs(_local_refs(target))
        _git_push(archive, url, ref, local, seen.get("old"), shown, branch)
        note = point_head(target, ref)
        return _result(archive, name, shown, branch, local, seen, packed, note)
    username, password = _http_credentials(url, archive.root, token)

    def pack_data(
        have: AbstractSet[ObjectID],
        want: AbstractSet[ObjectID],
        *,
        ofs_delta: bool = False,
        progress: Callable[[bytes], None] | None = None,
    ) -> tuple[int, Iterator[UnpackedObject]]:
        known = {sha for sha in have if sha in repo.object_store}  # a forced push's unknown tip
        return repo.generate_pack_data(known, set(want), ofs_delta=ofs_delta)

    secrets = [s for s in (password,) if s]
    try:
        client, path = _client(repo, url, username, password)
        result = client.send_pack(path.encode(), update_refs, pack_data)
    except PushError:
        raise
    except (HTTPUnauthorized, HTTPProxyUnauthorized) as exc:
        raise PushError(
            f"{shown} asked for credentials and refused {'them' if password else 'none'}: put "
            f"your user name in the URL (https://USER@host/...) and a token in ${TOKEN_ENV}, "
            "or configure a git credential helper"
        ) from exc
    except (GitProtocolError, NotGitRepository, OSError, urllib3.exceptions.HTTPError) as exc:
        raise PushError(f"cannot push to {shown}: {_reason(exc, secrets)}") from exc
    status = (result.ref_status or {}).get(ref)
    if status:
        raise PushError(f"{shown} refused {branch}: {_clean(status, secrets)}")
    note = ""
    if "empty" in seen:
        note = (
            f"{shown} was empty: if `git clone` of it gives an empty folder, make {branch} its "
            f"default branch (in the host's settings, or on the server: `git --git-dir=<repo> "
            f"symbolic-ref HEAD {ref.decode()}`)"
        )
    return _result(archive, name, shown, branch, local, seen, packed, note)


def _result(
    archive: Archive,
    name: str | None,
    shown: str,
    branch: str,
    local: ObjectID,
    seen: dict[str, ObjectID | None],
    packed: int,
    note: str = "",
) -> PushResult:
    if name is not None:
        archive.repo.refs[Ref(b"refs/remotes/" + name.encode() + b"/" + branch.encode())] = local
    old = seen.get("old")
    return PushResult(
        remote=shown,
        branch=branch,
        old=old.decode() if old else None,
        new=local.decode(),
        forced="forced" in seen,
        packed=packed,
        note=note,
    )


def point_head(path: Path, ref: Ref) -> str:
    """A bare repository made by `git init --bare` may have HEAD on `master`, a branch that
    never gets a commit: `git clone` would then check out nothing. Point it at our branch when
    it names a branch that does not exist; a HEAD on a real branch is left alone."""
    try:
        repo = Repo(str(path))
    except (NotGitRepository, OSError):
        return ""
    try:
        chain, sha = repo.refs.follow(Ref(b"HEAD"))
        if sha is not None or chain[-1] == ref:
            return ""
        repo.refs.set_symbolic_ref(Ref(b"HEAD"), ref)
        return (
            f"set {path}'s HEAD to {ref.decode()} (it named {chain[-1].decode()}, which has no "
            "commits), so `git clone` gets the files"
        )
    except (KeyError, OSError) as exc:
        return (
            f"{path}'s HEAD does not name {ref.decode()}, and setting it failed ({exc}): run "
            f"`git --git-dir={path} symbolic-ref HEAD {ref.decode()}` so `git clone` gets the files"
        )
    finally:
        repo.close()


def _head(repo: Repo) -> tuple[Ref, ObjectID]:
    refs, sha = repo.refs.follow(Ref(b"HEAD"))
    ref = refs[-1]
    if not ref.startswith(b"refs/heads/"):
        raise PushError("HEAD is not on a branch; run `git checkout main` in the archive first")
    if sha is None:
        raise PushError("nothing to push: the archive has no commits yet; run sync first")
    return ref, sha


def _fast_forward(repo: Repo, old: ObjectID, new: ObjectID) -> bool:
    """Is `old` (the remote's tip) an ancestor of `new`? Unknown to us means no."""
    return old in repo.object_store and can_fast_forward(repo, old, new)


def _check_shallow(repo: Repo, old: ObjectID | None, shown: str, root: Path) -> None:
    """A shallow archive lacks the parents of its oldest commits: push it only where the remote
    has them already, i.e. where its branch already holds every commit at the cut."""
    cut = repo.get_shallow()
    if not cut:
        return
    if old is not None and old in repo.object_store:
        tip = old
        if all(_is_ancestor(repo, commit, tip) for commit in cut):
            return
    raise PushError(
        f"the archive is a shallow clone (its history was cut with --depth) and {shown} lacks "
        f"the commits before the cut, so a push would leave it broken (git refuses it too); "
        f"fetch the whole history first: git -C {root} fetch --unshallow"
    )


def _is_ancestor(repo: Repo, ancestor: ObjectID, commit: ObjectID) -> bool:
    return ancestor == commit or can_fast_forward(repo, ancestor, commit)


# -- local remotes: the real git, so that the target's hooks run --------------------------------


def _local_refs(target: Path) -> dict[Ref, ObjectID]:
    try:
        with Repo(str(target)) as repo:
            return {ref: sha for ref, sha in repo.get_refs().items() if sha is not None}
    except (NotGitRepository, OSError, ValueError) as exc:
        raise PushError(f"cannot read the repository at {target}: {exc}") from exc


def _git_push(
    archive: Archive,
    url: str,
    ref: Ref,
    local: ObjectID,
    old: ObjectID | None,
    shown: str,
    branch: str,
) -> None:
    """`git push` of exactly the commit checked (`local`), only if the target's branch is still
    `old` (a lease: what update_refs judged). The target's hooks run; their output is shown."""
    git = shutil.which("git")
    if git is None:
        raise PushError(
            f"pushing to a repository on this machine ({shown}) needs git installed: git runs "
            "that repository's hooks; install git, or push to an ssh or https remote"
        )
    refname = ref.decode("utf-8", "surrogateescape")
    lease = f"--force-with-lease={refname}:{old.decode() if old else ''}"
    env = scrubbed_environ({"GIT_TERMINAL_PROMPT": "0"})
    for name in GIT_LOCATION_VARS:
        env.pop(name, None)
    command = [git, "--git-dir", str(archive.git_dir), "push", "--porcelain", "--no-verify"]
    command += [lease, url, f"{local.decode()}:{refname}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, errors="replace")
    except OSError as exc:
        raise PushError(f"cannot run git to push to {shown}: {exc}") from exc
    if done.returncode == 0:
        return
    said = [line.strip() for line in done.stderr.splitlines() if line.startswith("remote:")]
    status = [line for line in done.stdout.splitlines() if line.startswith("!")]
    if status:
        reason = status[0].rsplit("\t", 1)[-1]
    else:
        errors = [line for line in done.stderr.splitlines() if line.startswith(("fatal", "error"))]
        reason = errors[0] if errors else f"git push exited with {done.returncode}"
    detail = "; ".join(said[-5:])
    raise PushError(f"{shown} refused {branch}: {reason}" + (f" ({detail})" if detail else ""))


def _client(
    repo: Repo, url: str, username: str | None, password: str | None
) -> tuple[GitClient, str]:
    ssh_command = os.environ.get("GIT_SSH_COMMAND") or os.environ.get("GIT_SSH") or None
    return get_transport_and_path(
        url,
        config=repo.get_config_stack(),
        username=username,
        password=password,
        ssh_command=ssh_command,
    )


# -- where to push ------------------------------------------------------------------------------


def find_remote(repo: Repo, remote: str | None, base: Path) -> tuple[str | None, str]:
    """(remote name or None, URL) for a configured remote's name, a URL or a path.

    None means `origin`. A relative path in the config is relative to the archive (`base`);
    one given on the command line is relative to the current directory.
    """
    wanted = remote or DEFAULT_REMOTE
    remotes = list_remotes(repo)
    if wanted in remotes:
        if not remotes[wanted]:
            raise PushError(f"remote {wanted!r} has no url; set one with `git remote set-url`")
        return wanted, absolute_location(remotes[wanted], base)
    if remote is None:
        raise PushError(
            f"the archive has no remote named {DEFAULT_REMOTE!r}: add one with "
            f"`claude-backup remote add {DEFAULT_REMOTE} URL` (or `git remote add`), "
            "or name one with --remote"
        )
    if is_location(remote):
        return None, absolute_location(remote, Path.cwd())
    raise PushError(
        f"no remote named {remote!r} (see `claude-backup remote list`); "
        "--remote takes a remote's name, a URL or a path"
    )


def is_location(value: str) -> bool:
    """Is `value` a URL or a path rather than a remote's name?"""
    return (
        "/" in value
        or ":" in value
        or "\\" in value
        or value.startswith(("~", "."))
        or Path(value).exists()
    )


def local_path(url: str) -> Path | None:
    """The folder a plain path or file:// URL names; None for a network URL."""
    if url.startswith("file://"):
        return Path(unquote(urlsplit(url).path))
    if "://" in url:
        return None
    head, sep, _ = url.partition(":")
    if sep and "/" not in head and not (len(head) == 1 and os.name == "nt"):
        return None  # scp-like: [user@]host:path
    return Path(url)


def check_url(url: str) -> None:
    """Refuse an ssh host or path that starts with `-`: ssh (or git on the far side) would take it
    for an option, such as `-oProxyCommand=...`, which runs a command."""
    host, path = _ssh_parts(url)
    if host is not None and host.startswith("-"):
        raise UsageError(
            f"refusing the remote {redact(url)!r}: its host starts with '-', which ssh would "
            "read as an option"
        )
    if path is not None and path.startswith("-"):
        raise UsageError(
            f"refusing the remote {redact(url)!r}: its path starts with '-', which git would "
            "read as an option"
        )
    if url.startswith("-"):
        raise UsageError(f"refusing the remote {url!r}: it starts with '-'")


def _ssh_parts(url: str) -> tuple[str | None, str | None]:
    """(host, path) of an ssh URL, ssh://[user@]host[:port]/path or [user@]host:path; (None,
    None) for anything else."""
    if url.startswith(("ssh://", "git+ssh://", "ssh+git://")):
        netloc = url.split("://", 1)[1].split("/", 1)[0]
        path = url.split("://", 1)[1][len(netloc) :].lstrip("/")
        return netloc.rsplit("@", 1)[-1], path
    if "://" in url or local_path(url) is not None:
        return None, None
    head, _, path = url.partition(":")
    return head.rsplit("@", 1)[-1], path


def absolute_location(url: str, base: Path) -> str:
    path = local_path(url)
    if path is None or url.startswith("file://"):
        return url
    path = path.expanduser()
    return str(path if path.is_absolute() else (base / path).absolute())


def _check_local_target(url: str) -> Path | None:
    """A local target must be an existing bare repository: pushing into a checked-out branch
    would leave that working tree out of step with its branch (git refuses it too). That goes
    for the `.git` folder of a repository with a working tree too. Returns the target's folder
    (None for a network URL)."""
    path = local_path(url)
    if path is None:
        return None
    create = f"`git init --bare --initial-branch=main {path}`"
    if not path.exists():
        raise PushError(f"no repository at {path}; create one with {create}")
    if (path / ".git").exists():
        raise PushError(
            f"{path} is a repository with a working tree; push to a bare repository instead "
            f"(`git init --bare --initial-branch=main {path}.git`)"
        )
    try:
        with Repo(str(path)) as target:
            bare = target.get_config().get_boolean((b"core",), b"bare", True)
    except (NotGitRepository, OSError, ValueError):
        raise PushError(f"{path} is not a git repository; create one with {create}") from None
    if not bare or path.name == ".git":
        raise PushError(
            f"{path} is the .git folder of a repository with a working tree; push to a bare "
            "repository instead (`git init --bare`), or pull from the archive in that repository"
        )
    return path


# -- HTTP credentials ---------------------------------------------------------------------------


def _http_credentials(url: str, cwd: Path, token: str | None) -> tuple[str | None, str | None]:
    """(user, token) for an HTTP(S) URL: the URL's user with the token of $CLAUDE_BACKUP_GIT_TOKEN,
    else what git's credential helpers give. (None, None) lets dulwich use what the URL holds."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.password is not None:
        _refuse_plain_http(parts.scheme, parts.hostname, parts.password)
        return None, None
    user = unquote(parts.username) if parts.username else None
    token = token or None
    if token is None:
        user, token = _credential_helper(url, user, cwd)
    if token is None:
        return None, None
    _refuse_plain_http(parts.scheme, parts.hostname, token)
    return user or TOKEN_USER, token


def _refuse_plain_http(scheme: str, host: str | None, secret: str | None) -> None:
    if scheme == "http" and secret and not is_loopback(host or ""):
        raise PushError(
            f"refusing to send a password over plain http to {host}; use an https:// URL"
        )


def _credential_helper(url: str, user: str | None, cwd: Path) -> tuple[str | None, str | None]:
    """Ask git's credential helpers (the user's, the archive's) without ever prompting."""
    query = f"url={_without_userinfo(url)}\n" + (f"username={user}\n" if user else "") + "\n"
    env = scrubbed_environ({"GIT_TERMINAL_PROMPT": "0"})
    try:
        answer = subprocess.run(
            ["git", "credential", "fill"],
            input=query,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
            timeout=CREDENTIAL_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return user, None  # no git, or a helper that hangs: go on without credentials
    if answer.returncode != 0:
        return user, None
    fields = dict(line.split("=", 1) for line in answer.stdout.splitlines() if "=" in line)
    return fields.get("username") or user, fields.get("password") or None


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def redact(url: str) -> str:
    """The URL with any password replaced by ***, fit for messages and listings."""
    parts = urlsplit(url)
    if "://" not in url or parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _reason(exc: BaseException, secrets: list[str]) -> str:
    cause: BaseException | None = exc
    while cause is not None:  # "Max retries exceeded with url: ..." says less than its reason
        if isinstance(cause, urllib3.exceptions.MaxRetryError) and cause.reason is not None:
            exc = cause.reason
            break
        cause = cause.__cause__
    text = str(exc) or type(exc).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _clean("; ".join(lines), secrets)


def _clean(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


# -- the archive's remotes ----------------------------------------------------------------------


def list_remotes(repo: Repo) -> dict[str, str]:
    """Remote name -> URL, as `git remote -v` shows them ('' for a remote with no url)."""
    config = repo.get_config()
    found: dict[str, str] = {}
    for section in config.sections():
        if len(section) == 2 and section[0] == b"remote":
            try:
                url = config.get(section, b"url")
            except KeyError:
                url = b""
            found[section[1].decode("utf-8", "replace")] = url.decode("utf-8", "replace")
    return found


def add_remote(root: Path, name: str, url: str, *, replace: bool = False) -> str:
    """Add a remote as `git remote add` does (or, with `replace`, change an existing remote's
    URL as `git remote set-url` does); returns the URL stored (paths made absolute)."""
    _check_name(name)
    if not url.strip():
        raise UsageError("the remote's URL is empty")
    if "://" in url and urlsplit(url).password is not None:
        raise UsageError(
            f"the URL holds a password; leave it out and put the token in ${TOKEN_ENV} "
            "or a git credential helper (claude-backup never stores credentials)"
        )
    check_url(url)
    stored = absolute_location(url, Path.cwd())
    archive = _open_archive(root)
    try:
        known = name in list_remotes(archive.repo)
        if known and not replace:
            raise UsageError(
                f"a remote named {name!r} already exists; change its URL with "
                f"`claude-backup remote set-url {name} URL`"
            )
        if replace and not known:
            raise UsageError(f"no remote named {name!r} (see `claude-backup remote list`)")
        config = archive.repo.get_config()
        section = (b"remote", name.encode())
        config.set(section, b"url", stored.encode())
        if not known:
            config.set(section, b"fetch", f"+refs/heads/*:refs/remotes/{name}/*".encode())
        config.write_to_path()
    finally:
        archive.repo.close()
    return stored


def remove_remote(root: Path, name: str) -> None:
    """Forget a remote and its remote-tracking branches, as `git remote remove` does."""
    archive = _open_archive(root)
    try:
        repo = archive.repo
        if name not in list_remotes(repo):
            raise UsageError(f"no remote named {name!r} (see `claude-backup remote list`)")
        config = repo.get_config()
        del config[(b"remote", name.encode())]
        config.write_to_path()
        prefix = Ref(b"refs/remotes/" + name.encode() + b"/")
        for ref in list(repo.refs.keys(base=prefix)):
            del repo.refs[Ref(prefix + ref)]
    finally:
        archive.repo.close()


def remotes_of(root: Path) -> dict[str, str]:
    """The archive's remotes, passwords hidden."""
    archive = _open_archive(root)
    try:
        return {name: redact(url) for name, url in list_remotes(archive.repo).items()}
    finally:
        archive.repo.close()


def _check_name(name: str) -> None:
    if not _REMOTE_NAME.fullmatch(name) or ".." in name or name.endswith(".lock"):
        raise UsageError(
            f"{name!r} is not a usable remote name; use letters, digits, '.', '_' and '-'"
        )
