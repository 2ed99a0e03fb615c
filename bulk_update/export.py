"""``bulk-update export``: live opportunities written as a sheet the tool reads back.

The export lists the opportunities the filters select (ListOpportunities,
sorted by identifier so that paging is stable while sellers keep editing),
reads each one in full (GetOpportunity, several at once, paced by the client's
read limiter) and writes one row per opportunity: ``Identifier`` and
``LastModifiedDate`` first, then the chosen columns in the catalog's order,
then ``Catalog``.

An ``.xlsx`` export holds, besides the data sheet ``Opportunities``:

- ``_baseline`` (very hidden, protected): every exported value of every row,
  under the same headers, all cells text.  ``apply`` compares the data sheet
  with it to learn which cells the user changed (sheet-contract.md, section 4).
- ``_export`` (very hidden, protected): ``key, value`` rows: ``catalog``,
  ``exported_at`` (ISO 8601, UTC), ``columns``, ``rows``, ``filters``.
- ``_lists`` (very hidden, protected): the allowed values that the dropdowns
  of long value lists (country and currency codes...) point at.

On the data sheet the read-only columns (``Identifier``, ``LastModifiedDate``,
the review columns, ``Catalog``) are grey and locked; the sheet is protected
without a password, so editing the other cells, formatting, filtering and
sorting stay allowed.  (Excel itself refuses to sort a range that holds locked
cells on a protected sheet, whatever the permission says: to sort, use Review >
Unprotect Sheet first; the tool matches rows by ``Identifier``, never by
position.)  Each column has a hint, and columns with a list of allowed values a
dropdown (warning style, so a value in another spelling can still be typed: the
tool writes it in its canonical spelling).

A ``.csv`` export is UTF-8 with a byte-order mark; its baseline goes to
``<name>.baseline.csv`` beside it (same shape as ``_baseline``) and its
metadata to ``<name>.export.json``.  :func:`load_csv_baseline` reads them back.

Every text is written as text: never a formula, a number or a link.  A value
longer than Excel's 32,767-character cell limit cannot be held by an ``.xlsx``
cell; it is left out of both the data sheet and the baseline (an empty cell
keeps the live value), its cell is locked, and the report says which.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bulk_update import catalog as _catalog
from bulk_update import client as pcc
from bulk_update.catalog import Catalog, Field
from bulk_update.errors import BulkUpdateError, ColumnError
from bulk_update.mapping import format_timestamp, parse_column, record_to_row
from bulk_update.problems import Outcome

if TYPE_CHECKING:
    import pandas as pd

DATA_SHEET = "Opportunities"
BASELINE_SHEET = "_baseline"
EXPORT_SHEET = "_export"
LISTS_SHEET = "_lists"

CELL_LIMIT = 32_767
"""Excel's limit on the characters (UTF-16 units) of one cell."""

Columns = Literal["default", "all"] | list[str]
Format_ = Literal["xlsx", "csv"]

DEFAULT_COLUMNS: tuple[str, ...] = (
    "Customer.Account.Industry",
    "Customer.Account.CompanyName",
    "Customer.Account.WebsiteUrl",
    "Customer.Account.Address.City",
    "Customer.Account.Address.PostalCode",
    "Customer.Account.Address.StateOrRegion",
    "Customer.Account.Address.CountryCode",
    "Customer.Account.Address.StreetAddress",
    "Project.ExpectedCustomerSpend[1].Amount",
    "Project.ExpectedCustomerSpend[1].CurrencyCode",
    "Project.ExpectedCustomerSpend[1].Frequency",
    "Project.ExpectedCustomerSpend[1].TargetCompany",
    "Project.Title",
    "LifeCycle.Stage",
    "LifeCycle.ClosedLostReason",
    "LifeCycle.NextSteps",
    "LifeCycle.TargetCloseDate",
    "LifeCycle.ReviewStatus",
)
"""The quarterly clean-up's columns: stage, close, next steps, dates, customer, spend."""

REVIEW_COLUMNS: tuple[str, ...] = (
    "LifeCycle.ReviewStatus",
    "LifeCycle.ReviewComments",
    "LifeCycle.ReviewStatusReason",
)
"""Read-only columns that ``--columns all`` always carries."""

_ID = re.compile(r"^O[0-9]{1,19}$")
_IDS_PER_LIST = 20
_MAX_LIST_FILTER = 10
_MAX_ROW = 1_048_575  # Excel's last row, 0-based


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

    @property
    def narrows_beyond_ids(self) -> bool:
        """True when a filter other than ``ids`` is set."""
        return bool(
            self.stages
            or self.review_statuses
            or self.companies
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


def _instant(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


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
        modified["AfterLastModifiedDate"] = _instant(filters.modified_after)
    if filters.modified_before is not None:
        modified["BeforeLastModifiedDate"] = _instant(filters.modified_before)
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
        from bulk_update import readers

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


# -- columns ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    field: Field | None
    read_only: bool


_FRAME_HEADERS = (_catalog.IDENTIFIER, _catalog.LAST_MODIFIED)


def _order_key(name: str, cat: Catalog) -> tuple[int, int, int]:
    """Catalog order, record lists kept together item by item."""
    positions = {f.key: i for i, f in enumerate((*cat.fields, *cat.read_only))}
    found = parse_column(name, cat)
    if found is None:
        return (10_000, 0, 0)
    f, index = found
    if f.record_list is None:
        return (positions[f.key], 0, 0)
    first = min(
        positions[g.key] for g in (*cat.fields, *cat.read_only) if g.record_list == f.record_list
    )
    return (first, (index or 0) + 1, positions[f.key])


def _resolve(name: str, cat: Catalog) -> str:
    """A user's column name in the contract's spelling (case and spaces ignored)."""
    wanted = name.strip()
    found = parse_column(wanted, cat)
    if found is not None:
        return wanted
    known: dict[str, str] = {}
    for f in (*cat.fields, *cat.read_only):
        if f.list_at is None:
            known[f.key.casefold()] = f.key
    m = re.match(r"^(?P<list>[^\[\]]+)\[(?P<i>\d+)\]\.(?P<member>.+)$", wanted)
    if m:
        for f in (*cat.fields, *cat.read_only):
            if f.list_at is not None and f.key.casefold() == (
                f"{m.group('list')}[].{m.group('member')}".casefold()
            ):
                column = f.column(int(m.group("i")))
                if parse_column(column, cat) is not None:
                    return column
    if wanted.casefold() in known:
        return known[wanted.casefold()]
    names = [*known.values(), *(f.column(1) for f in cat.fields if f.list_at is not None)]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ColumnError(f"--columns: {name!r} names no field{hint}")


def choose_columns(
    columns: Columns, rows: Sequence[dict[str, str]], cat: Catalog | None = None
) -> list[str]:
    """The field columns to export, in catalog order (frame columns not included)."""
    cat = cat or _catalog.load()
    if columns == "default":
        chosen = [c for c in DEFAULT_COLUMNS if parse_column(c, cat) is not None]
    elif columns == "all":
        present: set[str] = set()
        for row in rows:
            present.update(row)
        chosen = []
        for name in present:
            found = parse_column(name, cat)
            if found is not None and not found[0].read_only:
                chosen.append(name)
        chosen += [c for c in REVIEW_COLUMNS if parse_column(c, cat) is not None]
    else:
        chosen = []
        for name in columns:
            if not name.strip():
                continue
            if name.strip().casefold() in {
                h.casefold() for h in (*_FRAME_HEADERS, _catalog.CATALOG_COLUMN, "Id")
            }:
                continue
            chosen.append(_resolve(name, cat))
        if not chosen:
            raise ColumnError("--columns names no field to export")
    return sorted(dict.fromkeys(chosen), key=lambda c: _order_key(c, cat))


def _columns(names: Sequence[str], cat: Catalog) -> list[_Column]:
    out = [_Column(h, None, True) for h in _FRAME_HEADERS]
    for name in names:
        found = parse_column(name, cat)
        f = found[0] if found else None
        out.append(_Column(name, f, f is None or f.read_only))
    out.append(_Column(_catalog.CATALOG_COLUMN, None, True))
    return out


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
            "seconds": round(self.seconds, 3),
            "calls": self.calls,
            "throttled": self.throttled,
            "retries": self.retries,
            "exit_code": self.exit_code,
        }


def _listed_ids(pc: pcc.PartnerCentral, filters: ExportFilters) -> Iterator[str]:
    """Identifiers the filters select, in listing order, each once."""
    params = list_params(filters)
    seen: set[str] = set()
    if filters.ids:
        ids = check_ids(filters.ids)
        for start in range(0, len(ids), _IDS_PER_LIST):
            chunk = ids[start : start + _IDS_PER_LIST]
            for summary in pc.list_summaries(**params, Identifier=chunk):
                if summary["Id"] not in seen:
                    seen.add(summary["Id"])
                    yield summary["Id"]
        return
    for summary in pc.list_summaries(**params):
        if summary["Id"] not in seen:
            seen.add(summary["Id"])
            yield summary["Id"]


@dataclass
class _Read:
    """The answer to one GetOpportunity, as the reading threads leave it."""

    identifier: str
    row: dict[str, str] | None = None
    failure: ReadFailure | None = None


def read_rows(
    pc: pcc.PartnerCentral,
    filters: ExportFilters,
    *,
    workers: int = 8,
    on_record: Callable[[ReadResult], None] | None = None,
    cat: Catalog | None = None,
) -> Iterator[_Read]:
    """List, and read each listed opportunity as a row, several at once, in listing order.

    Reads start while the listing is still paging, and at most ``workers * 4``
    are in hand at a time, so memory stays flat however many are selected.
    Each listed id comes out once, in order, with its row (see
    :func:`bulk_update.mapping.record_to_row`) or its failure.  An access denial
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
            done = _Read(identifier, row=row)
            result = ReadResult(identifier, Read.READ)
        if on_record is not None:
            on_record(result)
        return done

    window = max(1, workers) * 4
    pending: deque[Future[_Read]] = deque()
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="export-read")
    try:
        for identifier in _listed_ids(pc, filters):
            pending.append(pool.submit(read, identifier))
            while pending and (pending[0].done() or len(pending) >= window):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- writing ------------------------------------------------------------------------


def _units(text: str) -> int:
    """Length in UTF-16 units, as Excel counts a cell."""
    if len(text) <= CELL_LIMIT // 2:
        return len(text)
    return len(text.encode("utf-16-le")) // 2




def _hint(column: _Column) -> tuple[str, str]:
    """The title and message Excel shows when a cell of the column is selected."""
    title = column.name.split(".")[-1][:32]
    f = column.field
    if column.name == _catalog.IDENTIFIER:
        return title, "The opportunity's id. Read-only: the tool finds the record by it."
    if column.name == _catalog.LAST_MODIFIED:
        return title, (
            "The version this row was exported from (UTC). Read-only: the tool "
            "uses it to tell your edits from changes made in Partner Central since."
        )
    if column.name == _catalog.CATALOG_COLUMN:
        return title, "The catalog this sheet was exported from. Read-only."
    if f is None or column.read_only:
        return title, "Read-only: exported for reference, never written."
    parts: list[str] = []
    from bulk_update.template import meaning  # the template's wording of the field's doc

    first = meaning(f, column.name).rstrip(".")
    parts.append(first[:120] + ("..." if len(first) > 120 else "") + ".")
    if f.kind == "date":
        parts.append("Date as YYYY-MM-DD.")
    elif f.kind == "list":
        parts.append("Several values separated by ;.")
        if f.allowed:
            shown = "; ".join(f.allowed[:4])
            parts.append(f"Values such as: {shown}{' ...' if len(f.allowed) > 4 else ''}.")
    elif f.allowed:
        parts.append("Pick from the list.")
    if f.max_length:
        parts.append(f"At most {f.max_length} characters.")
    parts.append("Empty keeps the live value; #CLEAR empties it.")
    message = " ".join(parts)
    if len(message) > 255:
        message = message[:252] + "..."
    return title, message


class _Lists:
    """The ``_lists`` sheet: value lists too long for an inline dropdown.

    Lists are gathered first and written row by row by :meth:`close`, as the
    workbook's constant-memory mode needs.
    """

    def __init__(self, book: xlsxwriter.Workbook, text: Format) -> None:
        self.book = book
        self.text = text
        self.columns: dict[tuple[str, ...], str] = {}

    def source(self, values: tuple[str, ...]) -> str | list[str]:
        if sum(len(v) + 1 for v in values) <= 250 and not any("," in v for v in values):
            return list(values)
        if values not in self.columns:
            letter = _letter(len(self.columns))
            self.columns[values] = f"='{LISTS_SHEET}'!${letter}$1:${letter}${len(values)}"
        return self.columns[values]

    def close(self) -> None:
        if not self.columns:
            return
        sheet = self.book.add_worksheet(LISTS_SHEET)
        lists = list(self.columns)
        for row in range(max(len(v) for v in lists)):
            for col, values in enumerate(lists):
                if row < len(values):
                    sheet.write_string(row, col, values[row], self.text)
        sheet.very_hidden()
        sheet.protect()


def _letter(col: int) -> str:
    letters = ""
    n = col + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _validate(ws: Worksheet, col: int, column: _Column, lists: _Lists) -> None:
    title, message = _hint(column)
    options: dict[str, Any] = {
        "validate": "any",
        "input_title": title,
        "input_message": message,
        "ignore_blank": True,
    }
    f = column.field
    if f is not None and not column.read_only:
        if f.kind in ("enum", "text") and f.allowed:
            # As the template: a stop for the model's own values, no error for
            # values the documentation lists but the service does not enforce.
            values = f.allowed if f.required else (*f.allowed, "#CLEAR")
            options.update(validate="list", source=lists.source(tuple(values)))
            if f.enum:
                options.update(
                    error_type="stop",
                    error_title="Not an allowed value",
                    error_message="Pick a value from the list"
                    + ("." if f.required else ", or #CLEAR to empty the field."),
                )
            else:
                options.update(show_error=False)
        elif f.kind == "text" and f.max_length:
            options.update(
                validate="length",
                criteria="<=",
                value=f.max_length,
                error_type="warning",
                error_title="Too long",
                error_message=f"Partner Central takes at most {f.max_length} characters here.",
            )
    ws.data_validation(1, col, _MAX_ROW, col, options)


def _width(name: str, values: Iterable[str]) -> float:
    longest = max([len(name), *(len(v.split("\n")[0]) for v in values)], default=10)
    return float(min(max(longest + 2, 10), 50))


def _too_long(identifier: str, column: str) -> str:
    return (
        f"{identifier} {column}: the value is longer than Excel's {CELL_LIMIT:,}-character "
        "cell limit, so the cell is left empty and locked (an empty cell keeps the live "
        "value); change this field in Partner Central"
    )


class _Sink:
    """Where the rows go, one at a time, in order."""

    def __init__(self, columns: list[_Column]) -> None:
        self.columns = columns
        self.headers = [c.name for c in columns]
        self.rows = 0
        self.warnings: list[str] = []

    def add(self, row: dict[str, str]) -> None:
        raise NotImplementedError

    def close(self, meta: list[tuple[str, str]]) -> list[Path]:
        """Finish the files (metadata last) and return their paths."""
        raise NotImplementedError


class _XlsxSink(_Sink):
    """The data sheet and ``_baseline``, row by row (constant memory), then ``_export``."""

    def __init__(self, out: Path, columns: list[_Column], sample: Sequence[dict[str, str]]) -> None:
        from bulk_update.results import WORKBOOK_OPTIONS

        super().__init__(columns)
        self.out = out
        book = self.book = xlsxwriter.Workbook(str(out), WORKBOOK_OPTIONS)
        book.set_properties(
            {
                "title": "bulk-update export",
                "comments": "Edit the white cells, then: bulk-update apply",
            }
        )
        self.text = book.add_format({"num_format": "@"})
        self.editable = book.add_format({"num_format": "@", "locked": False})
        self.locked = book.add_format(
            {"num_format": "@", "locked": True, "bg_color": "#E7E6E6", "font_color": "#595959"}
        )
        head_edit = book.add_format(
            {
                "bold": True,
                "num_format": "@",
                "bg_color": "#1F4E78",
                "font_color": "#FFFFFF",
                "border": 1,
            }
        )
        head_ro = book.add_format(
            {
                "bold": True,
                "num_format": "@",
                "bg_color": "#A6A6A6",
                "font_color": "#FFFFFF",
                "border": 1,
            }
        )
        self.ws = book.add_worksheet(DATA_SHEET)
        self.base = book.add_worksheet(BASELINE_SHEET)
        self.info = book.add_worksheet(EXPORT_SHEET)
        self.lists = _Lists(book, self.text)
        for col, c in enumerate(columns):
            width = _width(c.name, (r.get(c.name, "") for r in sample[:200]))
            self.ws.set_column(col, col, width, self.locked if c.read_only else self.editable)
            self.base.set_column(col, col, width, self.text)
            _validate(self.ws, col, c, self.lists)
            self.ws.write_string(0, col, c.name, head_ro if c.read_only else head_edit)
            self.base.write_string(0, col, c.name, self.text)
        self.ws.freeze_panes(1, 1)
        self.ws.protect(
            "",
            {
                "autofilter": True,
                "sort": True,
                "format_cells": True,
                "format_columns": True,
                "format_rows": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )

    def add(self, row: dict[str, str]) -> None:
        self.rows += 1
        n = self.rows
        ws, base, text = self.ws, self.base, self.text
        for col, c in enumerate(self.columns):
            value = row.get(c.name, "")
            if not value:
                continue
            if _units(value) > CELL_LIMIT:
                self.warnings.append(_too_long(row.get(_catalog.IDENTIFIER, ""), c.name))
                ws.write_blank(n, col, None, self.locked)
                continue
            ws.write_string(n, col, value, self.locked if c.read_only else self.editable)
            base.write_string(n, col, value, text)

    def close(self, meta: list[tuple[str, str]]) -> list[Path]:
        self.ws.autofilter(0, 0, max(self.rows, 1), len(self.columns) - 1)
        self.base.very_hidden()
        self.base.protect()
        info, text = self.info, self.text
        info.write_string(0, 0, "key", text)
        info.write_string(0, 1, "value", text)
        for n, (key, value) in enumerate(meta, start=1):
            info.write_string(n, 0, key, text)
            info.write_string(n, 1, value[:CELL_LIMIT], text)
        info.very_hidden()
        info.protect()
        self.lists.close()
        self.ws.activate()
        self.book.close()
        return [self.out]


def sidecar_paths(csv_path: Path) -> tuple[Path, Path]:
    """``<name>.baseline.csv`` and ``<name>.export.json`` beside a csv export."""
    csv_path = Path(csv_path)
    return (
        csv_path.with_name(f"{csv_path.stem}.baseline.csv"),
        csv_path.with_name(f"{csv_path.stem}.export.json"),
    )


class _CsvSink(_Sink):
    """The csv (UTF-8 with BOM) and its baseline twin, row by row, then the json metadata."""

    def __init__(self, out: Path, columns: list[_Column]) -> None:
        super().__init__(columns)
        self.out = out
        self.baseline, self.info = sidecar_paths(out)
        self.files = [
            out.open("w", encoding="utf-8-sig", newline=""),
            self.baseline.open("w", encoding="utf-8-sig", newline=""),
        ]
        self.writers = [csv.writer(f, quoting=csv.QUOTE_MINIMAL) for f in self.files]
        for w in self.writers:
            w.writerow(self.headers)
        self.long_cells = 0
        self.formulas = 0

    def add(self, row: dict[str, str]) -> None:
        self.rows += 1
        cells = [row.get(h, "") for h in self.headers]
        for value in cells:
            if value[:1] in ("=", "+", "-", "@"):
                self.formulas += 1
            if len(value) > CELL_LIMIT // 2 and _units(value) > CELL_LIMIT:
                self.long_cells += 1
        for w in self.writers:
            w.writerow(cells)

    def close(self, meta: list[tuple[str, str]]) -> list[Path]:
        for f in self.files:
            f.close()
        data: dict[str, Any] = dict(meta)
        data["data_file"] = self.out.name
        data["baseline_file"] = self.baseline.name
        self.info.write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if self.long_cells:
            self.warnings.append(
                f"{self.long_cells} cell(s) are longer than Excel's {CELL_LIMIT:,}-character "
                "limit: Excel would cut them if you open this CSV in it; edit it in a text editor"
            )
        if self.formulas:
            self.warnings.append(
                f"{self.formulas} cell(s) begin with =, +, - or @: Excel would take them for "
                "formulas if you open this CSV in it; use --format xlsx to edit in Excel"
            )
        return [self.out, self.baseline, self.info]


def export_opportunities(
    pc: pcc.PartnerCentral,
    out: Path,
    *,
    filters: ExportFilters | None = None,
    columns: Columns = "default",
    fmt: Format_ | None = None,
    workers: int = 8,
    on_record: Callable[[ReadResult], None] | None = None,
) -> ExportReport:
    """``bulk-update export``: list, read and write the opportunities as a sheet.

    ``fmt`` defaults to the file's suffix (``.csv`` -> csv, else xlsx).  Rows
    are written as their reads come in (``columns="all"`` waits for every read
    first: the columns depend on what the records hold).  Raises
    :class:`BulkUpdateError` for bad filters, columns or paths (before any
    call) and :class:`bulk_update.client.AccessDeniedError` when reads are
    refused; a read that fails for one opportunity is in ``failures``.
    """
    out = Path(out)
    filters = filters or ExportFilters()
    fmt = fmt or ("csv" if out.suffix.lower() == ".csv" else "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise BulkUpdateError(f"unknown format {fmt!r}: choose xlsx or csv")
    if fmt == "xlsx" and out.suffix.lower() not in (".xlsx", ".xlsm"):
        raise BulkUpdateError(f"{out.name}: an xlsx export needs a name ending in .xlsx")
    if not out.parent.is_dir():
        raise BulkUpdateError(f"{out.parent}: no such folder")
    cat = _catalog.load()
    params = list_params(filters, cat)  # check the filters before any call
    filters = replace(
        filters,
        stages=tuple(params.get("LifeCycleStage", ())),
        review_statuses=tuple(params.get("LifeCycleReviewStatus", ())),
        ids=tuple(check_ids(filters.ids)),
    )
    names = None if columns == "all" else choose_columns(columns, [], cat)

    def open_sink(names: list[str], sample: Sequence[dict[str, str]]) -> _Sink:
        cols = _columns(names, cat)
        try:
            return _XlsxSink(out, cols, sample) if fmt == "xlsx" else _CsvSink(out, cols)
        except OSError as e:
            raise BulkUpdateError(f"cannot write {out}: {e.strerror or e}") from e

    started = datetime.now(UTC)
    listed: list[str] = []
    failures: list[ReadFailure] = []
    held: list[dict[str, str]] = []
    sink = open_sink(names, ()) if names is not None else None
    try:
        for got in read_rows(pc, filters, workers=workers, on_record=on_record, cat=cat):
            listed.append(got.identifier)
            if got.failure is not None:
                failures.append(got.failure)
            elif got.row is not None:
                if sink is not None:
                    sink.add(got.row)
                else:
                    held.append(got.row)
        if sink is None:
            names = choose_columns("all", held, cat)
            sink = open_sink(names, held)
            for row in held:
                sink.add(row)
        notes: list[str] = []
        listed_set = set(listed)
        missing = [i for i in filters.ids if i not in listed_set]
        if missing and not filters.narrows_beyond_ids:
            failures.extend(
                ReadFailure(i, Outcome.NOT_FOUND, f"no opportunity {i} in catalog {pc.catalog}")
                for i in missing
            )
        elif missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            notes.append(
                f"{len(missing)} of the ids given did not match the other filters "
                f"(or do not exist): {shown}"
            )
        meta = [
            ("catalog", pc.catalog),
            ("exported_at", format_timestamp(started)),
            ("columns", columns if isinstance(columns, str) else ", ".join(sink.headers[2:-1])),
            ("rows", str(sink.rows)),
            ("filters", json.dumps(filters.describe(), ensure_ascii=False)),
            ("tool", "bulk-update export"),
        ]
        files = sink.close(meta)
        warnings = [*sink.warnings, *notes]
    except OSError as e:
        raise BulkUpdateError(f"cannot write {out}: {e.strerror or e}") from e
    failures.sort(key=lambda f: f.identifier)
    stats = pc.stats
    return ExportReport(
        path=out,
        catalog=pc.catalog,
        exported_at=started,
        headers=sink.headers,
        rows=sink.rows,
        listed=len(listed),
        failures=failures,
        warnings=warnings,
        files=files,
        seconds=(datetime.now(UTC) - started).total_seconds(),
        calls=stats.calls,
        throttled=stats.throttled,
        retries=stats.retries,
    )


# -- reading a csv export's sidecars ------------------------------------------------


def load_csv_baseline(csv_path: Path) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """The baseline and metadata a csv export left beside ``csv_path``.

    Returns ``(baseline, meta)``: the baseline as a DataFrame shaped like
    ``readers.Sheet.baseline`` (columns named by the headers, every value a
    ``str``, ``""`` for empty, blank lines skipped), or None when there is no
    ``<name>.baseline.csv``; ``meta`` holds the ``<name>.export.json`` keys as
    text (``catalog``, ``exported_at``, ``columns``...), empty when there is
    none.  A sidecar that cannot be read gives None / {} plus a
    ``sidecar_problem`` entry in ``meta`` saying why, so that the caller can
    fall back to the two-way rules with a warning.
    """
    import pandas as pd

    baseline_path, info_path = sidecar_paths(Path(csv_path))
    meta: dict[str, str] = {}
    problems: list[str] = []
    if info_path.is_file():
        try:
            data = json.loads(info_path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            for key, value in data.items():
                meta[str(key)] = value if isinstance(value, str) else json.dumps(value)
        except (OSError, ValueError) as e:
            problems.append(f"{info_path.name} cannot be read ({e})")
    frame: pd.DataFrame | None = None
    if baseline_path.is_file():
        try:
            text = baseline_path.read_bytes().decode("utf-8-sig")
            lines = list(csv.reader(io.StringIO(text, newline="")))
            lines = [r for r in lines if any(v.strip() for v in r)]
            if not lines:
                raise ValueError("empty")
            headers = [h.strip() for h in lines[0]]
            width = len(headers)
            body = [(r + [""] * width)[:width] for r in lines[1:]]
            frame = pd.DataFrame(body, columns=headers, dtype=object)
        except (OSError, ValueError, csv.Error) as e:
            problems.append(f"{baseline_path.name} cannot be read ({e})")
            frame = None
    if problems:
        meta["sidecar_problem"] = "; ".join(problems)
    return frame, meta
