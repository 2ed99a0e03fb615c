"""The template workbook: every column the catalog offers, with its help, list and format.

The checks walk the catalog, not a hand list, so a field that a new botocore
adds is covered without touching this file.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bulk_update import fields as cat
from bulk_update import template as tpl
from bulk_update.errors import BulkUpdateError, OutputExists
from bulk_update.template import CLEAR, TASKS, task_columns, write_template

CATALOG = cat.load()
NOT_CLEARABLE = ("Assignee.", "Submit.")
"""Issue 16: the owner and a submission cannot be emptied, whatever the model's flag."""


def _clearable(f: cat.Field) -> bool:
    return not f.required and not f.key.startswith(NOT_CLEARABLE)


ID_LIKE = ("Identifier", "AwsAccountId", "Duns", "PostalCode", "Phone", "Amount")


def _load(path: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    return _load(write_template(tmp_path_factory.mktemp("t") / "full.xlsx"))


@pytest.fixture(scope="module", params=list(TASKS))
def each(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, openpyxl.Workbook]:
    """Every template (the full one and each task's), with its task name."""
    task: str = request.param
    return task, _load(write_template(tmp_path_factory.mktemp(task) / f"{task}.xlsx", task=task))


def _headers(ws: Worksheet) -> list[str]:
    return [str(c.value) for c in ws[1]]


def _validations(ws: Worksheet) -> dict[str, DataValidation]:
    """Column letter -> the data validation that covers row 2 of it."""
    found: dict[str, DataValidation] = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            letter = re.match(r"[A-Z]+", cell_range.coord).group(0)  # type: ignore[union-attr]
            assert cell_range.min_row == 2
            found[letter] = dv
    return found


def _dimension(ws: Worksheet, letter: str) -> tuple[float, str]:
    """Width and number format of a column (openpyxl keeps runs of equal columns as one)."""
    index = column_index_from_string(letter)
    for dim in ws.column_dimensions.values():
        if (dim.min or 0) <= index <= (dim.max or 0):
            return dim.width, dim.number_format
    raise AssertionError(f"column {letter} has no width or format")


def _letter(ws: Worksheet, header: str) -> str:
    return get_column_letter(_headers(ws).index(header) + 1)


def test_data_sheet_first_guide_next_lists_hidden(full: openpyxl.Workbook) -> None:
    assert full.sheetnames == [tpl.DATA_SHEET, "Guide", "_lists"]
    assert full.active is not None and full.active.title == tpl.DATA_SHEET
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
    from bulk_update.sheet import columns
    from bulk_update.sheet import read as readers

    for task in TASKS:
        sheet = readers.read_sheet(write_template(tmp_path / f"{task}.xlsx", task=task))
        assert sheet.headers == [c.header for c in task_columns(task)]
        layout = columns.resolve(sheet.headers, CATALOG)
        # Issue 16: the owner, related-entity and submission columns are the calls'.
        roles = {"identifier", "last-modified", "field", "call"}
        assert {c.role for c in layout.columns} <= roles
        calls = [c.header for c in layout.columns if c.role == "call"]
        assert calls == [
            c for c in sheet.headers if c.startswith(("Assignee.", "Related", "Submit."))
        ]


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


def test_every_column_has_a_comment(each: tuple[str, openpyxl.Workbook]) -> None:
    task, book = each
    ws = book.worksheets[0]
    for column, cell in zip(task_columns(task), ws[1], strict=True):
        assert cell.comment is not None, column.header
        text = cell.comment.text
        assert text.startswith(column.header + "\n")
        assert "<" not in text  # HTML stripped
        f = column.field
        if f is not None and f.allowed:
            assert f.allowed[0] in text
        if f is not None and (f.allowed or f.kind == "date" or f.pattern):
            assert "Example: " in text, column.header


def test_every_enum_field_has_a_dropdown(each: tuple[str, openpyxl.Workbook]) -> None:
    task, book = each
    ws = book.worksheets[0]
    lists = book["_lists"]
    assert lists.sheet_state == "hidden"
    found = _validations(ws)
    for column in task_columns(task):
        f = column.field
        if f is None or not f.allowed:
            continue
        dv = found[_letter(ws, column.header)]
        assert dv.type == "list", column.header
        sheet, rng = str(dv.formula1).split("!")
        assert sheet.strip("'") == "_lists"
        values = [c.value for row in lists[rng.replace("$", "")] for c in row]
        expected = list(f.allowed) + ([CLEAR] if _clearable(f) else [])
        assert values == expected, column.header
        strict = bool(f.enum) and f.kind != "list"
        assert bool(dv.showErrorMessage) is strict, column.header


def test_inline_lists_never_exceed_excel_limit(each: tuple[str, openpyxl.Workbook]) -> None:
    for dv in each[1].worksheets[0].data_validations.dataValidation:
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


def test_every_non_date_column_is_text_and_dates_are_dates(
    each: tuple[str, openpyxl.Workbook],
) -> None:
    task, book = each
    ws = book.worksheets[0]
    found = _validations(ws)
    dates = 0
    for column in task_columns(task):
        letter = _letter(ws, column.header)
        fmt = _dimension(ws, letter)[1]
        if column.is_date:
            dates += 1
            assert fmt == "yyyy-mm-dd", column.header
            assert found[letter].type == "date", column.header
        else:
            assert fmt == "@", column.header
    assert dates == sum(1 for c in task_columns(task) if c.field and c.field.kind == "date")
    if task == tpl.DEFAULT_TASK:
        assert dates == sum(1 for f in CATALOG.fields if f.kind == "date")


def test_length_limits_checked_where_no_list(each: tuple[str, openpyxl.Workbook]) -> None:
    task, book = each
    ws = book.worksheets[0]
    found = _validations(ws)
    for column in task_columns(task):
        f = column.field
        if f is None or f.allowed or f.kind == "date" or not f.max_length:
            continue
        letter = _letter(ws, column.header)
        dv = found[letter]
        if f.pattern or (f.min_length or 0) > 1:  # issue 15: the pattern's formula holds the limit
            assert dv.type == "custom", column.header
            assert f"LEN({letter}2)<={f.max_length}" in str(dv.formula1), column.header
        else:
            assert dv.type == "textLength" and dv.formula1 == str(f.max_length), column.header


def test_frozen_header_and_identifier_and_widths(each: tuple[str, openpyxl.Workbook]) -> None:
    task, book = each
    ws = book.worksheets[0]
    assert ws.freeze_panes == "B2"
    for column in task_columns(task):
        width = _dimension(ws, _letter(ws, column.header))[0]
        assert max(10, min(len(column.header), 40)) <= width <= 50, column.header


def test_guide_explains_the_conventions(each: tuple[str, openpyxl.Workbook]) -> None:
    task, book = each
    assert book.sheetnames == [tpl.DATA_SHEET, "Guide", "_lists"]
    text = "\n".join(
        str(c.value) for row in book["Guide"].iter_rows() for c in row if c.value is not None
    )
    for phrase in (CLEAR, "empty", ";", "Customer.Contacts[1].Email", "validate", "apply"):
        assert phrase in text
    assert f"Task: {task}" in text
    for column in task_columns(task):
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
            assert sample, f"{column.header} needs an example in guidance.EXAMPLES"
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
    assert f is not None
    assert tpl.meaning(f, f.key) == (
        "Specifies the end Customer's company name associated with the Opportunity."
    )


def _content(path: Path) -> list[object]:
    """What a template holds, as openpyxl reads it: values, comments, validations, formats."""
    book = _load(path)
    out: list[object] = [book.sheetnames, book.active.title if book.active else None]
    for ws in book.worksheets:
        out.append((ws.title, ws.sheet_state, ws.freeze_panes))
        out.append([[c.value for c in row] for row in ws.iter_rows()])
        out.append(
            [
                (c.coordinate, c.number_format, c.fill.fgColor.rgb, c.font.b)
                for row in ws.iter_rows(max_row=1)
                for c in row
            ]
        )
        out.append(
            [(c.coordinate, c.comment.text) for row in ws.iter_rows() for c in row if c.comment]
        )
        out.append(
            [
                (
                    dv.type,
                    str(dv.sqref),
                    dv.formula1,
                    dv.formula2,
                    dv.operator,
                    dv.showErrorMessage,
                    dv.errorStyle,
                    dv.error,
                    dv.prompt,
                )
                for dv in ws.data_validations.dataValidation
            ]
        )
        out.append({k: (d.width, d.number_format) for k, d in ws.column_dimensions.items()})
        out.append({k: d.height for k, d in ws.row_dimensions.items()})
    out.append((book.properties.created, book.properties.subject))
    return out


def test_rebuild_is_reproducible(tmp_path: Path) -> None:
    a = write_template(tmp_path / "a.xlsx")
    b = write_template(tmp_path / "b.xlsx")
    assert _content(a) == _content(b)
    assert a.read_bytes() == b.read_bytes()  # xlsxwriter with a fixed creation time


def test_rebuild_does_not_depend_on_hash_order(tmp_path: Path) -> None:
    """The flaky rebuild: a rule listed a list's items from a set (of match objects, hashed
    by address), so the conditional formats came in another order now and then. A fresh
    interpreter per hash seed shows it every time; the bytes must be the same for all."""
    script = (
        "import sys; from bulk_update.template import write_template; write_template(sys.argv[1])"
    )
    digests = set()
    for seed in ("1", "2", "3", "4"):
        out = tmp_path / f"seed{seed}.xlsx"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True)
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_every_task_ships_under_its_own_name() -> None:
    names = {tpl.shipped_path(task).name for task in TASKS}
    assert len(names) == len(TASKS)
    assert tpl.shipped_path() == tpl.SHIPPED
    assert tpl.shipped_path("close-stale").name == "close-stale.xlsx"
    # the CLI's default file name for --task NAME is the shipped name
    assert all(tpl.shipped_path(t).name == f"{t}.xlsx" for t in TASKS if t != tpl.DEFAULT_TASK)
    on_disk = {p.name for p in tpl.TEMPLATES_DIR.glob("*.xlsx")}
    assert on_disk == names, "run: python -m bulk_update.template (and remove stale files)"


@pytest.mark.parametrize("task", list(TASKS))
def test_shipped_templates_are_up_to_date(tmp_path: Path, task: str) -> None:
    """Compared by content (what openpyxl reads), so a new xlsxwriter release does not fail it."""
    shipped = tpl.shipped_path(task)
    assert shipped.exists(), "run: python -m bulk_update.template"
    fresh = write_template(tmp_path / shipped.name, task=task)
    assert _content(shipped) == _content(fresh), "run: python -m bulk_update.template"


def test_write_shipped_writes_every_template(tmp_path: Path) -> None:
    written = tpl.write_shipped(tmp_path)
    assert sorted(p.name for p in written) == sorted(tpl.shipped_path(t).name for t in TASKS)
    assert all(p.parent == tmp_path for p in written)


def _needs_validation(column: tpl.TemplateColumn) -> str | None:
    """The kind of data validation a column must carry, from the catalog alone."""
    f = column.field
    if f is None:
        return "custom" if column.header == cat.IDENTIFIER else None
    if f.allowed:
        return "list"
    if f.kind == "date":
        return "date"
    if f.kind == "list":  # issue 16: Excel cannot check the items of a ; list
        return None
    if f.pattern or (f.min_length or 0) > 1:  # issue 15: a formula from the pattern and length
        return "custom"
    if f.max_length and f.max_length >= len(CLEAR):
        return "textLength"
    return None


def test_validations_exactly_where_the_catalog_asks(each: tuple[str, openpyxl.Workbook]) -> None:
    task, book = each
    ws = book.worksheets[0]
    found = _validations(ws)
    for column in task_columns(task):
        letter = _letter(ws, column.header)
        kind = _needs_validation(column)
        if kind is None:
            assert letter not in found, column.header
            continue
        dv = found[letter]
        assert dv.type == kind, column.header
        assert str(dv.sqref) == f"{letter}2:{letter}{tpl.LAST_ROW + 1}", column.header
        assert dv.prompt and dv.promptTitle, column.header  # the input message
        if dv.showErrorMessage:
            assert dv.error and dv.errorTitle, column.header
    assert found[_letter(ws, cat.IDENTIFIER)].errorStyle in (None, "stop")


def test_comments_state_the_rules(each: tuple[str, openpyxl.Workbook]) -> None:
    task, book = each
    ws = book.worksheets[0]
    for column, cell in zip(task_columns(task), ws[1], strict=True):
        f = column.field
        assert cell.comment is not None, column.header
        text = cell.comment.text
        if f is None:
            continue
        if f.kind == "list":
            assert "separate them with ;" in text, column.header
        if f.kind == "date":
            assert "A date, e.g." in text, column.header
        if f.max_length:
            assert f"At most {f.max_length} characters" in text, column.header
        if not _clearable(f) and not f.record_list:
            assert f"{CLEAR} is refused" in text, column.header
        elif _clearable(f):
            assert f"{CLEAR} empties it" in text, column.header


# -- what write_template refuses (issue 11 points 4 and 6) ---------------------------


def test_an_existing_file_is_not_replaced_unless_forced(tmp_path: Path) -> None:
    mine = tmp_path / "opportunity-update.xlsx"
    mine.write_bytes(b"my edited sheet")
    with pytest.raises(OutputExists, match="already exists.*--force"):
        write_template(mine)
    assert mine.read_bytes() == b"my edited sheet"
    write_template(mine, force=True)
    assert _load(mine).sheetnames[0] == "Opportunities"


@pytest.mark.parametrize("name", ["x.csv", "x.xls", "x.xlsm", "x"])
def test_a_name_that_is_not_xlsx_is_refused_and_nothing_written(tmp_path: Path, name: str) -> None:
    with pytest.raises(BulkUpdateError, match=r"must end in \.xlsx, e\.g\. x\.xlsx"):
        write_template(tmp_path / name)
    assert list(tmp_path.iterdir()) == []
