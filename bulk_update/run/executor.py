"""Carrying the plan out: a small pool of workers, paced writes, a journal.

Each worker takes the next row, reads its live record (within the read
quota), decides it (:func:`bulk_update.decide.decide`) and, when the row
changes something, writes it (within the write quota).  Several workers let
the reads of the next rows overlap the paced writes, so a run takes about
``writes / write-rate`` seconds.  Every write is journalled before it is sent
and after it is answered, so an interrupted run can be resumed without
sending any row twice.

Some answers stop the whole run, since no later row would get through: access
denied, a run folder that cannot be written, and an endpoint nobody answers
at (``api.Unreachable``, after the client's retries).  Rows not started then
end ``skipped`` with one line saying why and how to go on; a write that was on
the wire stays in flight in the journal, for the resume to settle.

A row may ask for other calls beside its update (its plan,
:mod:`bulk_update.calls`: associations, the assignment, the submission):
they go in order once the update (if any) landed, each paced and counted
against ``--max-writes`` and the daily quota of its own operation, each
journalled before and after.  A call Partner Central refuses ends the row
``invalid``, no later call of it sent; a call whose answer was lost is
settled by reading the record.  Each write operation has its own gate, so
an assigning and updating run keeps both quota lanes busy.

What a row means is its decider's (:mod:`bulk_update.run.deciders`); its end
is built in :mod:`bulk_update.run.ends`; after each successful write the
record is read back (:mod:`bulk_update.run.readback`) on a small pool of its
own, so the read overlaps the next write and the run takes no longer (a row
with calls is read back at once: that read also gives the version it ends on).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.api.pacing import UPDATE
from bulk_update.decide import Decision, OnConflict
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome, RowEnd
from bulk_update.run.deciders import Decider, MergeDecider
from bulk_update.run.ends import (
    changed,
    field_problems,
    from_decision,
    resumed_end,
)
from bulk_update.run.folder import RunFolder
from bulk_update.run.ledger import Ledger
from bulk_update.run.readback import VERIFIERS, then, verified
from bulk_update.run.sends import Sends, Stopped
from bulk_update.run.settle import settled_end

log = logging.getLogger(__name__)

RowOutcome = RowEnd
"""How one row ended (the name the executor's callers know; one record, :class:`RowEnd`)."""


@dataclass
class Options:
    dry_run: bool = False
    on_conflict: OnConflict = "skip"
    max_writes: int | None = None
    workers: int = 8
    conflict_retries: int = 3
    today: date | None = None
    ledger: Ledger | None = None
    """The account's rolling 24-hour write count (daily quota), when kept."""
    verify: bool = True
    """Read each written record back and warn about fields it did not keep."""


@dataclass
class _Pass:
    """One :meth:`Executor.run`: its queue, the decisions carried in, the ends so far."""

    todo: queue.Queue[RowEdit]
    decided: Mapping[int, Decision]
    results: dict[int, RowOutcome] = field(default_factory=dict)
    verifier: ThreadPoolExecutor | None = None


class Executor:
    """Runs rows through read, decide and write; thread-safe, stoppable.

    What each row means is the ``decider``'s (apply's merge by default,
    rollback's restore); the executor owns the pool, the pacing of writes, the
    journal, the settling of ambiguous writes and the read-back.
    """

    def __init__(
        self,
        pc: pcc.PartnerCentral,
        options: Options,
        folder: RunFolder | None = None,
        on_row: Callable[[RowOutcome], None] | None = None,
        baselines: Mapping[int, Mapping[str, str]] | None = None,
        decider: Decider | None = None,
    ) -> None:
        self.pc = pc
        self.decider: Decider = decider or MergeDecider(pc, options, baselines)
        self.options = options
        self.folder = folder
        self.on_row = on_row
        self.on_start: Callable[[int, bool], None] | None = None
        """Told (rows to process, dry run) when :meth:`run` starts: for progress bars."""
        self.resume_command: str | None = None
        """The command that finishes this run after a stop (default: apply's resume of
        its folder; rollback's is running it again)."""
        self.stop = threading.Event()
        self.abandoned = threading.Event()
        self.stop_reason = ""
        self._lock = threading.Lock()
        self.sends = Sends(pc, options, folder, self.stop, self.halt)
        """The gates, the budget and the journal of every write (:mod:`bulk_update.run.sends`)."""
        self.sends.stop_reason = lambda: self.stop_reason
        self.resumed: set[int] = self.sends.resumed
        """Rows an interrupted run left part-done (its update landed, or a call was sent):
        decided again from a fresh read with the version question settled, their end
        says part was done before (:func:`bulk_update.run.ends.resumed_end`)."""
        self.decisions: dict[int, Decision] = {}
        """In a dry run, each row's decision (kept so a confirmed run need not read again)."""
        self._written: dict[int, Decision] = {}
        """Rows written and not yet read back, with what was sent."""

    # -- the pool -------------------------------------------------------------

    def run(
        self,
        edits: Iterable[RowEdit],
        decided: Mapping[int, Decision] | None = None,
    ) -> dict[int, RowOutcome]:
        """Process every row; rows not reached when the run stops end ``skipped``."""
        rows = list(edits)
        todo: queue.Queue[RowEdit] = queue.Queue()
        for e in rows:
            todo.put(e)
        if self.on_start is not None:
            self.on_start(len(rows), self.options.dry_run)
        pass_ = _Pass(todo, decided or {})
        if self.options.verify and not self.options.dry_run and rows:
            pass_.verifier = ThreadPoolExecutor(VERIFIERS, thread_name_prefix="verify")
        threads = [
            threading.Thread(target=self._work, args=(pass_,), name=f"row-worker-{i}", daemon=True)
            for i in range(max(1, min(self.options.workers, len(rows))))
        ]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive() and not self.abandoned.is_set():
                t.join(0.1)
        if pass_.verifier is not None:
            pass_.verifier.shutdown(wait=not self.abandoned.is_set())
        with self._lock:
            results = dict(pass_.results)
        with self.sends.lock:
            on_wire = set(self.sends.intents)
        for e in rows:
            if e.row not in results:
                results[e.row] = self._not_reached(e, e.row in on_wire)
        return results

    def _not_reached(self, edit: RowEdit, sent: bool) -> RowOutcome:
        reason = self.stop_reason or "not reached"
        if sent:  # abandoned while its write was on the wire: the journal holds its intent
            reason = f"{reason}; its write was on the wire: resume the run to settle it"
        return RowOutcome(edit.row, edit.identifier, Outcome.SKIPPED, reason)

    def _work(self, pass_: _Pass) -> None:
        """One worker: take rows until none is left or the run stops; never raises."""
        try:
            self._take_rows(pass_)
        except BaseException:  # noqa: BLE001 - e.g. the interpreter ending under an abandoned run
            log.debug("a row worker ended on an error", exc_info=True)

    def _take_rows(self, pass_: _Pass) -> None:
        while not self.stop.is_set():
            try:
                edit = pass_.todo.get_nowait()
            except queue.Empty:
                return
            outcome = self._row(edit, pass_.decided.get(edit.row))
            with self._lock:
                sent = self._written.pop(edit.row, None)
            if pass_.verifier is None or sent is None or outcome.outcome is not Outcome.UPDATED:
                self._finish(pass_, outcome)
                continue
            future = pass_.verifier.submit(verified, self.pc, outcome, sent)
            future.add_done_callback(then(lambda o: self._finish(pass_, o), outcome))

    def _finish(self, pass_: _Pass, outcome: RowOutcome) -> None:
        """A row's end: kept, and told to the observer (whose failure must not kill a worker)."""
        with self._lock:
            pass_.results[outcome.row] = outcome
        if self.on_row:
            try:
                self.on_row(outcome)
            except Exception:
                log.debug("on_row failed for row %s", outcome.row, exc_info=True)

    @property
    def writes_sent(self) -> int:
        """Writes this run sent, one per send of a row's update or call: a throttled attempt
        that the client sent again is the same write (the Summary's "writes")."""
        with self.sends.lock:
            return self.sends.sent

    def abandon(self, reason: str) -> None:
        """Stop waiting for the writes on the wire too (a second Ctrl-C): :meth:`run`
        returns at once, those rows ``skipped`` and left in flight for a resume."""
        self.halt(reason)
        self.abandoned.set()

    def halt(self, reason: str) -> None:
        """Take no new rows; writes in flight finish."""
        if not self.stop.is_set():
            self.stop_reason = reason
            self.stop.set()

    # -- one row --------------------------------------------------------------

    def _row(self, edit: RowEdit, decision: Decision | None) -> RowOutcome:
        """One row, start to end; never raises (a worker must not die on a row)."""
        try:
            outcome = self._carry_out(edit, decision)
        except pcc.NotFound:
            outcome = RowOutcome(
                edit.row,
                edit.identifier,
                Outcome.NOT_FOUND,
                f"no opportunity {edit.identifier} in catalog {self.pc.catalog}",
            )
        except pcc.Unreachable:
            stopped = self.unreachable()
            self.halt(stopped)  # like access denied: no other row would get through
            outcome = RowOutcome(edit.row, edit.identifier, Outcome.SKIPPED, stopped)
        except pcc.AccessDeniedError as exc:
            self.halt("the run stopped: access denied")
            outcome = RowOutcome(edit.row, edit.identifier, Outcome.FAILED, str(exc))
        except pcc.CallError as exc:
            outcome = RowOutcome(edit.row, edit.identifier, Outcome.FAILED, str(exc))
        except OSError as exc:
            self.halt(self.storage_failed(exc))
            outcome = RowOutcome(
                edit.row, edit.identifier, Outcome.SKIPPED, "not written: " + self.stop_reason
            )
        except Exception as exc:  # a bug must end the row, not the worker
            outcome = RowOutcome(
                edit.row,
                edit.identifier,
                Outcome.FAILED,
                f"unexpected error ({type(exc).__name__}: {exc}); the row was not finished",
            )
        return self.final(outcome)

    def storage_failed(self, exc: OSError) -> str:
        """One line: what could not be written, why, and how to go on."""
        where = exc.filename or (self.folder.path if self.folder else "the run folder")
        reason = exc.strerror or str(exc)
        resume = f"; free space, then {self._go_on()}" if self.folder is not None else ""
        return f"the run stopped taking rows: cannot write {where}: {reason}{resume}"

    def unreachable(self) -> str:
        """One line: nothing answers at the endpoint, the run stopped, how to go on."""
        url = getattr(getattr(getattr(self.pc, "client", None), "meta", None), "endpoint_url", "")
        return (
            f"cannot reach {url or 'the endpoint'}: the run stopped; start the service or "
            f"check the network, then {self._go_on()}"
        )

    def _go_on(self) -> str:
        command = self.resume_command
        if command is None and self.folder is not None:
            command = f"bulk-update apply --resume {self.folder.path} --catalog {self.pc.catalog}"
        return f"resume with `{command}`" if command else "run it again"

    def _carry_out(self, edit: RowEdit, decision: Decision | None) -> RowOutcome:
        if decision is None:
            decision = self.decide(edit)
        if decision.outcome is not None:
            end = from_decision(decision)
        elif self.options.dry_run:
            with self._lock:
                self.decisions[edit.row] = decision
            end = changed(decision, Outcome.WOULD_UPDATE, "would change")
        else:
            end = self._write(decision)
        return resumed_end(end, decision) if edit.row in self.resumed else end

    def decide(self, edit: RowEdit) -> Decision:
        """Decide the row with the run's decider (reads the live record; raises NotFound).

        A row the interrupted run left part-done is decided on a fresh read with the
        version question settled (its own writes moved the version): so what landed
        is not planned again."""
        if edit.row in self.resumed:
            return self.redecide(edit, self.pc.get(edit.identifier))
        return self.decider.decide(edit)

    def redecide(self, edit: RowEdit, live: Mapping[str, Any]) -> Decision:
        """Decide again after a fresh read, the version question already settled."""
        return self.decider.redecide(edit, live)

    def final(self, outcome: RowOutcome) -> RowOutcome:
        """Journal how the row ended (``done`` after a write was sent, else ``outcome``).

        A row whose write may have landed and could not be settled (the read
        failed too) is left in flight in the journal: a resume settles it.
        A journal that cannot be written stops the run; the row keeps its end.
        """
        if self.folder is None or self.options.dry_run:
            return outcome
        sends = self.sends
        with sends.lock:
            unsettled = outcome.row in sends.uncertain
            unfinished = outcome.row in sends.unfinished
            sent = outcome.row in sends.intents or outcome.row in sends.resumed
        if unfinished:
            return outcome  # stopped part-way: its message says so; the resume goes on
        if unsettled:
            return replace(
                outcome,
                message=f"{outcome.message}; the write may have landed: resume the run to "
                "settle this row",
            )
        try:
            if sent:
                self.folder.journal.done(
                    outcome.row,
                    outcome.identifier,
                    outcome.outcome.value,
                    outcome.new_version,
                    outcome.message,
                    outcome.problems,
                )
            else:
                self.folder.journal.outcome(
                    outcome.row,
                    outcome.identifier,
                    outcome.outcome.value,
                    outcome.message,
                    outcome.problems,
                )
        except OSError as exc:
            self.halt(self.storage_failed(exc))
        return outcome

    def _write(self, d: Decision) -> RowOutcome:
        """The row's update (if it has one), then its calls in order."""
        landed = False
        if d.payload is not None:
            end, d = self._update(d)
            if end is not None and (end.outcome is not Outcome.UPDATED or not d.calls):
                return end
            landed = end is not None  # None: a fresh read holds the update already
        return self.sends.calls(d, landed)

    def _update(self, d: Decision) -> tuple[RowOutcome | None, Decision]:
        """Send the update, retrying conflicts; (its end, the decision last sent), or
        (None, the fresh decision) when a fresh read needs no update any more."""
        edit = d.edit
        for _attempt in range(self.options.conflict_retries + 1):
            if d.payload is None:
                return None, d
            assert d.live is not None
            sent_version = d.payload["LastModifiedDate"]
            try:
                answer = self._send(d)
            except pcc.Unreachable:
                self.sends.mark(self.sends.uncertain, edit.row)  # in flight: resume settles
                raise
            except (pcc.Conflict, pcc.WriteUncertain, pcc.CallFailed) as exc:
                self.sends.mark(self.sends.uncertain, edit.row)
                nxt = self._settled(d, sent_version, exc)  # if this read fails, it stays uncertain
                self.sends.mark(self.sends.uncertain, edit.row, on=False)
                if isinstance(nxt, RowOutcome):
                    return nxt, d
                d = nxt
                continue
            except Stopped:
                return RowOutcome(
                    edit.row, edit.identifier, Outcome.SKIPPED, self.stop_reason, d.changes
                ), d
            except pcc.Validation as exc:
                return RowOutcome(
                    edit.row,
                    edit.identifier,
                    Outcome.INVALID,
                    "Partner Central refused the update: " + str(exc),
                    d.changes,
                    problems=field_problems(d, exc) + list(d.problems),
                ), d
            if not d.calls:
                with self._lock:
                    self._written[edit.row] = d
            return changed(d, Outcome.UPDATED, "updated", answer.get("LastModifiedDate")), d
        return RowOutcome(
            edit.row,
            edit.identifier,
            Outcome.CONFLICT,
            "the record kept changing while the tool tried to write it; run the row again",
            d.changes,
        ), d

    def _send(self, d: Decision) -> dict[str, Any]:
        """Send one write, once the gate lets it: raises :class:`Stopped` if the run
        stopped meanwhile (nothing sent, nothing journalled).

        The gate lets only ``WRITERS`` writes wait for their token or be on the
        wire at once, and the stop flag is checked again after it is passed: so
        a Ctrl-C stops the rows still queued for a write at once, not after
        every worker's write has gone out.
        """
        assert d.payload is not None
        with self.sends.gates[UPDATE]:
            if self.stop.is_set() or not self.sends.reserve():
                raise Stopped
            self.sends.update_intent(d)
            return self.pc.update(d.payload)

    def _settled(self, d: Decision, sent_version: Any, exc: pcc.CallError) -> Decision | RowOutcome:
        """A write answered by a conflict or not at all: its end once the record is read
        (:func:`settled_end`), or, when it may be sent again, the row decided afresh."""
        end, live = settled_end(self.pc, d, sent_version, exc)
        if end is not None:
            return end
        again = self.redecide(d.edit, live)
        return again if again.outcome is None else from_decision(again)
