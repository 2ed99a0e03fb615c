"""A field's model pattern and length as an Excel data-validation formula.

    cell_check(field, clearable=...) -> CellCheck | None

The templates and the export colour or refuse a text cell with the formula
this gives, so the sheet checks what ``validate`` checks (see
:mod:`bulk_update.sheet.rules` for the cross-field rules).
"""

from __future__ import annotations

import re._parser as _sre  # the regex parser: model patterns become Excel formulas
from dataclasses import dataclass
from typing import Any

from bulk_update import fields as _catalog
from bulk_update.payload import CLEAR_TEXT

# Excel has no regular expressions, and a data-validation formula is at most 255
# characters with no array constants. So a model pattern is translated where its
# shape allows: literal characters and runs of digits give an exact formula; any
# other pattern gives the conditions every accepted value meets (its length, its
# fixed start, characters it must hold, the only characters it may hold), so the
# sheet never refuses a value the API takes, and ``validate`` checks the rest.

_DIGITS = frozenset("0123456789")
_DIGIT_RUN = 15
"""Digits checked per TEXT/VALUE round (Excel numbers hold 15 digits exactly)."""
_MAX_EXTRA_CHARS = 3
"""A pattern whose characters are digits and at most this many others gets a character check."""


@dataclass(frozen=True)
class CellCheck:
    """A data-validation formula for one cell (TRUE: Excel accepts the value)."""

    formula: str
    """Without the leading ``=``; ``{cell}`` stands for the cell (``A2``)."""
    exact: bool
    """True when the formula accepts exactly what the model's pattern accepts."""
    statement: str
    """What Excel checks, in one line (the Guide shows it for approximations)."""

    def at(self, cell: str) -> str:
        return self.formula.replace("{cell}", cell)


def x_digits(text: str) -> str:
    """Excel: ``text`` is digits only (and not empty). 0 for false: LibreOffice saves FALSE so."""
    return f'IFERROR(TEXT(VALUE({text}),REPT("0",LEN({text})))={text},0)'


def _digit_class(node: Any) -> tuple[str, str] | None:
    """(lowest, highest) digit of a character class of digits, else None."""
    op, av = node
    if op != _sre.IN or len(av) != 1:
        return None
    kind, value = av[0]
    if kind == _sre.CATEGORY and value == _sre.CATEGORY_DIGIT:
        return "0", "9"
    if kind == _sre.RANGE and chr(value[0]) in _DIGITS and chr(value[1]) in _DIGITS:
        return chr(value[0]), chr(value[1])
    return None


def _segments(tree: Any) -> list[tuple[str, str, str, int, int]] | None:
    """A flat pattern as (kind, literal or low, high, min, max); None when it is not flat."""
    out: list[tuple[str, str, str, int, int]] = []
    for op, av in tree:
        if op == _sre.LITERAL:
            out.append(("lit", chr(av), "", 1, 1))
            continue
        node, lo, hi = (op, av), 1, 1
        if op == _sre.MAX_REPEAT and len(av[2]) == 1:
            lo, hi, node = av[0], av[1], list(av[2])[0]
        digits = _digit_class(node)
        if digits is None or hi == _sre.MAXREPEAT or (digits != ("0", "9") and hi != 1):
            return None
        out.append(("dig", digits[0], digits[1], lo, hi))
    variable = [n for n, s in enumerate(out) if s[3] != s[4]]
    if variable and variable != [len(out) - 1]:
        return None  # a variable run must come last, so every other part has a place
    return out


def _exact(tree: Any) -> str | None:
    segments = _segments(tree)
    if segments is None:
        return None
    lo = sum(s[3] for s in segments)
    hi = sum(s[4] for s in segments)
    parts = [f"LEN({{cell}})={lo}" if lo == hi else f"LEN({{cell}})>={lo},LEN({{cell}})<={hi}"]
    pos = 1
    run_start, run_min, run_max = 0, 0, 0  # the current run of digit segments

    def end_run() -> None:
        for start in range(0, run_max, _DIGIT_RUN):
            text = f"MID({{cell}},{run_start + start},{min(_DIGIT_RUN, run_max - start)})"
            parts.append(x_digits(text) if start < run_min else f'OR({text}="",{x_digits(text)})')

    for kind, low, high, n_min, n_max in segments:
        if kind == "lit":
            if run_max:
                end_run()
                run_max = 0
            parts.append(f'EXACT(MID({{cell}},{pos},1),"{low}")')
        else:
            if not run_max:
                run_start, run_min = pos, 0
            run_min, run_max = run_min + n_min, run_max + n_max
            first = f"MID({{cell}},{pos},1)"
            if low != "0":
                parts.append(f'{first}>="{low}"')
            if high != "9":
                parts.append(f'{first}<="{high}"')
        pos += n_min
    if run_max:
        end_run()
    return "AND(" + ",".join(parts) + ")"


def _chars(tree: Any) -> set[str] | None:
    """Every character a match can hold, or None when a class is too wide to list."""
    out: set[str] = set()
    for op, av in tree:
        if op == _sre.LITERAL:
            out.add(chr(av))
        elif op == _sre.IN:
            d = _digit_class((op, av))
            if d is None:
                return None
            out |= {chr(c) for c in range(ord(d[0]), ord(d[1]) + 1)}
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.SUBPATTERN, _sre.BRANCH):
            subs = av[1] if op == _sre.BRANCH else [av[-1]]
            for sub in subs:
                found = _chars(sub)
                if found is None:
                    return None
                out |= found
        elif op not in (_sre.AT, _sre.ASSERT):
            return None
    return out


def _count(tree: Any, char: str) -> float:
    """The most times ``char`` can occur in a match (inf: unbounded)."""
    total = 0.0
    for op, av in tree:
        if op == _sre.LITERAL:
            total += chr(av) == char
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            inner = _count(av[2], char)
            total += inner * (float("inf") if av[1] == _sre.MAXREPEAT else av[1]) if inner else 0
        elif op == _sre.SUBPATTERN:
            total += _count(av[-1], char)
        elif op == _sre.BRANCH:
            total += max(_count(b, char) for b in av[1])
        elif op == _sre.IN:
            total += float("inf") if _chars([(op, av)]) is None else 0
    return total


def _must_hold(tree: Any) -> set[str]:
    """Literal characters every match holds."""
    out: set[str] = set()
    for op, av in tree:
        if op == _sre.LITERAL:
            out.add(chr(av))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
            out |= _must_hold(av[2])
        elif op == _sre.SUBPATTERN:
            out |= _must_hold(av[-1])
        elif op == _sre.BRANCH:
            out |= set.intersection(*(_must_hold(b) for b in av[1]))
    return out


def _prefix(tree: Any) -> str:
    text = ""
    for op, av in tree:
        if op == _sre.ASSERT and not text:
            continue
        if op != _sre.LITERAL:
            break
        text += chr(av)
    return text


def _lookahead_max(tree: Any) -> int | None:
    """``(?=.{0,80}$)`` at the start: at most 80 characters."""
    for op, av in tree:
        if op != _sre.ASSERT:
            break
        body = list(av[1])
        if len(body) == 2 and body[0][0] == _sre.MAX_REPEAT and body[1][0] == _sre.AT:
            return int(body[0][1][1])
    return None


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


FORMULA_LIMIT = 255
"""Excel refuses a data-validation formula longer than this."""


def _approximate(
    tree: Any, lo: int, hi: int | None
) -> tuple[list[tuple[list[str], str]], int, int | None]:
    """Conditions every match meets: ([(formulas, what they say)], min length, max length)."""
    groups: list[tuple[list[str], str]] = []
    width_lo, width_hi = tree.getwidth()
    lo = max(lo, width_lo)
    limits = [h for h in (hi, _lookahead_max(tree), width_hi) if h and h < _sre.MAXREPEAT]
    hi = min(limits) if limits else None
    prefix = _prefix(tree)
    if prefix:
        groups.append(
            ([f"EXACT(LEFT({{cell}},{len(prefix)}),{_quoted(prefix)})"], f"it starts with {prefix}")
        )
    marks = sorted(c for c in _must_hold(tree) - set(prefix) if not c.isalnum())
    if marks:
        finds = [f"ISNUMBER(FIND({_quoted(char)},{{cell}}))" for char in marks]
        groups.append((finds, "it holds " + " and ".join(marks)))
    chars = _chars(tree)
    extra = sorted((chars or set()) - _DIGITS)
    if chars is not None and chars & _DIGITS and len(extra) <= _MAX_EXTRA_CHARS:
        parts, bare = [], "{cell}"
        for char in extra:
            bare = f'SUBSTITUTE({bare},{_quoted(char)},"")'
            most = _count(tree, char)
            if most != float("inf"):
                parts.append(
                    f'LEN({{cell}})-LEN(SUBSTITUTE({{cell}},{_quoted(char)},""))<={int(most)}'
                )
        parts.append(f'OR({bare}="",{x_digits(bare)})' if extra else x_digits(bare))
        groups.append((parts, "it has only digits" + (f" and {' '.join(extra)}" if extra else "")))
    return groups, lo, hi


def _length(lo: int, hi: int | None) -> tuple[list[str], str]:
    parts = ([f"LEN({{cell}})>={lo}"] if lo > 1 else []) + ([f"LEN({{cell}})<={hi}"] if hi else [])
    if lo > 1 and hi:
        return parts, f"it has {lo:,} to {hi:,} characters"
    return parts, (
        f"it has at most {hi:,} characters" if hi else f"it has at least {lo:,} characters"
    )


def _formula(parts: list[str], clearable: bool) -> str:
    body = parts[0] if len(parts) == 1 else "AND(" + ",".join(parts) + ")"
    return f'OR({{cell}}="{CLEAR_TEXT}",{body})' if clearable else body


def _fits(formula: str) -> bool:
    return len(CellCheck(formula, False, "").at("ZZZ2")) + 1 <= FORMULA_LIMIT


def cell_check(f: _catalog.Field, *, clearable: bool) -> CellCheck | None:
    """The formula Excel checks a text cell of this field with: its pattern, its length.

    None for a field without a pattern whose only limit is a maximum length (the
    template's plain length check does that) and for fields with a dropdown.
    """
    if f.kind not in ("text", "timestamp") or f.allowed:
        return None
    lo, hi = f.min_length or 0, f.max_length
    if not f.pattern:
        if lo <= 1:
            return None
        length, length_said = _length(lo, hi)
        return CellCheck(_formula(length, clearable), False, f"Excel checks that {length_said}")
    tree = _sre.parse(f.pattern)
    exact = _exact(tree)
    if exact is not None:
        extra, _ = _length(lo, hi)
        formula = _formula([exact, *extra], clearable)
        if _fits(formula):
            return CellCheck(formula, True, f"Excel checks the model's pattern {f.pattern} exactly")
    groups, lo, hi = _approximate(tree, lo, hi)
    length, length_said = _length(lo, hi)
    parts = lambda: [p for g in groups for p in g[0]]  # noqa: E731
    while groups and not _fits(_formula([*parts(), *length], clearable)):
        groups = groups[:-1]  # the character check is the longest: it goes first
    said = [g[1] for g in groups]
    if not groups and not length:
        return None
    statement = "Excel checks only that " + ", ".join([*said, length_said] if length else said)
    return CellCheck(
        _formula([*parts(), *length], clearable),
        False,
        f"{statement}; validate checks the rest of {f.pattern}",
    )
