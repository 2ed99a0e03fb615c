"""The executor with a small in-memory fake of the PartnerCentral wrapper.

The one place the project uses a fake (issue 10): the executor's own logic -
settling, a worker's unexpected exception, a journal that cannot be written -
tested without the wire. Records come from the emulator once, through boto3, so
their shape is the real one; every API-path test elsewhere goes through boto3
and the emulator.
"""

from __future__ import annotations

import copy
import errno
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc

from bulk_update.api import client as pcc
from bulk_update.api.stats import Stats
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome
from bulk_update.run.executor import Executor, Options
from bulk_update.run.folder import RunFolder
from bulk_update.run.settle import sent_values


class FakePC:
    """get/update over dicts, with the service's version check; faults on demand."""

    catalog = "Sandbox"

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        self.records = copy.deepcopy(records)
        self.stats = Stats()
        self.commits: list[str] = []
        self.get_error: BaseException | None = None
        self.gets_before_error = 0
        self.after_commit: BaseException | None = None
        """Raised after the write is kept (a lost answer, a 500)."""

    def get(self, identifier: str) -> dict[str, Any]:
        if self.get_error is not None:
            if self.gets_before_error <= 0:
                raise self.get_error
            self.gets_before_error -= 1
        return copy.deepcopy(self.records[identifier])

    def update(self, payload: dict[str, Any]) -> dict[str, Any]:
        ident = payload["Identifier"]
        rec = self.records[ident]
        if rec["LastModifiedDate"] != payload["LastModifiedDate"]:
            raise pcc.Conflict("changed", operation="UpdateOpportunity", identifier=ident)
        version = rec["LastModifiedDate"] + timedelta(seconds=1)
        self.records[ident] = {**rec, **sent_values(payload), "LastModifiedDate": version}
        self.commits.append(ident)
        if self.after_commit is not None:
            raise self.after_commit
        return {"Id": ident, "LastModifiedDate": version}


@pytest.fixture(scope="module")
def records(emulator: Any) -> dict[str, dict[str, Any]]:
    pc = make_pc(emulator.url)
    ids = sorted(
        i
        for i, r in emulator.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:3]
    return {i: pc.get(i) for i in ids}


def _edits(records: dict[str, dict[str, Any]]) -> list[RowEdit]:
    return [
        RowEdit(
            n,
            ident,
            edits={("LifeCycle", "NextSteps"): f"Unit {n}"},
            columns={("LifeCycle", "NextSteps"): "LifeCycle.NextSteps"},
        )
        for n, ident in enumerate(records, start=2)
    ]


def _folder(tmp_path: Path) -> RunFolder:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("Identifier\n", encoding="utf-8")
    return RunFolder.create(
        tmp_path / "runs", input_path=sheet, catalog="Sandbox", command="apply", settings={}
    )


def test_a_write_kept_then_answered_conflict_on_retry_ends_updated(
    records: dict[str, dict[str, Any]],
) -> None:
    fake = FakePC(records)
    fake.after_commit = pcc.Conflict("retry", operation="UpdateOpportunity", identifier="x")
    got = Executor(fake, Options(verify=False)).run(_edits(records))  # type: ignore[arg-type]
    assert {o.outcome for o in got.values()} == {Outcome.UPDATED}
    assert sorted(fake.commits) == sorted(records)  # each written once, none twice


def test_an_unexpected_exception_fails_that_row_and_the_run_goes_on(
    records: dict[str, dict[str, Any]],
) -> None:
    fake = FakePC(records)
    fake.get_error = RuntimeError("boom")
    fake.gets_before_error = 2
    got = Executor(fake, Options(verify=False, workers=1)).run(  # type: ignore[arg-type]
        _edits(records)
    )
    ends = [got[n].outcome for n in sorted(got)]
    assert ends == [Outcome.UPDATED, Outcome.UPDATED, Outcome.FAILED]
    failed = [o for o in got.values() if o.outcome is Outcome.FAILED]
    assert failed and all("unexpected error (RuntimeError: boom)" in o.message for o in failed)


def test_a_broken_observer_does_not_lose_rows(records: dict[str, dict[str, Any]]) -> None:
    def on_row(_: Any) -> None:
        raise ValueError("progress bar bug")

    got = Executor(FakePC(records), Options(verify=False), on_row=on_row).run(  # type: ignore[arg-type]
        _edits(records)
    )
    assert {o.outcome for o in got.values()} == {Outcome.UPDATED}


def test_an_unsettled_write_stays_in_flight_for_resume(
    records: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    fake = FakePC(records)
    fake.after_commit = pcc.WriteUncertain(
        TimeoutError(), operation="UpdateOpportunity", identifier="x"
    )
    fake.get_error = pcc.CallFailed(
        "network", ConnectionError(), operation="GetOpportunity", attempts=3
    )
    fake.gets_before_error = 1  # the first read (to decide) works; the settle's read fails
    folder = _folder(tmp_path)
    edit = _edits(records)[0]
    got = Executor(fake, Options(verify=False), folder).run([edit])  # type: ignore[arg-type]
    assert got[edit.row].outcome is Outcome.FAILED
    assert "resume the run to settle" in got[edit.row].message
    assert [r.row for r in folder.journal.replay().in_flight()] == [edit.row]


def test_a_journal_that_cannot_be_written_stops_the_run_in_one_line(
    records: dict[str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path)

    def full(*_: Any, **__: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(folder.journal_path))

    monkeypatch.setattr(folder.journal, "intent", full)
    fake = FakePC(records)
    ex = Executor(fake, Options(verify=False, workers=1), folder)  # type: ignore[arg-type]
    got = ex.run(_edits(records))
    assert fake.commits == []  # nothing sent without its intent on disk
    assert {o.outcome for o in got.values()} == {Outcome.SKIPPED}
    assert "No space left on device" in ex.stop_reason
    assert "--resume" in ex.stop_reason and "\n" not in ex.stop_reason


class LanePC(FakePC):
    """Updates that wait (up to 5 s) for an assignment to be on the wire: they pass only
    if the executor lets writes of another operation through while updates wait."""

    def __init__(self, records: dict[str, dict[str, Any]]) -> None:
        super().__init__(records)
        self.assigning = threading.Event()

    def update(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not self.assigning.wait(5):
            raise pcc.CallFailed("no assignment got through", TimeoutError(),
                                 operation="UpdateOpportunity", attempts=1)  # fmt: skip
        return super().update(payload)

    def send_call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.assigning.set()
        owner = {k: v for k, v in params["Assignee"].items()}
        self.records[params["Identifier"]]["OpportunityTeam"] = [owner]
        return {}


def test_an_assignment_goes_on_the_wire_while_the_updates_wait_in_their_own_lane(
    records: dict[str, dict[str, Any]],
) -> None:
    fake = LanePC(records)
    updates = _edits(records)[:2]  # fill the update lane (WRITERS = 2)
    ident = list(records)[2]
    assignee = {"Email": "priya.natarajan@partner.example.com", "FirstName": "Priya",
                "LastName": "Natarajan", "BusinessTitle": "PartnerSalesManager"}  # fmt: skip
    assign = RowEdit(9, ident, calls={f"Assignee.{k}": v for k, v in assignee.items()})
    ex = Executor(fake, Options(verify=False, workers=3))  # type: ignore[arg-type]
    got = ex.run([*updates, assign])
    assert {n: o.outcome for n, o in got.items()} == {
        2: Outcome.UPDATED, 3: Outcome.UPDATED, 9: Outcome.UPDATED,
    }  # fmt: skip
    assert fake.records[ident]["OpportunityTeam"][0]["Email"] == assignee["Email"]
    assert ex.writes_sent == 3


class ForgetfulPC(FakePC):
    """Answers every call as done and keeps none of them (what the read-back is for)."""

    def send_call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.commits.append(operation)
        return {}


def test_a_call_answered_done_that_the_record_does_not_show_is_a_not_kept_warning(
    records: dict[str, dict[str, Any]],
) -> None:
    fake = ForgetfulPC(records)
    ident = list(records)[0]
    cells = {"Assignee.Email": "priya.natarajan@partner.example.com", "Assignee.FirstName": "P",
             "Assignee.LastName": "N", "Assignee.BusinessTitle": "PartnerSalesManager"}  # fmt: skip
    got = Executor(fake, Options()).run([RowEdit(2, ident, calls=cells)])  # type: ignore[arg-type]
    end = got[2]
    assert end.outcome is Outcome.UPDATED
    assert fake.commits == ["AssignOpportunity"]
    assert [(p.column, p.code) for p in end.problems] == [("Assignee.Email", "not-kept")]
    assert "warning: Partner Central did not keep Assignee.Email" in end.message
    assert end.new_version is not None  # the read-back's version
