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


def _check(
    shape: Shape, value: Any, path: str, errors: list[FieldError], newer: Newer = INSTALLED
) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        _check_structure(shape, value, path, errors, newer)
    elif kind == "list":
        assert isinstance(shape, ListShape)
        _check_list(shape, value, path, errors, newer)
    elif kind == "string":
        _check_string(shape, value, path, errors, newer)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(FieldError(path, "INVALID_VALUE", "must be an integer"))
            return
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            errors.append(FieldError(path, "VALUE_OUT_OF_RANGE", f"must be between {lo} and {hi}"))
    elif kind == "timestamp":
        try:
            parse_instant(value)
        except (ValueError, OverflowError):
            errors.append(FieldError(path, "INVALID_VALUE", "must be an ISO 8601 timestamp"))
    elif kind == "boolean":
        if not isinstance(value, bool):
            errors.append(FieldError(path, "INVALID_VALUE", "must be true or false"))
    elif kind in ("double", "float") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        errors.append(FieldError(path, "INVALID_VALUE", "must be a number"))


def _check_structure(
    shape: StructureShape, value: Any, path: str, errors: list[FieldError], newer: Newer
) -> None:
    if not isinstance(value, dict):
        errors.append(FieldError(path, "INVALID_VALUE", "must be an object"))
        return
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
    shape: ListShape, value: Any, path: str, errors: list[FieldError], newer: Newer
) -> None:
    if not isinstance(value, list):
        errors.append(FieldError(path, "INVALID_VALUE", "must be a list"))
        return
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
