"""The three-way merge of an exported sheet: baseline, Partner Central now, the sheet.

Each case exports through the real client, lets a "seller" change the record in
the emulator, edits the exported workbook as a person would, and applies it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, pick, writes
from conftest import FAST
from openpyxl import load_workbook

from bulk_update.export.job import export_opportunities
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file

COLUMNS = ["LifeCycle.NextSteps", "Project.Title", "Customer.Account.Address.City"]


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def export_and_edit(emu: Any, tmp_path: Path, target: str, cells: dict[str, str]) -> Path:
    out = tmp_path / "pipeline.xlsx"
    export_opportunities(make_pc(emu.url), out, columns=COLUMNS)
    book = load_workbook(out)
    ws = book["Opportunities"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == target:
            for column, value in cells.items():
                row[headers.index(column)].value = value
    book.save(out)
    return out


def apply(emu: Any, path: Path, tmp_path: Path) -> Any:
    return apply_file(
        path, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs")
    )


def outcome_of(report: Any, ident: str) -> Any:
    return next(r for r in report.results if r.identifier == ident)


def test_untouched_rows_send_no_read_and_no_write(emu: Any, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.xlsx"
    export_opportunities(make_pc(emu.url), out, columns=COLUMNS)
    emu.reset_counters()
    report = apply(emu, out, tmp_path)
    assert {r.outcome for r in report.results} == {Outcome.UNCHANGED}
    assert emu.counters()["calls"].get("GetOpportunity", 0) == 0
    assert writes(emu) == {}


def test_server_only_and_sheet_only_changes_both_survive(emu: Any, tmp_path: Path) -> None:
    target = pick(emu, "Pending Submission", stage="Qualified")
    path = export_and_edit(emu, tmp_path, target, {"Project.Title": "Renamed in the sheet"})
    emu.seller_edit("Sandbox", target, {"LifeCycle.NextSteps": "Seller's step"})
    report = apply(emu, path, tmp_path)
    assert outcome_of(report, target).outcome is Outcome.UPDATED
    after = emu.record("Sandbox", target)
    assert after["Project"]["Title"] == "Renamed in the sheet"
    assert after["LifeCycle"]["NextSteps"] == "Seller's step"


def test_the_same_value_on_both_sides_is_no_conflict(emu: Any, tmp_path: Path) -> None:
    target = pick(emu, "Pending Submission", stage="Qualified")
    path = export_and_edit(emu, tmp_path, target, {"LifeCycle.NextSteps": "Agreed step"})
    emu.seller_edit("Sandbox", target, {"LifeCycle.NextSteps": "Agreed step"})
    report = apply(emu, path, tmp_path)
    assert outcome_of(report, target).outcome is Outcome.UNCHANGED
    assert writes(emu) == {}


def test_a_field_changed_on_both_sides_is_a_conflict_naming_three_values(
    emu: Any, tmp_path: Path
) -> None:
    target = pick(emu, "Pending Submission", stage="Qualified")
    exported = emu.record("Sandbox", target)["Customer"]["Account"]["Address"]["City"]
    path = export_and_edit(
        emu,
        tmp_path,
        target,
        {"Customer.Account.Address.City": "Lisbon", "Project.Title": "Also renamed"},
    )
    emu.seller_edit("Sandbox", target, {"Customer.Account.Address.City": "Porto"})
    report = apply(emu, path, tmp_path)
    row = outcome_of(report, target)
    assert row.outcome is Outcome.CONFLICT
    assert "Customer.Account.Address.City" in row.message
    problem = next(p for p in report.problems if p.identifier == target)
    assert problem.column == "Customer.Account.Address.City"
    for value in (exported, "Porto", "Lisbon"):
        assert value in problem.message
    assert writes(emu) == {}
    assert emu.record("Sandbox", target)["Customer"]["Account"]["Address"]["City"] == "Porto"


def test_a_row_missing_from_the_baseline_falls_back_to_two_way_with_a_warning(
    emu: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export_opportunities(make_pc(emu.url), out, columns=COLUMNS)
    book = load_workbook(out)
    ws = book["Opportunities"]
    headers = [c.value for c in ws[1]]
    extra = pick(emu, "Pending Submission", stage="Prospect")
    baseline = book["_baseline"]
    (line,) = [i for i, r in enumerate(baseline.iter_rows(values_only=True), 1) if r[0] == extra]
    baseline.delete_rows(line)  # as if the row had been added after the export
    for row in ws.iter_rows(min_row=2):
        if row[0].value == extra:
            row[headers.index("LastModifiedDate")].value = None
            row[headers.index("LifeCycle.NextSteps")].value = "Added after the export"
    book.save(out)
    report = apply(emu, out, tmp_path)
    assert outcome_of(report, extra).outcome is Outcome.UPDATED
    assert any(p.code == "not-in-baseline" and p.identifier == extra for p in report.problems)
