"""``export`` selecting with SearchOpportunities, through boto3 over HTTP to the emulator.

Each selection is checked against the emulator's own records (the expected ids
are computed from them, never written down); the fallback to ListOpportunities
and the refusal are checked with the emulator's search switch off, and the
calls each export made with the emulator's counters.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, writes
from click.testing import CliRunner
from conftest import FAST, client_for

from bulk_update.api import client as pcc
from bulk_update.cli import main
from bulk_update.errors import BulkUpdateError
from bulk_update.export.job import ExportFilters, export_opportunities
from bulk_update.export.search import FALLBACK_NOTE, SearchNotEnabled, parse_tag, tree
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.sheet import read as readers

PRIYA = "priya.natarajan@partner.example.com"
LOCKED = ("Submitted", "In review", "Rejected")  # the emulator refuses to reassign these


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    emu = fresh_emulator(**FAST)
    ids = sorted(emu.records("Sandbox"))
    for identifier in ids[:6]:
        emu.set_tags("Sandbox", identifier, {"region": "emea"})
    for identifier in ids[3:5]:
        emu.set_tags("Sandbox", identifier, {"region": "emea", "tier": "gold"})
    boto = client_for(emu.url, retries=1)
    every = emu.records("Sandbox")
    open_ = [i for i in ids if every[i]["LifeCycle"]["ReviewStatus"] not in LOCKED]
    chosen = [i for i in open_ if i in ids[:6]][:2] + [i for i in open_ if i not in ids[:6]][:1]
    assert len(chosen) == 3, "the samples should hold records that may be reassigned"
    for identifier in chosen:
        boto.assign_opportunity(
            Catalog="Sandbox",
            Identifier=identifier,
            Assignee={
                "Email": PRIYA,
                "FirstName": "Priya",
                "LastName": "Natarajan",
                "BusinessTitle": "PartnerAccountManager",
            },
        )
    return emu


def records(emu: Any) -> dict[str, dict[str, Any]]:
    return emu.records("Sandbox")


def where(emu: Any, keep: Any) -> list[str]:
    return sorted(i for i, r in records(emu).items() if keep(r))


def tags_of(emu: Any, identifier: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in emu.account.tags_of("Sandbox", identifier)}


def owner(r: dict[str, Any]) -> str:
    team = r.get("OpportunityTeam") or [{}]
    return str(team[0].get("Email", ""))


def country(r: dict[str, Any]) -> str:
    return str(r["Customer"]["Account"].get("Address", {}).get("CountryCode", ""))


def exported(path: Path) -> list[str]:
    sheet = readers.read_sheet(path)
    return [str(v) for v in sheet.cells[0].tolist()]


def calls(emu: Any, operation: str) -> int:
    return int(emu.counters()["calls"].get(operation, 0))


def export(emu: Any, path: Path, **filters: Any) -> Any:
    return export_opportunities(make_pc(emu.url), path, filters=ExportFilters(**filters))


# -- each option selects what it should ------------------------------------------------


def test_a_keyword_selects_the_records_whose_texts_hold_it(emu: Any, tmp_path: Path) -> None:
    some = records(emu)[sorted(records(emu))[7]]
    word = some["Customer"]["Account"]["CompanyName"].split()[0][1:5].upper()

    def holds(r: dict[str, Any]) -> bool:
        texts = (
            r["Id"],
            r.get("PartnerOpportunityIdentifier", ""),
            r.get("Project", {}).get("Title", ""),
            r["Customer"]["Account"]["CompanyName"],
            r.get("LifeCycle", {}).get("NextSteps", ""),
        )
        return any(word.casefold() in str(t).casefold() for t in texts)

    expected = where(emu, holds)
    assert expected and len(expected) < len(records(emu))
    before = calls(emu, "SearchOpportunities"), calls(emu, "ListOpportunities")
    report = export(emu, tmp_path / "k.xlsx", keyword=word)
    assert exported(tmp_path / "k.xlsx") == expected
    assert report.selected_with == "SearchOpportunities" and report.notes == []
    assert calls(emu, "SearchOpportunities") == before[0] + 1
    assert calls(emu, "ListOpportunities") == before[1]


def test_a_tag_selects_the_tagged_records_and_two_tags_must_both_hold(
    emu: Any, tmp_path: Path
) -> None:
    emea = where(emu, lambda r: tags_of(emu, r["Id"]).get("region") == "emea")
    gold = where(emu, lambda r: tags_of(emu, r["Id"]).get("tier") == "gold")
    assert len(emea) == 6 and len(gold) == 2
    export(emu, tmp_path / "t.xlsx", tags=(parse_tag("region=emea"),))
    assert exported(tmp_path / "t.xlsx") == emea
    export(emu, tmp_path / "t2.xlsx", tags=(parse_tag("region=emea"), parse_tag(" tier = gold ")))
    assert exported(tmp_path / "t2.xlsx") == gold


def test_an_owner_selects_the_records_that_user_owns(emu: Any, tmp_path: Path) -> None:
    expected = where(emu, lambda r: owner(r) == PRIYA)
    assert len(expected) == 3
    export(emu, tmp_path / "o.xlsx", owners=(PRIYA,))
    assert exported(tmp_path / "o.xlsx") == expected


def test_a_country_selects_the_customers_there_in_any_case(emu: Any, tmp_path: Path) -> None:
    codes = sorted({country(r) for r in records(emu).values() if country(r)})
    code = max(codes, key=lambda c: len(where(emu, lambda r: country(r) == c)))
    expected = where(emu, lambda r: country(r) == code)
    assert 0 < len(expected) < len(records(emu))
    export(emu, tmp_path / "c.xlsx", countries=(code.lower(),))
    assert exported(tmp_path / "c.xlsx") == expected
    other = next(c for c in codes if c != code)
    export(emu, tmp_path / "c2.xlsx", countries=(code, other))
    assert exported(tmp_path / "c2.xlsx") == where(emu, lambda r: country(r) in (code, other))


def test_options_combine_as_an_and(emu: Any, tmp_path: Path) -> None:
    stage = records(emu)[sorted(records(emu))[0]]["LifeCycle"]["Stage"]
    expected = where(
        emu,
        lambda r: (
            tags_of(emu, r["Id"]).get("region") == "emea" and r["LifeCycle"]["Stage"] == stage
        ),
    )
    emea = where(emu, lambda r: tags_of(emu, r["Id"]).get("region") == "emea")
    assert expected and len(expected) < len(emea)
    export(emu, tmp_path / "a.xlsx", tags=(("region", "emea"),), stages=(stage,))
    assert exported(tmp_path / "a.xlsx") == expected
    both = where(emu, lambda r: owner(r) == PRIYA and tags_of(emu, r["Id"]).get("region") == "emea")
    assert 0 < len(both) < 3
    export(emu, tmp_path / "b.xlsx", owners=(PRIYA,), tags=(("region", "emea"),))
    assert exported(tmp_path / "b.xlsx") == both


def test_the_list_filters_select_the_same_through_search(emu: Any, tmp_path: Path) -> None:
    ids = sorted(records(emu))
    stamps = sorted(r["LastModifiedDate"] for r in records(emu).values())
    from datetime import date, datetime

    middle = datetime.fromisoformat(stamps[len(stamps) // 2].replace("Z", "+00:00"))
    for n, filters in enumerate(
        [
            {"stages": ("Prospect", "qualified")},
            {"review_statuses": ("Approved",)},
            {"modified_after": middle},
            {"modified_before": middle},
            {"target_close_after": date(2027, 1, 1)},
            {"target_close_before": date(2027, 1, 1)},
            {"ids": (*ids[:25], "O999999999")},
        ]
    ):
        listed = export(emu, tmp_path / f"l{n}.xlsx", **filters)
        searched = export(emu, tmp_path / f"s{n}.xlsx", select="search", **filters)
        assert listed.selected_with == "ListOpportunities", filters
        assert searched.selected_with == "SearchOpportunities", filters
        assert exported(tmp_path / f"s{n}.xlsx") == exported(tmp_path / f"l{n}.xlsx"), filters
        assert exported(tmp_path / f"s{n}.xlsx"), filters
        assert [f.identifier for f in searched.failures] == [f.identifier for f in listed.failures]


def test_search_pages_through_next_token_in_the_read_lane(
    emu: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pcc, "PAGE_SIZE", 7)
    every = sorted(records(emu))
    before = calls(emu, "SearchOpportunities")
    pc = make_pc(emu.url)
    report = export_opportunities(pc, tmp_path / "p.xlsx", filters=ExportFilters(select="search"))
    assert exported(tmp_path / "p.xlsx") == every
    assert calls(emu, "SearchOpportunities") - before == math.ceil(len(every) / 7)
    assert pc.stats.writes == 0 and pc.stats.reads == report.calls


def test_a_deep_and_is_nested_within_the_models_limit() -> None:
    leaves = [{"EqualsTo": {"Key": "Tags", "Value": {"StringValue": f"k={i}"}}} for i in range(23)]
    node = tree(leaves)
    assert node is not None

    def widths(n: dict[str, Any]) -> list[int]:
        kids = n.get("AndAllFilters")
        return [] if kids is None else [len(kids)] + [w for k in kids for w in widths(k)]

    def leaves_of(n: dict[str, Any]) -> list[Any]:
        kids = n.get("AndAllFilters")
        return [n] if kids is None else [x for k in kids for x in leaves_of(k)]

    assert max(widths(node)) <= 10 and leaves_of(node) == leaves


def test_many_tags_are_searched_as_one_nested_and(emu: Any, tmp_path: Path) -> None:
    tags = tuple(("region", "emea") for _ in range(11)) + (("tier", "gold"),)
    export(emu, tmp_path / "n.xlsx", tags=tags)
    assert exported(tmp_path / "n.xlsx") == where(
        emu, lambda r: tags_of(emu, r["Id"]).get("tier") == "gold"
    )


# -- search not enabled ----------------------------------------------------------------


def test_without_search_an_export_falls_back_to_the_listing_with_a_note(
    emu: Any, tmp_path: Path
) -> None:
    emu.set_search_enabled(False)
    before = calls(emu, "ListOpportunities")
    report = export(emu, tmp_path / "f.xlsx", select="search", stages=("Prospect",))
    assert exported(tmp_path / "f.xlsx") == where(
        emu, lambda r: r["LifeCycle"]["Stage"] == "Prospect"
    )
    assert report.selected_with == "ListOpportunities" and report.notes == [FALLBACK_NOTE]
    assert calls(emu, "ListOpportunities") == before + 1
    assert report.as_dict()["notes"] == [FALLBACK_NOTE] and report.exit_code == 0
    meta = readers.read_sheet(tmp_path / "f.xlsx").meta
    assert meta["selected_with"] == "ListOpportunities" and meta["note"] == FALLBACK_NOTE


def test_without_search_a_search_only_option_is_refused_and_nothing_written(
    emu: Any, tmp_path: Path
) -> None:
    emu.set_search_enabled(False)
    before = calls(emu, "GetOpportunity"), calls(emu, "ListOpportunities")
    for filters in ({"owners": (PRIYA,)}, {"tags": (("region", "emea"),)}, {"keyword": "a"}):
        with pytest.raises(SearchNotEnabled, match="search is not enabled for this account"):
            export(emu, tmp_path / "r.xlsx", **filters)
        assert not (tmp_path / "r.xlsx").exists()
    assert (calls(emu, "GetOpportunity"), calls(emu, "ListOpportunities")) == before


def test_another_denial_still_stops_the_export(emu: Any, tmp_path: Path) -> None:
    emu.deny_access = True
    with pytest.raises(BulkUpdateError, match="access denied") as caught:
        export(emu, tmp_path / "d.xlsx", select="search")
    assert not isinstance(caught.value, SearchNotEnabled)


# -- the round trip ----------------------------------------------------------------------


def test_an_untouched_searched_export_applies_with_zero_writes(emu: Any, tmp_path: Path) -> None:
    out = tmp_path / "emea.xlsx"
    report = export(emu, out, tags=(("region", "emea"),), countries=())
    assert report.rows == 6 and report.selected_with == "SearchOpportunities"
    before = writes(emu)  # the fixture's assignments
    result = apply_file(
        out, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs")
    )
    assert {r.outcome for r in result.results} == {Outcome.UNCHANGED}
    assert len(result.results) == 6
    assert writes(emu) == before


# -- the command line --------------------------------------------------------------------


def run(emu: Any, tmp_path: Path, *args: str) -> Any:
    api = ["--catalog", "Sandbox", "--endpoint-url", emu.url]
    return CliRunner().invoke(main, ["export", str(tmp_path / "x.xlsx"), *api, *args])


def test_the_command_searches_with_its_options(emu: Any, tmp_path: Path) -> None:
    result = run(emu, tmp_path, "--tag", "region=emea", "--owner", PRIYA)
    assert result.exit_code == 0, result.output
    both = where(emu, lambda r: owner(r) == PRIYA and tags_of(emu, r["Id"]).get("region") == "emea")
    assert exported(tmp_path / "x.xlsx") == both
    assert f"{len(both)} opportunities exported from catalog Sandbox" in result.output
    assert "Note:" not in result.output


def test_the_command_prints_the_fallback_note_and_the_refusal(emu: Any, tmp_path: Path) -> None:
    emu.set_search_enabled(False)
    result = run(emu, tmp_path, "--select", "search", "--stage", "Prospect")
    assert result.exit_code == 0, result.output
    assert f"Note: {FALLBACK_NOTE}\n" in result.output
    result = run(emu, tmp_path, "--force", "--country", "DE")
    assert result.exit_code == 2
    assert "search is not enabled for this account, so --search/--tag/--owner/--country" in (
        result.output
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tag", "emea"], "--tag 'emea': write it as KEY=VALUE"),
        (["--country", "XX"], "unknown country code 'XX'"),
        (["--select", "list", "--owner", PRIYA], "need SearchOpportunities"),
    ],
)
def test_bad_search_options_stop_before_any_call(
    emu: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    before = sum(emu.counters()["calls"].values())
    result = run(emu, tmp_path, *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output
    assert sum(emu.counters()["calls"].values()) == before
    assert not (tmp_path / "x.xlsx").exists()


def test_a_search_the_service_refuses_stops_in_plain_words(emu: Any, tmp_path: Path) -> None:
    before = calls(emu, "SearchOpportunities"), calls(emu, "GetOpportunity")
    result = run(emu, tmp_path, "--tag", "region=" + "e" * 300)  # over the model's 255
    assert result.exit_code == 2, result.output
    assert "SearchOpportunities refused the selection (REQUEST_VALIDATION_FAILED)" in result.output
    assert "Traceback" not in result.output and "e" * 300 not in result.output
    assert (calls(emu, "SearchOpportunities"), calls(emu, "GetOpportunity")) == (
        before[0] + 1,
        before[1],
    )
    assert not (tmp_path / "x.xlsx").exists()


def test_help_lists_the_search_options_with_formats_and_an_example() -> None:
    text = CliRunner().invoke(main, ["export", "--help"], terminal_width=200).output
    for piece in ("--search KEYWORD", "--tag KEY=VALUE", "--owner EMAIL", "--country CODE"):
        assert piece in text
    assert "--tag region=emea" in text and "--select" in text
