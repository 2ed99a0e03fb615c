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


def exported(emu: Any, tmp_path: Path) -> tuple[Path, str, dict[str, Any]]:
    """An export of the Sandbox catalog, one editable record of it and that record."""
    out = tmp_path / "pipeline.xlsx"
    export(emu, out)
    target = pick(emu, "Pending Submission")
    return out, target, emu.record("Sandbox", target)


def both_edit(
    emu: Any,
    tmp_path: Path,
    out: Path,
    target: str,
    theirs: dict[str, Any],
    mine: dict[str, str],
) -> tuple[dict[str, Any], Any]:
    """A colleague's change in Partner Central, then the user's edit of the export and
    the apply: the record as the colleague left it, and the row's end."""
    emu.seller_edit("Sandbox", target, theirs)
    kept = emu.record("Sandbox", target)
    edit_export(out, target, mine)
    report = apply(emu, out, tmp_path)
    return kept, next(r for r in report.results if r.identifier == target)


def assert_conflict_sent_nothing(
    emu: Any, target: str, kept: dict[str, Any], got: Any, column: str, *values: str
) -> None:
    """The row ended ``conflict`` on ``column`` naming ``values``, and nothing was sent."""
    assert got.outcome is Outcome.CONFLICT
    assert column in got.message
    (problem,) = [p for p in got.problems if p.code == "changed-on-both-sides"]
    assert problem.column == column
    assert all(v in problem.message for v in values)
    assert writes(emu) == {}
    assert emu.record("Sandbox", target) == kept


def test_an_owner_changed_on_both_sides_is_a_conflict_and_nothing_is_sent(
    emu: Any, tmp_path: Path
) -> None:
    out, target, record = exported(emu, tmp_path)
    theirs, mine = others(emu, record)[:2]
    team = {"OpportunityTeam": [theirs, *record["OpportunityTeam"][1:]]}
    kept, got = both_edit(emu, tmp_path, out, target, team, new_owner_cells(mine))
    assert_conflict_sent_nothing(
        emu, target, kept, got, "Assignee.Email", theirs["Email"], mine["Email"]
    )


def test_an_owner_changed_to_the_same_person_on_both_sides_sends_nothing(
    emu: Any, tmp_path: Path
) -> None:
    out, target, record = exported(emu, tmp_path)
    both = others(emu, record)[0]
    team = {"OpportunityTeam": [both, *record["OpportunityTeam"][1:]]}
    _, got = both_edit(emu, tmp_path, out, target, team, new_owner_cells(both))
    assert got.outcome is Outcome.UNCHANGED
    assert writes(emu) == {}


def test_solutions_changed_on_both_sides_are_a_conflict_and_nothing_is_sent(
    emu: Any, tmp_path: Path
) -> None:
    out, target, record = exported(emu, tmp_path)
    held = record["RelatedEntityIdentifiers"]["Solutions"]
    fresh = [s["Id"] for s in solutions("Sandbox") if s["Id"] not in held]
    column = "RelatedEntityIdentifiers.Solutions"
    kept, got = both_edit(emu, tmp_path, out, target, {column: [fresh[0]]}, {column: fresh[1]})
    assert_conflict_sent_nothing(emu, target, kept, got, column, fresh[0], fresh[1])


def test_a_call_cell_changed_only_in_the_sheet_goes_although_the_record_moved(
    emu: Any, tmp_path: Path
) -> None:
    """Someone else's change elsewhere on the record (a field) is no clash for the owner."""
    out, target, record = exported(emu, tmp_path)
    mine = others(emu, record)[0]
    title = {"Project.Title": "Renamed by a colleague"}
    _, got = both_edit(emu, tmp_path, out, target, title, new_owner_cells(mine))
    assert got.outcome is Outcome.UPDATED, got.message
    after = emu.record("Sandbox", target)
    assert after["OpportunityTeam"][0]["Email"] == mine["Email"]
    assert after["Project"]["Title"] == "Renamed by a colleague"
