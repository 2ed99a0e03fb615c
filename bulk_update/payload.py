"""Row <-> nested payload, record <-> row.

A cell's meaning after checks is a :data:`Value`:
  - a ``str`` (already trimmed and canonicalised: enum spelling, dates YYYY-MM-DD),
  - a ``tuple[str, ...]`` for a plain list field (PrimaryNeedsFromAws...),
  - :data:`CLEAR` for ``#CLEAR``.
Empty cells are simply absent.

A path into the request is a tuple of member names and 0-based list indices:
``("Customer", "Contacts", 0, "Email")``.

    RowEdit(row, identifier, last_modified, edits: dict[Path, Value], columns)
    field_path(field, index) -> Path          # where a catalog field (item index) lives
    to_payload(edits) -> dict                 # nested partial UpdateOpportunity body
    payload_to_edits(payload) -> dict[Path, Value]   # inverse of to_payload
    record_to_row(record) -> dict[str, str]   # GetOpportunity record -> sheet columns (1-based)
    row_to_edits(row) -> dict[Path, Value]    # sheet columns (contract spelling) -> edits
    row_to_record(row) -> dict                # sheet columns -> nested payload

Sheet columns here are in the contract's spelling (``Customer.Contacts[1].Email``);
the other spellings a sheet may use are resolved by ``columns.resolve``.

Known limitation: plain lists travel in one cell joined by ``;``, so a list item
that itself contains ``;`` cannot be written through a sheet.  No value the model
or the documentation allows for such lists contains ``;``.  Likewise a text value
that is exactly ``#CLEAR`` (any case) cannot be written: it means "empty this field".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from bulk_update import fields as _catalog
from bulk_update.fields import Catalog, Field
from bulk_update.times import format_timestamp
from bulk_update.workbook import CLEAR_TEXT as CLEAR_TEXT


class _Clear:
    """The ``#CLEAR`` marker: empty this field."""

    _instance: _Clear | None = None

    def __new__(cls) -> _Clear:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "CLEAR"

    def __reduce__(self) -> str:
        return "CLEAR"


CLEAR: Final = _Clear()
LIST_SEPARATOR: Final = ";"

PathPart = str | int
Path = tuple[PathPart, ...]
Value = str | tuple[str, ...] | _Clear


@dataclass
class RowEdit:
    """What one valid row asks for."""

    row: int
    identifier: str
    last_modified: datetime | None = None
    edits: dict[Path, Value] = field(default_factory=dict)
    columns: dict[Path, str] = field(default_factory=dict)
    """For each edited path, the sheet column it came from (for messages)."""
    calls: dict[str, Value] = field(default_factory=dict)
    """The row's call cells (:mod:`bulk_update.calls`) by canonical header
    (``Assignee.Email``, ``RelatedEntityIdentifiers.Solutions``, ``Submit.InvolvementType``):
    the owner, related entities and submission it asks for; empty cells absent."""


_INDEXED = re.compile(r"^(?P<list>[^\[\]]+)\[(?P<index>\d+)\]\.(?P<member>[^\[\]]+)$")


def field_path(f: Field, index: int | None = None) -> Path:
    """The request path of a field; ``index`` (0-based) picks the item of a record list."""
    if f.list_at is None:
        return f.path
    if index is None:
        raise ValueError(f"{f.key} needs an item index")
    return (*f.path[: f.list_at], index, *f.path[f.list_at :])


def parse_column(name: str, cat: Catalog | None = None) -> tuple[Field, int | None] | None:
    """The field (and 0-based item index) a contract-spelt column names, else None.

    ``Customer.Contacts[2].Email`` gives the Contacts Email field and index 1.
    Read-only fields are found too; callers check ``field.read_only``.
    """
    cat = cat or _catalog.load()
    m = _INDEXED.match(name)
    if m:
        index = int(m.group("index"))
        f = cat.get(f"{m.group('list')}[].{m.group('member')}")
        if f is None or index < 1:
            return None
        return f, index - 1
    f = cat.get(name)
    if f is None or f.list_at is not None:
        return None
    return f, None


def to_payload(edits: dict[Path, Value]) -> dict[str, Any]:
    """The nested (partial) UpdateOpportunity body the edits describe.

    ``CLEAR`` stays ``CLEAR``; plain lists become lists; items of record lists
    that the edits do not mention are ``{}`` placeholders.
    """
    root: dict[str, Any] = {}
    for path, value in edits.items():
        node: Any = root
        for part, nxt in zip(path, path[1:], strict=False):
            if isinstance(part, int):
                while len(node) <= part:
                    node.append({})
                node = node[part]
            else:
                node = node.setdefault(part, [] if isinstance(nxt, int) else {})
        node[path[-1]] = list(value) if isinstance(value, tuple) else value
    return root


def payload_to_edits(payload: dict[str, Any]) -> dict[Path, Value]:
    """The leaves of a nested payload as edits (plain lists as tuples); inverse of to_payload."""
    out: dict[Path, Value] = {}

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list) and node and all(isinstance(i, dict) for i in node):
            for i, item in enumerate(node):
                walk(item, (*path, i))
        elif isinstance(node, list):
            out[path] = tuple(str(i) for i in node)
        elif node is CLEAR or isinstance(node, str):
            out[path] = node
        elif node is not None:
            out[path] = str(node)

    walk(payload, ())
    return out


def _get(node: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _cell(f: Field, value: Any) -> str:
    if value is None:
        return ""
    if f.kind == "timestamp" and isinstance(value, datetime | str):
        return format_timestamp(value)
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def record_to_row(record: dict[str, Any], cat: Catalog | None = None) -> dict[str, str]:
    """A GetOpportunity record (boto3 response or JSON) as sheet columns.

    Columns come in the contract's spelling and the catalog's order: ``Identifier``
    (from ``Id``), ``Catalog``, ``LastModifiedDate`` (UTC, milliseconds, ``Z``),
    then every updatable field, then the read-only ones (find which with
    :func:`parse_column`). Record lists are numbered from 1, item by item; plain
    lists are joined with ``;``. Fields the record does not hold are left out.
    """
    cat = cat or _catalog.load()
    row: dict[str, str] = {}
    if record.get("Id"):
        row[_catalog.IDENTIFIER] = str(record["Id"])
    if record.get("Catalog"):
        row[_catalog.CATALOG_COLUMN] = str(record["Catalog"])
    if record.get("LastModifiedDate"):
        row[_catalog.LAST_MODIFIED] = format_timestamp(record["LastModifiedDate"])
    done: set[str] = set()
    fields = (*cat.fields, *cat.read_only)
    for f in fields:
        if f.key == "Id":
            continue
        if f.list_at is None:
            text = _cell(f, _get(record, f.path))
            if text:
                row[f.key] = text
            continue
        lst = f.record_list
        if lst in done:
            continue
        assert lst is not None
        done.add(lst)
        members = [g for g in fields if g.record_list == lst]
        items = _get(record, f.path[: f.list_at]) or []
        for i, item in enumerate(items):
            for g in members:
                assert g.list_at is not None
                text = _cell(g, _get(item, g.path[g.list_at :]))
                if text:
                    row[g.column(i + 1)] = text
    return row


def row_to_edits(row: dict[str, str], cat: Catalog | None = None) -> dict[Path, Value]:
    """The edits a row in the contract's spelling asks for (updatable fields only).

    Empty cells are left out, ``#CLEAR`` (any case) is :data:`CLEAR`, plain lists are
    split on ``;`` (items trimmed, empty items dropped). Other text is taken as it
    is: trimming and canonical spellings are the checks' work.
    """
    cat = cat or _catalog.load()
    edits: dict[Path, Value] = {}
    for name, text in row.items():
        if text == "":
            continue
        found = parse_column(name, cat)
        if found is None or found[0].read_only:
            continue
        f, index = found
        path = field_path(f, index)
        if text.strip().upper() == CLEAR_TEXT:
            edits[path] = CLEAR
        elif f.kind == "list":
            edits[path] = tuple(i.strip() for i in text.split(LIST_SEPARATOR) if i.strip())
        else:
            edits[path] = text
    return edits


def row_to_record(row: dict[str, str], cat: Catalog | None = None) -> dict[str, Any]:
    """The nested payload of a row's updatable fields (empty cells absent); inverse of record_to_row."""
    return to_payload(row_to_edits(row, cat))
