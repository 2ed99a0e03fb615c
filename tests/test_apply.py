"""``apply`` end to end: a sheet in, a real boto3 client over HTTP to the emulator.

Every test compares what the emulator holds afterwards with what it held
before: the first promise is that no field a row does not name changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_helpers import apply_rows, pick, strip_volatile, without, writes
from conftest import FAST
from openpyxl import load_workbook

from bulk_update.problems import Outcome


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


run = apply_rows


def outcomes(report: Any) -> dict[str, Outcome]:
    return {r.identifier: r.outcome for r in report.results}


def test_a_row_changes_only_the_fields_it_names(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission", stage="Qualified")
    before = emu.record("Sandbox", ident)
    report = run(
        emu,
        tmp_path,
        [
            {
                "Identifier": ident,
                "LifeCycle.NextSteps": "Call the CFO",
                "Customer.Account.Address.City": "Lyon",
            }
        ],
    )
    assert outcomes(report) == {ident: Outcome.UPDATED}
    after = emu.record("Sandbox", ident)
    assert after["LifeCycle"]["NextSteps"] == "Call the CFO"
    assert after["Customer"]["Account"]["Address"]["City"] == "Lyon"
    assert without(after, "LifeCycle.NextSteps", "Customer.Account.Address.City") == without(
        before, "LifeCycle.NextSteps", "Customer.Account.Address.City"
    )
    assert after["LastModifiedDate"] > before["LastModifiedDate"]
    assert writes(emu) == {f"Sandbox/{ident}": 1}
    assert report.exit_code == 0
    changes = [str(c) for c in report.results[0].changes]
    assert any(
        c.startswith("LifeCycle.NextSteps: ") and c.endswith("-> Call the CFO") for c in changes
    )


def test_an_unchanged_row_sends_no_write(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    stage = emu.record("Sandbox", ident)["LifeCycle"]["Stage"]
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.Stage": stage.upper()}])
    assert outcomes(report) == {ident: Outcome.UNCHANGED}
    assert writes(emu) == {}


def test_clear_empties_a_field_and_keeps_the_rest(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission", stage="Prospect")
    before = emu.record("Sandbox", ident)
    assert before["Customer"]["Account"]["Address"].get("StreetAddress")
    report = run(
        emu, tmp_path, [{"Identifier": ident, "Customer.Account.Address.StreetAddress": "#CLEAR"}]
    )
    assert outcomes(report) == {ident: Outcome.UPDATED}
    after = emu.record("Sandbox", ident)
    assert "StreetAddress" not in after["Customer"]["Account"]["Address"]
    assert without(after, "Customer.Account.Address.StreetAddress") == without(
        before, "Customer.Account.Address.StreetAddress"
    )


def test_list_and_indexed_columns(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission", stage="Technical Validation")
    before = emu.record("Sandbox", ident)
    contacts = before["Customer"].get("Contacts", [])
    report = run(
        emu,
        tmp_path,
        [
            {
                "Identifier": ident,
                "PrimaryNeedsFromAws": "Co-Sell - Pricing Assistance; Co-Sell - Technical Consultation",
                f"Customer.Contacts[{len(contacts) + 1}].Email": "new.person@example.com",
                f"Customer.Contacts[{len(contacts) + 1}].FirstName": "New",
            }
        ],
    )
    assert outcomes(report) == {ident: Outcome.UPDATED}, report.results[0].message
    after = emu.record("Sandbox", ident)
    assert after["PrimaryNeedsFromAws"] == [
        "Co-Sell - Pricing Assistance",
        "Co-Sell - Technical Consultation",
    ]
    assert after["Customer"]["Contacts"][:-1] == contacts
    assert after["Customer"]["Contacts"][-1] == {
        "Email": "new.person@example.com",
        "FirstName": "New",
    }
    assert without(after, "PrimaryNeedsFromAws", "Customer.Contacts") == without(
        before, "PrimaryNeedsFromAws", "Customer.Contacts"
    )


def test_every_outcome_is_reached_by_a_real_case(emu: Any, tmp_path: Path) -> None:
    pending = pick(emu, "Pending Submission", stage="Qualified")
    unchanged = pick(emu, "Pending Submission", skip=(pending,))
    stale = pick(emu, "Pending Submission", skip=(pending, unchanged))
    submitted = pick(emu, "Submitted")
    action = pick(emu, "Action Required")
    approved = pick(emu, "Approved")
    merged_invalid = pick(
        emu, "Pending Submission", stage="Prospect", skip=(pending, unchanged, stale)
    )
    rows = [
        {"Identifier": pending, "LifeCycle.NextSteps": "Send the proposal"},
        {
            "Identifier": unchanged,
            "LifeCycle.Stage": emu.record("Sandbox", unchanged)["LifeCycle"]["Stage"],
        },
        {
            "Identifier": stale,
            "LastModifiedDate": "2025-01-01T00:00:00.000Z",
            "LifeCycle.NextSteps": "x",
        },
        {"Identifier": submitted, "LifeCycle.NextSteps": "Follow up"},
        {"Identifier": action, "Project.Title": "A new title"},
        {"Identifier": approved, "Project.Title": "A new title"},
        {"Identifier": "O9999999999", "LifeCycle.NextSteps": "Nobody home"},
        {"Identifier": "not-an-id", "LifeCycle.NextSteps": "Bad id"},
        # valid alone, invalid once merged: a lost reason on a deal that is not closed lost
        {"Identifier": merged_invalid, "LifeCycle.ClosedLostReason": "No Opportunity"},
    ]
    report = run(emu, tmp_path, rows)
    got = outcomes(report)
    assert got[pending] is Outcome.UPDATED, [(r.identifier, r.message) for r in report.results]
    assert got[unchanged] is Outcome.UNCHANGED
    assert got[stale] is Outcome.CONFLICT
    assert got[submitted] is Outcome.LOCKED
    assert got[action] is Outcome.LOCKED
    assert got[approved] is Outcome.LOCKED
    assert got["O9999999999"] is Outcome.NOT_FOUND
    assert got["not-an-id"] is Outcome.INVALID
    assert got[merged_invalid] is Outcome.INVALID
    assert writes(emu) == {f"Sandbox/{pending}": 1}
    assert report.exit_code == 1
    by_id = {r.identifier: r for r in report.results}
    assert "Project.Title" in by_id[approved].message
    assert "Submitted" in by_id[submitted].message
    # the results workbook holds one line per row and the Errors sheet the problems
    book = load_workbook(report.results_path, read_only=True)
    lines = list(book["Results"].iter_rows(min_row=2, values_only=True))
    assert len(lines) == len(rows)
    assert report.retry_path is not None and report.retry_path.exists()


def test_dry_run_writes_nothing_and_lists_changes(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission", stage="Qualified")
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "Dry"}], dry_run=True)
    assert outcomes(report) == {ident: Outcome.WOULD_UPDATE}
    assert [c.new for c in report.results[0].changes] == ["Dry"]
    assert writes(emu) == {}
    assert report.exit_code == 0


def test_max_writes_stops_and_skips_the_rest(emu: Any, tmp_path: Path) -> None:
    ids = sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] == "Pending Submission"
    )[:5]
    rows = [{"Identifier": i, "LifeCycle.NextSteps": f"Step for {i}"} for i in ids]
    report = run(emu, tmp_path, rows, max_writes=2, workers=1)
    got = outcomes(report)
    assert sorted(got.values()).count(Outcome.UPDATED) == 2
    assert sorted(got.values()).count(Outcome.SKIPPED) == 3
    assert sum(writes(emu).values()) == 2
    assert "--max-writes" in report.summary.extra["stopped"]


def test_a_seller_edit_to_another_field_is_merged(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission", stage="Qualified")
    emu.schedule_seller_edit("Sandbox", ident, {"Project.AdditionalComments": "seller was here"})
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "Mine"}])
    assert outcomes(report) == {ident: Outcome.UPDATED}, report.results[0].message
    after = emu.record("Sandbox", ident)
    assert after["Project"]["AdditionalComments"] == "seller was here"
    assert after["LifeCycle"]["NextSteps"] == "Mine"
    assert writes(emu)[f"Sandbox/{ident}"] == 1


def test_a_seller_edit_to_the_same_field_is_a_conflict(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission", stage="Qualified")
    emu.schedule_seller_edit("Sandbox", ident, {"LifeCycle.NextSteps": "the seller's words"})
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "Mine"}])
    assert outcomes(report) == {ident: Outcome.CONFLICT}
    assert "LifeCycle.NextSteps" in report.results[0].message
    assert emu.record("Sandbox", ident)["LifeCycle"]["NextSteps"] == "the seller's words"
    assert f"Sandbox/{ident}" not in writes(emu)


def _pending_rows(emu: Any, n: int) -> list[dict[str, str]]:
    ids = sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:n]
    return [{"Identifier": i, "LifeCycle.NextSteps": f"Next for {i}"} for i in ids]


def test_throttling_at_a_low_quota_fails_no_row(fresh_emulator: Any, tmp_path: Path) -> None:
    emu = fresh_emulator(write_rate=20.0, write_burst=1, read_rate=1000.0, read_burst=1000)
    rows = _pending_rows(emu, 12)
    # the tool is told a quota twice the real one, so the service throttles it
    report = run(emu, tmp_path, rows, pc={"write_rate": 40.0})
    assert set(outcomes(report).values()) == {Outcome.UPDATED}
    assert report.summary.throttled > 0
    assert all(n == 1 for n in writes(emu).values()) and len(writes(emu)) == 12


def test_server_errors_are_retried_and_fail_no_row(fresh_emulator: Any, tmp_path: Path) -> None:
    emu = fresh_emulator(fault_rate=0.10, fault_seed=7, **FAST)
    rows = _pending_rows(emu, 20)
    report = run(emu, tmp_path, rows, pc={"backoff_base": 0.01})
    assert set(outcomes(report).values()) == {Outcome.UPDATED}
    assert report.summary.retries > 0
    assert all(n == 1 for n in writes(emu).values()) and len(writes(emu)) == 20


def test_a_lost_answer_is_settled_by_reading_not_by_writing_twice(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(drop_after_write_rate=1.0, **FAST)
    rows = _pending_rows(emu, 3)
    report = run(emu, tmp_path, rows)
    assert set(outcomes(report).values()) == {Outcome.UPDATED}
    assert all(n == 1 for n in writes(emu).values()) and len(writes(emu)) == 3


def test_access_denied_stops_the_run(emu: Any, tmp_path: Path) -> None:
    emu.deny_access = True
    report = run(emu, tmp_path, _pending_rows(emu, 4), workers=1)
    got = list(outcomes(report).values())
    assert got[0] is Outcome.FAILED
    assert set(got[1:]) == {Outcome.SKIPPED}
    assert report.exit_code == 1


def test_nothing_outside_the_sheet_changes_in_a_mixed_run(emu: Any, tmp_path: Path) -> None:
    before = {i: strip_volatile(r) for i, r in emu.records("Sandbox").items()}
    rows = _pending_rows(emu, 6)
    run(emu, tmp_path, rows)
    after = {i: strip_volatile(r) for i, r in emu.records("Sandbox").items()}
    touched = {r["Identifier"] for r in rows}
    for ident in before:
        if ident in touched:
            assert without(after[ident], "LifeCycle.NextSteps") == without(
                before[ident], "LifeCycle.NextSteps"
            )
        else:
            assert after[ident] == before[ident]


def test_the_daily_quota_stops_the_run_and_says_when_the_rest_fits(
    emu: Any, tmp_path: Path
) -> None:
    from bulk_update.run.ledger import Ledger

    ledger = Ledger("test", limit=5, folder=tmp_path / "home")
    for _ in range(3):
        ledger.record()  # three writes earlier today
    report = run(emu, tmp_path, _pending_rows(emu, 4), ledger=ledger, workers=1)
    got = list(outcomes(report).values())
    assert got.count(Outcome.UPDATED) == 2 and got.count(Outcome.SKIPPED) == 2
    assert "daily write quota" in report.summary.extra["stopped"]
    assert Ledger("test", limit=5, folder=tmp_path / "home").used == 5


def test_the_summary_counts_writes_sent_not_throttled_attempts(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(write_rate=20.0, write_burst=1, read_rate=1000.0, read_burst=1000)
    rows = _pending_rows(emu, 11)
    report = run(emu, tmp_path, rows, pc={"write_rate": 40.0})
    assert report.summary.throttled > 0
    assert report.counts[Outcome.UPDATED] == 11
    assert report.summary.writes == 11
