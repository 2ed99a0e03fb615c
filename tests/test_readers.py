"""Readers: every cell as text with its kind, from .xlsx and .csv, and one-line errors."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from bulk_update.errors import SheetError
from bulk_update.sheet.read import (
    BASELINE_PROBLEM,
    BOOL,
    DATE,
    EMPTY,
    ERROR,
    FORMULA,
    NUMBER,
    TEXT,
    Sheet,
    column_letter,
    number_text,
    read_sheet,
)

# ---------------------------------------------------------------- helpers


def write_xlsx(
    path: Path, sheets: dict[str, list[list[Any]]], hidden: tuple[str, ...] = ()
) -> Path:
    """A workbook whose sheets hold the given rows (row 1 first); None leaves a cell empty.

    Values: str -> text cell, int/float -> number cell, date/datetime -> date
    cell, bool -> boolean cell, ("=FORMULA", cached) -> formula with a cached value.
    """
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_urls": False})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, tuple):
                    ws.write_formula(r, c, value[0], None, value[1])
                elif isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value)
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(r, c, value, stamp_format)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, value, date_format)
                else:
                    ws.write_string(r, c, value)
        if name in hidden:
            ws.hide()
    shown = [ws for ws in book.worksheets() if ws.name not in hidden]
    if shown:
        shown[0].activate()  # Excel never hides the active sheet
    book.close()
    return path


def rows_of(sheet: Sheet) -> list[list[str]]:
    return [list(r) for r in sheet.cells.itertuples(index=False)]


def kinds_of(sheet: Sheet) -> list[list[str]]:
    return [list(r) for r in sheet.kinds.itertuples(index=False)]


def error_text(path: Path, sheet: str | None = None) -> str:
    with pytest.raises(SheetError) as info:
        read_sheet(path, sheet)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- xlsx cells


def test_xlsx_numbers_keep_their_digits(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "n.xlsx",
        {
            "Data": [
                ["Identifier", "Customer.Account.AwsAccountId", "PostalCode", "Amount"],
                ["O1", 12345678901, 2139, 1234.5],
                ["O2", "012345678901", "02139", 0.1 + 0.2],
                ["O3", 1e20, -0.0, 1.234567890123457e17],
                ["O4", 0.00001, -3.25, 123456789012345],
            ]
        },
    )
    sheet = read_sheet(path)
    assert rows_of(sheet) == [
        ["O1", "12345678901", "2139", "1234.5"],
        ["O2", "012345678901", "02139", "0.3"],
        ["O3", "100000000000000000000", "0", "123456789012346000"],
        ["O4", "0.00001", "-3.25", "123456789012345"],
    ]
    assert kinds_of(sheet) == [
        [TEXT, NUMBER, NUMBER, NUMBER],
        [TEXT, TEXT, TEXT, NUMBER],
        [TEXT, NUMBER, NUMBER, NUMBER],
        [TEXT, NUMBER, NUMBER, NUMBER],
    ]


def test_xlsx_dates_bools_and_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "d.xlsx",
        {
            "Data": [
                ["Identifier", "LifeCycle.TargetCloseDate", "LastModifiedDate", "Flag", "Note"],
                [
                    "O1",
                    dt.date(2026, 12, 31),
                    dt.datetime(2026, 5, 1, 20, 37, 46),
                    True,
                    "  kept  ",
                ],
                ["O2", "2026-12-31", dt.datetime(2026, 5, 2), False, "03/04/2026"],
            ]
        },
    )
    sheet = read_sheet(path)
    assert rows_of(sheet) == [
        ["O1", "2026-12-31", "2026-05-01T20:37:46", "TRUE", "  kept  "],
        ["O2", "2026-12-31", "2026-05-02", "FALSE", "03/04/2026"],
    ]
    assert kinds_of(sheet) == [[TEXT, DATE, DATE, BOOL, TEXT], [TEXT, TEXT, DATE, BOOL, TEXT]]


def test_xlsx_formulas_read_as_cached_values(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "f.xlsx",
        {
            "Data": [
                ["Identifier", "Project.Title", "Amount", "Flag", "Lookup", "Div"],
                [
                    "O1",
                    ('="New "&"title"', "New title"),
                    ("=1000+234.5", 1234.5),
                    ("=1=1", True),
                    ("=NA()", "#N/A"),
                    ("=1/0", "#DIV/0!"),
                ],
            ]
        },
    )
    sheet = read_sheet(path)
    assert rows_of(sheet) == [["O1", "New title", "1234.5", "TRUE", "#N/A", "#DIV/0!"]]
    assert kinds_of(sheet) == [[TEXT, TEXT, NUMBER, BOOL, ERROR, ERROR]]


def test_xlsx_error_alone_on_its_row_keeps_the_row(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "e.xlsx",
        {"Data": [["Identifier", "X"], ["O1", "a"], [None, ("=NA()", "#N/A")]]},
    )
    sheet = read_sheet(path)
    assert sheet.row_numbers == [2, 3]
    assert kinds_of(sheet)[1] == [EMPTY, ERROR]


def test_xlsx_text_that_looks_like_an_error_attribute_stays_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx", {"Data": [["Identifier", "Note"], ["O1", '<c r="B2" t="e">']]}
    )
    sheet = read_sheet(path)
    assert rows_of(sheet) == [["O1", '<c r="B2" t="e">']]
    assert kinds_of(sheet) == [[TEXT, TEXT]]


def test_openpyxl_formula_without_cached_value_reads_empty_of_kind_formula(
    tmp_path: Path,
) -> None:
    # issue 12 point 6 changed the kind (was EMPTY): the checks refuse such a cell.
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Identifier", "Project.Title"])
    ws.append(["O1", "=1+1"])
    book.save(tmp_path / "o.xlsx")
    sheet = read_sheet(tmp_path / "o.xlsx")
    assert rows_of(sheet) == [["O1", ""]]
    assert kinds_of(sheet) == [[TEXT, FORMULA]]


# ---------------------------------------------------------------- xlsx rows and columns


def test_xlsx_blank_rows_skipped_row_numbers_kept(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "b.xlsx",
        {
            "Data": [
                [],
                ["   "],
                ["Identifier ", "  Project.Title  "],
                ["O1", "a"],
                [],
                [" ", "   "],
                ["O2", "b"],
            ]
        },
    )
    sheet = read_sheet(path)
    assert sheet.headers == ["Identifier", "Project.Title"]
    assert sheet.header_row == 3
    assert sheet.row_numbers == [4, 7]
    assert len(sheet) == 2
    assert rows_of(sheet) == [["O1", "a"], ["O2", "b"]]


def test_xlsx_empty_columns_without_header_are_dropped(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx",
        {
            "Data": [
                [None, "Identifier", None, "Project.Title", None, "  "],
                [None, "O1", None, "a"],
            ]
        },
    )
    sheet = read_sheet(path)
    assert sheet.headers == ["Identifier", "Project.Title"]
    assert sheet.source_columns == [1, 3]
    assert sheet.letter(1) == "D"
    assert rows_of(sheet) == [["O1", "a"]]
    assert list(sheet.cells.columns) == [0, 1]


def test_xlsx_data_under_empty_header_names_the_column(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx", {"Data": [["Identifier", "X"], ["O1", "a"], ["O2", "b", None, "oops"]]}
    )
    message = error_text(path)
    assert "column D" in message and "row 3" in message and "no header" in message


def test_xlsx_header_only_has_zero_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", {"Data": [["Identifier", "Project.Title"]]})
    sheet = read_sheet(path)
    assert sheet.headers == ["Identifier", "Project.Title"]
    assert len(sheet) == 0
    assert sheet.cells.shape == (0, 2) and sheet.kinds.shape == (0, 2)


def test_xlsx_numbers_and_dates_as_headers_become_text(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", {"Data": [["Identifier", 2026], ["O1", "x"]]})
    assert read_sheet(path).headers == ["Identifier", "2026"]


def test_cells_are_plain_str_in_object_frames(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "s.xlsx", {"Data": [["Identifier", "N", "D"], ["O1", 5, dt.date(2026, 1, 2)]]}
    )
    sheet = read_sheet(path)
    assert all(dtype.kind == "O" for dtype in sheet.cells.dtypes)
    assert all(type(v) is str for v in sheet.cells.to_numpy().ravel())
    assert sheet.cells.shape == sheet.kinds.shape


# ---------------------------------------------------------------- xlsx sheets


def test_underscore_sheets_are_never_data(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "u.xlsx",
        {
            "_lists": [["x"]],
            "Opportunities": [["Identifier"], ["O1"]],
            "Other": [["Identifier"], ["O2"]],
        },
    )
    sheet = read_sheet(path)
    assert sheet.sheet_name == "Opportunities"
    assert rows_of(sheet) == [["O1"]]
    assert sheet.baseline is None and sheet.meta == {}


def test_first_visible_sheet_is_read(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "v.xlsx",
        {"Hidden": [["Identifier"], ["O9"]], "Shown": [["Identifier"], ["O1"]]},
        hidden=("Hidden",),
    )
    assert read_sheet(path).sheet_name == "Shown"


def test_sheet_choice(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "s.xlsx",
        {"First": [["Identifier"], ["O1"]], "Second Sheet": [["Identifier"], ["O2"]]},
    )
    assert rows_of(read_sheet(path, "Second Sheet")) == [["O2"]]
    assert read_sheet(path, "second sheet ").sheet_name == "Second Sheet"
    message = error_text(path, "Third")
    assert "no sheet named 'Third'" in message and "'First', 'Second Sheet'" in message


def test_tool_sheet_cannot_be_chosen(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "s.xlsx", {"Data": [["Identifier"]], "_baseline": [["Identifier"]]}
    )
    assert "belongs to the tool" in error_text(path, "_baseline")


def test_only_tool_sheets_is_an_error(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "s.xlsx", {"_baseline": [["Identifier"], ["O1"]]})
    assert "no data sheet" in error_text(path)


def test_baseline_and_export_meta(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "x.xlsx",
        {
            "Opportunities": [["Identifier", "Project.Title"], ["O1", "New"]],
            "_baseline": [["Identifier", "Project.Title "], ["O1", "Old"], [], ["O2", "0012"]],
            "_export": [
                ["key", "value"],
                ["catalog", "Sandbox"],
                ["exported_at", "2026-05-01T20:37:46Z"],
                ["columns", "Identifier,Project.Title"],
            ],
        },
        hidden=("_baseline", "_export"),
    )
    sheet = read_sheet(path)
    assert rows_of(sheet) == [["O1", "New"]]
    assert sheet.baseline is not None
    assert list(sheet.baseline.columns) == ["Identifier", "Project.Title"]
    assert sheet.baseline.to_dict("records") == [
        {"Identifier": "O1", "Project.Title": "Old"},
        {"Identifier": "O2", "Project.Title": "0012"},
    ]
    assert sheet.meta == {
        "catalog": "Sandbox",
        "exported_at": "2026-05-01T20:37:46Z",
        "columns": "Identifier,Project.Title",
    }


def test_xlsm_and_upper_case_suffix(tmp_path: Path) -> None:
    write_xlsx(tmp_path / "a.xlsx", {"Data": [["Identifier"], ["O1"]]})
    for name in ("b.xlsm", "c.XLSX"):
        (tmp_path / name).write_bytes((tmp_path / "a.xlsx").read_bytes())
        assert rows_of(read_sheet(tmp_path / name)) == [["O1"]]


# ---------------------------------------------------------------- xlsx errors


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in error_text(tmp_path / "nope.xlsx")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.xlsx").mkdir()
    assert "is a folder" in error_text(tmp_path / "dir.xlsx")


@pytest.mark.parametrize("name", ["a.xls", "a.ods", "a.txt", "noext"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"x")
    assert "unsupported file type" in error_text(tmp_path / name)


def test_empty_xlsx_file(tmp_path: Path) -> None:
    (tmp_path / "e.xlsx").write_bytes(b"")
    assert error_text(tmp_path / "e.xlsx") == "e.xlsx is empty"


def test_xlsx_with_no_header_row(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "e.xlsx", {"Data": [[], ["  "]]})
    assert "is empty: the first row must hold the column names" in error_text(path)


def test_password_protected(tmp_path: Path) -> None:
    path = tmp_path / "secret.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00junk" * 200)
    assert error_text(path) == (
        "secret.xlsx is password-protected: remove the password in Excel "
        "(File > Info > Protect Workbook) and save again"
    )


def test_corrupt_xlsx(tmp_path: Path) -> None:
    (tmp_path / "junk.xlsx").write_bytes(b"this is not a zip file at all")
    assert "junk.xlsx is not a readable .xlsx file" in error_text(tmp_path / "junk.xlsx")
    with zipfile.ZipFile(tmp_path / "zip.xlsx", "w") as z:
        z.writestr("hello.txt", "no workbook here")
    assert "zip.xlsx is not a readable .xlsx file" in error_text(tmp_path / "zip.xlsx")


# ---------------------------------------------------------------- csv


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_csv_utf8_with_bom_and_semicolons(tmp_path: Path) -> None:
    data = "Identifier;Project.Title ;Customer.Account.Address.City\r\nO1;Café;München\r\n"
    path = write_bytes(tmp_path / "a.csv", b"\xef\xbb\xbf" + data.encode())
    sheet = read_sheet(path)
    assert sheet.sheet_name is None
    assert sheet.headers == ["Identifier", "Project.Title", "Customer.Account.Address.City"]
    assert rows_of(sheet) == [["O1", "Café", "München"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(["Identifier", "Project.Title", "Amount"]) + "\n"
    text += delimiter.join(["O1", '"a, b; c"', "1234.50"]) + "\n"
    sheet = read_sheet(write_bytes(tmp_path / "d.csv", text.encode()))
    assert rows_of(sheet) == [["O1", "a, b; c", "1234.50"]]


def test_csv_single_column_defaults_to_comma(tmp_path: Path) -> None:
    sheet = read_sheet(write_bytes(tmp_path / "one.csv", b"Identifier\nO1\nO2\n"))
    assert sheet.headers == ["Identifier"]
    assert rows_of(sheet) == [["O1"], ["O2"]]


def test_csv_excel_sep_line(tmp_path: Path) -> None:
    sheet = read_sheet(write_bytes(tmp_path / "s.csv", b"sep=;\nIdentifier;Title\nO1;a,b\n"))
    assert sheet.headers == ["Identifier", "Title"]
    assert sheet.row_numbers == [2]
    assert rows_of(sheet) == [["O1", "a,b"]]


def test_csv_multiline_cells_and_blank_lines_keep_row_numbers(tmp_path: Path) -> None:
    data = (
        b'Identifier,LifeCycle.NextSteps\r\nO1,"call them\r\nthen ""write"""\r\n\r\n,\r\nO2,x\r\n'
    )
    sheet = read_sheet(write_bytes(tmp_path / "m.csv", data))
    assert rows_of(sheet) == [["O1", 'call them\r\nthen "write"'], ["O2", "x"]]
    assert sheet.row_numbers == [2, 5]


def test_csv_cells_are_text_or_empty(tmp_path: Path) -> None:
    data = (
        b"Identifier,AwsAccountId,Date, Pad \nO1,012345678901,2026-12-31,\nO2,12345678901,,  x  \n"
    )
    sheet = read_sheet(write_bytes(tmp_path / "k.csv", data))
    assert sheet.headers == ["Identifier", "AwsAccountId", "Date", "Pad"]
    assert rows_of(sheet) == [
        ["O1", "012345678901", "2026-12-31", ""],
        ["O2", "12345678901", "", "  x  "],
    ]
    assert kinds_of(sheet) == [[TEXT, TEXT, TEXT, EMPTY], [TEXT, TEXT, EMPTY, TEXT]]


def test_csv_ragged_rows_and_trailing_delimiters(tmp_path: Path) -> None:
    data = b"Identifier,Project.Title,\nO1\nO2,b,\n"
    sheet = read_sheet(write_bytes(tmp_path / "r.csv", data))
    assert sheet.headers == ["Identifier", "Project.Title"]
    assert rows_of(sheet) == [["O1", ""], ["O2", "b"]]


def test_csv_data_under_empty_header(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "r.csv", b"Identifier,Title\nO1,a\nO2,b,extra\n")
    message = error_text(path)
    assert "column C" in message and "row 3" in message


def test_csv_not_utf8_names_the_line(tmp_path: Path) -> None:
    data = "Identifier;Title\nO1;ok\nO2;caf\u00e9\n".encode("cp1252")
    path = write_bytes(tmp_path / "latin.csv", data)
    assert error_text(path) == (
        "latin.csv: line 3 is not UTF-8: save the file as 'CSV UTF-8' in Excel"
    )


def test_csv_utf16_is_not_utf8(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "u16.csv", "Identifier\nO1\n".encode("utf-16"))
    assert "line 1 is not UTF-8" in error_text(path)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" , \n"])
def test_csv_empty(tmp_path: Path, data: bytes) -> None:
    assert "is empty" in error_text(write_bytes(tmp_path / "e.csv", data))


def test_csv_header_only(tmp_path: Path) -> None:
    sheet = read_sheet(write_bytes(tmp_path / "h.csv", b"Identifier,Project.Title\r\n"))
    assert sheet.headers == ["Identifier", "Project.Title"]
    assert len(sheet) == 0 and sheet.cells.shape == (0, 2)


def test_csv_has_no_sheets(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "h.csv", b"Identifier\nO1\n")
    assert "has no sheets" in error_text(path, "Data")


def test_csv_parse_error_is_one_line(tmp_path: Path) -> None:
    huge = b"x" * 200_000  # beyond the csv module's field limit (Excel's is 32,767)
    path = write_bytes(tmp_path / "n.csv", b"Identifier,T\nO1,a\nO2," + huge + b"\n")
    assert "line 3 cannot be read as CSV" in error_text(path)


def test_aws_sample_exporter_csv(tmp_path: Path) -> None:
    header = "Id,Catalog,LifeCycle.Stage,Customer.Contacts[0].Email,PrimaryNeedsFromAws[0]"
    path = write_bytes(tmp_path / "aws.csv", f"{header}\nO123,Sandbox,Prospect,a@b.c,x\n".encode())
    sheet = read_sheet(path)
    assert sheet.headers == header.split(",")
    assert rows_of(sheet) == [["O123", "Sandbox", "Prospect", "a@b.c", "x"]]


# ---------------------------------------------------------------- small parts


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12345678901.0, "12345678901"),
        (2139.0, "2139"),
        (1234.5, "1234.5"),
        (0.1 + 0.2, "0.3"),
        (1e20, "100000000000000000000"),
        (1e-5, "0.00001"),
        (-0.0, "0"),
        (-12.0, "-12"),
        (1234567890123456.0, "1234567890123460"),
    ],
)
def test_number_text(value: float, text: str) -> None:
    assert number_text(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_never_has_exponent_or_point_zero(value: float) -> None:
    text = number_text(value)
    assert "e" not in text.lower()
    assert not text.endswith(".0")
    assert float(text) == float(f"{value:.15g}")


@pytest.mark.parametrize(
    ("n", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letter(n: int, letter: str) -> None:
    assert column_letter(n) == letter


def test_error_cells_found_with_single_quoted_attributes(tmp_path: Path) -> None:
    source = write_xlsx(
        tmp_path / "d.xlsx", {"Data": [["Identifier", "X"], ["O1", ("=NA()", "#N/A")]]}
    )
    target = tmp_path / "s.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, body = data.split(b"<sheetData", 1)
                body = re.sub(rb'="([^"]*)"', rb"='\1'", body)
                assert b"t='e'" in body
                data = head + b"<sheetData" + body
            zout.writestr(item, data)
    sheet = read_sheet(target)
    assert rows_of(sheet) == [["O1", "#N/A"]]
    assert kinds_of(sheet) == [[TEXT, ERROR]]


@pytest.mark.parametrize(
    ("data", "rows"),
    [
        (b"Identifier,PrimaryNeedsFromAws\nO1,a;b;c\nO2,x;y\n", [["O1", "a;b;c"], ["O2", "x;y"]]),
        (
            b"Identifier;Title\nO1;a, b, c, d\nO2;e, f, g\n",
            [["O1", "a, b, c, d"], ["O2", "e, f, g"]],
        ),
        (b'"Identifier";"Title"\n"O1";"a,b"\n', [["O1", "a,b"]]),
    ],
)
def test_csv_delimiter_from_the_header_line(
    tmp_path: Path, data: bytes, rows: list[list[str]]
) -> None:
    assert rows_of(read_sheet(write_bytes(tmp_path / "h.csv", data))) == rows


def test_broken_baseline_is_reported_not_fatal(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "x.xlsx",
        {"Data": [["Identifier"], ["O1"]], "_baseline": [["Identifier"], ["O1", "stray"]]},
    )
    sheet = read_sheet(path)
    assert rows_of(sheet) == [["O1"]]
    assert sheet.baseline is None
    assert "column B" in sheet.meta[BASELINE_PROBLEM]
