"""The full template and a results workbook open in real spreadsheet software (LibreOffice).

Skipped when ``soffice`` is not installed (Debian: ``libreoffice-calc-nogui``).
The wider check, every template and the README picture, is
``python benchmarks/open_in_libreoffice.py --screenshot docs/template-screenshot.png``;
this test uses its functions.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from bulk_update import template as tpl

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "open_in_libreoffice.py"

pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("open_in_libreoffice", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lo() -> ModuleType:
    return _script()


def test_template_and_results_convert_to_pdf(lo: ModuleType, tmp_path: Path) -> None:
    assert SOFFICE is not None
    books = [
        tpl.write_template(tmp_path / "template.xlsx"),
        lo.sample_results(tmp_path / "results.xlsx"),
    ]
    for book in books:
        pdf, said = lo.convert(SOFFICE, book, "pdf", tmp_path / "pdf")
        assert pdf.read_bytes().startswith(b"%PDF"), book.name
        assert said == "", said
        text = lo.pdf_text(pdf)
        if text:  # pdftotext present
            assert ("Identifier" if book.stem == "template" else "Outcome") in text


def test_validations_survive_a_libreoffice_save(lo: ModuleType, tmp_path: Path) -> None:
    assert SOFFICE is not None
    template = tpl.write_template(tmp_path / "template.xlsx")
    kept, notes = lo.round_trip(SOFFICE, template, tmp_path / "resaved")
    assert kept, "\n".join(notes)
    after = lo.read_template(tmp_path / "resaved" / "template.xlsx")
    before = lo.read_template(template)
    assert len(after["validations"]) == len(before["validations"])
    # issue 15: the pattern formulas and the rule colours come back unchanged
    assert after["rule formats"] == before["rule formats"] != {}
    customs = {k: v for k, v in before["validations"].items() if v[0] == "custom"}
    assert len(customs) > 1 and all(after["validations"][k] == v for k, v in customs.items())


def test_libreoffice_computes_the_formulas_as_the_tests_do(tmp_path: Path) -> None:
    """Each cell formula and rule colour, as a cell formula LibreOffice recalculates, on many values.

    The other tests run the formulas in ``excel_formula``; this pins that evaluator to
    real spreadsheet software.
    """
    assert SOFFICE is not None
    import csv
    import subprocess
    from datetime import date

    import openpyxl
    from excel_formula import Formula, serial
    from test_template_rules import CHECKED, _good, _mutations

    from bulk_update.sheet import rules

    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    expected: list[tuple[str, str, bool]] = []

    def add(cells: dict[str, object], condition: str, label: str) -> None:
        r = len(expected) + 1
        for letter, value in cells.items():
            cell = ws[f"{letter}{r}"]
            cell.value = value
            cell.number_format = "@" if isinstance(value, str) else "General"
        ws[f"Z{r}"] = "=" + re.sub(r"(\$?[A-Y])2\b", rf"\g<1>{r}", condition)
        expected.append(
            (label, condition, Formula(condition).holds(cells_at_2(cells), today=today))
        )

    def cells_at_2(cells: dict[str, object]) -> dict[str, object]:
        return {f"{k}2": v for k, v in cells.items()}

    today = date.today()
    for f in CHECKED:
        check = rules.cell_check(f, clearable=not f.required)
        assert check is not None
        for value in [_good(f), *_mutations(_good(f))[:25]]:
            if value:
                add({"A": value}, check.at("A2"), f"{f.key} {value!r}")
    headers = ["LifeCycle.Stage", "LifeCycle.ClosedLostReason", "LifeCycle.TargetCloseDate"]
    refs = {h: f"${chr(65 + n)}2" for n, h in enumerate(headers)}
    for flag in rules.row_flags(refs):
        for stage in ("Closed Lost", "closed lost", "Qualified", ""):
            for reason in ("", "#CLEAR", "Price"):
                for day in (serial(today) - 1, serial(today), serial(today) + 1):
                    add({"A": stage, "B": reason, "C": float(day)}, flag.condition, flag.code)
    path = tmp_path / "formulas.xlsx"
    book.save(path)
    subprocess.run(
        [SOFFICE, "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    computed = list(csv.reader((tmp_path / "formulas.csv").open(encoding="utf-8")))
    assert len(computed) == len(expected)
    differ = [
        (label, mine, row[-1])
        for (label, _, mine), row in zip(expected, computed, strict=True)
        if row[-1].upper() not in (("TRUE", "1") if mine else ("FALSE", "0"))
    ]
    assert differ == [], differ[:5]
    assert {m for _, _, m in expected} == {True, False}
