"""AssignOpportunity, AssociateOpportunity, DisassociateOpportunity, SubmitOpportunity.

The calls beside UpdateOpportunity that change who owns a record, what it is
linked to, and whether AWS reviews it.  Each takes the request's parameters
(already checked against the model's input shape) and returns the response's
members (none, for these four), or raises an ``ApiError``.

The account side they need is an :class:`Account`: the registered partner
users (only they may be assigned; the API has no call that lists them), the
solution catalog (what ListSolutions answers; only its solutions may be
associated) and each record's tags (for SearchOpportunities).

Rules, as the API reference and the developer guide state them, and the
choices where they leave room (docs/emulator.md repeats them):
- A record whose review status is Submitted or In review (AWS is reviewing
  it) or Rejected (read-only) refuses all four with a ValidationException
  (BUSINESS_VALIDATION_FAILED, INVALID_RESOURCE_STATE on
  ``LifeCycle.ReviewStatus``), as UpdateOpportunity does.
- AssignOpportunity: an e-mail that is not a registered user is a
  ValidationException (BUSINESS_VALIDATION_FAILED, INVALID_VALUE on
  ``Assignee.Email``).  The assignee replaces the owner, the first member of
  OpportunityTeam; the other members stay.
- AssociateOpportunity: the identifier must fit the pattern the model gives
  that kind of entity in RelatedEntityIdentifiers (REQUEST_VALIDATION_FAILED);
  a solution must be in the catalog (ResourceNotFoundException); at most
  :data:`ENTITY_LIMITS` per opportunity (TOO_MANY_VALUES).  Associating what
  is already associated changes nothing and is answered as done.
- DisassociateOpportunity: an entity that is not associated is
  ResourceNotFoundException; the last solution cannot be removed
  (NOT_ENOUGH_VALUES): associate its replacement first, then disassociate it.
- SubmitOpportunity: only from Pending Submission; the record becomes
  Submitted and refuses updates until AWS sets a review status
  (``Emulator.set_review_status`` plays AWS).
- A call that changes the record gives it a new LastModifiedDate.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.model import ListShape

from . import rules
from .store import Store
from .validation import output_shape, validate
from .wire import (
    BUSINESS_VALIDATION_FAILED,
    REQUEST_VALIDATION_FAILED,
    ApiError,
    FieldError,
    not_found,
    parse_instant,
    to_iso,
    validation_error,
)

ENTITY_LIMITS = {
    "Solutions": 10,
    "AwsProducts": 20,
    "AwsMarketplaceSolutions": 10,
    "AwsMarketplaceProducts": 10,
    "AwsMarketplaceOffers": 1,
    "AwsMarketplaceOfferSets": 1,
}
"""Associations per opportunity, from the quota page (offer sets: as offers, a choice)."""

REQUIRED_ENTITY = "Solutions"
"""The kind whose last member cannot be removed, only replaced."""

SUBMITTABLE = "Pending Submission"


_USERS = (
    "Sam Rivera, PartnerAccountManager",
    "Priya Natarajan, PartnerSalesManager",
    "Lena Novak, PartnerSolutionsArchitect",
    "Tomas Ortega, PartnerAccountManager",
)
"""The registered partner users: ``First Last, Title``; e-mail ``first.last@partner...``."""


def registered_users() -> list[dict[str, str]]:
    """The partner users a new emulator knows (the sample records' owner is the first)."""
    users = []
    for line in _USERS:
        name, title = line.split(", ")
        first, last = name.split(" ")
        email = f"{first.lower()}.{last.lower()}@partner.example.com"
        users.append({"Email": email, "FirstName": first, "LastName": last, "BusinessTitle": title})
    return users


def solutions(catalog: str) -> list[dict[str, Any]]:
    """The solution catalog: S-9000000 to S-9000011 (the records use the first seven)."""
    return [
        {
            "Catalog": catalog,
            "Id": f"S-{9000000 + n}",
            "Name": f"Partner solution {n + 1}",
            "Status": "Active",
            "Category": "Software Product" if n % 2 else "Consulting Practice",
            "CreatedDate": f"2026-01-{n + 1:02d}T09:00:00.000Z",
        }
        for n in range(12)
    ]


@dataclass
class Account:
    """The partner account around the records: users, solutions, tags, search."""

    users: dict[str, dict[str, str]] = field(default_factory=dict)
    """Registered partner users by lower-cased e-mail."""
    solutions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """ListSolutions' records per catalog."""
    tags: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Tags per ``catalog/identifier``."""
    search_enabled: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)

    def tags_of(self, catalog: str, identifier: str) -> list[dict[str, str]]:
        with self.lock:
            return [dict(t) for t in self.tags.get(f"{catalog}/{identifier}", [])]

    def solution_ids(self, catalog: str) -> set[str]:
        with self.lock:
            return {s["Id"] for s in self.solutions.get(catalog, [])}


def _entity_shape(kind: str) -> ListShape:
    shape = output_shape("GetOpportunity").members["RelatedEntityIdentifiers"]
    member = shape.members[kind]  # type: ignore[attr-defined]
    assert isinstance(member, ListShape)
    return member


def _locked(record: dict[str, Any], action: str) -> None:
    status = (record.get("LifeCycle") or {}).get("ReviewStatus")
    if status in rules.READ_ONLY_STATUSES:
        message = f"Opportunity review status is '{status}': it cannot be {action}"
        raise validation_error(
            BUSINESS_VALIDATION_FAILED,
            [FieldError("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE", message)],
            message,
        )


def _refused(path: str, code: str, message: str) -> ApiError:
    return validation_error(BUSINESS_VALIDATION_FAILED, [FieldError(path, code, message)])


class Calls:
    """The four calls, on the store and the account."""

    def __init__(
        self,
        store: Store,
        account: Account,
        clock_ms: Callable[[], int],
        target: Callable[[dict[str, Any], str], tuple[str, str, dict[str, Any]]],
    ) -> None:
        self.store = store
        self.account = account
        self.clock_ms = clock_ms
        self.target = target

    def _put(self, record: dict[str, Any], previous: dict[str, Any]) -> None:
        now = max(self.clock_ms(), parse_instant(previous["LastModifiedDate"]) + 1)
        record["LastModifiedDate"] = to_iso(now)
        self.store.put(record)

    def assign(self, params: dict[str, Any]) -> dict[str, Any]:
        assignee = params["Assignee"]
        with self.store.lock:
            _, _, stored = self.target(params, "Identifier")
            _locked(stored, "assigned")
            with self.account.lock:
                known = assignee["Email"].lower() in self.account.users
            if not known:
                raise _refused(
                    "Assignee.Email",
                    "INVALID_VALUE",
                    "is not a registered user of this Partner Central account",
                )
            record = copy.deepcopy(stored)
            owner = {k: assignee[k] for k in ("Email", "FirstName", "LastName", "BusinessTitle")}
            if assignee.get("Phone"):
                owner["Phone"] = assignee["Phone"]
            team = list(record.get("OpportunityTeam") or [])[1:]
            team = [m for m in team if str(m.get("Email", "")).lower() != owner["Email"].lower()]
            record["OpportunityTeam"] = [owner, *team]
            self._put(record, stored)
        return {}

    def associate(self, params: dict[str, Any]) -> dict[str, Any]:
        kind, entity = params["RelatedEntityType"], params["RelatedEntityIdentifier"]
        errors = validate(_entity_shape(kind).member, entity, "RelatedEntityIdentifier")
        if errors:
            raise validation_error(REQUEST_VALIDATION_FAILED, errors)
        with self.store.lock:
            catalog, _, stored = self.target(params, "OpportunityIdentifier")
            _locked(stored, "associated")
            if kind == REQUIRED_ENTITY and entity not in self.account.solution_ids(catalog):
                raise not_found(f"Solution {entity} was not found in catalog {catalog}")
            linked = list((stored.get("RelatedEntityIdentifiers") or {}).get(kind) or [])
            if entity in linked:
                return {}
            limit = ENTITY_LIMITS.get(kind)
            if limit is not None and len(linked) >= limit:
                raise _refused(
                    f"RelatedEntityIdentifiers.{kind}",
                    "TOO_MANY_VALUES",
                    f"an opportunity takes at most {limit} {kind}",
                )
            self._relink(stored, kind, [*linked, entity])
        return {}

    def disassociate(self, params: dict[str, Any]) -> dict[str, Any]:
        kind, entity = params["RelatedEntityType"], params["RelatedEntityIdentifier"]
        with self.store.lock:
            _, identifier, stored = self.target(params, "OpportunityIdentifier")
            _locked(stored, "disassociated")
            linked = list((stored.get("RelatedEntityIdentifiers") or {}).get(kind) or [])
            if entity not in linked:
                raise not_found(f"{kind} {entity} is not associated with opportunity {identifier}")
            if kind == REQUIRED_ENTITY and len(linked) == 1:
                raise _refused(
                    f"RelatedEntityIdentifiers.{kind}",
                    "NOT_ENOUGH_VALUES",
                    "the last solution cannot be removed: associate its replacement first",
                )
            self._relink(stored, kind, [e for e in linked if e != entity])
        return {}

    def _relink(self, stored: dict[str, Any], kind: str, linked: list[str]) -> None:
        record = copy.deepcopy(stored)
        related = dict(record.get("RelatedEntityIdentifiers") or {})
        if linked:
            related[kind] = linked
        else:
            related.pop(kind, None)
        record["RelatedEntityIdentifiers"] = related
        self._put(record, stored)

    def submit(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            _, _, stored = self.target(params, "Identifier")
            status = (stored.get("LifeCycle") or {}).get("ReviewStatus")
            if status != SUBMITTABLE:
                message = (
                    f"Opportunity review status is '{status}': only an opportunity "
                    f"'{SUBMITTABLE}' can be submitted"
                )
                raise validation_error(
                    BUSINESS_VALIDATION_FAILED,
                    [FieldError("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE", message)],
                    message,
                )
            record = copy.deepcopy(stored)
            record.setdefault("LifeCycle", {})["ReviewStatus"] = "Submitted"
            self._put(record, stored)
        return {}

    def list_solutions(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListSolutions: the catalog's solutions, filtered by Identifier and Status."""
        with self.account.lock:
            chosen = list(self.account.solutions.get(params["Catalog"], []))
        for key in ("Identifier", "Status", "Category"):
            wanted = params.get(key)
            if wanted:
                chosen = [
                    s for s in chosen if s.get("Id" if key == "Identifier" else key) in wanted
                ]
        return {"SolutionSummaries": copy.deepcopy(chosen)}
