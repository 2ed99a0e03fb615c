"""Request validation against botocore's own model of the service.

The walk checks what the model declares: member types, required members,
enums, patterns (anchored at both ends), string lengths, list sizes and
integer ranges.  Unknown members are refused too, as the real service does.
Each failure is a ``FieldError`` whose field is the dotted path of the value in
the request (``Customer.Contacts[0].Email``); the caller turns them into a
ValidationException with reason REQUEST_VALIDATION_FAILED.

The emulator may play a newer model than the installed one (:class:`Newer`):
members and enum values that only the newer model knows are then accepted
like any other, wherever they appear.

Patterns are compiled once.  A pattern Python's ``re`` cannot read (the Tag
patterns use ``\\p{L}``) is skipped rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.model import ListShape, Shape, StructureShape

from bulk_update.fields import service_model

from .wire import FieldError, parse_instant


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


@cache
def input_shape(operation: str) -> StructureShape:
    shape = service_model().operation_model(operation).input_shape
    assert isinstance(shape, StructureShape)
    return shape


@cache
def output_shape(operation: str) -> StructureShape:
    shape = service_model().operation_model(operation).output_shape
    assert isinstance(shape, StructureShape)
    return shape


_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Newer:
    """What a newer model adds to the installed one.

    ``members``: dotted keys (``Project.FutureNotes``, list items as ``[]``:
    ``Customer.Contacts[].PreferredLanguage``) of members it declares, of any
    JSON value.  ``enums``: per dotted key, values beyond the installed enum.
    """

    members: frozenset[str] = frozenset()
    enums: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, members: Iterable[str] = (), enums: Mapping[str, Iterable[str]] | None = None
    ) -> Newer:
        return cls(frozenset(members), {k: frozenset(v) for k, v in (enums or {}).items()})

    def knows(self, path: str) -> bool:
        return _INDEX.sub("[]", path) in self.members

    def allows(self, path: str, value: str) -> bool:
        return value in self.enums.get(_INDEX.sub("[]", path), frozenset())


INSTALLED = Newer()
"""The installed model as it is: nothing added."""


def validate(
    shape: Shape, value: Any, path: str = "", newer: Newer = INSTALLED
) -> list[FieldError]:
    """Every way ``value`` breaks ``shape`` (as ``newer`` extends it); empty when it fits."""
    errors: list[FieldError] = []
    _check(shape, value, path, errors, newer)
    return errors


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_CONTAINERS: dict[str, tuple[type, str]] = {
    "structure": (dict, "must be an object"),
    "list": (list, "must be a list"),
}
"""What a structure or a list must arrive as, and the error when it does not."""


def _check(
    shape: Shape, value: Any, path: str, errors: list[FieldError], newer: Newer = INSTALLED
) -> None:
    kind = shape.type_name
    container = _CONTAINERS.get(kind)
    if container is not None and not isinstance(value, container[0]):
        errors.append(FieldError(path, "INVALID_VALUE", container[1]))
        return
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        _check_structure(shape, value, path, errors, newer)
    elif kind == "list":
        assert isinstance(shape, ListShape)
        _check_list(shape, value, path, errors, newer)
    elif kind == "string":
        _check_string(shape, value, path, errors, newer)
    else:
        scalar = _SCALARS.get(kind)
        problem = scalar(shape, value) if scalar is not None else None
        if problem is not None:
            errors.append(FieldError(path, *problem))


def _integer(shape: Shape, value: Any) -> tuple[str, str] | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "INVALID_VALUE", "must be an integer"
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return "VALUE_OUT_OF_RANGE", f"must be between {lo} and {hi}"
    return None


def _timestamp(shape: Shape, value: Any) -> tuple[str, str] | None:
    try:
        parse_instant(value)
    except (ValueError, OverflowError):
        return "INVALID_VALUE", "must be an ISO 8601 timestamp"
    return None


def _boolean(shape: Shape, value: Any) -> tuple[str, str] | None:
    return None if isinstance(value, bool) else ("INVALID_VALUE", "must be true or false")


def _number(shape: Shape, value: Any) -> tuple[str, str] | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "INVALID_VALUE", "must be a number"
    return None


_SCALARS = {
    "integer": _integer,
    "long": _integer,
    "timestamp": _timestamp,
    "boolean": _boolean,
    "double": _number,
    "float": _number,
}
"""The check of each scalar type of the model: None, or (code, message)."""


def _check_structure(
    shape: StructureShape, value: dict[str, Any], path: str, errors: list[FieldError], newer: Newer
) -> None:
    members = shape.members
    for name in shape.required_members:
        if value.get(name) is None:
            errors.append(FieldError(_join(path, name), "REQUIRED_FIELD_MISSING", "is required"))
    for name, item in value.items():
        member = members.get(name)
        if member is None:
            if not newer.knows(_join(path, name)):
                errors.append(
                    FieldError(_join(path, name), "INVALID_VALUE", "is not a known field")
                )
        elif item is not None:
            _check(member, item, _join(path, name), errors, newer)


def _check_list(
    shape: ListShape, value: list[Any], path: str, errors: list[FieldError], newer: Newer
) -> None:
    lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
    if lo is not None and len(value) < lo:
        errors.append(FieldError(path, "NOT_ENOUGH_VALUES", f"needs at least {lo} items"))
    if hi is not None and len(value) > hi:
        errors.append(FieldError(path, "TOO_MANY_VALUES", f"takes at most {hi} items"))
    member = shape.member
    for index, item in enumerate(value):
        _check(member, item, f"{path}[{index}]", errors, newer)


def _check_string(
    shape: Shape, value: Any, path: str, errors: list[FieldError], newer: Newer
) -> None:
    if not isinstance(value, str):
        errors.append(FieldError(path, "INVALID_VALUE", "must be a string"))
        return
    enum: list[str] = getattr(shape, "enum", None) or []
    if enum:
        if value not in enum and not newer.allows(path, value):
            errors.append(
                FieldError(path, "INVALID_ENUM_VALUE", f"'{value}' is not an allowed value")
            )
        return
    meta = shape.metadata
    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
        errors.append(
            FieldError(path, "INVALID_STRING_FORMAT", f"length must be between {lo} and {hi}")
        )
        return
    pattern = meta.get("pattern")
    if pattern:
        compiled = _pattern(pattern)
        if compiled is not None and compiled.fullmatch(value) is None:
            errors.append(
                FieldError(path, "INVALID_STRING_FORMAT", f"does not match the pattern {pattern}")
            )
