"""Header resolution: sheet headers -> catalog fields.

INTERFACE (implemented by the readers work):

    resolve(headers: list[str], catalog: Catalog) -> Layout    raises errors.ColumnError
    known_columns(catalog) -> list[str]                         canonical spellings
    call_columns() -> list[str]                                 the call columns' (issue 16)

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

import difflib
import re
from dataclasses import dataclass, replace
from typing import Literal

from bulk_update import calls as _calls
from bulk_update.errors import ColumnError
from bulk_update.fields import CATALOG_COLUMN, IDENTIFIER, LAST_MODIFIED, Catalog, Field

Role = Literal["identifier", "last-modified", "catalog", "field", "call", "read-only", "ignored"]
"""``call``: a column of the calls beside UpdateOpportunity (:mod:`bulk_update.calls`):
the owner, a related-entity kind, the submission."""

# Headers that frame a row rather than name a field, by their lower-case spelling.
_FRAME_ROLES: dict[str, Role] = {
    IDENTIFIER.lower(): "identifier",
    "id": "identifier",  # AWS's sample exporter writes GetOpportunity's Id
    LAST_MODIFIED.lower(): "last-modified",
    CATALOG_COLUMN.lower(): "catalog",
}
_CANONICAL_FRAME: dict[Role, str] = {
    "identifier": IDENTIFIER,
    "last-modified": LAST_MODIFIED,
    "catalog": CATALOG_COLUMN,
}
_IGNORED_PREFIX = "responsemetadata"

# ``List[3].Member`` or ``List[3]``; the index is checked separately.
_INDEXED = re.compile(r"^(?P<list>[^\[\]]+)\[(?P<index>[^\[\]]*)\](?:\.(?P<member>[^\[\]]+))?$")
_DIGITS = re.compile(r"^\d+$")
_ANY_INDEX = re.compile(r"\[\d+\]")

EXAMPLE_ITEMS = 3
"""How many items of each list of records known_columns spells out."""
NO_IDENTIFIER = (
    "no Identifier column: the first row must hold the column names, one of them Identifier"
)


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
            return _CANONICAL_FRAME.get(self.role, self.header)
        if self.field.list_at is not None:
            assert self.index is not None
            return self.field.column(self.index + 1)
        return self.field.key

    @property
    def writable(self) -> bool:
        """True for a column whose cells the tool may write to the record."""
        return self.role == "field"


@dataclass(frozen=True)
class Layout:
    columns: tuple[Column, ...]

    def by_role(self, role: Role) -> list[Column]:
        return [c for c in self.columns if c.role == role]

    @property
    def identifier(self) -> Column:
        return self.by_role("identifier")[0]

    @property
    def last_modified(self) -> Column | None:
        found = self.by_role("last-modified")
        return found[0] if found else None

    @property
    def catalog(self) -> Column | None:
        found = self.by_role("catalog")
        return found[0] if found else None

    @property
    def fields(self) -> list[Column]:
        """The columns the tool writes, in sheet order."""
        return self.by_role("field")

    @property
    def calls(self) -> list[Column]:
        """The owner, related-entity and submission columns, in sheet order."""
        return self.by_role("call")


# ---------------------------------------------------------------- spellings


@dataclass(frozen=True)
class _Names:
    """The catalog's fields by their lower-case spellings."""

    plain: dict[str, Field]
    """``project.title`` -> field, for every field outside a list of records."""
    members: dict[tuple[str, str], Field]
    """(``customer.contacts``, ``email``) -> field, for fields inside a list of records."""


def _names(catalog: Catalog) -> _Names:
    plain: dict[str, Field] = {}
    members: dict[tuple[str, str], Field] = {}
    for f in (*_calls.column_fields(), *catalog.fields, *catalog.read_only):
        if f.list_at is None:
            plain.setdefault(f.key.lower(), f)
        else:
            assert f.record_list is not None and f.item_member is not None
            members.setdefault((f.record_list.lower(), f.item_member.lower()), f)
    return _Names(plain, members)


def known_columns(
    catalog: Catalog, *, items: int = EXAMPLE_ITEMS, read_only: bool = False
) -> list[str]:
    """Canonical column spellings: ``Identifier`` then every updatable field.

    Lists of records are spelt out for items 1..``items`` (never beyond the
    list's maximum), item by item: ``Customer.Contacts[1].Email``,
    ``Customer.Contacts[1].FirstName``, ..., ``Customer.Contacts[2].Email``.
    Plain lists are one column. With ``read_only``, ``LastModifiedDate``,
    ``Catalog`` and the read-only columns of an export follow.
    """
    out = [IDENTIFIER]
    groups = [catalog.fields]
    if read_only:
        out += [LAST_MODIFIED, CATALOG_COLUMN]
        groups.append(tuple(f for f in catalog.read_only if f.key != "Id"))
    for fields in groups:
        done: set[str] = set()
        for f in fields:
            if f.list_at is None:
                out.append(f.key)
                continue
            name = f.record_list
            assert name is not None
            if name in done:
                continue
            done.add(name)
            members = [g for g in fields if g.record_list == name]
            count = min(items, f.max_items or items)
            out += [g.column(i) for i in range(1, count + 1) for g in members]
    return out


def call_columns() -> list[str]:
    """The call columns' canonical spellings, in their order (:func:`bulk_update.calls.column_fields`):
    the owner's (``Assignee.Email``...), each related-entity kind's, the submission's.

    Kept apart from :func:`known_columns`, whose answer the export and the
    templates use as it is: they choose where these columns go."""
    return [f.key for f in _calls.column_fields()]


def suggest(header: str, catalog: Catalog) -> str | None:
    """The known column closest to ``header`` (ignoring case), or None.

    An indexed header is compared with its index left out, and the suggestion
    keeps the sheet's own index: ``Customer.Contacts[0].Emial`` suggests
    ``Customer.Contacts[0].Email``.  The call columns are known too
    (``Asignee.Email`` suggests ``Assignee.Email``; ``Owner email`` finds it).
    """
    pool = known_columns(catalog, items=1, read_only=True)  # 1-based examples
    pool += [c for c in call_columns() if c not in pool]
    text = header.strip()
    found = _index_match(text, pool) or _words_match(text, pool)
    if found is not None:
        return found
    by_lower = {c.lower(): c for c in pool}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


_IDENTIFIER_WORDS = frozenset(("opportunityid", "opportunityidentifier", "opportunity", "oppid"))
_OWNER_WORD = "owner"
"""What people call the assignee: AssignOpportunity's own documentation says the
opportunity owner.  ``Owner email`` is read as ``Assignee.Email``."""


def _squash(text: str) -> str:
    """A header as people write it, reduced for comparison: ``Target close date`` -> ``targetclosedate``."""
    return re.sub(r"[\s_\-.:/()]+", "", text).casefold()


def _words_match(text: str, pool: list[str]) -> str | None:
    """The column a header written in words names: its full name or its last part,
    spaces, case and punctuation aside (``Stage``, ``Target close date``, ``Opportunity ID``)."""
    if "[" in text:
        return None
    squashed = _squash(text)
    if squashed in _IDENTIFIER_WORDS:
        return IDENTIFIER
    if squashed.startswith(_OWNER_WORD) and squashed != _OWNER_WORD:
        squashed = _squash(_calls.ASSIGNEE) + squashed[len(_OWNER_WORD) :]
    whole = [c for c in pool if _squash(c) == squashed]
    if whole:
        return whole[0]
    leaves = [c for c in pool if _squash(c.rsplit(".", 1)[-1]) == squashed]
    plain = [c for c in leaves if "[" not in c]
    if len(plain) != 1:
        return None
    # A call column's last part shared with a list's member (``Email``: the owner's,
    # or a contact's?) is no answer.
    return None if len(leaves) > 1 and _calls.is_call_column(plain[0]) else plain[0]


def _index_match(text: str, pool: list[str]) -> str | None:
    indices = _ANY_INDEX.findall(text)
    if len(indices) != 1:
        return None
    generic = {_ANY_INDEX.sub("[]", c).lower(): c for c in pool if _ANY_INDEX.search(c)}
    for c in pool:  # plain lists may be spread over indexed columns
        if "[" not in c:
            generic.setdefault(c.lower() + "[]", c + "[]")
    close = difflib.get_close_matches(_ANY_INDEX.sub("[]", text).lower(), list(generic), n=1)
    if not close:
        return None
    return _ANY_INDEX.sub("[]", generic[close[0]]).replace("[]", indices[0], 1)


# ---------------------------------------------------------------- resolve


@dataclass
class _Parsed:
    column: Column
    """The column with its index as the header writes it (1- or 0-based: see _number)."""
    group: str | None = None
    """The list whose numbering the index follows (record list or plain list key)."""


def _parse(position: int, header: str, names: _Names) -> _Parsed | None:
    """What one header names, with its index as written; None when it names nothing."""
    key = header.strip().lower()
    role = _FRAME_ROLES.get(key)
    if role is not None:
        return _Parsed(Column(position, header, role))
    if key == _IGNORED_PREFIX or key.startswith(_IGNORED_PREFIX + "."):
        return _Parsed(Column(position, header, "ignored"))
    found = names.plain.get(key)
    if found is not None:
        return _Parsed(Column(position, header, _role(found), found))
    m = _INDEXED.match(key)
    if m is None:
        return None
    index_text = m.group("index").strip()
    if not _DIGITS.match(index_text):
        return None
    index = int(index_text)
    list_name, member = m.group("list").strip(), m.group("member")
    if member is None:  # a plain list spread over indexed columns
        found = names.plain.get(list_name)
        if found is None or found.kind != "list":
            return None
        return _Parsed(Column(position, header, _role(found), found, index), found.key)
    found = names.members.get((list_name, member.strip()))
    if found is None:
        return None
    return _Parsed(Column(position, header, _role(found), found, index), found.record_list)


def _role(f: Field) -> Role:
    if _calls.is_call_column(f.key):
        return "call"
    return "read-only" if f.read_only else "field"


def resolve(headers: list[str], catalog: Catalog) -> Layout:
    """Match every header to its role and field; raise ColumnError for anything wrong."""
    names = _names(catalog)
    parsed: list[_Parsed] = []
    unknown: list[str] = []
    empty: list[int] = []
    for position, header in enumerate(headers):
        if not header.strip():
            empty.append(position)
            continue
        p = _parse(position, header, names)
        if p is None:
            unknown.append(header)
        else:
            parsed.append(p)
    if empty:
        where = ", ".join(str(p + 1) for p in empty)
        raise ColumnError(
            f"column {where} has an empty header: give every column a name or delete it"
            if len(empty) == 1
            else f"columns {where} have empty headers: give every column a name or delete them"
        )
    has_identifier = any(p.column.role == "identifier" for p in parsed)
    # A header row where nothing is known nor close to known is most likely a
    # data row: then the missing Identifier is the better message.
    if unknown and (parsed or any(suggest(h, catalog) for h in unknown)):
        raise ColumnError(_unknown_message(unknown, catalog))
    if not has_identifier:
        raise ColumnError(NO_IDENTIFIER)
    columns = _number(parsed)
    _check_repeats(columns)
    return Layout(tuple(columns))


def _unknown_message(unknown: list[str], catalog: Catalog) -> str:
    parts = []
    for header in unknown:
        close = suggest(header, catalog)
        hint = f"did you mean {close!r}?" if close else "no known column is close"
        parts.append(f"{header.strip()!r} ({hint})")
    noun = "unknown column" if len(unknown) == 1 else f"{len(unknown)} unknown columns"
    return f"{noun}: {'; '.join(parts)}. Fix the header row and run again; nothing was sent"


def _number(parsed: list[_Parsed]) -> list[Column]:
    """Columns with 0-based indices: a list that uses [0] anywhere counts from zero."""
    zero_based = {p.group for p in parsed if p.group is not None and p.column.index == 0}
    columns = []
    for p in parsed:
        c = p.column
        if c.index is not None:
            first = 0 if p.group in zero_based else 1
            c = replace(c, index=c.index - first)
            assert c.field is not None and c.index is not None
            limit = c.field.max_items
            if limit is not None and c.index >= limit:
                raise ColumnError(
                    f"column {c.header.strip()!r}: {p.group} holds at most {limit} items "
                    f"(numbered {first} to {first + limit - 1} in this sheet)"
                )
        columns.append(c)
    return columns


def _check_repeats(columns: list[Column]) -> None:
    """Two headers naming the same thing, or a plain list both whole and spread."""
    seen: dict[tuple[str, int | None], Column] = {}
    whole: dict[str, Column] = {}
    spread: dict[str, Column] = {}
    for c in columns:
        if c.role == "ignored":
            continue
        key = (c.field.key if c.field is not None else c.role, c.index)
        if key in seen:
            first = seen[key]
            raise ColumnError(
                f"columns {first.header.strip()!r} and {c.header.strip()!r} both name "
                f"{c.canonical}: keep one of them"
            )
        seen[key] = c
        if c.field is not None and c.field.kind == "list" and c.field.list_at is None:
            (whole if c.index is None else spread).setdefault(c.field.key, c)
    for name in sorted(whole.keys() & spread.keys()):
        raise ColumnError(
            f"columns {whole[name].header.strip()!r} and {spread[name].header.strip()!r} both "
            f"name {name}: use one column with values separated by ';' or indexed columns, "
            "not both"
        )
