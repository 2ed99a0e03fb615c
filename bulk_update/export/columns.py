"""Which columns an export writes, and in what order.

``Identifier`` and ``LastModifiedDate`` first, then the columns a clean-up
edits most (:data:`FIRST_COLUMNS`: stage, closed-lost reason, next steps,
target close date) when chosen, then the other chosen field columns in the
catalog's order (record lists kept together item by item), then the call
columns (:data:`CALL_COLUMNS`: the owner and the related entities, editable),
then the read-only ones, then ``Catalog``.  ``--columns`` takes ``default``
(:data:`DEFAULT_COLUMNS`), ``all`` (every editable field the records hold,
the call columns, plus :data:`REVIEW_COLUMNS`) or a list of column names,
spelled loosely.

Decisions: the ``Submit.*`` columns are never exported (a submission is an
action, not a state of the record; the sheet's Guide says how to ask for one).
The ``OpportunityTeam[n].*`` columns stay read-only (exported only when named):
the owner is edited through ``Assignee.*``, which AssignOpportunity takes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Literal

from bulk_update import calls as _calls
from bulk_update import fields as _catalog
from bulk_update.errors import ColumnError
from bulk_update.export.sinks import Column
from bulk_update.fields import Catalog
from bulk_update.payload import CLEAR, LIST_SEPARATOR, parse_column

Columns = Literal["default", "all"] | list[str]

FIRST_COLUMNS: tuple[str, ...] = (
    "LifeCycle.Stage",
    "LifeCycle.ClosedLostReason",
    "LifeCycle.NextSteps",
    "LifeCycle.TargetCloseDate",
)
"""The columns a quarterly clean-up edits most: right after the frame, in this order."""

CALL_COLUMNS: tuple[str, ...] = tuple(
    f.key for f in (*_calls.assignee_fields(), *_calls.related_fields())
)
"""The owner (``Assignee.*``) and related-entity columns an export writes, editable, in
:func:`bulk_update.calls.column_fields` order (the model's); ``Submit.*`` never."""

DEFAULT_COLUMNS: tuple[str, ...] = (
    *FIRST_COLUMNS,
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
    *CALL_COLUMNS,
    "LifeCycle.ReviewStatus",
)
"""The quarterly clean-up's columns: stage, close, next steps, dates, customer, spend,
owner and related entities."""

REVIEW_COLUMNS: tuple[str, ...] = (
    "LifeCycle.ReviewStatus",
    "LifeCycle.ReviewComments",
    "LifeCycle.ReviewStatusReason",
)
"""Read-only columns that ``--columns all`` always carries."""

_FRAME_HEADERS = (_catalog.IDENTIFIER, _catalog.LAST_MODIFIED)


def _order_key(name: str, cat: Catalog) -> tuple[int, int, int, int]:
    """FIRST_COLUMNS first, then catalog order (record lists kept together item by item),
    the call columns after the editable fields, the read-only ones last."""
    if name in FIRST_COLUMNS:
        return (0, FIRST_COLUMNS.index(name), 0, 0)
    if name in CALL_COLUMNS:
        return (2, CALL_COLUMNS.index(name), 0, 0)
    positions = {f.key: i for i, f in enumerate((*cat.fields, *cat.read_only))}
    found = parse_column(name, cat)
    if found is None:
        return (3, 10_000, 0, 0)
    f, index = found
    group = 3 if f.read_only else 1
    if f.record_list is None:
        return (group, positions[f.key], 0, 0)
    first = min(
        positions[g.key] for g in (*cat.fields, *cat.read_only) if g.record_list == f.record_list
    )
    return (group, first, (index or 0) + 1, positions[f.key])


def call_cells(record: dict[str, object]) -> dict[str, str]:
    """The record's owner and related entities as the export's call cells (text; an
    empty set is an empty cell, as for any field)."""
    out: dict[str, str] = {}
    for key, value in _calls.asked_from_record(record).items():
        if value is CLEAR:
            continue
        out[key] = LIST_SEPARATOR.join(value) if isinstance(value, tuple) else str(value)
    return out


def _resolve(name: str, cat: Catalog) -> str:
    """A user's column name in the contract's spelling (case and spaces ignored)."""
    wanted = name.strip()
    calls = {c.casefold(): c for c in CALL_COLUMNS}
    if wanted.casefold() in calls:
        return calls[wanted.casefold()]
    if wanted.casefold().startswith(_calls.SUBMIT_PREFIX.casefold() + "."):
        raise ColumnError(
            f"--columns: {name!r}: a submission is an action, not a state of the record, "
            "so an export never writes the Submit columns; to submit, add "
            "Submit.InvolvementType to the exported sheet yourself"
        )
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
    names = [
        *known.values(),
        *CALL_COLUMNS,
        *(f.column(1) for f in cat.fields if f.list_at is not None),
    ]
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ColumnError(f"--columns: {name!r} names no field{hint}")


def choose_columns(
    columns: Columns, rows: Sequence[dict[str, str]], cat: Catalog | None = None
) -> list[str]:
    """The field columns to export, in catalog order (frame columns not included)."""
    cat = cat or _catalog.load()
    if columns == "default":
        chosen = [
            c for c in DEFAULT_COLUMNS if c in CALL_COLUMNS or parse_column(c, cat) is not None
        ]
    elif columns == "all":
        present: set[str] = set()
        for row in rows:
            present.update(row)
        chosen = []
        for name in present:
            found = parse_column(name, cat)
            if found is not None and not found[0].read_only:
                chosen.append(name)
        chosen += [*CALL_COLUMNS, *(c for c in REVIEW_COLUMNS if parse_column(c, cat) is not None)]
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


def sheet_columns(names: Sequence[str], cat: Catalog) -> list[Column]:
    """The sheet's columns: the frame, the field columns ``names``, then ``Catalog``."""
    out = [Column(h, None, True) for h in _FRAME_HEADERS]
    for name in names:
        call = _calls.by_column().get(name)
        if call is not None:
            out.append(Column(name, call, False))
            continue
        found = parse_column(name, cat)
        f = found[0] if found else None
        out.append(Column(name, f, f is None or f.read_only))
    out.append(Column(_catalog.CATALOG_COLUMN, None, True))
    return out
