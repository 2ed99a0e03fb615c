"""SearchOpportunities on the emulator, through boto3 over HTTP: keyword, filter tree, paging."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import client_for

from bulk_update.emulator.search import KEYS, filter_members
from bulk_update.emulator.validation import input_shape


@pytest.fixture(scope="module")
def pc(emulator: Any) -> Any:
    emulator.set_tags("Sandbox", "O1000003", {"region": "emea", "tier": "gold"})
    emulator.set_tags("Sandbox", "O1000004", {"region": "emea"})
    return client_for(emulator.url, retries=1)


def records(emulator: Any) -> dict[str, dict[str, Any]]:
    return emulator.records("Sandbox")


def search_ids(pc: Any, **params: Any) -> list[str]:
    ids: list[str] = []
    token = None
    while True:
        page = pc.search_opportunities(
            Catalog="Sandbox", MaxResults=7, **params, **({"NextToken": token} if token else {})
        )
        ids += [s["Id"] for s in page["OpportunitySearchSummaries"]]
        token = page.get("NextToken")
        if not token:
            return ids


def eq(key: str, value: str) -> dict[str, Any]:
    return {"EqualsTo": {"Key": key, "Value": {"StringValue": value}}}


def where(emulator: Any, test: Any) -> set[str]:
    return {i for i, r in records(emulator).items() if test(r)}


def test_without_a_filter_every_record_comes_newest_first_over_pages(
    emulator: Any, pc: Any
) -> None:
    ids = search_ids(pc)
    every = records(emulator)
    assert sorted(ids) == sorted(every)
    stamps = [every[i]["LastModifiedDate"] for i in ids]
    assert stamps == sorted(stamps, reverse=True)


def test_a_leaf_filter_selects_by_its_key(emulator: Any, pc: Any) -> None:
    got = set(search_ids(pc, Filter=eq("Stage", "Committed")))
    assert got == where(emulator, lambda r: r["LifeCycle"]["Stage"] == "Committed")
    assert got


def test_country_and_owner_keys(emulator: Any, pc: Any) -> None:
    country = set(search_ids(pc, Filter=eq("CountryCode", "DE")))
    assert country == where(
        emulator, lambda r: r["Customer"]["Account"]["Address"]["CountryCode"] == "DE"
    )
    assert country
    owner = set(search_ids(pc, Filter=eq("OpportunityOwner", "sam.rivera@partner.example.com")))
    assert owner == set(records(emulator))
    assert search_ids(pc, Filter=eq("OpportunityOwner", "nobody@partner.example.com")) == []


def test_and_or_not_combine_as_the_model_names_them(emulator: Any, pc: Any) -> None:
    committed = eq("Stage", "Committed")
    approved = eq("ReviewStatus", "Approved")
    both = set(search_ids(pc, Filter={"AndAllFilters": [committed, approved]}))
    either = set(search_ids(pc, Filter={"OrAllFilters": [committed, approved]}))
    neither = set(search_ids(pc, Filter={"NotFilter": {"OrAllFilters": [committed, approved]}}))

    def stage(r: Any) -> bool:
        return bool(r["LifeCycle"]["Stage"] == "Committed")

    def status(r: Any) -> bool:
        return bool(r["LifeCycle"]["ReviewStatus"] == "Approved")

    assert both == where(emulator, lambda r: stage(r) and status(r)) and both
    assert either == where(emulator, lambda r: stage(r) or status(r))
    assert neither == set(records(emulator)) - either
    assert len(either) > len(both)


def test_contains_any_and_all_and_tags(emulator: Any, pc: Any) -> None:
    def tags(pred: str, values: list[str]) -> set[str]:
        node = {pred: {"Key": "Tags", "Value": {"StringListValue": values}}}
        return set(search_ids(pc, Filter=node))

    assert tags("ContainsAny", ["region=emea"]) == {"O1000003", "O1000004"}
    assert tags("ContainsAll", ["region=emea", "tier=gold"]) == {"O1000003"}
    summary = pc.search_opportunities(Catalog="Sandbox", Filter=eq("OpportunityId", "O1000003"))
    assert summary["OpportunitySearchSummaries"][0]["Tags"] == [
        {"Key": "region", "Value": "emea"},
        {"Key": "tier", "Value": "gold"},
    ]


def test_contains_any_matches_a_part_of_a_text_in_any_case(emulator: Any, pc: Any) -> None:
    """The model: ContainsAny matches a case-insensitive substring of the field."""
    names = {i: r["Customer"]["Account"]["CompanyName"] for i, r in records(emulator).items()}
    part = sorted(names.values())[0].split()[0][1:4].lower()  # a piece from inside a word
    node = {"ContainsAny": {"Key": "CustomerCompanyName", "Value": {"StringListValue": [part]}}}
    got = set(search_ids(pc, Filter=node))
    assert got == {i for i, n in names.items() if part in n.casefold()} and got
    assert len(got) < len(names)


def test_range_predicates_on_dates(emulator: Any, pc: Any) -> None:
    every = records(emulator)
    cut = sorted(r["LastModifiedDate"] for r in every.values())[20]
    node = {"LessThan": {"Key": "LastModifiedDate", "Value": {"DateValue": cut}}}
    assert len(search_ids(pc, Filter=node)) == 20
    node = {"GreaterThanOrEquals": {"Key": "LastModifiedDate", "Value": {"DateValue": cut}}}
    assert len(search_ids(pc, Filter=node)) == len(every) - 20


def test_target_close_date_compares_by_the_day(emulator: Any, pc: Any) -> None:
    every = records(emulator)
    day = sorted(r["LifeCycle"]["TargetCloseDate"] for r in every.values())[30]
    node = {"EqualsTo": {"Key": "TargetCloseDate", "Value": {"DateValue": f"{day}T00:00:00Z"}}}
    assert set(search_ids(pc, Filter=node)) == where(
        emulator, lambda r: r["LifeCycle"]["TargetCloseDate"] == day
    )
    node = {
        "LessThanOrEquals": {"Key": "TargetCloseDate", "Value": {"DateValue": f"{day}T00:00:00Z"}}
    }
    assert set(search_ids(pc, Filter=node)) == where(
        emulator, lambda r: r["LifeCycle"]["TargetCloseDate"] <= day
    )


def test_keyword_and_filter_both_narrow(emulator: Any, pc: Any) -> None:
    by_word = set(search_ids(pc, Keyword="northwind"))
    assert by_word == where(
        emulator, lambda r: "Northwind" in r["Customer"]["Account"]["CompanyName"]
    )
    assert by_word
    narrowed = set(search_ids(pc, Keyword="northwind", Filter=eq("Stage", "Prospect")))
    assert narrowed == {
        i for i in by_word if records(emulator)[i]["LifeCycle"]["Stage"] == "Prospect"
    }
    assert narrowed < by_word


def test_sort_by_a_key(emulator: Any, pc: Any) -> None:
    ids = search_ids(pc, Sort={"SortBy": "CustomerCompanyName", "SortOrder": "ASCENDING"})
    every = records(emulator)
    names = [every[i]["Customer"]["Account"]["CompanyName"].casefold() for i in ids]
    assert names == sorted(names)


def test_a_node_with_two_members_or_an_unread_key_is_refused(pc: Any) -> None:
    two = {**eq("Stage", "Committed"), **{"NotFilter": eq("Stage", "Prospect")}}
    with pytest.raises(ClientError) as excinfo:
        pc.search_opportunities(Catalog="Sandbox", Filter=two)
    assert excinfo.value.response["ErrorList"][0]["FieldName"] == "Filter"
    with pytest.raises(ClientError) as excinfo:
        pc.search_opportunities(Catalog="Sandbox", Filter=eq("EngagementScore", "High"))
    assert excinfo.value.response["ErrorList"][0]["FieldName"] == "Filter.EqualsTo.Key"


def test_an_account_without_search_says_so(fresh_emulator: Any) -> None:
    emu = fresh_emulator()
    pc = client_for(emu.url, retries=1)
    emu.set_search_enabled(False)
    with pytest.raises(ClientError) as excinfo:
        pc.search_opportunities(Catalog="Sandbox")
    answer = excinfo.value.response
    assert answer["Error"]["Code"] == "AccessDeniedException"
    assert answer["Reason"] == "SEARCH_OPPORTUNITIES_NOT_ENABLED"
    pc.list_opportunities(Catalog="Sandbox")  # the fallback still answers
    emu.set_search_enabled(True)
    assert pc.search_opportunities(Catalog="Sandbox")["OpportunitySearchSummaries"]


def test_the_keys_the_emulator_reads_are_the_model_s() -> None:
    predicate = input_shape("SearchOpportunities").members["Filter"].members["EqualsTo"]
    assert set(KEYS) <= set(predicate.members["Key"].enum)
    assert {"AndAllFilters", "OrAllFilters", "NotFilter", "EqualsTo"} <= set(filter_members())


def test_search_counts_in_the_read_lane(fresh_emulator: Any) -> None:
    now = [1000.0]
    emu = fresh_emulator(read_rate=1.0, read_burst=1, clock=lambda: now[0])
    pc = client_for(emu.url, retries=1)
    pc.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    with pytest.raises(ClientError) as excinfo:
        pc.search_opportunities(Catalog="Sandbox")
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"
    now[0] += 1.0
    assert pc.search_opportunities(Catalog="Sandbox")["OpportunitySearchSummaries"]
    assert emu.counters()["throttled"] == {"SearchOpportunities": 1}
