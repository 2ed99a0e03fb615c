"""The server's own rules: what a record must satisfy, and what may change when.

This is the emulator's copy of the rules in partner-central.md, written apart
from the tool's ``checks`` and ``locks`` on purpose: a test that passes against
the emulator is then a second opinion, not the same code agreeing with itself.

Choices where AWS leaves room (the README repeats them):
- An opportunity whose review status is Submitted, In review or Rejected
  refuses every update with a ValidationException (BUSINESS_VALIDATION_FAILED,
  code INVALID_RESOURCE_STATE on ``LifeCycle.ReviewStatus``), its message
  naming the status.
- Action Required and Approved compare the record the update would produce
  with the stored one, leaf by leaf; each changed leaf that the status does not
  open is an ACTION_NOT_PERMITTED error naming that field.  An empty list or
  object counts as absent.
- ``LifeCycle.TargetCloseDate`` must not be in the past when it is set or
  changed; a stored date that has since passed does not block other edits.
"""

from __future__ import annotations

import re
from typing import Any

from .wire import FieldError

# Fields a partner never writes: whatever an update carries, the stored value stays.
AWS_OWNED_LIFECYCLE = ("ReviewStatus", "ReviewComments", "ReviewStatusReason", "NextStepsHistory")
AWS_OWNED_TOP = (
    "Id",
    "Arn",
    "CreatedDate",
    "RelatedEntityIdentifiers",
    "OpportunityTeam",
    "Catalog",
)

READ_ONLY_STATUSES = ("Submitted", "In review", "Rejected")

ACTION_REQUIRED_OPEN = (
    "Customer.Account.Address.City",
    "Customer.Account.Address.CountryCode",
    "Customer.Account.Address.PostalCode",
    "Customer.Account.Address.StateOrRegion",
    "Customer.Account.Address.StreetAddress",
    "Customer.Account.WebsiteUrl",
    "LifeCycle.TargetCloseDate",
    "Project.ExpectedCustomerSpend",
    "Project.CustomerBusinessProblem",
    "PartnerOpportunityIdentifier",
)

APPROVED_LOCKED = (
    "Customer.Account.Address.CountryCode",
    "Customer.Account.Address.PostalCode",
    "Customer.Account.Industry",
    "Customer.Account.WebsiteUrl",
    "Project.CustomerBusinessProblem",
    "PartnerOpportunityIdentifier",
    "Project.Title",
)

NEXT_STEPS_HISTORY_MAX = 50
_INDEX = re.compile(r"\[\d+\]")


def flatten(value: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Leaves by dotted path (``Customer.Contacts[0].Email``); empty containers vanish."""
    if out is None:
        out = {}
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}[{index}]", out)
    elif value is not None:
        out[prefix] = value
    return out


def editable_view(record: dict[str, Any]) -> dict[str, Any]:
    """The leaves of a record that a partner writes (AWS-owned parts left out)."""
    leaves = flatten(record)
    for key in list(leaves):
        top = key.split(".", 1)[0].split("[", 1)[0]
        if top in AWS_OWNED_TOP or top == "LastModifiedDate":
            del leaves[key]
        elif top == "LifeCycle":
            member = key.split(".", 2)[1].split("[", 1)[0]
            if member in AWS_OWNED_LIFECYCLE:
                del leaves[key]
    return leaves


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Dotted paths whose value differs between two records, in a stable order."""
    before, after = editable_view(old), editable_view(new)
    keys = sorted(set(before) | set(after))
    return [k for k in keys if before.get(k) != after.get(k)]


def _covered(path: str, prefixes: tuple[str, ...]) -> bool:
    plain = _INDEX.sub("", path)
    return any(plain == p or plain.startswith(p + ".") for p in prefixes)


def review_status_errors(
    status: str | None, old: dict[str, Any], new: dict[str, Any]
) -> tuple[str, list[FieldError]]:
    """The message and errors refusing this update for its review status, if any."""
    if status in READ_ONLY_STATUSES:
        message = f"Opportunity review status is '{status}': it cannot be updated"
        return message, [FieldError("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE", message)]
    if status == "Action Required":
        closed = [p for p in changed_fields(old, new) if not _covered(p, ACTION_REQUIRED_OPEN)]
        if closed:
            message = (
                "Opportunity review status is 'Action Required': only its open fields may change"
            )
            return message, [
                FieldError(p, "ACTION_NOT_PERMITTED", "cannot change while 'Action Required'")
                for p in closed
            ]
    if status == "Approved":
        locked = [p for p in changed_fields(old, new) if _covered(p, APPROVED_LOCKED)]
        if locked:
            message = "Opportunity review status is 'Approved': locked fields cannot change"
            return message, [
                FieldError(p, "ACTION_NOT_PERMITTED", "cannot change once 'Approved'")
                for p in locked
            ]
    return "", []


def _get(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _need(path: str, why: str) -> FieldError:
    return FieldError(path, "REQUIRED_FIELD_MISSING", why)


def _refuse(path: str, why: str) -> FieldError:
    return FieldError(path, "INVALID_VALUE", why)


Record = dict[str, Any]


def _customer(record: Record, stored: Record | None, today: str) -> list[FieldError]:
    industry = _get(record, "Customer.Account.Industry")
    national = record.get("NationalSecurity")
    other_industry = _get(record, "Customer.Account.OtherIndustry")
    checks = [
        (
            _blank(_get(record, "Customer.Account.CompanyName")),
            _need("Customer.Account.CompanyName", "the customer's company name is required"),
        ),
        (
            _blank(industry),
            _need("Customer.Account.Industry", "the customer's industry is required"),
        ),
        (
            industry == "Other" and _blank(other_industry),
            _need("Customer.Account.OtherIndustry", "required when Industry is 'Other'"),
        ),
        (
            industry != "Other" and not _blank(other_industry),
            _refuse("Customer.Account.OtherIndustry", "only allowed when Industry is 'Other'"),
        ),
        (
            national != "Yes" and _blank(_get(record, "Customer.Account.WebsiteUrl")),
            _need(
                "Customer.Account.WebsiteUrl",
                "required unless the opportunity is national security",
            ),
        ),
        (
            national == "Yes" and industry != "Government",
            _refuse("NationalSecurity", "'Yes' is only allowed when Industry is 'Government'"),
        ),
    ]
    return [error for broken, error in checks if broken]


def _closed_lost(record: Record, stored: Record | None, today: str) -> list[FieldError]:
    stage = _get(record, "LifeCycle.Stage")
    reason = _get(record, "LifeCycle.ClosedLostReason")
    if stage == "Closed Lost" and _blank(reason):
        return [_need("LifeCycle.ClosedLostReason", "required when Stage is 'Closed Lost'")]
    if stage != "Closed Lost" and not _blank(reason):
        return [_refuse("LifeCycle.ClosedLostReason", "only allowed when Stage is 'Closed Lost'")]
    return []


def _target_close(record: Record, stored: Record | None, today: str) -> list[FieldError]:
    close = _get(record, "LifeCycle.TargetCloseDate")
    before = _get(stored, "LifeCycle.TargetCloseDate") if stored else None
    if isinstance(close, str) and close != before and close < today:
        return [_refuse("LifeCycle.TargetCloseDate", "must not be in the past")]
    return []


def _competitors(record: Record, stored: Record | None, today: str) -> list[FieldError]:
    others = _get(record, "Project.OtherCompetitorNames")
    if not _blank(others) and _get(record, "Project.CompetitorName") != "*Other":
        return [
            _refuse("Project.OtherCompetitorNames", "only allowed when CompetitorName is '*Other'")
        ]
    return []


def _use_cases(record: Record, stored: Record | None, today: str) -> list[FieldError]:
    if _get(record, "Marketing.AwsFundingUsed") == "No" and not _blank(
        _get(record, "Marketing.UseCases")
    ):
        return [_refuse("Marketing.UseCases", "must be empty when AwsFundingUsed is 'No'")]
    return []


_BUSINESS_RULES = (_customer, _closed_lost, _target_close, _competitors, _use_cases)
"""The server's business rules, in the order it reports their breaks."""


def business_errors(record: Record, stored: Record | None, today: str) -> list[FieldError]:
    """Breaks of the documented business rules in the record an update would store.

    ``stored`` is the record before the update (None on create); ``today`` is
    ``YYYY-MM-DD`` in UTC.
    """
    return [error for rule in _BUSINESS_RULES for error in rule(record, stored, today)]
