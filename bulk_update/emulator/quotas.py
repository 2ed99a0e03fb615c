"""The account's request quotas: a token bucket per kind of call, and rolling 24 h counts.

Reads (Get, List) and writes (Create, Update) have their own bucket and their
own daily count.  A call that finds its bucket empty, or its 24 h count spent,
is answered ThrottlingException and costs nothing.  The clock is injectable
(seconds, monotonic) so tests can step time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
DAY = 24 * 3600.0

WRITE_OPERATIONS = frozenset({"CreateOpportunity", "UpdateOpportunity"})


def kind_of(operation: str) -> str:
    return "write" if operation in WRITE_OPERATIONS else "read"


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; starts full."""

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()

    def take(self, at: float | None = None) -> bool:
        """Take a token for a call that arrived ``at`` (default: now)."""
        now = self.clock() if at is None else at
        elapsed = max(0.0, now - self.stamp)
        self.stamp = max(self.stamp, now)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RollingCount:
    """At most ``limit`` events in any window of ``window`` seconds."""

    def __init__(self, limit: int, clock: Clock, window: float = DAY) -> None:
        self.limit = limit
        self.clock = clock
        self.window = window
        self.events: deque[float] = deque()

    def take(self) -> bool:
        now = self.clock()
        events = self.events
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True


@dataclass
class QuotaSettings:
    write_rate: float = 1.0
    read_rate: float = 10.0
    write_burst: float = 1.0
    read_burst: float = 10.0
    daily_writes: int = 10_000
    daily_reads: int = 100_000


class Quotas:
    """Admits or throttles each call, thread-safe."""

    def __init__(self, settings: QuotaSettings, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.apply(settings)

    def apply(self, settings: QuotaSettings) -> None:
        """Take new settings; buckets start full, 24 h counts start empty."""
        with self._lock:
            self.settings = settings
            self.buckets = {
                "write": TokenBucket(settings.write_rate, settings.write_burst, self.clock),
                "read": TokenBucket(settings.read_rate, settings.read_burst, self.clock),
            }
            self.daily = {
                "write": RollingCount(settings.daily_writes, self.clock),
                "read": RollingCount(settings.daily_reads, self.clock),
            }

    def admit(self, operation: str, at: float | None = None) -> str | None:
        """None when the call may go on, else why it is throttled.

        ``at`` is when the call arrived (default: now).
        """
        kind = kind_of(operation)
        with self._lock:
            if not self.buckets[kind].take(at):
                return f"Rate exceeded for {kind} operations"
            if not self.daily[kind].take():
                return f"Daily quota exceeded for {kind} operations"
        return None
