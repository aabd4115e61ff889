"""Running many coroutines at once: the first failure cancels the rest and is raised (what
Python 3.11's TaskGroup does, for 3.10 too), and a set of tasks started one at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


async def gather_or_cancel(coroutines: Sequence[Any]) -> list[Any]:
    """Run all; on the first error, cancel the rest and raise it (a Python 3.10 TaskGroup)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def pool(items: Iterable[T], work: Callable[[T], Awaitable[None]], workers: int) -> None:
    """Run `work` on every item, `workers` at a time; the first error cancels the rest."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            await work(queue.get_nowait())

    await gather_or_cancel([worker() for _ in range(max(1, min(workers, queue.qsize())))])


class Tasks:
    """Tasks started one at a time and awaited together. The first failure is kept (a
    `raise_failure` call raises it while more work is still being started) and `wait` raises
    it; `cancel` stops whatever still runs."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Future[Any]] = set()
        self._failure: BaseException | None = None

    def add(self, work: Awaitable[T]) -> asyncio.Future[T]:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None and self._failure is None:
            self._failure = task.exception()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def wait(self) -> None:
        """Until every task, including those added meanwhile, is done."""
        while True:
            self.raise_failure()
            if not self._pending:
                return
            await asyncio.wait(set(self._pending), return_when=asyncio.FIRST_EXCEPTION)

    async def cancel(self) -> None:
        pending = list(self._pending)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
