"""Workbook constants and helpers, in one place: the sheet names, Excel's limits,
the ``#CLEAR`` text, xlsxwriter's options, column letters, line counts, the
print set-up of a sheet a person reads, and the refusal to replace a file.

Every module that reads or writes a workbook (the template, the export, the
results, the readers) takes these from here; this module imports nothing of the
tool but its errors, so any of them can use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from xlsxwriter.worksheet import Worksheet

from bulk_update.errors import OutputExists

DATA_SHEET: Final = "Opportunities"
"""The sheet of rows to update (template, export)."""
GUIDE_SHEET: Final = "Guide"
LISTS_SHEET: Final = "_lists"
"""The hidden sheet of dropdown values."""
BASELINE_SHEET: Final = "_baseline"
"""The export's very hidden copy of the values as exported."""
EXPORT_SHEET: Final = "_export"
"""The export's very hidden sheet of facts about the export."""

CLEAR_TEXT: Final = "#CLEAR"
"""The cell text that empties a field."""

CELL_LIMIT: Final = 32_767
"""Excel's limit on the characters (UTF-16 units) of one cell."""
TRUNCATED: Final = " …[truncated]"
LAST_ROW: Final = 1_048_575
"""Excel's last row (0-based index): validations and formats reach to it."""
LINE_HEIGHT: Final = 15.0
"""The height of one line of text in a row, in points."""

TEXT_OPTIONS: Final[dict[str, Any]] = {
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "strings_to_formulas": False,
}
"""Options that keep xlsxwriter from turning text into links, numbers or formulas."""
WORKBOOK_OPTIONS: Final[dict[str, Any]] = {"constant_memory": True, **TEXT_OPTIONS}
"""TEXT_OPTIONS for a workbook written row by row (results, export)."""


HEADER_STYLE: Final[dict[str, Any]] = {
    "bold": True,
    "bg_color": "#1F4E78",
    "font_color": "#FFFFFF",
    "border": 1,
}
"""The header row of the results and of an export's editable columns: white on dark blue."""


def fit(text: str) -> tuple[str, bool]:
    """The text cut to Excel's cell limit with a visible marker, and whether it was cut."""
    if len(text) <= CELL_LIMIT // 2 or len(text.encode("utf-16-le")) // 2 <= CELL_LIMIT:
        return text, False
    room = CELL_LIMIT - len(TRUNCATED)
    cut = text.encode("utf-16-le")[: room * 2].decode("utf-16-le", errors="ignore")
    return cut + TRUNCATED, True


def column_letter(column: int) -> str:
    """Excel's letter for a 0-based column number: 0 -> A, 26 -> AA."""
    letters = ""
    n = column + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def wrapped_lines(text: str, width: int) -> int:
    """How many lines a text takes in a wrapped cell about ``width`` characters wide."""
    return sum(max(1, -(-len(line) // width)) for line in text.split("\n"))


def column_width(texts: Iterable[str], *, least: int = 0, most: int = 50) -> float:
    """A column width (characters) that shows the texts' first lines: 10 to ``most``,
    and at least ``least`` plus the margin."""
    longest = max([least, *(len(text.split("\n", 1)[0]) for text in texts)])
    return float(min(max(longest + 2, 10), most))


def print_setup(ws: Worksheet, *, header: bool = True, one_page: bool = False) -> None:
    """Ready to print: landscape, as wide as one page (``one_page``: one page in all),
    the header row (row 1) repeated on every page when ``header``."""
    ws.set_landscape()
    ws.fit_to_pages(1, 1 if one_page else 0)
    if header:
        ws.repeat_rows(0)


def check_output(path: Path, force: bool, *others: Path) -> None:
    """Refuse to replace a file the user may have made, unless ``force``.

    ``others`` are the files written beside ``path`` (an export's sidecars).
    Raises :class:`OutputExists` naming the first file that is there already.
    """
    if force:
        return
    for target in (path, *others):
        if target.exists():
            raise OutputExists(
                f"{target} already exists: choose another name, or pass --force to replace it"
            )
