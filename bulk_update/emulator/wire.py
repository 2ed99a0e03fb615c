"""What travels on the wire: timestamps, error answers and JSON bytes.

Partner Central speaks AWS JSON 1.0.  Timestamps travel as ISO 8601 strings
with milliseconds (``2026-05-01T20:37:46.123Z``), because the model's
``DateTime`` shape says ``timestampFormat: iso8601``.  Inside the emulator an
instant is an integer count of milliseconds since the epoch, so comparing two
versions of a record is exact at the precision AWS keeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AWSPartnerCentralSelling."

REQUEST_VALIDATION_FAILED = "REQUEST_VALIDATION_FAILED"
BUSINESS_VALIDATION_FAILED = "BUSINESS_VALIDATION_FAILED"


def to_iso(ms: int) -> str:
    """``1777667866123`` -> ``2026-05-01T20:37:46.123Z``."""
    seconds, millis = divmod(ms, 1000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"


def parse_instant(value: Any) -> int:
    """An ISO 8601 string (any precision) or epoch seconds, as milliseconds.

    Raises ValueError for anything else.  Sub-millisecond digits are dropped,
    never rounded, so a value that went out as ``.123`` comes back as ``.123``.
    """
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        return int(value * 1000)
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    whole = int(stamp.replace(microsecond=0).timestamp())
    return whole * 1000 + stamp.microsecond // 1000


def now_ms() -> int:
    """The wall clock in milliseconds (the default clock for timestamps)."""
    return int(datetime.now(UTC).timestamp() * 1000)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes, the way AWS answers."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class FieldError(NamedTuple):
    """One item of a ValidationException's ``ErrorList``."""

    field: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"FieldName": self.field, "Code": self.code, "Message": self.message}


@dataclass
class ApiError(Exception):
    """An error answer: HTTP status, the exception's name and its members."""

    status: int
    type: str
    message: str
    members: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"

    def body(self) -> bytes:
        return dumps({"__type": self.type, "Message": self.message, **self.members})


def validation_error(reason: str, errors: list[FieldError], message: str = "") -> ApiError:
    """A ValidationException with its ``Reason`` and ``ErrorList``."""
    if not message:
        first = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        message = f"{reason}: {first}{more}"
    return ApiError(
        400,
        "ValidationException",
        message,
        {"Reason": reason, "ErrorList": [e.as_json() for e in errors]},
    )


def conflict(message: str) -> ApiError:
    return ApiError(409, "ConflictException", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "ResourceNotFoundException", message)


def access_denied(message: str) -> ApiError:
    return ApiError(403, "AccessDeniedException", message)


def throttled(message: str) -> ApiError:
    return ApiError(400, "ThrottlingException", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalServerException", message)


def unknown_operation(name: str) -> ApiError:
    return ApiError(400, "UnknownOperationException", f"Unknown operation {name}")
