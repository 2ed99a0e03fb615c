"""Verify after write: each written record is read back and compared with what was sent.

The emulator's ``forget_on_write`` fault plays a server that answers a write
as done but does not keep some field; the tool must notice, name the field
in a warning and keep the row ``updated`` (the write did land).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_helpers import apply_rows, make_pc, pick, write_sheet, writes
from click.testing import CliRunner
from conftest import FAST

from bulk_update.cli import main
from bulk_update.problems import Outcome, Severity
from bulk_update.run.rollback import rollback_run


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


run = apply_rows


def reads(emu: Any) -> int:
    return int(emu.counters()["calls"].get("GetOpportunity", 0))


def test_a_field_the_server_did_not_keep_is_a_warning_naming_it(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    control = pick(emu, "Pending Submission", skip=(ident,))
    bare = emu.record("Sandbox", control)
    bare["Project"].pop("AdditionalComments", None)
    emu.put_record("Sandbox", bare)
    emu.set_faults(forget_on_write=("Project.AdditionalComments",))
    report = run(
        emu,
        tmp_path,
        [
            {"Identifier": ident, "Project.AdditionalComments": "Keep this"},
            {"Identifier": control, "LifeCycle.NextSteps": "Call the CFO"},
        ],
    )
    rows = {r.identifier: r for r in report.results}
    assert rows[ident].outcome is Outcome.UPDATED
    assert "did not keep Project.AdditionalComments" in rows[ident].message
    kept = [p for p in report.problems if p.code == "not-kept"]
    assert [(p.identifier, p.column, p.severity) for p in kept] == [
        (ident, "Project.AdditionalComments", Severity.WARNING)
    ]
    # The control row sent no AdditionalComments (its record has none): nothing to warn.
    assert "warning" not in rows[control].message
    assert report.exit_code == 0


def test_a_dropped_field_the_row_did_not_name_is_caught_too(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    assert emu.record("Sandbox", ident)["Customer"]["Account"]["Address"]["City"]
    emu.set_faults(forget_on_write=("Customer.Account.Address.City",))
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO"}])
    assert [p.column for p in report.problems if p.code == "not-kept"] == [
        "Customer.Account.Address.City"
    ]


def test_a_write_that_kept_everything_has_no_warning_and_costs_one_read(
    emu: Any, tmp_path: Path
) -> None:
    idents = [pick(emu, "Pending Submission")]
    idents.append(pick(emu, "Pending Submission", skip=tuple(idents)))
    report = run(
        emu, tmp_path, [{"Identifier": i, "LifeCycle.NextSteps": "Call the CFO"} for i in idents]
    )
    assert {r.outcome for r in report.results} == {Outcome.UPDATED}
    assert not [p for p in report.problems if p.severity is Severity.WARNING]
    assert reads(emu) == 4  # one to decide, one to verify, per row
    assert len(writes(emu)) == 2


def test_no_verify_reads_nothing_back(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    emu.set_faults(forget_on_write=("Project.AdditionalComments",))
    report = run(
        emu,
        tmp_path,
        [{"Identifier": ident, "Project.AdditionalComments": "Keep this"}],
        verify=False,
    )
    assert report.results[0].outcome is Outcome.UPDATED
    assert not [p for p in report.problems if p.code == "not-kept"]
    assert reads(emu) == 1


def test_a_dry_run_reads_nothing_back(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "x"}], dry_run=True)
    assert reads(emu) == 1


def test_a_rollback_is_verified_as_well(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    applied = run(emu, tmp_path, [{"Identifier": ident, "Project.AdditionalComments": "New"}])
    assert applied.results[0].outcome is Outcome.UPDATED
    before = emu.record("Sandbox", ident)  # holds what the apply wrote
    emu.set_faults(forget_on_write=("LifeCycle.NextSteps",))
    assert before["LifeCycle"].get("NextSteps")
    report = rollback_run(make_pc(emu.url), applied.run_dir)
    assert report.results[0].outcome is Outcome.UPDATED
    assert [p.column for p in report.problems if p.code == "not-kept"] == ["LifeCycle.NextSteps"]


def test_the_cli_takes_no_verify(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    emu.set_faults(forget_on_write=("Project.AdditionalComments",))
    sheet = write_sheet(
        tmp_path / "sheet.csv", [{"Identifier": ident, "Project.AdditionalComments": "Keep"}]
    )
    base = ["apply", str(sheet), "--catalog", "Sandbox", "--endpoint-url", emu.url, "--json"]
    result = CliRunner().invoke(main, [*base, "--no-verify", "--run-dir", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    assert reads(emu) == 1
