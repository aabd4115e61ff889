from datetime import datetime, timezone

import pytest

from claude_backup.retry import RETRY_AFTER_CAP, parse_retry_after, retry_delay, wait_generator


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [(0, 0.0, 1.0), (0, 1.0, 1.0), (1, 1.0, 2.0), (3, 1.0, 8.0), (10, 1.0, 60.0), (10, 0.0, 1.0)],
)
def test_exponential_with_jitter_between_bounds(attempt: int, rand: float, expected: float) -> None:
    assert retry_delay(attempt, min_delay=1, max_delay=60, rand=rand) == expected


def test_retry_after_is_a_floor_with_a_cap() -> None:
    assert retry_delay(0, min_delay=1, max_delay=60, retry_after=30, rand=0) == 30
    assert retry_delay(5, min_delay=1, max_delay=60, retry_after=2, rand=1) == 32
    assert retry_delay(0, min_delay=1, max_delay=60, retry_after=1e9) == RETRY_AFTER_CAP


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7", now) == 7
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:30 GMT", now) == 30
    assert parse_retry_after("Mon, 23 Nov 2026 11:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_wait_generator_reads_retry_after_from_the_exception() -> None:
    class Exc(Exception):
        retry_after = 12.0

    gen = wait_generator(1, 60, rand=lambda: 0.0)()
    gen.send(None)
    assert gen.send(RuntimeError()) == 1.0
    assert gen.send(Exc()) == 12.0
