"""The field catalog, derived at run time from botocore's service model.

Every column a sheet may hold is described here, and nowhere else: its dotted
path, its type, its allowed values, pattern, length limits, whether it is
required inside its structure, whether the model marks it sensitive, and
whether the tool may write it.  Nothing in this module lists fields or enum
values by hand; the only hand-kept data are the value lists that the API
documentation gives but the model does not enumerate (``data/documented_values.json``,
taken from the seed reference page), and the short list of fields that AWS owns
(partner-central.md, "What may be edited when").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import botocore.session
from botocore.model import ListShape, ServiceModel, Shape, StructureShape

SERVICE = "partnercentral-selling"
REGION = "us-east-1"
CATALOGS = ("AWS", "Sandbox")

IDENTIFIER = "Identifier"
LAST_MODIFIED = "LastModifiedDate"
CATALOG_COLUMN = "Catalog"

# Members of the UpdateOpportunity request that only frame the call.
_FRAME = {"Catalog", "Identifier", "LastModifiedDate"}

# Fields present in the UpdateOpportunity request shape that AWS sets itself and
# a partner never writes (partner-central.md, "What may be edited when").
AWS_OWNED = (
    "LifeCycle.ReviewStatus",
    "LifeCycle.ReviewComments",
    "LifeCycle.ReviewStatusReason",
    "LifeCycle.NextStepsHistory",
)

Kind = Literal["text", "enum", "date", "list", "timestamp"]

_LENGTH = re.compile(r"^\(\?s\)\.\{(\d+),(\d+)\}$")
_LOOKAHEAD_MAX = re.compile(r"^\(\?=\.\{(\d+),(\d+)\}\$\)")


@dataclass(frozen=True)
class Field:
    """One leaf of the UpdateOpportunity request (or of GetOpportunity, if read-only)."""

    key: str
    """Dotted path, ``[]`` marking a list of records: ``Customer.Contacts[].Email``."""
    path: tuple[str, ...]
    """Member names from the request root: ``("Customer", "Contacts", "Email")``."""
    kind: Kind
    list_at: int | None = None
    """For a field inside a list of records, how many path parts name the list."""
    enum: tuple[str, ...] = ()
    """Allowed values from the model (for a plain list: allowed item values)."""
    documented: tuple[str, ...] = ()
    """Values the documentation lists but the model does not enforce (warnings)."""
    pattern: str | None = None
    """The model's regex, when it says more than a length."""
    min_length: int | None = None
    max_length: int | None = None
    required: bool = False
    """Required inside its structure (the structure itself may be absent)."""
    sensitive: bool = False
    read_only: bool = False
    max_items: int | None = None
    """For a field inside a list of records: the list's maximum length."""
    doc: str = ""

    @property
    def section(self) -> str:
        return self.path[0]

    @property
    def record_list(self) -> str | None:
        """``Customer.Contacts`` for ``Customer.Contacts[].Email``, else None."""
        if self.list_at is None:
            return None
        return ".".join(self.path[: self.list_at])

    @property
    def item_member(self) -> str | None:
        """``Email`` for ``Customer.Contacts[].Email`` (path inside the item, dotted)."""
        if self.list_at is None:
            return None
        return ".".join(self.path[self.list_at :])

    def column(self, index: int | None = None) -> str:
        """The sheet column: ``Customer.Contacts[2].Email`` for index 2."""
        if self.list_at is None:
            return self.key
        if index is None:
            raise ValueError(f"{self.key} needs an item index")
        return f"{self.record_list}[{index}].{self.item_member}"

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.enum or self.documented


@dataclass(frozen=True)
class Catalog:
    """All fields, updatable first, in the model's order."""

    fields: tuple[Field, ...]
    read_only: tuple[Field, ...]
    by_key: dict[str, Field] = field(repr=False)
    record_lists: dict[str, int | None] = field(repr=False)
    """Each list of records (``Customer.Contacts``) and its maximum length."""
    model_version: str = ""

    def get(self, key: str) -> Field | None:
        return self.by_key.get(key)

    def updatable(self) -> Iterator[Field]:
        return iter(self.fields)

    @property
    def sensitive_keys(self) -> frozenset[str]:
        return frozenset(f.key for f in (*self.fields, *self.read_only) if f.sensitive)


@cache
def service_model() -> ServiceModel:
    """botocore's model of the Partner Central Selling API, loaded once."""
    return botocore.session.get_session().get_service_model(SERVICE)


@cache
def documented_values() -> dict[str, tuple[str, ...]]:
    text = resources.files("bulk_update").joinpath("data/documented_values.json").read_text("utf-8")
    raw: dict[str, list[str]] = json.loads(text)
    return {k: tuple(v) for k, v in raw.items() if not k.startswith("_")}


def _limits(shape: Shape) -> tuple[str | None, int | None, int | None]:
    pattern = shape.metadata.get("pattern")
    lo = shape.metadata.get("min")
    hi = shape.metadata.get("max")
    if pattern:
        m = _LENGTH.match(pattern)
        if m:
            return None, int(m.group(1)), int(m.group(2))
        m = _LOOKAHEAD_MAX.match(pattern)
        if m:
            hi = int(m.group(2))
    return pattern, lo, hi


def _leaves(
    shape: StructureShape,
    prefix: tuple[str, ...],
    *,
    list_at: int | None = None,
    max_items: int | None = None,
    read_only: bool = False,
    skip: frozenset[str] = frozenset(),
) -> Iterator[Field]:
    required = set(shape.required_members)
    for name, member in shape.members.items():
        path = (*prefix, name)
        if not prefix and name in skip:
            continue
        if isinstance(member, StructureShape):
            yield from _leaves(
                member, path, list_at=list_at, max_items=max_items, read_only=read_only
            )
            continue
        if isinstance(member, ListShape):
            item = member.member
            if isinstance(item, StructureShape):
                if list_at is not None:  # lists inside list items do not occur
                    continue
                yield from _leaves(
                    item,
                    path,
                    list_at=len(path),
                    max_items=member.metadata.get("max"),
                    read_only=read_only,
                )
                continue
            yield _plain_list(name in required, path, member, list_at, max_items, read_only)
            continue
        yield _scalar(name in required, path, member, list_at, max_items, read_only)


def _plain_list(
    required: bool,
    path: tuple[str, ...],
    member: ListShape,
    list_at: int | None,
    max_items: int | None,
    read_only: bool,
) -> Field:
    """A list of plain values (one cell, ``;``-separated)."""
    item = member.member
    pattern, lo, hi = _limits(item)
    key = _key(path, list_at)
    return Field(
        key=key,
        path=path,
        kind="list",
        list_at=list_at,
        enum=tuple(getattr(item, "enum", None) or ()),
        documented=documented_values().get(key, ()),
        pattern=pattern,
        min_length=lo,
        max_length=hi,
        required=required,
        sensitive=bool(item.metadata.get("sensitive") or member.metadata.get("sensitive")),
        read_only=read_only,
        max_items=member.metadata.get("max") if list_at is None else max_items,
        doc=member.documentation or "",
    )


def _scalar(
    required: bool,
    path: tuple[str, ...],
    member: Shape,
    list_at: int | None,
    max_items: int | None,
    read_only: bool,
) -> Field:
    """A text, enum, date or timestamp member."""
    key = _key(path, list_at)
    kind: Kind
    enum = tuple(getattr(member, "enum", None) or ())
    if member.type_name == "timestamp":
        kind = "timestamp"
    elif member.name == "Date":
        kind = "date"
    elif enum:
        kind = "enum"
    else:
        kind = "text"
    pattern, lo, hi = _limits(member)
    if kind == "date":
        pattern = None  # dates are checked as dates, with a better message
    return Field(
        key=key,
        path=path,
        kind=kind,
        list_at=list_at,
        enum=enum,
        documented=documented_values().get(key, ()),
        pattern=pattern,
        min_length=lo,
        max_length=hi,
        required=required,
        sensitive=bool(member.metadata.get("sensitive")),
        read_only=read_only,
        max_items=max_items,
        doc=member.documentation or "",
    )


def _key(path: tuple[str, ...], list_at: int | None) -> str:
    if list_at is None:
        return ".".join(path)
    return ".".join(path[:list_at]) + "[]." + ".".join(path[list_at:])


@cache
def load() -> Catalog:
    """The catalog for the installed botocore, built once per process."""
    model = service_model()
    update = model.operation_model("UpdateOpportunity").input_shape
    get = model.operation_model("GetOpportunity").output_shape
    assert update is not None and get is not None
    owned = set(AWS_OWNED)
    writable: list[Field] = []
    read_only: list[Field] = []
    for f in _leaves(update, (), skip=frozenset(_FRAME)):
        if f.key in owned or any(f.key.startswith(o + "[]") for o in owned):
            read_only.append(_replace_read_only(f))
        else:
            writable.append(f)
    known = {f.key for f in (*writable, *read_only)}
    for f in _leaves(get, (), read_only=True):
        if f.key not in known and f.key not in ("Catalog", "LastModifiedDate"):
            read_only.append(f)
            known.add(f.key)
    by_key = {f.key: f for f in (*writable, *read_only)}
    lists: dict[str, int | None] = {}
    for f in writable:
        if f.record_list is not None:
            lists.setdefault(f.record_list, f.max_items)
    return Catalog(
        fields=tuple(writable),
        read_only=tuple(read_only),
        by_key=by_key,
        record_lists=lists,
        model_version=str(model.metadata.get("apiVersion", "")),
    )


def _replace_read_only(f: Field) -> Field:
    from dataclasses import replace

    return replace(f, read_only=True)


def update_shape() -> StructureShape:
    shape = service_model().operation_model("UpdateOpportunity").input_shape
    assert isinstance(shape, StructureShape)
    return shape


def updatable_members() -> dict[str, Any]:
    """The top-level members of UpdateOpportunity that carry opportunity data."""
    return {k: v for k, v in update_shape().members.items() if k not in _FRAME}
