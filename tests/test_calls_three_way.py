"""The three-way merge for the owner and the related entities, as for fields: a call
cell the user and someone in Partner Central both changed since the export, to
different values, is a conflict and nothing of the row is sent; changed to the
same value, there is nothing left to do.

Through a real boto3 client and the emulator: export, someone else's change
(``Emulator.seller_edit``), the user's edit of the exported workbook, apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_helpers import pick, writes
from conftest import FAST
from test_calls_export import apply, edit_export, export, new_owner_cells

from bulk_update.emulator.calls import solutions
from bulk_update.problems import Outcome


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def others(emu: Any, record: dict[str, Any]) -> list[dict[str, str]]:
    """Registered users other than the record's owner."""
    owner = record["OpportunityTeam"][0]["Email"].lower()
    return [u for u in emu.users() if u["Email"].lower() != owner]


def one_row(report: Any, identifier: str) -> Any:
    return next(r for r in report.results if r.identifier == identifier)


def test_an_owner_changed_on_both_sides_is_a_conflict_and_nothing_is_sent(
    emu: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    target = pick(emu, "Pending Submission")
    record = emu.record("Sandbox", target)
    theirs, mine = others(emu, record)[:2]
    emu.seller_edit("Sandbox", target, {"OpportunityTeam": [theirs, *record["OpportunityTeam"][1:]]})
    kept = emu.record("Sandbox", target)
    edit_export(out, target, new_owner_cells(mine))
    report = apply(emu, out, tmp_path)
    got = one_row(report, target)
    assert got.outcome is Outcome.CONFLICT
    assert "Assignee.Email" in got.message
    (problem,) = [p for p in got.problems if p.code == "changed-on-both-sides"]
    assert problem.column == "Assignee.Email"
    assert theirs["Email"] in problem.message and mine["Email"] in problem.message
    assert writes(emu) == {}
    assert emu.record("Sandbox", target) == kept


def test_an_owner_changed_to_the_same_person_on_both_sides_sends_nothing(
    emu: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    target = pick(emu, "Pending Submission")
    record = emu.record("Sandbox", target)
    both = others(emu, record)[0]
    emu.seller_edit("Sandbox", target, {"OpportunityTeam": [both, *record["OpportunityTeam"][1:]]})
    edit_export(out, target, new_owner_cells(both))
    got = one_row(apply(emu, out, tmp_path), target)
    assert got.outcome is Outcome.UNCHANGED
    assert writes(emu) == {}


def test_solutions_changed_on_both_sides_are_a_conflict_and_nothing_is_sent(
    emu: Any, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    target = pick(emu, "Pending Submission")
    held = emu.record("Sandbox", target)["RelatedEntityIdentifiers"]["Solutions"]
    fresh = [s["Id"] for s in solutions("Sandbox") if s["Id"] not in held]
    emu.seller_edit("Sandbox", target, {"RelatedEntityIdentifiers.Solutions": [fresh[0]]})
    kept = emu.record("Sandbox", target)
    edit_export(out, target, {"RelatedEntityIdentifiers.Solutions": fresh[1]})
    got = one_row(apply(emu, out, tmp_path), target)
    assert got.outcome is Outcome.CONFLICT
    (problem,) = [p for p in got.problems if p.code == "changed-on-both-sides"]
    assert problem.column == "RelatedEntityIdentifiers.Solutions"
    assert fresh[0] in problem.message and fresh[1] in problem.message
    assert writes(emu) == {}
    assert emu.record("Sandbox", target) == kept


def test_a_call_cell_changed_only_in_the_sheet_goes_although_the_record_moved(
    emu: Any, tmp_path: Path
) -> None:
    """Someone else's change elsewhere on the record (a field) is no clash for the owner."""
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    target = pick(emu, "Pending Submission")
    record = emu.record("Sandbox", target)
    mine = others(emu, record)[0]
    emu.seller_edit("Sandbox", target, {"Project.Title": "Renamed by a colleague"})
    edit_export(out, target, new_owner_cells(mine))
    got = one_row(apply(emu, out, tmp_path), target)
    assert got.outcome is Outcome.UPDATED, got.message
    after = emu.record("Sandbox", target)
    assert after["OpportunityTeam"][0]["Email"] == mine["Email"]
    assert after["Project"]["Title"] == "Renamed by a colleague"
