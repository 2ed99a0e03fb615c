"""The full template and a results workbook open in real spreadsheet software (LibreOffice).

Skipped when ``soffice`` is not installed (Debian: ``libreoffice-calc-nogui``).
The wider check, every template and the README picture, is
``python benchmarks/open_in_libreoffice.py --screenshot docs/template-screenshot.png``;
this test uses its functions.
"""

from __future__ import annotations

import importlib.util
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
