"""Calls to Partner Central: pacing, retries and what each error means for a row.

:func:`bulk_update.api.boto.make_boto_client` builds the boto3 client with
botocore's own retries turned off, so that :class:`PartnerCentral` alone decides
when a call is sent again, and counts every attempt (:class:`Stats`).

Every attempt first takes a token from the limiter of its quota lane: one for
every read, one for each write operation (:mod:`bulk_update.api.pacing`).
Then, by what came back:

- ``ThrottlingException``: that lane's limiter slows down (the other lanes keep
  their pace) and the same call is sent again.  Throttling never uses up the
  attempt budget; only a long stretch of it (``throttle_budget`` seconds, or
  ``max_throttles`` answers) fails the call.
- ``InternalServerException`` / HTTP 5xx, or a connection that could not be
  made: full-jitter exponential backoff, up to ``max_attempts``, then
  :class:`CallFailed`.  A connection refused (or timed out) ``max_unreached``
  times in a row gives up at once as :class:`Unreachable`: nobody is at the
  endpoint, and the engine stops the run in seconds.
- The answer to an UpdateOpportunity lost after the request went out (read
  timeout, connection closed): the write may have landed, so it is never sent
  again here; :class:`WriteUncertain` tells the engine to settle the row by
  reading the record.
- Everything else becomes a small named exception: :class:`NotFound`,
  :class:`Conflict`, :class:`Validation`, :class:`AccessDeniedError`
  (defined in :mod:`bulk_update.api.errors`, and importable from here).

Exception messages and log lines name operations, identifiers, field names and
error codes, never the values of a payload or of a record.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import botocore.exceptions as bce
from botocore.awsrequest import AWSRequest

from bulk_update import errors
from bulk_update.api.boto import NO_CREDENTIALS, make_boto_client, unreachable_message
from bulk_update.api.drift import LiveRecord, unknown_members
from bulk_update.api.errors import (
    CREDENTIAL_ERRORS,
    MAYBE_SENT,
    NOT_SENT,
    THROTTLE_CODES,
    UNREACHABLE,
    CallFailed,
    WriteUncertain,
    classify,
    code_and_status,
    describe,
    failed,
    param_validation,
)
from bulk_update.api.errors import AccessDeniedError as AccessDeniedError
from bulk_update.api.errors import CallError as CallError
from bulk_update.api.errors import Conflict as Conflict
from bulk_update.api.errors import NotFound as NotFound
from bulk_update.api.errors import Unreachable as Unreachable
from bulk_update.api.errors import Validation as Validation
from bulk_update.api.pacing import UPDATE, TokenBucket, check_operations, write_lanes
from bulk_update.api.pacing import WRITES as WRITES
from bulk_update.api.pacing import default_write_margin as default_write_margin
from bulk_update.api.stats import Stats
from bulk_update.fields import REGION

log = logging.getLogger(__name__)

PAGE_SIZE = 100
IDS_PER_LIST = 20


# -- the calls -------------------------------------------------------------------------


class PartnerCentral:
    """The calls the tool makes, paced by their quota lanes, retried, and classified.

    One instance is shared by all worker threads.  ``read_limiter`` paces every
    read; ``write_limiter`` is UpdateOpportunity's lane; ``write_lanes`` may
    give any other write operation its own bucket, and one it does not name
    gets a :meth:`TokenBucket.twin` of ``write_limiter``: a lane of its own at
    the same pace.  :attr:`write_lanes` holds every write operation's bucket.

    Pacing is measured where it counts, at the moment the request leaves: the
    token is reserved before botocore builds and signs the request, most of the
    wait is spent then, and the last ``send_lead`` seconds of it in botocore's
    ``before-send`` hook, where :meth:`TokenBucket.on_wire` also holds back a
    request that would follow a late one too closely: the time botocore takes
    to prepare a call (longer for the first) never bunches two sends together.
    """

    def __init__(
        self,
        boto_client: Any,
        catalog: str,
        *,
        read_limiter: TokenBucket,
        write_limiter: TokenBucket,
        write_lanes: Mapping[str, TokenBucket] | None = None,
        max_attempts: int = 8,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        sleep: Callable[[float], object] = time.sleep,
        rng: random.Random | None = None,
        throttle_budget: float = 900.0,
        max_throttles: int = 2000,
        clock: Callable[[], float] = time.monotonic,
        send_lead: float = 0.05,
        throttle_factor: float = 0.8,
        max_unreached: int = 3,
    ) -> None:
        self.client = boto_client
        self.catalog = catalog
        self.read_limiter = read_limiter
        self.write_limiter = write_limiter
        self.write_lanes = _lanes(write_limiter, write_lanes or {})
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_unreached = max_unreached
        """Attempts in a row that find nobody at the endpoint (refused, connect
        timeout) before the call gives up: a dead endpoint stops a run in seconds
        instead of spending the whole retry budget on it."""
        self.throttle_budget = throttle_budget
        self.max_throttles = max_throttles
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self._clock = clock
        self.stats = Stats()
        self.send_lead = send_lead
        self.throttle_factor = throttle_factor
        """How much a ThrottlingException cuts the rate (recovered on successes)."""
        self._slot = threading.local()
        service = boto_client.meta.service_model.service_id.hyphenize()
        boto_client.meta.events.register(
            f"before-send.{service}",
            self._wait_for_slot,
            unique_id=f"bulk-update-pacing-{id(self)}",
        )
        boto_client.meta.events.register(
            f"after-call.{service}.GetOpportunity",
            self._see_raw_answer,
            unique_id=f"bulk-update-drift-{id(self)}",
        )

    def check_reachable(self) -> None:
        """Make sure something answers at the endpoint, before the first call.

        One plain HTTPS/HTTP request through botocore's own connection pool
        (its proxies and timeouts), not an API call: no quota, not counted in
        :attr:`stats`.  Any answer, even an error page, will do.  Raises
        :class:`bulk_update.errors.EndpointUnreachable` at once when the
        connection cannot be made (refused, unknown host, connect timeout),
        instead of a run whose every row spends its retries on it.
        """
        url = str(self.client.meta.endpoint_url)
        endpoint = getattr(self.client, "_endpoint", None)
        session = getattr(endpoint, "http_session", None)
        if session is None:  # not a botocore client as we know it: the calls will tell
            return
        try:
            session.send(AWSRequest(method="GET", url=url).prepare())
        except NOT_SENT:
            raise errors.EndpointUnreachable(unreachable_message(url)) from None
        except MAYBE_SENT:  # it accepted the connection: something is there
            return

    # -- operations --------------------------------------------------------------

    def get(self, identifier: str) -> LiveRecord:
        """The whole record (GetOpportunity), without ResponseMetadata.

        Its ``unknown`` lists the member paths the answer held that the
        installed model does not know (botocore's parser dropped them): see
        :mod:`bulk_update.api.drift`.
        """
        self._slot.unknown = ()
        try:
            record = self._call(
                "GetOpportunity", identifier, Catalog=self.catalog, Identifier=identifier
            )
            live = LiveRecord(record)
            live.unknown = tuple(self._slot.unknown)
        finally:
            self._slot.unknown = ()
        return live

    def pages(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """ListOpportunities pages for these filters, following NextToken."""
        params: dict[str, Any] = {"MaxResults": PAGE_SIZE, **filters, "Catalog": self.catalog}
        while True:
            page = self._call("ListOpportunities", None, **params)
            yield page
            token = page.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    def list_summaries(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every opportunity summary the filters select, page after page."""
        for page in self.pages(**filters):
            yield from page.get("OpportunitySummaries") or []

    def search_summaries(self, **params: Any) -> Iterator[dict[str, Any]]:
        """SearchOpportunities summaries (read quota), page after page through NextToken."""
        params = {"MaxResults": PAGE_SIZE, **params, "Catalog": self.catalog}
        while True:
            page = self._call("SearchOpportunities", None, **params)
            yield from page.get("OpportunitySearchSummaries") or []
            if not page.get("NextToken"):
                return
            params["NextToken"] = page["NextToken"]

    def update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one UpdateOpportunity (the whole record: Identifier, LastModifiedDate, fields).

        Returns ``Id`` and the new ``LastModifiedDate``.  Raises
        :class:`WriteUncertain` when the answer was lost after sending.
        """
        if payload.get("Catalog", self.catalog) != self.catalog:
            raise ValueError("the payload names another catalog than this client's")
        return self._call(UPDATE, payload.get("Identifier"), **{**payload, "Catalog": self.catalog})

    def send_call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Send one of a row's other write calls (AssignOpportunity, AssociateOpportunity,
        DisassociateOpportunity, SubmitOpportunity: :mod:`bulk_update.calls`), paced as a
        write.  Raises :class:`WriteUncertain` when the answer was lost after sending."""
        if operation not in WRITES:
            raise ValueError(f"{operation} is not a write this client sends")
        identifier = params.get("Identifier") or params.get("OpportunityIdentifier")
        return self._call(operation, identifier, **{**params, "Catalog": self.catalog})

    # -- the retry loop ----------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2^(attempt-1), capped."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        with self._rng_lock:
            return self._rng.uniform(0, ceiling)

    def lane(self, operation: str) -> TokenBucket:
        """The bucket that paces ``operation``: its own for a write, the reads' otherwise."""
        return self.write_lanes.get(operation, self.read_limiter)

    def _call(self, operation: str, identifier: str | None, **params: Any) -> dict[str, Any]:
        is_write = operation in WRITES
        limiter = self.lane(operation)
        method = getattr(self.client, _snake(operation))
        started = self._clock()
        failures = 0  # attempts that count against max_attempts
        unreached = 0  # attempts in a row that found nobody at the endpoint
        throttles = 0
        sent = 0
        while True:
            slot = limiter.reserve_at()
            limiter.wait_until(slot - self.send_lead)
            self.stats.sent(operation, write=is_write, retry=sent > 0)
            sent += 1
            try:
                response = self._send(method, params, limiter, slot)
            except bce.ClientError as e:
                code, status = code_and_status(e)
                if code in THROTTLE_CODES or status == 429:
                    throttles += 1
                    self.stats.add(throttled=1)
                    limiter.slow_down(self.throttle_factor)
                    log.debug("%s %s throttled (%d)", operation, identifier or "", throttles)
                    if (
                        throttles >= self.max_throttles
                        or self._clock() - started > self.throttle_budget
                    ):
                        raise CallFailed(
                            "throttled for too long",
                            e,
                            operation=operation,
                            identifier=identifier,
                            attempts=sent,
                        ) from e
                    continue
                if code == "InternalServerException" or status >= 500:
                    self.stats.add(faults=1)
                    if is_write and status == 504:  # a gateway gave up waiting: it may have landed
                        self.stats.add(uncertain=1)
                        raise WriteUncertain(e, operation=operation, identifier=identifier) from e
                    failures += 1
                    self._retry_or_fail("server error", e, operation, identifier, failures, sent)
                    continue
                raise classify(e, code, operation, identifier) from e
            except NOT_SENT as e:
                self.stats.add(faults=1)
                failures += 1
                unreached = unreached + 1 if isinstance(e, UNREACHABLE) else 0
                give_up = unreached >= self.max_unreached
                self._retry_or_fail("network", e, operation, identifier, failures, sent, give_up)
                continue
            except MAYBE_SENT as e:
                self.stats.add(faults=1)
                if is_write:
                    self.stats.add(uncertain=1)
                    log.debug("%s %s: no answer after sending", operation, identifier or "")
                    raise WriteUncertain(e, operation=operation, identifier=identifier) from e
                failures += 1
                self._retry_or_fail("network", e, operation, identifier, failures, sent)
                continue
            except CREDENTIAL_ERRORS:
                raise errors.NoCredentials(NO_CREDENTIALS) from None
            except bce.ParamValidationError as e:
                raise param_validation(e, operation, identifier) from None
            limiter.on_success()
            response.pop("ResponseMetadata", None)
            return dict(response)

    def _send(
        self, method: Callable[..., Any], params: dict[str, Any], limiter: TokenBucket, slot: float
    ) -> Any:
        """Make the botocore call, its send held until ``slot`` by the hook below."""
        self._slot.pending = (limiter, slot)
        try:
            return method(**params)
        finally:
            self._slot.pending = None

    def _wait_for_slot(self, **_: Any) -> None:
        """botocore's before-send hook: hold the request until its token's moment."""
        pending = getattr(self._slot, "pending", None)
        if pending is not None:
            self._slot.pending = None
            limiter, slot = pending
            limiter.wait_until(slot)
            limiter.on_wire()

    def _see_raw_answer(self, http_response: Any, model: Any, **_: Any) -> None:
        """botocore's after-call hook: the member paths of the raw JSON the model lacks."""
        found: list[str] = []
        if 200 <= getattr(http_response, "status_code", 0) < 300:
            try:
                raw = json.loads(http_response.content or b"{}")
            except ValueError:
                raw = None
            found = unknown_members(raw, model.output_shape)
        self._slot.unknown = tuple(found)

    def _retry_or_fail(
        self,
        kind: str,
        exc: BaseException,
        operation: str,
        identifier: str | None,
        failures: int,
        sent: int,
        give_up: bool = False,
    ) -> None:
        """Sleep before the next attempt, or raise CallFailed when the budget is spent
        (or ``give_up``: nobody at the endpoint)."""
        if give_up or failures >= self.max_attempts:
            raise failed(
                kind, exc, operation=operation, identifier=identifier, attempts=sent
            ) from exc
        wait = self._backoff(failures)
        log.debug(
            "%s %s: %s (%s), retry in %.2fs",
            operation,
            identifier or "",
            kind,
            describe(exc),
            wait,
        )
        self._sleep(wait)


def _lanes(update: TokenBucket, given: Mapping[str, TokenBucket]) -> dict[str, TokenBucket]:
    """Every write operation's bucket: UpdateOpportunity's, those given, twins for the rest."""
    check_operations(given)
    if given.get(UPDATE, update) is not update:
        raise ValueError("UpdateOpportunity's lane is write_limiter: do not give it twice")
    return {op: update if op == UPDATE else given.get(op) or update.twin() for op in sorted(WRITES)}


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def connect(
    catalog: str,
    *,
    profile: str | None = None,
    endpoint_url: str | None = None,
    region: str = REGION,
    read_rate: float = 10.0,
    write_rate: float = 1.0,
    workers: int = 8,
    operation_rates: Mapping[str, float] | Iterable[tuple[str, float]] = (),
) -> PartnerCentral:
    """A :class:`PartnerCentral` for ``catalog``, paced at the given rates, endpoint checked.

    ``write_rate`` is UpdateOpportunity's; every other write operation has a
    lane of its own at the documented 1 per second, unless ``operation_rates``
    names it (``{"AssignOpportunity": 2}``; it may name UpdateOpportunity too,
    and wins over ``write_rate``).  A name that is not a write operation is a
    ValueError.

    The way in for library users and the CLI alike: the boto3 client from
    :func:`make_boto_client`, a read :class:`TokenBucket` and one per write
    operation (:func:`bulk_update.api.pacing.write_lanes`), and
    :meth:`PartnerCentral.check_reachable` (raises
    :class:`bulk_update.errors.EndpointUnreachable` at once when nothing
    answers, :class:`bulk_update.errors.NoCredentials` without credentials).
    """
    lanes = write_lanes(write_rate, dict(operation_rates))
    boto = make_boto_client(
        profile=profile, endpoint_url=endpoint_url, region=region, max_pool=max(16, workers * 2)
    )
    pc = PartnerCentral(
        boto,
        catalog,
        read_limiter=TokenBucket(read_rate, burst=max(1.0, read_rate)),
        write_limiter=lanes.pop(UPDATE),
        write_lanes=lanes,
    )
    pc.check_reachable()
    return pc
