"""A tiny evaluator of the Excel formulas the templates carry (the subset they use).

Enough to run a data-validation formula or a conditional-format condition read
back from a workbook on the values of one row: cell references, strings,
numbers, ``= <> < > <= >= & + -`` and unary minus, and the functions AND, OR, NOT,
LEN, LEFT, MID, EXACT, FIND, SUBSTITUTE, REPT, TEXT (zero-digit formats),
VALUE, ISNUMBER, IFERROR, TODAY. Anything else raises, so a template that
starts using another function fails its tests until this learns it.
Comparisons of texts ignore case, as Excel's do; a number sorts before any text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"]|"")*")|(?P<num>\d+(?:\.\d+)?)|(?P<ref>\$?[A-Z]{1,3}\$?\d+)(?![A-Z(])'
    r"|(?P<fn>[A-Z]+)\(|(?P<bool>TRUE|FALSE)(?![A-Z(])|(?P<op><>|<=|>=|[=<>&,()+-]))"
)
EPOCH = date(1899, 12, 30)


class ExcelError(Exception):
    """#VALUE! and friends."""


def serial(day: date) -> int:
    """The number Excel stores for a date."""
    return (day - EPOCH).days


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.lstrip("=")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _number(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return _value(v)


def _value(v: Any) -> float:
    """VALUE(): as lenient as Excel (spaces, thousands commas, %, a leading $, exponents)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    s = _text(v).strip()
    percent = s.endswith("%")
    s = s.rstrip("%").lstrip("$").replace(",", "")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", s, re.IGNORECASE):
        raise ExcelError("#VALUE!")
    number = float(s) / (100 if percent else 1)
    if abs(number) > 9.99999999999999e307:
        raise ExcelError("#VALUE!")
    return float(f"{number:.15g}")  # Excel keeps 15 significant digits


def _compare(a: Any, b: Any) -> int:
    a = "" if a is None and isinstance(b, str) else 0.0 if a is None else a
    b = "" if b is None and isinstance(a, str) else 0.0 if b is None else b
    if isinstance(a, str) and isinstance(b, str):
        x, y = a.casefold(), b.casefold()
        return (x > y) - (x < y)
    if isinstance(a, str) != isinstance(b, str):
        return 1 if isinstance(a, str) else -1
    x, y = float(a), float(b)
    return (x > y) - (x < y)


def _text_fn(v: Any, fmt: Any) -> str:
    pattern = _text(fmt)
    if not re.fullmatch(r"0+", pattern):
        raise NotImplementedError(f"TEXT format {pattern!r}")
    n = int(Decimal(str(_number(v))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return ("-" if n < 0 else "") + str(abs(n)).zfill(len(pattern))


def _find(needle: Any, hay: Any) -> int:
    at = _text(hay).find(_text(needle))
    if at < 0:
        raise ExcelError("#VALUE!")
    return at + 1


def _mid(s: Any, start: Any, n: Any) -> str:
    i = int(_number(start))
    if i < 1:
        raise ExcelError("#VALUE!")
    return _text(s)[i - 1 : i - 1 + int(_number(n))]


class Formula:
    """One formula, evaluated for a row: ``cells`` maps ``A2``-style names to values."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)

    def evaluate(self, cells: Mapping[str, Any], *, today: date | None = None) -> Any:
        self.cells, self.today, self.pos = cells, today, 0
        try:
            value = self._comparison()
        except ExcelError as e:
            value = e
        if self.pos != len(self.tokens):
            raise ValueError(f"unread tail in {self.text!r}")
        return value

    def holds(self, cells: Mapping[str, Any], *, today: date | None = None) -> bool:
        """The formula's value as a data validation or a conditional format reads it."""
        value = self.evaluate(cells, today=today)
        return value is True or (isinstance(value, (int, float)) and value not in (0, False))

    # -- parsing and evaluating at once (arguments of IFERROR/AND/OR are all evaluated)

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        token = self.tokens[self.pos]
        if value is not None and token[1] != value:
            raise ValueError(f"expected {value!r} in {self.text!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def _comparison(self) -> Any:
        left = self._concat()
        while (t := self._peek()) and t[1] in ("=", "<>", "<", ">", "<=", ">="):
            self._take()
            right = self._concat()
            for side in (left, right):
                if isinstance(side, ExcelError):
                    raise side
            c = _compare(left, right)
            left = {"=": c == 0, "<>": c != 0, "<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[
                t[1]
            ]
        return left

    def _concat(self) -> Any:
        left = self._additive()
        while (t := self._peek()) and t[1] == "&":
            self._take()
            left = _text(left) + _text(self._additive())
        return left

    def _additive(self) -> Any:
        left = self._unary()
        while (t := self._peek()) and t[1] in ("+", "-"):
            self._take()
            right = _number(self._unary())
            left = _number(left) + right if t[1] == "+" else _number(left) - right
        return left

    def _unary(self) -> Any:
        if (t := self._peek()) and t[1] == "-":
            self._take()
            return -_number(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, value = self._take()
        if kind == "str":
            return value[1:-1].replace('""', '"')
        if kind == "num":
            return float(value)
        if kind == "bool":
            return value == "TRUE"
        if kind == "ref":
            return self.cells.get(value.replace("$", ""))
        if value == "(":
            inner = self._comparison()
            self._take(")")
            return inner
        if kind == "fn":
            return self._call(value)
        raise ValueError(f"unexpected {value!r} in {self.text!r}")

    def _arguments(self) -> list[Any]:
        args: list[Any] = []
        if (t := self._peek()) and t[1] == ")":
            self._take()
            return args
        while True:
            try:
                args.append(self._comparison())
            except ExcelError as e:
                args.append(e)
                self._skip_argument()
            kind, value = self._take()
            if value == ")":
                return args
            if value != ",":
                raise ValueError(f"expected , or ) in {self.text!r}")

    def _skip_argument(self) -> None:
        depth = 0
        while (t := self._peek()) is not None:
            if t[1] in (",", ")") and depth == 0:
                return
            if t[0] == "fn" or t[1] == "(":
                depth += 1
            elif t[1] == ")":
                depth -= 1
            self._take()

    def _call(self, name: str) -> Any:
        args = self._arguments()
        if name == "IFERROR":
            return args[1] if isinstance(args[0], ExcelError) else args[0]
        if name == "ISNUMBER":
            return isinstance(args[0], (int, float)) and not isinstance(args[0], bool)
        for a in args:
            if isinstance(a, ExcelError):
                raise a
        functions: dict[str, Callable[..., Any]] = {
            "AND": lambda *a: all(_truth(x) for x in a),
            "OR": lambda *a: any(_truth(x) for x in a),
            "NOT": lambda a: not _truth(a),
            "LEN": lambda a: float(len(_text(a))),
            "LEFT": lambda s, n=1: _text(s)[: int(_number(n))],
            "MID": _mid,
            "EXACT": lambda a, b: _text(a) == _text(b),
            "FIND": _find,
            "SUBSTITUTE": lambda s, old, new: _text(s).replace(_text(old), _text(new)),
            "REPT": lambda s, n: _text(s) * int(_number(n)),
            "TEXT": _text_fn,
            "VALUE": _value,
            "TODAY": lambda: float(serial(self._today())),
        }
        if name not in functions:
            raise NotImplementedError(f"Excel function {name} in {self.text!r}")
        return functions[name](*args)

    def _today(self) -> date:
        if self.today is None:
            raise ValueError("TODAY() needs a today")
        return self.today


def _truth(v: Any) -> bool:
    if isinstance(v, str):
        raise ExcelError("#VALUE!")
    return bool(v)
