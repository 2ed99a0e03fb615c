"""Reading .xlsx and .csv files into a table of text cells and their kinds.

INTERFACE (implemented by the readers work):

    read_sheet(path, sheet=None) -> Sheet      raises errors.SheetError

A Sheet keeps exactly what the user typed, as text, plus what kind of cell
each was, so that checks can tell "12345678901" typed as text from the number
12345678901 that lost a leading zero.

Workbooks are read with python-calamine: on 50,000 rows x 80 columns it
needs about 5 CPU seconds where openpyxl's read-only mode needs about 70
(benchmarks/read_compare.py). How a cell becomes text is in
:mod:`bulk_update.sheet.cells`; the cells calamine reads as "" (error values,
formulas never calculated) are found by :mod:`bulk_update.sheet.errorcells`.

Decisions where the contract is silent (and see :mod:`~bulk_update.sheet.cells`):

- Without ``--sheet``, the first visible worksheet whose name does not start
  with ``_`` is read; ``--sheet`` also matches ignoring case and spaces.
- A formula that was never calculated (written by a program, never opened in
  Excel) has no cached value: it reads as "" of kind FORMULA, and the checks
  make its row ``invalid`` (the edit it holds must not be lost silently).
- A CSV file's first line ``sep=;`` (which Excel writes and reads) sets the
  delimiter and is not a row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from bulk_update.errors import SheetError
from bulk_update.sheet import limits
from bulk_update.sheet.baseline import BASELINE_PROBLEM as BASELINE_PROBLEM
from bulk_update.sheet.baseline import export_baseline
from bulk_update.sheet.cells import BOOL as BOOL
from bulk_update.sheet.cells import DATE as DATE
from bulk_update.sheet.cells import EMPTY as EMPTY
from bulk_update.sheet.cells import ERROR as ERROR
from bulk_update.sheet.cells import EXCEL_ERRORS as EXCEL_ERRORS
from bulk_update.sheet.cells import FORMULA as FORMULA
from bulk_update.sheet.cells import NUMBER as NUMBER
from bulk_update.sheet.cells import TEXT as TEXT
from bulk_update.sheet.cells import Grid, cell_text, is_blank, to_grid
from bulk_update.sheet.cells import number_text as number_text
from bulk_update.sheet.csvcells import csv_records
from bulk_update.sheet.errorcells import put_back_errors, sheet_member
from bulk_update.workbook import BASELINE_SHEET as BASELINE_SHEET
from bulk_update.workbook import column_letter as column_letter

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
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


# ---------------------------------------------------------------- xlsx


def _read_xlsx(path: Path, sheet: str | None) -> Sheet:
    with path.open("rb") as f:
        magic = f.read(8)
    if not magic:
        raise SheetError(f"{path.name} is empty")
    if magic == OLE2_MAGIC:
        raise SheetError(f"{path.name} {_PASSWORD_HINT}")
    limits.check_archive(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise SheetError(f"{path.name} is not a readable .xlsx file ({_first_line(e)})") from e
    with book:
        name = choose_sheet(path, book, sheet)
        _check_dimension(path, name)
        where = f"{path.name}, sheet {name!r}"
        rows = _sheet_rows(path, book, name)
        put_back_errors(path, name, rows)
        if all(map(is_blank, rows)):
            raise empty_sheet_error(path, name, where, book)
        grid = to_grid(rows, where)
        del rows
        baseline, meta = export_baseline(
            book.sheet_names,
            lambda n: [[cell_text(v)[0] for v in row] for row in _sheet_rows(path, book, n)],
            lambda rows, n: to_grid(rows, f"{path.name}, sheet {n!r}"),
        )
    return _sheet_of(path, name, grid, baseline, meta)


def _sheet_of(
    path: Path,
    name: str | None,
    grid: Grid,
    baseline: pd.DataFrame | None = None,
    meta: dict[str, str] | None = None,
) -> Sheet:
    """The Sheet of a grid read from sheet ``name`` of ``path`` (None for a CSV file)."""
    return Sheet(path, name, grid.headers, grid.cells, grid.kinds, grid.row_numbers,
                 baseline, meta or {}, grid.header_row, grid.source_columns)  # fmt: skip


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
                lambda n: [[cell_text(v)[0] for v in row] for row in _sheet_rows(path, book, n)],
                lambda rows, n: to_grid(rows, f"{path.name}, sheet {n!r}"),
            )
            return frame
    except (CalamineError, OSError, ValueError):
        return None


def _check_dimension(path: Path, name: str) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            member = sheet_member(z, name)
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
        if not all(map(is_blank, _sheet_rows(path, book, m.name))):
            return m.name
    return None


def choose_sheet(path: Path, book: CalamineWorkbook, wanted: str | None) -> str:
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


# ---------------------------------------------------------------- csv


def _read_csv(path: Path) -> Sheet:
    raw = path.read_bytes()
    text = _decode(path, raw)
    if not text.strip():
        raise SheetError(f"{path.name} is empty")
    delimiter, rest = delimiter_of(text)
    rows = list(csv_records(io.StringIO(rest, newline=""), delimiter, path.name, rest is not text))
    return _sheet_of(path, None, to_grid(rows, path.name))


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise SheetError(f"{path.name}: line {line} is not UTF-8: {_UTF8_HINT}") from e


def delimiter_of(text: str) -> tuple[str, str]:
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
