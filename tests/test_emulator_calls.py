"""Assign, Associate, Disassociate, Submit and ListSolutions on the emulator, through boto3 over HTTP."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import FAST, client_for

from bulk_update.emulator.calls import ENTITY_LIMITS
from bulk_update.emulator.validation import input_shape, output_shape

NEW_OWNER = {
    "Email": "priya.natarajan@partner.example.com",
    "FirstName": "Priya",
    "LastName": "Natarajan",
    "BusinessTitle": "PartnerSalesManager",
}
STATUSES = list(output_shape("GetOpportunity").members["LifeCycle"].members["ReviewStatus"].enum)


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


@pytest.fixture
def pc(emu: Any) -> Any:
    return client_for(emu.url, retries=1)


def pick(emu: Any, status: str, catalog: str = "Sandbox") -> str:
    for ident, rec in sorted(emu.records(catalog).items()):
        if rec["LifeCycle"]["ReviewStatus"] == status:
            return ident
    raise LookupError(status)


def refusal(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, list[tuple[str, str]]]:
    """(exception, reason, [(field, code), ...]) of a refused call."""
    answer = excinfo.value.response
    fields = [(e["FieldName"], e["Code"]) for e in answer.get("ErrorList", [])]
    return answer["Error"]["Code"], answer.get("Reason", ""), fields


def related(pc: Any, ident: str, kind: str) -> list[str]:
    got = pc.get_opportunity(Catalog="Sandbox", Identifier=ident)
    return list(got.get("RelatedEntityIdentifiers", {}).get(kind, []))


def post(emu: Any, route: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(emu.url + route, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


# -- AssignOpportunity ------------------------------------------------------
def test_assigning_a_registered_user_makes_them_the_owner_and_moves_the_version(
    emu: Any, pc: Any
) -> None:
    ident = pick(emu, "Pending Submission")
    before = pc.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert before["OpportunityTeam"][0]["Email"] != NEW_OWNER["Email"]
    pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    after = pc.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert after["OpportunityTeam"][0] == NEW_OWNER
    assert after["LastModifiedDate"] > before["LastModifiedDate"]
    assert emu.counters()["writes_per_id"] == {f"Sandbox/{ident}": 1}


def test_an_unregistered_assignee_is_refused_and_nothing_changes(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    before = emu.record("Sandbox", ident)
    stranger = {**NEW_OWNER, "Email": "someone.else@partner.example.com"}
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=stranger)
    assert refusal(excinfo) == (
        "ValidationException",
        "BUSINESS_VALIDATION_FAILED",
        [("Assignee.Email", "INVALID_VALUE")],
    )
    assert emu.record("Sandbox", ident) == before


def test_the_registered_users_can_be_read_and_set_from_a_test(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    newcomer = {**NEW_OWNER, "Email": "new.hire@partner.example.com", "FirstName": "New"}
    assert newcomer["Email"] not in {u["Email"] for u in emu.users()}
    with pytest.raises(ClientError):
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=newcomer)
    listed = post(emu, "/_emulator/users", {"users": [*emu.users(), newcomer]})
    assert newcomer["Email"] in {u["Email"] for u in listed}
    pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=newcomer)
    assert emu.record("Sandbox", ident)["OpportunityTeam"][0]["Email"] == newcomer["Email"]


@pytest.mark.parametrize("status", ["Submitted", "In review", "Rejected"])
def test_assignment_is_refused_while_the_review_status_locks_the_record(
    emu: Any, pc: Any, status: str
) -> None:
    ident = pick(emu, status)
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    assert refusal(excinfo)[2] == [("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE")]


@pytest.mark.parametrize("status", ["Approved", "Action Required"])
def test_assignment_is_allowed_once_reviewed(emu: Any, pc: Any, status: str) -> None:
    ident = pick(emu, status)
    pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    assert emu.record("Sandbox", ident)["OpportunityTeam"][0]["Email"] == NEW_OWNER["Email"]


def test_assignment_is_checked_against_the_model_and_the_catalog(emu: Any) -> None:
    # botocore checks requests itself; with that off, the emulator's own check answers
    pc = boto3.client(
        "partnercentral-selling",
        region_name="us-east-1",
        endpoint_url=emu.url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )
    ident = pick(emu, "Pending Submission")
    partial = {k: v for k, v in NEW_OWNER.items() if k != "BusinessTitle"}
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=partial)
    assert refusal(excinfo) == (
        "ValidationException",
        "REQUEST_VALIDATION_FAILED",
        [("Assignee.BusinessTitle", "REQUIRED_FIELD_MISSING")],
    )
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier="O999", Assignee=NEW_OWNER)
    assert refusal(excinfo)[0] == "ResourceNotFoundException"


# -- AssociateOpportunity / DisassociateOpportunity -------------------------
def _link(pc: Any, verb: str, ident: str, kind: str, entity: str) -> None:
    getattr(pc, f"{verb}_opportunity")(
        Catalog="Sandbox",
        OpportunityIdentifier=ident,
        RelatedEntityType=kind,
        RelatedEntityIdentifier=entity,
    )


def test_an_associated_solution_shows_in_get_opportunity(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    before = related(pc, ident, "Solutions")
    new = next(s["Id"] for s in emu.account.solutions["Sandbox"] if s["Id"] not in before)
    _link(pc, "associate", ident, "Solutions", new)
    assert related(pc, ident, "Solutions") == [*before, new]
    # associating it again changes nothing, not even the version
    stamp = emu.record("Sandbox", ident)["LastModifiedDate"]
    _link(pc, "associate", ident, "Solutions", new)
    assert emu.record("Sandbox", ident)["LastModifiedDate"] == stamp
    assert related(pc, ident, "Solutions") == [*before, new]


def test_only_solutions_of_the_catalog_can_be_associated(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    known = {s["Id"] for s in pc.list_solutions(Catalog="Sandbox")["SolutionSummaries"]}
    assert "S-1234567" not in known
    with pytest.raises(ClientError) as excinfo:
        _link(pc, "associate", ident, "Solutions", "S-1234567")
    assert refusal(excinfo)[0] == "ResourceNotFoundException"
    emu.set_solutions("Sandbox", [{"Id": "S-1234567", "Name": "New", "Status": "Active"}])
    _link(pc, "associate", ident, "Solutions", "S-1234567")
    assert "S-1234567" in related(pc, ident, "Solutions")


def test_an_identifier_must_fit_its_entity_kind_from_the_model(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    with pytest.raises(ClientError) as excinfo:
        _link(pc, "associate", ident, "Solutions", "not-a-solution")
    assert refusal(excinfo) == (
        "ValidationException",
        "REQUEST_VALIDATION_FAILED",
        [("RelatedEntityIdentifier", "INVALID_STRING_FORMAT")],
    )
    with pytest.raises(ClientError) as excinfo:
        _link(pc, "associate", ident, "Partners", "S-9000001")
    assert refusal(excinfo)[2] == [("RelatedEntityType", "INVALID_ENUM_VALUE")]


def test_the_limit_table_names_only_kinds_the_model_has() -> None:
    kinds = input_shape("AssociateOpportunity").members["RelatedEntityType"].enum
    assert set(ENTITY_LIMITS) <= set(kinds)
    assert set(kinds) <= set(
        output_shape("GetOpportunity").members["RelatedEntityIdentifiers"].members
    )


@pytest.mark.parametrize(
    ("kind", "entity"),
    [
        ("AwsProducts", "AmazonProduct{n}"),
        ("Solutions", "S-{n}"),
        (
            "AwsMarketplaceOffers",
            "arn:aws:aws-marketplace:us-east-1:123456789012:AWSMarketplace/Offer/o-{n}",
        ),
    ],
)
def test_each_kind_stops_at_its_limit_per_opportunity(
    emu: Any, pc: Any, kind: str, entity: str
) -> None:
    ident = pick(emu, "Pending Submission")
    limit = ENTITY_LIMITS[kind]
    have = related(pc, ident, kind)
    names = [entity.format(n=8000000 + n) for n in range(limit + 1)]
    emu.set_solutions("Sandbox", [{"Id": n, "Name": n, "Status": "Active"} for n in names])
    for name in names[: limit - len(have)]:
        _link(pc, "associate", ident, kind, name)
    assert len(related(pc, ident, kind)) == limit
    with pytest.raises(ClientError) as excinfo:
        _link(pc, "associate", ident, kind, names[-1])
    assert refusal(excinfo) == (
        "ValidationException",
        "BUSINESS_VALIDATION_FAILED",
        [(f"RelatedEntityIdentifiers.{kind}", "TOO_MANY_VALUES")],
    )
    assert len(related(pc, ident, kind)) == limit


def test_the_last_solution_is_replaced_by_adding_first_then_removing(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    (old,) = related(pc, ident, "Solutions")
    with pytest.raises(ClientError) as excinfo:
        _link(pc, "disassociate", ident, "Solutions", old)
    assert refusal(excinfo)[2] == [("RelatedEntityIdentifiers.Solutions", "NOT_ENOUGH_VALUES")]
    assert related(pc, ident, "Solutions") == [old]
    new = "S-9000011"
    _link(pc, "associate", ident, "Solutions", new)
    _link(pc, "disassociate", ident, "Solutions", old)
    assert related(pc, ident, "Solutions") == [new]


def test_other_kinds_can_be_emptied(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    for product in related(pc, ident, "AwsProducts"):
        _link(pc, "disassociate", ident, "AwsProducts", product)
    assert related(pc, ident, "AwsProducts") == []


def test_disassociating_what_is_not_associated_is_not_found(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    assert "AmazonRDS" not in related(pc, ident, "AwsProducts")
    with pytest.raises(ClientError) as excinfo:
        _link(pc, "disassociate", ident, "AwsProducts", "AmazonRDS")
    assert refusal(excinfo)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize("verb", ["associate", "disassociate"])
def test_links_are_locked_while_aws_reviews(emu: Any, pc: Any, verb: str) -> None:
    ident = pick(emu, "Submitted")
    product = "AmazonEC2" if verb == "disassociate" else "AmazonRDS"
    with pytest.raises(ClientError) as excinfo:
        _link(pc, verb, ident, "AwsProducts", product)
    assert refusal(excinfo)[2] == [("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE")]


# -- SubmitOpportunity ------------------------------------------------------
def test_submission_locks_the_record_until_aws_sets_a_review_status(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    pc.submit_opportunity(Catalog="Sandbox", Identifier=ident, InvolvementType="Co-Sell")
    got = pc.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert got["LifeCycle"]["ReviewStatus"] == "Submitted"
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    assert refusal(excinfo)[2] == [("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE")]
    post(
        emu,
        "/_emulator/review-status",
        {"catalog": "Sandbox", "identifier": ident, "status": "Approved"},
    )
    assert emu.record("Sandbox", ident)["LifeCycle"]["ReviewStatus"] == "Approved"
    pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)


def test_a_submitted_record_refuses_updates(emu: Any, pc: Any) -> None:
    from test_emulator_api import payload

    ident = pick(emu, "Pending Submission")
    pc.submit_opportunity(
        Catalog="Sandbox",
        Identifier=ident,
        InvolvementType="For Visibility Only",
        Visibility="Limited",
    )
    got = pc.get_opportunity(Catalog="Sandbox", Identifier=ident)
    body = payload(got)
    body["LifeCycle"]["NextSteps"] = "Call the customer"
    with pytest.raises(ClientError) as excinfo:
        pc.update_opportunity(**body)
    assert refusal(excinfo)[2] == [("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE")]
    emu.set_review_status("Sandbox", ident, "Action Required", "Check the spend")
    got = pc.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert got["LifeCycle"]["ReviewComments"] == "Check the spend"


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "Pending Submission"])
def test_submission_is_refused_from_every_other_status(emu: Any, pc: Any, status: str) -> None:
    ident = pick(emu, status)
    with pytest.raises(ClientError) as excinfo:
        pc.submit_opportunity(Catalog="Sandbox", Identifier=ident, InvolvementType="Co-Sell")
    assert refusal(excinfo) == (
        "ValidationException",
        "BUSINESS_VALIDATION_FAILED",
        [("LifeCycle.ReviewStatus", "INVALID_RESOURCE_STATE")],
    )
    assert emu.record("Sandbox", ident)["LifeCycle"]["ReviewStatus"] == status


def test_submission_takes_the_model_s_involvement_types(emu: Any, pc: Any) -> None:
    ident = pick(emu, "Pending Submission")
    with pytest.raises(ClientError) as excinfo:
        pc.submit_opportunity(Catalog="Sandbox", Identifier=ident, InvolvementType="Solo")
    assert refusal(excinfo)[2] == [("InvolvementType", "INVALID_ENUM_VALUE")]


# -- quotas and faults ------------------------------------------------------
def test_each_write_operation_has_its_own_lane(fresh_emulator: Any) -> None:
    now = [1000.0]
    emu = fresh_emulator(
        write_rate=1.0, write_burst=1, read_rate=1000, read_burst=1000, clock=lambda: now[0]
    )
    pc = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    product = related(pc, ident, "AwsProducts")[0]
    # one of each in the same instant: each finds its own bucket full
    pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    _link(pc, "associate", ident, "AwsProducts", "AmazonRDS")
    _link(pc, "disassociate", ident, "AwsProducts", product)
    pc.submit_opportunity(Catalog="Sandbox", Identifier=ident, InvolvementType="Co-Sell")
    # a second of one kind in the same instant is throttled
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    assert refusal(excinfo)[0] == "ThrottlingException"
    assert emu.counters()["throttled"] == {"AssignOpportunity": 1}
    now[0] += 1.0
    emu.set_review_status("Sandbox", ident, "Approved")
    pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)


def test_a_lane_s_rate_is_a_setting(fresh_emulator: Any) -> None:
    now = [1000.0]
    emu = fresh_emulator(
        write_rate=1.0,
        write_burst=2,
        operation_rates={"AssignOpportunity": 5.0},
        read_rate=1000,
        read_burst=1000,
        clock=lambda: now[0],
    )
    pc = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    for _ in range(2):
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    now[0] += 0.2  # a fifth of a second: one token at 5/s, none at 1/s
    pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    emu.set_quotas(operation_rates={})
    for _ in range(2):
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    now[0] += 0.2
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    assert refusal(excinfo)[0] == "ThrottlingException"


def test_each_lane_has_its_own_daily_count(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**{**FAST, "daily_writes": 2})
    pc = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    for _ in range(2):
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    with pytest.raises(ClientError) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    assert "Daily quota" in excinfo.value.response["Error"]["Message"]
    _link(pc, "associate", ident, "AwsProducts", "AmazonRDS")


def test_an_assignment_whose_answer_is_lost_has_landed(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST, drop_after_write_rate=1.0)
    pc = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    with pytest.raises(Exception) as excinfo:
        pc.assign_opportunity(Catalog="Sandbox", Identifier=ident, Assignee=NEW_OWNER)
    assert not isinstance(excinfo.value, ClientError)
    assert emu.record("Sandbox", ident)["OpportunityTeam"][0]["Email"] == NEW_OWNER["Email"]
    assert emu.counters()["faults"] == {"AssignOpportunity": 1}


def test_an_association_after_an_error_answer_is_kept_and_a_fault_before_does_nothing(
    fresh_emulator: Any,
) -> None:
    emu = fresh_emulator(**FAST, error_after_write_rate=1.0)
    pc = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    with pytest.raises(ClientError) as excinfo:
        _link(pc, "associate", ident, "AwsProducts", "AmazonRDS")
    assert refusal(excinfo)[0] == "InternalServerException"
    assert "AmazonRDS" in related(pc, ident, "AwsProducts")
    emu.set_faults(fault_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        pc.submit_opportunity(Catalog="Sandbox", Identifier=ident, InvolvementType="Co-Sell")
    assert refusal(excinfo)[0] == "InternalServerException"
    assert emu.record("Sandbox", ident)["LifeCycle"]["ReviewStatus"] == "Pending Submission"


def test_list_solutions_answers_the_catalog(emu: Any, pc: Any) -> None:
    answer = pc.list_solutions(Catalog="Sandbox", Status=["Active"])["SolutionSummaries"]
    assert [s["Id"] for s in answer] == [s["Id"] for s in emu.account.solutions["Sandbox"]]
    emu.set_solutions("Sandbox", [{**answer[0], "Status": "Inactive"}])
    assert pc.list_solutions(Catalog="Sandbox", Status=["Active"])["SolutionSummaries"] == []
