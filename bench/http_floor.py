"""What the HTTP stack alone achieves against a server: GET every chat detail read from stdin
(one `<org uuid> <chat uuid>` per line) with N connections, parse the JSON, nothing else.
Prints the seconds taken. bench_full_sync.py runs it to show how close to the ideal any client
built on httpx gets against the fake server on this machine (the floor under our ratio).

    python bench/http_floor.py BASE_URL CONNECTIONS < chats.txt
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import httpx


async def fetch_all(base_url: str, connections: int, chats: list[tuple[str, str]]) -> float:
    cookies = {"sessionKey": os.environ["CLAUDE_SESSION_KEY"]}
    pending = list(reversed(chats))
    async with httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=60) as client:

        async def worker() -> None:
            while pending:
                org, chat = pending.pop()
                response = await client.get(
                    f"/api/organizations/{org}/chat_conversations/{chat}",
                    params={"tree": "True", "rendering_mode": "messages"},
                )
                response.raise_for_status()
                response.json()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return time.perf_counter() - started


def main() -> None:
    base_url, connections = sys.argv[1], int(sys.argv[2])
    chats = [(org, chat) for org, chat in (line.split() for line in sys.stdin if line.strip())]
    seconds = asyncio.run(fetch_all(base_url, connections, chats))
    print(f"{seconds:.3f}")


if __name__ == "__main__":
    main()
