"""The calls beside UpdateOpportunity a row may ask for: the owner, the related
entities, the submission.

A sheet says the state it wants; this module turns that into calls, all from
the installed model (no hand-kept field or value list):

- ``Assignee.<member>``: the members of AssignOpportunity's ``Assignee``
  (``Email``, ``FirstName``...).  One AssignOpportunity when ``Assignee.Email``
  differs (case aside) from the live owner, the first member of
  OpportunityTeam.
- ``RelatedEntityIdentifiers.<kind>``: each kind GetOpportunity reports and
  AssociateOpportunity takes (``Solutions``, ``AwsProducts``...), a ``;``
  list.  The set difference against the live record: AssociateOpportunity
  for each new identifier first, then DisassociateOpportunity for each one
  gone (the API asks for that order when the last solution is replaced).
  ``#CLEAR`` asks for the empty set.
- ``Submit.<member>``: SubmitOpportunity's members but the frame
  (``InvolvementType``, ``Visibility``).  One SubmitOpportunity while the
  record is ``Pending Submission``; a record already submitted or reviewed
  needs none.

:func:`plan` is pure: the asked cells and the live record in, the ordered
calls (or the reason none may go) out.  The order of a row's calls is
UpdateOpportunity (the executor's), then :data:`ORDER`.

    column_fields() -> tuple[Field, ...]        # every call column, as catalog Fields
    plan(row, identifier, asked, live) -> CallPlan
    asked_from_record(record, headers) -> dict  # a record's owner/entities as asked cells
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from botocore.model import StructureShape

from bulk_update import fields as catalog
from bulk_update.fields import Field
from bulk_update.payload import CLEAR, LIST_SEPARATOR, Value
from bulk_update.problems import Change, Problem

ASSIGN = "AssignOpportunity"
ASSOCIATE = "AssociateOpportunity"
DISASSOCIATE = "DisassociateOpportunity"
SUBMIT = "SubmitOpportunity"
OPERATIONS = (ASSOCIATE, DISASSOCIATE, ASSIGN, SUBMIT)
"""The write operations a row's plan may hold beside UpdateOpportunity, in their order."""
ORDER = {op: i for i, op in enumerate(OPERATIONS)}

ASSIGNEE = "Assignee"
RELATED = "RelatedEntityIdentifiers"
SUBMIT_PREFIX = "Submit"
_SUBMIT_FRAME = frozenset({"Catalog", "Identifier"})

SUBMITTABLE = "Pending Submission"
"""The only review status SubmitOpportunity accepts (API reference)."""
SUBMITTED_ALREADY = frozenset({"Submitted", "In review", "Approved", "Action Required"})
"""Review statuses of a record that has gone to AWS: a submission is not needed again."""
REFUSES_ALL = frozenset({"Submitted", "In review", "Rejected"})
"""Review statuses in which Partner Central takes none of these calls."""

REQUIRED_KIND = "Solutions"
"""The kind whose last identifier cannot be removed, only replaced (API reference)."""

ENTITY_LIMITS = {
    "Solutions": 10,
    "AwsProducts": 20,
    "AwsMarketplaceSolutions": 10,
    "AwsMarketplaceProducts": 10,
    "AwsMarketplaceOffers": 1,
    "AwsMarketplaceOfferSets": 1,
}
"""Associations per opportunity, from the Partner Central quota page (offer sets: as
offers).  Quotas, not model facts, so they are data here; a kind missing from this
table has no limit the tool checks (the service still refuses past its own)."""


def _model_leaves(
    operation: str, member: str | None, prefix: str, skip: frozenset[str]
) -> list[Field]:
    model = catalog.service_model()
    shape = model.operation_model(operation).input_shape
    assert isinstance(shape, StructureShape)
    if member is not None:
        inner = shape.members[member]
        assert isinstance(inner, StructureShape)
        shape = inner
    out = []
    for f in catalog._leaves(shape, (), skip=skip):
        out.append(replace(f, key=f"{prefix}.{f.key}", path=(prefix, *f.path), read_only=False))
    return out


@cache
def assignee_fields() -> tuple[Field, ...]:
    """``Assignee.Email``, ``Assignee.FirstName``...: AssignOpportunity's Assignee."""
    return tuple(_model_leaves(ASSIGN, ASSIGNEE, ASSIGNEE, frozenset()))


@cache
def related_fields() -> tuple[Field, ...]:
    """``RelatedEntityIdentifiers.Solutions``...: the kinds GetOpportunity reports that
    AssociateOpportunity takes (a ``;`` list each)."""
    model = catalog.service_model()
    kind_shape = model.operation_model(ASSOCIATE).input_shape.members["RelatedEntityType"]
    kinds = set(kind_shape.enum)
    out = []
    for f in catalog.load().read_only:
        if f.path[0] == RELATED and len(f.path) == 2 and f.path[1] in kinds:
            out.append(replace(f, read_only=False, max_items=ENTITY_LIMITS.get(f.path[1])))
    return tuple(out)


@cache
def submit_fields() -> tuple[Field, ...]:
    """``Submit.InvolvementType``, ``Submit.Visibility``: SubmitOpportunity's members."""
    return tuple(_model_leaves(SUBMIT, None, SUBMIT_PREFIX, _SUBMIT_FRAME))


@cache
def column_fields() -> tuple[Field, ...]:
    """Every call column, owner first, then related entities, then submission."""
    return (*assignee_fields(), *related_fields(), *submit_fields())


@cache
def by_column() -> dict[str, Field]:
    """Call columns by their canonical header."""
    return {f.key: f for f in column_fields()}


def is_call_column(key: str) -> bool:
    return key in by_column()


# -- the live record's side ---------------------------------------------------------------


def owner_of(live: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The record's owner: the first member of OpportunityTeam (None when there is none)."""
    team = live.get("OpportunityTeam") or []
    return team[0] if team else None


def related_of(live: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each related-entity kind's identifiers on the live record (kinds it lacks: empty)."""
    held = live.get(RELATED) or {}
    return {f.path[1]: tuple(str(v) for v in held.get(f.path[1]) or ()) for f in related_fields()}


def review_status(live: Mapping[str, Any]) -> str:
    return str((live.get("LifeCycle") or {}).get("ReviewStatus") or SUBMITTABLE)


def asked_from_record(record: Mapping[str, Any]) -> dict[str, Value]:
    """A record's owner and related entities as the asked cells that would keep them
    (rollback's desired state: the before-image; the export's cells)."""
    out: dict[str, Value] = {}
    owner = owner_of(record)
    if owner is not None:
        for f in assignee_fields():
            value = owner.get(f.path[1])
            if value not in (None, ""):
                out[f.key] = str(value)
    for kind, ids in related_of(record).items():
        out[f"{RELATED}.{kind}"] = ids if ids else CLEAR
    return out


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One call of a row's plan (the request's members but ``Catalog``)."""

    operation: str
    params: Mapping[str, Any]
    change: Change
    """How the results' Changes column names it."""

    def __str__(self) -> str:
        return str(self.change)

    def as_json(self) -> dict[str, Any]:
        """The call as the journal keeps it."""
        return {"operation": self.operation, "params": dict(self.params), "change": str(self)}


@dataclass
class CallPlan:
    """A row's calls beside the update, in order, or the problems that refuse them."""

    calls: list[Call] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    locked: str = ""
    """Set when the record's review status takes none of the planned calls."""

    @property
    def submits(self) -> bool:
        return any(c.operation == SUBMIT for c in self.calls)


def landed(call: Call, live: Mapping[str, Any]) -> bool:
    """Whether the record holds what ``call`` asked: its owner's e-mail, an entity
    associated (or gone), a review status past Pending Submission.  The one answer to
    "is this call done?": the plan leaves out what is, and a call whose answer was
    lost, or a resumed row's, is settled by it."""
    params = call.params
    if call.operation == ASSIGN:
        owner = owner_of(live) or {}
        asked = str((params.get(ASSIGNEE) or {}).get("Email") or "")
        return str(owner.get("Email") or "").lower() == asked.lower()
    if call.operation in (ASSOCIATE, DISASSOCIATE):
        held = related_of(live).get(str(params["RelatedEntityType"]), ())
        there = str(params["RelatedEntityIdentifier"]) in held
        return there if call.operation == ASSOCIATE else not there
    return review_status(live) != SUBMITTABLE


def _items(value: Value) -> tuple[str, ...]:
    if value is CLEAR:
        return ()
    if isinstance(value, tuple):
        items: Iterable[str] = value
    else:
        items = str(value).split(LIST_SEPARATOR)
    seen: dict[str, None] = {}
    for item in items:
        if item.strip():
            seen.setdefault(item.strip(), None)
    return tuple(seen)


def _assign(identifier: str, asked: Mapping[str, Value], live: Mapping[str, Any]) -> list[Call]:
    email = asked.get(f"{ASSIGNEE}.Email")
    if not isinstance(email, str) or not email:
        return []
    current = str((owner_of(live) or {}).get("Email") or "")
    assignee = {
        f.path[1]: asked[f.key]
        for f in assignee_fields()
        if isinstance(asked.get(f.key), str) and asked[f.key]
    }
    change = Change(f"{ASSIGN} {ASSIGNEE}.Email", current, email)
    call = Call(ASSIGN, {"Identifier": identifier, ASSIGNEE: assignee}, change)
    return [] if landed(call, live) else [call]


def _related(
    row: int, identifier: str, asked: Mapping[str, Value], live: Mapping[str, Any]
) -> tuple[list[Call], list[Call], list[Problem]]:
    adds: list[Call] = []
    removes: list[Call] = []
    problems: list[Problem] = []
    current = related_of(live)
    for f in related_fields():
        if f.key not in asked:
            continue
        kind = f.path[1]
        wanted = _items(asked[f.key])
        have = current.get(kind, ())
        limit = ENTITY_LIMITS.get(kind)
        if limit is not None and len(wanted) > limit:
            problems.append(
                Problem(
                    row,
                    identifier,
                    f.key,
                    LIST_SEPARATOR.join(wanted),
                    "too-many-entities",
                    f"{len(wanted)} identifiers, and an opportunity takes at most {limit} "
                    f"{kind}; keep {limit} or fewer",
                )  # fmt: skip
            )
            continue
        if kind == REQUIRED_KIND and have and not wanted:
            problems.append(
                Problem(
                    row,
                    identifier,
                    f.key,
                    "#CLEAR",
                    "last-solution",
                    f"the last of an opportunity's {kind} cannot be removed, only "
                    "replaced: write the new solution's identifier instead of #CLEAR",
                )  # fmt: skip
            )
            continue
        for ident in wanted:
            if ident not in have:
                adds.append(_entity_call(ASSOCIATE, identifier, kind, ident, f.key))
        for ident in have:
            if ident not in wanted:
                removes.append(_entity_call(DISASSOCIATE, identifier, kind, ident, f.key))
    return adds, removes, problems


def _entity_call(operation: str, identifier: str, kind: str, entity: str, column: str) -> Call:
    old, new = ("", entity) if operation == ASSOCIATE else (entity, "")
    params = {
        "OpportunityIdentifier": identifier,
        "RelatedEntityType": kind,
        "RelatedEntityIdentifier": entity,
    }
    return Call(operation, params, Change(f"{operation} {column}", old, new))


def _submit(
    row: int, identifier: str, asked: Mapping[str, Value], live: Mapping[str, Any]
) -> tuple[list[Call], list[Problem]]:
    wanted = {f.path[1]: asked[f.key] for f in submit_fields() if isinstance(asked.get(f.key), str)}
    wanted = {k: v for k, v in wanted.items() if v}
    if not wanted:
        return [], []
    status = review_status(live)
    if status in SUBMITTED_ALREADY:
        return [], []
    if status != SUBMITTABLE:
        column = f"{SUBMIT_PREFIX}.{next(iter(wanted))}"
        return [], [
            Problem(
                row,
                identifier,
                column,
                str(wanted[next(iter(wanted))]),
                "not-submittable",
                f"the opportunity is '{status}': only an opportunity in "
                f"'{SUBMITTABLE}' can be submitted; empty the Submit cells for this row",
            )  # fmt: skip
        ]
    text = ", ".join(str(v) for v in wanted.values())
    change = Change(SUBMIT, status, text)
    return [Call(SUBMIT, {"Identifier": identifier, **wanted}, change)], []


def plan(
    row: int, identifier: str, asked: Mapping[str, Value], live: Mapping[str, Any]
) -> CallPlan:
    """The calls that bring the live record to the asked state, in :data:`ORDER`.

    ``asked`` holds the row's call cells by canonical header (only the ones the
    row sets: an empty cell asks for nothing).  A call the record already
    satisfies is not planned, so planning again after a call landed never plans
    it twice.  Problems (too many entities, the last solution removed, a status
    that cannot be submitted) refuse the row's calls as a whole.
    """
    adds, removes, problems = _related(row, identifier, asked, live)
    submit, refused = _submit(row, identifier, asked, live)
    problems += refused
    if problems:
        return CallPlan(problems=problems)
    calls = [*adds, *removes, *_assign(identifier, asked, live), *submit]
    status = review_status(live)
    if calls and status in REFUSES_ALL:
        return CallPlan(
            locked=f"the opportunity is '{status}': Partner Central takes no "
            f"{', '.join(sorted({c.operation for c in calls}))} in this review status; "
            "wait for the review to finish, then run this row again"
        )
    return CallPlan(calls=calls)
