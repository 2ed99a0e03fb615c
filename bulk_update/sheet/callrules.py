"""The offline rules of the call columns: the owner, the related entities, the submission.

    call_problems(df, specs) -> list[Found]
    asked_rows(specs, cells, n) -> list[dict[str, Value]]

Each call cell is checked by its own model Field like a field's cell (enum,
pattern, length: :mod:`bulk_update.sheet.specs`).  These are the rules across
a row's call cells, which the row alone decides (the live record decides the
rest: :func:`bulk_update.calls.plan`):

- ``#CLEAR`` is no value for an ``Assignee.*`` cell (an opportunity always has
  an owner: ``owner-cleared``) nor for a ``Submit.*`` cell (a submission is an
  act, not a field that holds a value: ``submit-cleared``);
- a row that fills any cell of the owner or of the submission fills every
  member the model marks required in that operation's input
  (AssignOpportunity's ``Assignee``, SubmitOpportunity): ``required``, on the
  missing member's cell, or on the row's first filled cell of the group when
  the sheet has no column for that member;
- a related-entity kind takes at most :data:`bulk_update.calls.ENTITY_LIMITS`
  identifiers (``too-many-entities``); ``#CLEAR`` asks for none.  An
  identifier written twice in one kind is asked once, with a warning
  (``duplicate-entity``): a link is there or not, so a repeat can only be a
  slip, and refusing the row for it would help nobody.

A related-entity list spread over indexed columns
(``RelatedEntityIdentifiers.Solutions[1]``, ``[2]``) is one list, joined in
index order like a field's (:func:`asked_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bulk_update import calls
from bulk_update.fields import Field
from bulk_update.payload import CLEAR, CLEAR_TEXT, Value
from bulk_update.problems import Severity
from bulk_update.sheet.specs import Found, Spec, items


@dataclass(frozen=True)
class _Group:
    """The owner or the submission: call columns that make one call together."""

    operation: str
    prefix: str
    fields: tuple[Field, ...]
    cleared: tuple[str, str]
    """The code of a ``#CLEAR`` here, and why it is no value (and what to do instead)."""

    @property
    def required(self) -> list[Field]:
        return [f for f in self.fields if f.required]

    def cleared_message(self, header: str) -> str:
        return f"#CLEAR is not a value for {header}: {self.cleared[1]}"


def _groups() -> tuple[_Group, ...]:
    return (
        _Group(calls.ASSIGN, calls.ASSIGNEE, calls.assignee_fields(), (
            "owner-cleared",
            "an opportunity always has an owner, so it cannot be emptied; write the new "
            "owner in the Assignee cells, or leave the cell empty to keep the owner",
        )),
        _Group(calls.SUBMIT, calls.SUBMIT_PREFIX, calls.submit_fields(), (
            "submit-cleared",
            "a submission is not a field that can be emptied, and once sent it cannot be "
            "undone; leave every Submit cell of the row empty not to submit",
        )),
    )  # fmt: skip


def _names(fields: Sequence[Field]) -> str:
    keys = [f.key for f in fields]
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]


def _fill_hint(f: Field) -> str:
    return f"write {' or '.join(f.enum)}" if f.enum else "fill it in"


def _group_problems(group: _Group, df: pd.DataFrame, specs: list[Spec]) -> Iterator[Found]:
    mine = [s for s in specs if s.column.field is not None and s.column.field in group.fields]
    if not mine:
        return
    for s in mine:
        for i in (df[s.name] == CLEAR_TEXT).to_numpy().nonzero()[0].tolist():
            yield i, s, group.cleared[0], group.cleared_message(s.column.header), Severity.ERROR
    filled = {s.name: (df[s.name].notna() & (df[s.name] != CLEAR_TEXT)).to_numpy() for s in mine}
    any_filled = np.logical_or.reduce(list(filled.values()))
    if not any_filled.any():
        return
    needs = f"{group.operation} needs {_names(group.required)}"
    empty = f"every {group.prefix} cell of this row"
    present = {s.column.field.key: s for s in mine}  # type: ignore[union-attr]
    absent = [f for f in group.required if f.key not in present]
    for f in group.required:
        member = present.get(f.key)
        if member is None:
            continue
        blank = any_filled & df[member.name].isna().to_numpy()
        for i in blank.nonzero()[0].tolist():
            message = (
                f"{f.key} is needed with the row's other {group.prefix} cells ({needs}): "
                f"{_fill_hint(f)}, or empty {empty}"
            )
            yield i, member, "required", message, Severity.ERROR
    if absent:
        fix = (
            f"column: add it and {_fill_hint(absent[0])}"
            if len(absent) == 1
            else "columns: add them and fill them in"
        )
        message = f"{needs}, and this sheet has no {_names(absent)} {fix}, or empty {empty}"
        for i in any_filled.nonzero()[0].tolist():
            first = next(s for s in mine if filled[s.name][i])
            yield i, first, "required", message, Severity.ERROR


def _related_groups(specs: list[Spec]) -> list[tuple[Field, list[Spec]]]:
    """Each related-entity kind in the sheet with its columns, in item order."""
    out: dict[str, tuple[Field, list[Spec]]] = {}
    kinds = {f.key for f in calls.related_fields()}
    for s in specs:
        f = s.column.field
        if s.column.role == "call" and f is not None and f.key in kinds:
            out.setdefault(f.key, (f, []))[1].append(s)
    for _f, group in out.values():
        group.sort(key=lambda s: s.column.index or 0)
    return list(out.values())


_Verdict = tuple[tuple[int, str, str, Severity], ...]
"""(column of the group, code, message, severity) for one row's cells of a kind."""


def _entity_verdict(f: Field, texts: tuple[str | None, ...]) -> _Verdict:
    kind = f.path[-1]
    limit = calls.ENTITY_LIMITS.get(kind)
    seen: set[str] = set()
    out: list[tuple[int, str, str, Severity]] = []
    crossed: int | None = None
    for k, text in enumerate(texts):
        if text is None or text == CLEAR_TEXT:
            continue
        repeated: list[str] = []
        for item in (t.strip() for t in items(text)):
            if item in seen:
                repeated.append(item)
            elif item:
                seen.add(item)
        if repeated:
            names = ", ".join(dict.fromkeys(repeated))
            out.append((k, "duplicate-entity", f"{names} written more than once in {f.key}: "
                        "asked once (an opportunity links each identifier once)",
                        Severity.WARNING))  # fmt: skip
        if limit is not None and crossed is None and len(seen) > limit:
            crossed = k  # the column where the list goes past the limit
    if crossed is not None:
        out.append((crossed, "too-many-entities", f"{len(seen)} {kind} identifiers, and an opportunity "
                    f"takes at most {limit}: keep {limit} or fewer", Severity.ERROR))  # fmt: skip
    return tuple(out)


def _related_problems(df: pd.DataFrame, specs: list[Spec]) -> Iterator[Found]:
    for f, group in _related_groups(specs):
        if len(group) == 1:  # one cell a row: judged once per distinct text
            codes, uniques = pd.factorize(df[group[0].name], use_na_sentinel=False)
            judged = [_entity_verdict(f, (u,)) if isinstance(u, str) else () for u in uniques]
            bad = [k for k, verdict in enumerate(judged) if verdict]
            for i in np.isin(codes, bad).nonzero()[0].tolist():
                for _k, code, message, severity in judged[codes[i]]:
                    yield i, group[0], code, message, severity
            continue
        verdicts: dict[tuple[str | None, ...], _Verdict] = {}
        for i, texts in enumerate(zip(*(df[s.name].tolist() for s in group), strict=True)):
            if all(t is None for t in texts):
                continue
            verdict = verdicts.get(texts)
            if verdict is None:
                verdict = verdicts[texts] = _entity_verdict(f, texts)
            for k, code, message, severity in verdict:
                yield i, group[k], code, message, severity


def call_problems(df: pd.DataFrame, specs: list[Spec]) -> list[Found]:
    """The call cells' rules on each row (the checked cells ``df``, by spec name)."""
    calls_only = [s for s in specs if s.column.role == "call"]
    if not calls_only:
        return []
    found: list[Found] = []
    for group in _groups():
        found.extend(_group_problems(group, df, calls_only))
    found.extend(_related_problems(df, calls_only))
    return found


def group_of(found: Found, specs: list[Spec]) -> list[Spec]:
    """The sheet's columns of the owner or submission whose missing member ``found``
    names (a ``required`` problem of this module), else ``[]``.  An export's row whose
    group cells all still hold what was exported asks for no call: the check
    drops such a problem (:func:`bulk_update.sheet.checks.check_sheet`)."""
    spec = found[1]
    f = spec.column.field
    if found[2] != "required" or spec.column.role != "call" or f is None:
        return []
    for group in _groups():
        if f in group.fields:
            return [s for s in specs if s.column.field in group.fields]
    return []


def _join(values: Sequence[Value | None]) -> Value | None:
    """One list from its indexed columns' cells (``#CLEAR`` gives way to items), each item once."""
    out: Value | None = None
    for v in values:
        if v is None:
            continue
        if isinstance(out, tuple) and isinstance(v, tuple):
            out = out + v
        elif out is None or v is not CLEAR:
            out = v
    if isinstance(out, tuple):
        out = tuple(dict.fromkeys(out))
    return out


def _each_once(items: tuple[str, ...], done: dict[int, Value]) -> Value:
    """The list without its repeats, worked out once per distinct (shared) tuple."""
    found = done.get(id(items))
    if found is None:
        found = done[id(items)] = tuple(dict.fromkeys(items))
    return found


def asked_rows(
    specs: list[Spec], cells: list[list[Value | None]], n: int
) -> list[dict[str, Value]]:
    """Per row, its call cells by canonical header (``cells[k]``: spec k's values, None empty);
    a list spread over indexed columns is joined, each identifier once."""
    by_key: dict[str, list[int]] = {}
    for k, s in sorted(enumerate(specs), key=lambda ks: ks[1].column.index or 0):
        by_key.setdefault(s.column.canonical, []).append(k)
    out: list[dict[str, Value]] = [{} for _ in range(n)]
    for key, ks in by_key.items():
        if len(ks) > 1:
            values = [_join(vs) for vs in zip(*(cells[k] for k in ks), strict=True)]
        else:  # a list's distinct cells are shared tuples: each one's repeats dropped once
            once: dict[int, Value] = {}
            values = [_each_once(v, once) if isinstance(v, tuple) else v for v in cells[ks[0]]]
        for row, value in zip(out, values, strict=True):
            if value is not None:
                row[key] = value
    return out
