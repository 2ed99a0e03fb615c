"""Resuming a run stopped between two writes of one row (issue 16): nothing is sent twice.

A run is stopped for real (``--max-writes`` ends it between a row's writes), or
its journal is cut as a crash would leave it (after a call's ``call-done``, or
after a ``call-intent`` whose call had landed).  The resume reads the record,
plans the row again from what it holds, and sends only what is missing: the
emulator's call counts prove that no call went twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import apply_rows, make_pc, pick
from conftest import FAST
from test_calls_apply import PRIYA, owner, related, sent

from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.times import iso


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def resume(emu: Any, run_dir: Path) -> Any:
    return apply_file(None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=run_dir))


def by_row(report: Any) -> dict[int, Any]:
    return {r.row: r for r in report.results}


def journal(run_dir: Path) -> list[dict[str, Any]]:
    lines = (run_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def cut_after(run_dir: Path, keep: Any) -> None:
    """Keep the journal up to and including the first event ``keep`` accepts (a crash)."""
    path = run_dir / "journal.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for n, line in enumerate(lines):
        if keep(json.loads(line)):
            path.write_text("".join(lines[: n + 1]), encoding="utf-8")
            return
    raise AssertionError("no such event in the journal")


def _update_and_calls(emu: Any, ident: str) -> dict[str, str]:
    """A row as exported (its LastModifiedDate), with an update and two calls."""
    return {
        "Identifier": ident,
        "LastModifiedDate": iso(emu.record("Sandbox", ident)["LastModifiedDate"]),
        "LifeCycle.NextSteps": "Call the CFO",
        "RelatedEntityIdentifiers.AwsProducts": ";".join(
            [*related(emu, ident, "AwsProducts"), "AmazonRDS"]
        ),
        **PRIYA,
    }


def test_a_run_stopped_between_two_calls_resumes_with_only_the_missing_call(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    first = apply_rows(emu, tmp_path, [_update_and_calls(emu, ident)], max_writes=2)
    stopped = by_row(first)[2]
    assert stopped.outcome is Outcome.SKIPPED
    assert (
        "the update (1 field(s)) and 1 of its 2 call(s) (AssociateOpportunity) already landed"
        in (stopped.message)
    )
    assert sent(emu) == {"UpdateOpportunity": 1, "AssociateOpportunity": 1}
    assert [e["event"] for e in journal(first.run_dir) if e.get("row") == 2] == [
        "intent",
        "call-intent",
        "call-done",
    ]  # fmt: skip  (no row end: the row is in flight)
    report = resume(emu, first.run_dir)
    row = by_row(report)[2]
    assert row.outcome is Outcome.UPDATED, row.message
    assert row.message.startswith("updated 1 call(s); the interrupted run had sent the rest")
    assert owner(emu, ident) == PRIYA["Assignee.Email"]
    assert "AmazonRDS" in related(emu, ident, "AwsProducts")
    assert emu.record("Sandbox", ident)["LifeCycle"]["NextSteps"] == "Call the CFO"
    assert sent(emu) == {"UpdateOpportunity": 1, "AssociateOpportunity": 1, "AssignOpportunity": 1}
    # the before-image is still the record before the first run's update
    assert resume_before(first.run_dir)["LifeCycle"].get("NextSteps") != "Call the CFO"


def resume_before(run_dir: Path) -> dict[str, Any]:
    (path,) = (run_dir / "before").glob("*.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_a_run_stopped_after_the_update_sends_the_calls_on_resume(emu: Any, tmp_path: Path) -> None:
    ident = pick(emu, "Pending Submission")
    first = apply_rows(emu, tmp_path, [_update_and_calls(emu, ident)], max_writes=1)
    assert by_row(first)[2].outcome is Outcome.SKIPPED
    assert sent(emu) == {"UpdateOpportunity": 1}
    report = resume(emu, first.run_dir)
    row = by_row(report)[2]
    assert row.outcome is Outcome.UPDATED, row.message
    assert sent(emu) == {"UpdateOpportunity": 1, "AssociateOpportunity": 1, "AssignOpportunity": 1}


@pytest.mark.parametrize(
    "crash",
    [
        pytest.param(
            lambda e: e["event"] == "call-done" and e["index"] == 0, id="after-a-call-done"
        ),
        pytest.param(
            lambda e: e["event"] == "call-intent" and e["index"] == 1, id="call-on-the-wire"
        ),
    ],
)
def test_a_crash_between_two_calls_of_an_update_row_sends_nothing_twice(
    emu: Any, tmp_path: Path, crash: Any
) -> None:
    ident = pick(emu, "Pending Submission")
    first = apply_rows(emu, tmp_path, [_update_and_calls(emu, ident)])
    assert by_row(first)[2].outcome is Outcome.UPDATED
    landed = sent(emu)
    assert landed == {"UpdateOpportunity": 1, "AssociateOpportunity": 1, "AssignOpportunity": 1}
    cut_after(first.run_dir, crash)
    report = resume(emu, first.run_dir)
    row = by_row(report)[2]
    assert (row.outcome, row.message) == (
        Outcome.UPDATED,
        "updated by the interrupted run (confirmed by reading the record again)",
    )
    assert sent(emu) == landed
    assert journal(first.run_dir)[-2]["event"] == "done"  # the row ended, then the run


def test_a_crash_between_two_calls_of_a_calls_only_row_sends_nothing_twice(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Approved")
    (old,) = related(emu, ident, "Solutions")
    row = {"Identifier": ident, "RelatedEntityIdentifiers.Solutions": "S-9000011", **PRIYA}
    first = apply_rows(emu, tmp_path, [row])
    assert by_row(first)[2].outcome is Outcome.UPDATED
    landed = sent(emu)
    assert landed == {
        "AssociateOpportunity": 1,
        "DisassociateOpportunity": 1,
        "AssignOpportunity": 1,
    }
    cut_after(first.run_dir, lambda e: e["event"] == "call-done" and e["index"] == 0)
    report = resume(emu, first.run_dir)
    assert by_row(report)[2].outcome is Outcome.UPDATED
    assert sent(emu) == landed
    assert related(emu, ident, "Solutions") == ["S-9000011"] and old != "S-9000011"


def test_a_call_on_the_wire_that_did_not_land_is_sent_once_on_resume(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Approved")
    products = ";".join([*related(emu, ident, "AwsProducts"), "AmazonRDS"])
    row = {"Identifier": ident, "RelatedEntityIdentifiers.AwsProducts": products, **PRIYA}
    first = apply_rows(emu, tmp_path, [row], max_writes=1)
    assert sent(emu) == {"AssociateOpportunity": 1}
    # as if the run had journalled the assignment's intent and died before sending it
    events = journal(first.run_dir)
    assigned = next(e for e in events if e["event"] == "call-intent")
    call = {"operation": "AssignOpportunity", "params": {"Identifier": ident}, "change": ""}
    with (first.run_dir / "journal.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({**assigned, "index": 1, "call": call}) + "\n")
    report = resume(emu, first.run_dir)
    assert by_row(report)[2].outcome is Outcome.UPDATED, by_row(report)[2].message
    assert owner(emu, ident) == PRIYA["Assignee.Email"]
    assert sent(emu)["AssignOpportunity"] == 1


def test_the_journal_replays_calls_done_and_the_call_in_flight(emu: Any, tmp_path: Path) -> None:
    from bulk_update.run.folder import RunFolder

    ident = pick(emu, "Approved")
    products = ";".join([*related(emu, ident, "AwsProducts"), "AmazonRDS"])
    row = {"Identifier": ident, "RelatedEntityIdentifiers.AwsProducts": products, **PRIYA}
    first = apply_rows(emu, tmp_path, [row])
    cut_after(first.run_dir, lambda e: e["event"] == "call-intent" and e["index"] == 1)
    folder = RunFolder.open(first.run_dir, catalog="Sandbox")
    state = folder.journal.replay()
    rs = state.rows[2]
    assert rs.in_flight and rs.calls_sent
    assert [c["operation"] for c in rs.calls_done] == ["AssociateOpportunity"]
    assert rs.call_in_flight is not None
    assert (rs.call_in_flight["operation"], rs.call_in_flight["index"]) == ("AssignOpportunity", 1)
    assert state.written() == []  # in flight: not a rollback target until settled
    resume(emu, first.run_dir)
    state = RunFolder.open(first.run_dir, catalog="Sandbox").journal.replay()
    assert [r.row for r in state.written()] == [2]
    assert state.rows[2].call_in_flight is None


def test_a_row_run_again_after_a_refused_call_sends_only_the_missing_call(
    emu: Any, tmp_path: Path
) -> None:
    ident = pick(emu, "Pending Submission")
    newcomer = {**PRIYA, "Assignee.Email": "new.hire@partner.example.com"}
    row = {**_update_and_calls(emu, ident), **newcomer}
    first = apply_rows(emu, tmp_path, [row])
    refused = by_row(first)[2]
    assert refused.outcome is Outcome.INVALID
    assert "the update (1 field(s)) and 1 of its 2 call(s)" in refused.message
    assert sent(emu) == {"UpdateOpportunity": 1, "AssociateOpportunity": 1, "AssignOpportunity": 1}
    emu.set_users([*emu.users(), {k.split(".")[1]: v for k, v in newcomer.items()}])
    # the same row again (its LastModifiedDate is the export's, before the first run's update)
    (tmp_path / "again").mkdir()
    again = apply_rows(emu, tmp_path / "again", [row])
    ended = by_row(again)[2]
    assert (ended.outcome, ended.message) == (Outcome.UPDATED, "updated 1 call(s)")
    assert owner(emu, ident) == newcomer["Assignee.Email"]
    assert sent(emu) == {"UpdateOpportunity": 1, "AssociateOpportunity": 1, "AssignOpportunity": 2}


def test_the_retry_file_of_a_part_done_row_sends_only_what_is_missing(
    emu: Any, tmp_path: Path
) -> None:
    """Sheet contract, section 6: the retry file holds the rows that did not end
    updated/unchanged, ready to fix and run again; for a row whose update and first call
    landed before a call was refused, running that file sends only the missing call."""
    ident = pick(emu, "Pending Submission")
    newcomer = {**PRIYA, "Assignee.Email": "new.hire@partner.example.com"}
    first = apply_rows(emu, tmp_path, [{**_update_and_calls(emu, ident), **newcomer}])
    assert by_row(first)[2].outcome is Outcome.INVALID
    assert first.retry_path is not None and first.retry_path.exists()
    emu.set_users([*emu.users(), {k.split(".")[1]: v for k, v in newcomer.items()}])
    again = apply_file(
        first.retry_path,
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "again"),
    )
    (ended,) = again.results
    assert (ended.identifier, ended.outcome) == (ident, Outcome.UPDATED)
    assert owner(emu, ident) == newcomer["Assignee.Email"]
    assert sent(emu) == {"UpdateOpportunity": 1, "AssociateOpportunity": 1, "AssignOpportunity": 2}
