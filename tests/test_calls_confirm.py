"""The production confirmation and ``--json`` name the calls beside the updates: how many
opportunities reassigned, entities associated and disassociated, opportunities SUBMITTED
(which cannot be undone); through the CLI, boto3 and the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, write_sheet, writes
from click.testing import CliRunner
from conftest import FAST
from test_calls_rollback import PRIYA, PRODUCTS

from bulk_update import cli
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.rollback import rollback_run

NO_UNDO = "A submission cannot be undone, nor rolled back"


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli.main, list(args), input=input)


def first(emu: Any, status: str, catalog: str) -> str:
    return next(
        i for i, r in sorted(emu.records(catalog).items()) if r["LifeCycle"]["ReviewStatus"] == status
    )


def every_kind(emu: Any, catalog: str) -> list[dict[str, str]]:
    """Two rows: one reassigned, one product added and one removed; one submitted."""
    pending = first(emu, "Pending Submission", catalog)  # AwsProducts: AmazonEC2
    approved = first(emu, "Approved", catalog)  # AwsProducts: AmazonEC2, AmazonS3
    return [
        {"Identifier": pending, **PRIYA, "Submit.InvolvementType": "Co-Sell"},
        {"Identifier": approved, PRODUCTS: "AmazonS3;AmazonRDS", "LifeCycle.NextSteps": "Swap"},
    ]


def apply_cli(emu: Any, tmp_path: Path, catalog: str, *extra: str, input: str | None = None) -> Any:
    sheet = write_sheet(tmp_path / "s.csv", every_kind(emu, catalog))
    return invoke(
        "apply", str(sheet), "--catalog", catalog, "--endpoint-url", emu.url,
        "--run-dir", str(tmp_path / "runs"), *extra, input=input,
    )  # fmt: skip


def test_production_confirmation_names_the_calls_and_the_submission(
    emu: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr("bulk_update.cli.app._stdin_is_terminal", lambda: True)
    result = apply_cli(emu, tmp_path, "AWS", input="n\n")
    lines = result.stderr.splitlines()
    said = [ln for ln in lines if ln.startswith(("Besides", "A submission"))]
    assert said == [
        "Besides updating fields, the plan will reassign 1 opportunity, associate 1 related "
        "entity, disassociate 1 related entity, SUBMIT 1 opportunity to AWS.",
        f"{NO_UNDO}: the opportunity goes to AWS for review and takes no update until "
        "AWS answers.",
    ]
    assert "Apply 2 changes to production?" in result.stderr
    assert writes(emu) == {}
    assert result.exit_code == 1


def test_a_plan_of_fields_only_says_nothing_of_calls(
    emu: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr("bulk_update.cli.app._stdin_is_terminal", lambda: True)
    ident = first(emu, "Pending Submission", "AWS")
    sheet = write_sheet(tmp_path / "s.csv", [{"Identifier": ident, "LifeCycle.NextSteps": "F"}])
    result = invoke(
        "apply", str(sheet), "--catalog", "AWS", "--endpoint-url", emu.url,
        "--run-dir", str(tmp_path / "runs"), input="y\n",
    )  # fmt: skip
    assert "Besides" not in result.stderr and NO_UNDO not in result.stderr
    assert "Apply 1 changes to production?" in result.stderr
    assert result.exit_code == 0


@pytest.mark.parametrize("dry", [True, False])
def test_json_counts_the_calls(emu: Any, tmp_path: Path, dry: bool) -> None:
    result = apply_cli(emu, tmp_path, "Sandbox", "--json", *(["--dry-run"] if dry else []))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    kinds = {"reassigned": 1, "associated": 1, "disassociated": 1, "submitted": 1}
    assert data["other_calls"] == kinds
    assert isinstance(data["calls"], int)  # the calls made, as before
    assert sum(writes(emu).values()) == (0 if dry else 5)  # 1 update and 4 calls


def test_the_rollback_confirmation_says_the_submission_stays(emu: Any, tmp_path: Path) -> None:
    rows = every_kind(emu, "Sandbox")
    sheet = write_sheet(tmp_path / "s.csv", rows)
    pc = make_pc(emu.url)
    report = apply_file(sheet, pc, ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs"))
    assert {r.outcome for r in report.results} == {Outcome.UPDATED}
    emu.set_review_status("Sandbox", rows[0]["Identifier"], "Approved")
    asked: list[Any] = []

    def no(plan: Any) -> bool:
        asked.append(plan)
        return False

    assert report.run_dir is not None
    undone = rollback_run(make_pc(emu.url), report.run_dir, confirm=no)
    (plan,) = asked
    assert plan == {Outcome.WOULD_UPDATE: 2}
    assert plan.calls == {"reassigned": 1, "associated": 1, "disassociated": 1, "submitted": 0}
    assert plan.notes == [
        "1 row was submitted to AWS by the run: a submission cannot be rolled back, "
        "only their other changes are put back where the review status allows it"
    ]
    assert {r.outcome for r in undone.results} == {Outcome.SKIPPED}


def test_rollback_on_production_says_a_submission_stays(
    emu: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    applied = apply_cli(emu, tmp_path, "AWS", "--yes", "--json")
    assert applied.exit_code == 0, applied.output
    run_dir = json.loads(applied.stdout)["run_dir"]
    monkeypatch.setattr("bulk_update.cli.app._stdin_is_terminal", lambda: True)
    emu.reset_counters()
    result = invoke(
        "rollback", run_dir, "--catalog", "AWS", "--endpoint-url", emu.url, input="n\n"
    )
    lines = result.stderr.splitlines()
    assert (
        "1 row was submitted to AWS by the run: a submission cannot be rolled back, only "
        "their other changes are put back where the review status allows it"
    ) in lines
    assert (
        "Besides updating fields, the plan will associate 1 related entity, disassociate 1 "
        "related entity."
    ) in lines
    (plan,) = [ln for ln in lines if ln.startswith("Plan: ")]
    assert sorted(plan[6:].split(", ")) == ["locked: 1", "to put back: 1"]  # submitted: in review
    assert "Put back 1 records in production?" in result.stderr
    assert writes(emu) == {}
