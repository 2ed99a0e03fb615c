"""What a run's calls cost: requests sent, retries, throttles, faults, writes per operation."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Stats:
    """What the calls cost, safe to update from several threads.

    ``calls`` counts every request sent, first attempts and retries alike;
    ``reads`` and ``writes`` split them by quota, and :meth:`per_operation`
    splits the writes by operation (each its own quota lane).  ``retries``
    counts the requests that repeated an earlier one (after a throttle or a
    fault).
    """

    calls: int = 0
    reads: int = 0
    writes: int = 0
    throttled: int = 0
    retries: int = 0
    faults: int = 0
    uncertain: int = 0
    _writes_of: Counter[str] = field(default_factory=Counter, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def sent(self, operation: str, *, write: bool, retry: bool) -> None:
        """Count one request that left: a read, or a write of ``operation``."""
        with self._lock:
            self.calls += 1
            self.retries += int(retry)
            if write:
                self.writes += 1
                self._writes_of[operation] += 1
            else:
                self.reads += 1

    def per_operation(self) -> dict[str, int]:
        """The write requests sent, by operation (those sent at least once)."""
        with self._lock:
            return dict(sorted(self._writes_of.items()))

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "calls": self.calls,
                "reads": self.reads,
                "writes": self.writes,
                "throttled": self.throttled,
                "retries": self.retries,
                "faults": self.faults,
                "uncertain": self.uncertain,
            }
