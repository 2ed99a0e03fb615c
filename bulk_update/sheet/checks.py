"""Check every cell of a sheet, offline, and say in plain words what is wrong.

    check_sheet(sheet, layout, catalog, *, run_catalog, today) -> CheckReport

Three steps, each on whole columns:

1. normalise (:mod:`bulk_update.sheet.normalise`): trim, ``#CLEAR`` (any case),
   canonical spellings of allowed values (case and spacing ignored; each rewrite
   is noted), ``;`` lists, dates to YYYY-MM-DD; number cells in text columns are
   looked at for lost zeros or ``+``;
2. per-column checks: one pandera ``Column`` per sheet column, built from its
   catalog field (:mod:`bulk_update.sheet.specs`), validated lazily; every
   failure case becomes a :class:`Problem` (one error per bad cell);
3. cross-field rules (:mod:`bulk_update.sheet.rules`) on each row's own values, where
   the row alone decides them; the planner runs them again on the merged record;
   and the call cells' rules (:mod:`bulk_update.sheet.callrules`: the owner, the
   related entities, the submission).

Rows without errors become :class:`~bulk_update.payload.RowEdit` values.  The
wording of each problem lives in :mod:`bulk_update.sheet.messages`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from bulk_update import fields as _catalog
from bulk_update.fields import Catalog, Field
from bulk_update.payload import CLEAR, CLEAR_TEXT, Path, RowEdit, Value, field_path, to_payload
from bulk_update.problems import Problem, Severity
from bulk_update.sheet import callrules, rules
from bulk_update.sheet.baseline import load_csv_baseline
from bulk_update.sheet.columns import Column, Layout
from bulk_update.sheet.messages import and_list
from bulk_update.sheet.normalise import normalise
from bulk_update.sheet.read import Sheet
from bulk_update.sheet.specs import Found, Spec, column_specs, items, per_unique
from bulk_update.times import parse_timestamp


@dataclass
class CheckReport:
    """What the checks found: one entry per sheet row in ``edits`` and ``normalised``."""

    rows: list[int]
    """Excel row numbers, in sheet order."""
    edits: list[RowEdit | None]
    """The row's edits, or None when the row has an error."""
    problems: list[Problem]
    """Errors and warnings, ordered by row then column."""
    normalised: list[list[str]] = field(default_factory=list)
    """Per row: notes on values written in their canonical spelling."""

    @property
    def invalid_rows(self) -> set[int]:
        """Excel row numbers of rows with at least one error."""
        return {p.row for p in self.problems if p.is_error and p.row is not None}

    @property
    def ok(self) -> bool:
        """True when no row has an error (warnings allowed)."""
        return not any(p.is_error for p in self.problems)


def _cell_value(text: str, f: Field) -> Value:
    if text == CLEAR_TEXT:
        return CLEAR
    if f.kind == "list":
        return tuple(items(text))
    return text


def _put(edits: dict[Path, Value], path: Path, value: Value) -> None:
    """Set a path; items of a plain list spread over indexed columns are joined."""
    old = edits.get(path)
    if isinstance(old, tuple) and isinstance(value, tuple):
        edits[path] = old + value
    elif old is None or value is not CLEAR:
        edits[path] = value


def _path(col: Column) -> Path:
    assert col.field is not None
    if col.field.list_at is None:
        return col.field.path
    return field_path(col.field, col.index)


def check_sheet(
    sheet: Sheet,
    layout: Layout,
    catalog: Catalog,
    *,
    run_catalog: str | None,
    today: dt.date,
    duplicates: dict[str, list[int]] | None = None,
) -> CheckReport:
    """Check every row of a sheet offline; rows without errors become RowEdits.

    ``catalog`` is the field catalog the layout was resolved with; ``run_catalog``
    the run's ``--catalog`` (a ``Catalog`` column must equal it), or None.
    ``duplicates`` (identifier -> Excel rows) is given when ``sheet`` is one
    chunk of a larger sheet: the duplicate check then uses the whole sheet's.
    """
    specs = column_specs(layout, run_catalog, duplicates)
    by_name = {s.name: s for s in specs}
    n = len(sheet)
    norm = normalise(sheet, specs)
    df = pd.DataFrame(norm.values, index=pd.RangeIndex(n))
    ident_spec = next(s for s in specs if s.column.role == "identifier")
    idents = df[ident_spec.name]
    id_rows: dict[str, list[int]] = {}
    if duplicates is not None:
        id_rows = duplicates
    else:
        folded = idents.str.upper()
        for i in idents[folded.duplicated(keep=False)].index:
            id_rows.setdefault(str(folded.iat[i]), []).append(sheet.row_numbers[i])
    ident_spec.messages["duplicate-identifier"] = (
        lambda v: (
            f"{v} appears on rows {and_list(id_rows.get(v.upper(), []))}: "
            "give each opportunity one row only"
        ),
        Severity.ERROR,
    )

    found: list[Found] = [p for p in norm.problems if p[2] != "normalised"]
    schema = pa.DataFrameSchema(
        {s.name: pa.Column(None, nullable=s.nullable, checks=s.checks) for s in specs}
    )
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        for name, check, value, index in zip(
            fc["column"], fc["check"], fc["failure_case"], fc["index"], strict=True
        ):
            spec = by_name[name]
            msg, sev = spec.messages[str(check)]
            text = "" if value is None or value != value else str(value)
            code = "missing-identifier" if check == "not_nullable" else str(check)
            found.append((int(index), spec, code, msg(text), sev))
    found = [
        p for p in found if p[2] != "required-cleared" or not _whole_struct_cleared(p, specs, df)
    ]

    errors = {(i, s.name) for i, s, _, _, sev in found if sev is Severity.ERROR}
    found.extend(_rule_problems(df, specs, errors, today))
    found.extend(callrules.call_problems(df, specs))
    found.extend(p for p in norm.problems if p[2] == "normalised")
    found = _touched_only(sheet, ident_spec, found, norm.notes, specs)
    return _report(sheet, specs, df, found, norm.notes, ident_spec)


def _touched_only(
    sheet: Sheet,
    ident_spec: Spec,
    found: list[Found],
    notes: dict[int, list[str]],
    specs: list[Spec],
) -> list[Found]:
    """On an exported sheet, warnings speak only of cells the user changed.

    A cell that still holds what the export wrote (its baseline) gets no warning
    (``not-documented`` on a StateOrRegion nobody touched, a canonical spelling):
    the user did not write it, and the tool will not send it. Errors stay, but
    a call group's missing member (an exported owner without a BusinessTitle)
    on a group whose every cell is as exported: that group asks for no call.
    """
    droppable = [p for p in found if p[4] is Severity.WARNING or callrules.group_of(p, specs)]
    if not droppable:
        return found
    table = sheet.baseline
    if table is None and sheet.path.suffix.lower() == ".csv":
        table, _meta = load_csv_baseline(sheet.path)
    if table is None or len(table) == 0:
        return found
    headers = [str(h).strip() for h in table.columns]
    id_at = next((k for k, h in enumerate(headers) if h.lower() in ("identifier", "id")), None)
    if id_at is None:
        return found
    rows = {str(r[id_at]).strip().upper(): r for r in table.astype(str).values.tolist()}
    place = {h: k for k, h in enumerate(headers)}
    idents = sheet.cells[ident_spec.column.position]

    def untouched(i: int, spec: Spec) -> bool:
        base = rows.get(str(idents.iat[i]).strip().upper())
        at = place.get(spec.column.header)
        if base is None or at is None:
            return False
        return str(sheet.cells.iat[i, spec.column.position]).strip() == base[at].strip()

    kept: list[Found] = []
    for p in found:
        group = callrules.group_of(p, specs)
        if group and all(untouched(p[0], s) for s in group):
            continue
        if p[4] is Severity.WARNING and untouched(p[0], p[1]):
            if p[2] == "normalised" and p[3] in notes.get(p[0], []):
                notes[p[0]].remove(p[3])
            continue
        kept.append(p)
    return kept


def _whole_struct_cleared(p: Found, specs: list[Spec], df: pd.DataFrame) -> bool:
    """A required member may be cleared with every other member of its structure (an item)."""
    i, spec = p[0], p[1]
    prefix = _path(spec.column)[:-1]
    bare = tuple(part for part in prefix if isinstance(part, str))
    members = [f for f in _catalog.load().updatable() if f.path[: len(bare)] == bare]
    group = [
        s for s in specs if s.column.role == "field" and _path(s.column)[: len(prefix)] == prefix
    ]
    return len(group) == len(members) and all(df[s.name].iat[i] == CLEAR_TEXT for s in group)


def _stand_in(key: str, today: dt.date) -> Callable[[str], str]:
    return lambda v: v if v == CLEAR_TEXT else rules.stand_in(key, v, today)


def _rule_problems(
    df: pd.DataFrame, specs: list[Spec], errors: set[tuple[int, str]], today: dt.date
) -> list[Found]:
    """The cross-field rules on each row's own values (cells with errors left out).

    Rows are reduced to stand-ins (rules.stand_in) and the rules run once per
    distinct reduced row, so a 50,000-row sheet costs a few hundred rule runs.
    """
    keys = rules.rule_keys()
    used = [s for s in specs if s.column.field is not None and s.column.field.key in keys]
    if not used:
        return []
    canonical: dict[str, Spec] = {}
    for s in specs:
        canonical.setdefault(s.column.canonical, s)
    bad = {s.name: [i for i, name in errors if name == s.name] for s in used}
    reduced = {}
    for s in used:
        key = s.column.field.key  # type: ignore[union-attr]
        col = df[s.name].copy()
        if bad[s.name]:
            col.iloc[bad[s.name]] = None
        reduced[s.name] = per_unique(col, _stand_in(key, today))
    frame = pd.DataFrame(reduced).fillna("")
    group = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    firsts = pd.Series(range(len(group))).groupby(group).first()
    out: list[Found] = []
    for g, i in firsts.items():
        edits: dict[Path, Value] = {}
        for s in used:
            v = frame[s.name].iat[i]
            if v:
                _put(edits, _path(s.column), _cell_value(v, s.column.field))  # type: ignore[arg-type]
        if not edits:
            continue
        found = rules.business_problems(to_payload(edits), today=today, partial=True)
        if not found:
            continue
        rows = (group == g).nonzero()[0]
        for where, code, message in found:
            spec = canonical.get(where) or next(
                (s for c, s in canonical.items() if c.startswith(where + ".")), None
            )
            if spec is not None:
                out.extend((int(r), spec, code, message, Severity.ERROR) for r in rows)
    return out


def _report(
    sheet: Sheet,
    specs: list[Spec],
    df: pd.DataFrame,
    found: list[Found],
    notes: dict[int, list[str]],
    ident_spec: Spec,
) -> CheckReport:
    order = {s.name: k for k, s in enumerate(specs)}
    found.sort(key=lambda p: (p[0], order[p[1].name], p[4] is Severity.WARNING))
    idents = [v if isinstance(v, str) else None for v in df[ident_spec.name].tolist()]
    problems: list[Problem] = []
    seen: set[tuple[int, str]] = set()
    bad_rows: set[int] = set()
    raw_cells: dict[int, list[str]] = {}
    for i, spec, code, message, sev in found:
        if sev is Severity.ERROR:
            if (i, spec.name) in seen:
                continue  # one error per cell: the first, most specific, one
            seen.add((i, spec.name))
            bad_rows.add(i)
        pos = spec.column.position
        if pos not in raw_cells:
            raw_cells[pos] = sheet.cells[pos].tolist()
        raw = raw_cells[pos][i]
        problems.append(
            Problem(sheet.row_numbers[i], idents[i], spec.column.header, raw, code, message, sev)
        )
    edits = _row_edits(sheet, specs, df, bad_rows, idents)
    return CheckReport(
        rows=list(sheet.row_numbers),
        edits=edits,
        problems=problems,
        normalised=[notes.get(i, []) for i in range(len(sheet))],
    )


def _converted(spec: Spec, df: pd.DataFrame) -> list[Value | None]:
    """The column's cells as edit values (None for empty); a list's distinct texts split once."""
    f = spec.column.field
    assert f is not None
    if f.kind == "list":
        return per_unique(df[spec.name], lambda v: _cell_value(v, f)).tolist()
    values = df[spec.name].to_numpy(dtype=object, copy=True)  # a text is its own value
    values[values == CLEAR_TEXT] = CLEAR
    return values.tolist()


def _row_edits(
    sheet: Sheet, specs: list[Spec], df: pd.DataFrame, bad_rows: set[int], idents: list[str | None]
) -> list[RowEdit | None]:
    """RowEdits for the rows without errors; a plain list spread over columns is joined."""
    by_path: dict[Path, list[Spec]] = {}
    for s in sorted(
        (s for s in specs if s.column.role == "field"), key=lambda s: s.column.index or 0
    ):
        by_path.setdefault(_path(s.column), []).append(s)
    paths = list(by_path)
    headers = [group[0].column.header for group in by_path.values()]
    columns: list[list[Value | None]] = []
    for group in by_path.values():
        parts = [_converted(s, df) for s in group]
        if len(parts) > 1:  # PrimaryNeedsFromAws[0], [1]...: one list
            merged: list[Value | None] = []
            for cells in zip(*parts, strict=True):
                acc: dict[Path, Value] = {}
                for v in cells:
                    if v is not None:
                        _put(acc, (), v)
                merged.append(acc.get(()))
            parts = [merged]
        columns.append(parts[0])
    stamps = next((df[s.name].tolist() for s in specs if s.column.role == "last-modified"), None)
    header_of = dict(zip(paths, headers, strict=True))
    call_specs = [s for s in specs if s.column.role == "call"]
    asked_rows = callrules.asked_rows(call_specs, [_converted(s, df) for s in call_specs], len(df))
    out: list[RowEdit | None] = []
    for i, cells in enumerate(zip(*columns, strict=True) if columns else ([()] * len(sheet))):
        if i in bad_rows:
            out.append(None)
            continue
        stamp = stamps[i] if stamps is not None else None
        edit = {p: v for p, v in zip(paths, cells, strict=True) if v is not None}
        out.append(
            RowEdit(
                sheet.row_numbers[i],
                idents[i] or "",
                parse_timestamp(stamp) if isinstance(stamp, str) else None,
                edit,
                {p: header_of[p] for p in edit},
                asked_rows[i],
            )
        )
    return out
