"""Projection of a live record, applying a row's edits, and the diff."""

from datetime import UTC, datetime

from bulk_update.merge import apply_edits, column_of, diff, holds, key_of, leaves, project
from bulk_update.payload import CLEAR

LIVE = {
    "Id": "O1000001",
    "Arn": "arn:aws:partnercentral:us-east-1::opportunity/O1000001",
    "Catalog": "Sandbox",
    "CreatedDate": datetime(2026, 1, 2, tzinfo=UTC),
    "LastModifiedDate": datetime(2026, 5, 1, 20, 37, 46, 123000, tzinfo=UTC),
    "RelatedEntityIdentifiers": {"Solutions": ["S-1"]},
    "OpportunityTeam": [{"Email": "owner@example.com"}],
    "PrimaryNeedsFromAws": ["Co-Sell - Architectural Validation"],
    "Customer": {
        "Account": {
            "CompanyName": "Acme",
            "WebsiteUrl": "https://acme.example",
            "Industry": "Retail",
        },
        "Contacts": [{"Email": "a@acme.example", "FirstName": "Ann"}, {"Email": "b@acme.example"}],
    },
    "LifeCycle": {
        "Stage": "Qualified",
        "ReviewStatus": "Approved",
        "NextStepsHistory": [{"Value": "call", "Time": datetime(2026, 1, 3, tzinfo=UTC)}],
        "TargetCloseDate": "2027-03-01",
    },
}


def test_project_keeps_only_what_the_update_accepts():
    body = project(LIVE)
    assert set(body) == {"PrimaryNeedsFromAws", "Customer", "LifeCycle"}
    assert body["LifeCycle"] == {"Stage": "Qualified", "TargetCloseDate": "2027-03-01"}
    assert body["Customer"]["Contacts"][1] == {"Email": "b@acme.example"}


def test_apply_edits_sets_clears_and_leaves_the_rest():
    base = project(LIVE)
    merged = apply_edits(
        base,
        {
            ("LifeCycle", "Stage"): "Closed Lost",
            ("Customer", "Account", "WebsiteUrl"): CLEAR,
            ("Customer", "Contacts", 0, "FirstName"): "Anne",
            ("PrimaryNeedsFromAws",): ("Co-Sell - Pricing Assistance",),
        },
    )
    assert merged["LifeCycle"] == {"Stage": "Closed Lost", "TargetCloseDate": "2027-03-01"}
    assert "WebsiteUrl" not in merged["Customer"]["Account"]
    assert merged["Customer"]["Contacts"][0] == {"Email": "a@acme.example", "FirstName": "Anne"}
    assert merged["PrimaryNeedsFromAws"] == ["Co-Sell - Pricing Assistance"]
    assert base["LifeCycle"]["Stage"] == "Qualified", "the base is not modified"


def test_clearing_every_field_of_a_contact_removes_it():
    merged = apply_edits(project(LIVE), {("Customer", "Contacts", 1, "Email"): CLEAR})
    assert merged["Customer"]["Contacts"] == [{"Email": "a@acme.example", "FirstName": "Ann"}]


def test_a_new_list_item_is_appended():
    merged = apply_edits(project(LIVE), {("Customer", "Contacts", 2, "Email"): "c@acme.example"})
    assert merged["Customer"]["Contacts"][2] == {"Email": "c@acme.example"}


def test_diff_lists_changes_in_column_spelling():
    base = project(LIVE)
    merged = apply_edits(
        base, {("LifeCycle", "Stage"): "Closed Lost", ("Customer", "Contacts", 1, "Email"): CLEAR}
    )
    assert [str(c) for c in diff(base, merged)] == [
        "Customer.Contacts[2].Email: b@acme.example -> (empty)",
        "LifeCycle.Stage: Qualified -> Closed Lost",
    ]
    assert diff(base, apply_edits(base, {("LifeCycle", "Stage"): "Qualified"})) == []


def test_paths_spell_as_columns_and_keys():
    assert column_of(("Customer", "Contacts", 0, "Email")) == "Customer.Contacts[1].Email"
    assert key_of(("Customer", "Contacts", 0, "Email")) == "Customer.Contacts[].Email"
    assert dict(leaves({"A": ["x", "y"]})) == {("A",): ("x", "y")}


def test_holds_tells_whether_a_record_carries_the_edits():
    body = project(LIVE)
    assert holds(body, {("LifeCycle", "Stage"): "Qualified"})
    assert not holds(body, {("LifeCycle", "Stage"): "Closed Lost"})
    assert holds(body, {("LifeCycle", "ClosedLostReason"): CLEAR})
    assert not holds(body, {("Customer", "Account", "WebsiteUrl"): CLEAR})
