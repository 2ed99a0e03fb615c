"""Header resolution: sheet headers -> catalog fields.

INTERFACE (implemented by the readers work):

    resolve(headers: list[str], catalog: Catalog) -> Layout    raises errors.ColumnError

Matching ignores case and surrounding spaces. ``Id`` stands for ``Identifier``.
Record lists are numbered from 1 (``Customer.Contacts[1].Email``) unless the
sheet uses ``[0]`` for that list, then from 0. A plain list may be one cell
(``PrimaryNeedsFromAws``, values split on ``;``) or spread over indexed
columns (``PrimaryNeedsFromAws[0]``, ``PrimaryNeedsFromAws[1]``).
Read-only columns (catalog.read_only, ``CreatedDate``...) are kept as
``read-only``; ``ResponseMetadata.*`` as ``ignored``. Anything else unknown
raises ColumnError naming every unknown header with a "did you mean ...?".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bulk_update.catalog import Field

Role = Literal["identifier", "last-modified", "catalog", "field", "read-only", "ignored"]


@dataclass(frozen=True)
class Column:
    position: int
    """Index into Sheet.headers / Sheet.cells columns."""
    header: str
    """The header as the sheet spells it (for messages and the Results sheet)."""
    role: Role
    field: Field | None = None
    index: int | None = None
    """0-based item index: for a record-list field, which item; for a plain
    list spread over indexed columns, which element."""

    @property
    def canonical(self) -> str:
        """The contract's spelling of this column (1-based indices)."""
        if self.field is None:
            return self.header
        if self.field.list_at is not None:
            assert self.index is not None
            return self.field.column(self.index + 1)
        return self.field.key


@dataclass(frozen=True)
class Layout:
    columns: tuple[Column, ...]

    def by_role(self, role: Role) -> list[Column]:
        return [c for c in self.columns if c.role == role]

    @property
    def identifier(self) -> Column:
        return self.by_role("identifier")[0]
