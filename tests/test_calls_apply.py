"""A row's other calls (issue 16): the owner, the related entities, the submission,
planned, dry-run, applied and refused, through boto3 over HTTP to the emulator.

Each test reads what Partner Central holds afterwards (owner, related entities,
review status) and what was sent (the emulator's call counts, the journal).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import apply_rows, pick
from conftest import FAST

from bulk_update import calls
from bulk_update.problems import Outcome
from bulk_update.run.ledger import Ledger

PRIYA = {
    "Assignee.Email": "priya.natarajan@partner.example.com",
    "Assignee.FirstName": "Priya",
    "Assignee.LastName": "Natarajan",
    "Assignee.BusinessTitle": "PartnerSalesManager",
}
CALL_OPS = ("AssignOpportunity", "AssociateOpportunity", "DisassociateOpportunity",
            "SubmitOpportunity")  # fmt: skip


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def sent(emu: Any) -> dict[str, int]:
    """The write calls the emulator answered, by operation (UpdateOpportunity too)."""
    got = emu.counters()["calls"]
    return {op: n for op, n in got.items() if op in (*CALL_OPS, "UpdateOpportunity") and n}


def only(report: Any) -> Any:
    (row,) = report.results
    return row


def report_problems(row: Any) -> list[Any]:
    return [p for p in row.problems if p.is_error]


def related(emu: Any, ident: str, kind: str) -> list[str]:
    return list(
        (emu.record("Sandbox", ident).get("RelatedEntityIdentifiers") or {}).get(kind) or []
    )


def owner(emu: Any, ident: str) -> str:
    return str(emu.record("Sandbox", ident)["OpportunityTeam"][0]["Email"])


def events(report: Any) -> list[dict[str, Any]]:
    lines = (report.run_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def call_events(report: Any) -> list[tuple[str, str, int]]:
    return [
        (e["event"], e["call"]["operation"], e["index"])
        for e in events(report)
        if e["event"] in ("call-intent", "call-done")
    ]


# -- planned and dry run ------------------------------------------------------------------


def every_kind(ident: str) -> dict[str, str]:
    """A row with a field, a new owner, a replaced solution and a submission."""
    return {
        "Identifier": ident,
        "LifeCycle.NextSteps": "Call the CFO",
        **PRIYA,
        "RelatedEntityIdentifiers.Solutions": "S-9000011",
        "Submit.InvolvementType": "Co-Sell",
    }


def test_the_dry_run_lists_every_call_in_changes_and_sends_nothing(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    (old_solution,) = related(emu, ident, "Solutions")
    report = apply_rows(emu, tmp_path, [every_kind(ident)], dry_run=True)
    got = only(report)
    assert got.outcome is Outcome.WOULD_UPDATE
    assert got.message == "would change 1 field(s) and 4 call(s)"
    assert [str(c) for c in got.changes] == [
        f"LifeCycle.NextSteps: {emu.record('Sandbox', ident)['LifeCycle'].get('NextSteps') or '(empty)'}"
        " -> Call the CFO",
        "AssociateOpportunity RelatedEntityIdentifiers.Solutions: (empty) -> S-9000011",
        f"DisassociateOpportunity RelatedEntityIdentifiers.Solutions: {old_solution} -> (empty)",
        "AssignOpportunity Assignee.Email: sam.rivera@partner.example.com -> "
        "priya.natarajan@partner.example.com",
        "SubmitOpportunity: Pending Submission -> Co-Sell",
    ]
    assert sent(emu) == {}


# -- applied ------------------------------------------------------------------------------


def test_an_update_and_every_call_kind_land_in_order_and_read_back(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    (old_solution,) = related(emu, ident, "Solutions")
    row = {**every_kind(ident), "RelatedEntityIdentifiers.AwsProducts": "AmazonRDS"}
    products = related(emu, ident, "AwsProducts")
    report = apply_rows(emu, tmp_path, [row])
    got = only(report)
    assert got.outcome is Outcome.UPDATED, got.message
    assert got.message == f"updated 1 field(s) and {5 + len(products)} call(s)"
    record = emu.record("Sandbox", ident)
    assert record["LifeCycle"]["NextSteps"] == "Call the CFO"
    assert owner(emu, ident) == PRIYA["Assignee.Email"]
    assert related(emu, ident, "Solutions") == ["S-9000011"]
    assert related(emu, ident, "AwsProducts") == ["AmazonRDS"]
    assert record["LifeCycle"]["ReviewStatus"] == "Submitted"
    assert got.new_version is not None  # the version after the last call, read back
    assert sent(emu) == {
        "UpdateOpportunity": 1,
        "AssociateOpportunity": 2,
        "DisassociateOpportunity": 1 + len(products),
        "AssignOpportunity": 1,
        "SubmitOpportunity": 1,
    }
    # the update first (intent), then each call's intent and done, then the row's end
    kinds = [e["event"] for e in events(report) if e.get("row") == 2]
    assert kinds[0] == "intent" and kinds[-1] == "done"
    ops = [op for kind, op, _ in call_events(report) if kind == "call-intent"]
    assert ops.index("AssociateOpportunity") < ops.index("DisassociateOpportunity")
    assert ops[-2:] == ["AssignOpportunity", "SubmitOpportunity"]
    assert report.summary.writes == sum(sent(emu).values())
    assert old_solution not in related(emu, ident, "Solutions")


def test_a_row_with_only_call_cells_is_carried_out(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Approved")
    report = apply_rows(emu, tmp_path, [{"Identifier": ident, **PRIYA}])
    got = only(report)
    assert (got.outcome, got.message) == (Outcome.UPDATED, "updated 1 call(s)")
    assert owner(emu, ident) == PRIYA["Assignee.Email"]
    assert sent(emu) == {"AssignOpportunity": 1}
    # the before-image is kept before the first write, for rollback
    before = json.loads(next((report.run_dir / "before").glob("*.json")).read_text())
    assert before["OpportunityTeam"][0]["Email"] == "sam.rivera@partner.example.com"


def test_replacing_the_last_solution_associates_first_then_disassociates(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    (old,) = related(emu, ident, "Solutions")
    report = apply_rows(
        emu, tmp_path, [{"Identifier": ident, "RelatedEntityIdentifiers.Solutions": "S-9000010"}]
    )
    assert only(report).outcome is Outcome.UPDATED, only(report).message
    assert related(emu, ident, "Solutions") == ["S-9000010"]
    assert call_events(report) == [
        ("call-intent", "AssociateOpportunity", 0),
        ("call-done", "AssociateOpportunity", 0),
        ("call-intent", "DisassociateOpportunity", 1),
        ("call-done", "DisassociateOpportunity", 1),
    ]
    assert [e["call"]["params"]["RelatedEntityIdentifier"] for e in events(report)
            if e["event"] == "call-intent"] == ["S-9000010", old]  # fmt: skip


def test_a_record_already_in_the_asked_state_is_unchanged_and_nothing_is_sent(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    record = emu.record("Sandbox", ident)
    row = {
        "Identifier": ident,
        "Assignee.Email": record["OpportunityTeam"][0]["Email"],
        "Assignee.FirstName": "Sam",
        "Assignee.LastName": "Rivera",
        "Assignee.BusinessTitle": "PartnerAccountManager",
        "RelatedEntityIdentifiers.Solutions": ";".join(related(emu, ident, "Solutions")),
        "RelatedEntityIdentifiers.AwsProducts": ";".join(related(emu, ident, "AwsProducts")),
    }
    report = apply_rows(emu, tmp_path, [row])
    assert only(report).outcome is Outcome.UNCHANGED
    assert sent(emu) == {}
    assert call_events(report) == []


def test_an_already_submitted_record_needs_no_submission(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Approved")
    report = apply_rows(emu, tmp_path, [{"Identifier": ident, "Submit.InvolvementType": "Co-Sell"}])
    assert only(report).outcome is Outcome.UNCHANGED
    assert sent(emu) == {}


# -- refused ------------------------------------------------------------------------------


def test_an_unregistered_assignee_is_refused_by_the_service_and_later_calls_are_not_sent(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    row = {
        "Identifier": ident,
        **PRIYA,
        "Assignee.Email": "someone.else@partner.example.com",
        "RelatedEntityIdentifiers.AwsProducts": ";".join(
            [*related(emu, ident, "AwsProducts"), "AmazonRDS"]
        ),
        "Submit.InvolvementType": "Co-Sell",
    }
    report = apply_rows(emu, tmp_path, [row])
    got = only(report)
    assert got.outcome is Outcome.INVALID
    assert "Partner Central refused AssignOpportunity" in got.message
    assert "1 of its 3 call(s) (AssociateOpportunity) already landed" in got.message
    assert "running the row again sends only what is still missing" in got.message
    (problem,) = got.problems
    assert (problem.column, problem.code) == ("Assignee.Email", "api-invalid_value")
    assert "not a registered user" in problem.message  # the service's own words
    assert "AmazonRDS" in related(emu, ident, "AwsProducts")
    assert owner(emu, ident) == "sam.rivera@partner.example.com"
    assert emu.record("Sandbox", ident)["LifeCycle"]["ReviewStatus"] == "Pending Submission"
    assert sent(emu) == {"AssociateOpportunity": 1, "AssignOpportunity": 1}
    assert [e["outcome"] for e in events(report) if e["event"] == "call-done"] == [
        "landed",
        "invalid",
    ]


def test_a_solution_the_catalog_lacks_is_refused_on_its_column(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    have = related(emu, ident, "Solutions")
    row = {
        "Identifier": ident,
        "RelatedEntityIdentifiers.Solutions": ";".join([*have, "S-1234567"]),
    }
    got = only(apply_rows(emu, tmp_path, [row]))
    assert got.outcome is Outcome.INVALID
    (problem,) = got.problems
    assert problem.column == "RelatedEntityIdentifiers.Solutions"
    assert problem.value == "S-1234567"
    assert "nothing of this row had been sent before it" in got.message
    assert related(emu, ident, "Solutions") == have


def test_too_many_entities_are_refused_offline_and_nothing_is_sent(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    limit = calls.ENTITY_LIMITS["AwsProducts"]
    products = ";".join(f"AmazonProduct{n}" for n in range(limit + 1))
    row = {"Identifier": ident, "RelatedEntityIdentifiers.AwsProducts": products}
    got = only(apply_rows(emu, tmp_path, [row]))
    assert got.outcome is Outcome.INVALID
    assert f"at most {limit} AwsProducts" in got.message
    assert [p.column for p in report_problems(got)] == ["RelatedEntityIdentifiers.AwsProducts"]
    assert sent(emu) == {}


@pytest.mark.parametrize("status", ["Submitted", "In review", "Rejected"])
def test_a_locked_review_status_sends_no_call(emu: Any, tmp_path: Path, status: str) -> None:
    ident = pick(emu, status)
    row = {"Identifier": ident, **PRIYA, "RelatedEntityIdentifiers.AwsProducts": "AmazonRDS"}
    got = only(apply_rows(emu, tmp_path, [row]))
    assert got.outcome is Outcome.LOCKED, got.message
    assert status in got.message
    assert {p.column for p in got.problems} == {
        "Assignee.Email", "Assignee.FirstName", "Assignee.LastName", "Assignee.BusinessTitle",
        "RelatedEntityIdentifiers.AwsProducts",
    }  # fmt: skip
    assert sent(emu) == {}
    assert owner(emu, ident) == "sam.rivera@partner.example.com"


def test_a_submission_the_status_forbids_is_refused_offline(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Rejected")
    got = only(
        apply_rows(emu, tmp_path, [{"Identifier": ident, "Submit.InvolvementType": "Co-Sell"}])
    )
    assert got.outcome is Outcome.INVALID
    (problem,) = got.problems
    assert (problem.column, problem.code) == ("Submit.InvolvementType", "not-submittable")
    assert sent(emu) == {}
    assert emu.record("Sandbox", ident)["LifeCycle"]["ReviewStatus"] == "Rejected"


# -- the budget ---------------------------------------------------------------------------


def test_each_call_counts_against_its_own_operation_s_daily_ledger(
    emu: Any, tmp_path: Path
) -> None:
    ledger = Ledger("calls", limit=5, folder=tmp_path / "home")
    ident = pick(emu, "Pending Submission")
    row = {"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO", **PRIYA}
    got = only(apply_rows(emu, tmp_path, [row], ledger=ledger))
    assert got.outcome is Outcome.UPDATED, got.message
    again = Ledger("calls", limit=5, folder=tmp_path / "home")
    assert again.used_by("UpdateOpportunity") == 1
    assert again.used_by("AssignOpportunity") == 1
    assert again.used == 1  # an old reader's count: UpdateOpportunity only


def test_a_used_up_daily_quota_of_one_operation_stops_before_its_call(
    emu: Any, tmp_path: Path
) -> None:
    ledger = Ledger("calls", limit=2, folder=tmp_path / "home")
    for _ in range(2):
        ledger.record("AssignOpportunity")
    ident = pick(emu, "Pending Submission")
    row = {"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO", **PRIYA}
    report = apply_rows(emu, tmp_path, [row], ledger=ledger)
    got = only(report)
    assert got.outcome is Outcome.SKIPPED
    assert "daily write quota of AssignOpportunity" in report.summary.extra["stopped"]
    assert "the update (1 field(s)) already landed" in got.message
    assert "resume the run to send it" in got.message
    assert sent(emu) == {"UpdateOpportunity": 1}


# -- an export's baseline -----------------------------------------------------------------


def test_call_cells_equal_to_the_export_ask_for_nothing(emu: Any) -> None:
    from apply_helpers import make_pc

    from bulk_update.decide import asks_nothing, decide
    from bulk_update.payload import RowEdit

    ident = pick(emu, "Pending Submission")
    live = make_pc(emu.url).get(ident)
    exported = {"Identifier": ident, "Assignee.Email": "sam.rivera@partner.example.com",
                "RelatedEntityIdentifiers.Solutions": ";".join(related(emu, ident, "Solutions"))}  # fmt: skip
    untouched = RowEdit(2, ident, calls={"Assignee.Email": exported["Assignee.Email"],
                                         "RelatedEntityIdentifiers.Solutions": tuple(related(emu, ident, "Solutions"))})  # fmt: skip
    assert asks_nothing(untouched, exported)
    assert decide(untouched, live, baseline=exported).outcome is Outcome.UNCHANGED
    edited = RowEdit(2, ident, calls={**untouched.calls, "Assignee.Email": PRIYA["Assignee.Email"],
                                      "Assignee.FirstName": "Priya", "Assignee.LastName": "N",
                                      "Assignee.BusinessTitle": "PartnerSalesManager"})  # fmt: skip
    assert not asks_nothing(edited, exported)
    d = decide(edited, live, baseline=exported)
    assert d.outcome is None and d.payload is None
    assert [c.operation for c in d.calls] == ["AssignOpportunity"]


def test_lost_answers_to_the_update_and_a_call_are_settled_by_reading_not_by_resending(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST, drop_after_write_rate=1.0)
    ident = pick(emu, "Pending Submission")
    row = {"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO", **PRIYA}
    report = apply_rows(emu, tmp_path, [row])
    got = only(report)
    assert got.outcome is Outcome.UPDATED, got.message
    assert got.message.startswith("updated 1 field(s) and 1 call(s)")
    assert owner(emu, ident) == PRIYA["Assignee.Email"]
    assert sent(emu) == {"UpdateOpportunity": 1, "AssignOpportunity": 1}
    dones = [e for e in events(report) if e["event"] == "call-done"]
    assert [(e["outcome"], e["message"]) for e in dones] == [
        ("landed", "settled by reading the record")
    ]
