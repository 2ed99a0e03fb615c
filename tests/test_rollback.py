"""``rollback`` end to end: apply a sheet to the emulator, then undo it from its run folder.

Records are compared whole (minus LastModifiedDate and NextStepsHistory, which
every write moves): a rollback must give back exactly the before-image, and
must write nothing where a seller saved the record after the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, pick, strip_volatile, write_sheet, writes
from click.testing import CliRunner
from conftest import FAST

from bulk_update.cli import main
from bulk_update.errors import RunFolderError
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.rollback import rollback_run


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def three(emu: Any) -> list[str]:
    a = pick(emu, "Pending Submission", stage="Qualified")
    b = pick(emu, "Pending Submission", stage="Prospect", skip=(a,))
    c = pick(emu, "Approved", skip=(a, b))
    return [a, b, c]


def applied(emu: Any, tmp_path: Path, ids: list[str]) -> tuple[Path, dict[str, Any]]:
    """Apply a sheet changing several fields of ``ids``; the run folder and the records before."""
    before = {i: emu.record("Sandbox", i) for i in ids}
    rows = [
        {
            "Identifier": i,
            "LifeCycle.NextSteps": f"Next step {n} from the sheet",
            "Customer.Account.Address.City": "Lyon",
            "Project.AdditionalComments": "#CLEAR",
            "Customer.Contacts[3].Email": f"new.contact{n}@example.com",
            "Customer.Contacts[3].FirstName": "New",
            "Customer.Contacts[3].LastName": "Contact",
        }
        for n, i in enumerate(ids)
    ]
    sheet = write_sheet(tmp_path / "sheet.csv", rows)
    report = apply_file(
        sheet, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs")
    )
    assert {r.identifier: r.outcome for r in report.results} == dict.fromkeys(
        ids, Outcome.UPDATED
    ), [r.message for r in report.results]
    assert report.run_dir is not None
    for i in ids:
        assert strip_volatile(emu.record("Sandbox", i)) != strip_volatile(before[i])
    return report.run_dir, before


def outcomes(report: Any) -> dict[str, Outcome]:
    return {r.identifier: r.outcome for r in report.results}


def test_rollback_restores_the_exact_before_images(emu: Any, tmp_path: Path) -> None:
    ids = three(emu)
    run_dir, before = applied(emu, tmp_path, ids)
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == dict.fromkeys(ids, Outcome.UPDATED)
    for i in ids:
        assert strip_volatile(emu.record("Sandbox", i)) == strip_volatile(before[i])
    assert writes(emu) == {f"Sandbox/{i}": 1 for i in ids}
    assert report.exit_code == 0
    changes = [str(c) for c in report.results[0].changes]
    assert any(c.startswith("Customer.Account.Address.City: Lyon -> ") for c in changes)
    folder = Path(report.summary.extra["rollback folder"])
    assert folder.parent == run_dir and folder.name.startswith("rollback-")
    assert report.results_path == folder / "results.xlsx" and report.results_path.exists()
    assert (folder / "journal.jsonl").read_text("utf-8").count('"event": "done"') == 3


def test_rollback_refuses_where_a_seller_changed_the_record_after_the_run(
    emu: Any, tmp_path: Path
) -> None:
    ids = three(emu)
    run_dir, before = applied(emu, tmp_path, ids)
    moved = ids[1]
    emu.seller_edit("Sandbox", moved, {"Project.Title": "Renamed by a seller"})
    after_seller = emu.record("Sandbox", moved)
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {
        ids[0]: Outcome.UPDATED,
        moved: Outcome.CONFLICT,
        ids[2]: Outcome.UPDATED,
    }
    row = next(r for r in report.results if r.identifier == moved)
    assert "changed in Partner Central after the run" in row.message
    assert "Project.Title" in row.message and "Address.City" not in row.message
    assert any(p.column == "Project.Title" and p.identifier == moved for p in report.problems)
    assert emu.record("Sandbox", moved) == after_seller
    assert f"Sandbox/{moved}" not in writes(emu)
    assert report.exit_code == 1


def test_a_seller_changing_a_field_the_run_wrote_is_named(emu: Any, tmp_path: Path) -> None:
    ids = three(emu)[:1]
    run_dir, _ = applied(emu, tmp_path, ids)
    emu.seller_edit("Sandbox", ids[0], {"Customer.Account.Address.City": "Marseille"})
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ids[0]: Outcome.CONFLICT}
    assert report.results[0].message.endswith(": Customer.Account.Address.City; nothing written")


def test_dry_run_writes_nothing_and_keeps_no_folder(emu: Any, tmp_path: Path) -> None:
    ids = three(emu)
    run_dir, _ = applied(emu, tmp_path, ids)
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir, dry_run=True)
    assert outcomes(report) == dict.fromkeys(ids, Outcome.WOULD_UPDATE)
    assert writes(emu) == {}
    assert not list(run_dir.glob("rollback-*/"))
    assert report.results_path.exists() and report.summary.command == "rollback --dry-run"


def test_an_interrupted_rollback_finishes_when_run_again(emu: Any, tmp_path: Path) -> None:
    ids = three(emu)
    run_dir, before = applied(emu, tmp_path, ids)
    emu.reset_counters()
    first = rollback_run(make_pc(emu.url), run_dir, max_writes=1, workers=1)
    assert sorted(outcomes(first).values()) == sorted(
        [Outcome.UPDATED, Outcome.SKIPPED, Outcome.SKIPPED]
    )
    assert "again" in first.summary.extra["to finish"]
    second = rollback_run(make_pc(emu.url), run_dir)
    done_first = next(r.identifier for r in first.results if r.outcome is Outcome.UPDATED)
    assert outcomes(second) == {
        i: Outcome.UNCHANGED if i == done_first else Outcome.UPDATED for i in ids
    }
    third = rollback_run(make_pc(emu.url), run_dir)
    assert set(outcomes(third).values()) == {Outcome.UNCHANGED}
    assert writes(emu) == {f"Sandbox/{i}": 1 for i in ids}
    for i in ids:
        assert strip_volatile(emu.record("Sandbox", i)) == strip_volatile(before[i])


def test_a_rollback_can_itself_be_rolled_back(emu: Any, tmp_path: Path) -> None:
    ids = three(emu)[:2]
    run_dir, _ = applied(emu, tmp_path, ids)
    after_run = {i: strip_volatile(emu.record("Sandbox", i)) for i in ids}
    report = rollback_run(make_pc(emu.url), run_dir)
    undo = rollback_run(make_pc(emu.url), Path(report.summary.extra["rollback folder"]))
    assert outcomes(undo) == dict.fromkeys(ids, Outcome.UPDATED)
    assert {i: strip_volatile(emu.record("Sandbox", i)) for i in ids} == after_run


def test_not_confirmed_writes_nothing(emu: Any, tmp_path: Path) -> None:
    ids = three(emu)
    run_dir, _ = applied(emu, tmp_path, ids)
    emu.reset_counters()
    asked: list[dict[Outcome, int]] = []

    def no(counts: dict[Outcome, int]) -> bool:
        asked.append(counts)
        return False

    report = rollback_run(make_pc(emu.url), run_dir, confirm=no)
    assert asked == [{Outcome.WOULD_UPDATE: 3}]
    assert set(outcomes(report).values()) == {Outcome.SKIPPED}
    assert writes(emu) == {}


def test_another_catalogs_run_is_refused(emu: Any, tmp_path: Path) -> None:
    run_dir, _ = applied(emu, tmp_path, three(emu)[:1])
    with pytest.raises(RunFolderError, match="made for catalog Sandbox, not AWS"):
        rollback_run(make_pc(emu.url, catalog="AWS"), run_dir)


def test_rollback_command(emu: Any, tmp_path: Path) -> None:
    ids = three(emu)[:2]
    run_dir, before = applied(emu, tmp_path, ids)
    result = CliRunner().invoke(
        main,
        [
            "rollback",
            str(run_dir),
            "--catalog",
            "Sandbox",
            "--endpoint-url",
            emu.url,
            "--read-rate",
            "1000",
            "--write-rate",
            "1000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["command"] == "rollback" and data["counts"]["updated"] == 2
    for i in ids:
        assert strip_volatile(emu.record("Sandbox", i)) == strip_volatile(before[i])


def test_rollback_command_on_production_needs_yes_without_a_terminal(
    emu: Any, tmp_path: Path
) -> None:
    run_dir, _ = applied(emu, tmp_path, three(emu)[:1])
    result = CliRunner().invoke(
        main,
        [
            "rollback",
            str(run_dir),
            "--catalog",
            "AWS",
            "--endpoint-url",
            emu.url,
        ],
    )
    assert result.exit_code == 2
    assert "refusing to write to production" in result.stderr


def test_a_row_written_but_journalled_conflict_is_reported_not_left_out(
    emu: Any, tmp_path: Path
) -> None:
    """A journal from before the settle fix: the run's write landed, the row ended
    `conflict`. The rollback must name it (exit 1), not report only the others."""
    ids = three(emu)
    run_dir, _ = applied(emu, tmp_path, ids)
    journal = run_dir / "journal.jsonl"
    event = {"event": "done", "row": 2, "identifier": ids[0], "outcome": "conflict",
             "new_last_modified": None, "message": "someone changed LifeCycle.NextSteps"}  # fmt: skip
    lines = journal.read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if not ('"done"' in ln and f'"{ids[0]}"' in ln)]
    journal.write_text("\n".join([*kept, json.dumps(event)]) + "\n", encoding="utf-8")
    report = rollback_run(make_pc(emu.url), run_dir)
    got = outcomes(report)
    assert got[ids[0]] is Outcome.CONFLICT
    row = next(r for r in report.results if r.identifier == ids[0])
    assert "sent a write for this row but did not see it land" in row.message
    assert {got[i] for i in ids[1:]} == {Outcome.UPDATED}
    assert report.exit_code == 1


def test_rollback_counts_its_writes_in_the_daily_ledger(emu: Any, tmp_path: Path) -> None:
    from bulk_update.run.ledger import Ledger

    ids = three(emu)
    run_dir, _ = applied(emu, tmp_path, ids)
    ledger = Ledger("rollback", limit=2, folder=tmp_path / "home")
    report = rollback_run(make_pc(emu.url), run_dir, ledger=ledger, workers=1)
    assert sorted(o.value for o in outcomes(report).values()) == ["skipped", "updated", "updated"]
    assert "daily write quota" in report.summary.extra["stopped"]
    assert Ledger("rollback", limit=2, folder=tmp_path / "home").used == 2
