"""The shipped samples: the mistakes sheet's results workbook is what ``validate`` writes today.

If this fails after a change to the checks, rebuild it with
``python samples/make_samples.py --results`` and look at the difference.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl

from bulk_update.run.validate import validate_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
MISTAKES = SAMPLES / "typical-mistakes.csv"
RESULTS = SAMPLES / "typical-mistakes.results.xlsx"
HINT = "run: python samples/make_samples.py --results"


def _rows(path: Path, sheet: str) -> list[tuple[object, ...]]:
    """A sheet's rows, with dates in messages masked (a message may name today)."""
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    return [
        tuple(re.sub(r"\d{4}-\d{2}-\d{2}", "YYYY-MM-DD", v) if isinstance(v, str) else v for v in r)
        for r in ws.iter_rows(values_only=True)
    ]


def test_mistakes_results_workbook_is_up_to_date(tmp_path: Path) -> None:
    assert RESULTS.exists(), HINT
    fresh = validate_file(MISTAKES, out=tmp_path / "fresh.xlsx").results_path
    for sheet in ("Results", "Errors"):
        assert _rows(RESULTS, sheet) == _rows(fresh, sheet), f"{sheet} differs: {HINT}"
    book = openpyxl.load_workbook(RESULTS, read_only=True)
    assert book.sheetnames == ["Results", "Errors", "Summary"]


def test_mistakes_sheet_shows_each_kind_of_mistake() -> None:
    """The README walks through these rows: each one must still end as it says."""
    outcomes = [(r[1], r[2]) for r in _rows(RESULTS, "Results")[1:]]
    assert [o for _, o in outcomes].count("invalid") == 6
    assert outcomes[3] == ("O1000004", "valid")  # #CLEAR on WebsiteUrl: only apply can tell
    codes = {r[6] for r in _rows(RESULTS, "Errors")[1:]}
    assert {
        "not-allowed",
        "date-format",
        "target-close-date-past",
        "invalid-identifier",
        "duplicate-identifier",
        "normalised",
    } <= codes
