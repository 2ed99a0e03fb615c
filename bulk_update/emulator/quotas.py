"""The account's request quotas: a token bucket per lane, and rolling 24 h counts.

The quota page lists each write operation (CreateOpportunity,
UpdateOpportunity, AssociateOpportunity, DisassociateOpportunity,
AssignOpportunity) with its own "1 per second; 10,000 per 24 hours": so each
write operation is its own lane, with its own bucket and its own daily count,
and a client that assigns while it updates may use both lanes at once.
SubmitOpportunity is not on that page; the emulator gives it a write lane of
its own too.  The reads (Get, List, Search, ListSolutions) share one lane.

A lane's rate is ``write_rate`` (or ``read_rate``) unless ``operation_rates``
names the operation; ``write_burst`` and ``daily_writes`` apply to each write
lane.  A call that finds its bucket empty, or its 24 h count spent, is
answered ThrottlingException and costs nothing.  The clock is injectable
(seconds, monotonic) so tests can step time instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
DAY = 24 * 3600.0

WRITE_OPERATIONS = frozenset(
    {
        "CreateOpportunity",
        "UpdateOpportunity",
        "AssignOpportunity",
        "AssociateOpportunity",
        "DisassociateOpportunity",
        "SubmitOpportunity",
    }
)
READ_LANE = "read"


def lane_of(operation: str) -> str:
    """The lane a call is counted in: its own name for a write, ``read`` otherwise."""
    return operation if operation in WRITE_OPERATIONS else READ_LANE


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


@dataclass(kw_only=True)
class QuotaSettings:
    """The account's quotas: the write lanes' settings, then the read lane's."""

    write_rate: float = 1.0
    """Calls per second of each write lane (the service's 1)."""
    write_burst: float = 1.0
    """Tokens each write lane may save up (1: no burst, as the service)."""
    daily_writes: int = 10_000
    """Calls per rolling 24 h of each write lane."""
    operation_rates: dict[str, float] = field(default_factory=dict)
    """Per-operation rates that replace ``write_rate`` (or ``read_rate``) for that lane."""
    read_rate: float = 10.0
    """Calls per second of the read lane."""
    read_burst: float = 10.0
    """Tokens the read lane may save up."""
    daily_reads: int = 100_000
    """Calls per rolling 24 h of the read lane."""

    def lane(self, lane: str) -> tuple[float, float, int]:
        """The rate, burst and daily count of one lane."""
        if lane == READ_LANE:
            rate, burst, daily = self.read_rate, self.read_burst, self.daily_reads
        else:
            rate, burst, daily = self.write_rate, self.write_burst, self.daily_writes
        return self.operation_rates.get(lane, rate), burst, daily


class Quotas:
    """Admits or throttles each call, thread-safe."""

    def __init__(self, settings: QuotaSettings, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.apply(settings)

    def apply(self, settings: QuotaSettings) -> None:
        """Take new settings; buckets start full, 24 h counts start empty."""
        unknown = set(settings.operation_rates) - WRITE_OPERATIONS - {READ_LANE}
        if unknown:
            raise ValueError(f"no quota lane for {sorted(unknown)}")
        with self._lock:
            self.settings = settings
            self.buckets: dict[str, TokenBucket] = {}
            self.daily: dict[str, RollingCount] = {}
            for lane in (*sorted(WRITE_OPERATIONS), READ_LANE):
                rate, burst, daily = settings.lane(lane)
                self.buckets[lane] = TokenBucket(rate, burst, self.clock)
                self.daily[lane] = RollingCount(daily, self.clock)

    def admit(self, operation: str, at: float | None = None) -> str | None:
        """None when the call may go on, else why it is throttled.

        ``at`` is when the call arrived (default: now).
        """
        lane = lane_of(operation)
        what = "read operations" if lane == READ_LANE else lane
        with self._lock:
            if not self.buckets[lane].take(at):
                return f"Rate exceeded for {what}"
            if not self.daily[lane].take():
                return f"Daily quota exceeded for {what}"
        return None
