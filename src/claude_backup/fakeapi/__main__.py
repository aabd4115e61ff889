"""Run a populated fake Claude.ai API: python -m claude_backup.fakeapi --chats 50."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys

from claude_backup.fakeapi.model import FakeClaude, populate_demo
from claude_backup.fakeapi.server import FakeClaudeServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m claude_backup.fakeapi", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--session-key", default="sk-ant-sid01-fake-demo-key")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args(argv)

    model = FakeClaude(seed=args.seed)
    populate_demo(model, args.session_key, chats=args.chats)
    server = FakeClaudeServer(model, latency=args.latency)
    server.start(port=args.port)
    print(f"base_url: {server.base_url}", flush=True)
    print(f"session_key: {args.session_key}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly when killed
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
