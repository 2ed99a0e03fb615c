"""What the tool writes opens ready to read and print (issue 11 point 11).

Every sheet a person reads (results, retry, export, template) prints landscape,
as wide as one page, with the header row repeated on every page; ``Row`` is a
number; an export puts the most edited columns first and its columns are wide
enough for their values.  Read back with openpyxl, as Excel would see them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from apply_helpers import make_pc
from openpyxl.worksheet.worksheet import Worksheet

from bulk_update.export.columns import FIRST_COLUMNS
from bulk_update.export.job import export_opportunities
from bulk_update.problems import Outcome, Problem
from bulk_update.results import RowResult, RunSummary, write_results, write_retry
from bulk_update.template import write_template

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _prints_ready(ws: Worksheet, *, header: bool = True, pages_high: int = 0) -> None:
    setup = ws.page_setup
    assert setup.orientation == "landscape", ws.title
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    # OOXML's default for both is 1 (xlsxwriter leaves a 1 out); 0 means "as many as needed".
    wide, high = (1 if v is None else int(v) for v in (setup.fitToWidth, setup.fitToHeight))
    assert (wide, high) == (1, pages_high), ws.title
    assert ws.print_title_rows == ("$1:$1" if header else None), ws.title


def test_every_sheet_of_the_results_prints_ready_and_row_is_a_number(tmp_path: Path) -> None:
    results = [RowResult(n, f"O{n}", Outcome.INVALID, "bad", cells=[f"O{n}"]) for n in (2, 3)]
    problems = [Problem(3, "O3", "Identifier", "O3", "required", "needs a fix")]
    summary = RunSummary("validate", None, "in.csv", NOW, NOW)
    book = openpyxl.load_workbook(
        write_results(tmp_path / "r.xlsx", results, problems, ["Identifier"], summary)
    )
    _prints_ready(book["Results"])
    _prints_ready(book["Errors"])
    _prints_ready(book["Summary"], pages_high=1)
    for name in ("Results", "Errors"):
        rows = [c for c in book[name]["A"][1:] if c.value is not None]
        assert rows and all(c.data_type == "n" and isinstance(c.value, int) for c in rows), name


def test_the_retry_workbook_prints_ready(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(
        write_retry(tmp_path / "retry.xlsx", ["Identifier"], [["O1"]], csv=False)
    )
    _prints_ready(book.active)


def test_the_template_prints_ready(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", task="close-stale"))
    _prints_ready(book["Opportunities"])
    _prints_ready(book["Guide"], header=False)


@pytest.fixture(scope="module")
def exported(emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Worksheet:
    out = tmp_path_factory.mktemp("export") / "pipeline.xlsx"
    export_opportunities(make_pc(emulator.url), out)
    return openpyxl.load_workbook(out)["Opportunities"]


def test_the_export_prints_ready(exported: Worksheet) -> None:
    _prints_ready(exported)


def test_the_export_puts_the_most_edited_columns_first(exported: Worksheet) -> None:
    headers = [c.value for c in exported[1]]
    assert headers[:6] == ["Identifier", "LastModifiedDate", *FIRST_COLUMNS]


def _widths(ws: Worksheet) -> dict[int, float]:
    """Column number -> width (openpyxl keeps a run of equal columns under its first letter)."""
    return {
        n: dim.width
        for dim in ws.column_dimensions.values()
        for n in range(dim.min or 0, (dim.max or 0) + 1)
    }


def test_the_export_columns_are_wide_enough_for_their_values(exported: Worksheet) -> None:
    widths = _widths(exported)
    for col, cells in enumerate(exported.iter_cols(), start=1):
        longest = max(len(str(c.value).split("\n")[0]) for c in cells if c.value is not None)
        width = widths[col]
        assert width >= min(longest + 1, 50), (cells[0].value, width, longest)
    stamps = [c.value for c in exported["B"][1:]]
    assert stamps and all(len(s) == 24 for s in stamps)  # 2026-05-01T20:37:46.123Z
