"""``rollback`` of a run's other calls: the owner and the related entities put back, the
submission said to be beyond undoing; through boto3 and the emulator.

Each test applies a sheet with call columns (AssignOpportunity, Associate/Disassociate,
SubmitOpportunity) to the emulator, then rolls the run back from its run folder and
compares the records whole with their before-images.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import apply_rows, make_pc, pick, strip_volatile, writes
from conftest import FAST, client_for

from bulk_update.problems import Outcome
from bulk_update.run.restore import RunCalls
from bulk_update.run.rollback import rollback_run

PRIYA = {
    "Assignee.Email": "priya.natarajan@partner.example.com",
    "Assignee.FirstName": "Priya",
    "Assignee.LastName": "Natarajan",
    "Assignee.BusinessTitle": "PartnerSalesManager",
}
LENA = {
    "Email": "lena.novak@partner.example.com",
    "FirstName": "Lena",
    "LastName": "Novak",
    "BusinessTitle": "PartnerSolutionsArchitect",
}
PRODUCTS = "RelatedEntityIdentifiers.AwsProducts"
SOLUTIONS = "RelatedEntityIdentifiers.Solutions"


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def applied(emu: Any, tmp_path: Path, rows: list[dict[str, str]]) -> tuple[Path, dict[str, Any]]:
    """Apply ``rows``; every row must end ``updated``. The run folder and the records before."""
    before = {r["Identifier"]: emu.record("Sandbox", r["Identifier"]) for r in rows}
    report = apply_rows(emu, tmp_path, rows)
    assert {r.identifier: r.outcome for r in report.results} == dict.fromkeys(
        before, Outcome.UPDATED
    ), [r.message for r in report.results]
    assert report.run_dir is not None
    return report.run_dir, before


def outcomes(report: Any) -> dict[str, Outcome]:
    return {r.identifier: r.outcome for r in report.results}


def related(emu: Any, ident: str, kind: str) -> list[str]:
    return list(emu.record("Sandbox", ident)["RelatedEntityIdentifiers"].get(kind, []))


def call_intents(folder: Path) -> list[tuple[str, str]]:
    """The rollback's journalled calls, in order: (operation, entity or e-mail)."""
    out = []
    for line in (folder / "journal.jsonl").read_text("utf-8").splitlines():
        event = json.loads(line)
        if event.get("event") == "call-intent":
            call = event["call"]
            params = call["params"]
            what = params.get("RelatedEntityIdentifier") or params.get("Assignee", {}).get("Email")
            out.append((call["operation"], str(what)))
    return out


def test_a_reassignment_is_rolled_back_to_the_old_owner(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    run_dir, before = applied(emu, tmp_path, [{"Identifier": ident, **PRIYA}])
    assert emu.record("Sandbox", ident)["OpportunityTeam"][0]["Email"] == PRIYA["Assignee.Email"]
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ident: Outcome.UPDATED}, report.results[0].message
    assert strip_volatile(emu.record("Sandbox", ident)) == strip_volatile(before[ident])
    assert writes(emu) == {f"Sandbox/{ident}": 1}
    folder = Path(report.summary.extra["rollback folder"])
    assert call_intents(folder) == [("AssignOpportunity", "sam.rivera@partner.example.com")]
    again = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(again) == {ident: Outcome.UNCHANGED}


def test_an_association_and_a_disassociation_are_set_back(emu: Any, tmp_path: Path) -> None:
    one = pick(emu, "Pending Submission")  # AwsProducts: AmazonEC2
    two = pick(emu, "Approved")  # AwsProducts: AmazonEC2, AmazonS3
    assert related(emu, one, "AwsProducts") == ["AmazonEC2"]
    assert related(emu, two, "AwsProducts") == ["AmazonEC2", "AmazonS3"]
    rows = [
        {"Identifier": one, PRODUCTS: "AmazonEC2;AmazonS3", "LifeCycle.NextSteps": "Add S3"},
        {"Identifier": two, PRODUCTS: "AmazonEC2", "LifeCycle.NextSteps": ""},
    ]
    run_dir, before = applied(emu, tmp_path, rows)
    assert related(emu, one, "AwsProducts") == ["AmazonEC2", "AmazonS3"]
    assert related(emu, two, "AwsProducts") == ["AmazonEC2"]
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == dict.fromkeys((one, two), Outcome.UPDATED)
    for ident in (one, two):
        assert strip_volatile(emu.record("Sandbox", ident)) == strip_volatile(before[ident])
    folder = Path(report.summary.extra["rollback folder"])
    assert sorted(call_intents(folder)) == [
        ("AssociateOpportunity", "AmazonS3"),
        ("DisassociateOpportunity", "AmazonS3"),
    ]


def test_replacing_the_last_solution_is_rolled_back_old_one_first(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    (old,) = related(emu, ident, "Solutions")
    run_dir, before = applied(emu, tmp_path, [{"Identifier": ident, SOLUTIONS: "S-9000011"}])
    assert related(emu, ident, "Solutions") == ["S-9000011"]
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ident: Outcome.UPDATED}, report.results[0].message
    assert related(emu, ident, "Solutions") == [old]
    assert strip_volatile(emu.record("Sandbox", ident)) == strip_volatile(before[ident])
    folder = Path(report.summary.extra["rollback folder"])
    assert call_intents(folder) == [
        ("AssociateOpportunity", old),
        ("DisassociateOpportunity", "S-9000011"),
    ]


def test_an_owner_someone_changed_after_the_run_is_a_conflict_and_not_sent(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    rows = [{"Identifier": ident, **PRIYA, PRODUCTS: "AmazonEC2;AmazonS3"}]
    run_dir, _ = applied(emu, tmp_path, rows)
    client_for(emu.url).assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=LENA)
    after_them = emu.record("Sandbox", ident)
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ident: Outcome.CONFLICT}
    row = report.results[0]
    assert "changed in Partner Central after the run" in row.message
    assert row.message.endswith(": Assignee.Email; nothing written"), row.message
    assert [p.column for p in report.problems] == ["Assignee.Email"]
    assert writes(emu) == {}
    assert emu.record("Sandbox", ident) == after_them


def test_only_the_parts_the_run_changed_are_asked_back_and_checked() -> None:
    image = {
        "OpportunityTeam": [{"Email": "sam.rivera@partner.example.com", "FirstName": "Sam",
                             "LastName": "Rivera", "BusinessTitle": "PartnerAccountManager"}],
        "RelatedEntityIdentifiers": {"Solutions": ["S-1"], "AwsProducts": ["AmazonEC2"]},
    }  # fmt: skip
    run = RunCalls.of(
        [{"operation": "AssignOpportunity", "params": {"Assignee": {"Email": "x@y.example"}}}]
    )
    assert set(run.asked_back(image)) == set(PRIYA)  # no related-entity column asked
    seller = {**image, "RelatedEntityIdentifiers": {"Solutions": ["S-2"]}}
    left = {**seller, "OpportunityTeam": [{"Email": "X@y.example"}]}
    assert run.moved(image, left) == []  # a seller's change to a part the run left alone
    lena = {**image, "OpportunityTeam": [{"Email": "lena.novak@partner.example.com"}]}
    assert run.moved(image, lena) == ["Assignee.Email"]
    assert run.moved(image, image) == []  # put back already
    products = RunCalls.of(
        [
            {"operation": "AssociateOpportunity",
             "params": {"RelatedEntityType": "AwsProducts", "RelatedEntityIdentifier": "AmazonS3"}},
        ]
    )  # fmt: skip
    assert products.asked_back(image) == {PRODUCTS: ("AmazonEC2",)}
    both = {**image, "RelatedEntityIdentifiers": {"AwsProducts": ["AmazonEC2", "AmazonS3"]}}
    assert products.moved(image, both) == []
    assert products.moved(image, image) == []  # put back already
    other = {**image, "RelatedEntityIdentifiers": {"AwsProducts": ["AmazonRDS"]}}
    assert products.moved(image, other) == [PRODUCTS]


def test_a_row_the_run_submitted_ends_locked_while_in_review(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    rows = [
        {"Identifier": ident, "LifeCycle.NextSteps": "Submit it", "Submit.InvolvementType": "Co-Sell"}
    ]
    run_dir, before = applied(emu, tmp_path, rows)
    assert emu.record("Sandbox", ident)["LifeCycle"]["ReviewStatus"] == "Submitted"
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ident: Outcome.LOCKED}
    message = report.results[0].message
    assert "submission cannot be undone" in message and "'Submitted'" in message
    assert report.notes == [
        "1 row was submitted to AWS by the run: a submission cannot be rolled back, "
        "only their other changes are put back where the review status allows it"
    ]
    assert writes(emu) == {}
    # once AWS has answered, the rest of the row goes back; the submission stays
    emu.set_review_status("Sandbox", ident, "Approved")
    later = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(later) == {ident: Outcome.UPDATED}, later.results[0].message
    now = strip_volatile(emu.record("Sandbox", ident))
    assert now["LifeCycle"].pop("ReviewStatus") == "Approved"
    was = strip_volatile(before[ident])
    was["LifeCycle"].pop("ReviewStatus")
    assert now == was
    assert later.notes == report.notes


def test_a_first_solution_the_run_gave_stays_with_a_warning(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    emu.seller_edit("Sandbox", ident, {SOLUTIONS: None})
    assert related(emu, ident, "Solutions") == []
    run_dir, _ = applied(emu, tmp_path, [{"Identifier": ident, SOLUTIONS: "S-9000011"}])
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ident: Outcome.UNCHANGED}
    assert "never removes an opportunity's last solution" in report.results[0].message
    assert [(p.column, p.code, p.is_error) for p in report.problems] == [
        (SOLUTIONS, "solution-kept", False)
    ]
    assert related(emu, ident, "Solutions") == ["S-9000011"]
    assert writes(emu) == {}


def test_a_rollback_stopped_between_two_calls_finishes_when_run_again(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    rows = [{"Identifier": ident, "LifeCycle.NextSteps": "Moved", SOLUTIONS: "S-9000011", **PRIYA}]
    run_dir, before = applied(emu, tmp_path, rows)
    emu.reset_counters()
    first = rollback_run(make_pc(emu.url), run_dir, max_writes=2)
    assert outcomes(first) != {ident: Outcome.UPDATED}
    assert writes(emu) == {f"Sandbox/{ident}": 2}  # the update and the first association
    second = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(second) == {ident: Outcome.UPDATED}, second.results[0].message
    assert call_intents(Path(second.summary.extra["rollback folder"])) == [
        ("DisassociateOpportunity", "S-9000011"),
        ("AssignOpportunity", "sam.rivera@partner.example.com"),
    ]
    assert writes(emu) == {f"Sandbox/{ident}": 4}
    assert strip_volatile(emu.record("Sandbox", ident)) == strip_volatile(before[ident])


def test_a_rollback_of_calls_can_itself_be_rolled_back(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    run_dir, _ = applied(emu, tmp_path, [{"Identifier": ident, **PRIYA, SOLUTIONS: "S-9000011"}])
    after_run = strip_volatile(emu.record("Sandbox", ident))
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ident: Outcome.UPDATED}
    undo = rollback_run(make_pc(emu.url), Path(report.summary.extra["rollback folder"]))
    assert outcomes(undo) == {ident: Outcome.UPDATED}, undo.results[0].message
    assert strip_volatile(emu.record("Sandbox", ident)) == after_run


def test_an_update_that_landed_before_a_refused_call_is_put_back(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    before = emu.record("Sandbox", ident)
    stranger = {**PRIYA, "Assignee.Email": "someone.else@partner.example.com"}
    rows = [{"Identifier": ident, "LifeCycle.NextSteps": "Landed first", **stranger}]
    report = apply_rows(emu, tmp_path, rows)
    assert [r.outcome for r in report.results] == [Outcome.INVALID]  # the assignment refused
    assert emu.record("Sandbox", ident)["LifeCycle"]["NextSteps"] == "Landed first"
    assert report.run_dir is not None
    undone = rollback_run(make_pc(emu.url), report.run_dir)
    assert outcomes(undone) == {ident: Outcome.UPDATED}, undone.results[0].message
    assert strip_volatile(emu.record("Sandbox", ident)) == strip_volatile(before)


def test_a_submitted_row_that_aws_rejected_says_nothing_can_go_back(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    rows = [{"Identifier": ident, **PRIYA, "Submit.InvolvementType": "For Visibility Only"}]
    run_dir, _ = applied(emu, tmp_path, rows)
    emu.set_review_status("Sandbox", ident, "Rejected")
    emu.reset_counters()
    report = rollback_run(make_pc(emu.url), run_dir)
    assert outcomes(report) == {ident: Outcome.LOCKED}
    assert report.results[0].message.endswith(
        "the record is 'Rejected' and is read-only: nothing was put back, and nothing can be"
    )
    assert writes(emu) == {}
