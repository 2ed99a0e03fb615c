"""Reading .xlsx and .csv files into a table of text cells and their kinds.

INTERFACE (implemented by the readers work):

    read_sheet(path, sheet=None) -> Sheet      raises errors.SheetError

A Sheet keeps exactly what the user typed, as text, plus what kind of cell
each was, so that checks can tell "12345678901" typed as text from the number
12345678901 that lost a leading zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# Cell kinds, one letter each, kept in Sheet.kinds.
EMPTY = ""
TEXT = "s"
NUMBER = "n"
DATE = "d"  # a real Excel date or datetime cell
BOOL = "b"
ERROR = "e"  # an Excel error value such as #N/A


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

    def __len__(self) -> int:
        return len(self.row_numbers)
