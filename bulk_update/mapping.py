"""Row <-> nested payload, record <-> row.

INTERFACE (implemented by the checks/mapping work):

A cell's meaning after checks is a :data:`Value`:
  - a ``str`` (already trimmed and canonicalised: enum spelling, dates YYYY-MM-DD),
  - a ``tuple[str, ...]`` for a plain list field (PrimaryNeedsFromAws...),
  - :data:`CLEAR` for ``#CLEAR``.
Empty cells are simply absent.

A path into the request is a tuple of member names and 0-based list indices:
``("Customer", "Contacts", 0, "Email")``.

    RowEdit(row, identifier, last_modified, edits: dict[Path, Value])
    to_payload(edits) -> dict            # nested partial UpdateOpportunity body
    record_to_row(record) -> dict[str, str]   # GetOpportunity record -> sheet columns (1-based)
    row_to_edits(row: dict[str, str]) -> dict[Path, Value]   # inverse, for round trips
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final


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
CLEAR_TEXT: Final = "#CLEAR"

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
