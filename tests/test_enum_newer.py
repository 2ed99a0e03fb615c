"""A cell set to a value the installed enum lacks: judged again once the record is read.

The offline check refuses such a value (``not-allowed``).  ``apply`` and its
dry run hold a row whose only errors are these, read its record, and let the
write go with an ``enum-newer-service`` warning when Partner Central already
holds, in that field, values outside the installed enum (a newer model);
otherwise the row ends ``invalid`` exactly as offline.  Every test goes
through a real boto3 client over HTTP to the emulator playing a newer model.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import botocore
import pytest
from apply_helpers import apply_rows, make_pc, pick, strip_volatile, write_sheet, writes
from conftest import FAST
from openpyxl import load_workbook

from bulk_update.emulator import Newer
from bulk_update.export.job import export_opportunities
from bulk_update.problems import Outcome, Severity
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.validate import validate_file

NEWER = Newer.of(
    enums={
        "Project.CompetitorName": ("Future Cloud Co", "Nimbus Cloud Co"),
        "Project.DeliveryModels[]": ("Agent Marketplace", "Outcome Based"),
    }
)


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(newer=NEWER, **FAST)


def holding(emu: Any, ident: str, **project: Any) -> dict[str, Any]:
    """Give the stored record these Project values (as if the service always had them)."""
    record = emu.record("Sandbox", ident)
    record["Project"].update(project)
    record["Project"].pop("OtherCompetitorNames", None)
    emu.put_record("Sandbox", record)
    return emu.record("Sandbox", ident)


run = apply_rows


def reads(emu: Any) -> int:
    return int(emu.counters()["calls"].get("GetOpportunity", 0))


def sent(emu: Any) -> int:
    return int(emu.counters()["calls"].get("UpdateOpportunity", 0))


def row_of(report: Any, ident: str) -> Any:
    return next(r for r in report.results if r.identifier == ident)


def newer_warnings(report: Any) -> list[Any]:
    return [p for p in report.problems if p.code == "enum-newer-service"]


# -- (a) the record already holds a newer value in that field: warning, written -----------


def test_a_newer_value_beside_a_newer_value_is_written_with_a_warning(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    control = pick(emu, "Pending Submission", skip=(ident,))
    before = holding(emu, ident, CompetitorName="Future Cloud Co")
    report = run(
        emu,
        tmp_path,
        [
            {"Identifier": ident, "Project.CompetitorName": "Nimbus Cloud Co"},
            {"Identifier": control, "LifeCycle.NextSteps": "Call the CFO"},
        ],
    )
    row = row_of(report, ident)
    assert row.outcome is Outcome.UPDATED, row.message
    assert row_of(report, control).outcome is Outcome.UPDATED
    after = emu.record("Sandbox", ident)
    assert after["Project"]["CompetitorName"] == "Nimbus Cloud Co"
    before["Project"]["CompetitorName"] = "Nimbus Cloud Co"
    assert strip_volatile(after) == strip_volatile(before)  # nothing else moved
    [warning] = newer_warnings(report)
    assert (warning.column, warning.value, warning.severity) == (
        "Project.CompetitorName",
        "Nimbus Cloud Co",
        Severity.WARNING,
    )
    for words in ("'Nimbus Cloud Co'", "Project.CompetitorName", botocore.__version__,
                  "'Future Cloud Co'", "Partner Central judges it"):  # fmt: skip
        assert words in warning.message
    assert "warning: Project.CompetitorName:" in row.message
    assert not [p for p in report.problems if p.code == "not-allowed"]
    assert report.exit_code == 0


def test_in_a_list_field_any_item_outside_the_enum_is_the_evidence(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    holding(emu, ident, DeliveryModels=["Resell", "Agent Marketplace"])
    report = run(
        emu,
        tmp_path,
        [{"Identifier": ident, "Project.DeliveryModels": "saas or paas;Outcome Based"}],
    )
    assert row_of(report, ident).outcome is Outcome.UPDATED
    # known items in their canonical spelling, the newer one as written
    assert emu.record("Sandbox", ident)["Project"]["DeliveryModels"] == [
        "SaaS or PaaS",
        "Outcome Based",
    ]
    [warning] = newer_warnings(report)
    assert "'Outcome Based'" in warning.message
    assert "'Agent Marketplace'" in warning.message
    assert "SaaS" not in warning.message  # only the unknown item is named


# -- (b) the record holds only known values: invalid, as offline --------------------------


def test_without_evidence_the_row_ends_invalid_exactly_as_offline_and_nothing_is_written(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    before = emu.record("Sandbox", ident)
    assert before["Project"].get("CompetitorName") in (None, *_installed("Project.CompetitorName"))
    rows = [{"Identifier": ident, "Project.CompetitorName": "Nimbus Cloud Co"}]
    offline = validate_file(write_sheet(tmp_path / "v.csv", rows), catalog="Sandbox")
    report = run(emu, tmp_path, rows)
    row = row_of(report, ident)
    assert row.outcome is Outcome.INVALID
    assert row.message == offline.results[0].message
    assert "Nimbus Cloud Co" in row.message
    assert row.changes == []
    assert _cells(report.problems) == _cells(offline.problems)
    assert newer_warnings(report) == []
    assert sent(emu) == 0 and writes(emu) == {}
    assert emu.record("Sandbox", ident) == before


def test_a_newer_value_elsewhere_on_the_record_is_no_evidence_for_this_field(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    holding(emu, ident, DeliveryModels=["Agent Marketplace"])
    report = run(
        emu, tmp_path, [{"Identifier": ident, "Project.CompetitorName": "Nimbus Cloud Co"}]
    )
    assert row_of(report, ident).outcome is Outcome.INVALID
    assert sent(emu) == 0


def test_a_held_row_whose_record_does_not_exist_ends_as_offline(emu: Any, tmp_path: Path) -> None:
    rows = [{"Identifier": "O999999999", "Project.CompetitorName": "Nimbus Cloud Co"}]
    offline = validate_file(write_sheet(tmp_path / "v.csv", rows), catalog="Sandbox")
    report = run(emu, tmp_path, rows)
    assert report.results[0].outcome is Outcome.INVALID
    assert report.results[0].message == offline.results[0].message


def test_a_row_with_another_error_beside_is_not_read(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    holding(emu, ident, CompetitorName="Future Cloud Co")
    emu.reset_counters()
    report = run(
        emu,
        tmp_path,
        [
            {
                "Identifier": ident,
                "Project.CompetitorName": "Nimbus Cloud Co",
                "LifeCycle.TargetCloseDate": "03/04/2026",
            }
        ],
    )
    assert row_of(report, ident).outcome is Outcome.INVALID
    assert reads(emu) == 0 and sent(emu) == 0
    assert {p.code for p in report.problems if p.is_error} == {"not-allowed", "date-format"}


# -- (c) evidence, but the service refuses the value -------------------------------------


def test_the_service_refusing_the_value_ends_invalid_with_its_message_on_the_column(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    before = holding(emu, ident, CompetitorName="Future Cloud Co")
    report = run(emu, tmp_path, [{"Identifier": ident, "Project.CompetitorName": "Unheard Of Co"}])
    row = row_of(report, ident)
    assert row.outcome is Outcome.INVALID
    assert "Partner Central refused the update" in row.message
    assert sent(emu) == 1
    service = [p for p in report.problems if p.code.startswith("api-")]
    assert [(p.column, p.code) for p in service] == [
        ("Project.CompetitorName", "api-invalid_enum_value")
    ]
    assert "'Unheard Of Co' is not an allowed value" in service[0].message  # the service's words
    assert len(newer_warnings(report)) == 1
    assert emu.record("Sandbox", ident) == before


# -- (d) the dry run -----------------------------------------------------------------------


def test_the_dry_run_says_would_update_with_the_warning(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    before = holding(emu, ident, CompetitorName="Future Cloud Co")
    report = run(
        emu, tmp_path, [{"Identifier": ident, "Project.CompetitorName": "Nimbus Cloud Co"}],
        dry_run=True,
    )  # fmt: skip
    row = row_of(report, ident)
    assert row.outcome is Outcome.WOULD_UPDATE
    assert [str(c) for c in row.changes] == [
        "Project.CompetitorName: Future Cloud Co -> Nimbus Cloud Co"
    ]
    assert "warning: Project.CompetitorName:" in row.message
    assert "Partner Central judges it" in row.message
    assert len(newer_warnings(report)) == 1
    assert sent(emu) == 0
    assert emu.record("Sandbox", ident) == before


def test_a_confirmed_run_writes_what_its_plan_warned_about(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    holding(emu, ident, CompetitorName="Future Cloud Co")
    asked: list[dict[Outcome, int]] = []
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": ident, "Project.CompetitorName": "Nimbus Cloud Co"}]
    )
    report = apply_file(
        sheet,
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs"),
        confirm=lambda counts: asked.append(counts) or True,
    )
    assert asked == [{Outcome.WOULD_UPDATE: 1}]
    assert row_of(report, ident).outcome is Outcome.UPDATED
    assert emu.record("Sandbox", ident)["Project"]["CompetitorName"] == "Nimbus Cloud Co"


# -- an exported sheet: the newer value nobody edited ------------------------------------


def test_an_exported_newer_value_nobody_edited_does_not_stop_the_row(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    holding(emu, ident, CompetitorName="Future Cloud Co")
    out = tmp_path / "pipeline.xlsx"
    export_opportunities(
        make_pc(emu.url), out, columns=["LifeCycle.NextSteps", "Project.CompetitorName"]
    )
    book = load_workbook(out)
    ws = book["Opportunities"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == ident:
            assert row[headers.index("Project.CompetitorName")].value == "Future Cloud Co"
            row[headers.index("LifeCycle.NextSteps")].value = "Call the CFO"
    book.save(out)
    report = apply_file(
        out, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs")
    )
    assert row_of(report, ident).outcome is Outcome.UPDATED
    after = emu.record("Sandbox", ident)
    assert after["LifeCycle"]["NextSteps"] == "Call the CFO"
    assert after["Project"]["CompetitorName"] == "Future Cloud Co"
    assert newer_warnings(report) == []  # the cell was not edited: nothing to judge
    assert writes(emu) == {f"Sandbox/{ident}": 1}


# -- a resumed run and the pure judgment --------------------------------------------------


def test_a_resumed_run_judges_its_held_rows_again(emu: Any, tmp_path: Path) -> None:
    first = pick(emu, "Pending Submission")
    second = pick(emu, "Pending Submission", skip=(first,))
    for ident in (first, second):
        holding(emu, ident, CompetitorName="Future Cloud Co")
    rows = [{"Identifier": i, "Project.CompetitorName": "Nimbus Cloud Co"} for i in (first, second)]
    stopped = run(emu, tmp_path, rows, max_writes=1, workers=1)
    assert [r.outcome for r in stopped.results] == [Outcome.UPDATED, Outcome.SKIPPED]
    report = apply_file(
        None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=stopped.run_dir)
    )
    assert [r.outcome for r in report.results] == [Outcome.UPDATED, Outcome.UPDATED]
    assert emu.record("Sandbox", second)["Project"]["CompetitorName"] == "Nimbus Cloud Co"
    assert [p.row for p in newer_warnings(report)] == [2, 3]  # the first carried from the journal


def test_in_a_list_of_records_any_record_holding_a_newer_value_is_the_evidence() -> None:
    from bulk_update.decide import Held, HeldCell, decide
    from bulk_update.fields import load
    from bulk_update.payload import RowEdit
    from bulk_update.problems import Problem

    f = load().get("Project.ExpectedCustomerSpend[].Frequency")
    assert f is not None and "Yearly" not in f.enum and "Quarterly" not in f.enum
    path = ("Project", "ExpectedCustomerSpend", 0, "Frequency")
    column = "Project.ExpectedCustomerSpend[1].Frequency"
    offline = Problem(2, "O1", column, "Quarterly", "not-allowed", "'Quarterly' is not allowed")
    held = Held((HeldCell(path, f, offline),), (offline,), f"{column}: 'Quarterly' is not allowed")
    edit = RowEdit(2, "O1", edits={path: "Quarterly"}, columns={path: column})

    def live(second: str) -> dict[str, Any]:
        spend = [
            {"Amount": "10", "CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "A"},
            {"Amount": "20", "CurrencyCode": "USD", "Frequency": second, "TargetCompany": "A"},
        ]
        return {
            "LastModifiedDate": "2026-05-01T20:37:46.123Z",
            "Project": {"Title": "T", "ExpectedCustomerSpend": spend},
            "LifeCycle": {"ReviewStatus": "Pending Submission"},
        }

    judged = decide(edit, live("Yearly"), today=date(2026, 1, 1), held=held)
    assert judged.writes
    assert [p.code for p in judged.problems] == ["enum-newer-service"]
    assert "'Yearly'" in judged.problems[0].message
    refused = decide(edit, live("Monthly"), today=date(2026, 1, 1), held=held)
    assert (refused.outcome, refused.message, refused.problems) == (
        Outcome.INVALID,
        held.message,
        [offline],
    )


def _installed(key: str) -> tuple[str, ...]:
    from bulk_update import fields

    f = fields.load().get(key)
    assert f is not None
    return f.enum


def _cells(problems: list[Any]) -> list[tuple[Any, ...]]:
    return [(p.row, p.column, p.value, p.code, p.message, p.severity) for p in problems]
