"""Settling a write whose answer does not say what happened: read the record.

A write may have landed although its answer was lost (a timeout, a connection
closed after sending), was a server error, or was a ``ConflictException`` to
a retry of the tool's own write that the service had already kept.  Before any
retry the record is read again, and one question decides the row:

- still the version the write carried -> the write did not land: it may be
  sent again (it carries the same version, so a late copy is refused);
- a new version that holds what was sent -> it landed: the row is ``updated``
  with the version it has now (journalled, so resume and rollback know it);
- a new version holding other values -> someone else moved the record.

The executor settles a write as it happens (:func:`settled_end`: the row's
end, or a fresh decision to send again); ``apply --resume`` settles the
rows the interrupted run left in flight; rollback uses the executor, so its
writes are settled the same way.

A row's other calls carry no version: whether one landed is read from the
record itself (:func:`bulk_update.calls.landed`: the owner, the related entities, the
review status), and a resumed row is planned again on a fresh read, so what
landed is never planned twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Literal

from bulk_update.api import client as pcc
from bulk_update.decide import Decision
from bulk_update.merge import column_of, diff, holds, leaves, project, values_at
from bulk_update.payload import Path as FieldPath
from bulk_update.payload import RowEdit, Value
from bulk_update.problems import Outcome, RowEnd
from bulk_update.run.ends import RESUMED, changed
from bulk_update.run.journal import RowState
from bulk_update.times import iso_or_none, same_version

FRAME = ("Identifier", "LastModifiedDate", "Catalog")
"""The payload keys that address a write rather than carry its values."""


class Verdict(StrEnum):
    NOT_LANDED = "not-landed"
    LANDED = "landed"
    MOVED = "moved"


@dataclass
class Settled:
    """What a fresh read says about one write."""

    verdict: Verdict
    live: Mapping[str, Any]
    differs: list[str] = field(default_factory=list)
    """For ``moved``: the sent fields the record does not hold now."""

    @property
    def version(self) -> Any:
        return self.live.get("LastModifiedDate")


def sent_values(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The values a write carried (its payload without the addressing keys)."""
    return {k: v for k, v in payload.items() if k not in FRAME}


def settle(
    pc: pcc.PartnerCentral,
    identifier: str,
    sent_version: Any,
    *,
    sent: Mapping[str, Any] | None = None,
    edits: Mapping[FieldPath, Value] | None = None,
) -> Settled:
    """Read the record and say whether the write carrying ``sent_version`` landed.

    ``sent`` is the whole update-shaped payload when known (the executor);
    else ``edits``, the row's own values, are what the record must hold (a
    resume, which journalled only the payload's digest).
    """
    live = pc.get(identifier)
    if sent_version is not None and same_version(live.get("LastModifiedDate"), sent_version):
        return Settled(Verdict.NOT_LANDED, live)
    current = project(live)
    if sent is not None:
        missing = [c.column for c in diff(sent_values(sent), current)]
        if not missing:
            return Settled(Verdict.LANDED, live)
        return Settled(Verdict.MOVED, live, missing)
    if edits is not None and holds(current, edits):
        return Settled(Verdict.LANDED, live)
    return Settled(Verdict.MOVED, live)


def moved_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], paths: set[FieldPath]
) -> list[str]:
    """The columns among ``paths`` whose live value differs between two reads."""
    a = values_at(project(before), _leaf_prefixes(before, after, paths))
    b = values_at(project(after), set(a))
    return sorted({column_of(p) for p in a if a[p] != b[p]})


def _leaf_prefixes(
    before: Mapping[str, Any], after: Mapping[str, Any], paths: set[FieldPath]
) -> set[FieldPath]:
    """Paths plus every live leaf under them (a cleared list item names its members)."""
    out = set(paths)
    for record in (project(before), project(after)):
        for leaf, _ in leaves(record):
            if any(leaf[: len(p)] == p for p in paths):
                out.add(leaf)
    return out


def settled_end(
    pc: pcc.PartnerCentral, d: Decision, sent_version: Any, exc: pcc.CallError
) -> tuple[RowEnd | None, Mapping[str, Any]]:
    """A write answered by a conflict or not at all: read the record, then say it
    landed (``updated``), failed, or met someone else's change (``conflict``); or
    (None, the live record) when it did not land and may be decided and sent again.

    A ConflictException may answer a retry of our own write that the
    service had kept (it failed after its commit): so it is settled too,
    never taken for someone else's change before the record is read.
    """
    edit = d.edit
    assert d.payload is not None and d.live is not None
    conflict = isinstance(exc, pcc.Conflict)
    got = settle(pc, edit.identifier, sent_version, sent=d.payload)
    if got.verdict is Verdict.NOT_LANDED and isinstance(exc, pcc.CallFailed):
        return RowEnd(edit.row, edit.identifier, Outcome.FAILED, str(exc), d.changes), got.live
    if got.verdict is Verdict.LANDED:
        how = "the answer was lost" if not conflict else "the service answered with an error"
        end = changed(
            d, Outcome.UPDATED, "updated", got.version,
            f" ({how}; a fresh read shows the values sent)",
        )  # fmt: skip
        return end, got.live
    if got.verdict is Verdict.MOVED:
        moved = moved_fields(d.live, got.live, set(edit.edits))
        if moved or not conflict:
            named = ", ".join(moved or got.differs) or "other fields"
            end = RowEnd(
                edit.row,
                edit.identifier,
                Outcome.CONFLICT,
                f"someone changed {named} in Partner Central while this run was writing; "
                "the record does not hold what this run sent: check it there",
                d.changes,
            )
            return end, got.live
    # not landed, or moved only in fields the row does not set: merge again, send again
    return None, got.live


# -- apply --resume: the rows the interrupted run left in flight -------------------------

AGAIN: Final = "again"
"""Plan the row again as new: its write did not land."""
RESUME: Final = "resume"
"""Part of the row landed: decide the rest on a fresh read (``Executor.resumed``)."""


def settle_row(
    pc: pcc.PartnerCentral, edit: RowEdit, rs: RowState
) -> RowEnd | Literal["again", "resume"]:
    """A row the interrupted run left in flight: its end, :data:`AGAIN`, or :data:`RESUME`.

    A row that sent a call had its update (if any) landed: it goes on.  A row whose
    update was in flight is settled by reading (:func:`settle_in_flight`); when it
    landed and the row has calls, those go on.
    """
    if rs.calls_sent:
        return RESUME
    settled = settle_in_flight(pc, edit, iso_or_none(rs.last_modified_sent))
    if settled is None:
        return AGAIN
    if settled.outcome is Outcome.UPDATED and edit.calls:
        return RESUME
    return settled


def settle_in_flight(pc: pcc.PartnerCentral, edit: RowEdit, sent: str | None) -> RowEnd | None:
    """A write the last run sent but never saw answered: did it land? (None: plan it again.)"""
    got = settle(pc, edit.identifier, sent, edits=edit.edits)
    if got.verdict is Verdict.NOT_LANDED:
        return None
    if got.verdict is Verdict.LANDED:
        return RowEnd(
            edit.row,
            edit.identifier,
            Outcome.UPDATED,
            RESUMED,
            new_version=iso_or_none(got.version),
        )
    return RowEnd(
        edit.row,
        edit.identifier,
        Outcome.CONFLICT,
        "the interrupted run's write cannot be confirmed: the record now holds "
        "other values; check it in Partner Central",
    )
