"""CSV cells as the tool reads them: strict quoting, the formula escape undone, Excel's text trick.

    csv_records(lines, delimiter, name) -> records     raises errors.SheetError

Used for every CSV the tool reads: the sheet (whole or in chunks) and an
export's ``<name>.baseline.csv`` sidecar.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from bulk_update.csvtext import unescape
from bulk_update.errors import SheetError

_EXCEL_TEXT = re.compile(r'="((?:[^"]|"")*)"')


def csv_cell(text: str) -> str:
    """One CSV cell as the tool reads it.

    ``="02139"`` (Excel's way of keeping leading zeros in a CSV) reads as the
    text inside, ``02139``; otherwise the apostrophe that :func:`csvtext.escape`
    put before a formula trigger is taken off again.
    """
    if not text or text[0] not in "='":
        return text
    if text[0] == "=":
        m = _EXCEL_TEXT.fullmatch(text)
        return m.group(1).replace('""', '"') if m else text
    return unescape(text)


def csv_records(
    lines: Iterable[str], delimiter: str, name: str, skipped_line: bool = False
) -> Iterator[list[str]]:
    """The records of a CSV text, each cell read by :func:`csv_cell`.

    The parser is strict: a quote that never closes (or closes in the middle
    of a cell) stops the read naming the line where that record, and so the
    quote, began, instead of running the rest of the file into one cell.
    ``skipped_line`` says an Excel ``sep=`` line was taken off the top.
    """
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    offset = 1 if skipped_line else 0
    done = 0  # physical lines read by the records so far
    try:
        for row in reader:
            done = reader.line_num
            yield [csv_cell(v) for v in row]
    except csv.Error as e:
        opened = done + 1 + offset
        if "field limit" in str(e):
            raise SheetError(
                f"{name}: line {opened} cannot be read as CSV ({e}): a cell there is longer "
                "than any spreadsheet cell (Excel's limit is 32,767 characters), or a quote "
                '(") opened on that line never closes: close the quote, or delete it'
            ) from e
        raise SheetError(
            f'{name}: line {opened} opens a quoted cell (") that does not close where it '
            f"should ({e}): close the quote, or delete it, and save again"
        ) from e
