"""A row's end, built from its decision: the one place its record and message are made.

The executor ends a row from what its decider said (:func:`from_decision`),
from a write that changed fields or would have (:func:`changed`, which tells
the row's warnings in its message), from a write Partner Central refused
(:func:`field_problems`), and adds the read-back's warnings (:func:`warned`).
A row's calls end it when one is refused (:func:`call_refused`), fails
(:func:`call_failed`) or the run stops between them (:func:`cut_short`): each
message says which of its writes already landed.  A row an interrupted run
left part-done ends saying so (:func:`resumed_end`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.calls import SUBMIT_PREFIX, Call, is_call_column
from bulk_update.decide import Decision, column_for
from bulk_update.problems import Outcome, Problem, RowEnd
from bulk_update.times import iso_or_none

AGAIN = "running the row again sends only what is still missing"


def from_decision(d: Decision) -> RowEnd:
    """The end of a row its decision ended (unchanged, invalid, conflict, locked...)."""
    return RowEnd(
        d.edit.row,
        d.edit.identifier,
        d.outcome or Outcome.FAILED,
        d.message,
        d.changes,
        problems=d.problems,
    )


def changed(d: Decision, outcome: Outcome, verb: str, version: Any = None, how: str = "") -> RowEnd:
    """The end of a row that changes fields or sends calls (``would-update``, ``updated``):
    ``verb`` and the count of its fields and calls, ``how`` it was known, its warnings,
    and the version written."""
    message = with_warnings(f"{verb} {counted(d)}{how}", d.problems)
    return RowEnd(
        d.edit.row,
        d.edit.identifier,
        outcome,
        message,
        d.changes,
        problems=list(d.problems),
        new_version=iso_or_none(version),
    )


def counted(d: Decision, calls: int | None = None) -> str:
    """``2 field(s)``, ``2 field(s) and 3 call(s)``, ``3 call(s)``: what a row changes
    (``calls``: how many of its calls, when not all of them)."""
    sent = len(d.calls) if calls is None else calls
    fields = len(d.field_changes)
    parts = [f"{fields} field(s)"] if fields or not d.calls else []
    if d.calls:
        parts.append(f"{sent} call(s)")
    return " and ".join(parts)


def with_warnings(message: str, problems: Iterable[Problem]) -> str:
    """A row's message with its warnings appended, one clause each."""
    notes = [f"{p.column}: {p.message}" if p.column else p.message for p in problems]
    return "; ".join([message, *(f"warning: {n}" for n in notes)])


def warned(outcome: RowEnd, warnings: list[Problem]) -> RowEnd:
    if not warnings:
        return outcome
    if all(w.code == "not-kept" for w in warnings):
        names = ", ".join(str(w.column) for w in warnings)
        note = f"warning: Partner Central did not keep {names} as sent (read back after the write)"
    else:
        note = "; ".join(f"warning: {w.message}" for w in warnings)
    return replace(
        outcome,
        message=f"{outcome.message}; {note}",
        problems=[*outcome.problems, *warnings],
    )


def field_problems(d: Decision, exc: pcc.Validation) -> list[Problem]:
    """The problems of a write Partner Central refused, one per field it named."""
    out = []
    for name, code, message in exc.field_errors:
        out.append(
            Problem(
                d.edit.row,
                d.edit.identifier,
                column_for(d.edit, name),
                None,
                f"api-{code}".lower(),
                message,
            )
        )
    return out


def call_column(call: Call) -> str:
    """The sheet column a call comes from (``Assignee.Email``,
    ``RelatedEntityIdentifiers.Solutions``, ``Submit.InvolvementType``)."""
    column = call.change.column
    if " " in column:  # "AssignOpportunity Assignee.Email"
        return column.split(" ", 1)[1]
    member = next((k for k in call.params if k != "Identifier"), "InvolvementType")
    return f"{SUBMIT_PREFIX}.{member}"


def _call_value(call: Call) -> str | None:
    params = call.params
    if "RelatedEntityIdentifier" in params:
        return str(params["RelatedEntityIdentifier"])
    assignee = params.get("Assignee")
    if isinstance(assignee, dict):
        return str(assignee.get("Email") or "") or None
    return None


def landed_so_far(d: Decision, index: int, landed: bool) -> str:
    """Which of the row's writes landed before its call ``index``, in words."""
    done = [f"the update ({len(d.field_changes)} field(s))"] if landed else []
    if index:
        names = ", ".join(c.operation for c in d.calls[:index])
        done.append(f"{index} of its {len(d.calls)} call(s) ({names})")
    if not done:
        return "nothing of this row had been sent before it"
    return " and ".join(done) + " already landed"


def call_refused(d: Decision, index: int, landed: bool, exc: pcc.CallError) -> RowEnd:
    """A call Partner Central refused (a ValidationException, an unknown entity): the
    row ends ``invalid``, the service's message on the call's column."""
    call = d.calls[index]
    column = call_column(call)
    row, ident = d.edit.row, d.edit.identifier
    value = _call_value(call)
    if isinstance(exc, pcc.Validation) and exc.field_errors:
        problems = [
            Problem(row, ident, name if is_call_column(name) else column, value,
                    f"api-{code}".lower(), message or code)
            for name, code, message in exc.field_errors
        ]  # fmt: skip
    else:
        text = (
            "Partner Central does not know this identifier, or it is not associated "
            "with the opportunity (ResourceNotFoundException): check it"
            if isinstance(exc, pcc.NotFound)
            else str(exc)
        )
        problems = [Problem(row, ident, column, value, "api-resource-not-found", text)]
    said = "; ".join(f"{p.column}: {p.message}" for p in problems)
    then = _after(d, index, landed, "fix the cell and run the row again")
    message = f"Partner Central refused {call.operation} ({said}); {then}"
    return RowEnd(row, ident, Outcome.INVALID, message, d.changes, problems=problems)


def _after(d: Decision, index: int, landed: bool, fresh: str = "run the row again") -> str:
    """What landed before call ``index``, what was not sent after it, and how to go on
    (``fresh``: when nothing of the row had landed)."""
    parts = [landed_so_far(d, index, landed)]
    if index < len(d.calls) - 1:
        parts.append("no later call of this row was sent")
    parts.append(AGAIN if index or landed else fresh)
    return "; ".join(parts)


def call_failed(d: Decision, index: int, landed: bool, exc: pcc.CallError) -> RowEnd:
    """A call that failed (and a fresh read shows it did not land): the row ``failed``."""
    call = d.calls[index]
    message = (
        f"{call.operation} failed ({exc}), and a fresh read shows it did not land; "
        f"{_after(d, index, landed)}"
    )
    return RowEnd(d.edit.row, d.edit.identifier, Outcome.FAILED, message, d.changes)


def cut_short(d: Decision, index: int, landed: bool, reason: str) -> RowEnd:
    """The run stopped between two writes of one row: ``skipped``, left in flight."""
    message = (
        f"{reason}; {landed_so_far(d, index, landed)}, the rest of this row was not sent: "
        "resume the run to send it"
    )
    return RowEnd(d.edit.row, d.edit.identifier, Outcome.SKIPPED, message, d.changes)


RESUMED = "updated by the interrupted run (confirmed by reading the record again)"


def resumed_end(end: RowEnd, d: Decision) -> RowEnd:
    """The end of a row the interrupted run left part-done, decided again on a fresh read:
    nothing left to send is ``updated`` by that run; else the message says part was."""
    if end.outcome is Outcome.UNCHANGED:
        version = d.live.get("LastModifiedDate") if d.live is not None else None
        return RowEnd(
            end.row, end.identifier, Outcome.UPDATED, RESUMED, [], problems=end.problems,
            new_version=iso_or_none(version),
        )  # fmt: skip
    if end.outcome in (Outcome.UPDATED, Outcome.WOULD_UPDATE):
        note = "the interrupted run had sent the rest of this row (confirmed by reading the record)"
    else:
        note = "the interrupted run had already sent part of this row"
    return replace(end, message=f"{end.message}; {note}")
