"""Rows refused offline only for values the installed botocore's enums lack: held for the read.

The offline check (:mod:`bulk_update.sheet.checks`) refuses a value outside a
field's enum (``not-allowed``) before any call.  But Partner Central may know
a newer enum than this botocore: AWS adds values faster than users upgrade.
So ``apply`` (and its dry run) does not end such a row offline when its only
errors are ``not-allowed`` on field cells it sets: :func:`hold` rebuilds the
row's edits and keeps those problems aside (a :class:`~bulk_update.decide.Held`),
and the planner judges them after the read (:func:`bulk_update.decide.rejudge`):
a warning when the live record already holds values outside the installed
enum in that field, else the row ends ``invalid`` exactly as offline.

The row's edits are rebuilt by the offline check itself, run again on those
rows only with the held cells emptied (so every other cell is normalised and
checked as before), and the held cells' values put back: trimmed, list items
split on ``;``, known values in their canonical spelling.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bulk_update import fields as cat
from bulk_update.decide import Held, HeldCell
from bulk_update.payload import CLEAR, CLEAR_TEXT, LIST_SEPARATOR, Path, RowEdit, Value, field_path
from bulk_update.problems import Problem
from bulk_update.run.validate import Loaded, _invalid_message
from bulk_update.sheet import checks
from bulk_update.sheet.columns import Column
from bulk_update.sheet.messages import canon_key
from bulk_update.sheet.read import EMPTY, Sheet

HELD_CODE = "not-allowed"


def hold(loaded: Loaded, *, run_catalog: str | None, today: dt.date | None) -> dict[int, Held]:
    """Rows held for the read, by Excel row; their rebuilt edits are put into
    ``loaded.report.edits`` (so the run reads them), their held problems stay
    in ``loaded.report.problems`` (see :func:`offline_problems`)."""
    fields = _enum_columns(loaded)
    candidates = _candidates(loaded, fields)
    if not candidates:
        return {}
    positions = sorted(candidates)
    sub = _sub_sheet(loaded.sheet, positions, fields, candidates)
    again = checks.check_sheet(
        sub, loaded.layout, cat.load(), run_catalog=run_catalog,
        today=today or dt.datetime.now(dt.UTC).date(), duplicates={},
    )  # fmt: skip
    held: dict[int, Held] = {}
    for k, i in enumerate(positions):
        edit = again.edits[k]
        if edit is None:  # something else is wrong once the cell is left out: as offline
            continue
        cells: dict[Path, HeldCell] = {}
        for p in candidates[i]:
            col = fields[str(p.column)]
            assert col.field is not None
            cells.setdefault(_path_of(col), HeldCell(_path_of(col), col.field, p))
        for path in cells:
            _put_back(edit, path, loaded, i)
        loaded.report.edits[i] = edit
        found = tuple(candidates[i])
        held[edit.row] = Held(tuple(cells.values()), found, _invalid_message(list(found)))
    return held


def offline_problems(loaded: Loaded, held: dict[int, Held]) -> list[Problem]:
    """The sheet's problems without the held ones (the planner reports those)."""
    return [
        p
        for p in loaded.report.problems
        if not (p.row in held and p.code == HELD_CODE and p.is_error)
    ]


def _enum_columns(loaded: Loaded) -> dict[str, Column]:
    """The sheet's field columns with an enum, by header."""
    return {
        c.header: c
        for c in loaded.layout.columns
        if c.role == "field" and c.field is not None and c.field.enum and not c.field.read_only
    }


def _candidates(loaded: Loaded, fields: dict[str, Column]) -> dict[int, list[Problem]]:
    """Per row position: the row's errors, when every one is ``not-allowed`` on an enum field."""
    errors: dict[int, list[Problem]] = {}
    for p in loaded.report.problems:
        if p.is_error and p.row is not None:
            errors.setdefault(p.row, []).append(p)
    out: dict[int, list[Problem]] = {}
    for i, row in enumerate(loaded.sheet.row_numbers):
        found = errors.get(row)
        if loaded.report.edits[i] is not None or not found:
            continue
        if all(p.code == HELD_CODE and str(p.column) in fields for p in found):
            out[i] = found
    return out


def _group(loaded: Loaded, path: Path) -> list[Column]:
    """Every field column of the sheet that writes ``path`` (a plain list spread
    over indexed columns is several), in item order."""
    cols = [
        c
        for c in loaded.layout.columns
        if c.role == "field" and c.field is not None and _path_of(c) == path
    ]
    return sorted(cols, key=lambda c: c.index or 0)


def _sub_sheet(
    sheet: Sheet, positions: list[int], fields: dict[str, Column], held: dict[int, list[Problem]]
) -> Sheet:
    """Those rows of the sheet, every column of a held cell's field emptied."""
    cells = sheet.cells.iloc[positions].reset_index(drop=True).copy()
    kinds = sheet.kinds.iloc[positions].reset_index(drop=True).copy()
    for k, i in enumerate(positions):
        paths = {_path_of(fields[str(p.column)]) for p in held[i]}
        for c in fields.values():
            if _path_of(c) in paths:
                cells.iat[k, c.position] = ""
                kinds.iat[k, c.position] = EMPTY
    return dataclasses.replace(
        sheet, cells=cells, kinds=kinds, row_numbers=[sheet.row_numbers[i] for i in positions]
    )


def _path_of(col: Column) -> Path:
    assert col.field is not None
    return field_path(col.field, col.index)


def _put_back(edit: RowEdit, path: Path, loaded: Loaded, i: int) -> None:
    """The held field's value, from its column(s) as the sheet holds them."""
    value: Value | None = None
    header = None
    for col in _group(loaded, path):
        assert col.field is not None
        text = str(loaded.sheet.cells.iat[i, col.position]).strip()
        if not text:
            continue
        header = header or col.header
        if text.upper() == CLEAR_TEXT:
            value = value if value is not None else CLEAR
            continue
        canon = {canon_key(a): a for a in col.field.allowed}
        if col.field.kind == "list":
            items = tuple(
                canon.get(canon_key(t), t)
                for t in (s.strip() for s in text.split(LIST_SEPARATOR))
                if t
            )
            value = (value if isinstance(value, tuple) else ()) + items
        else:
            value = canon.get(canon_key(text), text)
    if value is not None and header is not None:
        edit.edits[path] = value
        edit.columns[path] = header
