"""Injected faults, seeded so that the same seed gives the same outcomes.

One ``random.Random(seed)`` per emulator, and decisions are drawn in the order
calls arrive, each only when its rate is above zero: with one client calling
in sequence, a given seed and settings give the same sequence of outcomes on
every run.

Each setting is described on :class:`FaultSettings`.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass
class FaultSettings:
    """The faults to inject; the write faults apply to every write to one record
    (UpdateOpportunity, AssignOpportunity, Associate- and DisassociateOpportunity,
    SubmitOpportunity)."""

    fault_rate: float = 0.0
    """Share of calls answered InternalServerException (HTTP 500), nothing done."""
    latency: float = 0.0
    """Seconds slept before each call is answered."""
    drop_rate: float = 0.0
    """Share of calls whose connection is closed without an answer, before anything
    happens (the call did not land)."""
    drop_after_write_rate: float = 0.0
    """Share of successful writes that are kept but whose connection is closed without
    an answer (the write landed, the client cannot know)."""
    seller_edit_rate: float = 0.0
    """After a GetOpportunity, the chance that a seller edits that record at once, so
    the client's next write conflicts."""
    fault_seed: int = 0
    """The seed of the one generator all decisions are drawn from."""
    forget_on_write: tuple[str, ...] = ()
    """Dotted paths (``Project.AdditionalComments``) that a successful UpdateOpportunity
    does not keep: answered as done, the stored record lacks them (a server that drops
    a sent field)."""
    error_after_write_rate: float = 0.0
    """Share of successful writes that are kept but answered InternalServerException, as
    a real service may fail after its commit: a client that retries an update gets a
    ConflictException for its own write."""


class Faults:
    """Draws fault decisions from one seeded generator, thread-safe."""

    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self.apply(settings)

    def apply(self, settings: FaultSettings) -> None:
        """Take new settings and restart the generator from the seed."""
        with self._lock:
            self.settings = settings
            self._random = random.Random(settings.fault_seed)

    def _draw(self, rate: float) -> bool:
        if rate <= 0.0:
            return False
        with self._lock:
            return self._random.random() < rate

    def drop(self) -> bool:
        return self._draw(self.settings.drop_rate)

    def fault(self) -> bool:
        return self._draw(self.settings.fault_rate)

    def drop_after_write(self) -> bool:
        return self._draw(self.settings.drop_after_write_rate)

    def error_after_write(self) -> bool:
        return self._draw(self.settings.error_after_write_rate)

    def seller_edit(self) -> bool:
        return self._draw(self.settings.seller_edit_rate)

    def pick(self, count: int) -> int:
        """A seeded choice among ``count`` options (which field a seller edits)."""
        with self._lock:
            return self._random.randrange(count)
