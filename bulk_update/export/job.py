"""``bulk-update export``: live opportunities written as a sheet the tool reads back.

The export lists the opportunities the filters select (ListOpportunities,
sorted by identifier so that paging is stable while sellers keep editing),
reads each one in full (GetOpportunity, several at once, paced by the client's
read limiter) and writes one row per opportunity: ``Identifier`` and
``LastModifiedDate`` first, then the chosen columns in the catalog's order,
then ``Catalog``.

This module holds the listing and reading, and the report;
:mod:`bulk_update.export.filters` holds the filters,
:mod:`bulk_update.export.columns` chooses the columns and
:mod:`bulk_update.export.sinks` writes the files: an ``.xlsx`` workbook with its
hidden ``_baseline``, ``_export`` and ``_lists`` sheets, or a ``.csv`` (UTF-8
with a byte-order mark) with ``<name>.baseline.csv`` and ``<name>.export.json``
beside it.  :func:`bulk_update.sheet.baseline.load_csv_baseline` reads those back.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from bulk_update import fields as _catalog
from bulk_update.api import client as pcc
from bulk_update.api import drift
from bulk_update.errors import BulkUpdateError
from bulk_update.export import search as _search
from bulk_update.export.columns import DEFAULT_COLUMNS as DEFAULT_COLUMNS
from bulk_update.export.columns import REVIEW_COLUMNS as REVIEW_COLUMNS
from bulk_update.export.columns import Columns, call_cells, choose_columns, sheet_columns
from bulk_update.export.filters import ExportFilters, check_ids, checked_filters, list_params
from bulk_update.export.sinks import CsvSink, Sink, XlsxSink, sidecar_paths
from bulk_update.fields import Catalog
from bulk_update.payload import record_to_row
from bulk_update.problems import Outcome
from bulk_update.times import format_timestamp
from bulk_update.workbook import BASELINE_SHEET as BASELINE_SHEET
from bulk_update.workbook import CELL_LIMIT as CELL_LIMIT
from bulk_update.workbook import DATA_SHEET as DATA_SHEET
from bulk_update.workbook import EXPORT_SHEET as EXPORT_SHEET
from bulk_update.workbook import LISTS_SHEET as LISTS_SHEET
from bulk_update.workbook import check_output

Format_ = Literal["xlsx", "csv"]

# -- reading ------------------------------------------------------------------------


class Read(StrEnum):
    """How the read of one opportunity ended."""

    READ = "read"
    NOT_FOUND = "not-found"
    FAILED = "failed"


@dataclass(frozen=True)
class ReadResult:
    """One GetOpportunity done: what ``on_record`` receives (``.outcome`` as for rows)."""

    identifier: str
    outcome: Read
    message: str = ""


@dataclass(frozen=True)
class ReadFailure:
    """An opportunity the export could not write: why, in plain words."""

    identifier: str
    outcome: Outcome
    """``not-found`` or ``failed``."""
    message: str


@dataclass
class ExportReport:
    """What an export wrote, and what it could not."""

    path: Path
    catalog: str
    exported_at: datetime
    headers: list[str]
    rows: int
    listed: int
    """Opportunities the listing selected (ids given but not found are not counted)."""
    failures: list[ReadFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Plain facts about the selection (search not enabled: listed instead)."""
    selected_with: str = ""
    """``SearchOpportunities`` or ``ListOpportunities``."""
    files: list[Path] = field(default_factory=list)
    """Every file written: the export, then its sidecars (csv)."""
    seconds: float = 0.0
    calls: int = 0
    throttled: int = 0
    retries: int = 0

    @property
    def exit_code(self) -> int:
        """0 when every selected opportunity was written, 1 otherwise."""
        return 1 if self.failures else 0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (``--json``)."""
        return {
            "command": "export",
            "file": str(self.path),
            "files": [str(p) for p in self.files],
            "catalog": self.catalog,
            "exported_at": format_timestamp(self.exported_at),
            "rows": self.rows,
            "listed": self.listed,
            "columns": self.headers,
            "failures": [
                {"identifier": f.identifier, "outcome": str(f.outcome), "message": f.message}
                for f in self.failures
            ],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "selected_with": self.selected_with,
            "seconds": round(self.seconds, 3),
            "calls": self.calls,
            "throttled": self.throttled,
            "retries": self.retries,
            "exit_code": self.exit_code,
        }


def _listed_ids(
    pc: pcc.PartnerCentral, filters: ExportFilters, selection: _search.Selection | None = None
) -> Iterator[str]:
    """Identifiers the filters select, in listing order, each once.

    SearchOpportunities or ListOpportunities as :mod:`bulk_update.export.search`
    says; ``selection`` learns which, and the note of a fallback.
    """
    selection = selection if selection is not None else _search.Selection()
    seen: set[str] = set()
    for identifier in _selected(pc, filters, selection):
        if identifier not in seen:
            seen.add(identifier)
            yield identifier


def _selected(
    pc: pcc.PartnerCentral, filters: ExportFilters, selection: _search.Selection
) -> Iterator[str]:
    if _search.uses_search(filters):
        found = _search.searched_ids(pc, filters)
        try:
            first = next(found, None)  # the first page tells whether search is enabled
        except pcc.AccessDeniedError as exc:
            if not _search.is_not_enabled(exc):
                raise
            if _search.wants_search(filters):
                raise _search.SearchNotEnabled(_search.REFUSAL) from None
            selection.note = _search.FALLBACK_NOTE
        else:
            selection.operation = _search.SEARCH
            if first is not None:
                yield first
            yield from found
            return
    selection.operation = "ListOpportunities"
    params = list_params(filters)
    chunks: list[list[str] | None] = [None]
    if filters.ids:
        ids = check_ids(filters.ids)
        chunks = [ids[i : i + pcc.IDS_PER_LIST] for i in range(0, len(ids), pcc.IDS_PER_LIST)]
    for chunk in chunks:
        extra = {"Identifier": chunk} if chunk else {}
        for summary in pc.list_summaries(**params, **extra):
            yield summary["Id"]


@dataclass
class _Read:
    """The answer to one GetOpportunity, as the reading threads leave it."""

    identifier: str
    row: dict[str, str] | None = None
    failure: ReadFailure | None = None
    unknown: tuple[str, ...] = ()
    """Member paths of the answer the installed model does not know (model drift)."""


def read_rows(
    pc: pcc.PartnerCentral,
    filters: ExportFilters,
    *,
    workers: int = 8,
    on_record: Callable[[ReadResult], None] | None = None,
    cat: Catalog | None = None,
    selection: _search.Selection | None = None,
) -> Iterator[_Read]:
    """List, and read each listed opportunity as a row, several at once, in listing order.

    Reads start while the listing is still paging, and at most ``workers * 4``
    are in hand at a time, so memory stays flat however many are selected.
    Each listed id comes out once, in order, with its row (see
    :func:`bulk_update.payload.record_to_row`) or its failure.  An access denial
    stops everything (raised); other failures are yielded as such.
    """
    cat = cat or _catalog.load()

    def read(identifier: str) -> _Read:
        try:
            record = pc.get(identifier)
        except pcc.NotFound:
            message = (
                f"no opportunity {identifier} in catalog {pc.catalog} any more "
                "(it was listed, then could not be read)"
            )
            done = _Read(identifier, failure=ReadFailure(identifier, Outcome.NOT_FOUND, message))
            result = ReadResult(identifier, Read.NOT_FOUND, message)
        except pcc.AccessDeniedError:
            raise
        except pcc.CallError as exc:
            done = _Read(identifier, failure=ReadFailure(identifier, Outcome.FAILED, str(exc)))
            result = ReadResult(identifier, Read.FAILED, str(exc))
        else:
            row = record_to_row(record, cat)
            row.update(call_cells(record))
            row.setdefault(_catalog.IDENTIFIER, identifier)
            row[_catalog.CATALOG_COLUMN] = pc.catalog
            done = _Read(identifier, row=row, unknown=drift.unknown_of(record))
            result = ReadResult(identifier, Read.READ)
        if on_record is not None:
            on_record(result)
        return done

    window = max(1, workers) * 4
    pending: deque[Future[_Read]] = deque()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="export-read")
    try:
        for identifier in _listed_ids(pc, filters, selection):
            pending.append(pool.submit(read, identifier))
            while pending and (pending[0].done() or len(pending) >= window):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def export_opportunities(
    pc: pcc.PartnerCentral,
    out: Path,
    *,
    filters: ExportFilters | None = None,
    columns: Columns = "default",
    fmt: Format_ | None = None,
    workers: int = 8,
    on_record: Callable[[ReadResult], None] | None = None,
    force: bool = False,
) -> ExportReport:
    """``bulk-update export``: list, read and write the opportunities as a sheet.

    The file's extension decides the format (``.xlsx`` or ``.csv``; any other
    is refused, and so is a ``fmt`` that disagrees with it).  An existing file
    (for a csv: or one of its sidecars) is refused with
    :class:`bulk_update.errors.OutputExists` unless ``force``.  Rows are
    written as their reads come in (``columns="all"`` waits for every read
    first: the columns depend on what the records hold).  Raises
    :class:`BulkUpdateError` for bad filters, columns or paths (before any
    call) and :class:`bulk_update.api.client.AccessDeniedError` when reads are
    refused; a read that fails for one opportunity is in ``failures``.
    """
    out = Path(out)
    fmt = _output_format(out, fmt, force)
    cat = _catalog.load()
    filters = checked_filters(filters or ExportFilters(), cat)  # before any call
    names = None if columns == "all" else choose_columns(columns, [], cat)
    started = datetime.now(UTC)
    job = _Job(out, fmt, cat)
    selection = _search.Selection()
    try:
        reads = read_rows(
            pc, filters, workers=workers, on_record=on_record, cat=cat, selection=selection
        )
        job.write(reads, names)
        notes = job.missing_ids(filters, pc.catalog)
        meta = _meta(pc.catalog, started, columns, job.sink, filters)
        meta.append(("selected_with", selection.operation))
        if selection.note:
            meta.append(("note", selection.note))
        files = job.sink.close(meta)
    except OSError as e:
        raise BulkUpdateError(f"cannot write {out}: {e.strerror or e}") from e
    job.failures.sort(key=lambda f: f.identifier)
    stats = pc.stats
    return ExportReport(
        path=out,
        catalog=pc.catalog,
        exported_at=started,
        headers=job.sink.headers,
        rows=job.sink.rows,
        listed=len(job.listed),
        failures=job.failures,
        warnings=[*job.sink.warnings, *notes],
        notes=[selection.note] if selection.note else [],
        selected_with=selection.operation,
        files=files,
        seconds=(datetime.now(UTC) - started).total_seconds(),
        calls=stats.calls,
        throttled=stats.throttled,
        retries=stats.retries,
    )


_SUFFIXES: dict[str, Format_] = {".xlsx": "xlsx", ".csv": "csv"}


def _output_format(out: Path, fmt: str | None, force: bool) -> Format_:
    """The format the file's name asks for; a name or ``fmt`` that does not fit stops here."""
    if fmt is not None and fmt not in ("xlsx", "csv"):
        raise BulkUpdateError(f"unknown format {fmt!r}: choose xlsx or csv")
    by_name = _SUFFIXES.get(out.suffix.lower())
    if by_name is None:
        wanted = f".{fmt}" if fmt else ".xlsx or .csv"
        raise BulkUpdateError(
            f"{out.name}: an export's name must end in {wanted} (the extension decides the format)"
        )
    if fmt is not None and fmt != by_name:
        raise BulkUpdateError(
            f"{out.name}: --format {fmt} does not match the extension {out.suffix}: "
            f"name the file {out.with_suffix('.' + fmt).name}, or drop --format"
        )
    if not out.parent.is_dir():
        raise BulkUpdateError(f"{out.parent}: no such folder")
    check_output(out, force, *(sidecar_paths(out) if by_name == "csv" else ()))
    return by_name


def _meta(
    catalog: str, started: datetime, columns: Columns, sink: Sink, filters: ExportFilters
) -> list[tuple[str, str]]:
    """The facts the ``_export`` sheet (csv: the json sidecar) keeps about the export."""
    return [
        ("catalog", catalog),
        ("exported_at", format_timestamp(started)),
        ("columns", columns if isinstance(columns, str) else ", ".join(sink.headers[2:-1])),
        ("rows", str(sink.rows)),
        ("filters", json.dumps(filters.describe(), ensure_ascii=False)),
        ("tool", "bulk-update export"),
    ]


SAMPLE_ROWS = 200
"""Rows held before the first is written: the column widths are set from them."""


class _Job:
    """One export's rows on their way to the sink, and what could not be written."""

    def __init__(self, out: Path, fmt: Format_, cat: Catalog) -> None:
        self.out, self.fmt, self.cat = out, fmt, cat
        self.listed: list[str] = []
        self.failures: list[ReadFailure] = []
        self.unseen: dict[str, int] = {}
        """Member paths the installed model does not know -> records holding them."""
        self._sink: Sink | None = None

    @property
    def sink(self) -> Sink:
        assert self._sink is not None, "write() opens the sink"
        return self._sink

    def _open(self, names: list[str], sample: Sequence[dict[str, str]]) -> Sink:
        cols = sheet_columns(names, self.cat)
        try:
            if self.fmt == "xlsx":
                return XlsxSink(self.out, cols, sample)
            return CsvSink(self.out, cols)
        except OSError as e:
            raise BulkUpdateError(f"cannot write {self.out}: {e.strerror or e}") from e

    def write(self, reads: Iterable[_Read], names: list[str] | None) -> None:
        """Every read to the sink as it comes, once the first :data:`SAMPLE_ROWS` are in
        (they set the column widths); with ``names`` None (``all``), once all are in."""
        held: list[dict[str, str]] = []
        for got in reads:
            self.listed.append(got.identifier)
            for path in got.unknown:
                self.unseen[path] = self.unseen.get(path, 0) + 1
            if got.failure is not None:
                self.failures.append(got.failure)
            elif got.row is not None and self._sink is not None:
                self._sink.add(got.row)
            elif got.row is not None:
                held.append(got.row)
                if names is not None and len(held) >= SAMPLE_ROWS:
                    self._flush(names, held)
        if self._sink is None:
            self._flush(names if names is not None else choose_columns("all", held, self.cat), held)

    def _flush(self, names: list[str], held: list[dict[str, str]]) -> None:
        self._sink = self._open(names, held)
        for row in held:
            self._sink.add(row)
        held.clear()

    def missing_ids(self, filters: ExportFilters, catalog: str) -> list[str]:
        """Ids given but not listed (failures, or a note when other filters narrowed them),
        and the model-drift warning; returns the notes for the report."""
        notes: list[str] = []
        if self.unseen:
            notes.append(drift_warning(self.unseen))
        listed = set(self.listed)
        missing = [i for i in filters.ids if i not in listed]
        if missing and not filters.narrows_beyond_ids:
            self.failures.extend(
                ReadFailure(i, Outcome.NOT_FOUND, f"no opportunity {i} in catalog {catalog}")
                for i in missing
            )
        elif missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            notes.append(
                f"{len(missing)} of the ids given did not match the other filters "
                f"(or do not exist): {shown}"
            )
        return notes


def drift_warning(unseen: dict[str, int]) -> str:
    """The one warning of a run whose records held members this botocore cannot see."""
    shown = ", ".join(
        f"{path} ({n} record{'s' if n != 1 else ''})" for path, n in sorted(unseen.items())
    )
    return (
        f"Partner Central returned members that the installed {drift.versions()} cannot "
        f"represent, so they are not in this export: {shown}. `apply` refuses to write those "
        f"records (upgrade-needed) until you upgrade: `{drift.PIP_UPGRADE}`"
    )
