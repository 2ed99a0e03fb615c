"""Model drift: members Partner Central sends that the installed botocore does not know.

botocore's parser keeps only the members its model declares, so a record
read with an older botocore silently lacks the newer members, and the
UpdateOpportunity built from it (the whole record) would null them.  The
client compares each answer's raw JSON with the operation's output shape
(:func:`unknown_members`) and hands the record on as a :class:`LiveRecord`
that carries the paths it found; the planner refuses to write such a
record (outcome ``upgrade-needed``) and says which upgrade fixes it.

Paths are dotted, list indices in brackets counted from 0 as on the wire
(``Customer.Contacts[2].PreferredLanguage``).  An explicit ``null`` for an
unknown member is not reported: nothing would be lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

PIP_UPGRADE = "pip install --upgrade boto3 botocore"


class LiveRecord(dict[str, Any]):
    """A parsed record plus the member paths its raw answer held beyond the model."""

    unknown: tuple[str, ...] = ()


def unknown_of(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The unknown member paths a record was read with (none for a plain mapping)."""
    return tuple(getattr(record, "unknown", ()))


def unknown_members(value: Any, shape: Shape | None, path: str = "") -> list[str]:
    """Every member path in ``value`` (raw JSON) that ``shape`` does not declare."""
    out: list[str] = []
    _walk(value, shape, path, out)
    return out


def _walk(value: Any, shape: Shape | None, path: str, out: list[str]) -> None:
    if value is None or shape is None:
        return
    if isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            return
        for name, item in value.items():
            sub = f"{path}.{name}" if path else str(name)
            member = shape.members.get(name)
            if member is None:
                if item is not None:
                    out.append(sub)
            else:
                _walk(item, member, sub, out)
    elif isinstance(shape, ListShape):
        if isinstance(value, list):
            for i, item in enumerate(value):
                _walk(item, shape.member, f"{path}[{i}]", out)
    elif isinstance(shape, MapShape) and isinstance(value, Mapping):
        for key, item in value.items():
            _walk(item, shape.value, f"{path}.{key}", out)


def versions() -> str:
    """``botocore 1.44.8, boto3 1.44.8``: what is installed."""
    import boto3
    import botocore

    return f"botocore {botocore.__version__}, boto3 {boto3.__version__}"


def upgrade_message(unknown: Iterable[str], what: str = "writing this record") -> str:
    """The plain-words refusal: which members, why nothing was written, what to do."""
    names = ", ".join(unknown)
    return (
        f"Partner Central sent member(s) the installed {versions()} does not know: {names}; "
        f"{what} would erase them, so nothing was written. Upgrade "
        f"(`{PIP_UPGRADE}`), then run the row again"
    )
