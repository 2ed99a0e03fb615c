"""A token bucket that paces calls to one Partner Central quota.

One bucket per quota (reads, writes) is shared by every worker thread.  Tokens
accrue continuously at ``rate`` per second up to ``burst``.  A caller that finds
no token takes a reservation: the bucket goes into debt and the caller sleeps
until the moment its token will have accrued.  Reservations are handed out in
the order callers reach the lock, so waiting threads are served first come,
first served, and each sleeps once for exactly its own wait (no polling).

With ``burst=1`` the k-th token is never handed out earlier than
``(k - 1) / rate`` seconds after the first, which is what "1 write per second"
means to the service.

A reservation says when a call may start, but the service counts when the
request arrives.  A caller that prepares its request after the reservation (the
client does: botocore builds and signs it) can be late for its slot, and a late
request followed by one on time would arrive closer together than the quota
allows.  :meth:`TokenBucket.on_wire`, called the moment a request leaves, keeps
a second count of the sends themselves and holds a send back until the quota
allows it.  ``margin`` adds a few milliseconds to every interval, for the
jitter between leaving here and arriving there.

After a ``ThrottlingException`` the caller calls :meth:`TokenBucket.slow_down`:
the rate drops by a factor and the bucket is emptied, so the next call waits a
full interval.  Each success (:meth:`TokenBucket.on_success`) then adds a step
back, until the configured rate is reached again.

The clock and the sleep function are injected, so tests can drive time.

Lanes.  Partner Central's quota page lists each write operation
(UpdateOpportunity, AssignOpportunity, AssociateOpportunity,
DisassociateOpportunity, ...) with its own "1 per second; 10,000 per 24
hours", and the reads together at 10 per second.  So the client paces each
write operation with a bucket of its own (:func:`write_lanes`), and every read
with one shared bucket: a run that assigns while it updates uses both lanes at
once, and a throttle slows only the lane that was throttled.
SubmitOpportunity is not on that page; it gets a lane of its own at the same
documented write rate, 1 per second.  Quotas can be raised (Service Quotas),
so each lane's rate is a setting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping

from bulk_update.calls import OPERATIONS

UPDATE = "UpdateOpportunity"
WRITES = frozenset({UPDATE, *OPERATIONS})
"""The write operations the tool sends (the update and a row's other calls,
:data:`bulk_update.calls.OPERATIONS`): each paced in a lane of its own."""
DOCUMENTED_WRITE_RATE = 1.0
"""Calls per second of each write operation's quota, unless the account's was raised."""


class TokenBucket:
    """Paces callers to ``rate`` tokens per second with at most ``burst`` in hand.

    ``recovery`` is the share of the configured rate that each success adds back
    after a slow-down (0.1: five successes from half speed to full speed).
    ``margin`` is extra seconds added to each interval (``1/rate + margin``).
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        *,
        recovery: float = 0.1,
        margin: float = 0.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if margin < 0:
            raise ValueError("margin must not be negative")
        self._configured = float(rate)
        self._rate = float(rate)
        self._burst = float(burst)
        self._margin = float(margin)
        self._clock = clock
        self._sleep = sleep
        self._recovery = recovery
        self._lock = threading.Lock()
        now = clock()
        self._tokens = self._wire = float(burst)
        self._stamp = self._wire_stamp = now
        self._quiet_until = float("-inf")

    @property
    def rate(self) -> float:
        """The rate in force now (below the configured one after a slow-down)."""
        with self._lock:
            return self._rate

    @property
    def configured_rate(self) -> float:
        """The rate the bucket was made with, which recovery climbs back to."""
        return self._configured

    @property
    def burst(self) -> float:
        return self._burst

    def _pace(self) -> float:
        """Tokens per second actually handed out: the rate, less the margin."""
        return 1.0 / (1.0 / self._rate + self._margin)

    def _refill(self, now: float) -> None:
        """Add the tokens accrued since the last look, to both counts (caller holds the lock)."""
        pace = self._pace()
        if now > self._stamp:
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * pace)
            self._stamp = now
        if now > self._wire_stamp:
            self._wire = min(self._burst, self._wire + (now - self._wire_stamp) * pace)
            self._wire_stamp = now

    def _reserve(self, n: float) -> tuple[float, float]:
        """Take ``n`` tokens, in debt if need be: (now, seconds until they are ours)."""
        if n <= 0:
            raise ValueError("n must be positive")
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= n
            return now, max(0.0, -self._tokens / self._pace())

    def reserve(self, n: float = 1.0) -> float:
        """Take ``n`` tokens now, in debt if need be; return how long to wait before using them."""
        return self._reserve(n)[1]

    def reserve_at(self, n: float = 1.0) -> float:
        """Take ``n`` tokens now, in debt if need be; return the clock time they may be used at.

        For a caller that prepares its call while it waits, then calls
        :meth:`wait_until` with this time, and :meth:`on_wire` as the call leaves.
        """
        now, wait = self._reserve(n)
        return now + wait

    def wait_until(self, deadline: float) -> None:
        """Sleep until the clock reaches ``deadline``: one sleep, another only if it woke early."""
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return
            self._sleep(remaining)

    def acquire(self, n: float = 1.0) -> float:
        """Block until ``n`` tokens are ours; return the seconds spent waiting."""
        start, wait = self._reserve(n)
        if wait <= 0:
            return 0.0
        self.wait_until(start + wait)
        return self._clock() - start

    def try_acquire(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if they are in hand now; never wait."""
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= n:
                self._tokens -= n
                return True
            return False

    def on_wire(self, n: float = 1.0) -> float:
        """Call as a reserved request leaves: hold it while sends would come too close.

        Usually returns 0 at once; it waits only when an earlier request left
        late for its slot.  Returns the seconds waited.
        """
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._wire -= n
            wait = max(0.0, -self._wire / self._pace())
        if wait > 0:
            self.wait_until(now + wait)
        return wait

    def slow_down(self, factor: float = 0.5, min_rate: float | None = None) -> float:
        """Cut the rate after a throttle and empty the bucket; return the new rate.

        Several calls in flight are often throttled together; a second slow-down
        within one interval of the first is taken as the same event and ignored.
        ``min_rate`` defaults to a sixteenth of the configured rate.
        """
        if not 0 < factor < 1:
            raise ValueError("factor must be between 0 and 1")
        floor = self._configured / 16 if min_rate is None else min(min_rate, self._configured)
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now >= self._quiet_until:
                self._rate = max(floor, self._rate * factor)
                self._quiet_until = now + 1.0 / self._rate
            self._tokens = min(self._tokens, 0.0)
            self._wire = min(self._wire, 0.0)
            return self._rate

    def on_success(self) -> float:
        """Step the rate back toward the configured one after a call went through."""
        with self._lock:
            if self._rate < self._configured:
                self._refill(self._clock())
                self._rate = min(self._configured, self._rate + self._configured * self._recovery)
            return self._rate

    def twin(self) -> TokenBucket:
        """A new, full bucket made like this one (rate, burst, margin, clock): another lane."""
        return TokenBucket(
            self._configured,
            self._burst,
            self._clock,
            self._sleep,
            recovery=self._recovery,
            margin=self._margin,
        )

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate:g}/{self._configured:g}, burst={self._burst:g})"


def default_write_margin(rate: float) -> float:
    """Seconds added to each write interval so that jitter rarely lands a write early.

    A strict service bucket (burst 1) refuses a write that arrives even a
    millisecond before its turn, and requests travel with some jitter.  The
    margin is 2% of the interval, at least 2 ms and at most 20 ms: 20 ms at the
    real quota of 1 write per second, 2 ms at 20 per second.  The throttles it
    does not prevent are retried (see PartnerCentral).
    """
    return min(0.02, max(0.002, 0.02 / rate))


def write_bucket(rate: float) -> TokenBucket:
    """One write lane at ``rate``: burst 1, as strict as the service, with the default margin."""
    return TokenBucket(rate, burst=1.0, margin=default_write_margin(rate))


def check_operations(names: Iterable[str]) -> None:
    """Raise ValueError, in plain words, for a name that is not one of :data:`WRITES`."""
    unknown = sorted(set(names) - WRITES)
    if unknown:
        raise ValueError(
            f"no write lane for {', '.join(unknown)}: the write operations are "
            f"{', '.join(sorted(WRITES))}"
        )


def write_lanes(
    write_rate: float = DOCUMENTED_WRITE_RATE, operation_rates: Mapping[str, float] | None = None
) -> dict[str, TokenBucket]:
    """A bucket per write operation: UpdateOpportunity at ``write_rate``, the others at
    the documented 1 per second, unless ``operation_rates`` names them (it wins over
    ``write_rate`` for UpdateOpportunity too)."""
    rates = dict(operation_rates or {})
    check_operations(rates)
    base = {op: DOCUMENTED_WRITE_RATE for op in WRITES} | {UPDATE: write_rate}
    return {op: write_bucket(rate) for op, rate in sorted((base | rates).items())}
