"""Cells as calamine or the CSV reader gives them, turned into text and a kind.

A Sheet keeps exactly what the user typed, as text, plus what kind of cell
each was (:data:`TEXT`, :data:`NUMBER`, :data:`DATE`...), so that checks can
tell "12345678901" typed as text from the number 12345678901 that lost a
leading zero. Cells are turned into text column by column, and each DataFrame
is built once from a ready two-dimensional array.

- A number is written as Excel shows it in a General cell: at most 15
  significant digits (a formula's 0.30000000000000004 reads "0.3"), no ".0",
  never an exponent.
- A date cell whose time is midnight reads as a date; a time-only cell reads
  as "HH:MM:SS" (kind DATE).
- A column with neither a header nor any data is dropped wherever it is;
  ``Grid.source_columns`` keeps each column's place in the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from bulk_update.errors import SheetError
from bulk_update.workbook import column_letter

# Cell kinds, one letter each, kept in Sheet.kinds.
EMPTY = ""
TEXT = "s"
NUMBER = "n"
DATE = "d"  # a real Excel date or datetime cell
BOOL = "b"
ERROR = "e"  # an Excel error value such as #N/A
FORMULA = "f"  # a formula saved without its computed value (never calculated)

EXCEL_ERRORS = frozenset(
    ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
     "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!")
)  # fmt: skip
"""The texts of Excel's error values: a CSV saved by Excel holds them as plain text."""


class ErrorCell(str):
    """An Excel error value (``#N/A``) put back into calamine's rows."""


class Uncalculated(str):
    """A formula cell saved without a computed value, put back into calamine's rows as ""."""


def number_text(value: float) -> str:
    """A number as Excel shows it: 15 significant digits, no ".0", no exponent."""
    short = repr(value)
    if len(short) <= 16 and "e" not in short:  # at most 15 digits: repr is already right
        if short.endswith(".0"):
            return "0" if short == "-0.0" else short[:-2]
        return short
    text = f"{value:.15g}"
    if "e" in text:
        text = format(Decimal(text), "f")
    return "0" if text == "-0" else text


def cell_text(value: Any) -> tuple[str, str]:
    """The text and kind of one cell value as calamine returns it."""
    kind_of = type(value)
    if kind_of is str:
        return value, (TEXT if value else EMPTY)
    if kind_of is float:
        return number_text(value), NUMBER
    if kind_of is bool:
        return ("TRUE" if value else "FALSE"), BOOL
    if kind_of is int:
        return str(value), NUMBER
    if kind_of is dt.datetime:
        if value.time() == dt.time(0):
            return value.date().isoformat(), DATE
        spec = "milliseconds" if value.microsecond else "seconds"
        return value.isoformat(timespec=spec), DATE
    if kind_of is dt.date:
        return value.isoformat(), DATE
    if kind_of is dt.time:
        return value.isoformat(timespec="seconds"), DATE
    if kind_of is dt.timedelta:
        seconds = round(value.total_seconds())
        hours, rest = divmod(seconds, 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}", DATE
    if kind_of is ErrorCell:
        return str(value), ERROR
    if kind_of is Uncalculated:
        return "", FORMULA
    return str(value), TEXT


def _convert(values: Iterable[Any]) -> tuple[list[str], list[str]]:
    """Texts and kinds of one column that holds more than strings."""
    texts: list[str] = []
    kinds: list[str] = []
    for v in values:
        kind_of = type(v)
        if kind_of is str:
            texts.append(v)
            kinds.append(TEXT if v else EMPTY)
        elif kind_of is float:
            texts.append(number_text(v))
            kinds.append(NUMBER)
        else:
            text, kind = cell_text(v)
            texts.append(text)
            kinds.append(kind)
    return texts, kinds


def is_blank(row: Sequence[Any]) -> bool:
    if row.count("") == len(row):
        return True
    return not any(type(v) is not str or v.strip() for v in row)


@dataclass
class Grid:
    headers: list[str]
    header_row: int
    source_columns: list[int]
    cells: pd.DataFrame
    kinds: pd.DataFrame
    row_numbers: list[int]


def to_grid(rows: Iterable[Sequence[Any]], where: str, first_row: int = 1) -> Grid:
    """Header row, data rows and kinds from raw rows (row ``first_row`` first).

    ``where`` names the file (and sheet) in error messages.
    """
    header: list[str] | None = None
    header_row = 0
    data: list[Sequence[Any]] = []
    numbers: list[int] = []
    for number, row in enumerate(rows, start=first_row):
        if is_blank(row):
            continue
        if header is None:
            header = [cell_text(v)[0].strip() for v in row]
            header_row = number
            continue
        data.append(row)
        numbers.append(number)
    if header is None:
        raise SheetError(f"{where} is empty: the first row must hold the column names")
    if data:
        title_row_check(where, header, header_row, data[0], numbers[0])
    width = max([len(header), *map(len, data)])
    header += [""] * (width - len(header))
    cells, kinds = cells_and_kinds(data, width)
    keep: list[int] = []
    for i in range(width):
        if header[i]:
            keep.append(i)
            continue
        filled = [n for n, t in zip(numbers, cells[:, i], strict=True) if t.strip()]
        if filled:
            raise SheetError(
                f"{where}: column {column_letter(i)} has a value in row {filled[0]} "
                f"but no header in row {header_row}: give the column a name or delete it"
            )
    if len(keep) < width:
        cells, kinds = cells[:, keep], kinds[:, keep]
    return Grid(
        headers=[header[i] for i in keep],
        header_row=header_row,
        source_columns=keep,
        cells=frame(cells),
        kinds=frame(kinds),
        row_numbers=numbers,
    )


_HEADER_WORDS = frozenset(("identifier", "id", "opportunityid"))


def title_row_check(
    where: str, header: list[str], header_row: int, first: Sequence[Any], first_row: int
) -> None:
    """Refuse a title above the header: a lone cell on the first row, more cells below it.

    Read as the header, such a sheet would report a value "with no header" in
    each column but the first; the message names the title and the real header.
    """
    named = [h for h in header if h]
    if len(named) != 1 or named[0].replace(" ", "").casefold() in _HEADER_WORDS:
        return
    filled = sum(1 for v in first if cell_text(v)[0].strip())
    if filled < 2:
        return
    raise SheetError(
        f"{where}: row {header_row} looks like a title ({named[0]!r}), not the column names; "
        f"the header looks like row {first_row}: delete row {header_row} (the header must be "
        "the first filled row) and save again"
    )


def cells_and_kinds(data: Sequence[Sequence[Any]], width: int) -> tuple[np.ndarray, np.ndarray]:
    """Two object arrays (rows x width) of the rows' texts and kinds; short rows padded."""
    cells = _array(data, width)
    kinds = np.full(cells.shape, TEXT, dtype=object)
    converted: dict[int, list[str]] = {}
    for i in range(width):
        column = cells[:, i]
        if not set(map(type, column)) <= {str}:
            texts, converted[i] = _convert(column)
            column[:] = texts
    kinds[cells == ""] = EMPTY
    for i, column_kinds in converted.items():
        kinds[:, i] = column_kinds
    return cells, kinds


def _array(rows: Sequence[Sequence[Any]], width: int) -> np.ndarray:
    """A two-dimensional object array of the rows, short rows padded with ""."""
    if not rows:
        return np.empty((0, width), dtype=object)
    if any(len(r) != width for r in rows):
        rows = [r if len(r) == width else [*r, *([""] * (width - len(r)))] for r in rows]
    array = np.empty((len(rows), width), dtype=object)
    array[:] = rows
    return array


def frame(array: np.ndarray) -> pd.DataFrame:
    """An object DataFrame (columns 0..n-1) on top of a two-dimensional array."""
    return pd.DataFrame(array, columns=range(array.shape[1]), dtype=object, copy=False)
