"""Shared pieces of the benchmarks: fake worlds, the real CLI as a subprocess, result lines.

Every benchmark runs the installed `claude-backup` (next to this Python, or $CLAUDE_BACKUP_CLI)
against `claude_backup.fakeapi` served from this process on 127.0.0.1, and measures the CLI
process from outside: wall time, peak RSS (via /usr/bin/time), requests seen by the server.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claude_backup.fakeapi import FakeClaude, FakeClaudeServer, Org

KEY = "sk-ant-sid01-fake.bench.key"  # the fake server's, not a real key
CLI = os.environ.get("CLAUDE_BACKUP_CLI") or str(Path(sys.executable).parent / "claude-backup")
TIME = "/usr/bin/time"
FAST = ["-c", "6", "-d", "0"]
CHATS_ONLY = [  # the 10,000-chat corpus holds chats only
    "--no-files",
    "--no-projects",
    "--no-profile",
    "--no-skills",
    "--no-catalog",
    "--no-code",
]
CORPUS = [*FAST, *CHATS_ONLY]
RETRY = ["--min-retry-delay", "0.05", "--max-retry-delay", "0.2"]


# -- fake worlds --------------------------------------------------------------------------------


def new_model(seed: int = 1) -> tuple[FakeClaude, Org]:
    """One account with one chat org (plus an API-only org the CLI must skip)."""
    model = FakeClaude(seed=seed)
    account = model.add_account(KEY, "bench@example.com", "Bench Mark")
    org = account.add_org("bench@example.com's Organization")
    account.add_org("API Console", capabilities=("api",))
    return model, org


def add_mixed_chats(model: FakeClaude, org: Org, count: int, *, seed: int = 2) -> None:
    """Mixed sizes as the issue asks: most 5-30 messages, 1% of 300 messages, a few of ~5 MB."""
    rng = random.Random(seed)
    huge = {count // 3, (2 * count) // 3, count - 1} if count >= 100 else set()
    for i in range(count):
        if i in huge:
            model.add_chat(org, f"Huge {i}", turns=150, text_size=16_000)
        elif i % 100 == 50:
            model.add_chat(org, f"Long {i}", turns=150)
        else:
            turns = rng.randint(3, 15)
            model.add_chat(org, f"Chat {i}", turns=turns, branches=rng.choice((0, 0, 0, 1)))


def add_bulky_chats(model: FakeClaude, org: Org, count: int, chat_bytes: int) -> None:
    """`count` chats of about `chat_bytes` of JSON each, cheap for the fake to hold.

    Every message's text is one of a small pool of shared strings (Python shares them, and the
    fake's deep copies keep sharing them), so 1 GB served costs the fake a few MB, not 1 GB.
    """
    turns = 5
    text_size = max(100, chat_bytes // (2 * turns) - 1500)
    rng = random.Random(7)
    pool = ["".join(rng.choice("abcdefghij klmnop") for _ in range(text_size)) for _ in range(31)]
    for i in range(count):
        chat = model.add_chat(org, f"Bulky {i}", turns=turns)
        for n, message in enumerate(chat.messages):
            for block in message.content:
                if block.get("type") == "text":
                    block["text"] = pool[(i + n) % len(pool)]


@contextmanager
def serve(model: FakeClaude, latency: float) -> Iterator[FakeClaudeServer]:
    with FakeClaudeServer(model, latency=latency) as server:
        yield server


# -- running the CLI ----------------------------------------------------------------------------


@dataclass
class Run:
    code: int
    seconds: float
    rss_mb: float
    cpu_seconds: float  # user + system time of the CLI process
    requests: dict[str, int]
    stdout: str
    stderr: str

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


def run_cli(server: FakeClaudeServer, *args: str, timeout: float = 900) -> Run:
    """Run the real CLI once; wall time from just before start to exit, peak RSS of its process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_")}
    env["CLAUDE_SESSION_KEY"] = KEY
    env["CLAUDE_BACKUP_BASE_URL"] = server.base_url
    server.reset_stats()
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        command = [TIME, "-f", "%M %U %S", "-o", stats.name, CLI, *args]
        started = time.perf_counter()
        proc = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
        seconds = time.perf_counter() - started
        lines = [line for line in Path(stats.name).read_text().splitlines() if line.strip()]
    fields = lines[-1].split() if lines else []
    try:
        rss_kb, cpu = float(fields[0]), float(fields[1]) + float(fields[2])
    except (IndexError, ValueError):
        rss_kb, cpu = float("nan"), float("nan")
    counts: dict[str, int] = {}
    for record in server.request_log():
        counts[record.kind] = counts.get(record.kind, 0) + 1
    return Run(proc.returncode, seconds, rss_kb / 1024, cpu, counts, proc.stdout, proc.stderr)


def sync(server: FakeClaudeServer, archive: Path, *flags: str) -> Run:
    run = run_cli(server, "sync", str(archive), "-q", *RETRY, *flags)
    if run.code != 0:
        raise SystemExit(f"sync failed ({run.code}): {run.stderr.strip()[-2000:]}")
    return run


def git(archive: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(archive), *args], capture_output=True, text=True, check=True
    ).stdout


def commits(archive: Path) -> int:
    try:
        return int(git(archive, "rev-list", "--count", "HEAD").strip())
    except subprocess.CalledProcessError:
        return 0


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def workdir(name: str) -> Path:
    """A fresh folder for one benchmark, private to this process (several benchmarks may run at
    once), under $BENCH_DIR or the temp folder; removed at exit unless $BENCH_KEEP is set."""
    base = Path(os.environ.get("BENCH_DIR") or tempfile.gettempdir()) / "claude-backup-bench"
    path = base / f"{name}-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    if not os.environ.get("BENCH_KEEP"):
        atexit.register(shutil.rmtree, path, True)
    return path


# -- results ------------------------------------------------------------------------------------


@dataclass
class Results:
    benchmark: str
    figures: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, target: str, ok: bool | None = None) -> None:
        """One figure; `ok` None means informational (no target of its own)."""
        self.figures.append(
            {"name": name, "value": round(value, 4), "unit": unit, "target": target, "ok": ok}
        )
        mark = "" if ok is None else ("  ok" if ok else "  FAILS TARGET")
        print(f"{name} {_fmt(value)} {unit} ({target}){mark}", flush=True)

    def emit(self) -> dict[str, Any]:
        data = {"benchmark": self.benchmark, "machine": machine(), "figures": self.figures}
        print("JSON " + json.dumps(data, sort_keys=True), flush=True)
        return data

    @property
    def failed(self) -> list[str]:
        return [f["name"] for f in self.figures if f["ok"] is False]


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"


def machine() -> str:
    cpus = os.cpu_count() or 0
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpus} CPU {model}; load {load:.2f}; Python {sys.version.split()[0]}"


# -- the shared 10,000-chat archive -------------------------------------------------------------


@dataclass
class Corpus:
    """A fake account of many chats, its server, and an archive already synced from it."""

    model: FakeClaude
    org: Org
    server: FakeClaudeServer
    archive: Path
    setup_seconds: float

    def chat_uuids(self) -> list[str]:
        return sorted(self.org.chats)


_corpora: dict[tuple[int, float], Corpus] = {}


def ten_thousand(chats: int = 10_000, latency: float = 0.04) -> Corpus:
    """The archive benchmarks 2, 3 and 5 share (built once per process: a first sync of
    `chats` mixed chats with no latency, then the server answers with `latency`)."""
    key = (chats, latency)
    if key not in _corpora:
        started = time.perf_counter()
        model, org = new_model(seed=3)
        add_mixed_chats(model, org, chats, seed=4)
        server = FakeClaudeServer(model, latency=0.0)
        server.start()
        atexit.register(server.stop)
        archive = workdir(f"corpus-{chats}") / "archive"
        sync(server, archive, *CORPUS)
        server.latency = latency
        _corpora[key] = Corpus(model, org, server, archive, time.perf_counter() - started)
    return _corpora[key]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def bench_main(
    name: str, doc: str, measure: Callable[..., object], argv: list[str] | None, **options: int
) -> Results:
    """A benchmark's command line: `--option N` for each keyword (its default), then
    `measure(results, **values)` and the figures printed."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    for option, default in options.items():
        parser.add_argument("--" + option.replace("_", "-"), type=int, default=default)
    results = Results(name)
    measure(results, **vars(parser.parse_args(argv)))
    results.emit()
    return results
