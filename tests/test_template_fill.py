"""Fill each shipped template the way a person does in Excel, then validate and dry-run it.

The "person" opens the shipped file, types an opportunity id under
``Identifier``, picks values from each dropdown (reading the list the cell's
validation points to, as Excel shows it), types a real date into a date cell
and digits into a text cell, and saves. Every value typed must be one the
cell's validation accepts, since Excel would refuse the others. Then
``validate`` must find every row valid, and ``apply --dry-run`` against the
emulator must plan an update on every row and write nothing.

The columns come from the template, not from a list here: a field that a new
botocore adds is filled too (from its dropdown, its date format or the
example its header comment shows).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from apply_helpers import make_pc
from excel_formula import Formula
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bulk_update import calls
from bulk_update import fields as cat
from bulk_update import template as tpl
from bulk_update.problems import Change, Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.validate import validate_file
from bulk_update.template import CLEAR, TASKS, TemplateColumn, task_columns

SEED = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"
ROWS = 3
TODAY = date(2026, 11, 26)
"""Fixed 'today' for the date rules, so the typed dates stay in the future."""
FIRST_DATE = date(2027, 6, 30)

# What a person would pick for the fields the cross-field rules tie together
# (Industry 'Other' needs OtherIndustry, NationalSecurity 'Yes' needs Government,
# Marketing.UseCases needs funding, ...), or where a coherent address matters.
# The value must still be in the cell's dropdown when the column has one.
CHOSEN: dict[str, str] = {
    "NationalSecurity": "No",
    "Marketing.AwsFundingUsed": "Yes",
    "Customer.Account.Address.CountryCode": "US",
    "Customer.Account.Address.StateOrRegion": "Massachusetts",
    # cleared: they go with values this fill does not choose
    "LifeCycle.ClosedLostReason": CLEAR,
    "Customer.Account.OtherIndustry": CLEAR,
    "Project.OtherCompetitorNames": CLEAR,
}
# A second contact is another person.
SECOND_ITEM = {
    "Email": "sam.lee@example.com",
    "FirstName": "Sam",
    "LastName": "Lee",
    "BusinessTitle": "CFO",
    "Phone": "+442071234567",
}
# Dropdown values a generic pick avoids, because a rule then needs another field.
AVOID = {"Closed Lost", "Other", "Government", "*Other"}
# What the close-stale job means: close as lost, with a reason.
TASK_CHOSEN: dict[str, dict[str, str]] = {
    "close-stale": {"LifeCycle.Stage": "Closed Lost"},
}


def _pending_ids() -> list[str]:
    """Sandbox records in Pending Submission (every field editable), from the seed."""
    records = json.loads(SEED.read_text(encoding="utf-8"))
    return sorted(
        r["Id"]
        for r in records
        if r.get("Catalog", "Sandbox") == "Sandbox"
        and r["LifeCycle"].get("ReviewStatus") == "Pending Submission"
    )


def _live(record: dict[str, Any], column: TemplateColumn) -> Any:
    """The record's current value for a column (None when absent)."""
    node: Any = record
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", column.header):
        if part.startswith("["):
            index = int(part[1:-1]) - 1
            node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


# -- what Excel shows and accepts -------------------------------------------------


def _validation_at(ws: Worksheet, coordinate: str) -> DataValidation | None:
    for dv in ws.data_validations.dataValidation:
        if coordinate in dv.sqref:
            return dv
    return None


def dropdown(book: openpyxl.Workbook, dv: DataValidation | None) -> list[str]:
    """The values a list validation offers, read from the range it points to."""
    if dv is None or dv.type != "list":
        return []
    sheet, cells = str(dv.formula1).lstrip("=").split("!")
    ws = book[sheet.strip("'")]
    return [str(c.value) for row in ws[cells.replace("$", "")] for c in row if c.value is not None]


def excel_accepts(book: openpyxl.Workbook, dv: DataValidation | None, value: object) -> bool:
    """Whether Excel lets this value into a cell with this validation (stop errors only)."""
    if dv is None or not dv.showErrorMessage or dv.errorStyle not in (None, "stop"):
        return True
    if dv.type == "list":
        return str(value) in dropdown(book, dv)
    if dv.type == "textLength":
        return len(str(value)) <= int(str(dv.formula1))
    if dv.type == "custom":  # the formula, run on the value (it names the column's row-2 cell)
        letter = re.match(r"[A-Z]+", str(dv.sqref)).group(0)  # type: ignore[union-attr]
        return Formula(str(dv.formula1)).holds({f"{letter}2": value})
    return True


def column_format(ws: Worksheet, col: int) -> str:
    """The number format a column gives the cells typed into it."""
    for d in ws.column_dimensions.values():
        if (d.min or 0) <= col <= (d.max or 0):
            return str(d.number_format)
    return "General"


def type_into(book: openpyxl.Workbook, ws: Worksheet, row: int, col: int, value: Any) -> None:
    """Type a value into a cell: it takes the column's format, as in Excel."""
    cell = ws.cell(row=row, column=col)
    dv = _validation_at(ws, cell.coordinate)
    assert excel_accepts(book, dv, value), (cell.coordinate, value)
    fmt = column_format(ws, col)
    if fmt == "@":
        assert isinstance(value, str), "a text cell keeps what is typed as text"
    else:
        assert isinstance(value, date), "only date columns have another format"
    cell.value = value
    cell.number_format = fmt


# -- what a person types ------------------------------------------------------------


def _pick(choices: list[str], live: Any, n: int, several: bool) -> str:
    current = set(live) if isinstance(live, list) else {live}
    usable = [c for c in choices if c != CLEAR and c not in AVOID]
    assert usable, "the dropdown offers nothing to pick"
    fresh = [c for c in usable if c not in current] or usable  # one-value lists: that value
    if several:  # a list field: two values, separated by ;
        first = fresh[n % len(fresh)]
        second = fresh[(n + 1) % len(fresh)]
        return f"{first}; {second}" if second != first else first
    return fresh[n % len(fresh)]


def person_value(
    task: str, column: TemplateColumn, record: dict[str, Any], choices: list[str], n: int
) -> object:
    """What a person types or picks in this column for the n-th row (None: leave empty)."""
    f = column.field
    if column.header == cat.IDENTIFIER:
        return record["Id"]
    if f is None:  # LastModifiedDate: only ever copied from an export
        return None
    chosen = {**CHOSEN, **TASK_CHOSEN.get(task, {})}
    if task == "close-stale" and column.header == "LifeCycle.ClosedLostReason":
        chosen.pop(column.header)  # the job gives a reason, picked from the list
    if column.header in chosen:
        value = chosen[column.header]
        if choices:
            assert value in choices, (column.header, value)
        return value
    live = _live(record, column)
    if choices:
        return _pick(choices, live, n, several=f.kind == "list")
    if f.kind == "date":
        offset = 0 if "Effective" in f.key else 365 if "Expiration" in f.key else n
        return FIRST_DATE + timedelta(days=offset)  # a real date, as Excel stores one
    sample = tpl.example(f, column.header)
    if "[2]." in column.header and f.path[-1] in SECOND_ITEM:
        sample = SECOND_ITEM[f.path[-1]]
    if not sample:
        sample = f"Updated in review {n + 1}"
    if f.pattern is None and not (f.min_length or 0) > len(sample) + 6 and sample == live:
        sample = f"{sample} ({n + 1})"
    if f.max_length:
        sample = sample[: f.max_length]
    return sample


def fill(task: str, out: Path, ids: list[str]) -> tuple[Path, list[dict[str, object]]]:
    """Open the shipped template, fill one row per id, save; return the file and what was typed."""
    records = {r["Id"]: r for r in json.loads(SEED.read_text(encoding="utf-8"))}
    book = openpyxl.load_workbook(tpl.shipped_path(task))
    ws = book[tpl.DATA_SHEET]
    headers = [c.value for c in ws[1]]
    columns = task_columns(task)
    assert headers == [c.header for c in columns]
    typed: list[dict[str, object]] = []
    for n, ident in enumerate(ids):
        row = n + 2
        entered: dict[str, object] = {}
        for col, column in enumerate(columns, start=1):
            dv = _validation_at(ws, ws.cell(row=row, column=col).coordinate)
            value = person_value(task, column, records[ident], dropdown(book, dv), n)
            if value is None:
                continue
            type_into(book, ws, row, col, value)
            entered[column.header] = value
        typed.append(entered)
    book.save(out)
    return out, typed


def _as_sheet_text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def assert_call_typed(change: Change, entered: dict[str, object]) -> None:
    """A call of the plan (issue 16) is one the typed cells ask for: the owner typed, an
    entity typed (associated) or not typed (disassociated), the submission typed."""
    operation, _, column = change.column.partition(" ")
    if operation == calls.SUBMIT:
        asked = [str(v) for k, v in entered.items() if k.startswith("Submit.")]
        assert asked and all(v in change.new for v in asked), change
        return
    assert column in entered, change
    items = {v.strip() for v in str(entered[column]).split(";")}
    if operation == calls.ASSOCIATE:
        assert change.new in items, change
    elif operation == calls.DISASSOCIATE:
        assert change.old not in items and change.new == "", change
    else:
        assert change.new == entered[column], change


@pytest.fixture(scope="module")
def ids() -> list[str]:
    found = _pending_ids()
    assert len(found) >= ROWS * 2
    return found


@pytest.mark.parametrize("task", list(TASKS))
def test_filled_template_validates_and_dry_runs(
    task: str, ids: list[str], emulator: Any, tmp_path: Path
) -> None:
    start = list(TASKS).index(task) % 2 * ROWS
    chosen_ids = ids[start : start + ROWS]
    path, typed = fill(task, tmp_path / f"{task}-filled.xlsx", chosen_ids)

    # what was saved is what a person typed: dates as dates, digits as text
    saved = openpyxl.load_workbook(path)[tpl.DATA_SHEET]
    for column in task_columns(task):
        if column.is_date and column.header in typed[0]:
            cell = saved.cell(row=2, column=[c.value for c in saved[1]].index(column.header) + 1)
            assert isinstance(cell.value, datetime) and cell.is_date, column.header

    checked = validate_file(path, out=tmp_path / "validate.xlsx", today=TODAY)
    assert [r.outcome for r in checked.results] == [Outcome.VALID] * ROWS, [
        (r.identifier, r.message) for r in checked.results
    ]
    assert not [p for p in checked.problems if p.is_error]

    before = dict(emulator.counters()["writes_per_id"])
    pc = make_pc(emulator.url)
    settings = ApplySettings(
        catalog="Sandbox", dry_run=True, out=tmp_path / "dry-run.xlsx", today=TODAY
    )
    planned = apply_file(path, pc, settings)
    assert [r.outcome for r in planned.results] == [Outcome.WOULD_UPDATE] * ROWS, [
        (r.identifier, r.outcome, r.message) for r in planned.results
    ]
    assert planned.results_path.exists()
    assert planned.exit_code == 0
    assert pc.stats.writes == 0
    assert dict(emulator.counters()["writes_per_id"]) == before == {}

    # every planned change is one the person typed, with the value as typed
    for result, entered in zip(planned.results, typed, strict=True):
        assert result.changes, result.identifier
        for change in result.changes:
            if change.column.split(" ")[0] in calls.OPERATIONS:
                assert_call_typed(change, entered)
                continue
            assert change.column in entered, (result.identifier, change.column)
            value = entered[change.column]
            if value == CLEAR:
                assert change.new == "", change
            elif isinstance(value, str) and ";" in value:
                assert {v.strip() for v in change.new.split(";")} == {
                    v.strip() for v in value.split(";")
                }, change
            else:
                assert change.new == _as_sheet_text(value), change


def test_digits_and_dates_survive_as_typed(emulator: Any, ids: list[str], tmp_path: Path) -> None:
    """Leading zeros and a phone's + are kept; a date cell is planned as its ISO date."""
    path, typed = fill(tpl.DEFAULT_TASK, tmp_path / "full.xlsx", ids[:1])
    entered = typed[0]
    assert entered["Customer.Account.AwsAccountId"] == "012345678901"
    assert entered["Customer.Account.Address.PostalCode"] == "02139"
    assert str(entered["Customer.Contacts[1].Phone"]).startswith("+")
    settings = ApplySettings(catalog="Sandbox", dry_run=True, out=tmp_path / "r.xlsx", today=TODAY)
    planned = apply_file(path, make_pc(emulator.url), settings)
    new = {c.column: c.new for c in planned.results[0].changes}
    assert new["Customer.Account.AwsAccountId"] == "012345678901"
    assert new["Customer.Account.Address.PostalCode"] == "02139"
    assert new["Customer.Contacts[1].Phone"] == entered["Customer.Contacts[1].Phone"]
    assert new["LifeCycle.TargetCloseDate"] == FIRST_DATE.isoformat()
