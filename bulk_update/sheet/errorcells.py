"""What calamine reads as "": Excel error cells and formulas never calculated.

calamine reports an Excel error cell (#N/A, #DIV/0!...) as an empty string,
and a formula saved without a computed value as one too; so the sheet's XML
is searched for them (a plain byte search, chunk by chunk) and each is put
back into the rows as an :class:`~bulk_update.sheet.cells.ErrorCell` or
:class:`~bulk_update.sheet.cells.Uncalculated`.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from bulk_update.sheet.cells import ErrorCell, Uncalculated

_ERROR_MARKERS = (b' t="e"', b" t='e'")
_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]+)([0-9]+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CHUNK = 1 << 22


def put_back_errors(path: Path, name: str, rows: list[list[Any]]) -> None:
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
            member = sheet_member(z, name)
            if member is None:
                return found
            with z.open(member) as stream:
                rest = b""
                while chunk := stream.read(_CHUNK):
                    buffer = rest + chunk
                    cut = buffer.rfind(b"</c>") + 4  # never split a cell between chunks
                    if cut < 4:
                        cut = 0
                    scan_errors(buffer[:cut], found)
                    rest = buffer[cut:]
                scan_errors(rest, found)
    except (zipfile.BadZipFile, OSError, KeyError, ElementTree.ParseError):
        return found
    return found


def scan_errors(xml: bytes, found: dict[tuple[int, int], str]) -> None:
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
    found.setdefault((row, col), Uncalculated(""))


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
    found[_ref_position(ref)] = ErrorCell(text)


def sheet_member(z: zipfile.ZipFile, name: str) -> str | None:
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
