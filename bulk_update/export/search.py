"""How an export selects: SearchOpportunities' filter tree, or ListOpportunities.

The rule (docs/export-search.md says why):

- ``select="auto"`` (the default): SearchOpportunities when a search-only
  option is given (``keyword``, ``tags``, ``owners``, ``countries``: what
  ListOpportunities cannot filter by), ListOpportunities otherwise, exactly as
  before.
- ``select="search"``: SearchOpportunities for every export, the list filters
  expressed in its tree too.
- ``select="list"``: ListOpportunities only; a search-only option is refused.

When the service answers that search is not enabled for the account
(AccessDeniedException, reason SEARCH_OPPORTUNITIES_NOT_ENABLED), an export
that asked for no search-only option is selected with ListOpportunities and
says so in one note; one that did is refused (:class:`SearchNotEnabled`),
never exported with a wider selection than asked.

The tree is the AND of the given conditions, each built from the model's
``OpportunitySearchFilter`` (key names checked against the model's
``OpportunitySearchFilterName`` values, never a hand list): several values
of one option match any of them (stages, review statuses, owners, countries,
companies, ids), each tag must hold.  A tag is matched as ``KEY=VALUE``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bulk_update import fields as _catalog
from bulk_update.api import client as pcc
from bulk_update.errors import BulkUpdateError
from bulk_update.times import instant

if TYPE_CHECKING:
    from bulk_update.export.filters import ExportFilters

SEARCH = "SearchOpportunities"
NOT_ENABLED = "SEARCH_OPPORTUNITIES_NOT_ENABLED"
SEARCH_OPTIONS = "--search/--tag/--owner/--country"
FALLBACK_NOTE = (
    "search is not enabled for this account: selected with ListOpportunities; "
    f"{SEARCH_OPTIONS} cannot be applied there"
)
REFUSAL = (
    f"search is not enabled for this account, so {SEARCH_OPTIONS} cannot be applied: "
    "nothing was exported. Drop those options to select with ListOpportunities "
    "(a wider selection), or ask AWS to enable SearchOpportunities for the account"
)
_PER_LEAF = 20
"""Values one StringListValue holds (the model's max)."""
_PER_NODE = 10
"""Children one AndAllFilters holds (the model's max)."""


class SearchNotEnabled(BulkUpdateError):
    """A search-only option was given, and the account has no search."""


@dataclass
class Selection:
    """How the export selected (filled in while it lists)."""

    operation: str = ""
    """``SearchOpportunities`` or ``ListOpportunities``, once the first page came."""
    note: str = ""


def _filter_shape() -> Any:
    return _catalog.service_model().operation_model(SEARCH).input_shape.members["Filter"]


def _keys() -> tuple[str, ...]:
    return tuple(_filter_shape().members["EqualsTo"].members["Key"].enum)


def country_codes() -> tuple[str, ...]:
    """The country codes the model allows (for checks and --help)."""
    out = _catalog.service_model().operation_model(SEARCH).output_shape
    summary = out.members["OpportunitySearchSummaries"].member
    address = summary.members["Customer"].members["Account"].members["Address"]
    return tuple(address.members["CountryCode"].enum)


def parse_tag(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` -> (key, value); anything else stops the export."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise BulkUpdateError(f"--tag {text!r}: write it as KEY=VALUE, e.g. --tag region=emea")
    return key.strip(), value.strip()


def wants_search(filters: ExportFilters) -> bool:
    """True when a filter only SearchOpportunities can apply is given."""
    return bool(filters.keyword or filters.tags or filters.owners or filters.countries)


def uses_search(filters: ExportFilters) -> bool:
    """True when the export selects with SearchOpportunities (first)."""
    return filters.select == "search" or (filters.select == "auto" and wants_search(filters))


def check(filters: ExportFilters) -> None:
    """Refuse what cannot be searched, before any call."""
    if filters.select not in ("auto", "search", "list"):
        raise BulkUpdateError(f"unknown selection {filters.select!r}: choose auto, search or list")
    if filters.select == "list" and wants_search(filters):
        raise BulkUpdateError(
            f"{SEARCH_OPTIONS} need SearchOpportunities: drop them, or drop --select list"
        )
    limits = _catalog.service_model().operation_model(SEARCH).input_shape.members["Keyword"]
    longest = int(limits.metadata.get("max", 500))
    if filters.keyword is not None and not 0 < len(filters.keyword.strip()) <= longest:
        raise BulkUpdateError(f"--search takes 1 to {longest} characters")
    allowed = set(country_codes())
    bad = [c for c in filters.countries if c.strip().upper() not in allowed]
    if bad:
        raise BulkUpdateError(
            f"unknown country code {bad[0]!r}: use the two-letter ISO code, e.g. US, DE, GB"
        )
    too_many = [
        (name, len(v))
        for name, v in (("--owner", filters.owners), ("--country", filters.countries))
        if len(v) > _PER_LEAF
    ]
    if too_many:
        name, n = too_many[0]
        raise BulkUpdateError(f"at most {_PER_LEAF} values of {name} per export (got {n})")


def _leaf(op: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
    if key not in _keys():
        raise BulkUpdateError(f"this botocore's SearchOpportunities cannot filter by {key}")
    return {op: {"Key": key, "Value": value}}


def _any_of(key: str, values: list[str], op: str = "EqualsTo") -> dict[str, Any]:
    return _leaf(op, key, {"StringListValue": list(values)})


def _moment(value: Any) -> datetime:
    return (
        instant(value)
        if isinstance(value, datetime)
        else datetime.combine(value, datetime.min.time(), UTC)
    )


def conditions(filters: ExportFilters) -> list[dict[str, Any]]:
    """One filter node per given condition (ids left out: they go in chunks)."""
    out: list[dict[str, Any]] = []
    if filters.stages:
        out.append(_any_of("Stage", list(filters.stages)))
    if filters.review_statuses:
        out.append(_any_of("ReviewStatus", list(filters.review_statuses)))
    if filters.companies:
        out.append(_any_of("CustomerCompanyName", list(filters.companies), "ContainsAny"))
    for op, value in (
        ("GreaterThanOrEquals", filters.modified_after),
        ("LessThanOrEquals", filters.modified_before),
    ):
        if value is not None:
            out.append(_leaf(op, "LastModifiedDate", {"DateValue": _moment(value)}))
    for op, day in (
        ("GreaterThanOrEquals", filters.target_close_after),
        ("LessThanOrEquals", filters.target_close_before),
    ):
        if day is not None:
            out.append(_leaf(op, "TargetCloseDate", {"DateValue": _moment(day)}))
    if filters.owners:
        out.append(_any_of("OpportunityOwner", [o.strip() for o in filters.owners]))
    if filters.countries:
        out.append(_any_of("CountryCode", [c.strip().upper() for c in filters.countries]))
    for key, text in filters.tags:
        out.append(_leaf("EqualsTo", "Tags", {"StringValue": f"{key}={text}"}))
    return out


def tree(nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The AND of the nodes, nested so that no AndAllFilters holds more than the model allows."""
    if not nodes:
        return None
    while len(nodes) > 1:
        nodes = [
            group[0] if len(group) == 1 else {"AndAllFilters": group}
            for group in (nodes[i : i + _PER_NODE] for i in range(0, len(nodes), _PER_NODE))
        ]
    return nodes[0]


def requests(filters: ExportFilters) -> Iterator[dict[str, Any]]:
    """The SearchOpportunities parameters (besides Catalog and paging): one per id chunk."""
    base: dict[str, Any] = {"Sort": {"SortBy": "OpportunityId", "SortOrder": "ASCENDING"}}
    if filters.keyword:
        base["Keyword"] = filters.keyword.strip()
    nodes = conditions(filters)
    chunks: list[list[str] | None] = [
        list(filters.ids[i : i + _PER_LEAF]) for i in range(0, len(filters.ids), _PER_LEAF)
    ] or [None]
    for chunk in chunks:
        found = tree([*nodes, _any_of("OpportunityId", chunk)] if chunk else nodes)
        yield {**base, **({"Filter": found} if found else {})}


def is_not_enabled(exc: pcc.AccessDeniedError) -> bool:
    """True when the denial is the service's "search is not enabled" answer."""
    response = getattr(exc.__cause__, "response", None) or {}
    reason = response.get("Reason") or response.get("Error", {}).get("Reason")
    return exc.operation == SEARCH and reason == NOT_ENABLED


def searched_ids(pc: pcc.PartnerCentral, filters: ExportFilters) -> Iterator[str]:
    """Identifiers SearchOpportunities selects, page after page (read quota).

    A refused request (ValidationException, or botocore's own check of the
    shapes) stops the export in plain words naming the fields, never the values.
    """
    try:
        for params in requests(filters):
            for summary in pc.search_summaries(**params):
                yield summary["Id"]
    except pcc.Validation as exc:
        names = ", ".join(dict.fromkeys(f for f, _, _ in exc.field_errors if f)) or "the request"
        raise BulkUpdateError(
            f"SearchOpportunities refused the selection ({exc.reason}) at {names}: "
            f"check the values of {SEARCH_OPTIONS} and the other filters"
        ) from None
