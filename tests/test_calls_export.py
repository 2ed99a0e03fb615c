"""Issue 16 point 4: the export writes the owner and the related entities as editable
columns, and its baseline carries them, so the round trip through ``apply`` works.

Every record is read through a real boto3 client from the emulator; the expected
cells are computed from the emulator's own records (OpportunityTeam's first member,
RelatedEntityIdentifiers), never from the export's code.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, pick, without, writes
from conftest import FAST
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from bulk_update import calls
from bulk_update.emulator.calls import solutions
from bulk_update.errors import ColumnError
from bulk_update.export.job import export_opportunities
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.sheet import read as readers
from bulk_update.sheet.columns import resolve

ASSIGNEE_COLUMNS = [f.key for f in calls.assignee_fields()]
RELATED_COLUMNS = [f.key for f in calls.related_fields()]
SUBMIT_COLUMNS = [f.key for f in calls.submit_fields()]


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def export(emulator: Any, path: Path, **kwargs: Any) -> Any:
    return export_opportunities(make_pc(emulator.url), path, **kwargs)


def expected_cells(record: dict[str, Any]) -> dict[str, str]:
    """The owner and entity cells of a record, from the record itself."""
    owner = (record.get("OpportunityTeam") or [{}])[0]
    out = {f"Assignee.{k}": str(owner.get(k) or "") for k in ("Email", "FirstName", "LastName")}
    out["Assignee.BusinessTitle"] = str(owner.get("BusinessTitle") or "")
    out["Assignee.Phone"] = str(owner.get("Phone") or "")
    held = record.get("RelatedEntityIdentifiers") or {}
    for column in RELATED_COLUMNS:
        out[column] = ";".join(held.get(column.split(".", 1)[1]) or [])
    return out


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    sheet = readers.read_sheet(path)
    out = {}
    for i in range(len(sheet.cells)):
        row = dict(zip(sheet.headers, [str(v) for v in sheet.cells.iloc[i].tolist()], strict=True))
        out[row["Identifier"]] = row
    return out


def test_the_default_export_holds_the_owner_and_entity_columns_filled_from_the_records(
    emulator: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emulator, out)
    sheet = readers.read_sheet(out)
    headers = sheet.headers
    # In the model's order, after the editable fields, before the read-only review status.
    calls_at = [headers.index(c) for c in [*ASSIGNEE_COLUMNS, *RELATED_COLUMNS]]
    assert calls_at == sorted(calls_at) == list(range(calls_at[0], calls_at[0] + len(calls_at)))
    assert headers.index("Project.Title") < calls_at[0]
    assert calls_at[-1] < headers.index("LifeCycle.ReviewStatus")
    assert not any(h.startswith("Submit") for h in headers)
    records = emulator.records("Sandbox")
    rows = rows_of(out)
    assert set(rows) == set(records)
    owners = set()
    for identifier, record in records.items():
        for column, value in expected_cells(record).items():
            assert rows[identifier][column] == value, (identifier, column)
        owners.add(rows[identifier]["Assignee.Email"])
    assert "" not in owners  # every seeded record has an owner: the cells were filled
    assert any(";" in r["RelatedEntityIdentifiers.AwsProducts"] for r in rows.values())
    # The reader sees them as the calls' columns, and the baseline holds the same cells.
    layout = resolve(headers, calls.catalog.load())
    assert [c.header for c in layout.calls] == [*ASSIGNEE_COLUMNS, *RELATED_COLUMNS]
    assert sheet.baseline is not None
    assert list(sheet.baseline.columns) == headers
    for column in [*ASSIGNEE_COLUMNS, *RELATED_COLUMNS]:
        assert sheet.baseline[column].tolist() == sheet.cells[headers.index(column)].tolist()


def test_the_owner_and_entity_cells_are_editable_with_their_hint(
    emulator: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emulator, out)
    ws = load_workbook(out)["Opportunities"]
    headers = [c.value for c in ws[1]]
    prompts = {
        str(dv.sqref).split(":")[0].rstrip("0123456789"): dv
        for dv in ws.data_validations.dataValidation
    }
    for name in ["Identifier", *ASSIGNEE_COLUMNS, *RELATED_COLUMNS]:
        index = headers.index(name) + 1
        # The column's format (an empty cell has no style of its own).
        dim = next(d for d in ws.column_dimensions.values() if d.min <= index <= d.max)
        editable = name != "Identifier"  # the frame's column, as the control
        assert dim.protection.locked is not editable, name
        assert str(dim.fill.fgColor.rgb).endswith("E7E6E6") is not editable, name
        assert dim.number_format == "@", name
        assert prompts[get_column_letter(index)].prompt, name
    email = ws.cell(2, headers.index("Assignee.Email") + 1)
    assert "AssignOpportunity" in prompts[email.column_letter].prompt
    assert "#CLEAR empties it" not in prompts[email.column_letter].prompt
    # The model's pattern for the e-mail is checked in Excel too (warning style).
    assert prompts[email.column_letter].type == "custom"
    solutions = ws.cell(2, headers.index("RelatedEntityIdentifiers.Solutions") + 1)
    assert "last solution" in prompts[solutions.column_letter].prompt


def test_the_guide_says_why_there_are_no_submit_columns(emulator: Any, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emulator, out)
    book = load_workbook(out)
    assert book.sheetnames[0] == "Opportunities"
    guide = book["Guide"]
    assert guide.sheet_state == "visible"
    text = "\n".join(str(c.value) for row in guide.iter_rows() for c in row if c.value)
    assert "no Submit columns" in text and "cannot be undone" in text
    involvement = calls.submit_fields()[0]
    assert involvement.key in text
    assert all(value in text for value in involvement.allowed)
    # The data sheet is still the one read.
    assert readers.read_sheet(out).sheet_name == "Opportunities"


def test_columns_all_and_a_named_list_take_the_call_columns(emulator: Any, tmp_path: Path) -> None:
    export(emulator, tmp_path / "all.xlsx", columns="all")
    headers = readers.read_sheet(tmp_path / "all.xlsx").headers
    assert all(c in headers for c in [*ASSIGNEE_COLUMNS, *RELATED_COLUMNS])
    assert not any(h.startswith(("Submit", "OpportunityTeam")) for h in headers)

    export(
        emulator,
        tmp_path / "some.xlsx",
        columns=["assignee.email", "Project.Title", " relatedentityidentifiers.solutions "],
    )
    named = readers.read_sheet(tmp_path / "some.xlsx").headers
    # The frame, the fields, then the call columns in the model's order, then Catalog.
    wanted = ("Project.Title", "Assignee.Email", "RelatedEntityIdentifiers.Solutions")
    assert named == ["Identifier", "LastModifiedDate", *wanted, "Catalog"]


def test_submit_columns_are_refused_by_name_before_any_call(emu: Any, tmp_path: Path) -> None:
    for name in SUBMIT_COLUMNS:
        with pytest.raises(ColumnError, match="a submission is an action"):
            export(emu, tmp_path / "x.xlsx", columns=["Project.Title", name.lower()])
    assert sum(emu.counters()["calls"].values()) == 0
    with pytest.raises(ColumnError, match=r"did you mean Assignee\.Email\?"):
        export(emu, tmp_path / "x.xlsx", columns=["Asignee.Email"])


def test_a_csv_export_and_its_baseline_carry_the_call_cells(emu: Any, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.csv"
    export(emu, out)
    with out.open(encoding="utf-8-sig", newline="") as f:
        data = list(csv.DictReader(f))
    with (tmp_path / "pipeline.baseline.csv").open(encoding="utf-8-sig", newline="") as f:
        base = list(csv.DictReader(f))
    records = emu.records("Sandbox")
    assert len(data) == len(records) and data == base
    for row in data:
        for column, value in expected_cells(records[row["Identifier"]]).items():
            assert row[column] == value, (row["Identifier"], column)


def test_a_record_without_owner_or_entities_exports_empty_cells(emu: Any, tmp_path: Path) -> None:
    target = sorted(emu.records("Sandbox"))[0]
    record = emu.record("Sandbox", target)
    record["OpportunityTeam"] = []
    record["RelatedEntityIdentifiers"] = {}
    emu.put_record("Sandbox", record)
    out = tmp_path / "pipeline.xlsx"
    export(emu, out, filters=None)
    row = rows_of(out)[target]
    assert all(row[c] == "" for c in [*ASSIGNEE_COLUMNS, *RELATED_COLUMNS])


# -- round trips through apply -----------------------------------------------------------


def apply(emu: Any, path: Path, tmp_path: Path, **settings: Any) -> Any:
    return apply_file(
        path,
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", **settings),
    )


def test_an_untouched_export_sends_nothing_in_a_dry_run_or_for_real(
    emu: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    before = emu.records("Sandbox")
    planned = apply(emu, out, tmp_path, dry_run=True, out=tmp_path / "dry.xlsx")
    assert {r.outcome for r in planned.results} == {Outcome.UNCHANGED}
    report = apply(emu, out, tmp_path)
    assert {r.outcome for r in report.results} == {Outcome.UNCHANGED}
    assert len(report.results) == len(before)
    assert writes(emu) == {}
    assert emu.records("Sandbox") == before


def test_an_untouched_export_keeps_an_owner_and_solutions_changed_since(
    emu: Any, tmp_path: Path
) -> None:
    """The baseline, not the live record, says what the user asked: someone else's
    reassignment and new solution after the export are not undone by the old cells."""
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    target = pick(emu, "Pending Submission")
    record = emu.record("Sandbox", target)
    other = next(u for u in emu.users() if u["Email"] != record["OpportunityTeam"][0]["Email"])
    held = record["RelatedEntityIdentifiers"]["Solutions"]
    fresh = next(s["Id"] for s in solutions("Sandbox") if s["Id"] not in held)
    emu.seller_edit(
        "Sandbox",
        target,
        {
            "OpportunityTeam": [other, *record["OpportunityTeam"][1:]],
            "RelatedEntityIdentifiers.Solutions": [fresh],
        },
    )
    kept = emu.record("Sandbox", target)
    assert kept["OpportunityTeam"][0]["Email"] == other["Email"]
    assert kept["RelatedEntityIdentifiers"]["Solutions"] == [fresh]
    report = apply(emu, out, tmp_path)
    assert {r.outcome for r in report.results} == {Outcome.UNCHANGED}
    assert writes(emu) == {}
    assert emu.record("Sandbox", target) == kept


def edit_export(path: Path, identifier: str, cells: dict[str, str]) -> None:
    """Change some cells of one row of an xlsx export, as a person does in Excel."""
    book = load_workbook(path)
    ws = book["Opportunities"]
    names = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == identifier)
    for header, value in cells.items():
        row[names.index(header)].value = value
    book.save(path)


def new_owner_cells(user: dict[str, str]) -> dict[str, str]:
    return {f"Assignee.{k}": user[k] for k in ("Email", "FirstName", "LastName", "BusinessTitle")}


@pytest.mark.parametrize(
    "same_title",
    [False, True],
    ids=["other-title", "same-title"],
)
def test_an_export_edited_for_a_new_owner_and_solution_changes_only_those(
    emu: Any, tmp_path: Path, same_title: bool
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    target = pick(emu, "Pending Submission")
    before = emu.record("Sandbox", target)
    owner = before["OpportunityTeam"][0]
    # Another registered user; with same_title, one whose BusinessTitle cell stays as
    # exported (only the e-mail and names change against the baseline).
    user = next(
        u
        for u in emu.users()
        if u["Email"] != owner["Email"]
        and (u["BusinessTitle"] == owner["BusinessTitle"]) == same_title
    )
    (old_solution,) = before["RelatedEntityIdentifiers"]["Solutions"]
    new_solution = next(s["Id"] for s in solutions("Sandbox") if s["Id"] != old_solution)
    edit_export(
        out,
        target,
        {**new_owner_cells(user), "RelatedEntityIdentifiers.Solutions": new_solution},
    )
    dry = apply(emu, out, tmp_path, dry_run=True, out=tmp_path / "dry.xlsx")
    assert writes(emu) == {}
    planned = {r.identifier: r for r in dry.results}
    assert planned[target].outcome == Outcome.WOULD_UPDATE
    assert {r.outcome for i, r in planned.items() if i != target} == {Outcome.UNCHANGED}

    report = apply(emu, out, tmp_path)
    ended = {r.identifier: r for r in report.results}
    assert ended[target].outcome == Outcome.UPDATED, ended[target].message
    assert {r.outcome for i, r in ended.items() if i != target} == {Outcome.UNCHANGED}
    # One call each: associate the new solution, then remove the old, then assign.
    assert writes(emu) == {f"Sandbox/{target}": 3}
    assert [c.column.split(" ")[0] for c in ended[target].changes] == [
        "AssociateOpportunity",
        "DisassociateOpportunity",
        "AssignOpportunity",
    ]
    after = emu.record("Sandbox", target)
    assert {k: after["OpportunityTeam"][0].get(k) for k in user} == user
    assert after["OpportunityTeam"][1:] == before["OpportunityTeam"][1:]
    assert after["RelatedEntityIdentifiers"]["Solutions"] == [new_solution]
    assert without(after, "OpportunityTeam", "RelatedEntityIdentifiers.Solutions") == without(
        before, "OpportunityTeam", "RelatedEntityIdentifiers.Solutions"
    )
