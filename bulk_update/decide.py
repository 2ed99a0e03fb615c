"""Deciding one row against its live record, before anything is written.

``decide`` is pure: given the row's edits and the live record it answers
what would happen (unchanged, locked, conflict, invalid, or a write with the
full payload and the list of changes).  It makes no call; the executor reads
the record and carries the decision out.  A row's call cells (owner, related
entities, submission) are planned here too (:func:`bulk_update.calls.plan`),
filtered against an export's baseline like its field cells: the decision's
``calls`` go after its update, their changes after the update's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from bulk_update import calls as call_plan
from bulk_update import review as locks
from bulk_update.api import drift
from bulk_update.calls import Call
from bulk_update.fields import Field
from bulk_update.merge import (
    Payload,
    apply_edits,
    changed_paths,
    column_of,
    diff,
    holds,
    key_of,
    leaves,
    project,
)
from bulk_update.payload import Path, RowEdit, Value
from bulk_update.problems import Change, Outcome, Problem, Severity
from bulk_update.sheet import rules
from bulk_update.sheet.baseline import call_clashes, cell_text, clash, user_calls, user_edits
from bulk_update.times import as_utc, iso, same_version

OnConflict = Literal["skip", "overwrite"]


@dataclass
class Decision:
    """What one row will do; ``outcome`` None means "send this payload"."""

    edit: RowEdit
    outcome: Outcome | None
    message: str = ""
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    live: Mapping[str, Any] | None = None
    payload: Payload | None = None
    """The full UpdateOpportunity body (with Identifier and LastModifiedDate), or None
    when the row's fields need no update."""
    calls: list[Call] = field(default_factory=list)
    """The row's other calls (:mod:`bulk_update.calls`), sent in order after the update;
    their changes follow the field changes in ``changes``."""

    @property
    def writes(self) -> bool:
        """True when the row sends something: the update, calls, or both."""
        return self.outcome is None

    @property
    def field_changes(self) -> list[Change]:
        """The changes of the update alone (``changes`` without the calls')."""
        return self.changes[: len(self.changes) - len(self.calls)] if self.calls else self.changes


def column_for(edit: RowEdit, key: str) -> str:
    """The sheet header a field key or column came from, for messages."""
    for path, header in edit.columns.items():
        if key in (key_of(path), column_of(path)):
            return header
    return key


def both_sides(
    edit: RowEdit,
    live: Mapping[str, Any],
    baseline: Mapping[str, str],
    wanted: Mapping[Path, Value],
) -> list[Problem]:
    """Fields the user and Partner Central both changed since the export, differently."""
    flat = dict(leaves(project(live)))
    problems = []
    for path, value in wanted.items():
        header = edit.columns.get(path, column_of(path))
        base = cell_text(baseline.get(header, ""))
        server = cell_text(flat.get(path))
        mine = cell_text(value)
        if server != base and server != mine:
            problems.append(clash(edit, header, base, server, mine))
    return problems


def decide(
    edit: RowEdit,
    live: Mapping[str, Any],
    *,
    on_conflict: OnConflict = "skip",
    today: date | None = None,
    baseline: Mapping[str, str] | None = None,
    held: Held | None = None,
) -> Decision:
    """Merge the row into the live record and say what would happen.

    With the export's ``baseline`` for this row, only the cells the user
    changed are applied, and a version mismatch is merged three ways: a field
    changed on both sides to different values is a conflict; everything else
    is kept or applied.  ``held``: the row's cells the offline check refused
    only for a value outside the installed enum, judged now (:func:`rejudge`).
    """
    warned: list[Problem] = []
    if held is not None:
        judged = rejudge(edit, live, held, baseline)
        if isinstance(judged, Decision):
            return judged
        warned = judged
    decision = _merge(edit, live, on_conflict, today or datetime.now(UTC).date(), baseline)
    decision.problems[:0] = warned
    return decision


def _merge(
    edit: RowEdit,
    live: Mapping[str, Any],
    on_conflict: OnConflict,
    today: date,
    baseline: Mapping[str, str] | None,
) -> Decision:
    """:func:`decide` for a row whose cells all passed the offline checks.

    The field cells become the update (``payload``, None when no field changes);
    the call cells become the row's other calls (:func:`bulk_update.calls.plan`),
    whose changes follow the update's in ``changes``.
    """
    asked = _asked(edit, live, on_conflict, baseline)
    if isinstance(asked, Decision):
        return asked
    wanted, asked_calls = asked
    current = project(live)
    merged = apply_edits(current, wanted)
    changes = diff(current, merged)
    plan = call_plan.plan(edit.row, edit.identifier, asked_calls, live)
    every = changes + [c.change for c in plan.calls]
    if not every and not plan.problems and not plan.locked:
        return Decision(edit, Outcome.UNCHANGED, "the record already holds these values", live=live)
    touched = changed_paths(current, merged)
    refused = _refused(edit, live, touched, every) if changes else None
    if refused is not None:
        return refused
    if plan.locked:
        problems = [
            Problem(edit.row, edit.identifier, key, None, "locked", plan.locked)
            for key in asked_calls
        ]
        return Decision(edit, Outcome.LOCKED, plan.locked, every, problems, live=live)
    problems, warnings = (
        rule_problems(edit, current, merged, touched, today) if changes else ([], [])
    )
    problems += plan.problems
    if problems:
        return Decision(
            edit,
            Outcome.INVALID,
            "; ".join(f"{p.column}: {p.message}" for p in problems),
            every,
            problems + warnings,
            live=live,
        )
    body = None
    if changes:
        body = {
            **merged,
            "Identifier": edit.identifier,
            "LastModifiedDate": as_utc(live.get("LastModifiedDate")),
        }
    return Decision(edit, None, "", every, warnings, live=live, payload=body, calls=plan.calls)


def _refused(
    edit: RowEdit,
    live: Mapping[str, Any],
    touched: set[Path],
    changes: list[Change],
) -> Decision | None:
    """The row's end when its update may not go: the record holds members this model
    cannot see (a write would erase them), or its review status locks these fields."""
    unknown = drift.unknown_of(live)
    if unknown:
        return refuse_drift(edit, live, unknown, changes)
    return _locked(edit, live, touched, changes)


def _asked(
    edit: RowEdit,
    live: Mapping[str, Any],
    on_conflict: OnConflict,
    baseline: Mapping[str, str] | None,
) -> tuple[Mapping[Path, Value], Mapping[str, Value]] | Decision:
    """The edits to apply and the call cells to plan, or the row's end when the
    version question ends it first.

    With the export's baseline: only the cells the user changed, and a field
    changed on both sides is a conflict.  Without: a row whose LastModifiedDate
    is not the live one is a conflict (unless ``on_conflict`` is overwrite).
    """
    live_version = live.get("LastModifiedDate")
    moved = not same_version(edit.last_modified, live_version) and on_conflict != "overwrite"
    if baseline is not None:
        wanted = user_edits(edit, baseline)
        asked_calls = user_calls(edit, baseline)
        if not wanted and not asked_calls:
            return Decision(edit, Outcome.UNCHANGED, "no cell differs from the export", live=live)
        clashes = (
            both_sides(edit, live, baseline, wanted)
            + call_clashes(edit, live, baseline, asked_calls)
            if moved
            else []
        )
        if clashes:
            return Decision(
                edit,
                Outcome.CONFLICT,
                "changed on both sides since the export: "
                + ", ".join(str(p.column) for p in clashes),
                problems=clashes,
                live=live,
            )
        return wanted, asked_calls
    if edit.last_modified is not None and moved and not _landed_before(edit, live):
        return Decision(
            edit,
            Outcome.CONFLICT,
            f"the record changed in Partner Central since this row was exported "
            f"(row: {iso(edit.last_modified)}, now: {iso(live_version)}); export it again "
            "and redo the edit, or run with --on-conflict overwrite to apply the row anyway",
            live=live,
        )
    return edit.edits, edit.calls


def _landed_before(edit: RowEdit, live: Mapping[str, Any]) -> bool:
    """A row with calls whose fields the record already holds: its update landed (an
    earlier run whose call was refused), so the moved version is no conflict and
    running the row again sends only the calls still missing."""
    return bool(edit.calls) and holds(project(live), edit.edits)


def _locked(
    edit: RowEdit, live: Mapping[str, Any], touched: set[Path], changes: list[Change]
) -> Decision | None:
    """The row's end when the record's review status forbids changing these fields."""
    status = (live.get("LifeCycle") or {}).get("ReviewStatus")
    verdict = locks.check(status, {key_of(p) for p in touched})
    if verdict.allowed:
        return None
    problems = [
        Problem(edit.row, edit.identifier, column_for(edit, k), None, "locked", verdict.message)
        for k in (verdict.fields or ())
    ]
    return Decision(
        edit, Outcome.LOCKED, verdict.message, changes, problems, live=live, payload=None
    )


def refuse_drift(
    edit: RowEdit, live: Mapping[str, Any], unknown: tuple[str, ...], changes: list[Change]
) -> Decision:
    """The row would write a record holding members the installed model cannot see."""
    problems = [
        Problem(
            edit.row,
            edit.identifier,
            path,
            None,
            "unknown-member",
            f"Partner Central holds {path}, which the installed {drift.versions()} does not "
            f"know; a write would erase it: run `{drift.PIP_UPGRADE}`",
        )
        for path in unknown
    ]
    return Decision(
        edit, Outcome.UPGRADE_NEEDED, drift.upgrade_message(unknown), changes, problems, live=live
    )


@dataclass(frozen=True)
class HeldCell:
    """A cell the offline check refused only because its value is outside the
    installed enum (code ``not-allowed``): the problem as it wrote it."""

    path: Path
    field: Field
    problem: Problem


@dataclass(frozen=True)
class Held:
    """A row whose only errors are such cells: kept from its offline ``invalid``
    until the read says whether Partner Central knows a newer enum."""

    cells: tuple[HeldCell, ...]
    """One per field path the row sets."""
    problems: tuple[Problem, ...]
    """The row's offline errors, as the check wrote them."""
    message: str
    """The row's offline message, word for word: its end when the read does not excuse it."""

    def refused(self, edit: RowEdit, live: Mapping[str, Any] | None = None) -> Decision:
        """The row ends as the offline check ended it: ``invalid``, same message, same problems."""
        return Decision(
            edit, Outcome.INVALID, self.message, problems=list(self.problems), live=live
        )


def outside_enum(live: Mapping[str, Any], f: Field) -> list[str]:
    """The values the live record holds in field ``f`` (any item of a list, any
    item of a record list) that the installed enum does not have."""
    allowed = set(f.enum)
    out: list[str] = []
    for path, value in leaves(project(live)):
        if key_of(path) == f.key:
            items = value if isinstance(value, tuple) else (value,)
            out.extend(v for v in items if v not in allowed and v not in out)
    return out


def rejudge(
    edit: RowEdit,
    live: Mapping[str, Any],
    held: Held,
    baseline: Mapping[str, str] | None = None,
) -> Decision | list[Problem]:
    """Judge a held row's enum cells against the live record: warnings, or its end.

    A value outside the installed enum, in a field where Partner Central
    already holds values outside it, is evidence that the service knows a
    newer enum than this botocore: a warning, the service judges it.  If any
    such cell finds no such evidence, the row ends as offline (``invalid``,
    the same message).  A cell that equals the export's baseline is not sent
    at all (the user did not edit it): nothing to judge.
    """
    wanted = user_edits(edit, baseline) if baseline is not None else edit.edits
    warnings: list[Problem] = []
    for cell in held.cells:
        if cell.path not in wanted:
            continue
        seen = outside_enum(live, cell.field)
        if not seen:
            return held.refused(edit, live)
        warnings.append(_newer_enum(edit, cell, wanted[cell.path], seen))
    return warnings


def _newer_enum(edit: RowEdit, cell: HeldCell, value: Value, seen: list[str]) -> Problem:
    f = cell.field
    items = value if isinstance(value, tuple) else (str(value),)
    bad = [v for v in items if v not in f.enum]
    shown = "this value" if f.sensitive else " and ".join(f"'{v}'" for v in bad)
    held = "a value" if f.sensitive else ", ".join(f"'{v}'" for v in seen)
    return Problem(
        edit.row,
        edit.identifier,
        cell.problem.column,
        cell.problem.value,
        "enum-newer-service",
        f"{shown} is not in {f.key}'s list in the installed model ({drift.versions()}), but "
        f"Partner Central already holds {held} there, which that list lacks too: the service "
        "knows newer values, so the cell is sent as written and Partner Central judges it",
        Severity.WARNING,
    )


ALREADY = (
    "Partner Central already holds it so and this row does not change it: "
    "written anyway, the service decides"
)


def rule_problems(
    edit: RowEdit,
    current: Payload,
    merged: Payload,
    touched: set[Path],
    today: date,
) -> tuple[list[Problem], list[Problem]]:
    """The cross-field rules the merged record breaks: (errors, warnings).

    A rule the live record already breaks, about a field the row does not
    change, is the service's business (records like AWS's own sample payloads
    hold ``AwsFundingUsed: No`` beside UseCases): a warning, and the write
    goes.  Every other break is an error, as before.
    """
    changed_keys = {key_of(p) for p in touched}
    changed_columns = {column_of(p) for p in touched}
    before = {
        (key, code)
        for key, code, _ in rules.business_problems(current, today=today, changed=changed_keys)
    }
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for key, code, message in rules.business_problems(merged, today=today, changed=changed_keys):
        untouched = key not in changed_columns and key not in changed_keys
        if (key, code) in before and untouched:
            warnings.append(
                Problem(
                    edit.row,
                    edit.identifier,
                    column_for(edit, key),
                    None,
                    code,
                    f"{message} ({ALREADY})",
                    Severity.WARNING,
                )
            )
        else:
            errors.append(
                Problem(edit.row, edit.identifier, column_for(edit, key), None, code, message)
            )
    return errors, warnings


def digest(payload: Mapping[str, Any]) -> str:
    """A short fingerprint of a payload, for the journal (no values in clear)."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
