"""Issue 16: the task sheets for the calls beside UpdateOpportunity (reassign the owner,
attach solutions, submit), built from the operations' input shapes in the model.

The expected columns, values and rules are read from botocore's model here, not from
the template's code; the sheets are read back with openpyxl and by the tool's reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.worksheet.worksheet import Worksheet
from test_readme import _changes, _console_steps, _table_after  # the README's own readers

from bulk_update import template as tpl
from bulk_update.cli import main
from bulk_update.problems import Outcome
from bulk_update.run.validate import validate_file
from bulk_update.sheet import read as readers

MODEL = botocore.session.get_session().get_service_model("partnercentral-selling")
CALL_TASKS = ("reassign-owner", "attach-solutions", "submit")


def members(operation: str, member: str | None = None) -> list[str]:
    shape = MODEL.operation_model(operation).input_shape
    if member is not None:
        shape = shape.members[member]
    return list(shape.members)


def headers(ws: Worksheet) -> list[str]:
    return [str(c.value) for c in ws[1]]


def guide_text(book: openpyxl.Workbook) -> str:
    return "\n".join(str(c.value) for row in book["Guide"].iter_rows() for c in row if c.value)


def validation(ws: Worksheet, header: str) -> object | None:
    letter = openpyxl.utils.get_column_letter(headers(ws).index(header) + 1)
    for dv in ws.data_validations.dataValidation:
        if any(r.coord.startswith(f"{letter}2") for r in dv.sqref.ranges):
            return dv
    return None


@pytest.fixture(scope="module", params=CALL_TASKS)
def shipped(request: pytest.FixtureRequest) -> tuple[str, openpyxl.Workbook]:
    return request.param, openpyxl.load_workbook(tpl.shipped_path(request.param))


def test_each_job_sheet_has_the_operations_own_members() -> None:
    owner = [f"Assignee.{m}" for m in members("AssignOpportunity", "Assignee")]
    submit = [
        f"Submit.{m}" for m in members("SubmitOpportunity") if m not in ("Catalog", "Identifier")
    ]
    kinds = MODEL.operation_model("AssociateOpportunity").input_shape.members["RelatedEntityType"]
    assert {"Solutions", "AwsProducts"} <= set(kinds.enum)
    expected = {
        "reassign-owner": ["Identifier", *owner],
        "attach-solutions": [
            "Identifier",
            "RelatedEntityIdentifiers.Solutions",
            "RelatedEntityIdentifiers.AwsProducts",
        ],
        "submit": ["Identifier", *submit],
    }
    for task, columns in expected.items():
        ws = openpyxl.load_workbook(tpl.shipped_path(task))[tpl.DATA_SHEET]
        assert headers(ws) == columns, task
        # The tool reads them as the calls' columns.
        sheet = readers.read_sheet(tpl.shipped_path(task))
        assert sheet.headers == columns


def test_the_jobs_are_listed_where_the_cli_lists_templates(tmp_path: Path) -> None:
    listed = CliRunner().invoke(main, ["template", "--list"])
    assert listed.exit_code == 0
    lines = {line.split()[0]: line for line in listed.output.splitlines()}
    assert {"reassign-owner", "attach-solutions", "submit"} <= set(lines)
    for name, line in lines.items():  # the name and its description apart
        assert re.match(rf"^{re.escape(name)}\s{{2,}}\S", line), line
    assert "cannot be undone" in lines["submit"]
    for task in CALL_TASKS:
        out = tmp_path / f"{task}.xlsx"
        result = CliRunner().invoke(main, ["template", str(out), "--task", task])
        assert result.exit_code == 0, result.output
        assert headers(openpyxl.load_workbook(out)[tpl.DATA_SHEET]) == headers(
            openpyxl.load_workbook(tpl.shipped_path(task))[tpl.DATA_SHEET]
        )


def test_every_column_has_its_note_hint_and_the_guide_names_it(
    shipped: tuple[str, openpyxl.Workbook],
) -> None:
    task, book = shipped
    ws = book[tpl.DATA_SHEET]
    guide = guide_text(book)
    assert f"Task: {task}" in guide
    assert "Owner, solutions and products, submission" in guide
    for cell in ws[1]:
        assert cell.comment is not None and "Example: " in cell.comment.text, cell.value
        assert str(cell.value) in guide
    for header in headers(ws)[1:]:
        comment = ws.cell(1, headers(ws).index(header) + 1).comment
        assert comment is not None
        operation = {"Assignee": "AssignOpportunity", "Submit": "SubmitOpportunity"}
        if header.split(".")[0] in operation:
            assert operation[header.split(".")[0]] in comment.text, header
            assert "#CLEAR is refused" in comment.text, header
        else:
            assert "#CLEAR empties it" in comment.text, header


def test_the_submission_values_are_the_models_in_a_strict_dropdown() -> None:
    book = openpyxl.load_workbook(tpl.shipped_path("submit"))
    ws = book[tpl.DATA_SHEET]
    inputs = MODEL.operation_model("SubmitOpportunity").input_shape.members
    for member in ("InvolvementType", "Visibility"):
        dv = validation(ws, f"Submit.{member}")
        assert dv is not None and dv.type == "list", member  # type: ignore[attr-defined]
        assert dv.errorStyle in (None, "stop"), member  # type: ignore[attr-defined]
        sheet, cells = str(dv.formula1).lstrip("=").split("!")  # type: ignore[attr-defined]
        values = [c.value for row in book[sheet.strip("'")][cells.replace("$", "")] for c in row]
        assert values == list(inputs[member].enum), member  # no #CLEAR: nothing to empty
    assert "cannot be undone" in guide_text(book)


def test_the_owner_email_is_checked_in_excel_and_the_lists_are_left_to_validate() -> None:
    ws = openpyxl.load_workbook(tpl.shipped_path("reassign-owner"))[tpl.DATA_SHEET]
    email = validation(ws, "Assignee.Email")
    assert email is not None and email.type == "custom"  # type: ignore[attr-defined]
    book = openpyxl.load_workbook(tpl.shipped_path("attach-solutions"))
    ws = book[tpl.DATA_SHEET]
    assert validation(ws, "RelatedEntityIdentifiers.Solutions") is None
    pattern = MODEL.shape_for("SolutionIdentifier").metadata.get("pattern")
    assert pattern and pattern in guide_text(book)


def test_the_call_columns_examples_fit_their_fields() -> None:
    for task in CALL_TASKS:
        for column in tpl.task_columns(task)[1:]:
            f = column.field
            assert f is not None
            sample = tpl.example(f, column.header)
            assert sample, column.header
            items = [i.strip() for i in sample.split(";")] if f.kind == "list" else [sample]
            for item in items:
                if f.pattern:
                    assert re.fullmatch(f.pattern, item), (column.header, item)
                if f.max_length:
                    assert len(item) <= f.max_length, column.header
                if f.enum:
                    assert item in f.enum, column.header


@pytest.mark.parametrize("task", CALL_TASKS)
def test_a_job_sheet_filled_with_its_examples_validates(task: str, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(tpl.shipped_path(task))
    ws = book[tpl.DATA_SHEET]
    for col, cell in enumerate(ws[1], start=1):
        assert cell.comment is not None
        example = re.search(r"^Example: (.+)$", cell.comment.text, re.M)
        assert example is not None, cell.value
        ws.cell(2, col, example.group(1)).number_format = "@"
    path = tmp_path / f"{task}.xlsx"
    book.save(path)
    checked = validate_file(path, out=tmp_path / "results.xlsx")
    assert [r.outcome for r in checked.results] == [Outcome.VALID], [
        (p.column, p.message) for p in checked.problems
    ]
    # ... and a typo in an owner or solution cell is not.
    ws.cell(2, 2, "not an id or an e-mail")
    book.save(path)
    checked = validate_file(path, out=tmp_path / "results-2.xlsx")
    assert [r.outcome for r in checked.results] == [Outcome.INVALID]


# -- the README's worked examples, replayed against the emulator -------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("job", ["reassign", "solutions", "submit"])
def test_the_readme_job_examples_print_what_the_readme_shows(
    job: str, fresh_emulator: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import FAST

    emu = fresh_emulator(**FAST)  # type: ignore[operator]
    text = README.read_text(encoding="utf-8")
    jobs = text[text.index("<!-- jobs:start -->") : text.index("<!-- jobs:end -->")]
    part = jobs[jobs.index(f"<!-- job:{job} -->") :]
    after = part.index(f"<!-- job:{job}:changes -->") + 1
    part = part[: part.find("<!-- job:", after) if "<!-- job:" in part[after:] else None]
    rows = _table_after(part, f"<!-- job:{job} -->")
    expected_changes = _table_after(part, f"<!-- job:{job}:changes -->")
    steps = _console_steps(part)
    assert [s[0] for s in steps] == [
        f"bulk-update apply {job}.csv --catalog Sandbox --dry-run",
        f"bulk-update apply {job}.csv --catalog Sandbox",
    ]
    monkeypatch.chdir(tmp_path)
    with (tmp_path / f"{job}.csv").open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(rows[0]) + "\n")
        fh.writelines(",".join(r.values()) + "\n" for r in rows)
    env = {
        "BULK_UPDATE_HOME": str(tmp_path / "home"),
        "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING": emu.url,
    }
    for command, printed in steps:
        result = CliRunner().invoke(main, command.split()[1:], env=env)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[: len(printed)] == printed, command
        if "--dry-run" in command:
            assert _changes(tmp_path / f"{job}.dry-run.xlsx") == expected_changes
    again = CliRunner().invoke(main, steps[0][0].split()[1:], env=env)
    assert again.output.splitlines()[0] == f"{len(rows)} rows: {len(rows)} unchanged"
