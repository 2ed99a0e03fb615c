"""An export carries the template's rules for its columns (issue 15).

Exported from the emulator over a real boto3 client, read back with openpyxl:
each pattern field has the template's formula (warning style, as everything in
an export), each cross-field rule its colours, and a mistake typed into the
export is flagged by them and named by ``validate``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
from apply_helpers import make_pc
from excel_formula import Formula
from openpyxl.utils import get_column_letter
from test_template_rules import _formats, _validation_for

from bulk_update import fields as cat
from bulk_update.export.job import export_opportunities
from bulk_update.run.validate import validate_file
from bulk_update.sheet import rules

CATALOG = cat.load()
TODAY = date(2026, 11, 26)


def test_export_has_the_template_rules_for_its_columns(emulator: Any, tmp_path: Path) -> None:
    out = tmp_path / "all.xlsx"
    export_opportunities(make_pc(emulator.url), out, columns="all")
    ws = openpyxl.load_workbook(out)["Opportunities"]
    headers = [str(c.value) for c in ws[1]]
    letters = {h: get_column_letter(n + 1) for n, h in enumerate(headers)}
    patterned = 0
    for header in headers:
        f = CATALOG.get(re.sub(r"\[\d+\]", "[]", header))
        if f is None or f.read_only or header in cat.AWS_OWNED:
            continue
        check = rules.cell_check(f, clearable=not f.required)
        dv = _validation_for(ws, letters[header])
        if check is None:
            assert dv is None or dv.type != "custom", header
            continue
        patterned += 1
        assert dv.type == "custom" and dv.errorStyle == "warning", header
        assert str(dv.formula1) == check.at(f"{letters[header]}2"), header
    assert patterned >= 5
    refs = {h: f"${letters[h]}2" for h in headers}
    expected: dict[str, list[str]] = {}
    for flag in rules.row_flags(refs):
        expected.setdefault(letters[flag.header], []).append(flag.condition)
    assert {k: sorted(v) for k, v in _formats(ws).items()} == {
        k: sorted(v) for k, v in expected.items()
    }
    assert len(expected) >= 5


def test_a_mistake_typed_into_an_export_is_flagged_and_named(emulator: Any, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.xlsx"
    export_opportunities(make_pc(emulator.url), out, columns="all")
    book = openpyxl.load_workbook(out)
    ws = book["Opportunities"]
    headers = [str(c.value) for c in ws[1]]
    letters = {h: get_column_letter(n + 1) for n, h in enumerate(headers)}
    typed = {
        "LifeCycle.Stage": "Closed Lost",
        "LifeCycle.ClosedLostReason": "#CLEAR",
        "Customer.Contacts[1].Phone": "14155550100",
    }
    for header, value in typed.items():
        ws[f"{letters[header]}2"] = value
    cells = {f"{letters[h]}2": c.value for h, c in zip(headers, ws[2], strict=True)}
    reason = letters["LifeCycle.ClosedLostReason"]
    assert any(Formula(f).holds(cells, today=TODAY) for f in _formats(ws)[reason])
    phone = _validation_for(ws, letters["Customer.Contacts[1].Phone"])
    assert not Formula(str(phone.formula1)).holds(cells)
    book.save(out)
    checked = validate_file(out, out=tmp_path / "results.xlsx", today=TODAY)
    named = {(p.column, p.code) for p in checked.problems if p.row == 2 and p.is_error}
    assert ("LifeCycle.ClosedLostReason", "closed-lost-reason-required") in named
    assert ("Customer.Contacts[1].Phone", "pattern") in named
