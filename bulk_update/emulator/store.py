"""The opportunities the emulator holds, one store per catalog, optionally on disk.

Stored records are GetOpportunity-shaped and JSON-ready (timestamps as ISO
strings with milliseconds).  A stored record is never changed in place: every
write puts a new dict, so a reader may hold on to the one it got and serialise
it without a copy or a lock.

With a data file, the whole state is written on every change (to a temporary
file, then renamed over the old one, so a crash never leaves half a file) and
read back at start, so a restart keeps what was written.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from .wire import parse_instant, to_iso

CATALOGS = ("AWS", "Sandbox")
DEFAULT_CATALOG = "Sandbox"
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def arn(catalog: str, identifier: str) -> str:
    return f"arn:aws:partnercentral:us-east-1::catalog/{catalog}/opportunity/{identifier}"


def _instant(value: Any, fallback: int) -> str:
    if value is None:
        return to_iso(fallback)
    if isinstance(value, datetime):
        value = value.isoformat()
    return to_iso(parse_instant(value))


def normalize(record: dict[str, Any], now: int) -> dict[str, Any]:
    """A deep copy of a seed or put record with its catalog and timestamps made canonical."""
    if not record.get("Id"):
        raise ValueError("a record needs an Id")
    out = copy.deepcopy(record)
    out.pop("ResponseMetadata", None)
    catalog = out.setdefault("Catalog", DEFAULT_CATALOG)
    if catalog not in CATALOGS:
        raise ValueError(f"unknown catalog {catalog!r} for {out['Id']}")
    out.setdefault("Arn", arn(catalog, out["Id"]))
    out["CreatedDate"] = _instant(out.get("CreatedDate"), now)
    out["LastModifiedDate"] = _instant(out.get("LastModifiedDate"), now)
    out.setdefault("RelatedEntityIdentifiers", {})
    history = (out.get("LifeCycle") or {}).get("NextStepsHistory")
    if history:
        for item in history:
            item["Time"] = _instant(item.get("Time"), now)
    return out


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set ``Customer.Contacts[0].Email``-style paths in place; None removes the leaf."""
    steps: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(path)]
    if not steps:
        raise ValueError(f"empty path {path!r}")
    node: Any = record
    for step, following in zip(steps, steps[1:], strict=False):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append(copy.copy(empty))
            if node[step] is None:
                node[step] = empty
            node = node[step]
        else:
            if node.get(step) is None:
                node[step] = empty
            node = node[step]
    last = steps[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value


class Store:
    """Records by catalog and id, plus CreateOpportunity's client tokens."""

    def __init__(self, data_file: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.data_file = Path(data_file) if data_file else None
        self.catalogs: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in CATALOGS}
        self.client_tokens: dict[str, str] = {}

    def get(self, catalog: str, identifier: str) -> dict[str, Any] | None:
        return self.catalogs[catalog].get(identifier)

    def all(self, catalog: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.catalogs[catalog].values())

    def put(self, record: dict[str, Any]) -> None:
        """Store a (new) record dict under its catalog and id, and persist."""
        with self.lock:
            self.catalogs[record["Catalog"]][record["Id"]] = record
            self.save()

    def next_id(self) -> str:
        """One past the largest numeric id in either catalog (at least O1000001)."""
        with self.lock:
            numbers = [int(i[1:]) for c in self.catalogs.values() for i in c if i[1:].isdigit()]
            return f"O{max(numbers, default=1_000_000) + 1}"

    def load_records(self, records: list[dict[str, Any]], now: int) -> None:
        with self.lock:
            for record in records:
                clean = normalize(record, now)
                self.catalogs[clean["Catalog"]][clean["Id"]] = clean

    def save(self) -> None:
        if self.data_file is None:
            return
        with self.lock:
            state = {
                "records": [r for c in CATALOGS for r in self.catalogs[c].values()],
                "client_tokens": self.client_tokens,
            }
            temp = self.data_file.with_name(self.data_file.name + ".tmp")
            self.data_file.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(state, indent=1, ensure_ascii=False), "utf-8")
            os.replace(temp, self.data_file)

    def load(self, now: int) -> bool:
        """Read the data file if there is one; False when there is none yet."""
        if self.data_file is None or not self.data_file.exists():
            return False
        state = json.loads(self.data_file.read_text("utf-8"))
        if isinstance(state, list):
            state = {"records": state}
        with self.lock:
            self.catalogs = {c: {} for c in CATALOGS}
            self.load_records(state.get("records", []), now)
            self.client_tokens = dict(state.get("client_tokens", {}))
        return True


def read_seed(seed: str | os.PathLike[str] | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Seed records from a JSON file (a list, or ``{"records": [...]}``) or a list."""
    if seed is None:
        return []
    if isinstance(seed, list):
        return seed
    data = json.loads(Path(seed).read_text("utf-8"))
    if isinstance(data, dict):
        data = data.get("records", [])
    if not isinstance(data, list):
        raise ValueError(f"{seed}: expected a list of opportunity records")
    return data
