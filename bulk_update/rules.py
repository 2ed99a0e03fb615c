"""Cross-field business rules of Partner Central, on a nested payload.

One function, :func:`business_problems`, used twice:

- by ``checks`` on the partial payload of one sheet row (``partial=True``): a field
  the row does not name is *unknown* (the live record decides it), so a rule that
  needs an unknown field says nothing and is left to the planner;
- by the planner on the merged record (``partial=False``): an absent field is empty.

``CLEAR`` and ``""`` always mean empty. Each problem is ``(column, code, message)``
where ``column`` is the contract's spelling of the field it is about
(``LifeCycle.ClosedLostReason``, ``Project.ExpectedCustomerSpend[2].CurrencyCode``).
Messages never quote a sensitive value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from bulk_update import catalog as _catalog
from bulk_update.mapping import CLEAR

Found = tuple[str, str, str]

_UNKNOWN = object()

STAGE = "LifeCycle.Stage"
CLOSED_LOST_REASON = "LifeCycle.ClosedLostReason"
TARGET_CLOSE = "LifeCycle.TargetCloseDate"
INDUSTRY = "Customer.Account.Industry"
OTHER_INDUSTRY = "Customer.Account.OtherIndustry"
WEBSITE = "Customer.Account.WebsiteUrl"
NATIONAL_SECURITY = "NationalSecurity"
USE_CASES = "Marketing.UseCases"
FUNDING = "Marketing.AwsFundingUsed"
COMPETITOR = "Project.CompetitorName"
OTHER_COMPETITORS = "Project.OtherCompetitorNames"
BUSINESS_PROBLEM = "Project.CustomerBusinessProblem"

# The few values the documented rules name; they are checked against the model's enums.
CLOSED_LOST = "Closed Lost"
OTHER = "Other"
GOVERNMENT = "Government"
YES = "Yes"
NO = "No"
OTHER_COMPETITOR = "*Other"


@dataclass(frozen=True)
class _Struct:
    """A structure (or record-list item) with required members, from the catalog."""

    path: tuple[str, ...]
    """Path to the structure, or to the list for record-list items."""
    is_list: bool
    members: tuple[tuple[str, ...], ...]
    """Every leaf inside, relative to the structure (or item)."""
    required: tuple[tuple[str, ...], ...]
    max_items: int | None


@cache
def _structs() -> tuple[_Struct, ...]:
    """Structures whose members the model marks required, derived from the catalog."""
    groups: dict[tuple[str, ...], list[_catalog.Field]] = {}
    fields = list(_catalog.load().updatable())
    for f in fields:
        if f.required:
            parent = f.path[: f.list_at] if f.list_at is not None else f.path[:-1]
            groups.setdefault(parent, [])
    for f in fields:
        for parent in groups:
            if f.path[: len(parent)] == parent and len(f.path) > len(parent):
                groups[parent].append(f)
    out = []
    for parent, members in groups.items():
        depth = len(parent)
        is_list = members[0].list_at == depth
        out.append(
            _Struct(
                path=parent,
                is_list=is_list,
                members=tuple(m.path[depth:] for m in members),
                required=tuple(m.path[depth:] for m in members if m.required),
                max_items=members[0].max_items if is_list else None,
            )
        )
    return tuple(out)


@cache
def rule_keys() -> frozenset[str]:
    """Catalog keys the rules read (checks build partial payloads from these only)."""
    keys = {
        STAGE,
        CLOSED_LOST_REASON,
        TARGET_CLOSE,
        INDUSTRY,
        OTHER_INDUSTRY,
        WEBSITE,
        NATIONAL_SECURITY,
        USE_CASES,
        FUNDING,
        COMPETITOR,
        OTHER_COMPETITORS,
        BUSINESS_PROBLEM,
    }
    for f in _catalog.load().updatable():
        if any(f.path[: len(s.path)] == s.path for s in _structs()):
            keys.add(f.key)
    return frozenset(keys)


def _empty(value: Any) -> bool:
    return value is None or value is CLEAR or value == "" or value == [] or value == {}


def _at(node: Any, path: tuple[str, ...], partial: bool) -> Any:
    """The value at path: None when empty, _UNKNOWN when a partial payload does not say."""
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _UNKNOWN if partial else None
        node = node[part]
    return None if _empty(node) else node


def _has_content(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_has_content(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_content(v) for v in node)
    return not _empty(node)


# The values the rules compare with; any other non-empty value is treated alike.
_SIGNIFICANT = {
    STAGE: frozenset({CLOSED_LOST}),
    INDUSTRY: frozenset({OTHER, GOVERNMENT}),
    NATIONAL_SECURITY: frozenset({YES}),
    FUNDING: frozenset({NO}),
    COMPETITOR: frozenset({OTHER_COMPETITOR}),
}
_ANY = "(any value)"


def stand_in(key: str, value: str, today: date) -> str:
    """A value the rules treat exactly as they treat ``value`` (same problems, same words).

    Checks run the rules once per distinct row of stand-ins instead of once per row.
    ``value`` is a non-empty cell text other than ``#CLEAR``.
    """
    if key in _SIGNIFICANT:
        return value if value in _SIGNIFICANT[key] else _ANY
    if key == TARGET_CLOSE:
        return value if value < today.isoformat() else today.isoformat()
    if key == BUSINESS_PROBLEM:
        f = _catalog.load().get(key)
        lo, hi = (f.min_length or 0, f.max_length or 0) if f else (0, 0)
        return "x" * max(lo, 1) if not hi or lo <= len(value) <= hi else value
    return _ANY


def business_problems(
    payload: dict[str, Any],
    *,
    today: date,
    changed: set[str] | None = None,
    partial: bool = False,
) -> list[Found]:
    """Every documented cross-field rule the payload breaks.

    ``changed`` (dotted keys) limits the past-date rule to a TargetCloseDate the
    edit sets: an old date left untouched on a closed deal does not block. None
    checks every date.
    """
    found: list[Found] = []
    get = lambda key: _at(payload, tuple(key.split(".")), partial)  # noqa: E731
    known = lambda *values: all(v is not _UNKNOWN for v in values)  # noqa: E731

    stage, reason = get(STAGE), get(CLOSED_LOST_REASON)
    if known(stage, reason):
        if reason is not None and stage != CLOSED_LOST:
            found.append(
                (
                    CLOSED_LOST_REASON,
                    "closed-lost-reason-without-closed-lost",
                    "a ClosedLostReason goes only with Stage 'Closed Lost': clear the reason or set the "
                    "stage to Closed Lost",
                )
            )
        if reason is None and stage == CLOSED_LOST:
            found.append(
                (
                    CLOSED_LOST_REASON,
                    "closed-lost-reason-required",
                    "Stage 'Closed Lost' needs a ClosedLostReason: fill it in",
                )
            )

    industry, other_industry = get(INDUSTRY), get(OTHER_INDUSTRY)
    if known(industry, other_industry):
        if other_industry is not None and industry != OTHER:
            found.append(
                (
                    OTHER_INDUSTRY,
                    "other-industry-without-other",
                    "OtherIndustry goes only with Industry 'Other': clear it or set Industry to Other",
                )
            )
        if other_industry is None and industry == OTHER:
            found.append(
                (
                    OTHER_INDUSTRY,
                    "other-industry-required",
                    "Industry 'Other' needs OtherIndustry: say which industry",
                )
            )

    security = get(NATIONAL_SECURITY)
    if known(security, industry) and security == YES and industry != GOVERNMENT:
        found.append(
            (
                NATIONAL_SECURITY,
                "national-security-not-government",
                "NationalSecurity 'Yes' applies only when Industry is Government: set it to No "
                "or set Industry to Government",
            )
        )

    website = get(WEBSITE)
    account = _at(payload, ("Customer", "Account"), partial)
    if (
        known(security, website, account)
        and website is None
        and security != YES
        and (partial or _has_content(account))
    ):
        found.append(
            (
                WEBSITE,
                "website-required",
                "WebsiteUrl is required unless NationalSecurity is Yes: fill in the "
                "customer's website",
            )
        )

    close = get(TARGET_CLOSE)
    if known(close) and close is not None and (changed is None or TARGET_CLOSE in changed):
        try:
            past = date.fromisoformat(str(close)) < today
        except ValueError:
            past = False  # the date check reports it
        if past:
            found.append(
                (
                    TARGET_CLOSE,
                    "target-close-date-past",
                    f"TargetCloseDate {close} is in the past: use today ({today.isoformat()}) "
                    f"or a later date",
                )
            )

    funding, use_cases = get(FUNDING), get(USE_CASES)
    if known(funding, use_cases) and funding == NO and use_cases is not None:
        found.append(
            (
                USE_CASES,
                "use-cases-without-funding",
                "Marketing.UseCases must be empty when AwsFundingUsed is No: clear it (#CLEAR) "
                "or set AwsFundingUsed to Yes",
            )
        )

    competitor, others = get(COMPETITOR), get(OTHER_COMPETITORS)
    if known(competitor, others) and others is not None and competitor != OTHER_COMPETITOR:
        found.append(
            (
                OTHER_COMPETITORS,
                "other-competitors-without-other",
                "OtherCompetitorNames goes only with CompetitorName '*Other': clear it or set "
                "CompetitorName to *Other",
            )
        )

    problem = get(BUSINESS_PROBLEM)
    bp = _catalog.load().get(BUSINESS_PROBLEM)
    if known(problem) and problem is not None and bp is not None:
        lo, hi = bp.min_length or 0, bp.max_length or 0
        if hi and not lo <= len(str(problem)) <= hi:
            found.append(
                (
                    BUSINESS_PROBLEM,
                    "length",
                    f"must be {lo:,} to {hi:,} characters (this has {len(str(problem)):,})",
                )
            )

    found.extend(_required_members(payload, partial))
    return found


def _required_members(payload: dict[str, Any], partial: bool) -> Iterator[Found]:
    for s in _structs():
        node = _at(payload, s.path, partial)
        if node is _UNKNOWN or node is None:
            continue
        dotted = ".".join(s.path)
        if s.is_list:
            items = node if isinstance(node, list) else []
            if s.max_items is not None and len(items) > s.max_items:
                yield (
                    f"{dotted}[{s.max_items + 1}]",
                    "too-many-items",
                    f"{dotted} takes at most {s.max_items} items (this has {len(items)}): "
                    f"remove the extra columns",
                )
            named = [(f"{dotted}[{i + 1}]", item) for i, item in enumerate(items)]
        else:
            named = [(dotted, node)]
        for where, item in named:
            if not _has_content(item):
                continue
            for member in s.required:
                value = _at(item, member, partial)
                if value is None:
                    name = ".".join(member)
                    yield (
                        f"{where}.{name}",
                        "required",
                        f"{where} needs {name}: fill it in, or clear every field of {where}",
                    )
