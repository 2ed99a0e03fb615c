"""Check every cell of a sheet, offline, and say in plain words what is wrong.

    check_sheet(sheet, layout, catalog, *, run_catalog, today) -> CheckReport

Three steps, each on whole columns:

1. normalise: trim, ``#CLEAR`` (any case), canonical spellings of allowed values
   (case and spacing ignored; each rewrite is noted), ``;`` lists, dates to
   YYYY-MM-DD; number cells in text columns are looked at for lost zeros or ``+``;
2. per-column checks: one pandera ``Column`` per sheet column, built from its
   catalog field, validated lazily; every failure case becomes a :class:`Problem`
   (one error per bad cell);
3. cross-field rules (:mod:`bulk_update.sheet.rules`) on each row's own values, where
   the row alone decides them; the planner runs them again on the merged record.

Rows without errors become :class:`~bulk_update.payload.RowEdit` values.  The
wording of each problem lives in :mod:`bulk_update.sheet.messages`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from bulk_update import fields as _catalog
from bulk_update.fields import Catalog, Field
from bulk_update.payload import (
    CLEAR,
    CLEAR_TEXT,
    LIST_SEPARATOR,
    Path,
    RowEdit,
    Value,
    field_path,
    to_payload,
)
from bulk_update.problems import Problem, Severity
from bulk_update.sheet import rules
from bulk_update.sheet.baseline import load_csv_baseline
from bulk_update.sheet.columns import Column, Layout
from bulk_update.sheet.messages import (
    allowed_message,
    and_list,
    canon_key,
    cell_error_message,
    control_message,
    date_message,
    length_message,
    number_problem,
    pattern_message,
    uncalculated_message,
)
from bulk_update.sheet.read import ERROR, EXCEL_ERRORS, FORMULA, NUMBER, Sheet
from bulk_update.times import parse_timestamp

_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
Message = Callable[[str], str]
_Found = tuple[int, "_Spec", str, str, Severity]
"""(row position, column, code, message, severity)."""


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


@dataclass
class _Spec:
    """One checked sheet column: its pandera checks and how to word their failures."""

    name: str
    column: Column
    checks: list[pa.Check]
    messages: dict[str, tuple[Message, Severity]]
    nullable: bool = True


def _ok_or_clear(test: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    return lambda s: test(s) | (s == CLEAR_TEXT)


def _per_unique(s: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """fn applied once per distinct value, spread back over the column (fast on repeats)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(v) if isinstance(v, str) else None for v in uniques]
    # dtype=object: pandas 3 would infer a string dtype and turn None into NaN.
    return pd.Series(results[codes], index=s.index, dtype=object)


def _test_per_unique(s: pd.Series, fn: Callable[[str], bool]) -> pd.Series:
    return _per_unique(s, fn).astype(bool)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _items(text: str) -> list[str]:
    return text.split(LIST_SEPARATOR)


def _field_spec(name: str, col: Column, f: Field) -> _Spec:
    checks: list[pa.Check] = []
    messages: dict[str, tuple[Message, Severity]] = {}
    sens = f.sensitive

    def add(
        code: str, test: Callable[[pd.Series], pd.Series], msg: Message, sev=Severity.ERROR
    ) -> None:
        checks.append(pa.Check(test, name=code))
        messages[code] = (msg, sev)

    if f.required:
        add("required-cleared", lambda s: s != CLEAR_TEXT,
            lambda v: f"{f.key} is required and cannot be cleared: leave the cell empty to keep "
            "it, or type a value")  # fmt: skip
    if f.kind == "date":
        add(
            "date-format",
            _ok_or_clear(lambda s: s.str.fullmatch(r"\d{4}-\d{2}-\d{2}")),
            date_message,
        )
        add("invalid-date", _ok_or_clear(lambda s: _test_per_unique(s, lambda v: not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) or _is_date(v))),
            lambda v: f"{v} is not a date in the calendar")  # fmt: skip
    if f.kind == "enum":
        add(
            "not-allowed", _ok_or_clear(lambda s: s.isin(f.enum)), lambda v: allowed_message(f, [v])
        )
    if f.kind == "list":
        if f.enum:
            enum = frozenset(f.enum)
            add("not-allowed", _ok_or_clear(lambda s: _test_per_unique(s, lambda v: all(i in enum for i in _items(v)))),
                lambda v: allowed_message(f, [i for i in _items(v) if i not in enum]))  # fmt: skip
        if f.pattern:
            pat = re.compile(f.pattern)
            add("pattern", _ok_or_clear(lambda s: _test_per_unique(s, lambda v: all(pat.fullmatch(i) for i in _items(v)))),
                lambda v: pattern_message(f, None if sens else v))  # fmt: skip
    if f.documented:
        test, bad = _documented(f)
        add(
            "not-documented",
            _ok_or_clear(test),
            lambda v: allowed_message(f, bad(v), documented=True),
            Severity.WARNING,
        )
    if f.kind in ("text", "timestamp"):
        if f.pattern:
            pattern = f.pattern
            compiled = re.compile(pattern)
            add("pattern", _ok_or_clear(lambda s: _test_per_unique(s, lambda v: compiled.fullmatch(v) is not None)),
                lambda v: pattern_message(f, None if sens else v))  # fmt: skip
        if f.min_length or f.max_length:
            lo, hi = f.min_length or 0, f.max_length or 10**9
            add(
                "length",
                _ok_or_clear(lambda s: s.str.len().between(lo, hi)),
                lambda v: length_message(f, v),
            )
    return _Spec(name, col, checks, messages)


def _documented(
    f: Field,
) -> tuple[Callable[[pd.Series], pd.Series], Callable[[str], list[str]]]:
    """The test for a documented (not enumerated) value list, and a cell's values outside it."""
    doc = frozenset(f.documented)
    if f.kind == "list":
        return (
            lambda s: _test_per_unique(s, lambda v: all(i in doc for i in _items(v))),
            lambda v: [i for i in _items(v) if i not in doc],
        )
    return (lambda s: s.isin(doc)), (lambda v: [v])


_IDENTIFIER_PATTERN = r"O[0-9]{1,19}"


def _identifier_spec(name: str, col: Column, duplicates: dict[str, list[int]] | None) -> _Spec:
    pattern = (
        _catalog.update_shape().members["Identifier"].metadata.get("pattern", _IDENTIFIER_PATTERN)
    )
    # Ids are compared ignoring case: o6410556 and O6410556 are one opportunity.
    if duplicates is None:
        unique: Callable[[pd.Series], pd.Series] = lambda s: ~s.str.upper().duplicated(keep=False)  # noqa: E731
    else:  # the sheet is checked in chunks: the whole sheet's duplicates are given
        twice = set(duplicates)
        unique = lambda s: ~s.str.upper().isin(twice)  # noqa: E731
    checks = [
        pa.Check(unique, name="duplicate-identifier"),  # first: it names the other row
        pa.Check(lambda s: s.str.fullmatch(pattern), name="invalid-identifier"),
    ]
    messages: dict[str, tuple[Message, Severity]] = {
        "invalid-identifier": (
            lambda v: f"'{v}' is not an opportunity id: write O followed by digits (O1234567890)",
            Severity.ERROR,
        ),
        "not_nullable": (
            lambda v: "every row needs an Identifier (O followed by digits)",
            Severity.ERROR,
        ),
    }
    return _Spec(name, col, checks, messages, nullable=False)


def _last_modified_spec(name: str, col: Column) -> _Spec:
    check = pa.Check(lambda s: _test_per_unique(s, _is_timestamp), name="bad-timestamp")

    def message(v: str) -> str:
        return (
            f"'{v}' is not a UTC timestamp: write it as an export does "
            "(2026-05-01T20:37:46.123Z), and format the column as Text"
        )

    return _Spec(name, col, [check], {"bad-timestamp": (message, Severity.ERROR)})


def _catalog_spec(name: str, col: Column, run_catalog: str | None) -> _Spec:
    choices = _catalog.CATALOGS
    checks = [pa.Check(lambda s: s.isin(choices), name="not-allowed")]
    messages: dict[str, tuple[Message, Severity]] = {
        "not-allowed": (
            lambda v: f"'{v}' is not a catalog: use {' or '.join(choices)}",
            Severity.ERROR,
        )
    }
    if run_catalog is not None:
        checks.append(pa.Check(lambda s: s == run_catalog, name="wrong-catalog"))
        messages["wrong-catalog"] = (
            lambda v: (
                f"this row comes from the {v} catalog but the run is for {run_catalog}: "
                "run with that catalog, or use a sheet exported from it"
            ),
            Severity.ERROR,
        )
    return _Spec(name, col, checks, messages)


def _specs(
    layout: Layout, run_catalog: str | None, duplicates: dict[str, list[int]] | None = None
) -> list[_Spec]:
    """The checked columns: fields the tool writes, Identifier, LastModifiedDate, Catalog."""
    specs: list[_Spec] = []
    for col in layout.columns:
        name = f"c{col.position}"
        if col.role == "field" and col.field is not None and not col.field.read_only:
            specs.append(_field_spec(name, col, col.field))
        elif col.role == "identifier":
            specs.append(_identifier_spec(name, col, duplicates))
        elif col.role == "last-modified":
            specs.append(_last_modified_spec(name, col))
        elif col.role == "catalog":
            specs.append(_catalog_spec(name, col, run_catalog))
    return specs


def _is_timestamp(text: str) -> bool:
    try:
        parse_timestamp(text)
    except ValueError:
        return False
    return True


# --- normalisation ------------------------------------------------------------------


@dataclass
class _Normalised:
    values: dict[str, pd.Series]
    notes: dict[int, list[str]]
    problems: list[_Found]
    """(row position, column, code, message, severity) found while normalising."""


def _canonical(allowed: tuple[str, ...]) -> Callable[[str], str]:
    keys = {canon_key(a): a for a in allowed}
    return lambda v: keys.get(canon_key(v), v)


def _mapper(spec: _Spec) -> tuple[Callable[[str], str] | None, bool]:
    """How a trimmed cell is rewritten for this column, and whether rewrites are noted."""
    col, f = spec.column, spec.column.field
    allowed = _catalog.CATALOGS if col.role == "catalog" else (f.allowed if f else ())
    if f is not None and f.kind == "list":
        canon = _canonical(allowed)
        return (
            lambda v: LIST_SEPARATOR.join(canon(i.strip()) for i in _items(v) if i.strip())
        ), True
    if allowed:
        return _canonical(allowed), True
    if f is not None and f.kind == "date":
        return (lambda v: m.group(1) if (m := _DATE.match(v)) else v), False
    return None, False


def _note(spec: _Spec, old: str, new: str) -> str | None:
    """The note for a rewritten cell; None when only spacing around ';' changed."""
    f = spec.column.field
    if f is not None and f.kind == "list":
        pairs = list(zip([x.strip() for x in _items(old) if x.strip()], _items(new), strict=False))
        changed = [(a, b) for a, b in pairs if a != b]
        if not changed:
            return None
        old, new = ", ".join(a for a, _ in changed), ", ".join(b for _, b in changed)
    if f is not None and f.sensitive:
        return f"{spec.column.header}: written in its canonical spelling"
    return f"{spec.column.header}: '{old}' written as '{new}'"


def _normalise_column(spec: _Spec, raw: pd.Series) -> tuple[pd.Series, dict[int, str]]:
    """The column's values as checks see them (None = empty), and a note per rewritten cell.

    Each distinct cell text is handled once, so repeated values cost nothing.
    """
    mapper, noted = _mapper(spec)

    def one(text: object) -> tuple[str | None, str | None]:
        t = text.strip() if isinstance(text, str) else ""
        if not t:
            return None, None
        if t[0] == "#" and t.upper() == CLEAR_TEXT:
            return CLEAR_TEXT, None
        new = mapper(t) if mapper is not None else t
        note = _note(spec, t, new) if noted and new != t else None
        return new or None, note

    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    done = [one(u) for u in uniques]
    values = np.empty(len(done), dtype=object)
    values[:] = [d[0] for d in done]
    out = pd.Series(values[codes], index=raw.index, dtype=object)
    notes: dict[int, str] = {}
    noted_codes = [k for k, d in enumerate(done) if d[1] is not None]
    if noted_codes:
        for i in np.isin(codes, noted_codes).nonzero()[0]:
            notes[int(i)] = done[codes[i]][1]  # type: ignore[assignment]
    return out, notes


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters a cell must not hold: all but tab, line feed and carriage return."""


def _damage(sheet: Sheet, spec: _Spec, marked: frozenset[str]) -> list[_Found]:
    """Cells the reader could not read as a value: an error, a formula never
    calculated, control characters. Each is an error naming the cell and the fix.

    ``marked`` holds the kinds (ERROR, FORMULA) present anywhere in the sheet; a
    column whose joined text has no ``#`` and no control character is passed over
    at the speed of one ``join``: the common case costs next to nothing.
    """
    pos = spec.column.position
    texts, kinds = sheet.cells[pos], sheet.kinds[pos]
    joined = "".join(texts.tolist())
    found: list[_Found] = []

    def add(rows: pd.Series, code: str, message: Callable[[str, str], str]) -> None:
        for i in rows.to_numpy().nonzero()[0].tolist():
            cell = f"{sheet.letter(pos)}{sheet.row_numbers[i]}"
            found.append((i, spec, code, message(cell, str(texts.iat[i])), Severity.ERROR))

    if ERROR in marked or "#" in joined:
        add((kinds == ERROR) | texts.isin(EXCEL_ERRORS), "error-cell", cell_error_message)
    if FORMULA in marked:
        add(kinds == FORMULA, "formula-not-calculated", lambda c, _t: uncalculated_message(c))
    if _CONTROL.search(joined) is not None:
        hostile = _test_per_unique(texts, lambda v: _CONTROL.search(v) is not None)
        add(hostile, "control-character", lambda c, t: control_message(c, _first_control(t)))
    return found


def _first_control(text: str) -> int:
    found = _CONTROL.search(text)
    return ord(found.group()) if found else 0


def _normalise(sheet: Sheet, specs: list[_Spec]) -> _Normalised:
    result = _Normalised({}, {}, [])
    kinds = sheet.kinds.to_numpy()
    marked = frozenset(k for k in (ERROR, FORMULA) if (kinds == k).any())
    for spec in specs:
        raw = sheet.cells[spec.column.position]
        result.problems.extend(_damage(sheet, spec, marked))
        values, notes = _normalise_column(spec, raw)
        result.values[spec.name] = values
        for i, note in notes.items():
            result.notes.setdefault(i, []).append(note)
            result.problems.append((i, spec, "normalised", note, Severity.WARNING))
        f = spec.column.field
        if f is None or f.kind != "text":
            continue
        numbers = (sheet.kinds[spec.column.position] == NUMBER) & values.notna()
        for i in numbers.to_numpy().nonzero()[0].tolist():
            found = number_problem(f, str(values.iat[i]))
            if found is not None:
                result.problems.append((int(i), spec, *found))
    return result


# --- the run ------------------------------------------------------------------------


def _cell_value(text: str, f: Field) -> Value:
    if text == CLEAR_TEXT:
        return CLEAR
    if f.kind == "list":
        return tuple(_items(text))
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
    specs = _specs(layout, run_catalog, duplicates)
    by_name = {s.name: s for s in specs}
    n = len(sheet)
    norm = _normalise(sheet, specs)
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

    found: list[_Found] = [p for p in norm.problems if p[2] != "normalised"]
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
    found.extend(p for p in norm.problems if p[2] == "normalised")
    found = _touched_only(sheet, ident_spec, found, norm.notes)
    return _report(sheet, specs, df, found, norm.notes, ident_spec)


def _touched_only(
    sheet: Sheet, ident_spec: _Spec, found: list[_Found], notes: dict[int, list[str]]
) -> list[_Found]:
    """On an exported sheet, warnings speak only of cells the user changed.

    A cell that still holds what the export wrote (its baseline) gets no warning
    (``not-documented`` on a StateOrRegion nobody touched, a canonical spelling):
    the user did not write it, and the tool will not send it. Errors stay.
    """
    warned = [p for p in found if p[4] is Severity.WARNING]
    if not warned:
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

    def untouched(i: int, spec: _Spec) -> bool:
        base = rows.get(str(idents.iat[i]).strip().upper())
        at = place.get(spec.column.header)
        if base is None or at is None:
            return False
        return str(sheet.cells.iat[i, spec.column.position]).strip() == base[at].strip()

    kept: list[_Found] = []
    for p in found:
        if p[4] is Severity.WARNING and untouched(p[0], p[1]):
            if p[2] == "normalised" and p[3] in notes.get(p[0], []):
                notes[p[0]].remove(p[3])
            continue
        kept.append(p)
    return kept


def _whole_struct_cleared(p: _Found, specs: list[_Spec], df: pd.DataFrame) -> bool:
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
    df: pd.DataFrame, specs: list[_Spec], errors: set[tuple[int, str]], today: dt.date
) -> list[_Found]:
    """The cross-field rules on each row's own values (cells with errors left out).

    Rows are reduced to stand-ins (rules.stand_in) and the rules run once per
    distinct reduced row, so a 50,000-row sheet costs a few hundred rule runs.
    """
    keys = rules.rule_keys()
    used = [s for s in specs if s.column.field is not None and s.column.field.key in keys]
    if not used:
        return []
    canonical: dict[str, _Spec] = {}
    for s in specs:
        canonical.setdefault(s.column.canonical, s)
    bad = {s.name: [i for i, name in errors if name == s.name] for s in used}
    reduced = {}
    for s in used:
        key = s.column.field.key  # type: ignore[union-attr]
        col = df[s.name].copy()
        if bad[s.name]:
            col.iloc[bad[s.name]] = None
        reduced[s.name] = _per_unique(col, _stand_in(key, today))
    frame = pd.DataFrame(reduced).fillna("")
    group = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    firsts = pd.Series(range(len(group))).groupby(group).first()
    out: list[_Found] = []
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
    specs: list[_Spec],
    df: pd.DataFrame,
    found: list[_Found],
    notes: dict[int, list[str]],
    ident_spec: _Spec,
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


def _converted(spec: _Spec, df: pd.DataFrame) -> list[Value | None]:
    """The column's cells as edit values (None for empty), each distinct text converted once."""
    f = spec.column.field
    assert f is not None
    return _per_unique(df[spec.name], lambda v: _cell_value(v, f)).tolist()


def _row_edits(
    sheet: Sheet, specs: list[_Spec], df: pd.DataFrame, bad_rows: set[int], idents: list[str | None]
) -> list[RowEdit | None]:
    """RowEdits for the rows without errors; a plain list spread over columns is joined."""
    by_path: dict[Path, list[_Spec]] = {}
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
    out: list[RowEdit | None] = []
    for i, cells in enumerate(zip(*columns, strict=True) if columns else ([()] * len(sheet))):
        if i in bad_rows:
            out.append(None)
            continue
        stamp = stamps[i] if stamps is not None else None
        out.append(
            RowEdit(
                sheet.row_numbers[i],
                idents[i] or "",
                parse_timestamp(stamp) if isinstance(stamp, str) else None,
                {p: v for p, v in zip(paths, cells, strict=True) if v is not None},
                {p: h for p, h, v in zip(paths, headers, cells, strict=True) if v is not None},
            )
        )
    return out
