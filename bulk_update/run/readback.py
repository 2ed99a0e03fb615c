"""Reading a record back after its write: did Partner Central keep what was sent?

After each successful write (``Options.verify``, on by default) the record is
read again and compared with what was sent: a field Partner Central did not
keep becomes a ``not-kept`` warning on the row, which stays ``updated``; a
record that cannot be read back, or was saved again meanwhile, gets a
``not-verified`` warning.  The executor runs these reads on a small pool of
their own (``VERIFIERS``), so the worker goes on to its next row.

A row with calls (:mod:`bulk_update.calls`) is read back at once by its
worker (:func:`after_calls`): the calls answer no version, so that read gives
the version the row ends on (the journal's, for rollback), and it checks that
the update's fields and each call took (owner, related entities, review
status): a call whose effect the record does not show is a ``not-kept``
warning on its column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.calls import landed
from bulk_update.decide import Decision, column_for
from bulk_update.merge import diff, project
from bulk_update.problems import Outcome, Problem, RowEnd, Severity
from bulk_update.run.ends import call_column, changed, warned
from bulk_update.run.settle import sent_values
from bulk_update.times import iso_or_none, same_version

VERIFIERS = 2
"""Threads that read records back after their writes (reads are paced anyway)."""


def verified(pc: pcc.PartnerCentral, outcome: RowEnd, sent: Decision) -> RowEnd:
    """Read the record back after its write; warn about each field it did not keep.

    Compared: what was sent (the whole update-shaped record) with the
    read-back's update-shaped projection (the fields AWS owns left out).
    A record saved again since the write cannot be compared: a warning too.
    """
    edit = sent.edit
    assert sent.payload is not None
    try:
        back = pc.get(edit.identifier)
    except (pcc.CallError, pcc.NotFound) as exc:
        return _not_verified(
            outcome, f"the record could not be read back to check the write: {exc}"
        )
    if not same_version(back.get("LastModifiedDate"), outcome.new_version):
        return _not_verified(
            outcome,
            "saved again in Partner Central right after this write, so the "
            "read-back cannot be compared with what was sent",
        )
    return warned(outcome, not_kept(sent, back))


def not_kept(sent: Decision, back: Mapping[str, Any]) -> list[Problem]:
    """A warning per sent field the record read back does not hold, and per sent call
    whose effect it does not show."""
    edit = sent.edit
    lost = diff(sent_values(sent.payload), project(back)) if sent.payload is not None else []
    warnings = [
        Problem(
            edit.row,
            edit.identifier,
            column_for(edit, c.column),
            None,
            "not-kept",
            f"{c.column}: Partner Central answered the write as done, but reading the "
            "record back shows another value than the one sent; check it there",
            Severity.WARNING,
        )
        for c in lost
    ]
    for call in sent.calls:
        if not landed(call, back):
            column = call_column(call)
            warnings.append(
                Problem(
                    edit.row,
                    edit.identifier,
                    column,
                    None,
                    "not-kept",
                    f"{column}: Partner Central answered {call.operation} as done, but "
                    "reading the record back does not show it; check it there",
                    Severity.WARNING,
                )  # fmt: skip
            )
    return warnings


def after_calls(pc: pcc.PartnerCentral, d: Decision, *, verify: bool) -> RowEnd:
    """The end of a row whose calls all landed: read it back for the version it ends on
    and (``verify``) check that its fields and calls took."""
    outcome = changed(d, Outcome.UPDATED, "updated")
    try:
        back = pc.get(d.edit.identifier)
    except (pcc.CallError, pcc.NotFound) as exc:
        return _not_verified(
            outcome, f"the record could not be read back to check the write: {exc}"
        )
    outcome = replace(outcome, new_version=iso_or_none(back.get("LastModifiedDate")))
    return warned(outcome, not_kept(d, back)) if verify else outcome


def _not_verified(outcome: RowEnd, why: str) -> RowEnd:
    """The row's end with a ``not-verified`` warning: the write could not be checked."""
    warning = Problem(
        outcome.row, outcome.identifier, None, None, "not-verified", why, Severity.WARNING
    )
    return warned(outcome, [warning])


def then(finish: Callable[[RowEnd], None], fallback: RowEnd) -> Callable[[Future[RowEnd]], None]:
    """A done-callback: finish the row with the verified outcome, or the unverified
    one if the check itself broke (a broken check must not lose the row's end)."""

    def done(future: Future[RowEnd]) -> None:
        try:
            outcome = future.result()
        except Exception:
            outcome = fallback
        finish(outcome)

    return done
