"""Sheets as people make them (issue 11 points 7-8, issue 12 point 11): friendly
headers, a title above the header, an empty first sheet, a state written as its code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter

from bulk_update import fields
from bulk_update.errors import ColumnError, SheetError
from bulk_update.run.validate import load, validate_file
from bulk_update.sheet import chunks, columns
from bulk_update.sheet.read import read_sheet

CAT = fields.load()
TODAY = dt.date(2026, 5, 1)


def xlsx(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    book = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            ws.write_row(r, 0, row)
    book.close()
    return path


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Stage", "LifeCycle.Stage"),
        ("Opportunity ID", "Identifier"),
        ("Target close date", "LifeCycle.TargetCloseDate"),
        ("Next steps", "LifeCycle.NextSteps"),
        ("Closed lost reason", "LifeCycle.ClosedLostReason"),
        ("Postal code", "Customer.Account.Address.PostalCode"),
        ("opportunity_id", "Identifier"),
    ],
)
def test_headers_written_in_words_get_the_right_suggestion(header: str, column: str) -> None:
    assert columns.suggest(header, CAT) == column
    with pytest.raises(ColumnError) as e:
        columns.resolve(["Identifier", header] if column != "Identifier" else [header], CAT)
    assert f"did you mean '{column}'?" in str(e.value)


def test_a_title_row_above_the_header_is_named(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "t.xlsx",
        {"Data": [["Q3 pipeline updates"], ["Identifier", "LifeCycle.Stage"], ["O1", "Qualified"]]},
    )
    expected = (
        "t.xlsx, sheet 'Data': row 1 looks like a title ('Q3 pipeline updates'), not the column "
        "names; the header looks like row 2: delete row 1"
    )
    with pytest.raises(SheetError) as whole:
        read_sheet(path)
    assert str(whole.value).startswith(expected)
    with pytest.raises(SheetError) as streamed:
        chunks.open_stream(path, None, lambda h: 0)
    assert str(streamed.value) == str(whole.value)


def test_a_one_column_sheet_is_not_taken_for_a_title(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "one.xlsx", {"Data": [["Identifier"], ["O1"]]})
    assert read_sheet(path).headers == ["Identifier"]


def test_an_empty_first_sheet_names_the_sheet_with_data_and_the_option(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "e.xlsx",
        {"Instructions": [], "My data": [["Identifier", "LifeCycle.Stage"], ["O1", "Qualified"]]},
    )
    expected = (
        "e.xlsx, sheet 'Instructions' is empty; the data is on sheet 'My data': read that "
        'sheet with --sheet "My data", or move it to the front of the workbook'
    )
    with pytest.raises(SheetError) as whole:
        read_sheet(path)
    assert str(whole.value) == expected
    with pytest.raises(SheetError) as streamed:
        chunks.open_stream(path, None, lambda h: 0)
    assert str(streamed.value) == expected
    assert read_sheet(path, "My data").headers == ["Identifier", "LifeCycle.Stage"]


def test_a_two_letter_state_code_gets_no_far_fetched_guess(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "Identifier,Customer.Account.Address.StateOrRegion\nO1,WA\nO2,Calfornia\n", encoding="utf-8"
    )
    report = validate_file(path, out=tmp_path / "r.xlsx", today=TODAY)
    wa, typo = [p.message for p in report.problems if p.code == "not-documented"]
    assert "Iowa" not in wa and "Did you mean" not in wa
    assert "looks like a two-letter state code" in wa
    assert "Did you mean 'California'?" in typo


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_on_an_exported_sheet_only_changed_cells_get_warnings(tmp_path: Path, suffix: str) -> None:
    from bulk_update.sheet.baseline import sidecar_paths

    header = ["Identifier", "Customer.Account.Address.StateOrRegion", "LifeCycle.NextSteps"]
    exported = [header, ["O1", "WA", "Call"], ["O2", "Washington", "Call"], ["O3", "WA", "x"]]
    edited = [header, ["O1", "WA", "Call again"], ["O2", "WA", "Call"], ["O3", "CA", "x"]]
    if suffix == ".xlsx":
        path = xlsx(tmp_path / "export.xlsx", {"Data": edited, "_baseline": exported})
    else:
        path = tmp_path / "export.csv"
        path.write_text("\n".join(",".join(r) for r in edited) + "\n", encoding="utf-8")
        base, _info = sidecar_paths(path)
        base.write_text("\n".join(",".join(r) for r in exported) + "\n", encoding="utf-8")
    report = validate_file(path, out=tmp_path / "r.xlsx", today=TODAY)
    warned = [(p.row, p.value) for p in report.problems if p.code == "not-documented"]
    assert warned == [(3, "WA"), (4, "CA")]  # O1's WA was exported so: nobody touched it
    assert loaded_problems(path) == warned


def loaded_problems(path: Path) -> list[tuple[int | None, str | None]]:
    report = load(path, sheet=None, run_catalog=None, today=TODAY).report
    return [(p.row, p.value) for p in report.problems if p.code == "not-documented"]
