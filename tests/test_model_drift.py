"""Model drift: Partner Central knows members and values the installed botocore does not.

The emulator plays a newer model (``Newer``): it serves records holding
members beyond the installed one, accepts them in requests, and an update
that omits them nulls them, as the real service does.  Every test goes
through a real boto3 client over HTTP; the records must come out unchanged
wherever the tool could not see everything.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import botocore
import pytest
from apply_helpers import apply_rows, make_pc, pick, strip_volatile, write_sheet, writes
from conftest import FAST, client_for

from bulk_update.api import drift
from bulk_update.decide import decide, digest
from bulk_update.emulator import Newer
from bulk_update.export.job import export_opportunities
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome, Severity
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.folder import RunFolder
from bulk_update.run.rollback import rollback_run
from bulk_update.times import iso

NEWER = Newer.of(
    members=("FutureTopLevel", "Project.FutureNotes", "Customer.Contacts[].PreferredLanguage"),
    enums={"Project.CompetitorName": ("Future Cloud Co",), "LifeCycle.Stage": ("Incubating",)},
)
AWS_SAMPLES = Path("/work/shared/data/aws-samples")
SAMPLES = AWS_SAMPLES / "records"
RECORDED = sorted((AWS_SAMPLES / "recorded").glob("GetOpportunity__*.json"))


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(newer=NEWER, **FAST)


def grow(emu: Any, ident: str, **where: Any) -> dict[str, Any]:
    """Give a stored record members of the newer model (same version, as if always there)."""
    record = emu.record("Sandbox", ident)
    if "top" in where:
        record["FutureTopLevel"] = where["top"]
    if "nested" in where:
        record["Project"]["FutureNotes"] = where["nested"]
    if "in_list" in where:
        record["Customer"]["Contacts"][where["in_list"]]["PreferredLanguage"] = "fr-FR"
    emu.put_record("Sandbox", record)
    return emu.record("Sandbox", ident)


run = apply_rows


def sent(emu: Any) -> int:
    """UpdateOpportunity calls that reached the emulator, refused ones too."""
    return int(emu.counters()["calls"].get("UpdateOpportunity", 0))


def by_id(report: Any) -> dict[str, Any]:
    return {r.identifier: r for r in report.results}


# -- the emulator plays the newer model --------------------------------------------------


def test_the_emulator_serves_newer_members_and_an_update_that_omits_them_nulls_them(
    emu: Any,
) -> None:
    ident = pick(emu, "Pending Submission")
    grow(emu, ident, nested="keep me")
    raw = client_for(emu.url, retries=1)
    got = raw.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert "FutureNotes" not in got["Project"]  # botocore's parser drops what it cannot see
    body = {k: v for k, v in got.items() if k not in ("ResponseMetadata", "Id", "Arn")}
    for key in ("CreatedDate", "RelatedEntityIdentifiers", "OpportunityTeam"):
        body.pop(key, None)
    body["LifeCycle"] = {
        k: v
        for k, v in body["LifeCycle"].items()
        if k not in ("ReviewStatus", "ReviewComments", "ReviewStatusReason", "NextStepsHistory")
    }
    raw.update_opportunity(Identifier=ident, **body)
    assert "FutureNotes" not in emu.record("Sandbox", ident)["Project"]


def test_the_client_names_unknown_members_with_their_list_index(emu: Any) -> None:
    ident = pick(emu, "Pending Submission")
    grow(emu, ident, top="t", nested="n", in_list=1)
    live = make_pc(emu.url).get(ident)
    assert sorted(drift.unknown_of(live)) == [
        "Customer.Contacts[1].PreferredLanguage",
        "FutureTopLevel",
        "Project.FutureNotes",
    ]
    other = pick(emu, "Pending Submission", skip=(ident,))
    assert drift.unknown_of(make_pc(emu.url).get(other)) == ()


@pytest.mark.skipif(not RECORDED, reason="the recorded AWS answers are not on this machine")
def test_real_recorded_answers_with_their_explicit_nulls_are_not_drift() -> None:
    from bulk_update.fields import service_model

    shape = service_model().operation_model("GetOpportunity").output_shape
    for path in RECORDED:
        raw = json.loads(path.read_text())["body"]
        assert drift.unknown_members(raw, shape) == [], path.name
    raw["Project"]["BrandNew"] = None  # an explicit null loses nothing
    raw["Project"]["Other"] = {"x": 1}
    assert drift.unknown_members(raw, shape) == ["Project.Other"]


# -- apply, dry run, conflict re-read ----------------------------------------------------


@pytest.mark.parametrize(
    "where,member",
    [
        ({"top": "t"}, "FutureTopLevel"),
        ({"nested": "n"}, "Project.FutureNotes"),
        ({"in_list": 0}, "Customer.Contacts[0].PreferredLanguage"),
    ],
)
def test_apply_refuses_a_record_with_unknown_members_and_the_control_row_is_updated(
    emu: Any, tmp_path: Path, where: dict[str, Any], member: str
) -> None:
    ident = pick(emu, "Pending Submission")
    control = pick(emu, "Pending Submission", skip=(ident,))
    before = grow(emu, ident, **where)
    report = run(
        emu,
        tmp_path,
        [
            {"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO"},
            {"Identifier": control, "LifeCycle.NextSteps": "Call the CFO"},
        ],
    )
    rows = by_id(report)
    assert rows[ident].outcome is Outcome.UPGRADE_NEEDED
    assert rows[control].outcome is Outcome.UPDATED
    assert member in rows[ident].message
    assert botocore.__version__ in rows[ident].message
    assert "pip install --upgrade boto3 botocore" in rows[ident].message
    assert emu.record("Sandbox", ident) == before
    assert writes(emu) == {f"Sandbox/{control}": 1}
    assert [p.column for p in report.problems if p.code == "unknown-member"] == [member]
    assert report.exit_code == 1
    assert report.retry_path is not None  # the refused row is ready to run again


def test_a_dry_run_says_upgrade_needed_not_would_update(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    grow(emu, ident, nested="n")
    report = run(emu, tmp_path, [{"Identifier": ident, "Project.Title": "New title"}], dry_run=True)
    assert by_id(report)[ident].outcome is Outcome.UPGRADE_NEEDED
    assert writes(emu) == {}


def test_a_member_that_appears_before_the_conflict_re_read_stops_the_retry(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    emu.schedule_seller_edit("Sandbox", ident, {"Project.FutureNotes": "added by a seller"})
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO"}])
    assert by_id(report)[ident].outcome is Outcome.UPGRADE_NEEDED
    assert emu.record("Sandbox", ident)["Project"]["FutureNotes"] == "added by a seller"
    assert sent(emu) == 1  # the first write conflicted; none after the re-read
    assert writes(emu) == {}


def test_resume_settlement_does_not_write_a_record_that_gained_a_member(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    sheet = write_sheet(tmp_path / "sheet.csv", [{"Identifier": ident, "Project.Title": "T2"}])
    folder = RunFolder.create(
        tmp_path / "runs",
        input_path=sheet,
        catalog="Sandbox",
        command="apply",
        settings={"sheet": None, "on_conflict": "skip"},
    )
    live = emu.record("Sandbox", ident)
    folder.journal.intent(2, ident, iso(live["LastModifiedDate"]), digest({}), [])  # sent, never answered
    folder.close()
    before = grow(emu, ident, nested="n")
    report = apply_file(
        None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=folder.path)
    )
    assert by_id(report)[ident].outcome is Outcome.UPGRADE_NEEDED
    assert emu.record("Sandbox", ident) == before
    assert writes(emu) == {}


# -- rollback ----------------------------------------------------------------------------


def test_rollback_does_not_put_back_a_record_that_gained_a_member(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    control = pick(emu, "Pending Submission", skip=(ident,))
    applied = run(
        emu,
        tmp_path,
        [
            {"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO"},
            {"Identifier": control, "LifeCycle.NextSteps": "Call the CFO"},
        ],
    )
    assert {r.outcome for r in applied.results} == {Outcome.UPDATED}
    before = grow(emu, ident, in_list=0)
    report = rollback_run(make_pc(emu.url), applied.run_dir)
    rows = by_id(report)
    assert rows[ident].outcome is Outcome.UPGRADE_NEEDED
    assert "Customer.Contacts[0].PreferredLanguage" in rows[ident].message
    assert rows[control].outcome is Outcome.UPDATED
    assert emu.record("Sandbox", ident) == before


# -- export ------------------------------------------------------------------------------


def test_export_warns_once_and_names_the_members(emu: Any, tmp_path: Path) -> None:
    first = pick(emu, "Pending Submission")
    second = pick(emu, "Pending Submission", skip=(first,))
    grow(emu, first, nested="n")
    grow(emu, second, nested="n", top="t")
    report = export_opportunities(make_pc(emu.url), tmp_path / "out.xlsx")
    drifted = [w for w in report.warnings if "cannot represent" in w]
    assert len(drifted) == 1
    assert "Project.FutureNotes (2 records)" in drifted[0]
    assert "FutureTopLevel (1 record)" in drifted[0]
    assert "pip install --upgrade boto3 botocore" in drifted[0]


def test_export_without_drift_has_no_such_warning(emu: Any, tmp_path: Path) -> None:
    report = export_opportunities(make_pc(emu.url), tmp_path / "out.xlsx")
    assert not [w for w in report.warnings if "cannot represent" in w]


# -- what the service already holds ------------------------------------------------------


def test_a_newer_enum_value_on_an_untouched_field_passes_through(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    record = emu.record("Sandbox", ident)
    record["Project"]["CompetitorName"] = "Future Cloud Co"
    record["Project"].pop("OtherCompetitorNames", None)
    emu.put_record("Sandbox", record)
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO"}])
    assert by_id(report)[ident].outcome is Outcome.UPDATED
    after = emu.record("Sandbox", ident)
    assert after["Project"]["CompetitorName"] == "Future Cloud Co"
    assert strip_volatile(after)["Project"] == strip_volatile(record)["Project"]


def _sample_shaped(emu: Any, ident: str) -> dict[str, Any]:
    """The record given AWS's sample payload's Marketing: AwsFundingUsed No with UseCases."""
    sample = json.loads((SAMPLES / "s1.json").read_text())
    record = emu.record("Sandbox", ident)
    record["Marketing"] = sample["Marketing"]
    emu.put_record("Sandbox", record)
    return emu.record("Sandbox", ident)


def test_a_rule_the_live_record_already_breaks_is_a_warning_and_the_write_goes(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    _sample_shaped(emu, ident)
    report = run(emu, tmp_path, [{"Identifier": ident, "LifeCycle.NextSteps": "Call the CFO"}])
    row = by_id(report)[ident]
    assert sent(emu) == 1  # the tool did not stop it
    # The emulator's own rules refuse it: the service's message, mapped to the column.
    assert row.outcome is Outcome.INVALID
    assert "Partner Central refused the update" in row.message
    service = [p for p in report.problems if p.code.startswith("api-")]
    assert [p.column for p in service] == ["Marketing.UseCases"]
    warned = [p for p in report.problems if p.severity is Severity.WARNING]
    assert [(p.column, p.code) for p in warned] == [
        ("Marketing.UseCases", "use-cases-without-funding")
    ]


def test_the_planner_lets_such_a_row_write_with_the_warning(emu: Any) -> None:
    ident = pick(emu, "Pending Submission")
    live = _sample_shaped(emu, ident)
    edit = RowEdit(2, ident, edits={("LifeCycle", "NextSteps"): "Call the CFO"})
    d = decide(edit, live, today=date(2026, 1, 1))
    assert d.writes
    assert [(p.code, p.severity) for p in d.problems] == [
        ("use-cases-without-funding", Severity.WARNING)
    ]


def test_a_rule_the_row_itself_breaks_stays_an_error(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    _sample_shaped(emu, ident)
    report = run(emu, tmp_path, [{"Identifier": ident, "Marketing.UseCases": "Migration"}])
    assert by_id(report)[ident].outcome is Outcome.INVALID
    assert writes(emu) == {}
    assert [p.severity for p in report.problems if p.code == "use-cases-without-funding"] == [
        Severity.ERROR
    ]


def test_the_cli_says_what_to_run_when_rows_need_a_newer_botocore(emu: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bulk_update.cli import main

    ident = pick(emu, "Pending Submission")
    grow(emu, ident, nested="n")
    sheet = write_sheet(tmp_path / "s.csv", [{"Identifier": ident, "Project.Title": "T3"}])
    result = CliRunner().invoke(
        main,
        [
            "apply",
            str(sheet),
            "--catalog",
            "Sandbox",
            "--endpoint-url",
            emu.url,
            "--run-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert result.exit_code == 1
    assert "1 upgrade-needed" in result.output
    assert (
        f"1 row(s) not written: Partner Central holds fields this {drift.versions()} cannot "
        "see (named in Results). Upgrade with `pip install --upgrade boto3 botocore`, then "
        "run the retry file."
    ) in result.output
    assert "Traceback" not in result.output


def _post(url: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A raw AWS JSON 1.0 call: the installed botocore cannot send newer members itself."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url + "/",
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"AWSPartnerCentralSelling.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("newer", [True, False])
def test_the_emulator_accepts_newer_members_and_values_only_when_it_plays_that_model(
    fresh_emulator: Any, newer: bool
) -> None:
    emu = fresh_emulator(**({"newer": NEWER} if newer else {}), **FAST)
    ident = pick(emu, "Pending Submission")
    got = _post(emu.url, "GetOpportunity", {"Catalog": "Sandbox", "Identifier": ident})[1]
    body: dict[str, Any] = {
        "Catalog": "Sandbox",
        "Identifier": ident,
        "LastModifiedDate": got["LastModifiedDate"],
        "Customer": got["Customer"],
        "Project": {**got["Project"], "FutureNotes": "kept", "CompetitorName": "Future Cloud Co"},
        "LifeCycle": {"Stage": got["LifeCycle"]["Stage"]},
        "FutureTopLevel": {"Anything": 1},
    }
    body["Project"].pop("OtherCompetitorNames", None)
    status, answer = _post(emu.url, "UpdateOpportunity", body)
    if newer:
        assert status == 200, answer
        stored = emu.record("Sandbox", ident)
        assert stored["Project"]["FutureNotes"] == "kept"
        assert stored["FutureTopLevel"] == {"Anything": 1}
        assert stored["Project"]["CompetitorName"] == "Future Cloud Co"
    else:
        assert status == 400
        fields = {e["FieldName"] for e in answer["ErrorList"]}
        assert {"Project.FutureNotes", "FutureTopLevel", "Project.CompetitorName"} <= fields
