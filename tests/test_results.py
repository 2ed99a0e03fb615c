"""The results workbook, the retry file and the --json summary, read back as a user would."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from bulk_update.problems import Change, Outcome, Problem, Severity
from bulk_update.results import (
    CELL_LIMIT,
    ERROR_COLUMNS,
    OUTCOME_COLOURS,
    RESULT_COLUMNS,
    TRUNCATED,
    RowResult,
    RunSummary,
    fit,
    summary_dict,
    write_results,
    write_retry,
)

HEADERS = ["Identifier", "LifeCycle.Stage", "LifeCycle.NextSteps"]
TRICKY = ["=1+1", "+123", "-x", "@foo", "0123", "https://example.com", "1E5", '=HYPERLINK("x")']
START = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)


def _summary(**kw: object) -> RunSummary:
    base: dict[str, object] = {
        "command": "apply",
        "catalog": "Sandbox",
        "input_file": "in.xlsx",
        "started": START,
        "ended": START + timedelta(minutes=2, seconds=5),
        "calls": 12,
        "throttled": 2,
        "retries": 3,
        "writes": 4,
    }
    base.update(kw)
    return RunSummary(**base)  # type: ignore[arg-type]


def _results() -> list[RowResult]:
    """One row per outcome, then a row full of formula-like texts."""
    rows = [
        RowResult(
            row=n + 2,
            identifier=f"O{n + 1}",
            outcome=outcome,
            message=f"message for {outcome}",
            changes=[Change("LifeCycle.Stage", "Qualified", "Closed Lost")]
            if outcome in (Outcome.UPDATED, Outcome.WOULD_UPDATE)
            else [],
            cells=[f"O{n + 1}", "Closed Lost", ""],
        )
        for n, outcome in enumerate(Outcome)
    ]
    rows.append(RowResult(40, "O99", Outcome.INVALID, "=1+1", [Change("X", "", "-x")], TRICKY[:3]))
    return rows


@pytest.fixture
def workbook(tmp_path: Path) -> openpyxl.Workbook:
    problems = [
        Problem(3, "O2", "LifeCycle.Stage", "=1+1", "not-allowed", "Not an allowed stage."),
        Problem(None, None, None, None, "sheet", "The sheet as a whole."),
        Problem(
            2,
            "O1",
            "Customer.Account.Address.PostalCode",
            "2139",
            "leading-zeros-lost",
            "The spreadsheet dropped a leading zero.",
            Severity.WARNING,
        ),
    ]
    path = write_results(tmp_path / "results.xlsx", _results(), problems, HEADERS, _summary())
    return openpyxl.load_workbook(path)


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> list[list[object]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_sheets_in_order(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == ["Results", "Errors", "Summary"]
    assert workbook.active.title == "Results"


def test_results_sheet_columns_and_rows(workbook: openpyxl.Workbook) -> None:
    rows = _rows(workbook["Results"])
    assert rows[0] == RESULT_COLUMNS + HEADERS
    assert [r[2] for r in rows[1:]] == [str(o) for o in Outcome] + ["invalid"]
    first = rows[1]
    assert first[0] == 2 and isinstance(first[0], int)
    assert first[1] == "O1"
    assert first[4] == "LifeCycle.Stage: Qualified -> Closed Lost"
    assert first[5:] == ["O1", "Closed Lost", None]


def test_results_sheet_layout(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Results"]
    assert ws.freeze_panes == "D2"
    assert ws.auto_filter.ref == f"A1:H{len(_results()) + 1}"
    assert ws.column_dimensions["D"].width > 30
    assert ws["D2"].alignment.wrap_text or ws.column_dimensions["D"].alignment.wrap_text


def test_one_colour_per_outcome(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Results"]
    seen = {}
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        cell = row[0]
        seen[cell.value] = cell.fill.fgColor.rgb
    for outcome, colour in OUTCOME_COLOURS.items():
        assert seen[str(outcome)].upper().endswith(colour.lstrip("#").upper())
    assert len(set(OUTCOME_COLOURS.values())) >= len(Outcome) - 1  # updated/valid share green


def test_formula_like_texts_stay_text(tmp_path: Path) -> None:
    rows = [
        RowResult(n + 2, f"O{n}", Outcome.VALID, text, [Change("C", text, text)], [text])
        for n, text in enumerate(TRICKY)
    ]
    problems = [Problem(2, "O0", "C", text, "code", text) for text in TRICKY]
    path = write_results(tmp_path / "r.xlsx", rows, problems, ["C"], _summary(input_file="=evil"))
    book = openpyxl.load_workbook(path)
    results = book["Results"]
    for n, text in enumerate(TRICKY, start=2):
        for col in ("D", "F"):
            cell = results[f"{col}{n}"]
            assert cell.data_type == "s" and cell.value == text, (col, text)
        assert results[f"E{n}"].value == f"C: {text} -> {text}"
        assert results[f"E{n}"].data_type == "s"
    errors = book["Errors"]
    for n, text in enumerate(TRICKY, start=2):
        for col in ("D", "E"):
            assert errors[f"{col}{n}"].data_type == "s" and errors[f"{col}{n}"].value == text
    summary = {r[0]: r[1] for r in _rows(book["Summary"]) if r[0]}
    assert summary["Input file"] == "=evil"


def test_long_cells_are_cut_with_a_marker_and_said(tmp_path: Path) -> None:
    long = "x" * (CELL_LIMIT + 500)
    rows = [RowResult(2, "O1", Outcome.INVALID, "too long", [Change("C", "", long)], ["O1", long])]
    problems = [Problem(2, "O1", "C", long, "too-long", "Longer than allowed.")]
    path = write_results(tmp_path / "r.xlsx", rows, problems, ["Identifier", "C"], _summary())
    book = openpyxl.load_workbook(path)
    ws = book["Results"]
    cell = ws["G2"].value
    assert len(cell) == CELL_LIMIT and cell.endswith(TRUNCATED)
    assert ws["E2"].value.endswith(TRUNCATED)
    message = ws["D2"].value
    assert message.startswith("too long") and "C" in message and "32,767" in message
    assert "changes is cut" in message
    errors = book["Errors"]
    assert errors["D2"].value.endswith(TRUNCATED)
    assert "32,767" in errors["E2"].value


def test_fit_counts_excel_units() -> None:
    emoji = "\U0001f600" * (CELL_LIMIT // 2 + 10)  # two UTF-16 units each
    cut, was_cut = fit(emoji)
    assert was_cut and len(cut.encode("utf-16-le")) // 2 <= CELL_LIMIT
    assert fit("short") == ("short", False)


def test_errors_sheet(workbook: openpyxl.Workbook) -> None:
    rows = _rows(workbook["Errors"])
    assert rows[0] == ERROR_COLUMNS
    assert rows[0][:5] == ["Row", "Identifier", "Column", "Value", "Problem"]
    assert len(rows) == 4
    assert rows[1][0] is None and rows[1][4] == "The sheet as a whole."
    assert rows[2] == [
        2,
        "O1",
        "Customer.Account.Address.PostalCode",
        "2139",
        "The spreadsheet dropped a leading zero.",
        "warning",
        "leading-zeros-lost",
    ]
    assert rows[3][:5] == [3, "O2", "LifeCycle.Stage", "=1+1", "Not an allowed stage."]
    assert workbook["Errors"].freeze_panes == "A2"


def test_summary_sheet(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Summary"]
    table = {r[0]: r[1] for r in _rows(ws) if r[0] is not None}
    for outcome in Outcome:
        expected = 2 if outcome is Outcome.INVALID else 1
        assert table[str(outcome)] == expected
    assert table["total"] == len(Outcome) + 1
    assert table["Command"] == "apply"
    assert table["Catalog"] == "Sandbox"
    assert table["Input file"] == "in.xlsx"
    assert table["Started"] == "2026-03-01 09:00:00+00:00"
    assert table["Ended"] == "2026-03-01 09:02:05+00:00"
    assert table["Duration"] == "2 min 05 s"
    assert table["Calls made"] == 12
    assert table["Throttled calls"] == 2
    assert table["Retries"] == 3
    assert table["Writes"] == 4
    assert len(ws._charts) == 1


def test_summary_zero_counts_and_extras(tmp_path: Path) -> None:
    path = write_results(
        tmp_path / "r.xlsx",
        [],
        [],
        HEADERS,
        _summary(extra={"Stopped": "write limit reached"}, catalog=None),
    )
    ws = openpyxl.load_workbook(path)["Summary"]
    table = {r[0]: r[1] for r in _rows(ws) if r[0] is not None}
    assert all(table[str(o)] == 0 for o in Outcome)
    assert table["Stopped"] == "write limit reached"
    assert table["Catalog"] == "(none)"


def test_chart_references_count_cells(tmp_path: Path) -> None:
    import zipfile

    path = write_results(tmp_path / "r.xlsx", _results(), [], HEADERS, _summary())
    with zipfile.ZipFile(path) as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
    last = len(Outcome) + 1  # one count row per outcome below the header
    assert f"Summary!$B$2:$B${last}" in chart and f"Summary!$A$2:$A${last}" in chart


def test_counts_lists_every_outcome() -> None:
    counts = RunSummary.counts([RowResult(2, "O1", Outcome.FAILED)])
    assert list(counts) == list(Outcome)
    assert counts[Outcome.FAILED] == 1 and sum(counts.values()) == 1


def test_summary_dict_is_json_ready() -> None:
    data = summary_dict(_results(), _summary(results_file="out.xlsx"))
    json.dumps(data)
    assert data["counts"]["invalid"] == 2 and data["counts"]["skipped"] == 1
    assert set(data["counts"]) == {str(o) for o in Outcome}
    assert data["rows"] == len(Outcome) + 1 and data["ok"] is False
    assert data["files"] == {"input": "in.xlsx", "results": "out.xlsx"}
    assert data["started"] == "2026-03-01T09:00:00+00:00"
    assert data["seconds"] == 125.0
    assert (data["calls"], data["throttled"], data["retries"], data["writes"]) == (12, 2, 3, 4)
    ok = summary_dict([RowResult(2, "O1", Outcome.UPDATED)], _summary())
    assert ok["ok"] is True


RETRY_ROWS = [
    ["O1", "0123", "=1+1"],
    ["O2", "+4930123", 'Zoë, "quoted"\nline two'],
    ["O3", "", "@foo"],
]

RETRY_CSV_CELLS = [
    ["O1", "0123", "'=1+1"],
    ["O2", "'+4930123", 'Zoë, "quoted"\nline two'],
    ["O3", "", "'@foo"],
]
"""RETRY_ROWS as a csv reader sees the retry csv: formula triggers escaped."""


def test_retry_xlsx_is_text(tmp_path: Path) -> None:
    path = write_retry(tmp_path / "retry.xlsx", HEADERS, RETRY_ROWS, csv=False)
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == 1
    ws = book.active
    rows = _rows(ws)
    assert rows[0] == HEADERS
    for got, want in zip(rows[1:], RETRY_ROWS, strict=True):
        assert [v if v is not None else "" for v in got] == want
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.value is not None:
                assert cell.data_type == "s"
    assert ws.column_dimensions["B"].number_format == "@" or ws["B2"].number_format == "@"


def test_retry_csv_has_bom_and_round_trips(tmp_path: Path) -> None:
    path = write_retry(tmp_path / "retry.csv", HEADERS, RETRY_ROWS, csv=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    # Issue 12 point 8: a cell a spreadsheet would run as a formula gets one apostrophe
    # first (OWASP's CSV-injection advice); the tool's reader takes it off again.
    assert rows == [HEADERS, *RETRY_CSV_CELLS]
    assert b'"Zo\xc3\xab, ""quoted""\nline two"' in raw


@pytest.mark.parametrize(
    "as_csv",
    [
        False,
        True,
    ],
    ids=["xlsx", "csv"],
)
def test_retry_reads_back_through_the_reader(tmp_path: Path, as_csv: bool) -> None:
    from bulk_update.sheet import read as readers

    if not hasattr(readers, "read_sheet"):
        pytest.skip("reader not built yet")
    path = write_retry(
        tmp_path / f"retry.{'csv' if as_csv else 'xlsx'}", HEADERS, RETRY_ROWS, csv=as_csv
    )
    sheet = readers.read_sheet(path)
    assert sheet.headers == HEADERS
    assert sheet.cells.values.tolist() == RETRY_ROWS


def test_results_writer_may_grow_past_zip_limits_and_small_files_stay_plain(
    tmp_path: Path,
) -> None:
    """A million rows' Results sheet is over 2 GiB of XML: without ZIP64 the
    close failed (measured at 1,048,575 rows). A small file keeps plain zip records."""
    import zipfile

    from bulk_update.results import ResultsWriter

    writer = ResultsWriter(tmp_path / "r.xlsx", ["Identifier"], "validate")
    assert writer.book.allow_zip64
    writer.add([RowResult(2, "O1", Outcome.VALID, "", [], ["O1"])])
    path = writer.close(_summary(command="validate"))
    with zipfile.ZipFile(path) as z:
        extras = [i.extra for i in z.infolist()]
    assert all(b"\x01\x00" not in e[:2] for e in extras)  # no ZIP64 extra field
    assert openpyxl.load_workbook(path)["Results"]["B2"].value == "O1"
