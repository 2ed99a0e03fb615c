"""The emulator's AWS surface, driven only through a real boto3 client over HTTP."""

from __future__ import annotations

import copy
import json
import re
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import FAST, client_for

from bulk_update.fields import service_model

UPDATE_MEMBERS = set(service_model().operation_model("UpdateOpportunity").input_shape.members)
AWS_OWNED = ("ReviewStatus", "ReviewComments", "ReviewStatusReason", "NextStepsHistory")


def payload(got: dict[str, Any]) -> dict[str, Any]:
    """A full UpdateOpportunity request rebuilt from a GetOpportunity answer."""
    body = {k: copy.deepcopy(v) for k, v in got.items() if k in UPDATE_MEMBERS}
    body["Identifier"] = got["Id"]
    life = {k: v for k, v in body.get("LifeCycle", {}).items() if k not in AWS_OWNED}
    body["LifeCycle"] = life
    return body


def pick(emu: Any, status: str, catalog: str = "Sandbox", stage: str | None = None) -> str:
    for ident, rec in sorted(emu.records(catalog).items()):
        life = rec["LifeCycle"]
        if life["ReviewStatus"] == status and (stage is None or life["Stage"] == stage):
            return ident
    raise LookupError(status)


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def fields_of(error: ClientError) -> set[str]:
    return {item["FieldName"] for item in error.response.get("ErrorList", [])}


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


@pytest.fixture
def client(emu: Any) -> Any:
    return client_for(emu.url, retries=1)


def test_get_returns_the_seed_record(emulator: Any, pc_client: Any) -> None:
    got = pc_client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    seed = emulator.record("Sandbox", "O1000001")
    assert got["Id"] == "O1000001"
    assert got["Customer"] == seed["Customer"]
    assert (
        got["LastModifiedDate"]
        .isoformat(timespec="milliseconds")
        .startswith(seed["LastModifiedDate"][:23])
    )
    assert got["LastModifiedDate"].utcoffset() == timedelta(0)


def test_timestamps_travel_as_iso_with_milliseconds(emulator: Any) -> None:
    request = urllib.request.Request(
        emulator.url + "/",
        data=json.dumps({"Catalog": "Sandbox", "Identifier": "O1000002"}).encode(),
        headers={
            "X-Amz-Target": "AWSPartnerCentralSelling.GetOpportunity",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    with urllib.request.urlopen(request) as answer:
        body = json.loads(answer.read())
        assert answer.headers["Content-Type"] == "application/x-amz-json-1.0"
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
    assert stamp.fullmatch(body["LastModifiedDate"])
    assert stamp.fullmatch(body["CreatedDate"])


def test_unknown_id_is_not_found(pc_client: Any) -> None:
    with pytest.raises(pc_client.exceptions.ResourceNotFoundException):
        pc_client.get_opportunity(Catalog="Sandbox", Identifier="O42")


def test_catalogs_are_separate_stores(emulator: Any, pc_client: Any) -> None:
    aws_id = next(iter(emulator.records("AWS")))
    assert pc_client.get_opportunity(Catalog="AWS", Identifier=aws_id)["Catalog"] == "AWS"
    with pytest.raises(pc_client.exceptions.ResourceNotFoundException):
        pc_client.get_opportunity(Catalog="Sandbox", Identifier=aws_id)
    with pytest.raises(pc_client.exceptions.ResourceNotFoundException):
        pc_client.get_opportunity(Catalog="AWS", Identifier="O1000001")
    listed = pc_client.list_opportunities(Catalog="AWS", MaxResults=100)["OpportunitySummaries"]
    assert {s["Id"] for s in listed} == set(emulator.records("AWS"))


def test_unknown_catalog_is_a_validation_error(pc_client: Any) -> None:
    with pytest.raises(pc_client.exceptions.ValidationException) as caught:
        pc_client.get_opportunity(Catalog="Production", Identifier="O1000001")
    assert fields_of(caught.value) == {"Catalog"}


def test_update_writes_and_moves_the_version(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    body = payload(got)
    body["Project"]["Title"] = "Renamed by test"
    out = client.update_opportunity(**body)
    assert out["Id"] == ident
    assert out["LastModifiedDate"] > got["LastModifiedDate"]
    again = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert again["Project"]["Title"] == "Renamed by test"
    assert again["LastModifiedDate"] == out["LastModifiedDate"]
    assert again["Customer"] == got["Customer"]
    assert again["CreatedDate"] == got["CreatedDate"]
    assert emu.counters()["writes_per_id"] == {f"Sandbox/{ident}": 1}


def test_update_replaces_the_whole_record(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    body = payload(got)
    body.pop("Marketing")
    del body["Project"]["AdditionalComments"]
    client.update_opportunity(**body)
    again = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert "Marketing" not in again
    assert "AdditionalComments" not in again["Project"]
    assert again["Project"]["Title"] == got["Project"]["Title"]


def test_stale_version_conflicts_and_changes_nothing(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    first = payload(got)
    first["Project"]["Title"] = "First writer"
    client.update_opportunity(**first)
    second = payload(got)
    second["Project"]["Title"] = "Second writer"
    with pytest.raises(client.exceptions.ConflictException):
        client.update_opportunity(**second)
    assert emu.record("Sandbox", ident)["Project"]["Title"] == "First writer"


def test_version_compares_at_millisecond_precision(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    body = payload(got)
    body["LastModifiedDate"] = got["LastModifiedDate"] + timedelta(microseconds=400)
    client.update_opportunity(**body)  # same millisecond: accepted
    body = payload(got)
    body["LastModifiedDate"] = got["LastModifiedDate"] + timedelta(milliseconds=1)
    with pytest.raises(client.exceptions.ConflictException):
        client.update_opportunity(**body)


def test_aws_owned_fields_in_a_request_are_ignored(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    body = payload(got)
    body["LifeCycle"]["ReviewStatus"] = "Approved"
    body["LifeCycle"]["ReviewComments"] = "I approve myself"
    body["LifeCycle"]["NextStepsHistory"] = []
    client.update_opportunity(**body)
    life = client.get_opportunity(Catalog="Sandbox", Identifier=ident)["LifeCycle"]
    assert life["ReviewStatus"] == "Pending Submission"
    assert "ReviewComments" not in life
    assert life["NextStepsHistory"] == got["LifeCycle"]["NextStepsHistory"]


def test_next_steps_changes_are_logged(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    before = got["LifeCycle"]["NextStepsHistory"]
    body = payload(got)
    body["LifeCycle"]["NextSteps"] = "Book the workshop"
    out = client.update_opportunity(**body)
    history = client.get_opportunity(Catalog="Sandbox", Identifier=ident)["LifeCycle"][
        "NextStepsHistory"
    ]
    assert history[:-1] == before
    assert history[-1] == {"Value": "Book the workshop", "Time": out["LastModifiedDate"]}
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    body["Project"]["Title"] = "Same next steps"
    client.update_opportunity(**body)
    after = client.get_opportunity(Catalog="Sandbox", Identifier=ident)["LifeCycle"]
    assert len(after["NextStepsHistory"]) == len(history)


def test_next_steps_history_keeps_the_newest_fifty(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    record = emu.record("Sandbox", ident)
    record["LifeCycle"]["NextStepsHistory"] = [
        {"Value": f"step {i}", "Time": f"2026-06-01T00:00:{i:02d}.000Z"} for i in range(50)
    ]
    emu.put_record("Sandbox", record)
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    body["LifeCycle"]["NextSteps"] = "step 50"
    client.update_opportunity(**body)
    history = emu.record("Sandbox", ident)["LifeCycle"]["NextStepsHistory"]
    assert len(history) == 50
    assert history[0]["Value"] == "step 1"
    assert history[-1]["Value"] == "step 50"


@pytest.mark.parametrize(
    ("edit", "field", "code"),
    [
        (lambda b: b["LifeCycle"].update(Stage="Won"), "LifeCycle.Stage", "INVALID_ENUM_VALUE"),
        (
            lambda b: b["Customer"]["Contacts"][0].update(Email="not-an-email"),
            "Customer.Contacts[0].Email",
            "INVALID_STRING_FORMAT",
        ),
        (
            lambda b: b["Project"].update(CustomerBusinessProblem="too short"),
            "Project.CustomerBusinessProblem",
            "INVALID_STRING_FORMAT",
        ),
        (
            lambda b: b["Customer"]["Account"].update(Duns="12345"),
            "Customer.Account.Duns",
            "INVALID_STRING_FORMAT",
        ),
        (
            lambda b: b["Project"].update(
                ExpectedCustomerSpend=b["Project"]["ExpectedCustomerSpend"] * 11
            ),
            "Project.ExpectedCustomerSpend",
            "TOO_MANY_VALUES",
        ),
        (lambda b: b.update(Identifier="X1"), "Identifier", "INVALID_STRING_FORMAT"),
    ],
)
def test_request_validation_names_the_field(
    emulator: Any, pc_client: Any, edit: Any, field: str, code: str
) -> None:
    body = payload(pc_client.get_opportunity(Catalog="Sandbox", Identifier="O1000001"))
    edit(body)
    with pytest.raises(pc_client.exceptions.ValidationException) as caught:
        pc_client.update_opportunity(**body)
    error = caught.value.response
    assert error["Reason"] == "REQUEST_VALIDATION_FAILED"
    assert {"FieldName": field, "Code": code} in [
        {"FieldName": e["FieldName"], "Code": e["Code"]} for e in error["ErrorList"]
    ]


def _close_lost_without_reason(b: dict[str, Any]) -> None:
    b["LifeCycle"]["Stage"] = "Closed Lost"
    b["LifeCycle"].pop("ClosedLostReason", None)


def _funding_no_with_use_cases(b: dict[str, Any]) -> None:
    b["Marketing"] = {"Source": "None", "AwsFundingUsed": "No", "UseCases": ["Migration"]}


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_close_lost_without_reason, "LifeCycle.ClosedLostReason"),
        (lambda b: b["LifeCycle"].update(ClosedLostReason="Price"), "LifeCycle.ClosedLostReason"),
        (lambda b: b["Customer"]["Account"].pop("WebsiteUrl"), "Customer.Account.WebsiteUrl"),
        (lambda b: b["Customer"]["Account"].pop("Industry"), "Customer.Account.Industry"),
        (
            lambda b: b["Customer"]["Account"].update(Industry="Other"),
            "Customer.Account.OtherIndustry",
        ),
        (lambda b: b.update(NationalSecurity="Yes"), "NationalSecurity"),
        (
            lambda b: b["LifeCycle"].update(TargetCloseDate="2020-01-01"),
            "LifeCycle.TargetCloseDate",
        ),
        (
            lambda b: b["Project"].update(CompetitorName="Akamai", OtherCompetitorNames="X"),
            "Project.OtherCompetitorNames",
        ),
        (_funding_no_with_use_cases, "Marketing.UseCases"),
        (lambda b: b.pop("Customer"), "Customer.Account.CompanyName"),
    ],
)
def test_business_rules_name_the_field(emu: Any, client: Any, edit: Any, field: str) -> None:
    ident = pick(emu, "Pending Submission", stage="Prospect")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert got["Customer"]["Account"]["Industry"] not in ("Government", "Other")
    body = payload(got)
    edit(body)
    with pytest.raises(client.exceptions.ValidationException) as caught:
        client.update_opportunity(**body)
    assert caught.value.response["Reason"] == "BUSINESS_VALIDATION_FAILED"
    assert field in fields_of(caught.value)
    assert (
        client.get_opportunity(Catalog="Sandbox", Identifier=ident)["LastModifiedDate"]
        == got["LastModifiedDate"]
    )


@pytest.mark.parametrize("status", ["Submitted", "In review", "Rejected"])
def test_locked_statuses_refuse_every_update(emu: Any, client: Any, status: str) -> None:
    ident = pick(emu, status)
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    with pytest.raises(client.exceptions.ValidationException) as caught:
        client.update_opportunity(**payload(got))
    error = caught.value.response
    assert error["Reason"] == "BUSINESS_VALIDATION_FAILED"
    assert status in error["Error"]["Message"]
    assert error["ErrorList"][0]["Code"] == "INVALID_RESOURCE_STATE"
    again = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert again["LastModifiedDate"] == got["LastModifiedDate"]


def test_action_required_accepts_only_its_open_fields(emu: Any, client: Any) -> None:
    ident = pick(emu, "Action Required")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    body = payload(got)
    body["Customer"]["Account"]["Address"]["City"] = "Portland"
    body["LifeCycle"]["TargetCloseDate"] = "2027-12-30"
    body["Project"]["ExpectedCustomerSpend"][0]["Amount"] = "9999.00"
    body["PartnerOpportunityIdentifier"] = "CRM-NEW"
    out = client.update_opportunity(**body)
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    body["Project"]["Title"] = "Not open while Action Required"
    body["LifeCycle"]["NextSteps"] = "Neither is this"
    with pytest.raises(client.exceptions.ValidationException) as caught:
        client.update_opportunity(**body)
    assert fields_of(caught.value) == {"Project.Title", "LifeCycle.NextSteps"}
    assert {e["Code"] for e in caught.value.response["ErrorList"]} == {"ACTION_NOT_PERMITTED"}
    again = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert again["LastModifiedDate"] == out["LastModifiedDate"]
    assert again["Customer"]["Account"]["Address"]["City"] == "Portland"


def test_approved_refuses_its_locked_fields_only(emu: Any, client: Any) -> None:
    ident = pick(emu, "Approved", stage="Prospect")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    body = payload(got)
    body["LifeCycle"]["Stage"] = "Qualified"
    body["Project"]["AdditionalComments"] = "Moving on"
    client.update_opportunity(**body)
    for path, value in [
        (("Project", "Title"), "New title"),
        (("Customer", "Account", "Industry"), "Mining"),
        (("Customer", "Account", "WebsiteUrl"), "https://other.example.com"),
    ]:
        body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
        node = body
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        with pytest.raises(client.exceptions.ValidationException) as caught:
            client.update_opportunity(**body)
        assert fields_of(caught.value) == {".".join(path)}


def test_pending_submission_is_editable(emu: Any, client: Any) -> None:
    ident = pick(emu, "Pending Submission")
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    body["Project"]["Title"] = "Anything goes"
    body["Customer"]["Account"]["Industry"] = "Mining"
    body.pop("NationalSecurity", None)
    client.update_opportunity(**body)
    assert emu.record("Sandbox", ident)["Customer"]["Account"]["Industry"] == "Mining"


def test_access_can_be_denied(emu: Any, client: Any) -> None:
    emu.deny_access = True
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    emu.deny_access = False
    client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")


def _new_opportunity(token: str) -> dict[str, Any]:
    return {
        "Catalog": "Sandbox",
        "ClientToken": token,
        "Customer": {
            "Account": {
                "CompanyName": "Example Corp",
                "Industry": "Retail",
                "WebsiteUrl": "https://example.com",
                "Address": {"CountryCode": "US", "PostalCode": "98101"},
            }
        },
        "LifeCycle": {
            "Stage": "Prospect",
            "TargetCloseDate": "2027-06-30",
            "NextSteps": "Kickoff",
            "ReviewStatus": "Approved",
        },
        "Project": {
            "Title": "New shop",
            "CustomerBusinessProblem": "The shop needs an online presence before the holidays.",
        },
        "OpportunityType": "Net New Business",
    }


def test_create_makes_a_pending_record_and_honours_the_client_token(emu: Any, client: Any) -> None:
    out = client.create_opportunity(**_new_opportunity("token-1"))
    assert re.fullmatch(r"O\d+", out["Id"])
    assert out["Id"] not in {"O1000001"}
    got = client.get_opportunity(Catalog="Sandbox", Identifier=out["Id"])
    assert got["LifeCycle"]["ReviewStatus"] == "Pending Submission"
    assert got["LifeCycle"]["NextStepsHistory"][0]["Value"] == "Kickoff"
    assert got["Arn"].endswith(out["Id"])
    again = client.create_opportunity(**_new_opportunity("token-1"))
    assert again["Id"] == out["Id"]
    other = client.create_opportunity(**_new_opportunity("token-2"))
    assert other["Id"] != out["Id"]
    assert len(emu.records()) == 68


def test_create_checks_the_business_rules(client: Any) -> None:
    body = _new_opportunity("token-3")
    body["LifeCycle"]["ClosedLostReason"] = "Price"
    with pytest.raises(client.exceptions.ValidationException) as caught:
        client.create_opportunity(**body)
    assert fields_of(caught.value) == {"LifeCycle.ClosedLostReason"}


def _all_ids(client: Any, **filters: Any) -> list[str]:
    ids: list[str] = []
    kwargs: dict[str, Any] = {"Catalog": "Sandbox", **filters}
    while True:
        page = client.list_opportunities(**kwargs)
        ids += [s["Id"] for s in page["OpportunitySummaries"]]
        if "NextToken" not in page:
            return ids
        kwargs["NextToken"] = page["NextToken"]


def test_list_pages_through_everything_once(emulator: Any, pc_client: Any) -> None:
    ids = _all_ids(pc_client, MaxResults=7)
    assert len(ids) == len(set(ids)) == len(emulator.records("Sandbox"))
    paginator = pc_client.get_paginator("list_opportunities")
    pages = list(paginator.paginate(Catalog="Sandbox", PaginationConfig={"PageSize": 30}))
    assert [len(p["OpportunitySummaries"]) for p in pages][:2] == [30, 30]


def test_list_summaries_follow_the_model(pc_client: Any) -> None:
    summary = pc_client.list_opportunities(Catalog="Sandbox", MaxResults=1)["OpportunitySummaries"][
        0
    ]
    assert set(summary) <= {
        "Catalog", "Id", "Arn", "PartnerOpportunityIdentifier", "OpportunityType",
        "LastModifiedDate", "CreatedDate", "LifeCycle", "Customer", "Project",
    }  # fmt: skip
    assert "NextStepsHistory" not in summary["LifeCycle"]
    assert "Contacts" not in summary["Customer"]
    assert "LastModifiedDate" in summary


def test_list_sorts_newest_first_by_default(emulator: Any, pc_client: Any) -> None:
    summaries = pc_client.list_opportunities(Catalog="Sandbox", MaxResults=100)[
        "OpportunitySummaries"
    ]
    stamps = [s["LastModifiedDate"] for s in summaries]
    assert stamps == sorted(stamps, reverse=True)
    ascending = _all_ids(pc_client, Sort={"SortBy": "Identifier", "SortOrder": "ASCENDING"})
    assert ascending == sorted(emulator.records("Sandbox"), key=lambda i: int(i[1:]))


def test_list_filters(emulator: Any, pc_client: Any) -> None:
    records = emulator.records("Sandbox")
    life = {i: r["LifeCycle"] for i, r in records.items()}
    assert set(_all_ids(pc_client, LifeCycleStage=["Closed Lost"])) == {
        i for i, v in life.items() if v["Stage"] == "Closed Lost"
    }
    assert set(_all_ids(pc_client, LifeCycleReviewStatus=["Approved", "Rejected"])) == {
        i for i, v in life.items() if v["ReviewStatus"] in ("Approved", "Rejected")
    }
    assert set(_all_ids(pc_client, Identifier=["O1000003", "O1000005", "O1"])) == {
        "O1000003",
        "O1000005",
    }
    name = records["O1000004"]["Customer"]["Account"]["CompanyName"]
    by_name = set(_all_ids(pc_client, CustomerCompanyName=[name.upper()]))
    assert "O1000004" in by_name
    assert all(records[i]["Customer"]["Account"]["CompanyName"] == name for i in by_name)
    closing = set(
        _all_ids(
            pc_client,
            TargetCloseDate={
                "AfterTargetCloseDate": "2027-03-01",
                "BeforeTargetCloseDate": "2027-05-31",
            },
        )
    )
    assert closing == {
        i for i, v in life.items() if "2027-03-01" <= v["TargetCloseDate"] <= "2027-05-31"
    }
    cut = sorted(r["LastModifiedDate"] for r in records.values())[40]
    assert len(_all_ids(pc_client, LastModifiedDate={"AfterLastModifiedDate": cut})) == len(
        [r for r in records.values() if r["LastModifiedDate"] >= cut]
    )
    created_cut = sorted(r["CreatedDate"] for r in records.values())[10]
    assert len(_all_ids(pc_client, CreatedDate={"BeforeCreatedDate": created_cut})) == 11


def test_list_refuses_bad_requests(pc_client: Any) -> None:
    with pytest.raises(pc_client.exceptions.ValidationException) as caught:
        pc_client.list_opportunities(Catalog="Sandbox", MaxResults=101)
    assert fields_of(caught.value) == {"MaxResults"}
    with pytest.raises(pc_client.exceptions.ValidationException) as caught:
        pc_client.list_opportunities(Catalog="Sandbox", Identifier=[f"O{i}" for i in range(21)])
    assert fields_of(caught.value) == {"Identifier"}
    with pytest.raises(pc_client.exceptions.ValidationException) as caught:
        pc_client.list_opportunities(Catalog="Sandbox", NextToken="garbage")
    assert fields_of(caught.value) == {"NextToken"}


def test_a_client_gone_mid_answer_prints_no_traceback(capsys: Any) -> None:
    """Stopping the emulator during a run, or a client that hangs up, cuts
    connections mid-answer: the terminal shows no traceback for that, but still
    shows one for a real fault of the emulator's."""
    from bulk_update.emulator import Emulator

    with Emulator() as emu:
        server = emu._server
        assert server is not None
        for gone in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise gone
            except OSError:
                server.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise KeyError("a bug")
        except KeyError:
            server.handle_error(None, ("127.0.0.1", 1))
        assert "Traceback" in capsys.readouterr().err
