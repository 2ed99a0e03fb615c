"""What a run sends: the write gates, the write budget, and the journal of each write.

The executor (:mod:`bulk_update.run.executor`) decides when a row writes; this
module keeps the bookkeeping every write goes through, whatever its operation:

- one gate per write operation (UpdateOpportunity, AssignOpportunity...): at
  most ``WRITERS`` writes of one operation wait for their token or are on the
  wire at once, so a stop holds the rest back, and writes of different
  operations (their own quota lanes) never wait for each other;
- the budget: each write counted against ``--max-writes`` (all operations
  together) and the daily ledger of its own operation, or the run stops;
- the journal: the before-image kept and an intent written before each write
  (the update's ``intent``, a call's ``call-intent``), the call's ``call-done``
  after; and which rows had a write sent, may have landed unanswered
  (uncertain), or stopped part-way (unfinished): those stay in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bulk_update import calls as plans
from bulk_update.api import client as pcc
from bulk_update.api.pacing import UPDATE
from bulk_update.calls import OPERATIONS, Call
from bulk_update.decide import Decision, digest
from bulk_update.problems import Outcome, RowEnd
from bulk_update.run.ends import call_failed, call_refused, cut_short
from bulk_update.run.folder import RunFolder
from bulk_update.run.journal import LANDED
from bulk_update.run.readback import after_calls
from bulk_update.times import iso_or_none, minute_text

if TYPE_CHECKING:
    from bulk_update.run.executor import Options

WRITERS = 2
"""Writes of one operation waiting for their token or on the wire at once (the rest
wait before the stop check, so a stop holds them back); the quota paces them anyway."""


class Stopped(Exception):
    """The run stopped before this row's write was sent."""


class Sends:
    """The run's writes so far, and the sending of a row's calls; thread-safe."""

    def __init__(
        self,
        pc: pcc.PartnerCentral,
        options: Options,
        folder: RunFolder | None,
        stop: threading.Event,
        halt: Callable[[str], None],
    ) -> None:
        self.pc = pc
        self.options = options
        self.folder = folder
        self.stop = stop
        self.halt = halt
        self.stop_reason: Callable[[], str] = lambda: ""
        """Why the run stopped (the executor's ``stop_reason``, set by it)."""
        self.lock = threading.Lock()
        self.sent = 0
        """Writes sent (updates and calls)."""
        self.gates = {op: threading.BoundedSemaphore(WRITERS) for op in (UPDATE, *OPERATIONS)}
        """One write gate per operation (its own quota lane)."""
        self.intents: set[int] = set()
        """Rows with a write journalled as sent in this run."""
        self.uncertain: set[int] = set()
        """Rows whose write may have landed and is not settled yet."""
        self.unfinished: set[int] = set()
        """Rows stopped after part of their writes landed: left in flight for the resume."""
        self.resumed: set[int] = set()
        """Rows an interrupted run left part-done (see ``Executor.resumed``)."""

    # -- the budget ---------------------------------------------------------------------

    def reserve(self, operation: str = UPDATE) -> bool:
        """Count one write against --max-writes and its operation's daily quota, or stop
        the run."""
        with self.lock:
            limit = self.options.max_writes
            if limit is not None and self.sent >= limit:
                self.halt(f"the run stopped after {limit} writes (--max-writes)")
                return False
            ledger = self.options.ledger
            if ledger is not None:
                if ledger.remaining_for(operation) <= 0:
                    when = minute_text(ledger.fits_at(1, operation))
                    what = "" if operation == UPDATE else f" of {operation}"
                    self.halt(
                        f"the daily write quota{what} ({ledger.limit:,} writes in 24 hours) "
                        f"is used up; the next write fits at {when}: resume the run then"
                    )
                    return False
                ledger.record(operation)
            self.sent += 1
            return True

    def mark(self, kind: set[int], row: int, on: bool = True) -> None:
        """Add a row to (or take it off) one of the sets above."""
        with self.lock:
            (kind.add if on else kind.discard)(row)

    # -- the journal ----------------------------------------------------------------------

    def keep_before(self, d: Decision) -> None:
        """The record just before this row's write, unless an interrupted run's write of
        this row already landed (the image it kept is the one to roll back to)."""
        assert self.folder is not None and d.live is not None
        if d.edit.row in self.resumed and self.folder.load_before(d.edit.identifier) is not None:
            return
        self.folder.save_before(d.edit.identifier, dict(d.live))

    def update_intent(self, d: Decision) -> None:
        """Keep the before-image and journal the intent, both before the update is sent."""
        if self.folder is None:
            return
        assert d.payload is not None and d.live is not None
        self.keep_before(d)
        self.mark(self.intents, d.edit.row)
        self.folder.journal.intent(
            d.edit.row,
            d.edit.identifier,
            iso_or_none(d.payload["LastModifiedDate"]),
            digest(d.payload),
            [str(c) for c in d.changes],
        )

    def call_intent(self, d: Decision, index: int, call: Call) -> None:
        """Keep the before-image (before the row's first write only) and journal the
        call's intent, both before it is sent."""
        if self.folder is None:
            return
        with self.lock:
            first = d.edit.row not in self.intents
            self.intents.add(d.edit.row)
        if first and d.live is not None:
            self.keep_before(d)
        self.folder.journal.call_intent(d.edit.row, d.edit.identifier, index, call.as_json())

    def call_done(
        self, d: Decision, index: int, call: Call, outcome: str = LANDED, message: str = ""
    ) -> None:
        """Journal a call's answer: ``landed``, or how the row ended on it."""
        if self.folder is not None:
            self.folder.journal.call_done(
                d.edit.row, d.edit.identifier, index, call.as_json(), outcome, message
            )

    # -- a row's calls ---------------------------------------------------------------------

    def calls(self, d: Decision, landed: bool) -> RowEnd:
        """Send the row's calls in order (``landed``: its update went first); the row's
        end, read back once they all landed."""
        for index, call in enumerate(d.calls):
            try:
                self.send_call(d, index, call)
            except Stopped:
                if index == 0 and not landed:
                    return RowEnd(
                        d.edit.row,
                        d.edit.identifier,
                        Outcome.SKIPPED,
                        self.stop_reason(),
                        d.changes,
                    )
                self.mark(self.unfinished, d.edit.row)
                return cut_short(d, index, landed, self.stop_reason())
            except (pcc.Validation, pcc.NotFound) as exc:
                end = call_refused(d, index, landed, exc)
                self.call_done(d, index, call, end.outcome.value, end.message)
                return end
            except (pcc.Conflict, pcc.WriteUncertain, pcc.CallFailed) as exc:
                failed = self.settle_call(d, index, call, landed, exc)
                if failed is not None:
                    return failed
            except OSError:  # the journal cannot be written: the run stops (the executor's)
                if index or landed:  # part of the row landed: left in flight for the resume
                    self.mark(self.unfinished, d.edit.row)
                raise
        return after_calls(self.pc, d, verify=self.options.verify)

    def send_call(self, d: Decision, index: int, call: Call) -> None:
        """Send one call of the row's plan through its operation's gate, journalled
        before and after (raises :class:`Stopped`, nothing sent, if the run stopped)."""
        with self.gates[call.operation]:
            if self.stop.is_set() or not self.reserve(call.operation):
                raise Stopped
            self.call_intent(d, index, call)
            try:
                self.pc.send_call(call.operation, call.params)
            except pcc.Unreachable:
                self.mark(self.uncertain, d.edit.row)  # in flight: the resume reads it
                raise
        self.call_done(d, index, call)

    def settle_call(
        self, d: Decision, index: int, call: Call, landed: bool, exc: pcc.CallError
    ) -> RowEnd | None:
        """A call answered by an error that does not say what happened: read the record.
        None when it landed (journalled so), else the row's end (``failed``)."""
        self.mark(self.uncertain, d.edit.row)
        live = self.pc.get(d.edit.identifier)  # if this read fails, the row stays in flight
        self.mark(self.uncertain, d.edit.row, on=False)
        if plans.landed(call, live):
            self.call_done(d, index, call, message="settled by reading the record")
            return None
        end = call_failed(d, index, landed, exc)
        self.call_done(d, index, call, end.outcome.value, end.message)
        return end
