"""How long to wait before trying a request again. Pure, so it can be tested without sleeping."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

RETRY_AFTER_CAP = 900.0  # a server asking for more than 15 minutes gets 15 minutes


def retry_delay(
    attempt: int,
    *,
    min_delay: float,
    max_delay: float,
    retry_after: float | None = None,
    rand: float = 0.5,
) -> float:
    """Exponential backoff with full jitter between `min_delay` and `min_delay * 2**attempt`
    (capped at `max_delay`); a server's Retry-After is a floor."""
    ceiling = max(min_delay, min(max_delay, min_delay * 2.0**attempt))
    delay = min_delay + (ceiling - min_delay) * rand
    if retry_after is not None:
        delay = max(delay, min(retry_after, RETRY_AFTER_CAP))
    return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date. None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def wait_generator(
    min_delay: float, max_delay: float, rand: Callable[[], float] = random.random
) -> Callable[[], Generator[float | None, BaseException | None, None]]:
    """A `backoff` wait generator: backoff sends it each exception; we read its retry_after."""

    def generate() -> Generator[float | None, BaseException | None, None]:
        exc = yield None
        attempt = 0
        while True:
            retry_after = getattr(exc, "retry_after", None)
            exc = yield retry_delay(
                attempt,
                min_delay=min_delay,
                max_delay=max_delay,
                retry_after=retry_after,
                rand=rand(),
            )
            attempt += 1

    return generate
