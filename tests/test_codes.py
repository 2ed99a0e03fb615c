"""Every problem code the package can emit is in the register, and the docs list it.

The scan reads the source (no import, no run): the places a code is written
as a literal in this code base are a ``Problem(...)`` code argument, a code
argument of a check's ``add(code, ...)`` or ``add(mask, code, ...)``, a pandera ``Check(name=code)``, a
tuple or dict entry beside a ``Severity``, an assignment to ``code``, and the
``(code, message)`` / ``(key, code, message)`` tuples that helpers return.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from bulk_update import codes
from bulk_update.problems import Problem, Severity

PACKAGE = Path(__file__).resolve().parent.parent / "bulk_update"
DOCS = PACKAGE.parent / "docs" / "problem-codes.md"
KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*-?$")
# Not scanned, and why: the emulator keeps the server's own codes, the CLI
# prints what the library found, and the workbook writers and the export read
# problems or rows but make no problem (checked below).
NOT_SCANNED = ("emulator", "cli")
WRITERS = ("template.py", "results.py", "export")


def _str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _name(node: ast.AST) -> str | None:
    return getattr(node, "id", None) or getattr(node, "attr", None)


def _is_message(node: ast.AST) -> bool:
    text = _str(node)
    return isinstance(node, ast.JoinedStr | ast.BinOp) or (text is not None and " " in text)


def _has_severity(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Attribute) and _name(n.value) == "Severity" for n in ast.walk(node)
    )


def _prefix(node: ast.AST) -> str | None:
    """``f"api-{code}"`` (lower-cased or not): its literal prefix."""
    if isinstance(node, ast.Call) and _name(node.func) == "lower":
        node = node.func.value  # type: ignore[attr-defined]
    if isinstance(node, ast.JoinedStr) and node.values and _str(node.values[0]):
        return _str(node.values[0])
    return None


def codes_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()

    def take(node: ast.AST) -> None:
        for n in [node.body, node.orelse] if isinstance(node, ast.IfExp) else [node]:
            text = _str(n) or _prefix(n)
            if text and KEBAB.match(text):
                found.add(text)

    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            fn = _name(n.func)
            if fn == "Problem":
                if len(n.args) > 4:
                    take(n.args[4])
                for k in n.keywords:
                    if k.arg == "code":
                        take(k.value)
            elif fn == "add":
                for a in n.args:  # add(code, ...) and add(mask, code, message)
                    take(a)
            elif fn == "Check":
                for k in n.keywords:
                    if k.arg == "name":
                        take(k.value)
        elif isinstance(n, ast.Tuple):
            if _has_severity(n):
                for e in n.elts:
                    take(e)
            if len(n.elts) == 2 and _is_message(n.elts[1]):
                take(n.elts[0])
            if len(n.elts) == 3 and _is_message(n.elts[2]):
                take(n.elts[1])
        elif isinstance(n, ast.Dict):
            for key, value in zip(n.keys, n.values, strict=True):
                if key is not None and _has_severity(value):
                    take(key)
        elif isinstance(n, ast.Assign) and any(_name(t) == "code" for t in n.targets):
            take(n.value)
    return found


def _emitting_modules() -> list[Path]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in NOT_SCANNED + WRITERS or rel.name == "codes.py":
            continue
        out.append(path)
    return out


def emitted() -> dict[str, set[str]]:
    where: dict[str, set[str]] = {}
    for path in _emitting_modules():
        for code in codes_in(ast.parse(path.read_text("utf-8"))):
            where.setdefault(code, set()).add(str(path.relative_to(PACKAGE)))
    return where


def test_the_scan_finds_the_codes_of_each_kind_of_place() -> None:
    source = """
Problem(1, "O1", "c", None, "lit-code", "m")
add("added-code", check, msg)
pa.Check(f, name="check-code")
found.append((i, spec, "sev-code", note, Severity.WARNING))
messages = {"dict-code": ("a message", Severity.ERROR)}
code = "assigned-code" if x else "other-code"
return ("pair-code", f"the {v} is wrong")
yield key, "triple-code", "a message with spaces"
Problem(1, "O1", "c", None, f"fam-{code}".lower(), "m")
"""
    assert codes_in(ast.parse(source)) == {
        "lit-code", "added-code", "check-code", "sev-code", "dict-code", "assigned-code",
        "other-code", "pair-code", "triple-code", "fam-",
    }  # fmt: skip


def test_the_scan_finds_the_codes_the_checks_are_known_to_emit() -> None:
    where = emitted()
    for code in ("not-allowed", "pattern", "leading-zeros-lost", "target-close-date-past",
                 "locked", "not-kept", "changed-since-run", "api-"):  # fmt: skip
        assert code in where, code


def test_every_emitted_code_is_registered() -> None:
    missing = {c: sorted(w) for c, w in emitted().items() if codes.lookup(c) is None}
    assert missing == {}, f"register these in bulk_update/codes.py: {missing}"


def test_every_registered_code_is_still_emitted() -> None:
    stale = set(codes.REGISTER) - set(emitted())
    assert stale == set(), f"no longer emitted; remove from bulk_update/codes.py: {stale}"


def test_the_workbook_writers_make_no_problem() -> None:
    paths: list[Path] = []
    for w in WRITERS:
        target = PACKAGE / w
        paths += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    assert len(paths) > len(WRITERS)
    for path in paths:
        tree = ast.parse(path.read_text("utf-8"))
        calls = [
            n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) == "Problem"
        ]
        assert calls == [], f"{path} makes problems: scan it for codes"


def test_a_service_code_falls_in_the_api_family() -> None:
    found = codes.lookup("api-invalid_value")
    assert found is not None and found.code == "api-"
    assert codes.lookup("no-such-code") is None


@pytest.mark.parametrize("entry", list(codes.REGISTER.values()), ids=lambda c: c.code)
def test_each_entry_is_kebab_case_with_a_meaning(entry: codes.Code) -> None:
    assert KEBAB.match(entry.code)
    assert entry.meaning and entry.severity in (Severity.ERROR, Severity.WARNING)


def test_a_problem_made_by_a_check_carries_its_registered_severity() -> None:
    from bulk_update import fields
    from bulk_update.sheet import checks, columns
    from bulk_update.sheet.read import read_sheet

    path = PACKAGE.parent / "samples" / "typical-mistakes.csv"
    sheet = read_sheet(path, None)
    layout = columns.resolve(sheet.headers, fields.load())
    report = checks.check_sheet(
        sheet, layout, fields.load(), run_catalog=None, today=date(2026, 12, 1)
    )
    problems: list[Problem] = list(report.problems)
    assert problems
    for p in problems:
        entry = codes.lookup(p.code)
        assert entry is not None, p.code
        assert p.severity is entry.severity, p.code


def test_the_docs_page_is_the_register() -> None:
    assert DOCS.read_text("utf-8") == codes.markdown(), (
        "regenerate it: python -m bulk_update.codes > docs/problem-codes.md"
    )
