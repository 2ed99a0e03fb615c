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

After a ``ThrottlingException`` the caller calls :meth:`TokenBucket.slow_down`:
the rate drops by a factor and the bucket is emptied, so the next call waits a
full interval.  Each success (:meth:`TokenBucket.on_success`) then adds a small
step back, until the configured rate is reached again.

The clock and the sleep function are injected, so tests can drive time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Paces callers to ``rate`` tokens per second with at most ``burst`` in hand.

    ``recovery`` is the share of the configured rate that each success adds back
    after a slow-down (0.05: twenty successes from zero to full speed).
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        *,
        recovery: float = 0.05,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self._configured = float(rate)
        self._rate = float(rate)
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._recovery = recovery
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()
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

    def _refill(self, now: float) -> None:
        """Add the tokens accrued since the last look (caller holds the lock)."""
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
            self._stamp = now

    def reserve(self, n: float = 1.0) -> float:
        """Take ``n`` tokens now, in debt if need be; return how long to wait before using them."""
        return self._reserve(n)[1]

    def _reserve(self, n: float) -> tuple[float, float]:
        if n <= 0:
            raise ValueError("n must be positive")
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= n
            if self._tokens >= 0:
                return now, 0.0
            return now, -self._tokens / self._rate

    def acquire(self, n: float = 1.0) -> float:
        """Block until ``n`` tokens are ours; return the seconds spent waiting."""
        start, wait = self._reserve(n)
        if wait <= 0:
            return 0.0
        deadline = start + wait
        # One sleep for the whole wait; the loop only covers a sleep that woke early.
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            self._sleep(remaining)
        return self._clock() - start

    def try_acquire(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if they are in hand now; never wait."""
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= n:
                self._tokens -= n
                return True
            return False

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
            return self._rate

    def on_success(self) -> float:
        """Step the rate back toward the configured one after a call went through."""
        with self._lock:
            if self._rate < self._configured:
                self._refill(self._clock())
                self._rate = min(self._configured, self._rate + self._configured * self._recovery)
            return self._rate

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate:g}/{self._configured:g}, burst={self._burst:g})"
