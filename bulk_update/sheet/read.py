"""Reading .xlsx and .csv files into a table of text cells and their kinds.

INTERFACE (implemented by the readers work):

    read_sheet(path, sheet=None) -> Sheet      raises errors.SheetError

A Sheet keeps exactly what the user typed, as text, plus what kind of cell
each was, so that checks can tell "12345678901" typed as text from the number
12345678901 that lost a leading zero.

Workbooks are read with python-calamine: on 50,000 rows x 80 columns it
needs about 5 CPU seconds where openpyxl's read-only mode needs about 70
(benchmarks/read_compare.py). calamine reports an Excel error cell (#N/A,
#DIV/0!...) as an empty string, so the reader also looks through the sheet's
XML for error cells; that scan is a plain byte search. Cells are turned into
text column by column, and each DataFrame is built once from a ready
two-dimensional array.

Decisions where the contract is silent:

- A number is written as Excel shows it in a General cell: at most 15
  significant digits (a formula's 0.30000000000000004 reads "0.3"), no ".0",
  never an exponent.
- A date cell whose time is midnight reads as a date; a time-only cell reads
  as "HH:MM:SS" (kind DATE).
- Without ``--sheet``, the first visible worksheet whose name does not start
  with ``_`` is read; ``--sheet`` also matches ignoring case and spaces.
- A column with neither a header nor any data is dropped wherever it is;
  ``Sheet.source_columns`` keeps each column's place in the file.
- A formula that was never calculated (written by a program, never opened in
  Excel) has no cached value: it reads as "" of kind FORMULA, and the checks
  make its row ``invalid`` (the edit it holds must not be lost silently).
- A CSV file's first line ``sep=;`` (which Excel writes and reads) sets the
  delimiter and is not a row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from bulk_update.errors import SheetError
from bulk_update.sheet import limits
from bulk_update.sheet.baseline import BASELINE_PROBLEM as BASELINE_PROBLEM
from bulk_update.sheet.baseline import export_baseline
from bulk_update.sheet.csvcells import csv_records
from bulk_update.workbook import BASELINE_SHEET as BASELINE_SHEET
from bulk_update.workbook import column_letter as column_letter

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

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)

_OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_PASSWORD_HINT = (
    "is password-protected: remove the password in Excel "
    "(File > Info > Protect Workbook) and save again"
)
_UTF8_HINT = "save the file as 'CSV UTF-8' in Excel"


@dataclass
class Sheet:
    path: Path
    sheet_name: str | None
    """The sheet read (xlsx), None for csv."""
    headers: list[str]
    """Header cells as read, trimmed of surrounding spaces, in file order."""
    cells: pd.DataFrame
    """One column per header position (columns are 0..n-1), values are str,
    "" for an empty cell. Numbers are written as the digits they hold
    (no ".0", no exponent); date cells as YYYY-MM-DD (or ISO datetime when
    the cell has a time of day); bools as TRUE/FALSE."""
    kinds: pd.DataFrame
    """Same shape as cells: one of EMPTY, TEXT, NUMBER, DATE, BOOL, ERROR."""
    row_numbers: list[int]
    """For each row of cells, its row number as Excel shows it (header = the
    header's own row number, usually 1; blank rows are dropped but keep the
    numbering of the rows after them)."""
    baseline: pd.DataFrame | None = None
    """The hidden ``_baseline`` sheet of an export, as read (issue 5), else None."""
    meta: dict[str, str] = field(default_factory=dict)
    """Export metadata found beside the baseline (catalog, exported_at...)."""
    header_row: int = 1
    """The Excel row number of the header row."""
    source_columns: list[int] = field(default_factory=list)
    """For each header position, its 0-based column in the file (A = 0). The
    reader drops columns that have neither a header nor data, so a position
    and a file column differ only when such a column came before it."""

    def __len__(self) -> int:
        return len(self.row_numbers)

    def letter(self, position: int) -> str:
        """The Excel column letter of a header position (``C`` for the third column)."""
        column = self.source_columns[position] if self.source_columns else position
        return column_letter(column)


def read_sheet(path: str | Path, sheet: str | None = None) -> Sheet:
    """Read the data sheet of an .xlsx/.xlsm or .csv file, every cell as text."""
    path = Path(path)
    if not path.exists():
        raise SheetError(f"{path}: no such file")
    if path.is_dir():
        raise SheetError(f"{path} is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path, sheet)
    if suffix in CSV_SUFFIXES:
        if sheet is not None:
            raise SheetError(f"{path.name} is a CSV file: it has no sheets to choose from")
        return _read_csv(path)
    raise SheetError(
        f"{path.name}: unsupported file type {suffix or '(no extension)'!r}: "
        "save it as .xlsx or .csv"
    )


# ---------------------------------------------------------------- cells to text


class _ErrorCell(str):
    """An Excel error value (``#N/A``) put back into calamine's rows."""


class _Uncalculated(str):
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


def _cell(value: Any) -> tuple[str, str]:
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
    if kind_of is _ErrorCell:
        return str(value), ERROR
    if kind_of is _Uncalculated:
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
            text, kind = _cell(v)
            texts.append(text)
            kinds.append(kind)
    return texts, kinds


def _is_blank(row: Sequence[Any]) -> bool:
    if row.count("") == len(row):
        return True
    return not any(type(v) is not str or v.strip() for v in row)


@dataclass
class _Grid:
    headers: list[str]
    header_row: int
    source_columns: list[int]
    cells: pd.DataFrame
    kinds: pd.DataFrame
    row_numbers: list[int]


def _grid(rows: Iterable[Sequence[Any]], where: str, first_row: int = 1) -> _Grid:
    """Header row, data rows and kinds from raw rows (row ``first_row`` first).

    ``where`` names the file (and sheet) in error messages.
    """
    header: list[str] | None = None
    header_row = 0
    data: list[Sequence[Any]] = []
    numbers: list[int] = []
    for number, row in enumerate(rows, start=first_row):
        if _is_blank(row):
            continue
        if header is None:
            header = [_cell(v)[0].strip() for v in row]
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
    return _Grid(
        headers=[header[i] for i in keep],
        header_row=header_row,
        source_columns=keep,
        cells=_frame(cells),
        kinds=_frame(kinds),
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
    filled = sum(1 for v in first if _cell(v)[0].strip())
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


def _frame(array: np.ndarray) -> pd.DataFrame:
    """An object DataFrame (columns 0..n-1) on top of a two-dimensional array."""
    return pd.DataFrame(array, columns=range(array.shape[1]), dtype=object, copy=False)


# ---------------------------------------------------------------- xlsx


def _read_xlsx(path: Path, sheet: str | None) -> Sheet:
    with path.open("rb") as f:
        magic = f.read(8)
    if not magic:
        raise SheetError(f"{path.name} is empty")
    if magic == _OLE2_MAGIC:
        raise SheetError(f"{path.name} {_PASSWORD_HINT}")
    limits.check_archive(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise SheetError(f"{path.name} is not a readable .xlsx file ({_first_line(e)})") from e
    with book:
        name = _choose_sheet(path, book, sheet)
        _check_dimension(path, name)
        where = f"{path.name}, sheet {name!r}"
        rows = _sheet_rows(path, book, name)
        _put_back_errors(path, name, rows)
        if all(map(_is_blank, rows)):
            raise empty_sheet_error(path, name, where, book)
        grid = _grid(rows, where)
        del rows
        baseline, meta = export_baseline(
            book.sheet_names,
            lambda n: [[_cell(v)[0] for v in row] for row in _sheet_rows(path, book, n)],
            lambda rows, n: _grid(rows, f"{path.name}, sheet {n!r}"),
        )
    return Sheet(
        path=path,
        sheet_name=name,
        headers=grid.headers,
        cells=grid.cells,
        kinds=grid.kinds,
        row_numbers=grid.row_numbers,
        baseline=baseline,
        meta=meta,
        header_row=grid.header_row,
        source_columns=grid.source_columns,
    )


def read_baseline(path: Path) -> pd.DataFrame | None:
    """Only the ``_baseline`` sheet of an export (None without one, or when broken)."""
    try:
        with zipfile.ZipFile(path) as z:
            if BASELINE_SHEET.encode() not in z.read("xl/workbook.xml"):
                return None  # no need to open (and parse the shared strings of) the workbook
    except (zipfile.BadZipFile, OSError, KeyError):
        return None
    try:
        with CalamineWorkbook.from_path(str(path)) as book:
            if BASELINE_SHEET not in book.sheet_names:
                return None
            frame, _meta = export_baseline(
                [BASELINE_SHEET],
                lambda n: [[_cell(v)[0] for v in row] for row in _sheet_rows(path, book, n)],
                lambda rows, n: _grid(rows, f"{path.name}, sheet {n!r}"),
            )
            return frame
    except (CalamineError, OSError, ValueError):
        return None


def _check_dimension(path: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            member = _sheet_member(z, name)
    except (zipfile.BadZipFile, OSError, KeyError, ElementTree.ParseError):
        return
    if member is not None:
        limits.check_dimension(path, member, whole=True)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _sheet_rows(path: Path, book: CalamineWorkbook, name: str) -> list[list[Any]]:
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except CalamineError as e:
        raise SheetError(f"{path.name} is not a readable .xlsx file ({_first_line(e)})") from e


def empty_sheet_error(
    path: Path, name: str | None, where: str, book: CalamineWorkbook | None = None
) -> SheetError:
    """The error for an empty data sheet; it names the sheet that holds data, if one does."""
    plain = SheetError(f"{where} is empty: the first row must hold the column names")
    if name is None:
        return plain
    try:
        if book is None:
            with CalamineWorkbook.from_path(str(path)) as opened:
                other = _sheet_with_data(path, opened, name)
        else:
            other = _sheet_with_data(path, book, name)
    except (CalamineError, OSError, ValueError, SheetError):
        return plain
    if other is None:
        return plain
    return SheetError(
        f"{where} is empty; the data is on sheet {other!r}: read that sheet with "
        f"--sheet {_quoted_option(other)}, or move it to the front of the workbook"
    )


def _quoted_option(name: str) -> str:
    return name if re.fullmatch(r"[\w.-]+", name) else f'"{name}"'


def _sheet_with_data(path: Path, book: CalamineWorkbook, skip: str) -> str | None:
    for m in book.sheets_metadata:
        if m.name == skip or m.name.startswith("_") or m.typ != SheetTypeEnum.WorkSheet:
            continue
        if not all(map(_is_blank, _sheet_rows(path, book, m.name))):
            return m.name
    return None


def _choose_sheet(path: Path, book: CalamineWorkbook, wanted: str | None) -> str:
    """The data sheet: ``wanted`` if given, else the first visible worksheet not named ``_...``."""
    data = [
        m
        for m in book.sheets_metadata
        if not m.name.startswith("_") and m.typ == SheetTypeEnum.WorkSheet
    ]
    names = ", ".join(repr(m.name) for m in data) or "none"
    if wanted is not None:
        if wanted.startswith("_"):
            raise SheetError(
                f"{path.name}: sheet {wanted!r} belongs to the tool and is never read as data "
                f"(data sheets: {names})"
            )
        exact = [m.name for m in data if m.name == wanted]
        loose = [m.name for m in data if m.name.strip().casefold() == wanted.strip().casefold()]
        if exact or len(loose) == 1:
            return (exact or loose)[0]
        raise SheetError(f"{path.name} has no sheet named {wanted!r} (sheets: {names})")
    visible = [m for m in data if m.visible == SheetVisibleEnum.Visible]
    if not (visible or data):
        raise SheetError(f"{path.name} has no data sheet (only the tool's own sheets)")
    return (visible or data)[0].name


# Error cells: calamine gives "" for them, so find them in the sheet's XML.

_ERROR_MARKERS = (b' t="e"', b" t='e'")
_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]+)([0-9]+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CHUNK = 1 << 22


def _put_back_errors(path: Path, name: str, rows: list[list[Any]]) -> None:
    """Put back what calamine reads as "": error cells (#N/A...) and uncalculated formulas."""
    put_back(rows, _error_cells(path, name), 0)


def put_back(rows: list[list[Any]], found: dict[tuple[int, int], str], top: int) -> None:
    """Write each marked cell of ``found`` (0-based sheet row, column) into ``rows``,
    whose first row is sheet row ``top`` (0-based)."""
    for (row, col), value in found.items():
        k = row - top
        if 0 <= k < len(rows):
            line = rows[k]
            if col >= len(line):
                line.extend([""] * (col + 1 - len(line)))
            line[col] = value


def _error_cells(path: Path, name: str) -> dict[tuple[int, int], str]:
    """0-based (row, column) -> marked cell, for every error cell or uncalculated formula."""
    found: dict[tuple[int, int], str] = {}
    try:
        with zipfile.ZipFile(path) as z:
            member = _sheet_member(z, name)
            if member is None:
                return found
            with z.open(member) as stream:
                rest = b""
                while chunk := stream.read(_CHUNK):
                    buffer = rest + chunk
                    cut = buffer.rfind(b"</c>") + 4  # never split a cell between chunks
                    if cut < 4:
                        cut = 0
                    _scan_errors(buffer[:cut], found)
                    rest = buffer[cut:]
                _scan_errors(rest, found)
    except (zipfile.BadZipFile, OSError, KeyError, ElementTree.ParseError):
        return found
    return found


def _scan_errors(xml: bytes, found: dict[tuple[int, int], str]) -> None:
    """Mark the error cells and the formulas without a value in a piece of sheet XML."""
    # A writer quotes cell attributes one way throughout: search only for its way.
    single = xml.find(b' r="') < 0 and xml.find(b" r='") >= 0
    marker = _ERROR_MARKERS[1] if single else _ERROR_MARKERS[0]
    at = xml.find(marker)
    while at >= 0:
        _error_at(xml, at, found)
        at = xml.find(marker, at + len(marker))
    at = xml.find(b"<f")
    while at >= 0:
        if xml[at + 2 : at + 3] in (b">", b" ", b"/"):
            _formula_at(xml, at, found)
        at = xml.find(b"<f", at + 2)


def _formula_at(xml: bytes, at: int, found: dict[tuple[int, int], str]) -> None:
    """Mark the cell whose formula starts at ``at`` when it holds no computed value."""
    start = xml.rfind(b"<c ", 0, at)
    end = xml.find(b"</c>", at)
    if start < 0 or end < 0 or xml.find(b"</c>", start, at) >= 0:
        return
    if _VALUE.search(xml, at, end) is not None:
        return  # calculated: calamine reads its value
    open_end = xml.find(b">", start)
    ref = _REF.search(xml, start, open_end)
    if ref is None:
        return
    row, col = _ref_position(ref)
    found.setdefault((row, col), _Uncalculated(""))


def _ref_position(ref: re.Match[bytes]) -> tuple[int, int]:
    col = 0
    for ch in ref.group(1):
        col = col * 26 + ch - 64
    return int(ref.group(2)) - 1, col - 1


def _error_at(xml: bytes, at: int, found: dict[tuple[int, int], str]) -> None:
    """Record the error cell whose opening tag holds ``t="e"`` at offset ``at``."""
    start = xml.rfind(b"<c ", 0, at)
    if start < 0 or xml.find(b">", start, at) >= 0:
        return  # not inside a cell's opening tag (text that happens to read t="e")
    open_end = xml.find(b">", at)
    end = xml.find(b"</c>", open_end)
    ref = _REF.search(xml, start, open_end)
    if ref is None or open_end < 0 or end < 0:
        return
    value = _VALUE.search(xml, open_end, end)
    text = value.group(1).decode("utf-8", "replace") if value else "#VALUE!"
    found[_ref_position(ref)] = _ErrorCell(text)


def _sheet_member(z: zipfile.ZipFile, name: str) -> str | None:
    """The zip member holding the worksheet called ``name``."""
    book = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rel_id = None
    for el in book.iter():
        if el.tag.endswith("}sheet") and el.get("name") == name:
            rel_id = el.get(_NS_REL)
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    for el in rels.iter():
        if el.get("Id") == rel_id:
            target = el.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


# ---------------------------------------------------------------- csv


def _read_csv(path: Path) -> Sheet:
    raw = path.read_bytes()
    text = _decode(path, raw)
    if not text.strip():
        raise SheetError(f"{path.name} is empty")
    delimiter, rest = _delimiter(text)
    rows = list(csv_records(io.StringIO(rest, newline=""), delimiter, path.name, rest is not text))
    grid = _grid(rows, path.name)
    return Sheet(
        path=path,
        sheet_name=None,
        headers=grid.headers,
        cells=grid.cells,
        kinds=grid.kinds,
        row_numbers=grid.row_numbers,
        header_row=grid.header_row,
        source_columns=grid.source_columns,
    )


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise SheetError(f"{path.name}: line {line} is not UTF-8: {_UTF8_HINT}") from e


def _delimiter(text: str) -> tuple[str, str]:
    """The delimiter (comma, semicolon or tab) and the text without an Excel ``sep=`` line.

    Column names never hold a delimiter, so a header line with only one of
    the three decides; otherwise csv.Sniffer looks at a sample; else comma.
    """
    first, _, rest = text.partition("\n")
    hint = first.strip()
    if hint.lower().startswith("sep=") and len(hint) == 5:
        return hint[4], rest
    in_header = [d for d in ",;\t" if d in first]
    if len(in_header) == 1:
        return in_header[0], text
    try:
        return csv.Sniffer().sniff(text[: 1 << 16], delimiters=",;\t").delimiter, text
    except csv.Error:
        return ",", text
