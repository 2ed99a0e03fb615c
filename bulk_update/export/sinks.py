"""The files an export writes: the ``.xlsx`` workbook, or the ``.csv`` and its sidecars.

:mod:`bulk_update.export.job` lists and reads the opportunities; the rows go,
one at a time and in order, to a :class:`Sink` made here.

An ``.xlsx`` export holds, besides the data sheet ``Opportunities``:

- ``_baseline`` (very hidden, protected): every exported value of every row,
  under the same headers, all cells text.  ``apply`` compares the data sheet
  with it to learn which cells the user changed (sheet-contract.md, section 4).
- ``_export`` (very hidden, protected): ``key, value`` rows: ``catalog``,
  ``exported_at`` (ISO 8601, UTC), ``columns``, ``rows``, ``filters``.
- ``_lists`` (very hidden, protected): the allowed values that the dropdowns
  of long value lists (country and currency codes...) point at.
- ``Guide`` (visible, after the data sheet): how to edit the sheet, what the
  owner and related-entity columns do, and why it has no ``Submit`` columns.

On the data sheet the read-only columns (``Identifier``, ``LastModifiedDate``,
the review columns, ``Catalog``) are grey and locked; the sheet is protected
without a password, so editing the other cells, formatting, filtering and
sorting stay allowed.  (Excel itself refuses to sort a range that holds locked
cells on a protected sheet, whatever the permission says: to sort, use Review >
Unprotect Sheet first; the tool matches rows by ``Identifier``, never by
position.)  Each column has a hint, and columns with a list of allowed values a
dropdown (warning style, so a value in another spelling can still be typed: the
tool writes it in its canonical spelling). As in the templates, a field with a
pattern gets its formula (warning style here) and the cross-field rules colour
the cells they flag (``rules.RULES``).

A ``.csv`` export is UTF-8 with a byte-order mark; its baseline goes to
``<name>.baseline.csv`` beside it (same shape as ``_baseline``) and its
metadata to ``<name>.export.json`` (see :func:`sidecar_paths`).  In both csv
files a cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@``, tab, carriage return first) gets one apostrophe before it
(:func:`bulk_update.csvtext.escape`); the tool's reader takes it off again.

Every text is written as text: never a formula, a number or a link.  A value
longer than Excel's 32,767-character cell limit cannot be held by an ``.xlsx``
cell; it is left out of both the data sheet and the baseline (an empty cell
keeps the live value), its cell is locked, and the report says which.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bulk_update import fields as _catalog
from bulk_update import guidance as _guide
from bulk_update.csvtext import escape, needs_escape
from bulk_update.fields import Field
from bulk_update.sheet.baseline import sidecar_paths as sidecar_paths
from bulk_update.workbook import BASELINE_SHEET as BASELINE_SHEET
from bulk_update.workbook import CELL_LIMIT as CELL_LIMIT
from bulk_update.workbook import (
    CLEAR_TEXT,
    HEADER_STYLE,
    LAST_ROW,
    WORKBOOK_OPTIONS,
    column_letter,
    column_width,
    print_setup,
)
from bulk_update.workbook import DATA_SHEET as DATA_SHEET
from bulk_update.workbook import EXPORT_SHEET as EXPORT_SHEET
from bulk_update.workbook import GUIDE_SHEET as GUIDE_SHEET
from bulk_update.workbook import LISTS_SHEET as LISTS_SHEET
from bulk_update.xlsxrows import Cell, RowSheet


@dataclass(frozen=True)
class Column:
    """One column of the sheet: its header, the field it names (None if none), read-only or not."""

    name: str
    field: Field | None
    read_only: bool


def _units(text: str) -> int:
    """Length in UTF-16 units, as Excel counts a cell."""
    if len(text) <= CELL_LIMIT // 2:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _hint(column: Column) -> tuple[str, str]:
    """The title and message Excel shows when a cell of the column is selected."""
    title = column.name.split(".")[-1][:32]
    f = column.field
    if column.name == _catalog.IDENTIFIER:
        return title, "The opportunity's id. Read-only: the tool finds the record by it."
    if column.name == _catalog.LAST_MODIFIED:
        return title, (
            "The version this row was exported from (UTC). Read-only: the tool "
            "uses it to tell your edits from changes made in Partner Central since."
        )
    if column.name == _catalog.CATALOG_COLUMN:
        return title, "The catalog this sheet was exported from. Read-only."
    if f is None or column.read_only:
        return title, "Read-only: exported for reference, never written."
    parts: list[str] = []

    first = _guide.meaning(f, column.name).rstrip(".")
    parts.append(first[:120] + ("..." if len(first) > 120 else "") + ".")
    if f.kind == "date":
        parts.append("Date as YYYY-MM-DD.")
    elif f.kind == "list":
        parts.append("Several values separated by ;.")
        if f.allowed:
            shown = "; ".join(f.allowed[:4])
            parts.append(f"Values such as: {shown}{' ...' if len(f.allowed) > 4 else ''}.")
    elif f.allowed:
        parts.append("Pick from the list.")
    note = _guide.call_note(f)
    if note is not None:
        parts.append(note + (f" {CLEAR_TEXT} removes them all." if _guide.clearable(f) else ""))
    else:
        if f.max_length:
            parts.append(f"At most {f.max_length} characters.")
        parts.append("Empty keeps the live value; #CLEAR empties it.")
    message = " ".join(parts)
    if len(message) > 255:
        message = message[:252] + "..."
    return title, message


class _Lists:
    """The ``_lists`` sheet: value lists too long for an inline dropdown.

    Lists are gathered first and written row by row by :meth:`close`, as the
    workbook's constant-memory mode needs.
    """

    def __init__(self, book: xlsxwriter.Workbook, text: Format) -> None:
        self.book = book
        self.text = text
        self.columns: dict[tuple[str, ...], str] = {}

    def source(self, values: tuple[str, ...]) -> str | list[str]:
        if sum(len(v) + 1 for v in values) <= 250 and not any("," in v for v in values):
            return list(values)
        if values not in self.columns:
            letter = column_letter(len(self.columns))
            self.columns[values] = f"='{LISTS_SHEET}'!${letter}$1:${letter}${len(values)}"
        return self.columns[values]

    def close(self) -> None:
        if not self.columns:
            return
        sheet = self.book.add_worksheet(LISTS_SHEET)
        lists = list(self.columns)
        for row in range(max(len(v) for v in lists)):
            for col, values in enumerate(lists):
                if row < len(values):
                    sheet.write_string(row, col, values[row], self.text)
        sheet.very_hidden()
        sheet.protect()


def _validate(ws: Worksheet, col: int, column: Column, lists: _Lists) -> None:
    title, message = _hint(column)
    options: dict[str, Any] = {
        "validate": "any",
        "input_title": title,
        "input_message": message,
        "ignore_blank": True,
    }
    f = column.field
    if f is not None and not column.read_only:
        if f.kind in ("enum", "text") and f.allowed:
            # As the template: a stop for the model's own values, no error for
            # values the documentation lists but the service does not enforce.
            values = (*f.allowed, CLEAR_TEXT) if _guide.clearable(f) else f.allowed
            options.update(validate="list", source=lists.source(tuple(values)))
            if f.enum:
                options.update(
                    error_type="stop",
                    error_title="Not an allowed value",
                    error_message="Pick a value from the list"
                    + (", or #CLEAR to empty the field." if _guide.clearable(f) else "."),
                )
            else:
                options.update(show_error=False)
        elif (check := _cell_check(f, col)) is not None:
            # The template's formula from the model's pattern and length; warning
            # style, as everywhere in the export.
            options.update(check, error_type="warning")
        elif f.kind == "text" and f.max_length:
            options.update(
                validate="length",
                criteria="<=",
                value=f.max_length,
                error_type="warning",
                error_title="Too long",
                error_message=f"Partner Central takes at most {f.max_length} characters here.",
            )
    ws.data_validation(1, col, LAST_ROW, col, options)


def _cell_check(f: Field, col: int) -> dict[str, Any] | None:

    return _guide.cell_validation(f, _guide.clearable(f), f"{column_letter(col)}2")


TIMESTAMP_WIDTH = len("2026-05-01T20:37:46.123Z")
"""The characters of a LastModifiedDate as the export writes it."""
MAX_WIDTH = 50
"""No column is wider than this (characters); longer texts wrap when edited."""


def _least(column: Column) -> int:
    """The characters a column's values take whatever the sample holds (frame, dates, lists)."""
    f = column.field
    if column.name == _catalog.LAST_MODIFIED:
        return TIMESTAMP_WIDTH
    if column.name == _catalog.IDENTIFIER:
        return len("O1234567890")
    if f is None:
        return 0
    if f.kind == "date":
        return len("2026-12-31")
    if f.allowed and f.kind != "list":
        return max(len(v) for v in f.allowed)
    return 0


def _width(column: Column, values: Iterable[str]) -> float:
    """Wide enough for the header, the sample's values (first lines) and what the field holds."""
    return column_width([column.name, *values], least=_least(column), most=MAX_WIDTH)


def _too_long(identifier: str, column: str) -> str:
    return (
        f"{identifier} {column}: the value is longer than Excel's {CELL_LIMIT:,}-character "
        "cell limit, so the cell is left empty and locked (an empty cell keeps the live "
        "value); change this field in Partner Central"
    )


EXPORT_GUIDE: list[tuple[str, str]] = [
    ("#", "How to use this export"),
    (
        "",
        "Edit the white cells of the Opportunities sheet, then run bulk-update apply on "
        "this file (--dry-run first). Grey columns are read-only. Only the cells you change "
        "are sent: a row you leave as exported sends nothing.",
    ),
    ("empty", "leave this field as it is on the live record"),
    (CLEAR_TEXT, "empty this field (a required field cannot be emptied)"),
    ("anything else", "set the field to this value"),
]
"""The export's Guide before :func:`call_lines`."""


class Sink:
    """Where the rows go, one at a time, in order."""

    def __init__(self, columns: list[Column]) -> None:
        self.columns = columns
        self.headers = [c.name for c in columns]
        self.rows = 0
        self.warnings: list[str] = []

    def add(self, row: dict[str, str]) -> None:
        raise NotImplementedError

    def close(self, meta: list[tuple[str, str]]) -> list[Path]:
        """Finish the files (metadata last) and return their paths."""
        raise NotImplementedError


class XlsxSink(Sink):
    """The data sheet and ``_baseline``, row by row (constant memory), then ``_export``."""

    def __init__(self, out: Path, columns: list[Column], sample: Sequence[dict[str, str]]) -> None:

        super().__init__(columns)
        self.out = out
        book = self.book = xlsxwriter.Workbook(str(out), WORKBOOK_OPTIONS)
        book.set_properties(
            {
                "title": "bulk-update export",
                "comments": "Edit the white cells, then: bulk-update apply",
            }
        )
        self.text = book.add_format({"num_format": "@"})
        self.editable = book.add_format({"num_format": "@", "locked": False})
        self.locked = book.add_format(
            {"num_format": "@", "locked": True, "bg_color": "#E7E6E6", "font_color": "#595959"}
        )
        head_edit = book.add_format({**HEADER_STYLE, "num_format": "@"})
        head_ro = book.add_format({**HEADER_STYLE, "num_format": "@", "bg_color": "#A6A6A6"})
        # whole rows (RowSheet): faster, and a text like "<r>...</r>" stays text
        self.ws = book.add_worksheet(DATA_SHEET, worksheet_class=RowSheet)
        self.base = book.add_worksheet(BASELINE_SHEET, worksheet_class=RowSheet)
        self.info = book.add_worksheet(EXPORT_SHEET)
        self.lists = _Lists(book, self.text)
        for col, c in enumerate(columns):
            width = _width(c, (r.get(c.name, "") for r in sample[:200]))
            self.ws.set_column(col, col, width, self.locked if c.read_only else self.editable)
            self.base.set_column(col, col, width, self.text)
            _validate(self.ws, col, c, self.lists)
            self.ws.write_string(0, col, c.name, head_ro if c.read_only else head_edit)
            self.base.write_string(0, col, c.name, self.text)

        _guide.add_rule_formats(book, self.ws, [c.name for c in columns], last_row=LAST_ROW)
        self.ws.freeze_panes(1, 1)
        print_setup(self.ws)
        self.ws.protect(
            "",
            {
                "autofilter": True,
                "sort": True,
                "format_cells": True,
                "format_columns": True,
                "format_rows": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )

    def add(self, row: dict[str, str]) -> None:
        self.rows += 1
        n = self.rows
        cells: list[Cell] = []
        kept: list[Cell] = []
        for col, c in enumerate(self.columns):
            value = row.get(c.name, "")
            if not value:
                continue
            if _units(value) > CELL_LIMIT:
                self.warnings.append(_too_long(row.get(_catalog.IDENTIFIER, ""), c.name))
                cells.append((col, "", self.locked))
                continue
            cells.append((col, value, self.locked if c.read_only else self.editable))
            kept.append((col, value, self.text))
        self.ws.put_row(n, cells)
        self.base.put_row(n, kept)

    def close(self, meta: list[tuple[str, str]]) -> list[Path]:
        self.ws.autofilter(0, 0, max(self.rows, 1), len(self.columns) - 1)
        self.base.very_hidden()
        self.base.protect()
        info, text = self.info, self.text
        info.write_string(0, 0, "key", text)
        info.write_string(0, 1, "value", text)
        for n, (key, value) in enumerate(meta, start=1):
            info.write_string(n, 0, key, text)
            info.write_string(n, 1, value[:CELL_LIMIT], text)
        info.very_hidden()
        info.protect()
        self.lists.close()
        self._guide()
        self.ws.activate()
        self.book.close()
        return [self.out]

    def _guide(self) -> None:
        """The visible ``Guide`` sheet: how to edit, the owner and entity columns, and why
        there are no Submit columns (the data sheet stays the first: the one read)."""
        ws = self.book.add_worksheet(GUIDE_SHEET)
        formats = _guide.guide_formats(self.book)
        ws.set_column(0, 0, 30)
        ws.set_column(1, 1, _guide.GUIDE_WIDTH, formats["wrap"])
        print_setup(ws, header=False)
        ws.write_string(0, 0, "bulk-update export", formats["title"])
        _guide.write_guide_lines(
            ws,
            0,
            [*EXPORT_GUIDE, *_guide.call_lines()],
            formats["heading"],
            formats["label"],
        )


class CsvSink(Sink):
    """The csv (UTF-8 with BOM) and its baseline twin, row by row, then the json metadata."""

    def __init__(self, out: Path, columns: list[Column]) -> None:
        super().__init__(columns)
        self.out = out
        self.baseline, self.info = sidecar_paths(out)
        self.files = [
            out.open("w", encoding="utf-8-sig", newline=""),
            self.baseline.open("w", encoding="utf-8-sig", newline=""),
        ]
        self.writers = [csv.writer(f, quoting=csv.QUOTE_MINIMAL) for f in self.files]
        for w in self.writers:
            w.writerow([escape(h) for h in self.headers])
        self.long_cells = 0
        self.escaped = 0
        """Cells written with csvtext's apostrophe first (they would run as formulas)."""

    def add(self, row: dict[str, str]) -> None:
        self.rows += 1
        cells = [row.get(h, "") for h in self.headers]
        for value in cells:
            if needs_escape(value):
                self.escaped += 1
            if len(value) > CELL_LIMIT // 2 and _units(value) > CELL_LIMIT:
                self.long_cells += 1
        written = [escape(value) for value in cells]
        for w in self.writers:
            w.writerow(written)

    def close(self, meta: list[tuple[str, str]]) -> list[Path]:
        for f in self.files:
            f.close()
        data: dict[str, Any] = dict(meta)
        data["data_file"] = self.out.name
        data["baseline_file"] = self.baseline.name
        self.info.write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if self.long_cells:
            self.warnings.append(
                f"{self.long_cells} cell(s) are longer than Excel's {CELL_LIMIT:,}-character "
                "limit: Excel would cut them if you open this CSV in it; edit it in a text editor"
            )
        if self.escaped:
            self.warnings.append(
                f"{self.escaped} cell(s) begin with =, +, -, @, a tab or a carriage return: "
                "they are written with an apostrophe first so that a spreadsheet shows them "
                "as text, not formulas (the tool takes that apostrophe off when it reads "
                "the file back); keep it if you edit them, or use --format xlsx"
            )
        return [self.out, self.baseline, self.info]
