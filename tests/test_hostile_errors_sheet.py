"""The Errors sheet of a hostile sheet, pinned line by line (issue 14: the same lines
after the speed work as before it), and the Results cells kept exactly as typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook

from bulk_update.run.validate import validate_file

HEADERS = [
    "Identifier",
    "LifeCycle.Stage",
    "LifeCycle.TargetCloseDate",
    "Customer.Account.Address.PostalCode",
    "Customer.Contacts[1].Email",
    "Project.Title",
    "LifeCycle.NextSteps",
]
ROWS: list[list[object]] = [
    ["O1001", "Qualified", "2027-01-31", "02139", "ana@example.com", "Fine", "=1+1"],
    ["o1001", "prospect ", "2027-02-30", "", "not an email", "  spaced  ", "+123 & <b>"],
    ["O1003", "Prospekt", "03/04/2027", 2139, "", "Title\x01bell", "@foo"],
    ["O1004", "Closed Lost", "", "", "", "&amp; <x/>", "_x0041_ stays"],
    ["", "Qualified", dt.datetime(2027, 5, 6), "", "", "no id", ""],
    ["X12", "#clear", "", "", "", "", "line\nbreak"],
    ["O1007", "Qualified", "", "", "", "=NA()", ""],
]


def _hostile(path: Path) -> Path:
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False}
    )
    ws = book.add_worksheet("Opportunities")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h)
    for r, row in enumerate(ROWS, start=1):
        for c, v in enumerate(row):
            if isinstance(v, dt.datetime):
                ws.write_datetime(r, c, v, date)
            elif isinstance(v, int):
                ws.write_number(r, c, v)
            elif v == "=NA()":
                ws.write_formula(r, c, "=NA()", None, "#N/A")
            elif v:
                ws.write_string(r, c, str(v))
    book.close()
    return path


def _sheets(path: Path) -> dict[str, list[list[object]]]:
    with CalamineWorkbook.from_path(str(path)) as wb:
        return {n: wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names}


# Written from what main at a78c572 (before issue 14's writer) gives, and unchanged since.
EXPECTED_ERRORS: list[list[object]] = [
    [
        2.0,
        "O1001",
        "Identifier",
        "O1001",
        "O1001 appears on rows 2 and 3: give each opportunity one row only",
        "error",
        "duplicate-identifier",
    ],
    [
        3.0,
        "o1001",
        "Identifier",
        "o1001",
        "o1001 appears on rows 2 and 3: give each opportunity one row only",
        "error",
        "duplicate-identifier",
    ],
    [
        3.0,
        "o1001",
        "LifeCycle.Stage",
        "prospect ",
        "LifeCycle.Stage: 'prospect' written as 'Prospect'",
        "warning",
        "normalised",
    ],
    [
        3.0,
        "o1001",
        "LifeCycle.TargetCloseDate",
        "2027-02-30",
        "2027-02-30 is not a date in the calendar",
        "error",
        "invalid-date",
    ],
    [
        3.0,
        "o1001",
        "Customer.Contacts[1].Email",
        "not an email",
        "this value is not an email address the API accepts: lower-case letters, one @ and a domain (name@example.com)",
        "error",
        "pattern",
    ],
    [
        4.0,
        "O1003",
        "LifeCycle.Stage",
        "Prospekt",
        "'Prospekt' is not a stage. Did you mean 'Prospect'?",
        "error",
        "not-allowed",
    ],
    [
        4.0,
        "O1003",
        "LifeCycle.TargetCloseDate",
        "03/04/2027",
        "cannot read '03/04/2027' as a date: write dates as YYYY-MM-DD (2026-12-31) or use a date cell",
        "error",
        "date-format",
    ],
    [
        4.0,
        "O1003",
        "Customer.Account.Address.PostalCode",
        "2139",
        "stored as a number: if it had leading zeros they were lost; format the column as Text",
        "warning",
        "stored-as-number",
    ],
    [
        4.0,
        "O1003",
        "Project.Title",
        "Title\x01bell",
        "cell F4 holds the control character U+0001, which no field accepts (often left by a copy from another program): retype the cell's text",
        "error",
        "control-character",
    ],
    [
        6.0,
        "",
        "Identifier",
        "",
        "every row needs an Identifier (O followed by digits)",
        "error",
        "missing-identifier",
    ],
    [
        7.0,
        "X12",
        "Identifier",
        "X12",
        "'X12' is not an opportunity id: write O followed by digits (O1234567890)",
        "error",
        "invalid-identifier",
    ],
    [
        8.0,
        "O1007",
        "Project.Title",
        "#N/A",
        "cell F8 holds the Excel error #N/A, not a value: fix the formula it comes from, or type the value (leave the cell empty to keep the field as it is)",
        "error",
        "error-cell",
    ],
]


def test_the_errors_sheet_of_a_hostile_sheet_line_by_line(tmp_path: Path) -> None:
    out = tmp_path / "results.xlsx"
    validate_file(_hostile(tmp_path / "hostile.xlsx"), out=out, today=dt.date(2026, 12, 1))
    errors = _sheets(out)["Errors"]
    assert errors[0] == ["Row", "Identifier", "Column", "Value", "Problem", "Severity", "Code"]
    assert errors[1:] == EXPECTED_ERRORS


def test_the_results_keep_each_hostile_cell_as_typed(tmp_path: Path) -> None:
    out = tmp_path / "results.xlsx"
    validate_file(_hostile(tmp_path / "hostile.xlsx"), out=out, today=dt.date(2026, 12, 1))
    results = _sheets(out)["Results"]
    assert results[0][5:] == HEADERS
    by_row = {int(r[0]): r for r in results[1:]}
    assert by_row[5][5:11] == ["O1004", "Closed Lost", "", "", "", "&amp; <x/>"]
    assert by_row[4][10] == "Title\x01bell"
    assert by_row[3][11] == "+123 & <b>" and by_row[7][11] == "line\nbreak"
    assert by_row[2][11] == "=1+1" and by_row[5][11] == "_x0041_ stays"
    assert by_row[3][10] == "  spaced  "


def test_a_text_shaped_like_rich_text_xml_comes_back_as_typed(tmp_path: Path) -> None:
    # xlsxwriter writes a text that starts with <r> and ends with </r> as raw XML: such a
    # cell used to come back empty or broken from the results (issue 14's writer fixed it).
    src = tmp_path / "rich.csv"
    src.write_text(
        "Identifier,LifeCycle.Stage,Project.Title\nO1,<r>Prospect</r>,<r>x</r>\n", encoding="utf-8"
    )
    out = tmp_path / "rich.results.xlsx"
    validate_file(src, out=out, today=dt.date(2026, 12, 1))
    sheets = _sheets(out)
    assert sheets["Results"][1][5:] == ["O1", "<r>Prospect</r>", "<r>x</r>"]
    assert [e[2:4] for e in sheets["Errors"][1:]] == [["LifeCycle.Stage", "<r>Prospect</r>"]]


def test_a_rich_text_shaped_value_survives_the_retry_workbook(tmp_path: Path) -> None:
    """The retry workbook holds the user's own cells: xlsxwriter's per-cell write lost a
    ``<r>...</r>`` text there (raw XML in constant-memory mode); whole rows keep it."""
    from bulk_update.results import write_retry

    out = write_retry(
        tmp_path / "retry.xlsx",
        ["Identifier", "Project.Title", "LifeCycle.NextSteps"],
        [["O1", "<r>x</r>", "plain"], ["O2", "", "<r><t>inject</t></r>"]],
        csv=False,
    )
    rows = _sheets(out)["Retry"]
    assert rows[1] == ["O1", "<r>x</r>", "plain"]
    assert rows[2][0] == "O2" and rows[2][2] == "<r><t>inject</t></r>"


def test_a_rich_text_shaped_value_survives_the_export(fresh_emulator: Any, tmp_path: Path) -> None:
    """A record whose title looks like rich-text XML exports as that text, in the data
    sheet and in its baseline, so the round trip sends nothing for it."""
    from apply_helpers import make_pc, pick

    from bulk_update.export.job import export_opportunities

    emu = fresh_emulator()
    target = pick(emu, "Pending Submission")
    emu.seller_edit("Sandbox", target, {"Project.Title": "<r>Prospect</r>"})
    out = tmp_path / "pipeline.xlsx"
    export_opportunities(make_pc(emu.url), out)
    sheets = _sheets(out)
    for name in ("Opportunities", "_baseline"):
        head, *body = sheets[name]
        row = next(r for r in body if r[0] == target)
        assert row[head.index("Project.Title")] == "<r>Prospect</r>", name
