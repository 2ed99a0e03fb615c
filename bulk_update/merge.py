"""From a live record and a row's edits to the full payload UpdateOpportunity needs.

UpdateOpportunity nulls every field it is not sent, so the tool never sends
a row's cells alone: it projects the live record onto what the request
accepts (derived from the model's UpdateOpportunity shape), applies the row's
edits to that projection, and diffs the two.  Paths are tuples of member
names and 0-based list indices, as in :mod:`bulk_update.payload`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from botocore.model import ListShape, Shape, StructureShape

from bulk_update import fields as cat
from bulk_update.payload import CLEAR, Path, Value
from bulk_update.problems import Change

Payload = dict[str, Any]
Leaf = str | tuple[str, ...]


def _owned_paths() -> set[tuple[str, ...]]:
    return {tuple(k.split(".")) for k in cat.AWS_OWNED}


def project(record: Mapping[str, Any]) -> Payload:
    """Keep from a GetOpportunity record only what UpdateOpportunity accepts.

    The frame (Catalog, Identifier, LastModifiedDate) and the fields AWS owns
    (review status and comments, next-steps history) are left out; empty
    strings, lists and structures are dropped so that "absent" has one form.
    """
    owned = _owned_paths()
    out: Payload = {}
    for name, shape in cat.updatable_members().items():
        if name in record:
            value = _project(record[name], shape, (name,), owned)
            if not _is_empty(value):
                out[name] = value
    return out


def _project(value: Any, shape: Shape, path: tuple[str, ...], owned: set[tuple[str, ...]]) -> Any:
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return None
        out: Payload = {}
        for name, member in shape.members.items():
            sub = (*path, name)
            if sub in owned or name not in value:
                continue
            projected = _project(value[name], member, sub, owned)
            if not _is_empty(projected):
                out[name] = projected
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return None
        items = [_project(v, shape.member, path, owned) for v in value]
        if isinstance(shape.member, StructureShape):
            return [i for i in items if not _is_empty(i)]
        return [i for i in items if not _is_empty(i)]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def leaves(payload: Mapping[str, Any], prefix: Path = ()) -> Iterator[tuple[Path, Leaf]]:
    """Every leaf of a payload as (path, value); a plain list is one leaf (a tuple)."""
    for name, value in payload.items():
        path = (*prefix, name)
        if isinstance(value, Mapping):
            yield from leaves(value, path)
        elif isinstance(value, list):
            if value and all(isinstance(v, Mapping) for v in value):
                for i, item in enumerate(value):
                    yield from leaves(item, (*path, i))
            elif value:
                yield path, tuple(str(v) for v in value)
        elif not _is_empty(value):
            yield path, str(value)


def apply_edits(base: Mapping[str, Any], edits: Mapping[Path, Value]) -> Payload:
    """A copy of ``base`` with the row's edits applied (CLEAR removes a field).

    A record-list item whose every field was cleared disappears, so that
    ``#CLEAR`` on all cells of ``Customer.Contacts[2]`` removes that contact.
    """
    out: Payload = copy.deepcopy(dict(base))
    for path, value in edits.items():
        _set(out, path, value)
    return _prune(out)


def _set(node: Any, path: Path, value: Value) -> None:
    *parents, last = path
    for i, part in enumerate(parents):
        nxt = path[i + 1]
        if isinstance(part, int):
            while len(node) <= part:
                node.append({})
            if not isinstance(node[part], dict):
                node[part] = {}
            node = node[part]
        else:
            default: Any = [] if isinstance(nxt, int) else {}
            if not isinstance(node.get(part), type(default)):
                node[part] = default
            node = node[part]
    if value is CLEAR:
        if isinstance(last, str):
            node.pop(last, None)
    elif isinstance(value, tuple):
        node[last] = list(value)
    else:
        node[last] = value


def _prune(node: Any) -> Any:
    if isinstance(node, dict):
        pruned = {k: _prune(v) for k, v in node.items()}
        return {k: v for k, v in pruned.items() if not _is_empty(v)}
    if isinstance(node, list):
        return [p for p in (_prune(v) for v in node) if not _is_empty(p)]
    return node


def _dotted(path: Path, index: Callable[[int], str]) -> str:
    """A path's names joined with dots, each list index written by ``index``."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts[-1] += index(part)
        else:
            parts.append(part)
    return ".".join(parts)


def column_of(path: Path) -> str:
    """The contract's column for a path: ``Customer.Contacts[2].Email`` for index 1."""
    return _dotted(path, lambda i: f"[{i + 1}]")


def key_of(path: Path) -> str:
    """The catalog key for a path: ``Customer.Contacts[].Email``."""
    return _dotted(path, lambda i: "[]")


def _text(value: Leaf | None) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "; ".join(value)
    return value


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The fields that differ, as ``column: old -> new`` changes, in column order."""
    a = dict(leaves(old))
    b = dict(leaves(new))
    changes = []
    for path in sorted(a.keys() | b.keys(), key=_order):
        if a.get(path) != b.get(path):
            changes.append(Change(column_of(path), _text(a.get(path)), _text(b.get(path))))
    return changes


def changed_paths(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[Path]:
    a = dict(leaves(old))
    b = dict(leaves(new))
    return {p for p in a.keys() | b.keys() if a.get(p) != b.get(p)}


_ORDER: dict[str, int] = {}


def _order(path: Path) -> tuple[int, str]:
    if not _ORDER:
        for i, f in enumerate(cat.load().fields):
            _ORDER[f.key] = i
    return (_ORDER.get(key_of(path), 10_000), column_of(path))


def values_at(payload: Mapping[str, Any], paths: set[Path]) -> dict[Path, Leaf | None]:
    """The leaf values of ``payload`` at the given paths (None where absent)."""
    flat = dict(leaves(payload))
    return {p: flat.get(p) for p in paths}


def holds(payload: Mapping[str, Any], edits: Mapping[Path, Value]) -> bool:
    """True when ``payload`` already carries every value the edits ask for."""
    flat = dict(leaves(payload))
    for path, value in edits.items():
        if value is CLEAR:
            if any(p[: len(path)] == path for p in flat):
                return False
        elif flat.get(path) != value:
            return False
    return True
