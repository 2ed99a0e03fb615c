"""The template workbook: every column the catalog offers, with its help, list and format.

The checks walk the catalog, not a hand list, so a field that a new botocore
adds is covered without touching this file.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from bulk_update import catalog as cat
from bulk_update import template as tpl
from bulk_update.template import CLEAR, TASKS, task_columns, write_template

CATALOG = cat.load()
ID_LIKE = ("Identifier", "AwsAccountId", "Duns", "PostalCode", "Phone", "Amount")


def _load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    return _load(write_template(tmp_path_factory.mktemp("t") / "full.xlsx"))


def _headers(ws: Worksheet) -> list[str]:
    return [c.value for c in ws[1]]


def _validations(ws: Worksheet) -> dict[str, object]:
    """Column letter -> the data validation that covers row 2 of it."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            letter = re.match(r"[A-Z]+", cell_range.coord).group(0)  # type: ignore[union-attr]
            assert cell_range.min_row == 2
            found[letter] = dv
    return found


def _dimension(ws: Worksheet, letter: str) -> tuple[float, str]:
    """Width and number format of a column (openpyxl keeps runs of equal columns as one)."""
    index = openpyxl.utils.column_index_from_string(letter)
    for dim in ws.column_dimensions.values():
        if dim.min <= index <= dim.max:
            return dim.width, dim.number_format
    raise AssertionError(f"column {letter} has no width or format")


def _letter(ws: Worksheet, header: str) -> str:
    return openpyxl.utils.get_column_letter(_headers(ws).index(header) + 1)


def test_data_sheet_first_guide_next_lists_hidden(full: openpyxl.Workbook) -> None:
    assert full.sheetnames == [tpl.DATA_SHEET, "Guide", "_lists"]
    assert full.active.title == tpl.DATA_SHEET
    assert full["_lists"].sheet_state == "hidden"
    assert full["Guide"].sheet_state == "visible"


def test_full_template_has_every_updatable_field(full: openpyxl.Workbook) -> None:
    headers = _headers(full.worksheets[0])
    assert headers[:2] == [cat.IDENTIFIER, cat.LAST_MODIFIED]
    assert len(headers) == len(set(headers))
    for f in CATALOG.fields:
        if f.record_list is None:
            assert f.key in headers
        else:
            for i in (1, 2):
                assert f.column(i) in headers
    read_only = {f.key for f in CATALOG.read_only}
    assert not read_only & set(headers)


def test_headers_are_read_by_the_tool(tmp_path: Path) -> None:
    from bulk_update import columns, readers

    for task in TASKS:
        sheet = readers.read_sheet(write_template(tmp_path / f"{task}.xlsx", task=task))
        assert sheet.headers == [c.header for c in task_columns(task)]
        layout = columns.resolve(sheet.headers, CATALOG)
        assert {c.role for c in layout.columns} <= {"identifier", "last-modified", "field"}


def test_sections_are_grouped_and_coloured(full: openpyxl.Workbook) -> None:
    ws = full.worksheets[0]
    columns = task_columns()
    sections = [c.section for c in columns[2:]]
    # each section is one block of adjacent columns
    assert len(list(dict.fromkeys(sections))) == len(
        [s for i, s in enumerate(sections) if i == 0 or sections[i - 1] != s]
    )
    colours: dict[str, set[str]] = {}
    for column, cell in zip(columns, ws[1], strict=True):
        colours.setdefault(column.section if column.field else "key", set()).add(
            cell.fill.fgColor.rgb
        )
    assert all(len(c) == 1 for c in colours.values())
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)


def test_every_column_has_a_comment(full: openpyxl.Workbook) -> None:
    ws = full.worksheets[0]
    for column, cell in zip(task_columns(), ws[1], strict=True):
        assert cell.comment is not None, column.header
        text = cell.comment.text
        assert text.startswith(column.header + "\n")
        assert "<" not in text  # HTML stripped
        f = column.field
        if f is not None and f.allowed:
            assert f.allowed[0] in text
        if f is not None and (f.allowed or f.kind == "date" or f.pattern):
            assert "Example: " in text, column.header


def test_every_enum_field_has_a_dropdown(full: openpyxl.Workbook) -> None:
    ws = full.worksheets[0]
    lists = full["_lists"]
    found = _validations(ws)
    for column in task_columns():
        f = column.field
        if f is None or not f.allowed:
            continue
        dv = found[_letter(ws, column.header)]
        assert dv.type == "list", column.header
        sheet, rng = dv.formula1.split("!")
        assert sheet.strip("'") == "_lists"
        values = [c.value for row in lists[rng.replace("$", "")] for c in row]
        expected = list(f.allowed) + ([CLEAR] if not f.required else [])
        assert values == expected, column.header
        strict = bool(f.enum) and f.kind != "list"
        assert bool(dv.showErrorMessage) is strict, column.header


def test_inline_lists_never_exceed_excel_limit(full: openpyxl.Workbook) -> None:
    for dv in full.worksheets[0].data_validations.dataValidation:
        if dv.type == "list":
            assert len(dv.formula1) <= 255


def test_id_like_columns_are_text(full: openpyxl.Workbook) -> None:
    ws = full.worksheets[0]
    headers = _headers(ws)
    checked = 0
    for header in headers:
        if header.split(".")[-1] in ID_LIKE or header.endswith("Identifier"):
            assert _dimension(ws, _letter(ws, header))[1] == "@", header
            checked += 1
    assert checked >= 10


def test_every_non_date_column_is_text_and_dates_are_dates(full: openpyxl.Workbook) -> None:
    ws = full.worksheets[0]
    found = _validations(ws)
    dates = 0
    for column in task_columns():
        letter = _letter(ws, column.header)
        fmt = _dimension(ws, letter)[1]
        if column.is_date:
            dates += 1
            assert fmt == "yyyy-mm-dd", column.header
            assert found[letter].type == "date", column.header
        else:
            assert fmt == "@", column.header
    assert dates == sum(1 for f in CATALOG.fields if f.kind == "date")


def test_length_limits_checked_where_no_list(full: openpyxl.Workbook) -> None:
    ws = full.worksheets[0]
    found = _validations(ws)
    for column in task_columns():
        f = column.field
        if f is None or f.allowed or f.kind == "date" or not f.max_length:
            continue
        dv = found[_letter(ws, column.header)]
        assert dv.type == "textLength" and dv.formula1 == str(f.max_length), column.header


def test_frozen_header_and_identifier_and_widths(full: openpyxl.Workbook) -> None:
    ws = full.worksheets[0]
    assert ws.freeze_panes == "B2"
    for column in task_columns():
        width = _dimension(ws, _letter(ws, column.header))[0]
        assert max(10, min(len(column.header), 40)) <= width <= 50, column.header


def test_guide_explains_the_conventions(full: openpyxl.Workbook) -> None:
    text = "\n".join(
        str(c.value) for row in full["Guide"].iter_rows() for c in row if c.value is not None
    )
    for phrase in (CLEAR, "empty", ";", "Customer.Contacts[1].Email", "validate", "apply"):
        assert phrase in text
    for column in task_columns():
        assert column.header in text


@pytest.mark.parametrize("task", list(TASKS))
def test_task_templates(tmp_path: Path, task: str) -> None:
    book = _load(write_template(tmp_path / "t.xlsx", task=task))
    headers = _headers(book.worksheets[0])
    assert headers[0] == cat.IDENTIFIER
    assert headers == [c.header for c in task_columns(task)]
    ws = book.worksheets[0]
    assert all(c.comment is not None for c in ws[1])


def test_task_definitions_match_the_catalog() -> None:
    expected = {
        "close-stale": ["LifeCycle.Stage", "LifeCycle.ClosedLostReason", "LifeCycle.NextSteps"],
        "move-dates": ["LifeCycle.TargetCloseDate", "LifeCycle.NextSteps"],
        "fix-websites": ["Customer.Account.WebsiteUrl", "Customer.Account.Address.City"],
        "expected-spend": [
            "Project.ExpectedCustomerSpend[1].Amount",
            "Project.ExpectedCustomerSpend[2].CurrencyCode",
        ],
    }
    for task, some in expected.items():
        headers = [c.header for c in task_columns(task)]
        assert set(some) <= set(headers), task
    address = [f.key for f in CATALOG.fields if f.key.startswith("Customer.Account.Address.")]
    assert set(address) <= {c.header for c in task_columns("fix-websites")}
    with pytest.raises(KeyError):
        tpl._expand(CATALOG, "LifeCycle.Nope")
    with pytest.raises(KeyError):
        tpl._expand(CATALOG, "LifeCycle.ReviewStatus")  # read-only
    with pytest.raises(KeyError):
        task_columns("no-such-task")


def test_examples_fit_their_fields() -> None:
    for column in task_columns():
        f = column.field
        sample = tpl.example(f, column.header)
        if f is None:
            continue
        if f.pattern or f.kind == "date":
            assert sample, f"{column.header} needs an example in template.EXAMPLES"
        if f.pattern and sample:
            assert re.fullmatch(f.pattern, sample), (column.header, sample)
        if f.max_length and sample:
            assert len(sample) <= f.max_length
        if f.min_length and sample:
            assert len(sample) >= f.min_length
        if f.enum and sample and f.kind != "list":
            assert sample in f.enum


def test_meaning_is_one_plain_sentence() -> None:
    f = CATALOG.get("Customer.Account.CompanyName")
    assert tpl.meaning(f, f.key) == (  # type: ignore[arg-type]
        "Specifies the end Customer's company name associated with the Opportunity."
    )


def _content(path: Path) -> list[object]:
    book = _load(path)
    out: list[object] = [book.sheetnames]
    for ws in book.worksheets:
        out.append([[c.value for c in row] for row in ws.iter_rows()])
        out.append(
            [(c.coordinate, c.comment.text) for row in ws.iter_rows() for c in row if c.comment]
        )
        out.append(
            [
                (dv.type, str(dv.sqref), dv.formula1, dv.formula2)
                for dv in ws.data_validations.dataValidation
            ]
        )
        out.append({k: (d.width, d.number_format) for k, d in ws.column_dimensions.items()})
    out.append(book.properties.created)
    return out


def test_rebuild_is_reproducible(tmp_path: Path) -> None:
    a = write_template(tmp_path / "a.xlsx")
    b = write_template(tmp_path / "b.xlsx")
    assert _content(a) == _content(b)


def test_shipped_template_is_up_to_date(tmp_path: Path) -> None:
    fresh = write_template(tmp_path / "fresh.xlsx")
    assert tpl.SHIPPED.exists(), "run: python -m bulk_update.template"
    assert _content(tpl.SHIPPED) == _content(fresh), "run: python -m bulk_update.template"
