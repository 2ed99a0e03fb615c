"""SearchOpportunities: a keyword, a filter tree, a sort and pages over one catalog.

A filter node is one of the model's members of ``OpportunitySearchFilter``:
``AndAllFilters`` / ``OrAllFilters`` (lists of nodes), ``NotFilter`` (a node),
or a predicate (``EqualsTo``, ``ContainsAny``, ``ContainsAll``,
``GreaterThan[OrEquals]``, ``LessThan[OrEquals]``) with a ``Key`` and a
``Value`` of one kind.  Keyword and filter both narrow the result (AND).

Choices where the reference leaves room (docs/emulator.md repeats them):
- A node must carry exactly one member (INVALID_VALUE otherwise).
- A key reads a record as :data:`KEYS` says; a key the emulator does not read
  (CosellMotion, EstimatedMrr, EngagementScore: data it does not keep) is
  refused with INVALID_VALUE naming it.
- Texts compare ignoring case; TargetCloseDate compares by the day; EqualsTo with a string list means any of them;
  a record with several values for a key (tags, programs) matches when one
  does; a tag reads as ``Key=Value``; OpportunityOwner is the owner's e-mail
  or full name.
- Keyword: a case-insensitive substring of the id, the partner's identifier,
  the project title, the company name or the next steps.
- Without ``Sort``: LastModifiedDate, newest first; MaxResults defaults to 20.
- An account without search answers AccessDeniedException with the model's
  reason SEARCH_OPPORTUNITIES_NOT_ENABLED.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape

from .validation import input_shape, output_shape
from .wire import REQUEST_VALIDATION_FAILED, ApiError, FieldError, parse_instant, validation_error

Record = dict[str, Any]
Values = list[Any]


def _at(record: Record, *path: str) -> Any:
    value: Any = record
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _one(*path: str) -> Callable[[Record, list[str]], Values]:
    def read(record: Record, tags: list[str]) -> Values:
        value = _at(record, *path)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    return read


def _owner(record: Record, tags: list[str]) -> Values:
    team = record.get("OpportunityTeam") or []
    if not team:
        return []
    first = team[0]
    name = f"{first.get('FirstName', '')} {first.get('LastName', '')}".strip()
    return [v for v in (first.get("Email"), name) if v]


KEYS: dict[str, Callable[[Record, list[str]], Values]] = {
    "OpportunityId": _one("Id"),
    "Stage": _one("LifeCycle", "Stage"),
    "ReviewStatus": _one("LifeCycle", "ReviewStatus"),
    "CustomerCompanyName": _one("Customer", "Account", "CompanyName"),
    "LastModifiedDate": _one("LastModifiedDate"),
    "TargetCloseDate": _one("LifeCycle", "TargetCloseDate"),
    "CreatedDate": _one("CreatedDate"),
    "CountryCode": _one("Customer", "Account", "Address", "CountryCode"),
    "PartnerProjectTitle": _one("Project", "Title"),
    "OpportunityType": _one("OpportunityType"),
    "PartnerOpportunityIdentifier": _one("PartnerOpportunityIdentifier"),
    "Industry": _one("Customer", "Account", "Industry"),
    "AwsAccountId": _one("Customer", "Account", "AwsAccountId"),
    "ApnPrograms": _one("Project", "ApnPrograms"),
    "Origin": _one("Origin"),
    "Tags": lambda record, tags: list(tags),
    "NextStep": _one("LifeCycle", "NextSteps"),
    "OfferId": _one("RelatedEntityIdentifiers", "AwsMarketplaceOffers"),
    "OfferSetId": _one("RelatedEntityIdentifiers", "AwsMarketplaceOfferSets"),
    "AwsMarketplaceSolution": _one("RelatedEntityIdentifiers", "AwsMarketplaceSolutions"),
    "OpportunityOwner": _owner,
}
"""How each filter and sort key of the model reads a record."""

_KEYWORD_FIELDS = (
    ("Id",),
    ("PartnerOpportunityIdentifier",),
    ("Project", "Title"),
    ("Customer", "Account", "CompanyName"),
    ("LifeCycle", "NextSteps"),
)
_DATES = {"LastModifiedDate", "CreatedDate"}
_ORDER = {
    "GreaterThan": operator.gt,
    "GreaterThanOrEquals": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEquals": operator.le,
}


def not_enabled() -> ApiError:
    """The answer of an account that does not have search."""
    return ApiError(
        403,
        "AccessDeniedException",
        "SearchOpportunities is not enabled for this account",
        {"Reason": "SEARCH_OPPORTUNITIES_NOT_ENABLED"},
    )


def _bad(path: str, message: str) -> ApiError:
    return validation_error(REQUEST_VALIDATION_FAILED, [FieldError(path, "INVALID_VALUE", message)])


def _norm(key: str, value: Any) -> Any:
    if key in _DATES:
        return parse_instant(value)
    if key == "TargetCloseDate":  # a day: a DateValue counts by its date
        return str(value)[:10]
    return value.casefold() if isinstance(value, str) else value


def _wanted(key: str, value: dict[str, Any], path: str) -> Values:
    if len(value) != 1:
        raise _bad(f"{path}.Value", "takes exactly one kind of value")
    ((kind, given),) = value.items()
    items = given if kind == "StringListValue" else [given]
    try:
        return [_norm(key, v) for v in items]
    except (ValueError, TypeError):
        raise _bad(f"{path}.Value", f"is not a value {key} can take") from None


def _predicate(name: str, body: dict[str, Any], have: Values, path: str) -> bool:
    key = body["Key"]
    want = _wanted(key, body["Value"], path)
    if name == "EqualsTo":
        return any(v in want for v in have)
    if name == "ContainsAny":  # a case-insensitive part of a text (both sides casefolded)
        return any(_contains(v, w) for v in have for w in want)
    if name == "ContainsAll":
        return all(w in have for w in want)
    compare = _ORDER[name]
    return any(compare(v, w) for v in have for w in want)


def _contains(have: Any, want: Any) -> bool:
    if isinstance(have, str) and isinstance(want, str):
        return want in have
    return bool(have == want)


class Matcher:
    """Whether a record matches a filter node, with its tags."""

    def __init__(self, tags: Callable[[Record], list[str]]) -> None:
        self.tags = tags

    def values(self, key: str, record: Record, path: str) -> Values:
        read = KEYS.get(key)
        if read is None:
            raise _bad(f"{path}.Key", f"the emulator cannot search by {key}")
        try:
            return [_norm(key, v) for v in read(record, self.tags(record))]
        except (ValueError, TypeError):
            return []

    def matches(self, node: dict[str, Any], record: Record, path: str = "Filter") -> bool:
        if len(node) != 1:
            raise _bad(path, "a filter node takes exactly one member")
        ((name, body),) = node.items()
        where = f"{path}.{name}"
        if name == "AndAllFilters":
            return all(self.matches(n, record, f"{where}[{i}]") for i, n in enumerate(body))
        if name == "OrAllFilters":
            return any(self.matches(n, record, f"{where}[{i}]") for i, n in enumerate(body))
        if name == "NotFilter":
            return not self.matches(body, record, where)
        return _predicate(name, body, self.values(body["Key"], record, where), where)


def keyword_matches(keyword: str, record: Record) -> bool:
    needle = keyword.casefold()
    return any(needle in str(_at(record, *path) or "").casefold() for path in _KEYWORD_FIELDS)


def sort_key(key: str, matcher: Matcher) -> Callable[[Record], Any]:
    def read(record: Record) -> Any:
        values = matcher.values(key, record, "Sort.SortBy")
        return (0, "") if not values else (1, min(values))

    return read


def summary_shape() -> ListShape:
    shape = output_shape("SearchOpportunities").members["OpportunitySearchSummaries"]
    assert isinstance(shape, ListShape)
    return shape


def filter_members() -> list[str]:
    """The node kinds the model declares (for the docs and tests)."""
    node = input_shape("SearchOpportunities").members["Filter"]
    return list(node.members)  # type: ignore[attr-defined]
