"""RowSheet.put_row writes the XML xlsxwriter writes for the same cells, cell by cell."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from bulk_update.workbook import WORKBOOK_OPTIONS, fit
from bulk_update.xlsxrows import RowSheet

HOSTILE = [
    "plain",
    " leading space",
    "trailing space ",
    "\tleading tab",
    "line\nbreak",
    "ends in a break\n",
    "a&b",
    "<tag>",
    "x>y",
    'quote"d',
    "ctrl\x01char",
    "\x1c",
    "\x0b\x0c",
    "_x0041_",
    "_x00ZZ_",
    "_X0041_ and _x004a_",
    "\ufffe",
    "\uffff",
    "ünïcødé €",
    "emoji 😀",
    "=1+1",
    "+123",
    "@foo",
    "\u00a0nbsp",
    "x" * 40_000,
    "😀" * 17_000,
    "é" * 20_000,
]

# Row specs: (cells before ``at``, texts from ``at``, at, height).
Spec = tuple[list[tuple[int, Any, str | None]], list[str], int, float | None]


def _write(path: Path, specs: list[Spec], fast: bool) -> bytes:
    """A workbook of the rows, by put_row (``fast``) or by write_string/set_row; its sheet XML."""
    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    styles = {"bold": book.add_format({"bold": True}), "wrap": book.add_format({"text_wrap": 1})}
    top = book.add_format({"valign": "top"})
    ws = book.add_worksheet("Data", worksheet_class=RowSheet if fast else None)
    ws.set_column(0, 1, 12, top)
    ws.set_column(3, 3, 30, styles["wrap"])
    ws.write_string(0, 0, "header", styles["bold"])  # xlsxwriter's own row first
    for n, (cells, texts, at, height) in enumerate(specs, start=1):
        if fast:
            assert isinstance(ws, RowSheet)
            ws.put_row(n, [(c, v, styles.get(f or "")) for c, v, f in cells], texts, at, height)
            continue
        for col, value in enumerate(texts, start=at):
            if value:
                ws.write_string(n, col, fit(value)[0])
        if height is not None:
            ws.set_row(n, height)
        for c, v, f in cells:
            if isinstance(v, str):
                ws.write_string(n, c, fit(v)[0], styles.get(f or ""))
            else:
                ws.write_number(n, c, v, styles.get(f or ""))
    ws.autofilter(0, 0, len(specs), 8)
    book.close()
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def _same(tmp_path: Path, specs: list[Spec]) -> None:
    fast = _write(tmp_path / "fast.xlsx", specs, fast=True)
    slow = _write(tmp_path / "slow.xlsx", specs, fast=False)
    assert fast == slow


def test_hostile_texts_numbers_formats_and_heights_are_written_as_xlsxwriter_does(
    tmp_path: Path,
) -> None:
    specs: list[Spec] = [
        ([(0, 7, None), (1, "", None), (2, "bold", "bold")], HOSTILE, 4, None),
        ([(0, 2.5, None), (3, "wrapped\ntext", None)], ["", "a", "", "b"], 5, 45.0),
        ([], [], 0, None),  # nothing at all: no row
        ([], ["", ""], 0, 30.0),  # no cell: no row either, as xlsxwriter
        ([(0, 1e20, "bold"), (1, -3, None)], HOSTILE[::-1], 2, None),
        ([], [" ", "", "tail"], 0, 15.0),
    ]
    _same(tmp_path, specs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=8))
def test_any_texts_are_written_as_xlsxwriter_does(tmp_path_factory: Any, texts: list[str]) -> None:
    # xlsxwriter writes a text of the shape <r>...</r> as raw XML; put_row as text (below).
    texts = [t for t in texts if not (t.startswith("<r>") and t.endswith("</r>"))]
    _same(tmp_path_factory.mktemp("any"), [([(0, len(texts), None)], texts, 1, None)])


def test_a_text_shaped_like_rich_text_xml_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "rich.xlsx"
    texts = ["<r>x</r>", "<r></t></is></c></row><row r='9'></r>"]
    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    ws = book.add_worksheet("Data", worksheet_class=RowSheet)
    assert isinstance(ws, RowSheet)
    ws.put_row(0, [], texts)
    book.close()
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows == [texts]


def test_a_row_before_one_written_is_refused(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "order.xlsx"), WORKBOOK_OPTIONS)
    ws = book.add_worksheet("Data", worksheet_class=RowSheet)
    assert isinstance(ws, RowSheet)
    ws.put_row(3, [], ["a"])
    try:
        ws.put_row(2, [], ["b"])
    except ValueError as e:
        assert "row 2" in str(e)
    else:
        raise AssertionError("a row before the last one was written")
    book.close()
