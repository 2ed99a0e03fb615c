"""The four operations, as the service carries them out on the store.

Each takes the request's parameters (already checked against the model's
input shape) and returns the response's members, or raises an ``ApiError``.

Choices where AWS leaves room (the README repeats them):
- UpdateOpportunity checks, in order: the record exists, the version matches
  (ConflictException), the review status allows the change, the business rules
  hold.  AWS-owned fields in the request are ignored, not refused.
- ListOpportunities sorts by LastModifiedDate, newest first, unless told
  otherwise; MaxResults defaults to 20; date filters include their bounds;
  CustomerCompanyName matches a name containing the text, ignoring case.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, Shape, StructureShape

from . import rules
from .calls import Account
from .search import Matcher, keyword_matches, not_enabled, sort_key, summary_shape
from .store import CATALOGS, Store, arn, set_path
from .validation import output_shape
from .wire import (
    BUSINESS_VALIDATION_FAILED,
    REQUEST_VALIDATION_FAILED,
    FieldError,
    conflict,
    not_found,
    parse_instant,
    to_iso,
    validation_error,
)

_FRAME = ("Catalog", "Identifier", "LastModifiedDate", "ClientToken", "Tags", "Origin")
DEFAULT_PAGE = 20


def _project(shape: Shape, value: Any) -> Any:
    """The part of ``value`` that ``shape`` describes (for summaries)."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        out = {}
        for name, member in shape.members.items():
            if value.get(name) is not None:
                part = _project(member, value[name])
                if part != {}:
                    out[name] = part
        return out
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_project(shape.member, item) for item in value]
    return value


def _ordered(record: dict[str, Any]) -> dict[str, Any]:
    """Members in GetOpportunity's order, so a record reads the same every time."""
    order = output_shape("GetOpportunity").members
    out = {k: record[k] for k in order if k in record}
    out.update((k, v) for k, v in record.items() if k not in out)
    return out


class Operations:
    """GetOpportunity, UpdateOpportunity, CreateOpportunity, List- and SearchOpportunities."""

    def __init__(self, store: Store, clock_ms: Callable[[], int], account: Account) -> None:
        self.store = store
        self.clock_ms = clock_ms
        self.account = account

    # -- helpers -----------------------------------------------------------
    def _catalog(self, params: dict[str, Any]) -> str:
        catalog = params["Catalog"]
        if catalog not in CATALOGS:
            raise validation_error(
                REQUEST_VALIDATION_FAILED,
                [FieldError("Catalog", "INVALID_VALUE", f"must be one of {', '.join(CATALOGS)}")],
            )
        return str(catalog)

    def existing(self, catalog: str, identifier: str) -> dict[str, Any]:
        record = self.store.get(catalog, identifier)
        if record is None:
            raise not_found(f"Opportunity {identifier} was not found in catalog {catalog}")
        return record

    def target(self, params: dict[str, Any], member: str) -> tuple[str, str, dict[str, Any]]:
        """The catalog, identifier and stored record a call names (``member``: its id key)."""
        catalog = self._catalog(params)
        identifier = params[member]
        return catalog, identifier, self.existing(catalog, identifier)

    def _today(self) -> str:
        return to_iso(self.clock_ms())[:10]

    def _stamp(self, record: dict[str, Any], previous: dict[str, Any] | None) -> None:
        """Set a LastModifiedDate strictly later than the previous one; log NextSteps."""
        now = self.clock_ms()
        if previous is not None:
            now = max(now, parse_instant(previous["LastModifiedDate"]) + 1)
        record["LastModifiedDate"] = to_iso(now)
        life = record.get("LifeCycle")
        if not isinstance(life, dict):
            return
        steps = life.get("NextSteps")
        before = ((previous or {}).get("LifeCycle") or {}).get("NextSteps")
        if steps and steps != before:
            history = list(life.get("NextStepsHistory") or [])
            history.append({"Value": steps, "Time": to_iso(now)})
            life["NextStepsHistory"] = history[-rules.NEXT_STEPS_HISTORY_MAX :]

    # -- operations --------------------------------------------------------
    def get(self, params: dict[str, Any]) -> dict[str, Any]:
        catalog = self._catalog(params)
        return self.existing(catalog, params["Identifier"])

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        catalog = self._catalog(params)
        identifier = params["Identifier"]
        with self.store.lock:
            stored = self.existing(catalog, identifier)
            sent = parse_instant(params["LastModifiedDate"])
            have = parse_instant(stored["LastModifiedDate"])
            if sent != have:
                raise conflict(
                    f"Opportunity {identifier} was modified at {to_iso(have)}; "
                    f"the request was based on {to_iso(sent)}"
                )
            record = {k: v for k, v in params.items() if k not in _FRAME}
            life = {
                k: v
                for k, v in (record.get("LifeCycle") or {}).items()
                if k not in rules.AWS_OWNED_LIFECYCLE
            }
            stored_life = stored.get("LifeCycle") or {}
            for key in rules.AWS_OWNED_LIFECYCLE:
                if stored_life.get(key) is not None:
                    life[key] = stored_life[key]
            if life:
                record["LifeCycle"] = life
            else:
                record.pop("LifeCycle", None)
            for key in rules.AWS_OWNED_TOP:
                if key in stored:
                    record[key] = stored[key]
            message, errors = rules.review_status_errors(
                stored_life.get("ReviewStatus"), stored, record
            )
            if errors:
                raise validation_error(BUSINESS_VALIDATION_FAILED, errors, message)
            errors = rules.business_errors(record, stored, self._today())
            if errors:
                raise validation_error(BUSINESS_VALIDATION_FAILED, errors)
            self._stamp(record, stored)
            self.store.put(_ordered(record))
            return {"Id": identifier, "LastModifiedDate": record["LastModifiedDate"]}

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        catalog = self._catalog(params)
        token_key = f"{catalog}/{params['ClientToken']}"
        with self.store.lock:
            known = self.store.client_tokens.get(token_key)
            if known is not None and self.store.get(catalog, known) is not None:
                existing = self.existing(catalog, known)
                return self._created(existing)
            record = {k: v for k, v in params.items() if k not in _FRAME}
            life = {
                k: v
                for k, v in (record.get("LifeCycle") or {}).items()
                if k not in rules.AWS_OWNED_LIFECYCLE
            }
            life["ReviewStatus"] = "Pending Submission"
            record["LifeCycle"] = life
            errors = rules.business_errors(record, None, self._today())
            if errors:
                raise validation_error(BUSINESS_VALIDATION_FAILED, errors)
            identifier = self.store.next_id()
            record.update(
                Catalog=catalog,
                Id=identifier,
                Arn=arn(catalog, identifier),
                RelatedEntityIdentifiers={},
            )
            self._stamp(record, None)
            record["CreatedDate"] = record["LastModifiedDate"]
            self.store.client_tokens[token_key] = identifier
            self.store.put(_ordered(record))
            return self._created(record)

    @staticmethod
    def _created(record: dict[str, Any]) -> dict[str, Any]:
        out = {"Id": record["Id"], "LastModifiedDate": record["LastModifiedDate"]}
        if record.get("PartnerOpportunityIdentifier"):
            out["PartnerOpportunityIdentifier"] = record["PartnerOpportunityIdentifier"]
        return out

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        catalog = self._catalog(params)
        chosen = [r for r in self.store.all(catalog) if _matches(r, params)]
        sort = params.get("Sort") or {"SortBy": "LastModifiedDate", "SortOrder": "DESCENDING"}
        key = _SORT_KEYS[sort["SortBy"]]
        chosen.sort(key=lambda r: (key(r), _id_number(r)))
        if sort["SortOrder"] == "DESCENDING":
            chosen.reverse()
        shape = output_shape("ListOpportunities").members["OpportunitySummaries"]
        assert isinstance(shape, ListShape)
        return _page(params, chosen, "OpportunitySummaries", shape)

    def search(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.account.search_enabled:
            raise not_enabled()
        catalog = self._catalog(params)
        matcher = Matcher(_tag_texts)
        keyword, tree = params.get("Keyword"), params.get("Filter")
        records = [self._tagged(r) for r in self.store.all(catalog)]
        chosen = [
            r
            for r in records
            if (not keyword or keyword_matches(keyword, r))
            and (not tree or matcher.matches(tree, r))
        ]
        sort = params.get("Sort") or {"SortBy": "LastModifiedDate", "SortOrder": "DESCENDING"}
        key = sort_key(sort["SortBy"], matcher)
        chosen.sort(key=lambda r: (key(r), _id_number(r)))
        if sort["SortOrder"] == "DESCENDING":
            chosen.reverse()
        return _page(params, chosen, "OpportunitySearchSummaries", summary_shape())

    def _tagged(self, record: dict[str, Any]) -> dict[str, Any]:
        tags = self.account.tags_of(record["Catalog"], record["Id"])
        return {**record, "Tags": tags} if tags else record

    # -- seller edits ------------------------------------------------------
    def seller_edit(self, catalog: str, identifier: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A seller changes the record outside the API: no rules, a new version."""
        with self.store.lock:
            stored = self.existing(catalog, identifier)
            record = json.loads(json.dumps(stored))
            for path, value in changes.items():
                set_path(record, path, value)
            self._stamp(record, stored)
            self.store.put(record)
            return record


def _tag_texts(record: dict[str, Any]) -> list[str]:
    """A record's tags as SearchOpportunities' Tags key reads them: ``Key=Value``."""
    return [f"{t['Key']}={t['Value']}" for t in record.get("Tags") or []]


def _page(
    params: dict[str, Any], chosen: list[dict[str, Any]], member: str, shape: ListShape
) -> dict[str, Any]:
    """One page of summaries, with a NextToken when more follow."""
    size = params.get("MaxResults") or DEFAULT_PAGE
    start = _read_token(params)
    out: dict[str, Any] = {
        member: [_project(shape.member, r) for r in chosen[start : start + size]]
    }
    if start + size < len(chosen):
        out["NextToken"] = _make_token(params, start + size)
    return out


def _id_number(record: dict[str, Any]) -> int:
    digits = str(record.get("Id", ""))[1:]
    return int(digits) if digits.isdigit() else 0


def _company(record: dict[str, Any]) -> str:
    return str(((record.get("Customer") or {}).get("Account") or {}).get("CompanyName") or "")


def _close_date(record: dict[str, Any]) -> str:
    return str((record.get("LifeCycle") or {}).get("TargetCloseDate") or "")


_SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "LastModifiedDate": lambda r: parse_instant(r["LastModifiedDate"]),
    "CreatedDate": lambda r: parse_instant(r["CreatedDate"]),
    "Identifier": _id_number,
    "CustomerCompanyName": lambda r: _company(r).casefold(),
    "TargetCloseDate": _close_date,
}


def _within(value: Any, after: Any, before: Any, parse: Callable[[Any], Any]) -> bool:
    if after is None and before is None:
        return True
    if value is None:
        return False
    v = parse(value)
    return (after is None or v >= parse(after)) and (before is None or v <= parse(before))


def _matches(record: dict[str, Any], params: dict[str, Any]) -> bool:
    life = record.get("LifeCycle") or {}
    if params.get("Identifier") and record["Id"] not in params["Identifier"]:
        return False
    if params.get("LifeCycleStage") and life.get("Stage") not in params["LifeCycleStage"]:
        return False
    statuses = params.get("LifeCycleReviewStatus")
    if statuses and life.get("ReviewStatus") not in statuses:
        return False
    names = params.get("CustomerCompanyName")
    if names:
        company = _company(record).casefold()
        if not any(n.casefold() in company for n in names):
            return False
    modified = params.get("LastModifiedDate") or {}
    created = params.get("CreatedDate") or {}
    closing = params.get("TargetCloseDate") or {}
    return (
        _within(
            record.get("LastModifiedDate"),
            modified.get("AfterLastModifiedDate"),
            modified.get("BeforeLastModifiedDate"),
            parse_instant,
        )
        and _within(
            record.get("CreatedDate"),
            created.get("AfterCreatedDate"),
            created.get("BeforeCreatedDate"),
            parse_instant,
        )
        and _within(
            life.get("TargetCloseDate"),
            closing.get("AfterTargetCloseDate"),
            closing.get("BeforeTargetCloseDate"),
            str,
        )
    )


def _query_key(params: dict[str, Any]) -> str:
    rest = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
    return json.dumps(rest, sort_keys=True, default=str)


def _make_token(params: dict[str, Any], offset: int) -> str:
    raw = json.dumps({"offset": offset, "query": _query_key(params)})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _read_token(params: dict[str, Any]) -> int:
    token = params.get("NextToken")
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["offset"])
        same = data["query"] == _query_key(params)
    except (ValueError, KeyError, TypeError, binascii.Error):
        same, offset = False, 0
    if not same or offset < 0:
        raise validation_error(
            REQUEST_VALIDATION_FAILED,
            [FieldError("NextToken", "INVALID_VALUE", "is not a token this query returned")],
        )
    return offset
