"""Cross-field business rules of Partner Central, on a nested payload, and in Excel.

:data:`RULES` is the table of documented rules: each one a small check, the
columns it involves, a one-line statement, and where Excel can say it, the
conditions that colour a template's cells (:func:`row_flags`).
:mod:`bulk_update.sheet.formulas` turns a field's model pattern and length into
a data-validation formula. The templates and the export take both, so the
sheet and the tool check the same things.

:func:`business_problems` runs the table, and is used twice:

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

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal

from bulk_update import calls as _calls
from bulk_update import fields as _catalog
from bulk_update.payload import CLEAR, CLEAR_TEXT

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
def _call_structs() -> tuple[_Struct, ...]:
    """The owner and the submission (:mod:`bulk_update.calls`) as groups with required
    members, from AssignOpportunity's Assignee and SubmitOpportunity in the model: Excel
    colours their missing members like a contact's (:mod:`bulk_update.sheet.callrules`
    checks them; they are no part of the update's payload)."""
    out = []
    for group in (_calls.assignee_fields(), _calls.submit_fields()):
        members = tuple(f.path[1:] for f in group)
        required = tuple(f.path[1:] for f in group if f.required)
        out.append(_Struct(group[0].path[:1], False, members, required, None))
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


@dataclass(frozen=True)
class _Context:
    """What a rule reads: the payload's values, and what it may assume about absent ones."""

    payload: dict[str, Any]
    today: date
    changed: set[str] | None
    partial: bool

    def get(self, key: str) -> Any:
        return _at(self.payload, tuple(key.split(".")), self.partial)


def _known(*values: Any) -> bool:
    return all(v is not _UNKNOWN for v in values)


# -- Excel: the same rules as conditions on one row's cells ------------------------
#
# A rule's ``flags`` gets the sheet's columns (header -> cell of the current row,
# such as ``$C2``) and returns, for each cell the rule is about, an Excel condition
# that is TRUE when the rule, as the tool reads this row, wants that cell changed.
# Excel's ``=`` ignores case, as the tool's matching of allowed values does.

Refs = dict[str, str]


@dataclass(frozen=True)
class Flag:
    """One conditional format: colour ``header`` when ``condition`` holds."""

    header: str
    condition: str
    needs: Literal["fill", "clear"]
    """``fill``: the rule now needs a value here; ``clear``: this value must go (or the other change)."""
    code: str


def x_blank(ref: str) -> str:
    """The cell is left empty (the tool keeps the live value: unknown to the sheet)."""
    return f'{ref}=""'


def x_empty(ref: str) -> str:
    """The cell is empty or #CLEAR (the field ends empty, as far as the sheet says)."""
    return f'OR({ref}="",{ref}="{CLEAR_TEXT}")'


def x_filled(ref: str) -> str:
    """The cell sets a value."""
    return f'AND({ref}<>"",{ref}<>"{CLEAR_TEXT}")'


def x_is(ref: str, value: str) -> str:
    return f'{ref}="{value}"'


def _flag(
    code: str,
    needs: Literal["fill", "clear"],
    columns: tuple[str, ...],
    condition: Callable[..., str],
) -> Callable[[Refs], list[Flag]]:
    """Colour the first of ``columns`` when ``condition`` (given their cells, in order) holds;
    no colour unless the sheet has every one of them."""

    def flags(refs: Refs) -> list[Flag]:
        if any(c not in refs for c in columns):
            return []
        return [Flag(columns[0], condition(*(refs[c] for c in columns)), needs, code)]

    return flags


def _goes_with(
    code: str, target: str, other: str, value: str, needs: Literal["fill", "clear"]
) -> Callable[[Refs], list[Flag]]:
    """A field that goes only with (``clear``) or is needed by (``fill``) ``other = value``."""
    if needs == "fill":
        return _flag(
            code, needs, (target, other), lambda t, o: f"AND({x_is(o, value)},{x_empty(t)})"
        )
    return _flag(code, needs, (target, other),
                 lambda t, o: f'AND({x_filled(t)},NOT({x_blank(o)}),{o}<>"{value}")')  # fmt: skip


def _both_ways(
    target: str, other: str, value: str, needed: str, without: str
) -> Callable[[Refs], list[Flag]]:
    """The colours of a field needed by ``other = value`` that goes only with it."""
    fill = _goes_with(needed, target, other, value, "fill")
    clear = _goes_with(without, target, other, value, "clear")
    return lambda refs: [*fill(refs), *clear(refs)]


@dataclass(frozen=True)
class Rule:
    """One documented rule: how the tool checks it and how a template shows it."""

    code: str
    columns: tuple[str, ...]
    """The catalog keys it involves; the first is the one its problems name."""
    statement: str
    """The rule in one line of plain words (the template's Guide shows it)."""
    check: Callable[[_Context], Iterator[Found]]
    flags: Callable[[Refs], list[Flag]] | None = None
    """The cells of one row that Excel colours, or None where Excel cannot say it."""
    in_cell: bool = False
    """Checked by the cell's own validation (:func:`cell_check`), not by a colour."""


def _coloured(
    code: str,
    columns: tuple[str, ...],
    statement: str,
    check: Callable[[_Context], Iterator[Found]],
    needs: Literal["fill", "clear"],
    condition: Callable[..., str],
) -> Rule:
    """A rule whose one colour falls on its first column when ``condition`` holds."""
    return Rule(code, columns, statement, check, _flag(code, needs, columns, condition))


def _when(
    target: str, problem: tuple[str, str], columns: tuple[str, ...], test: Callable[..., bool]
) -> Callable[[_Context], Iterator[Found]]:
    """``problem`` (code, message) on ``target`` when ``test`` (given the values of
    ``columns``, in order) holds; never while one of them is unknown to the sheet."""

    def check(c: _Context) -> Iterator[Found]:
        values = [c.get(k) for k in columns]
        if _known(*values) and test(*values):
            yield target, *problem

    return check


def _either(
    *checks: Callable[[_Context], Iterator[Found]],
) -> Callable[[_Context], Iterator[Found]]:
    return lambda c: (found for check in checks for found in check(c))


def _goes_only_with(
    target: str, other: str, value: str, without: tuple[str, str], needed: tuple[str, str]
) -> Callable[[_Context], Iterator[Found]]:
    """``target`` goes only with ``other = value`` (``without``: code, message), and
    ``other = value`` needs it (``needed``)."""
    return _either(
        _when(target, without, (other, target), lambda o, t: t is not None and o != value),
        _when(target, needed, (other, target), lambda o, t: t is None and o == value),
    )


_closed_lost_reason = _goes_only_with(
    CLOSED_LOST_REASON, STAGE, CLOSED_LOST,
    ("closed-lost-reason-without-closed-lost",
     "a ClosedLostReason goes only with Stage 'Closed Lost': clear the reason or set the "
     "stage to Closed Lost"),
    ("closed-lost-reason-required", "Stage 'Closed Lost' needs a ClosedLostReason: fill it in"),
)  # fmt: skip

_other_industry = _goes_only_with(
    OTHER_INDUSTRY, INDUSTRY, OTHER,
    ("other-industry-without-other",
     "OtherIndustry goes only with Industry 'Other': clear it or set Industry to Other"),
    ("other-industry-required", "Industry 'Other' needs OtherIndustry: say which industry"),
)  # fmt: skip

_national_security = _when(
    NATIONAL_SECURITY,
    ("national-security-not-government",
     "NationalSecurity 'Yes' applies only when Industry is Government: set it to No "
     "or set Industry to Government"),
    (NATIONAL_SECURITY, INDUSTRY), lambda security, industry: security == YES and industry != GOVERNMENT,
)  # fmt: skip


def _website(c: _Context) -> Iterator[Found]:
    security, website = c.get(NATIONAL_SECURITY), c.get(WEBSITE)
    account = _at(c.payload, ("Customer", "Account"), c.partial)
    if (
        _known(security, website, account)
        and website is None
        and security != YES
        and (c.partial or _has_content(account))
    ):
        yield (
            WEBSITE,
            "website-required",
            "WebsiteUrl is required unless NationalSecurity is Yes: fill in the customer's website",
        )


def _target_close(c: _Context) -> Iterator[Found]:
    close = c.get(TARGET_CLOSE)
    if (
        not _known(close)
        or close is None
        or (c.changed is not None and TARGET_CLOSE not in c.changed)
    ):
        return
    try:
        past = date.fromisoformat(str(close)) < c.today
    except ValueError:
        past = False  # the date check reports it
    if past:
        yield (
            TARGET_CLOSE,
            "target-close-date-past",
            f"TargetCloseDate {close} is in the past: use today ({c.today.isoformat()}) "
            f"or a later date",
        )


_use_cases = _when(
    USE_CASES,
    ("use-cases-without-funding",
     "Marketing.UseCases must be empty when AwsFundingUsed is No: clear it (#CLEAR) "
     "or set AwsFundingUsed to Yes"),
    (FUNDING, USE_CASES), lambda funding, use_cases: funding == NO and use_cases is not None,
)  # fmt: skip


_other_competitors = _when(
    OTHER_COMPETITORS,
    ("other-competitors-without-other",
     "OtherCompetitorNames goes only with CompetitorName '*Other': clear it or set "
     "CompetitorName to *Other"),
    (COMPETITOR, OTHER_COMPETITORS),
    lambda competitor, others: others is not None and competitor != OTHER_COMPETITOR,
)  # fmt: skip


def _business_problem(c: _Context) -> Iterator[Found]:
    problem = c.get(BUSINESS_PROBLEM)
    bp = _catalog.load().get(BUSINESS_PROBLEM)
    if _known(problem) and problem is not None and bp is not None:
        lo, hi = bp.min_length or 0, bp.max_length or 0
        if hi and not lo <= len(str(problem)) <= hi:
            yield (
                BUSINESS_PROBLEM,
                "length",
                f"must be {lo:,} to {hi:,} characters (this has {len(str(problem)):,})",
            )


def _members(c: _Context) -> Iterator[Found]:
    return _required_members(c.payload, c.partial)


def _member_flags(refs: Refs) -> list[Flag]:
    """A required member of a structure (or list item) that has other content."""
    out: list[Flag] = []
    for s in (*_structs(), *_call_structs()):
        dotted = ".".join(s.path)
        items = [dotted]
        if s.is_list:
            found = {re.match(rf"{re.escape(dotted)}\[(\d+)\]\.", h) for h in refs}
            items = sorted({f"{dotted}[{m.group(1)}]" for m in found if m}, key=len)
        for item in items:
            cells = {m: refs.get(f"{item}.{'.'.join(m)}") for m in s.members}
            for member in s.required:
                target = cells[member]
                others = [r for m, r in cells.items() if m != member and r is not None]
                if target is None or not others:
                    continue
                anything = others[0] if len(others) == 1 else None
                content = (
                    x_filled(anything)
                    if anything
                    else "OR(" + ",".join(x_filled(r) for r in others) + ")"
                )
                out.append(
                    Flag(
                        f"{item}.{'.'.join(member)}",
                        f"AND({x_empty(target)},{content})",
                        "fill",
                        "required",
                    )
                )
    return out


RULES: tuple[Rule, ...] = (
    Rule("closed-lost-reason", (CLOSED_LOST_REASON, STAGE),
         "LifeCycle.ClosedLostReason is needed when Stage is Closed Lost, and goes only with it.",
         _closed_lost_reason,
         _both_ways(CLOSED_LOST_REASON, STAGE, CLOSED_LOST,
                    "closed-lost-reason-required", "closed-lost-reason-without-closed-lost")),
    Rule("other-industry", (OTHER_INDUSTRY, INDUSTRY),
         "Customer.Account.OtherIndustry is needed when Industry is Other, and goes only with it.",
         _other_industry,
         _both_ways(OTHER_INDUSTRY, INDUSTRY, OTHER, "other-industry-required",
                    "other-industry-without-other")),
    _coloured("national-security-not-government", (NATIONAL_SECURITY, INDUSTRY),
              "NationalSecurity Yes applies only when Industry is Government.",
              _national_security, "clear",
              lambda s, i: f'AND({x_is(s, YES)},NOT({x_blank(i)}),{i}<>"{GOVERNMENT}")'),
    _coloured("website-required", (WEBSITE, NATIONAL_SECURITY),
              "Customer.Account.WebsiteUrl is required unless NationalSecurity is Yes.",
              _website, "fill",
              lambda w, s: f'AND({x_empty(w)},NOT({x_blank(s)}),{s}<>"{YES}")'),
    _coloured("target-close-date-past", (TARGET_CLOSE,),
              "LifeCycle.TargetCloseDate you set must not be in the past.",
              _target_close, "clear",  # a date cell is a number; a typed text date is not compared
              lambda d: f"AND(ISNUMBER({d}),{d}<TODAY())"),
    _coloured("use-cases-without-funding", (USE_CASES, FUNDING),
              "Marketing.UseCases must be empty when Marketing.AwsFundingUsed is No.",
              _use_cases, "clear",
              lambda u, f: f"AND({x_is(f, NO)},{x_filled(u)})"),
    Rule("other-competitors-without-other", (OTHER_COMPETITORS, COMPETITOR),
         "Project.OtherCompetitorNames goes only with Project.CompetitorName *Other.",
         _other_competitors,
         _goes_with("other-competitors-without-other", OTHER_COMPETITORS, COMPETITOR, OTHER_COMPETITOR, "clear")),
    Rule("length", (BUSINESS_PROBLEM,),
         "Project.CustomerBusinessProblem is 20 to 2,000 characters (the cell refuses other lengths).",
         _business_problem, in_cell=True),
    Rule("required", (),
         "A contact, spend item or other group you fill in needs its required fields "
         "(CompanyName; CurrencyCode, Frequency and TargetCompany of a spend item; ...).",
         _members, _member_flags),
)  # fmt: skip
"""Every cross-field rule, in the order their problems are reported."""


def row_flags(refs: Refs) -> list[Flag]:
    """Every conditional format a sheet with these columns gets (header -> current-row cell)."""
    return [flag for rule in RULES if rule.flags is not None for flag in rule.flags(refs)]


def business_problems(
    payload: dict[str, Any],
    *,
    today: date,
    changed: set[str] | None = None,
    partial: bool = False,
) -> list[Found]:
    """Every documented cross-field rule the payload breaks (:data:`RULES`, in order).

    ``changed`` (dotted keys) limits the past-date rule to a TargetCloseDate the
    edit sets: an old date left untouched on a closed deal does not block. None
    checks every date.
    """
    context = _Context(payload, today, changed, partial)
    return [found for rule in RULES for found in rule.check(context)]


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


# The pattern-to-Excel translation lives in bulk_update.sheet.formulas; the names
# below stay reachable from here for the rules' readers (templates, tests).
from bulk_update.sheet.formulas import FORMULA_LIMIT as FORMULA_LIMIT  # noqa: E402
from bulk_update.sheet.formulas import CellCheck as CellCheck  # noqa: E402
from bulk_update.sheet.formulas import cell_check as cell_check  # noqa: E402
