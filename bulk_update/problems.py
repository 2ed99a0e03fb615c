"""The problem record and the outcome vocabulary, used everywhere.

Row problems are records, never exceptions: checks, the planner and the
executor all produce :class:`Problem` values, and every input row ends with
exactly one :class:`Outcome` (sheet-contract.md, section 5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    """What happened to one input row."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"
    VALID = "valid"
    WOULD_UPDATE = "would-update"
    INVALID = "invalid"
    CONFLICT = "conflict"
    LOCKED = "locked"
    NOT_FOUND = "not-found"
    FAILED = "failed"
    SKIPPED = "skipped"
    UPGRADE_NEEDED = "upgrade-needed"
    """The record holds members the installed botocore cannot see: not written."""

    @property
    def ok(self) -> bool:
        """True for the outcomes that leave the exit status at 0."""
        return self in _OK


_OK = frozenset({Outcome.UPDATED, Outcome.UNCHANGED, Outcome.VALID, Outcome.WOULD_UPDATE})


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) with one cell, row or call.

    ``row`` is the row number as Excel shows it (the header is row 1), or None
    for a problem with the sheet as a whole.  ``code`` is a stable kebab-case
    name (``not-allowed``, ``pattern``, ``leading-zeros-lost``...).  ``value``
    is the cell as read; it may be sensitive and goes only into workbooks.
    """

    row: int | None
    identifier: str | None
    column: str | None
    value: str | None
    code: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True)
class Change:
    """One field a row changes: ``column: old -> new`` (values as sheet text)."""

    column: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.column}: {self.old or '(empty)'} -> {self.new or '(empty)'}"


@dataclass(slots=True)
class RowEnd:
    """How one input row ended: the one record the executor, the run commands and the
    results workbook share (slots: a million of them stay small)."""

    row: int
    """The row's number in the input, as Excel numbers it (header = 1)."""
    identifier: str
    outcome: Outcome
    message: str = ""
    changes: list[Change] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    """The input row's own cells as read, in the input's column order (for the results)."""
    problems: Sequence[Problem] = ()
    """The row's problems (for the Errors sheet); shared empty by default, to stay small."""
    new_version: str | None = None
    """The LastModifiedDate the row's write produced, when it wrote."""
