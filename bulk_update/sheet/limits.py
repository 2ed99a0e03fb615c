"""Bounded input: what an .xlsx may declare before anything is inflated (issue 12 point 10).

    check_archive(path)                     raises errors.SheetError
    check_dimension(path, member, whole=...) raises errors.SheetError

An .xlsx is a zip archive; its central directory declares each part's
compressed and inflated size. :func:`check_archive` reads only that
directory and refuses, before any part is inflated (calamine inflates the
shared strings as soon as a workbook is opened):

- a part that would inflate to more than :data:`MAX_PART_BYTES` (any part
  but a worksheet) or :data:`MAX_SHEET_BYTES` (a worksheet, read in chunks by
  ``validate``);
- a part over :data:`RATIO_FLOOR` bytes that inflates more than
  :data:`MAX_RATIO` times its stored size: sheets that Excel, LibreOffice or
  xlsxwriter write stay under about 20 (200,000 identical rows measured 15),
  a zip bomb is near deflate's limit of about 1,000.

:func:`check_dimension` reads the first kilobytes of the data sheet for its
``<dimension ref="A1:BM50001"/>`` and refuses a sheet beyond Excel's own
grid, and, for a whole read (``apply``, ``rollback``, which hold the sheet in
memory), beyond :data:`MAX_WHOLE_CELLS` cells or :data:`MAX_WHOLE_SHEET_BYTES`
of XML. The limits and the memory they bound
are in docs/safety.md.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from bulk_update.errors import SheetError

MiB = 1 << 20
MAX_PART_BYTES = 256 * MiB
"""Inflated size of any part but a worksheet (shared strings, styles, workbook)."""
MAX_SHEET_BYTES = 4096 * MiB
"""Inflated size of a worksheet's XML: a full 1,048,576-row sheet of 65 columns fits."""
MAX_RATIO = 100
"""Inflated / stored size above which a part is taken for a zip bomb."""
RATIO_FLOOR = 16 * MiB
"""Parts smaller than this are never refused for their ratio."""
MAX_WHOLE_CELLS = 8_000_000
"""Cells (rows x columns, by the dimension) of a sheet read whole: 100,000 rows x 80 columns."""
MAX_WHOLE_SHEET_BYTES = 1024 * MiB
"""Worksheet XML read whole (a dimension can be missing or wrong; the size cannot grow)."""
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384

_DIMENSION = re.compile(
    rb"""<(?:\w+:)?dimension\s+ref\s*=\s*["']([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?["']"""
)
_HEAD = 1 << 14


def _size(n: int) -> str:
    return f"{n / MiB:,.0f} MiB" if n >= MiB else f"{n:,} bytes"


def check_archive(path: Path) -> None:
    """Refuse an archive whose declared sizes exceed the limits (nothing is inflated)."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # calamine's own error says the file is not a readable .xlsx
    for info in infos:
        worksheet = info.filename.startswith("xl/worksheets/")
        limit = MAX_SHEET_BYTES if worksheet else MAX_PART_BYTES
        if info.file_size > limit:
            raise SheetError(
                f"{path.name}: its part {info.filename} would inflate to "
                f"{_size(info.file_size)}, over the {_size(limit)} this tool reads: "
                "split the sheet into smaller files"
            )
        stored = max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * stored:
            raise SheetError(
                f"{path.name}: its part {info.filename} would inflate from "
                f"{_size(info.compress_size)} to {_size(info.file_size)} "
                f"({info.file_size // stored:,} times), far beyond any spreadsheet "
                f"(limit {MAX_RATIO} times): the file is damaged or built to exhaust memory, "
                "and is not read"
            )


def _column(letters: bytes | None) -> int:
    n = 0
    for ch in letters or b"A":
        n = n * 26 + ch - 64
    return n


def check_dimension(path: Path, member: str, *, whole: bool) -> None:
    """Refuse a data sheet whose declared dimension exceeds Excel's grid or, read whole, the budget."""
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(member)
            with z.open(info) as stream:
                head = stream.read(_HEAD)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return
    if whole and info.file_size > MAX_WHOLE_SHEET_BYTES:
        raise SheetError(
            f"{path.name}: the sheet's XML would inflate to {_size(info.file_size)}, over "
            f"the {_size(MAX_WHOLE_SHEET_BYTES)} read at once: split it into smaller files "
            "(validate reads any size in chunks)"
        )
    found = _DIMENSION.search(head)
    if found is None:
        return
    top, bottom = int(found.group(2) or 1), int(found.group(4) or found.group(2) or 1)
    left, right = _column(found.group(1)), _column(found.group(3) or found.group(1))
    rows, columns = bottom - min(top, bottom) + 1, right - min(left, right) + 1
    if bottom > EXCEL_ROWS or right > EXCEL_COLUMNS:
        raise SheetError(
            f"{path.name}: the sheet declares {bottom:,} rows x {right:,} columns, beyond "
            "Excel's grid (1,048,576 x 16,384): the file is damaged; save it again from Excel"
        )
    if whole and rows * columns > MAX_WHOLE_CELLS:
        raise SheetError(
            f"{path.name}: the sheet holds {rows:,} rows x {columns:,} columns "
            f"({rows * columns:,} cells), over the {MAX_WHOLE_CELLS:,} cells read at once: "
            "split it into smaller files (validate reads any size in chunks)"
        )
