"""Cells as the checks see them: trimmed, ``#CLEAR``, canonical spellings, dates.

    normalise(sheet, specs) -> Normalised

Trim, ``#CLEAR`` (any case), canonical spellings of allowed values (case and
spacing ignored; each rewrite is noted), ``;`` lists, dates to YYYY-MM-DD;
number cells in text columns are looked at for lost zeros or ``+``; cells the
reader could not read as a value (an error, a formula never calculated,
control characters) are errors. Each distinct cell text is handled once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bulk_update import fields as _catalog
from bulk_update.payload import CLEAR_TEXT, LIST_SEPARATOR
from bulk_update.problems import Severity
from bulk_update.sheet.cells import ERROR, EXCEL_ERRORS, FORMULA, NUMBER
from bulk_update.sheet.messages import (
    canon_key,
    cell_error_message,
    control_message,
    number_problem,
    uncalculated_message,
)
from bulk_update.sheet.read import Sheet
from bulk_update.sheet.specs import Found, Spec, items, test_per_unique

_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass
class Normalised:
    values: dict[str, pd.Series]
    notes: dict[int, list[str]]
    problems: list[Found]
    """(row position, column, code, message, severity) found while normalising."""


def _canonical(allowed: tuple[str, ...]) -> Callable[[str], str]:
    keys = {canon_key(a): a for a in allowed}
    return lambda v: keys.get(canon_key(v), v)


def _mapper(spec: Spec) -> tuple[Callable[[str], str] | None, bool]:
    """How a trimmed cell is rewritten for this column, and whether rewrites are noted."""
    col, f = spec.column, spec.column.field
    allowed = _catalog.CATALOGS if col.role == "catalog" else (f.allowed if f else ())
    if f is not None and f.kind == "list":
        canon = _canonical(allowed)
        return (
            lambda v: LIST_SEPARATOR.join(canon(i.strip()) for i in items(v) if i.strip())
        ), True
    if allowed:
        return _canonical(allowed), True
    if f is not None and f.kind == "date":
        return (lambda v: m.group(1) if (m := _DATE.match(v)) else v), False
    return None, False


def _note(spec: Spec, old: str, new: str) -> str | None:
    """The note for a rewritten cell; None when only spacing around ';' changed."""
    f = spec.column.field
    if f is not None and f.kind == "list":
        pairs = list(zip([x.strip() for x in items(old) if x.strip()], items(new), strict=False))
        changed = [(a, b) for a, b in pairs if a != b]
        if not changed:
            return None
        old, new = ", ".join(a for a, _ in changed), ", ".join(b for _, b in changed)
    if f is not None and f.sensitive:
        return f"{spec.column.header}: written in its canonical spelling"
    return f"{spec.column.header}: '{old}' written as '{new}'"


def _normalise_column(spec: Spec, raw: pd.Series) -> tuple[pd.Series, dict[int, str]]:
    """The column's values as checks see them (None = empty), and a note per rewritten cell.

    Each distinct cell text is handled once, so repeated values cost nothing.
    """
    mapper, noted = _mapper(spec)
    if mapper is None:
        return _trimmed(raw), {}

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


def _trimmed(raw: pd.Series) -> pd.Series:
    """A column kept as written (free text): each cell trimmed, empty as None, ``#CLEAR``.

    One pass over the cells, without finding the distinct values first: such a
    column's values are mostly all different, so that search would save nothing.
    """
    clear = CLEAR_TEXT
    values = np.empty(len(raw), dtype=object)
    values[:] = [
        None
        if not (t := v.strip() if isinstance(v, str) else "")
        else clear
        if t[0] == "#" and t.upper() == clear
        else t
        for v in raw.tolist()
    ]
    return pd.Series(values, index=raw.index, dtype=object)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters a cell must not hold: all but tab, line feed and carriage return."""


def _damage(sheet: Sheet, spec: Spec, marked: frozenset[str]) -> list[Found]:
    """Cells the reader could not read as a value: an error, a formula never
    calculated, control characters. Each is an error naming the cell and the fix.

    ``marked`` holds the kinds (ERROR, FORMULA) present anywhere in the sheet; a
    column whose joined text has no ``#`` and no control character is passed over
    at the speed of one ``join``: the common case costs next to nothing.
    """
    pos = spec.column.position
    texts, kinds = sheet.cells[pos], sheet.kinds[pos]
    joined = "".join(texts.tolist())
    found: list[Found] = []

    def add(rows: pd.Series, code: str, message: Callable[[str, str], str]) -> None:
        for i in rows.to_numpy().nonzero()[0].tolist():
            cell = f"{sheet.letter(pos)}{sheet.row_numbers[i]}"
            found.append((i, spec, code, message(cell, str(texts.iat[i])), Severity.ERROR))

    if ERROR in marked or "#" in joined:
        add((kinds == ERROR) | texts.isin(EXCEL_ERRORS), "error-cell", cell_error_message)
    if FORMULA in marked:
        add(kinds == FORMULA, "formula-not-calculated", lambda c, _t: uncalculated_message(c))
    if _CONTROL.search(joined) is not None:
        hostile = test_per_unique(texts, lambda v: _CONTROL.search(v) is not None)
        add(hostile, "control-character", lambda c, t: control_message(c, _first_control(t)))
    return found


def _first_control(text: str) -> int:
    found = _CONTROL.search(text)
    return ord(found.group()) if found else 0


def normalise(sheet: Sheet, specs: list[Spec]) -> Normalised:
    result = Normalised({}, {}, [])
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
