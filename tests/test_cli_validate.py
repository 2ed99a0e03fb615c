"""``bulk-update validate`` from the command line: messages, exit codes, files.

Exit status (sheet-contract.md, section 7): 0 every row valid, 1 some row
invalid, 2 the run could not start. A run that cannot start prints one line on
stderr, ``Error: ...``, and no traceback.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import click
import pytest
import xlsxwriter
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from bulk_update import results
from bulk_update.cli import main
from bulk_update.run.validate import load, row_results, validate_file

README = Path(__file__).resolve().parent.parent / "README.md"
TIMES = ("started", "ended", "seconds")

GOOD = [
    {"Identifier": "O1001", "LifeCycle.Stage": "Qualified", "Project.Title": "Data lake"},
    {"Identifier": "O1002", "LifeCycle.Stage": "Prospect", "LifeCycle.NextSteps": "Call back"},
]
BAD = [
    {"Identifier": "O1001", "LifeCycle.Stage": "Qualified"},
    {"Identifier": "O1002", "LifeCycle.Stage": "Prospekt"},
]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    headers = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, headers)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[dict[str, str]]]) -> Path:
    """Every cell a text cell (xlsxwriter write_string: ``=1+1`` stays text)."""
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = book.add_worksheet(name)
        headers = list(dict.fromkeys(k for row in rows for k in row))
        for c, h in enumerate(headers):
            ws.write_string(0, c, h)
        for r, row in enumerate(rows, start=1):
            for c, h in enumerate(headers):
                if row.get(h):
                    ws.write_string(r, c, row[h])
    book.close()
    return path


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    """``rows`` as a csv or as the Opportunities sheet of an xlsx, by ``path``'s suffix."""
    if path.suffix == ".csv":
        return write_csv(path, rows)
    return write_xlsx(path, {"Opportunities": rows})


def results_path(sheet: Path) -> Path:
    return sheet.with_name(f"{sheet.stem}.results.xlsx")


def assert_start_failure(result: Result, message: str) -> None:
    """Exit 2, one line on stderr that is exactly ``Error: message``, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- outcomes


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_valid_sheet_exits_0_and_writes_the_results_workbook(tmp_path: Path, suffix: str) -> None:
    sheet = write_sheet(tmp_path / f"good{suffix}", GOOD)
    result = invoke("validate", sheet)
    assert result.exit_code == 0, result.output
    out = results_path(sheet)
    assert result.stderr == f"2 rows: 2 valid\nResults: {out}\n"
    assert result.stdout == ""
    book = load_workbook(out)
    assert book.sheetnames == ["Results", "Errors", "Summary"]
    rows = list(book["Results"].iter_rows(values_only=True))
    assert rows[0][:5] == ("Row", "Identifier", "Outcome", "Message", "Changes")
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [(2, "O1001", "valid"), (3, "O1002", "valid")]
    assert book["Errors"].max_row == 1  # the header only


def test_invalid_sheet_exits_1(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "bad.csv", BAD)
    result = invoke("validate", sheet)
    assert result.exit_code == 1, result.output
    assert result.stderr == f"2 rows: 1 valid, 1 invalid\nResults: {results_path(sheet)}\n"
    book = load_workbook(results_path(sheet))
    outcomes = [r[2] for r in book["Results"].iter_rows(min_row=2, values_only=True)]
    assert outcomes == ["valid", "invalid"]
    errors = list(book["Errors"].iter_rows(min_row=2, values_only=True))
    assert [(e[0], e[1], e[2], e[3]) for e in errors] == [
        (3, "O1002", "LifeCycle.Stage", "Prospekt")
    ]
    assert "Did you mean 'Prospect'?" in str(errors[0][4])


def test_out_option_names_the_results_workbook(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "good.csv", GOOD)
    target = tmp_path / "elsewhere.xlsx"
    result = invoke("validate", sheet, "--out", target)
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(f"Results: {target}\n")
    assert target.exists() and not results_path(sheet).exists()


@pytest.mark.parametrize("rows", [GOOD, BAD], ids=["valid", "invalid"])
def test_json_equals_the_library_summary(tmp_path: Path, rows: list[dict[str, str]]) -> None:
    sheet = write_csv(tmp_path / "sheet.csv", rows)
    result = invoke("validate", sheet, "--json")
    report = validate_file(sheet, out=tmp_path / "library.xlsx")
    assert result.exit_code == report.exit_code, result.output
    printed = json.loads(result.stdout)
    assert printed.pop("results_file") == str(results_path(sheet))
    assert printed.pop("exit_code") == report.exit_code
    assert printed.pop("warnings") == sum(1 for p in report.problems if not p.is_error)
    expected = results.summary_dict(report.results, report.summary)
    for key in TIMES:
        printed.pop(key)
        expected.pop(key)
    assert printed == expected


# ---------------------------------------------------------------- cannot start


def test_unknown_column_says_did_you_mean(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "s.csv", [{"Identifier": "O1", "LifeCycle.Stag": "Prospect"}])
    result = invoke("validate", sheet)
    assert_start_failure(
        result,
        "unknown column: 'LifeCycle.Stag' (did you mean 'LifeCycle.Stage'?). "
        "Fix the header row and run again; nothing was sent",
    )
    assert not results_path(sheet).exists()


def test_missing_file(tmp_path: Path) -> None:
    sheet = tmp_path / "nowhere.xlsx"
    assert_start_failure(invoke("validate", sheet), f"{sheet}: no such file")


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    sheet = tmp_path / name
    sheet.write_bytes(b"")
    assert_start_failure(invoke("validate", sheet), f"{name} is empty")


def test_csv_of_blank_lines_is_empty(tmp_path: Path) -> None:
    sheet = tmp_path / "blank.csv"
    sheet.write_text("\n\n  \n", encoding="utf-8")
    assert_start_failure(invoke("validate", sheet), "blank.csv is empty")


def test_no_identifier_column(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "s.csv", [{"Project.Title": "x", "LifeCycle.Stage": "Prospect"}])
    assert_start_failure(
        invoke("validate", sheet),
        "no Identifier column: the first row must hold the column names, one of them Identifier",
    )


def test_password_protected_xlsx(tmp_path: Path) -> None:
    sheet = tmp_path / "locked.xlsx"
    sheet.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00junk" * 100)
    assert_start_failure(
        invoke("validate", sheet),
        "locked.xlsx is password-protected: remove the password in Excel "
        "(File > Info > Protect Workbook) and save again",
    )


@pytest.mark.parametrize(
    "content", [b"PK\x03\x04 not really a zip archive", b"just some text"], ids=["zip", "text"]
)
def test_corrupt_xlsx(tmp_path: Path, content: bytes) -> None:
    sheet = tmp_path / "broken.xlsx"
    sheet.write_bytes(content)
    result = invoke("validate", sheet)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: broken.xlsx is not a readable .xlsx file (")
    assert result.stderr.count("\n") == 1 and result.stderr.endswith(")\n")
    assert "Traceback" not in result.output


def test_csv_not_utf8(tmp_path: Path) -> None:
    sheet = tmp_path / "latin.csv"
    sheet.write_bytes("Identifier,Project.Title\nO1,Café\n".encode("latin-1"))
    assert_start_failure(
        invoke("validate", sheet),
        "latin.csv: line 2 is not UTF-8: save the file as 'CSV UTF-8' in Excel",
    )


# ---------------------------------------------------------------- options


def test_sheet_option_chooses_the_sheet(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", {"First": BAD, "Second": GOOD})
    first = invoke("validate", book)
    assert first.exit_code == 1, first.output
    second = invoke("validate", book, "--sheet", "Second")
    assert second.exit_code == 0, second.output
    assert second.stderr.startswith("2 rows: 2 valid\n")


def test_sheet_option_unknown_sheet(tmp_path: Path) -> None:
    book = write_xlsx(tmp_path / "book.xlsx", {"First": BAD, "Second": GOOD})
    assert_start_failure(
        invoke("validate", book, "--sheet", "Third"),
        "book.xlsx has no sheet named 'Third' (sheets: 'First', 'Second')",
    )


def test_sheet_option_on_csv(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "s.csv", GOOD)
    assert_start_failure(
        invoke("validate", sheet, "--sheet", "Second"),
        "s.csv is a CSV file: it has no sheets to choose from",
    )


def test_catalog_option_checks_the_catalog_column(tmp_path: Path) -> None:
    rows = [
        {"Identifier": "O1001", "Catalog": "AWS", "LifeCycle.Stage": "Prospect"},
        {"Identifier": "O1002", "Catalog": "Sandbox", "LifeCycle.Stage": "Prospect"},
    ]
    sheet = write_csv(tmp_path / "s.csv", rows)
    assert invoke("validate", sheet).exit_code == 0
    assert invoke("validate", sheet, "--catalog", "Sandbox").exit_code == 1
    result = invoke("validate", sheet, "--catalog", "AWS")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("2 rows: 1 valid, 1 invalid\n")
    errors = list(
        load_workbook(results_path(sheet))["Errors"].iter_rows(min_row=2, values_only=True)
    )
    assert [(e[0], e[2], e[3]) for e in errors] == [(3, "Catalog", "Sandbox")]
    assert errors[0][4] == (
        "this row comes from the Sandbox catalog but the run is for AWS: "
        "run with that catalog, or use a sheet exported from it"
    )


def test_catalog_option_takes_only_known_catalogs(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path / "s.csv", GOOD)
    result = invoke("validate", sheet, "--catalog", "Production")
    assert result.exit_code == 2
    assert "Invalid value for '--catalog'" in result.stderr
    assert not results_path(sheet).exists()


# ---------------------------------------------------------------- text safety


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_like_text_comes_back_as_text(tmp_path: Path, suffix: str) -> None:
    rows = [{"Identifier": "O1001", "LifeCycle.NextSteps": "=1+1", "Project.Title": "@SUM(A1)"}]
    sheet = write_sheet(tmp_path / f"s{suffix}", rows)
    result = invoke("validate", sheet)
    assert result.exit_code == 0, result.output
    ws = load_workbook(results_path(sheet))["Results"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("LifeCycle.NextSteps") + 1)
    assert cell.data_type == "s"
    assert cell.value == "=1+1"
    title = ws.cell(row=2, column=header.index("Project.Title") + 1)
    assert (title.data_type, title.value) == ("s", "@SUM(A1)")


# ---------------------------------------------------------------- every command


def _commands() -> list[str]:
    return sorted(main.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    command: click.Command = main.commands[name]
    assert (command.help or "").strip(), f"{name} has no help text"
    assert (command.short_help or command.get_short_help_str()).strip()
    result = invoke(name, "--help")
    assert result.exit_code == 0, result.output
    usage = result.stdout.splitlines()[0]
    assert usage.startswith("Usage: ") and f" {name} " in usage
    assert f"bulk-update {name}" in README.read_text(encoding="utf-8")


def test_group_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for name in _commands():
        assert f"  {name}" in result.stdout


def test_out_into_a_new_folder_makes_the_folder(tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("Identifier,LifeCycle.NextSteps\nO1,Call\n", encoding="utf-8")
    target = tmp_path / "new" / "deeper" / "r.xlsx"
    result = CliRunner().invoke(main, ["validate", str(sheet), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists()


def test_out_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    sheet = tmp_path / "s.csv"
    sheet.write_text("Identifier,LifeCycle.NextSteps\nO1,Call\n", encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["validate", str(sheet), "--out", str(blocker / "r.xlsx")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: cannot write ")
    assert "Traceback" not in result.output


# --- issue 14: the chunked validate gives what the whole-sheet read gives ---------------

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _whole_sheet_validate(path: Path, out: Path, today: object = None) -> list[list[object]]:
    """The validate of before issue 14: the whole sheet read, checked, then written."""
    loaded = load(path, sheet=None, run_catalog=None, today=None)  # type: ignore[arg-type]

    def valid(i: int, row: int, ident: str, cells: list[str]) -> results.RowResult:
        notes = loaded.report.normalised[i] if loaded.report.normalised else []
        return results.RowResult(row, ident, results.Outcome.VALID, "; ".join(notes), [], cells)

    rows = row_results(loaded, valid)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    summary = results.RunSummary("validate", None, str(path), now, now)
    results.write_results(out, rows, loaded.report.problems, loaded.sheet.headers, summary)
    return [[r.row, r.identifier, str(r.outcome), r.message] for r in rows]


def _sheets_of(book: Path) -> dict[str, list[list[object]]]:
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(book)) as wb:
        return {name: wb.get_sheet_by_name(name).to_python() for name in ("Results", "Errors")}


def _tricky_sheets(tmp: Path) -> list[Path]:
    """Sheets with what the chunking could get wrong: ids twice far apart, error and
    date and number cells, blank rows, an empty column, a sep= line, a late column."""
    out = []
    book = xlsxwriter.Workbook(str(tmp / "tricky.xlsx"))
    ws = book.add_worksheet("Data")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    heads = ["Identifier", "", "LifeCycle.Stage", "LifeCycle.TargetCloseDate",
             "Customer.Account.Address.PostalCode", "LifeCycle.NextSteps"]  # fmt: skip
    for c, h in enumerate(heads):
        if h:
            ws.write_string(2, c, h)  # the header on row 3, two blank rows above
    import datetime as dt

    for r in range(3, 60):
        if r % 11 == 0:
            continue  # a blank row
        ident = "O1000" if r in (4, 57) else (" o5 " if r == 30 else f"O{r}")
        ws.write_string(r, 0, ident)
        ws.write_string(r, 2, ["Qualified", "prospect ", "Prospekt", "#clear"][r % 4])
        if r % 3:
            ws.write_datetime(r, 3, dt.datetime(2027, 1, 1 + r % 28), date)
        else:
            ws.write_string(r, 3, "03/04/2027" if r % 2 else "2027-02-30")
        if r % 5 == 0:
            ws.write_number(r, 4, 1234)
        elif r % 7 == 0:
            ws.write_formula(r, 4, "=NA()", None, "#N/A")
        ws.write_string(r, 5, f"Call {r}")
    book.close()
    out.append(tmp / "tricky.xlsx")
    lines = ["sep=;", "Identifier;LifeCycle.Stage;LifeCycle.NextSteps"]
    lines += [
        f"O{7 if r in (2, 40) else r};{'Qualified' if r % 3 else 'Nope'};x" for r in range(60)
    ]
    (tmp / "tricky.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.append(tmp / "tricky.csv")
    late = tmp / "late-column.csv"
    late.write_text("Identifier,LifeCycle.Stage\n" + "O1,Qualified\n" * 30 + "O2,Qualified,oops\n")
    out.append(late)
    return out


def _bench_sheet(tmp: Path) -> Path:
    import sys

    sys.path.insert(0, str(SAMPLES.parent / "benchmarks"))
    import validate_bench

    path = tmp / "bench.xlsx"
    validate_bench.make_workbook(path, 400)
    return path


def test_chunked_validate_matches_the_whole_sheet_read(tmp_path: Path) -> None:
    sheets = [p for p in sorted(SAMPLES.iterdir()) if p.suffix in (".csv", ".xlsx")]
    sheets = [p for p in sheets if not p.name.endswith(".results.xlsx")]
    bench = _bench_sheet(tmp_path)
    sheets += _tricky_sheets(tmp_path) + [bench]
    compared = 0
    for path in sheets:
        # Every chunk costs a fixed ~0.1 s of schema set-up: the 400-row sheet is cut
        # into a handful of chunks, not into 400 one-row ones.
        sizes = (300_000, None) if path == bench else (300, 5_000, None)
        try:
            expected = _whole_sheet_validate(path, tmp_path / "old.xlsx")
        except Exception as e:  # the same error, word for word
            with pytest.raises(type(e)) as got:
                validate_file(path, out=tmp_path / "new.xlsx", chunk_bytes=300)
            assert str(got.value) == str(e), path.name
            compared += 1
            continue
        for size in sizes:
            report = validate_file(path, out=tmp_path / "new.xlsx", chunk_bytes=size)
            got = [[r.row, r.identifier, str(r.outcome), r.message] for r in report.results]
            assert got == expected, (path.name, size)
            assert _sheets_of(tmp_path / "new.xlsx") == _sheets_of(tmp_path / "old.xlsx"), (
                path.name,
                size,
            )
        compared += 1
    assert compared == len(sheets) >= 7


def test_a_small_chunk_size_cuts_the_sheet_into_many_chunks(tmp_path: Path) -> None:
    from bulk_update.sheet import chunks

    path = _tricky_sheets(tmp_path)[0]
    stream = chunks.open_stream(path, None, lambda h: h.index("Identifier"), chunk_bytes=300)
    parts = list(stream.chunks())
    assert len(parts) > 10
    # " o5 " on row 31 is O5 of row 6: ids compare ignoring case (issue 12 point 5)
    assert stream.duplicates == {"O1000": [5, 58], "O5": [6, 31]}
    numbers = [n for p in parts for n in p.row_numbers]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))
