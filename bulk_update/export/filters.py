"""Which opportunities an export selects: the filters, checked before any call.

:class:`ExportFilters` holds what the command line gave; :func:`list_params`
turns it into ListOpportunities' members (values checked against the model's
lists); :func:`read_ids` reads ``--ids`` from a file or a list.  The search's
filter tree is :mod:`bulk_update.export.search`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from bulk_update import fields as _catalog
from bulk_update.errors import BulkUpdateError
from bulk_update.export import search as _search
from bulk_update.fields import Catalog
from bulk_update.times import instant

_ID = re.compile(r"^O[0-9]{1,19}$")
_MAX_LIST_FILTER = 10


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


def checked_filters(filters: ExportFilters, cat: Catalog) -> ExportFilters:
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
