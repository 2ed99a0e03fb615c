"""Review-status rules, as the tool checks them before sending anything.

What may be edited depends on ``LifeCycle.ReviewStatus`` (partner-central.md,
"What may be edited when").  These lists come from the API documentation,
not the model, so they are kept here as data; the keys are catalog keys and
are checked against the catalog by the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

REFUSES_ALL = frozenset({"Submitted", "In review", "Rejected"})

ACTION_REQUIRED_OPEN = frozenset(
    {
        "Customer.Account.Address.City",
        "Customer.Account.Address.CountryCode",
        "Customer.Account.Address.PostalCode",
        "Customer.Account.Address.StateOrRegion",
        "Customer.Account.Address.StreetAddress",
        "Customer.Account.WebsiteUrl",
        "LifeCycle.TargetCloseDate",
        "Project.ExpectedCustomerSpend[].Amount",
        "Project.ExpectedCustomerSpend[].CurrencyCode",
        "Project.ExpectedCustomerSpend[].Frequency",
        "Project.ExpectedCustomerSpend[].TargetCompany",
        "Project.ExpectedCustomerSpend[].EstimationUrl",
        "Project.CustomerBusinessProblem",
        "PartnerOpportunityIdentifier",
    }
)

APPROVED_LOCKED = frozenset(
    {
        "Customer.Account.Address.CountryCode",
        "Customer.Account.Address.PostalCode",
        "Customer.Account.Industry",
        "Customer.Account.WebsiteUrl",
        "Project.CustomerBusinessProblem",
        "PartnerOpportunityIdentifier",
        "Project.Title",
    }
)


@dataclass(frozen=True)
class LockVerdict:
    allowed: bool
    fields: tuple[str, ...] = ()
    """The catalog keys the status refuses (empty when every edit is refused)."""
    message: str = ""


def check(review_status: str | None, changed_keys: Iterable[str]) -> LockVerdict:
    """May a record in this review status take changes to these fields?"""
    keys = sorted(set(changed_keys))
    status = review_status or "Pending Submission"
    if status in REFUSES_ALL:
        return LockVerdict(
            False,
            (),
            f"the opportunity is '{status}': Partner Central accepts no update in this "
            "review status; wait for the review to finish, then run this row again",
        )
    if status == "Action Required":
        refused = tuple(k for k in keys if k not in ACTION_REQUIRED_OPEN)
        if refused:
            return LockVerdict(
                False,
                refused,
                "the opportunity is 'Action Required': only the address, website, "
                "target close date, expected spend, business problem and partner "
                f"opportunity id may change; not {', '.join(refused)}",
            )
    if status == "Approved":
        refused = tuple(k for k in keys if k in APPROVED_LOCKED)
        if refused:
            return LockVerdict(
                False,
                refused,
                f"the opportunity is 'Approved': {', '.join(refused)} can no longer change",
            )
    return LockVerdict(True)
