"""Rollback's decision for one row: its fields and its calls put back, where safe.

:class:`RestoreDecider` decides each row the apply run wrote, from its
before-image (the record just before the run's first write of it) and the
live record.  The fields go back as one update (:mod:`bulk_update.run.rollback`);
the run's calls journalled as landed are undone beside it:

- only the parts the run changed are asked back (:meth:`RunCalls.asked_back`):
  the owner if it assigned one, each related-entity kind it changed;
  :func:`bulk_update.calls.plan` turns them into calls (associate what the run
  removed first, then disassociate what it added, as the last solution needs;
  assign the old owner).  A part the run did not touch is left alone;
- a touched part holding neither what the run left nor what it found was
  changed since (:meth:`RunCalls.moved`): a ``conflict`` naming it, nothing sent;
- the version decides first; where it moved, a row with calls is judged by what
  it holds (calls answer no version, AWS's review moves it, a rollback stopped
  between two calls moves it);
- a submission cannot be undone: a row the run submitted ends ``locked`` while
  its review status takes no change (:func:`submitted_message`), its other
  parts go back once AWS answered, and the rollback counts such rows
  (:func:`submitted_note`);
- a first solution the run gave stays (Partner Central never removes the last
  one), with a warning (``solution-kept``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bulk_update import calls as call_plan
from bulk_update.api import client as pcc
from bulk_update.api import drift
from bulk_update.decide import Decision, decide, refuse_drift
from bulk_update.merge import Leaf, Payload, column_of, diff, leaves, project
from bulk_update.payload import CLEAR, RowEdit, Value
from bulk_update.payload import Path as FieldPath
from bulk_update.problems import Change, Outcome, Problem, Severity
from bulk_update.times import iso, same_version

OWNER = f"{call_plan.ASSIGNEE}.Email"
"""The column a changed owner is named by."""


def _column(kind: str) -> str:
    return f"{call_plan.RELATED}.{kind}"


@dataclass
class RunCalls:
    """The calls an apply run journalled as done for one row, by part."""

    assigned: str | None = None
    """The e-mail of the last owner the run assigned (None: the run assigned none)."""
    added: dict[str, list[str]] = field(default_factory=dict)
    """Per related-entity kind, what the run associated, in order."""
    removed: dict[str, list[str]] = field(default_factory=dict)
    """Per related-entity kind, what the run disassociated, in order."""
    submitted: bool = False
    landed: bool = False
    """Some call of the row landed (each moves the version without answering it), or
    was sent: the row's update, if any, had landed before."""

    @classmethod
    def of(cls, journalled: Iterable[Mapping[str, Any]]) -> RunCalls:
        """From the journal's calls done (each as :meth:`bulk_update.calls.Call.as_json`)."""
        run = cls()
        for call in journalled:
            run.landed = True
            operation = call.get("operation")
            params = call.get("params") or {}
            if operation == call_plan.ASSIGN:
                run.assigned = str((params.get(call_plan.ASSIGNEE) or {}).get("Email") or "")
            elif operation in (call_plan.ASSOCIATE, call_plan.DISASSOCIATE):
                kind = str(params.get("RelatedEntityType"))
                entity = str(params.get("RelatedEntityIdentifier"))
                mine, other = (
                    (run.added, run.removed)
                    if operation == call_plan.ASSOCIATE
                    else (run.removed, run.added)
                )
                if entity in other.get(kind, []):
                    other[kind].remove(entity)  # undone within the run: back as it was
                else:
                    mine.setdefault(kind, []).append(entity)
            elif operation == call_plan.SUBMIT:
                run.submitted = True
        return run

    @property
    def kinds(self) -> list[str]:
        """The related-entity kinds the run changed."""
        return sorted({k for k, v in (*self.added.items(), *self.removed.items()) if v})

    def left(self, before: Mapping[str, Any]) -> dict[str, Any]:
        """What the run left of the parts it changed: the owner's e-mail, each kind's set."""
        out: dict[str, Any] = {}
        if self.assigned is not None:
            out[OWNER] = self.assigned.lower()
        held = call_plan.related_of(before)
        for kind in self.kinds:
            kept = set(held.get(kind, ())) | set(self.added.get(kind, []))
            out[_column(kind)] = kept - set(self.removed.get(kind, []))
        return out

    def moved(self, before: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
        """The columns of the parts the run changed that someone changed since.

        The owner has moved when it is neither the one the run assigned nor the one
        it found (already put back); a kind, when its entities the run did not touch
        are not what they were.  An entity the run associated or disassociated may
        stand either way: a rollback stopped between two calls leaves some back.
        """
        now, was = _parts(live), _parts(before)
        out = []
        for column, left in self.left(before).items():
            if column == OWNER:
                if now[OWNER] not in (left, was[OWNER]):
                    out.append(column)
                continue
            kind = column.split(".", 1)[1]
            touched = set(self.added.get(kind, [])) | set(self.removed.get(kind, []))
            if now.get(column, set()) - touched != was.get(column, set()) - touched:
                out.append(column)
        return out

    def asked_back(self, before: Mapping[str, Any]) -> dict[str, Value]:
        """The before-image's owner and related entities, as asked cells, for the parts
        the run changed only (the rollback's desired state for :func:`bulk_update.calls.plan`)."""
        asked = call_plan.asked_from_record(before)
        wanted = {_column(k) for k in self.kinds}
        out: dict[str, Value] = {}
        for column, value in asked.items():
            if column.startswith(call_plan.ASSIGNEE + "."):
                if self.assigned is not None:
                    out[column] = value
            elif column in wanted:
                out[column] = value
        return out


def _parts(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's owner e-mail and each kind's set, by column (as :meth:`RunCalls.left`)."""
    out: dict[str, Any] = {OWNER: _owner_email(record)}
    out.update({_column(k): set(v) for k, v in call_plan.related_of(record).items()})
    return out


def _owner_email(record: Mapping[str, Any]) -> str:
    owner = call_plan.owner_of(record) or {}
    return str(owner.get("Email") or "").lower()


def in_review(live: Mapping[str, Any]) -> bool:
    """The record takes no call and no update in its review status."""
    return call_plan.review_status(live) in call_plan.REFUSES_ALL


def submitted_message(live: Mapping[str, Any]) -> str:
    """A submitted row's end while its review status takes no change: nothing goes back."""
    status = call_plan.review_status(live)
    then = (
        "is read-only: nothing was put back, and nothing can be"
        if status not in ("Submitted", "In review")
        else "takes no change until AWS finishes its review; nothing was put back: "
        "roll back again once AWS has answered"
    )
    return (
        "the run submitted this opportunity to AWS, and a submission cannot be undone: "
        f"the record is '{status}' and {then}"
    )


SUBMITTED_ALSO = "the run also submitted it to AWS, which cannot be undone"
"""Added to the message of a submitted row with nothing else to put back."""


def submitted_note(count: int) -> str:
    """The rollback's one line on the rows its run submitted."""
    rows = "1 row was" if count == 1 else f"{count} rows were"
    return (
        f"{rows} submitted to AWS by the run: a submission cannot be rolled back, "
        "only their other changes are put back where the review status allows it"
    )


@dataclass
class Target:
    """One row the apply run updated, and what the rollback needs to undo it."""

    row: int
    identifier: str
    version: datetime | None
    """The LastModifiedDate the run's write produced (None if the journal lacks it)."""
    before: dict[str, Any] | None
    """The record just before the run's write (None if its file is missing)."""
    run_changes: list[Any] = field(default_factory=list)
    """The changes the journal's last intent named (text or dicts)."""
    ended: str | None = None
    """For a row the run sent a write for but did not end ``updated``: how it ended."""
    calls: RunCalls = field(default_factory=lambda: RunCalls())
    """The calls the run journalled as landed for this row."""


# -- what to send -----------------------------------------------------------------------


def _text(value: Leaf | None) -> str:
    if value is None:
        return ""
    return "; ".join(value) if isinstance(value, tuple) else value


def restore_edits(before: Payload, current: Payload) -> dict[FieldPath, Value]:
    """Edits that turn ``current`` into ``before`` (both update-shaped projections).

    Every leaf of ``before`` is set, and every leaf that only ``current`` holds
    is cleared, so applying them gives back exactly ``before``.
    """
    wanted = dict(leaves(before))
    edits: dict[FieldPath, Value] = {p: CLEAR for p, _ in leaves(current) if p not in wanted}
    edits.update(wanted)
    return edits


def _same(a: Payload, b: Payload) -> bool:
    return dict(leaves(a)) == dict(leaves(b))


def _change_parts(change: Any, before_text: Mapping[str, str]) -> tuple[str, str | None]:
    """The column and the new value (None if unknown) of a change the journal recorded."""
    if isinstance(change, Mapping):
        return str(change.get("column", "")), str(change.get("new", ""))
    text = str(change)
    column, sep, rest = text.partition(": ")
    if not sep:
        return column, None
    old = before_text.get(column, "") or "(empty)"
    if not rest.startswith(old + " -> "):
        return column, None
    new = rest[len(old) + 4 :]
    return column, "" if new == "(empty)" else new


def changed_since(before: Payload, live: Payload, run_changes: Iterable[Any]) -> list[str]:
    """The columns whose live value differs from what the run left behind.

    What the run left is the before-image with the run's recorded changes
    applied; a change whose new value cannot be read back counts as changed.
    """
    before_text = {column_of(p): _text(v) for p, v in leaves(before)}
    expected = dict(before_text)
    unknown: set[str] = set()
    for change in run_changes:
        column, new = _change_parts(change, before_text)
        if not column:
            continue
        if new is None:
            unknown.add(column)
        else:
            expected[column] = new
    now = {column_of(p): _text(v) for p, v in leaves(live)}
    moved = {c for c in expected.keys() | now.keys() if expected.get(c, "") != now.get(c, "")}
    return sorted(moved | (unknown & (expected.keys() | now.keys())))


# -- the decision -----------------------------------------------------------------------


def field_changes(changes: Iterable[Any]) -> list[Any]:
    """The journalled changes of a row's update, without its calls' (``<operation> ...``)."""
    out = []
    for change in changes:
        column = str(change.get("column", "")) if isinstance(change, Mapping) else str(change)
        if column.split(" ", 1)[0] not in call_plan.ORDER:
            out.append(change)
    return out


class RestoreDecider:
    """Rollback's decision for a row: its before-image, only where the run's changes
    still stand (the version the run left, or for a row with calls what it left)."""

    def __init__(self, pc: pcc.PartnerCentral, plan: Mapping[int, Target], today: date | None):
        self.pc = pc
        self.plan = plan
        self.today = today
        self.versions: dict[int, str] = {}
        """Per row, the live LastModifiedDate at its last read (for the Results sheet)."""
        self._seen_lock = threading.Lock()

    def decide(self, edit: RowEdit) -> Decision:
        return self.redecide(edit, self.pc.get(edit.identifier))

    def redecide(self, edit: RowEdit, live: Mapping[str, Any]) -> Decision:
        target = self.plan[edit.row]
        assert target.before is not None
        with self._seen_lock:
            self.versions[edit.row] = iso(live.get("LastModifiedDate"))
        before = project(target.before)
        current = project(live)
        asked, kept = _asked_back(edit, target, live)
        back = call_plan.plan(edit.row, edit.identifier, asked, live)
        if _same(before, current) and not back.calls and not back.problems:
            return _nothing_back(edit, target, live, kept)
        if target.calls.submitted and in_review(live):
            return _submitted(edit, live, diff(current, before) + [c.change for c in back.calls])
        unknown = drift.unknown_of(live)
        if unknown:
            return refuse_drift(edit, live, unknown, diff(current, before))
        if not _as_run_left(target, live, before, current):
            return self._conflict(edit, target, live, before, current, back.calls)
        edit.edits = restore_edits(before, current)
        edit.columns = {p: column_of(p) for p in edit.edits}
        edit.calls = asked
        decision = decide(edit, live, on_conflict="overwrite", today=self.today)
        decision.problems.extend(kept)
        if decision.outcome is Outcome.UNCHANGED:
            decision.message = "the record already holds its values from before the run"
        return decision

    def _conflict(
        self,
        edit: RowEdit,
        target: Target,
        live: Mapping[str, Any],
        before: Payload,
        current: Payload,
        back: list[call_plan.Call],
    ) -> Decision:
        changes = diff(current, before) + [c.change for c in back]
        now = iso(live.get("LastModifiedDate"))
        if target.ended is not None:
            message = (
                f"the run sent a write for this row but did not see it land (the row ended "
                f"{target.ended}); the record differs from before the run in "
                f"{', '.join(c.column for c in changes)}: not rolled back, check it"
            )
            return Decision(edit, Outcome.CONFLICT, message, changes, live=live)
        if target.version is None and not target.calls.landed:
            message = (
                "the run did not record the version its write produced, so the tool "
                "cannot tell whether someone changed the record since; nothing written"
            )
            return Decision(edit, Outcome.CONFLICT, message, changes, live=live)
        moved = _moved(target, live, before, current)
        when = f"(the run left version {iso(target.version)}, now {now})"
        if moved:
            message = (
                f"changed in Partner Central after the run {when}: {', '.join(moved)}; "
                "nothing written"
            )
        else:
            message = (
                f"saved again in Partner Central after the run {when}, though its "
                "fields still hold what the run wrote; nothing written: check it and "
                "undo by hand if needed"
            )
        problems = [
            Problem(
                edit.row,
                edit.identifier,
                column,
                None,
                "changed-since-run",
                "changed in Partner Central after the run: not rolled back",
            )
            for column in moved
        ]
        return Decision(edit, Outcome.CONFLICT, message, changes, problems, live=live)


def _moved(target: Target, live: Mapping[str, Any], before: Payload, current: Payload) -> list[str]:
    """The fields whose live value is not what the run left (none when they all hold their
    values from before: put back already), and the called parts moved since the run."""
    assert target.before is not None
    fields = (
        []
        if _same(before, current)
        else changed_since(before, current, field_changes(target.run_changes))
    )
    return fields + target.calls.moved(target.before, live)


def _as_run_left(
    target: Target, live: Mapping[str, Any], before: Payload, current: Payload
) -> bool:
    """Nobody changed the record since the run: it carries the version the run left.

    A row with calls is judged by what it holds instead, when the version moved:
    the run's calls answer no version, AWS's review of a submission moves it, and
    a rollback stopped between two calls of the row moved it too.  Its fields and
    called parts must each hold what the run left or what it found; a seller's
    change elsewhere is not written over (the restore sends what :func:`changed_since`
    checked, and leaves untouched parts alone).
    """
    if target.version is not None and same_version(live.get("LastModifiedDate"), target.version):
        return True
    by_content = target.calls.submitted or target.calls.landed
    return by_content and not _moved(target, live, before, current)


def _asked_back(
    edit: RowEdit, target: Target, live: Mapping[str, Any]
) -> tuple[dict[str, Value], list[Problem]]:
    """The called parts to put back as asked cells, and a warning for a first solution the
    run associated: Partner Central never removes an opportunity's last solution."""
    assert target.before is not None
    asked = target.calls.asked_back(target.before)
    column = f"{call_plan.RELATED}.{call_plan.REQUIRED_KIND}"
    if asked.get(column) is not CLEAR or not call_plan.related_of(live)[call_plan.REQUIRED_KIND]:
        return asked, []
    del asked[column]
    warning = Problem(
        edit.row,
        edit.identifier,
        column,
        None,
        "solution-kept",
        f"the run gave this opportunity its first {call_plan.REQUIRED_KIND}, and Partner "
        "Central never removes an opportunity's last solution: left as the run set it",
        Severity.WARNING,
    )
    return asked, [warning]


def _nothing_back(
    edit: RowEdit, target: Target, live: Mapping[str, Any], kept: list[Problem]
) -> Decision:
    """A record that holds its values from before the run (its submission aside, and a
    first solution the run gave it: ``kept``)."""
    if target.calls.submitted and in_review(live):
        return _submitted(edit, live, [])
    notes = [SUBMITTED_ALSO] if target.calls.submitted else []
    notes += [f"warning: {p.column}: {p.message}" for p in kept]
    message = "; ".join(["the record already holds its values from before the run", *notes])
    return Decision(edit, Outcome.UNCHANGED, message, problems=list(kept), live=live)


def _submitted(edit: RowEdit, live: Mapping[str, Any], changes: list[Change]) -> Decision:
    """A row the run submitted, while the review locks the record: nothing can go back."""
    message = submitted_message(live)
    problem = Problem(edit.row, edit.identifier, "LifeCycle.ReviewStatus", None, "locked", message)
    return Decision(edit, Outcome.LOCKED, message, changes, [problem], live=live)
