"""Time helpers, in one place: the API's timestamps (ISO 8601, UTC, milliseconds),
version comparison, the run-folder stamp and the workbook's "when" and duration text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def as_utc(value: Any) -> datetime | None:
    """A LastModifiedDate from boto3 (datetime) or JSON (ISO text) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def same_version(a: Any, b: Any) -> bool:
    """Equal LastModifiedDates, compared to the millisecond as the API keeps them."""
    x, y = as_utc(a), as_utc(b)
    if x is None or y is None:
        return x is y
    return abs((x - y).total_seconds()) < 0.001


def iso_or_none(value: Any) -> str | None:
    """A timestamp as the API writes it (UTC, milliseconds, ``Z``), None for none."""
    dt = as_utc(value)
    return None if dt is None else dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso(value: Any) -> str:
    """As :func:`iso_or_none`, with ``""`` for none."""
    return iso_or_none(value) or ""


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp with ``Z`` or an offset, as an aware UTC datetime.

    Raises ValueError for text that is not such a timestamp (naive times included:
    the API's times are UTC and an export always says so).
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return value.astimezone(UTC)


def format_timestamp(value: datetime | str) -> str:
    """A timestamp as an export writes it: UTC, milliseconds, ``Z`` (2026-05-01T20:37:46.123Z).

    Accepts an aware datetime (as boto3 gives), a naive one (taken as UTC) or ISO text.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_or_none(value: Any) -> datetime | None:
    """A time read back from a journal: a datetime, ISO text, or None when it is neither."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def instant(value: datetime | date) -> datetime:
    """A filter's date or datetime as an aware UTC datetime (a date is its midnight UTC)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """A moment as a file-name stamp (20260501T203746Z)."""
    return f"{moment:{STAMP_FORMAT}}"


def now_stamp() -> str:
    """The current UTC time as a file-name stamp."""
    return stamp(datetime.now(UTC))


def when_text(moment: datetime) -> str:
    """A moment as the workbook shows it (2026-05-01 20:37:46+00:00)."""
    return moment.isoformat(sep=" ", timespec="seconds")


def minute_text(moment: datetime) -> str:
    """A moment to the minute, for messages (2026-05-01 20:37 UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def duration_text(seconds: float) -> str:
    """A duration in words a person reads (1 h 02 min 03 s, 4 min 05 s, 3.2 s)."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{seconds:.1f} s"
