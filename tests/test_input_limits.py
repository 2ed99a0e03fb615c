"""Bounded input (issue 12 point 10): sizes are judged from the archive before inflating."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from bulk_update.errors import SheetError
from bulk_update.sheet import chunks, limits
from bulk_update.sheet.read import read_sheet

MiB = 1 << 20


def _parts(tmp: Path) -> dict[str, bytes]:
    """The parts of a small real workbook (written by xlsxwriter)."""
    path = tmp / "seed.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Data").write_row(0, 0, ["Identifier", "Project.Title"])
    book.close()
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _bomb(tmp: Path, inflated: int, name: str = "bomb.xlsx") -> Path:
    """A valid workbook whose sheet XML is padded with spaces to ``inflated`` bytes."""
    parts = _parts(tmp)
    sheet = "xl/worksheets/sheet1.xml"
    head = parts[sheet].replace(b"</sheetData>", b"")
    head = head.replace(b"</worksheet>", b"")
    path = tmp / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for part, data in parts.items():
            if part != sheet:
                z.writestr(part, data)
        with z.open(sheet, "w", force_zip64=True) as out:
            out.write(head)
            block = b" " * (8 * MiB)
            left = inflated - len(head)
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= len(block)
            out.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _bomb(tmp_path_factory.mktemp("bomb"), 512 * MiB)


def test_a_half_megabyte_file_that_inflates_to_512_mib_is_refused_fast(bomb: Path) -> None:
    assert bomb.stat().st_size < 1 * MiB
    for read in (lambda: read_sheet(bomb), lambda: chunks.open_stream(bomb, None, lambda h: 0)):
        started = time.perf_counter()
        with pytest.raises(SheetError) as e:
            read()
        assert time.perf_counter() - started < 2.0
        assert "xl/worksheets/sheet1.xml would inflate from" in str(e.value)
        assert "to 512 MiB" in str(e.value) and "is not read" in str(e.value)


def test_a_padded_part_below_the_ratio_floor_is_still_read(tmp_path: Path) -> None:
    path = _bomb(tmp_path, limits.RATIO_FLOOR - MiB)
    assert read_sheet(path).headers == ["Identifier", "Project.Title"]


def test_a_declared_dimension_beyond_the_whole_read_budget_is_refused(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    sheet = "xl/worksheets/sheet1.xml"
    assert b'<dimension ref="A1:B1"/>' in parts[sheet]
    path = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts.items():
            if part == sheet:
                data = data.replace(b'ref="A1:B1"', b'ref="A1:CB200000"')
            z.writestr(part, data)
    with pytest.raises(SheetError) as e:
        read_sheet(path)
    assert "200,000 rows x 80 columns (16,000,000 cells), over the 8,000,000 cells" in str(e.value)
    assert chunks.open_stream(path, None, lambda h: 0).headers == ["Identifier", "Project.Title"]


def test_a_dimension_beyond_excels_grid_is_refused_by_both_reads(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    sheet = "xl/worksheets/sheet1.xml"
    path = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts.items():
            if part == sheet:
                data = data.replace(b'ref="A1:B1"', b'ref="A1:B2000000"')
            z.writestr(part, data)
    for read in (lambda: read_sheet(path), lambda: chunks.open_stream(path, None, lambda h: 0)):
        with pytest.raises(SheetError, match="beyond Excel's grid"):
            read()
