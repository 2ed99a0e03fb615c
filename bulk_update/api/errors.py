"""What an error from a Partner Central call means for a row.

The named exceptions :mod:`bulk_update.api.client` raises (all :class:`CallError`),
the error codes and botocore exception groups its retry loop tells apart, and
:func:`classify` / :func:`param_validation`, which turn an error answer that
retrying will not fix into one of those exceptions.

Exception messages name operations, identifiers, field names and error codes,
never the values of a payload or of a record.
"""

from __future__ import annotations

import re
from typing import Any, NotRequired, TypedDict, Unpack

import botocore.exceptions as bce

from bulk_update import errors

THROTTLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
DENIED_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidClientTokenId",
    }
)
# Raised before or while connecting: the request never reached the service.
NOT_SENT = (bce.ConnectionError,)  # EndpointConnectionError, ConnectTimeoutError, SSL, proxy
# Raised after the request went out: the service may have acted on it.
MAYBE_SENT = (bce.HTTPClientError,)  # ReadTimeoutError, ConnectionClosedError, ...
# A call whose attempts all ended on one of these found nobody at the endpoint.
UNREACHABLE = (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ConnectionClosedError)
CREDENTIAL_ERRORS = (
    bce.NoCredentialsError,
    bce.PartialCredentialsError,
    bce.CredentialRetrievalError,
    bce.TokenRetrievalError,
    bce.SSOError,
)


class Where(TypedDict):
    """Which call failed, on which opportunity: what every :class:`CallError` carries."""

    operation: str
    identifier: NotRequired[str | None]


class CallError(Exception):
    """A Partner Central call that did not succeed."""

    def __init__(self, message: str, **where: Unpack[Where]) -> None:
        super().__init__(message)
        self.operation = where["operation"]
        self.identifier = where.get("identifier")


class NotFound(CallError):
    """No opportunity with this identifier in this catalog."""


class Conflict(CallError):
    """The record changed since the LastModifiedDate the write carried."""


class Validation(CallError):
    """The service refused the request's values; ``field_errors`` says where."""

    def __init__(
        self, reason: str, field_errors: list[tuple[str, str, str]], **where: Unpack[Where]
    ) -> None:
        names = ", ".join(dict.fromkeys(f for f, _, _ in field_errors)) or "no field named"
        super().__init__(f"{where['operation']} refused the request ({reason}): {names}", **where)
        self.reason = reason
        self.field_errors = field_errors
        """(FieldName, Code, Message) for each problem; the messages may quote values."""


class AccessDeniedError(CallError, errors.AccessDenied):
    """The credentials may not make this call; the run stops."""


class CallFailed(CallError):
    """A call still failed after its retries (server errors, network, long throttling)."""

    def __init__(
        self, kind: str, last_exception: BaseException, attempts: int = 0, **where: Unpack[Where]
    ) -> None:
        what = describe(last_exception)
        told = f"{where['operation']} failed after {attempts} attempt(s): {kind} ({what})"
        super().__init__(told, **where)
        self.kind = kind
        self.last_exception = last_exception
        self.attempts = attempts


class Unreachable(CallFailed, errors.EndpointUnreachable):
    """Nothing answered at the endpoint, after the call's retries: the run stops."""


def failed(
    kind: str, exc: BaseException, *, operation: str, identifier: str | None, attempts: int
) -> CallFailed:
    """The error for a call whose retries are spent: :class:`Unreachable` when its last
    attempt found no one at the endpoint (refused, connect timeout, connection closed)."""
    cls = Unreachable if isinstance(exc, UNREACHABLE) else CallFailed
    return cls(kind, exc, operation=operation, identifier=identifier, attempts=attempts)


class WriteUncertain(CallError):
    """A write went out but its answer never came: it may have landed; read before deciding."""

    def __init__(self, last_exception: BaseException, **where: Unpack[Where]) -> None:
        what = describe(last_exception)
        super().__init__(
            f"{where['operation']} got no answer ({what}); the write may have landed", **where
        )
        self.last_exception = last_exception


def describe(exc: BaseException) -> str:
    """An error code or exception class name: never a message that could quote values."""
    if isinstance(exc, bce.ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def code_and_status(e: bce.ClientError) -> tuple[str, int]:
    code = str(e.response.get("Error", {}).get("Code") or "")
    status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code, status


def classify(e: bce.ClientError, code: str, operation: str, identifier: str | None) -> CallError:
    """The named exception for an error answer that retrying will not fix."""
    where = f" {identifier}" if identifier else ""
    if code == "ResourceNotFoundException":
        return NotFound(
            f"{operation}: no opportunity{where} in this catalog",
            operation=operation,
            identifier=identifier,
        )
    if code == "ConflictException":
        return Conflict(
            f"{operation}: opportunity{where} changed since it was read",
            operation=operation,
            identifier=identifier,
        )
    if code == "ValidationException":
        reason = str(e.response.get("Reason") or e.response.get("Error", {}).get("Reason") or "")
        items: list[Any] = list(e.response.get("ErrorList") or [])  # type: ignore[call-overload]
        field_errors = [
            (str(i.get("FieldName", "")), str(i.get("Code", "")), str(i.get("Message", "")))
            for i in items
            if isinstance(i, dict)
        ]
        return Validation(
            reason or "VALIDATION_FAILED", field_errors, operation=operation, identifier=identifier
        )
    if code in DENIED_CODES:
        return AccessDeniedError(
            f"access denied to {operation} ({code}): check the credentials' Partner Central permissions",
            operation=operation,
            identifier=identifier,
        )
    return CallFailed(
        code or "client error", e, operation=operation, identifier=identifier, attempts=1
    )


_PARAM_LINE = re.compile(r"parameter(?: in)? ([\w.\[\]]+)(?:: \"?(\w+)\"?)?")


def param_validation(
    e: bce.ParamValidationError, operation: str, identifier: str | None
) -> Validation:
    """botocore's own check of the request shape, without the values it quotes."""
    report = str(e.kwargs.get("report", ""))
    field_errors: list[tuple[str, str, str]] = []
    for line in report.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _PARAM_LINE.search(line)
        name = ""
        if m:
            name = m.group(1) if not m.group(2) else f"{m.group(1)}.{m.group(2)}"
            name = name.removeprefix("input.").removeprefix("input")
        problem = line.split(",", 1)[0].split(":", 1)[0]
        field_errors.append((name, "PARAM_VALIDATION", problem))
    return Validation(
        "PARAM_VALIDATION_FAILED", field_errors, operation=operation, identifier=identifier
    )
