"""Damaged and hostile sheets (issue 12): the readers refuse damage instead of guessing.

Each test runs the file through ``validate_file`` (the chunked read) and, where
the whole read differs, through ``load`` (what ``apply`` reads), offline.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from bulk_update import csvtext
from bulk_update.errors import SheetError
from bulk_update.results import Outcome
from bulk_update.run.validate import JobReport, Loaded, load, validate_file
from bulk_update.sheet import chunks
from bulk_update.sheet.csvcells import csv_cell
from bulk_update.sheet.read import read_sheet

TODAY = dt.date(2026, 5, 1)


def validate(path: Path) -> JobReport:
    return validate_file(path, out=path.with_suffix(".results.xlsx"), today=TODAY)


def loaded(path: Path) -> Loaded:
    return load(path, sheet=None, run_catalog=None, today=TODAY)


def outcomes(report: JobReport) -> list[tuple[int, str]]:
    return [(r.row, r.outcome.value) for r in report.results]


def errors(problems: list) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.code) for p in problems if p.is_error]


# ---------------------------------------------------------------- 1: unterminated quote


def test_a_quote_that_never_closes_is_a_start_up_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(
        b"Identifier,Project.Title,LifeCycle.Stage\r\n"
        b"O1,Fine,Qualified\r\n"
        b'O2,"Unclosed quote title,Qualified\r\n'
        b"O3,Next title,Qualified\r\n"
    )
    for read in (lambda: validate(path), lambda: loaded(path)):
        with pytest.raises(SheetError) as e:
            read()
        assert str(e.value).startswith('q.csv: line 3 opens a quoted cell (") that does not close')
        assert "close the quote, or delete it" in str(e.value)


def test_a_runaway_quote_closed_by_a_later_cell_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        'sep=,\nIdentifier,Project.Title\nO1,ok\nO2,"runaway\nO3,"Quoted",x\n', encoding="utf-8"
    )
    with pytest.raises(SheetError, match=r"line 4 opens a quoted cell"):
        validate(path)


def test_quotes_that_close_still_read_with_newlines_and_doubled_quotes(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text('Identifier,Project.Title\nO1,"two\nlines, ""quoted"""\n', encoding="utf-8")
    assert read_sheet(path).cells.values.tolist() == [["O1", 'two\nlines, "quoted"']]


# ---------------------------------------------------------------- 2: control characters


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_a_control_character_in_a_csv_cell_makes_the_row_invalid(tmp_path: Path, char: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        f"Identifier,Project.Title\nO1,bad{char}title\nO2,tab\tand fine\n", encoding="utf-8"
    )
    report = validate(path)
    assert outcomes(report) == [(2, "invalid"), (3, "valid")]
    assert errors(report.problems) == [(2, "Project.Title", "control-character")]
    message = report.results[0].message
    assert "cell B2 holds" in message and "retype the cell's text" in message
    name = "a NUL byte" if char == "\x00" else f"U+{ord(char):04X}"
    assert name in message


# ---------------------------------------------------------------- 3: error cells


def test_an_error_cell_in_a_text_column_makes_the_row_invalid(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["Identifier", "Project.Title", "LifeCycle.NextSteps"])
    ws.write_row(1, 0, ["O1", "Fine"])
    ws.write_formula(1, 2, "=NA()", None, "#N/A")
    ws.write_row(2, 0, ["O2", "Fine", "Call"])
    book.close()
    for found in (validate(path).problems, loaded(path).report.problems):
        assert errors(found) == [(2, "LifeCycle.NextSteps", "error-cell")]
        assert found[0].message.startswith("cell C2 holds the Excel error #N/A, not a value")
    assert outcomes(validate(path)) == [(2, "invalid"), (3, "valid")]


def test_an_error_text_saved_into_a_csv_is_refused_as_well(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("Identifier,Project.Title\nO1,#N/A\nO2,#DIV/0!\nO3,#N/A and more\n")
    report = validate(path)
    assert outcomes(report) == [(2, "invalid"), (3, "invalid"), (4, "valid")]
    assert [p.code for p in report.problems if p.is_error] == ["error-cell", "error-cell"]


# ---------------------------------------------------------------- 4: ="..." in a CSV


def test_excel_keep_the_zeros_text_in_a_csv_reads_as_the_text_inside(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text(
        "Identifier,Customer.Account.Address.PostalCode,Project.Title\n"
        'O1,"=""02139""","=""say """"hi"""""""\n'
        'O2,=1+1,\'="02139"\n',
        encoding="utf-8",
    )
    sheet = read_sheet(path)
    assert sheet.cells.values.tolist() == [
        ["O1", "02139", 'say "hi"'],
        ["O2", "=1+1", '="02139"'],  # not Excel's trick; an escaped ="..." stays as typed
    ]
    stream = chunks.open_stream(path, None, lambda h: 0, csv_rows=1)
    assert [c.cells.values.tolist()[0] for c in stream.chunks()] == sheet.cells.values.tolist()


# ---------------------------------------------------------------- 8 (reader side): unescape


@pytest.mark.parametrize(
    "text", ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\tx", "'=already", "''+", "plain", "'"]
)
def test_every_csv_read_undoes_exactly_the_writers_escape(tmp_path: Path, text: str) -> None:
    import csv

    path = tmp_path / "x.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Identifier", "Project.Title"])
        w.writerow(["O1", csvtext.escape(text)])
    assert read_sheet(path).cells.iat[0, 1] == text
    stream = chunks.open_stream(path, None, lambda h: 0)
    assert next(iter(stream.chunks())).cells.iat[0, 1] == text
    assert csv_cell(csvtext.escape(text)) == text


# ---------------------------------------------------------------- 5: duplicates in other case


def test_the_same_id_in_another_case_makes_both_rows_invalid_naming_each_other(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("Identifier,Project.Title\nO6410556,a\no6410556,b\nO2,c\n", encoding="utf-8")
    for report in (validate(path),):
        assert outcomes(report) == [(2, "invalid"), (3, "invalid"), (4, "valid")]
        dup = [p for p in report.problems if p.code == "duplicate-identifier"]
        assert [p.row for p in dup] == [2, 3]
        assert all("appears on rows 2 and 3" in p.message for p in dup)
    whole = loaded(path).report
    assert whole.invalid_rows == {2, 3}
    assert [p.code for p in whole.problems if p.row == 3][0] == "duplicate-identifier"


# ---------------------------------------------------------------- 6: uncalculated formula


def test_a_formula_without_a_computed_value_makes_the_row_invalid(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    book = openpyxl.Workbook()  # openpyxl writes formulas without a value
    ws = book.active
    assert ws is not None
    ws.append(["Identifier", "Project.Title"])
    ws.append(["O1", '=CONCAT("New ","title")'])
    ws.append(["O2", "typed"])
    book.save(path)
    for report in (validate(path),):
        assert outcomes(report) == [(2, "invalid"), (3, "valid")]
        assert errors(report.problems) == [(2, "Project.Title", "formula-not-calculated")]
        assert "cell B2 holds a formula that was never calculated" in report.results[0].message
    assert loaded(path).report.invalid_rows == {2}


def test_a_calculated_formula_reads_as_its_value(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["Identifier", "Project.Title"])
    ws.write_string(1, 0, "O1")
    ws.write_formula(1, 1, '=CONCAT("New ","title")', None, "New title")
    book.close()
    report = validate(path)
    assert outcomes(report) == [(2, "valid")]
    assert Outcome.VALID.value == "valid"


def test_the_csv_baseline_sidecar_is_read_with_the_escape_undone(tmp_path: Path) -> None:
    from bulk_update.sheet.baseline import load_csv_baseline, sidecar_paths

    sheet = tmp_path / "export.csv"
    sheet.write_text("Identifier,Project.Title\nO1,x\n", encoding="utf-8")
    base, _info = sidecar_paths(sheet)
    title = '=HYPERLINK("http://x")'
    base.write_text(
        f'Identifier,Project.Title\nO1,"{csvtext.escape(title).replace(chr(34), 2 * chr(34))}"\n'
    )
    frame, meta = load_csv_baseline(sheet)
    assert frame is not None and "sidecar_problem" not in meta
    assert frame.to_dict("records") == [{"Identifier": "O1", "Project.Title": title}]
