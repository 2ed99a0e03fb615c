"""A row's end, built from its decision: the one place its record and message are made.

The executor ends a row from what its decider said (:func:`from_decision`),
from a write that changed fields or would have (:func:`changed`, which tells
the row's warnings in its message), from a write Partner Central refused
(:func:`field_problems`), and adds the read-back's warnings (:func:`warned`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.decide import Decision, column_for
from bulk_update.problems import Outcome, Problem, RowEnd
from bulk_update.times import iso_or_none


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
    """The end of a row that changes fields (``would-update``, ``updated``): ``verb`` and
    the count of its changes, ``how`` it was known, its warnings, and the version written."""
    message = with_warnings(f"{verb} {len(d.changes)} field(s){how}", d.problems)
    return RowEnd(
        d.edit.row,
        d.edit.identifier,
        outcome,
        message,
        d.changes,
        problems=list(d.problems),
        new_version=iso_or_none(version),
    )


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
