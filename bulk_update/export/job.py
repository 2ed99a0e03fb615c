"""``bulk-update export``: live opportunities written as a sheet the tool reads back.

The export lists the opportunities the filters select (ListOpportunities,
sorted by identifier so that paging is stable while sellers keep editing),
reads each one in full (GetOpportunity, several at once, paced by the client's
read limiter) and writes one row per opportunity: ``Identifier`` and
``LastModifiedDate`` first, then the chosen columns in the catalog's order,
then ``Catalog``.

This module holds the filters, the listing and reading, and the report;
:mod:`bulk_update.export.columns` chooses the columns and
:mod:`bulk_update.export.sinks` writes the files: an ``.xlsx`` workbook with its
hidden ``_baseline``, ``_export`` and ``_lists`` sheets, or a ``.csv`` (UTF-8
with a byte-order mark) with ``<name>.baseline.csv`` and ``<name>.export.json``
beside it.  :func:`bulk_update.sheet.baseline.load_csv_baseline` reads those back.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
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
from bulk_update.export.columns import Columns, choose_columns, sheet_columns
from bulk_update.export.sinks import CsvSink, Sink, XlsxSink, sidecar_paths
from bulk_update.fields import Catalog
from bulk_update.payload import record_to_row
from bulk_update.problems import Outcome
from bulk_update.times import format_timestamp, instant
from bulk_update.workbook import BASELINE_SHEET as BASELINE_SHEET
from bulk_update.workbook import CELL_LIMIT as CELL_LIMIT
from bulk_update.workbook import DATA_SHEET as DATA_SHEET
from bulk_update.workbook import EXPORT_SHEET as EXPORT_SHEET
from bulk_update.workbook import LISTS_SHEET as LISTS_SHEET
from bulk_update.workbook import check_output

Format_ = Literal["xlsx", "csv"]

_ID = re.compile(r"^O[0-9]{1,19}$")
_MAX_LIST_FILTER = 10


# -- filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilters:
    """Which opportunities to export; every filter given must hold (AND).

    ``stages`` / ``review_statuses`` / ``companies`` each match any of their
    values (OR).  Dates bound ranges as the service applies them; a ``date``
    given for a modified bound means midnight UTC of that day.
    """

    stages: tuple[str, ...] = ()
    review_statuses: tuple[str, ...] = ()
    modified_after: datetime | date | None = None
    modified_before: datetime | date | None = None
    target_close_after: date | None = None
    target_close_before: date | None = None
    ids: tuple[str, ...] = ()
    companies: tuple[str, ...] = ()
    keyword: str | None = None
    """SearchOpportunities' free-text Keyword (``--search``)."""
    tags: tuple[tuple[str, str], ...] = ()
    """(key, value) pairs; each must hold."""
    owners: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    select: Literal["auto", "search", "list"] = "auto"
    """How to select: see :mod:`bulk_update.export.search`."""

    @property
    def narrows_beyond_ids(self) -> bool:
        """True when a filter other than ``ids`` is set."""
        return bool(
            self.stages
            or self.review_statuses
            or self.companies
            or _search.wants_search(self)
            or self.modified_after
            or self.modified_before
            or self.target_close_after
            or self.target_close_before
        )

    def describe(self) -> dict[str, Any]:
        """The filters as plain data, for the ``_export`` sheet and ``--json``."""
        out: dict[str, Any] = {}
        for name in (
            "stages",
            "review_statuses",
            "companies",
            "ids",
            "owners",
            "countries",
        ):
            value = getattr(self, name)
            if value:
                out[name] = list(value)
        for name in (
            "modified_after",
            "modified_before",
            "target_close_after",
            "target_close_before",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        if self.keyword:
            out["keyword"] = self.keyword
        if self.tags:
            out["tags"] = [f"{k}={v}" for k, v in self.tags]
        if self.select != "auto":
            out["select"] = self.select
        return out


def _canonical(values: Iterable[str], allowed: Sequence[str], what: str) -> list[str]:
    """The values in their canonical spelling; an unknown value stops the export."""
    by_fold = {a.casefold(): a for a in allowed}
    out: list[str] = []
    for value in values:
        key = " ".join(value.split()).casefold()
        if key not in by_fold:
            raise BulkUpdateError(f"unknown {what} {value!r}: choose from {', '.join(allowed)}")
        if by_fold[key] not in out:
            out.append(by_fold[key])
    return out


def list_params(filters: ExportFilters, cat: Catalog | None = None) -> dict[str, Any]:
    """The ListOpportunities members for the filters, ``Identifier`` left out.

    The member names come from the model's ListOpportunities input; values are
    checked against the model's value lists (stages, review statuses).
    """
    cat = cat or _catalog.load()
    shape = _catalog.service_model().operation_model("ListOpportunities").input_shape
    members: dict[str, Any] = dict(shape.members) if shape is not None else {}
    params: dict[str, Any] = {"Sort": {"SortBy": "Identifier", "SortOrder": "ASCENDING"}}
    if filters.stages:
        stage = cat.get("LifeCycle.Stage")
        allowed = stage.enum if stage else tuple(members["LifeCycleStage"].member.enum)
        params["LifeCycleStage"] = _canonical(filters.stages, allowed, "stage")
    if filters.review_statuses:
        allowed = tuple(members["LifeCycleReviewStatus"].member.enum)
        params["LifeCycleReviewStatus"] = _canonical(
            filters.review_statuses, allowed, "review status"
        )
    if filters.companies:
        names = [c.strip() for c in filters.companies if c.strip()]
        if len(names) > _MAX_LIST_FILTER:
            raise BulkUpdateError(
                f"at most {_MAX_LIST_FILTER} company names per export (got {len(names)})"
            )
        params["CustomerCompanyName"] = names
    modified: dict[str, datetime] = {}
    if filters.modified_after is not None:
        modified["AfterLastModifiedDate"] = instant(filters.modified_after)
    if filters.modified_before is not None:
        modified["BeforeLastModifiedDate"] = instant(filters.modified_before)
    if modified:
        params["LastModifiedDate"] = modified
    closing: dict[str, str] = {}
    if filters.target_close_after is not None:
        closing["AfterTargetCloseDate"] = filters.target_close_after.isoformat()
    if filters.target_close_before is not None:
        closing["BeforeTargetCloseDate"] = filters.target_close_before.isoformat()
    if closing:
        if "TargetCloseDate" not in members:
            raise BulkUpdateError(
                "this botocore's ListOpportunities has no TargetCloseDate filter: "
                "upgrade botocore or drop --target-close-after/--target-close-before"
            )
        params["TargetCloseDate"] = closing
    return params


def check_ids(ids: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated identifiers; a malformed one stops the export."""
    out: list[str] = []
    bad: list[str] = []
    for raw in ids:
        value = raw.strip()
        if not value:
            continue
        if not _ID.match(value):
            bad.append(value)
        elif value not in out:
            out.append(value)
    if bad:
        shown = ", ".join(repr(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise BulkUpdateError(f"not an opportunity identifier (O followed by digits): {shown}")
    return out


def read_ids(spec: str) -> list[str]:
    """The identifiers ``--ids`` names: a file (text, .csv or .xlsx) or a list.

    A text file holds identifiers separated by new lines, commas, semicolons or
    spaces; a ``.csv``/``.xlsx`` sheet is read through its ``Identifier`` (or
    ``Id``) column.  Anything else is taken as such a list itself.
    """
    path = Path(spec)
    if path.suffix.lower() in (".csv", ".xlsx", ".xlsm") and path.is_file():
        from bulk_update.sheet import read as readers

        sheet = readers.read_sheet(path)
        wanted = {h.strip().casefold(): i for i, h in enumerate(sheet.headers)}
        pos = wanted.get("identifier", wanted.get("id"))
        if pos is None:
            raise BulkUpdateError(f"{path.name} has no Identifier (or Id) column to take ids from")
        return check_ids(str(v) for v in sheet.cells[pos].tolist())
    text = spec
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise BulkUpdateError(f"{path}: cannot read the ids ({e})") from e
    elif "/" in spec or spec.endswith(".txt"):
        raise BulkUpdateError(f"{spec}: no such file of ids")
    return check_ids(re.split(r"[\s,;]+", text))


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
    filters = _checked_filters(filters or ExportFilters(), cat)  # before any call
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


def _checked_filters(filters: ExportFilters, cat: Catalog) -> ExportFilters:
    """The filters in their canonical spelling (the values checked before any call)."""
    params = list_params(filters, cat)
    _search.check(filters)
    return replace(
        filters,
        stages=tuple(params.get("LifeCycleStage", ())),
        review_statuses=tuple(params.get("LifeCycleReviewStatus", ())),
        companies=tuple(params.get("CustomerCompanyName", ())),
        ids=tuple(check_ids(filters.ids)),
        owners=tuple(dict.fromkeys(o.strip() for o in filters.owners if o.strip())),
        countries=tuple(dict.fromkeys(c.strip().upper() for c in filters.countries)),
    )


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
