"""A worksheet that takes a whole row of cells in one call (xlsxwriter, constant memory).

    book.add_worksheet(name, worksheet_class=RowSheet).put_row(row, cells, texts, at, height)

xlsxwriter's ``write_string`` costs about 10 µs of CPU a cell: a dimension
check and a cell record per call, then, when the next row starts, the cell's
XML built attribute by attribute with three regular expressions. Writing the
results of 50,000 rows x 70 columns that way took about as long as the rest
of ``validate`` together (issue 14). :meth:`RowSheet.put_row` writes one
row's XML in one go: a text that needs no escaping (nearly every cell) costs
a few string tests and one f-string; any other goes through the same steps
as xlsxwriter's, in its order. The bytes are the ones xlsxwriter
writes for the same cells, formats and row height (tests/test_xlsxrows.py
compares them), but for one case: xlsxwriter writes a text that starts with
``<r>`` and ends with ``</r>`` as raw rich-text XML, so such a cell of the
user's could break the file; here it is a text like any other.

It relies on xlsxwriter's own row machinery as of 3.3 (``_write_single_row``,
``_write_row``, ``col_info``, ``row_info``): hence ``xlsxwriter>=3.3``, and the
byte-for-byte test above, which fails if a later version writes otherwise.
Only the constant-memory mode is served (rows go to the sheet's temporary
file as they come); the rest of the sheet (columns, panes, filters, the
header row written with ``write_string``) is xlsxwriter's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bulk_update.workbook import CELL_LIMIT, column_letter, fit

Cell = tuple[int, "str | int | float", "Format | None"]
"""(0-based column, value, format or None for the column's own)."""

_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EDGE_SPACE = re.compile(r"\A\s|\s\Z")


def _text_xml(text: str) -> tuple[str, str]:
    """(the ``<t>`` element's attribute, the text) as xlsxwriter writes an inline string."""
    text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    preserve = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    return preserve, text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class RowSheet(Worksheet):
    """A constant-memory worksheet whose data rows can be written whole."""

    # xlsxwriter's used range of the sheet (0-based), kept as its _check_dimensions does.
    dim_rowmin: int | None
    dim_rowmax: int | None
    dim_colmin: int | None
    dim_colmax: int | None

    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[int, list[tuple[int, str, str]]] = {}

    def _style(self, col: int, fmt: Format | None) -> str:
        """The ``s`` attribute of a cell: its own format, else its column's."""
        if fmt is None:
            info = self.col_info.get(col)
            fmt = info.column_format if info is not None else None
        return f' s="{fmt._get_xf_index()}"' if fmt is not None else ""

    def _run(self, at: int, width: int) -> list[tuple[int, str, str]]:
        """(column, the text cell's XML before and after its row number) from column
        ``at`` on, for cells without a format of their own; kept per ``at``."""
        run = self._runs.setdefault(at, [])
        for col in range(at + len(run), at + width):
            style = self._style(col, None)
            run.append((col, f'<c r="{column_letter(col)}', f'"{style} t="inlineStr"><is><t>'))
        return run

    def _cell_xml(self, number: str, col: int, value: str | int | float, fmt: Format | None) -> str:
        ref = f"{column_letter(col)}{number}"
        style = self._style(col, fmt)
        if not isinstance(value, str):
            return f'<c r="{ref}"{style}><v>{value:.16G}</v></c>'
        preserve, text = _text_xml(fit(value)[0])
        return f'<c r="{ref}"{style} t="inlineStr"><is><t{preserve}>{text}</t></is></c>'

    def put_row(
        self,
        row: int,
        cells: Sequence[Cell],
        texts: Sequence[str] = (),
        at: int = 0,
        height: float | None = None,
    ) -> None:
        """Write row ``row`` (0-based) whole: ``cells`` (in column order, every one
        written, an empty text too, as ``write_string`` does), then ``texts`` from
        column ``at`` on (empty ones skipped; each in the column's format), with the
        row ``height`` in points if given (as ``set_row``); a row without cells is
        not written. A text over Excel's cell limit is cut
        (:func:`bulk_update.workbook.fit`): the caller says so.

        The row must come after every row written so far; nothing else may be
        written to it afterwards.
        """
        if row >= self.xls_rowmax:
            return  # as xlsxwriter: beyond the grid, nothing is written
        if row > self.previous_row:
            self._write_single_row(row)  # the row xlsxwriter holds, if any, then this one
        elif any(self.table.values()) or row < self.previous_row:
            raise ValueError(f"row {row} comes after rows already written")
        number = str(row + 1)
        xml = [self._cell_xml(number, c, v, f) for c, v, f in cells]
        cols = [c for c, _, _ in cells]
        texts = texts[: max(0, self.xls_colmax - at)]  # as xlsxwriter: no cell past the grid
        first = last = None
        for (col, head, tail), value in zip(self._run(at, len(texts)), texts, strict=False):
            if not value:
                continue
            if first is None:
                first = col
            last = col
            # Nearly every text: nothing to escape, no control character, no edge space.
            if (
                value.isprintable()
                and value[0] != " "
                and value[-1] != " "
                and "&" not in value
                and "<" not in value
                and ">" not in value
                and "_x" not in value
                and len(value) <= CELL_LIMIT // 2
            ):
                xml.append(f"{head}{number}{tail}{value}</t></is></c>")
            else:
                xml.append(self._cell_xml(number, col, value, None))
        if first is not None and last is not None:
            cols += (first, last)
        if not cols:
            return  # as xlsxwriter's constant memory: a row without cells is not written
        info = None
        if height is not None:  # set_row's own record, taken back: this row is written here
            self.set_row(row, height)
            info = self.row_info.pop(row)
        self._dimensions(row, cols)
        self._write_row(row, None, info)
        self.fh.write("".join(xml))
        self.fh.write("</row>")

    def _dimensions(self, row: int, cols: list[int]) -> None:
        """What ``_check_dimensions`` keeps for the cells written (the sheet's used range)."""
        lo, hi = min(cols), max(cols)
        self.dim_rowmin = row if self.dim_rowmin is None else min(self.dim_rowmin, row)
        self.dim_rowmax = row if self.dim_rowmax is None else max(self.dim_rowmax, row)
        self.dim_colmin = lo if self.dim_colmin is None else min(self.dim_colmin, lo)
        self.dim_colmax = hi if self.dim_colmax is None else max(self.dim_colmax, hi)
