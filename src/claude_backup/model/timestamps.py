"""The API's timestamps (`2026-03-01T10:05:00.123456Z`, or `+00:00`) as instants."""

from __future__ import annotations

from datetime import datetime, timezone


def api_time(value: object) -> datetime | None:
    """`value` as an aware datetime (one without a zone is taken as UTC); None when it is not a
    timestamp string."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
