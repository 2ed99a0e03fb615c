"""Each checked column's pandera checks, and how their failures are worded.

    column_specs(layout, run_catalog, duplicates) -> list[Spec]

The pandera checks built here from the field catalog are the one description
of what a cell may hold: :func:`bulk_update.sheet.checks.check_sheet` gives
them to one ``DataFrameSchema``. A test that runs a Python function on cells
runs it once per distinct value (:func:`per_unique`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from bulk_update import fields as _catalog
from bulk_update.fields import Field
from bulk_update.payload import CLEAR_TEXT, LIST_SEPARATOR
from bulk_update.problems import Severity
from bulk_update.sheet.columns import Column, Layout
from bulk_update.sheet.messages import (
    allowed_message,
    date_message,
    length_message,
    pattern_message,
)
from bulk_update.times import parse_timestamp

Message = Callable[[str], str]
Found = tuple[int, "Spec", str, str, Severity]
"""A problem found: (row position, column, code, message, severity)."""


@dataclass
class Spec:
    """One checked sheet column: its pandera checks and how to word their failures."""

    name: str
    column: Column
    checks: list[pa.Check]
    messages: dict[str, tuple[Message, Severity]]
    nullable: bool = True


def _ok_or_clear(test: Callable[[pd.Series], pd.Series]) -> Callable[[pd.Series], pd.Series]:
    return lambda s: test(s) | (s == CLEAR_TEXT)


def per_unique(s: pd.Series, fn: Callable[[str], object]) -> pd.Series:
    """fn applied once per distinct value, spread back over the column (fast on repeats)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(v) if isinstance(v, str) else None for v in uniques]
    # dtype=object: pandas 3 would infer a string dtype and turn None into NaN.
    return pd.Series(results[codes], index=s.index, dtype=object)


def test_per_unique(s: pd.Series, fn: Callable[[str], bool]) -> pd.Series:
    return per_unique(s, fn).astype(bool)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def items(text: str) -> list[str]:
    return text.split(LIST_SEPARATOR)


def _field_spec(name: str, col: Column, f: Field) -> Spec:
    checks: list[pa.Check] = []
    messages: dict[str, tuple[Message, Severity]] = {}
    sens = f.sensitive

    def add(
        code: str, test: Callable[[pd.Series], pd.Series], msg: Message, sev=Severity.ERROR
    ) -> None:
        checks.append(pa.Check(test, name=code))
        messages[code] = (msg, sev)

    if f.required and col.role == "field":  # a call column's #CLEAR: sheet/callrules.py
        add("required-cleared", lambda s: s != CLEAR_TEXT,
            lambda v: f"{f.key} is required and cannot be cleared: leave the cell empty to keep "
            "it, or type a value")  # fmt: skip
    if f.kind == "date":
        add(
            "date-format",
            _ok_or_clear(lambda s: s.str.fullmatch(r"\d{4}-\d{2}-\d{2}")),
            date_message,
        )
        add("invalid-date", _ok_or_clear(lambda s: test_per_unique(s, lambda v: not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) or _is_date(v))),
            lambda v: f"{v} is not a date in the calendar")  # fmt: skip
    if f.kind == "enum":
        add(
            "not-allowed", _ok_or_clear(lambda s: s.isin(f.enum)), lambda v: allowed_message(f, [v])
        )
    if f.kind == "list":
        if f.enum:
            enum = frozenset(f.enum)
            add("not-allowed", _ok_or_clear(lambda s: test_per_unique(s, lambda v: all(i in enum for i in items(v)))),
                lambda v: allowed_message(f, [i for i in items(v) if i not in enum]))  # fmt: skip
        if f.pattern:
            pat = re.compile(f.pattern)
            add("pattern", _ok_or_clear(lambda s: test_per_unique(s, lambda v: all(pat.fullmatch(i) for i in items(v)))),
                lambda v: pattern_message(f, None if sens else v))  # fmt: skip
    if f.documented:
        test, bad = _documented(f)
        add(
            "not-documented",
            _ok_or_clear(test),
            lambda v: allowed_message(f, bad(v), documented=True),
            Severity.WARNING,
        )
    if f.kind in ("text", "timestamp"):
        if f.pattern:
            pattern = f.pattern
            compiled = re.compile(pattern)
            add("pattern", _ok_or_clear(lambda s: test_per_unique(s, lambda v: compiled.fullmatch(v) is not None)),
                lambda v: pattern_message(f, None if sens else v))  # fmt: skip
        if f.min_length or f.max_length:
            lo, hi = f.min_length or 0, f.max_length or 10**9
            add(
                "length",
                _ok_or_clear(lambda s: s.str.len().between(lo, hi)),
                lambda v: length_message(f, v),
            )
    return Spec(name, col, checks, messages)


def _documented(
    f: Field,
) -> tuple[Callable[[pd.Series], pd.Series], Callable[[str], list[str]]]:
    """The test for a documented (not enumerated) value list, and a cell's values outside it."""
    doc = frozenset(f.documented)
    if f.kind == "list":
        return (
            lambda s: test_per_unique(s, lambda v: all(i in doc for i in items(v))),
            lambda v: [i for i in items(v) if i not in doc],
        )
    return (lambda s: s.isin(doc)), (lambda v: [v])


_IDENTIFIER_PATTERN = r"O[0-9]{1,19}"


def _identifier_spec(name: str, col: Column, duplicates: dict[str, list[int]] | None) -> Spec:
    pattern = (
        _catalog.update_shape().members["Identifier"].metadata.get("pattern", _IDENTIFIER_PATTERN)
    )
    # Ids are compared ignoring case: o6410556 and O6410556 are one opportunity.
    if duplicates is None:
        unique: Callable[[pd.Series], pd.Series] = lambda s: ~s.str.upper().duplicated(keep=False)  # noqa: E731
    else:  # the sheet is checked in chunks: the whole sheet's duplicates are given
        twice = set(duplicates)
        unique = lambda s: ~s.str.upper().isin(twice)  # noqa: E731
    checks = [
        pa.Check(unique, name="duplicate-identifier"),  # first: it names the other row
        pa.Check(lambda s: s.str.fullmatch(pattern), name="invalid-identifier"),
    ]
    messages: dict[str, tuple[Message, Severity]] = {
        "invalid-identifier": (
            lambda v: f"'{v}' is not an opportunity id: write O followed by digits (O1234567890)",
            Severity.ERROR,
        ),
        "not_nullable": (
            lambda v: "every row needs an Identifier (O followed by digits)",
            Severity.ERROR,
        ),
    }
    return Spec(name, col, checks, messages, nullable=False)


def _last_modified_spec(name: str, col: Column) -> Spec:
    check = pa.Check(lambda s: test_per_unique(s, _is_timestamp), name="bad-timestamp")

    def message(v: str) -> str:
        return (
            f"'{v}' is not a UTC timestamp: write it as an export does "
            "(2026-05-01T20:37:46.123Z), and format the column as Text"
        )

    return Spec(name, col, [check], {"bad-timestamp": (message, Severity.ERROR)})


def _catalog_spec(name: str, col: Column, run_catalog: str | None) -> Spec:
    choices = _catalog.CATALOGS
    checks = [pa.Check(lambda s: s.isin(choices), name="not-allowed")]
    messages: dict[str, tuple[Message, Severity]] = {
        "not-allowed": (
            lambda v: f"'{v}' is not a catalog: use {' or '.join(choices)}",
            Severity.ERROR,
        )
    }
    if run_catalog is not None:
        checks.append(pa.Check(lambda s: s == run_catalog, name="wrong-catalog"))
        messages["wrong-catalog"] = (
            lambda v: (
                f"this row comes from the {v} catalog but the run is for {run_catalog}: "
                "run with that catalog, or use a sheet exported from it"
            ),
            Severity.ERROR,
        )
    return Spec(name, col, checks, messages)


def column_specs(
    layout: Layout, run_catalog: str | None, duplicates: dict[str, list[int]] | None = None
) -> list[Spec]:
    """The checked columns: fields the tool writes, Identifier, LastModifiedDate, Catalog."""
    specs: list[Spec] = []
    for col in layout.columns:
        name = f"c{col.position}"
        if col.role in ("field", "call") and col.field is not None and not col.field.read_only:
            specs.append(_field_spec(name, col, col.field))
        elif col.role == "identifier":
            specs.append(_identifier_spec(name, col, duplicates))
        elif col.role == "last-modified":
            specs.append(_last_modified_spec(name, col))
        elif col.role == "catalog":
            specs.append(_catalog_spec(name, col, run_catalog))
    return specs


def _is_timestamp(text: str) -> bool:
    try:
        parse_timestamp(text)
    except ValueError:
        return False
    return True
