"""A sheet read in bounded chunks of rows, for ``validate`` (issue 14).

    open_stream(path, sheet, identifier_of) -> Stream     raises errors.SheetError

python-calamine keeps a whole worksheet in memory (about 6 KB per row of 65
columns, in Rust, before any Python object), so a 1,048,576-row sheet cannot
be read in one go. The worksheet's XML is therefore cut at ``</row>`` into
pieces of about :data:`CHUNK_BYTES`, and each piece is given to calamine as a
small workbook of its own (the same styles, shared strings and workbook
parts, stored without compression): each cell reads exactly as a whole-sheet
read would give it. A CSV file is read row by row.

The sheet is read once: that pass finds the header, checks that no data
sits under an empty header, keeps the identifiers (what the duplicate check
needs) and puts each chunk's cells and kinds in a temporary file (pickled);
:meth:`Stream.chunks` reads them back one chunk at a time, so the checks can
use the whole sheet's duplicates while memory holds one chunk.
A sheet the cutting cannot handle (rows without a row number, a namespace
prefix) is read whole by :func:`readers.read_sheet` and yielded as one chunk.
"""

from __future__ import annotations

import io
import pickle
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_calamine import CalamineError, CalamineWorkbook

from bulk_update.errors import SheetError
from bulk_update.sheet import limits
from bulk_update.sheet import read as readers
from bulk_update.sheet.baseline import load_csv_baseline
from bulk_update.sheet.cells import cell_text, cells_and_kinds, frame, is_blank, title_row_check
from bulk_update.sheet.csvcells import csv_records
from bulk_update.sheet.errorcells import put_back, scan_errors, sheet_member
from bulk_update.workbook import column_letter

CHUNK_BYTES = 8 << 20
"""Sheet XML per chunk: about 2,000 rows of 65 columns."""
CSV_CHUNK_ROWS = 2_000
_READ = 1 << 20
_ROW_TAG = re.compile(rb"<row[\s>/]")
_ROW_NUMBERED = re.compile(rb"<row\s[^>]*?\br\s*=")
_DIMENSION = re.compile(rb"<dimension\b[^>]*/>")
_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)

RawChunk = tuple[int, list[list[Any]]]
"""(Excel row number of the first row, consecutive raw rows as calamine gives them)."""


class _Unstreamable(Exception):
    """The sheet's XML is not cut safely: read it whole."""


def identifier_key(value: Any) -> str | None:
    """An identifier cell as the duplicate check compares it (trimmed, in capitals:
    ids are compared ignoring case), None if empty."""
    text = cell_text(value)[0].strip()
    return text.upper() if text else None


@dataclass
class Stream:
    """A sheet's header, its identifiers' duplicates, and its rows chunk by chunk."""

    path: Path
    sheet_name: str | None
    headers: list[str]
    header_row: int
    source_columns: list[int]
    duplicates: dict[str, list[int]]
    """Each identifier on more than one row -> those rows' Excel numbers."""
    _spill: IO[bytes] | None = None
    _whole: readers.Sheet | None = None
    baseline: Any = None
    """An export's baseline (``Sheet.baseline``), given to every chunk so that the
    checks can tell the cells the user changed."""
    chunks_read: int = field(default=0)

    def chunks(self) -> Iterator[readers.Sheet]:
        """The data rows, in sheet order, as Sheets of at most a chunk's rows each."""
        if self._whole is not None:
            self.chunks_read += 1
            yield self._whole
            return
        assert self._spill is not None
        self._spill.seek(0)
        while True:
            try:
                numbers, cells, kinds = pickle.load(self._spill)
            except EOFError:
                return
            self.chunks_read += 1
            yield readers.Sheet(
                path=self.path,
                sheet_name=self.sheet_name,
                headers=list(self.headers),
                cells=frame(cells),
                kinds=frame(kinds),
                row_numbers=numbers,
                baseline=self.baseline,
                header_row=self.header_row,
                source_columns=list(self.source_columns),
            )

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_stream(
    path: str | Path,
    sheet: str | None,
    identifier_of: Callable[[list[str]], int | None],
    *,
    chunk_bytes: int | None = None,
    csv_rows: int | None = None,
) -> Stream:
    """Open a sheet for reading in chunks; the first pass runs here.

    ``identifier_of(headers)`` gives the identifier's header position (or None);
    an exception it raises is raised after the first pass, so that a sheet
    error (data under an empty header) comes first, as with a whole read.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in readers.XLSX_SUFFIXES and path.is_file():
            name, raw = _xlsx_source(path, sheet, chunk_bytes or CHUNK_BYTES)
            stream = _first_pass(path, name, f"{path.name}, sheet {name!r}", raw, identifier_of)
            stream.baseline = readers.read_baseline(path)
            return stream
        if suffix in readers.CSV_SUFFIXES and path.is_file() and sheet is None:
            raw = _csv_source(path, csv_rows or CSV_CHUNK_ROWS)
            stream = _first_pass(path, None, path.name, raw, identifier_of)
            stream.baseline = load_csv_baseline(path)[0]
            return stream
    except _Unstreamable:
        pass
    return _whole(path, sheet, identifier_of)


def _whole(
    path: Path, sheet: str | None, identifier_of: Callable[[list[str]], int | None]
) -> Stream:
    data = readers.read_sheet(path, sheet)
    pos = identifier_of(data.headers)
    seen: dict[str, list[int]] = {}
    if pos is not None:
        for value, number in zip(data.cells[pos].tolist(), data.row_numbers, strict=True):
            key = identifier_key(value)
            if key is not None:
                seen.setdefault(key, []).append(number)
    return Stream(
        path=path,
        sheet_name=data.sheet_name,
        headers=data.headers,
        header_row=data.header_row,
        source_columns=data.source_columns,
        duplicates={k: v for k, v in seen.items() if len(v) > 1},
        _whole=data,
    )


def _filled(value: Any) -> bool:
    if type(value) is str:
        return bool(value.strip())
    return bool(cell_text(value)[0].strip())


def _first_pass(
    path: Path,
    name: str | None,
    where: str,
    raw: Callable[[], Iterator[RawChunk]],
    identifier_of: Callable[[list[str]], int | None],
) -> Stream:
    """Read the sheet once: its header, the checks of empty headers, the identifiers;
    each chunk's cells and kinds go to a temporary file, read back by Stream.chunks."""
    state = _Pass(where, identifier_of)
    spill = tempfile.TemporaryFile(prefix="bulk-update-chunks-")  # noqa: SIM115 (Stream.close)
    try:
        _read_once(raw, state, spill)
        state.raise_problems(path, name)
    except BaseException:
        spill.close()
        raise
    assert state.header is not None
    return Stream(
        path=path,
        sheet_name=name,
        headers=[state.header[i] for i in state.keep],
        header_row=state.header_row,
        source_columns=state.keep,
        duplicates=state.duplicates,
        _spill=spill,
    )


@dataclass
class _Pass:
    """What the first pass has learnt so far: the header, empty headers' first values, ids."""

    where: str
    identifier_of: Callable[[list[str]], int | None]
    header: list[str] | None = None
    header_row: int = 0
    keep: list[int] = field(default_factory=list)
    empty_headers: list[int] = field(default_factory=list)
    first_filled: dict[int, int] = field(default_factory=dict)
    pos: int | None = None
    problem: BaseException | None = None
    first_row: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, list[int]] = field(default_factory=dict)
    first_data: bool = True

    def take_header(self, row: list[Any], number: int) -> None:
        header = [cell_text(v)[0].strip() for v in row]
        self.header, self.header_row = header, number
        self.keep = [i for i, h in enumerate(header) if h]
        self.empty_headers = [i for i, h in enumerate(header) if not h]
        try:
            at = self.identifier_of([header[i] for i in self.keep])
            self.pos = None if at is None else self.keep[at]
        except Exception as e:  # raised after the sheet's own errors
            self.problem = e

    def take_row(self, row: list[Any], number: int) -> list[Any]:
        """Note what the data row tells (title row, values without a header, its id)."""
        assert self.header is not None
        if self.first_data:
            self.first_data = False
            title_row_check(self.where, self.header, self.header_row, row, number)
        width = len(self.header)
        for i in self.empty_headers:
            if i < len(row) and i not in self.first_filled and _filled(row[i]):
                self.first_filled[i] = number
        if len(row) > width:
            for i in range(width, len(row)):
                if i not in self.first_filled and _filled(row[i]):
                    self.first_filled[i] = number
            row = row[:width]
        if self.pos is not None:
            key = identifier_key(row[self.pos] if self.pos < len(row) else "")
            if key is not None:
                seen = self.first_row.setdefault(key, number)
                if seen != number:
                    self.duplicates.setdefault(key, [seen]).append(number)
        return row

    def spill(self, data: list[list[Any]], numbers: list[int], out: IO[bytes]) -> None:
        """One chunk's cells and kinds to the temporary file, while nothing is wrong yet."""
        if not data or self.first_filled or self.problem is not None:
            return
        assert self.header is not None
        cells, kinds = cells_and_kinds(data, len(self.header))
        if len(self.keep) < len(self.header):
            cells, kinds = cells[:, self.keep], kinds[:, self.keep]
        pickle.dump((numbers, cells, kinds), out, protocol=pickle.HIGHEST_PROTOCOL)

    def raise_problems(self, path: Path, name: str | None) -> None:
        if self.header is None:
            raise readers.empty_sheet_error(path, name, self.where)
        if self.first_filled:
            i = min(self.first_filled)
            raise SheetError(
                f"{self.where}: column {column_letter(i)} has a value in row "
                f"{self.first_filled[i]} but no header in row {self.header_row}: "
                "give the column a name or delete it"
            )
        if self.problem is not None:
            raise self.problem


def _read_once(raw: Callable[[], Iterator[RawChunk]], state: _Pass, spill: IO[bytes]) -> None:
    """Every raw row through ``state``; each chunk's data rows spilled."""
    for first, rows in raw():
        data: list[list[Any]] = []
        numbers: list[int] = []
        for k, row in enumerate(rows):
            if is_blank(row):
                continue
            if state.header is None:
                state.take_header(row, first + k)
                continue
            data.append(state.take_row(row, first + k))
            numbers.append(first + k)
        del rows
        state.spill(data, numbers, spill)
        del data


# ---------------------------------------------------------------- xlsx


def _xlsx_source(
    path: Path, sheet: str | None, chunk_bytes: int
) -> tuple[str, Callable[[], Iterator[RawChunk]]]:
    """The data sheet's name and a reader of its raw rows, chunk by chunk."""
    with path.open("rb") as f:
        magic = f.read(8)
    if not magic or magic == readers.OLE2_MAGIC:
        raise _Unstreamable  # the whole read says why
    limits.check_archive(path)
    try:
        with CalamineWorkbook.from_path(str(path)) as book:
            name = readers.choose_sheet(path, book, sheet)
    except (CalamineError, OSError, ValueError) as e:
        raise _Unstreamable from e
    try:
        with zipfile.ZipFile(path) as z:
            member = sheet_member(z, name)
            if member is None:
                raise _Unstreamable
            limits.check_dimension(path, member, whole=False)
            parts: dict[str, bytes] = {}
            for info in z.infolist():
                if info.filename == member:
                    continue
                worksheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(
                    ".xml"
                )
                parts[info.filename] = _EMPTY_SHEET if worksheet else z.read(info)
    except (zipfile.BadZipFile, OSError, KeyError) as e:
        raise _Unstreamable from e
    # calamine parses the shared strings again for each chunk: keep that a small share.
    shared = sum(len(v) for k, v in parts.items() if k.lower().endswith("sharedstrings.xml"))
    size = chunk_bytes if chunk_bytes != CHUNK_BYTES else max(chunk_bytes, 4 * shared)

    def raw() -> Iterator[RawChunk]:
        with zipfile.ZipFile(path) as z, z.open(member) as stream:
            for body, prefix in _pieces(stream, size):
                yield _parse(parts, member, name, prefix, body)

    return name, raw


def _pieces(stream: Any, size: int) -> Iterator[tuple[bytes, bytes]]:
    """(rows XML cut after a ``</row>``, the worksheet's XML before ``<sheetData>``)."""
    buffer = b""
    step = max(256, min(_READ, size))
    while (at := buffer.find(b"<sheetData>")) < 0:
        block = stream.read(step)
        if not block:
            raise _Unstreamable  # <sheetData/>, a prefixed namespace, or no rows
        buffer += block
    prefix = _DIMENSION.sub(b"", buffer[: at + len(b"<sheetData>")])
    blocks = [buffer[at + len(b"<sheetData>") :]]
    held = len(blocks[0])
    while True:
        block = stream.read(step)
        if block:
            blocks.append(block)
            held += len(block)
            if held < size:
                continue
        buffer = b"".join(blocks)
        if not block:
            end = buffer.find(b"</sheetData>")
            yield (buffer if end < 0 else buffer[:end]), prefix
            return
        cut = buffer.rfind(b"</row>")
        if cut < 0:
            blocks, held = [buffer], len(buffer)
            continue
        cut += len(b"</row>")
        yield buffer[:cut], prefix
        blocks, held = [buffer[cut:]], len(buffer) - cut


def _parse(parts: dict[str, bytes], member: str, name: str, prefix: bytes, body: bytes) -> RawChunk:
    """One piece of rows read by calamine as a workbook of its own."""
    if len(_ROW_TAG.findall(body)) != len(_ROW_NUMBERED.findall(body)):
        raise _Unstreamable  # a row without its number: calamine would count from the piece
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
        for part, data in parts.items():
            out.writestr(part, data)
        out.writestr(member, prefix + body + b"</sheetData></worksheet>")
    buf.seek(0)
    try:
        with CalamineWorkbook.from_filelike(buf) as book:
            sheet = book.get_sheet_by_name(name)
            rows: list[list[Any]] = sheet.to_python()
            start = sheet.start
    except CalamineError as e:
        raise _Unstreamable from e
    if not rows or start is None:
        return 1, []
    top, left = start
    if left:
        rows = [[*([""] * left), *r] for r in rows]
    found: dict[tuple[int, int], str] = {}
    scan_errors(body, found)
    put_back(rows, found, top)
    return top + 1, rows


# ---------------------------------------------------------------- csv


def _csv_source(path: Path, size: int) -> Callable[[], Iterator[RawChunk]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            head = f.read(1 << 16)
    except (UnicodeDecodeError, OSError) as e:
        raise _Unstreamable from e
    if not head.strip() or "\n" not in head:
        raise _Unstreamable
    delimiter, rest = readers.delimiter_of(head)
    skip = rest is not head  # an Excel ``sep=`` line

    def raw() -> Iterator[RawChunk]:
        with path.open(encoding="utf-8-sig", newline="") as f:
            if skip:
                f.readline()
            rows: list[list[Any]] = []
            first = 1
            try:
                for row in csv_records(f, delimiter, path.name, skip):
                    rows.append(row)
                    if len(rows) >= size:
                        yield first, rows
                        first += len(rows)
                        rows = []
            except UnicodeDecodeError as e:
                raise _Unstreamable from e
            yield first, rows

    return raw
