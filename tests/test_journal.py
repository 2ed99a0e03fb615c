"""The run folder: run.json, the fsync'd journal and its replay, before-images."""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bulk_update.errors import RunFolderError
from bulk_update.problems import Change, Outcome
from bulk_update.run import folder as journal_mod
from bulk_update.run.folder import RunFolder
from bulk_update.run.journal import IN_FLIGHT

T0 = datetime(2026, 5, 1, 20, 37, 46, 123000, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "q3 cleanup.xlsx"
    path.write_bytes(b"pretend workbook")
    return path


@pytest.fixture
def run(sheet: Path) -> RunFolder:
    folder = RunFolder.create(
        None,
        input_path=sheet,
        catalog="Sandbox",
        command="apply",
        settings={"write_rate": 1.0, "dry_run": False},
    )
    yield folder
    folder.close()


def test_create_makes_the_folder_beside_the_input(run: RunFolder, sheet: Path):
    assert run.path.parent == sheet.parent / "runs"
    assert re.fullmatch(r"q3 cleanup-\d{8}T\d{6}Z", run.path.name)
    info = json.loads((run.path / "run.json").read_text())
    assert info["input"] == str(sheet.resolve())
    assert info["input_sha256"] == journal_mod.file_sha256(sheet)
    assert info["catalog"] == "Sandbox"
    assert info["command"] == "apply"
    assert info["settings"] == {"write_rate": 1.0, "dry_run": False}
    assert datetime.fromisoformat(info["started"]).tzinfo is not None
    assert (run.path / "journal.jsonl").read_text() == ""
    assert (run.path / "before").is_dir()


def test_create_in_an_explicit_folder_never_reuses_one(sheet: Path, tmp_path: Path):
    base = tmp_path / "elsewhere" / "runs"
    kw = dict(input_path=sheet, catalog="AWS", command="apply", settings={})
    a = RunFolder.create(base, **kw)
    b = RunFolder.create(base, **kw)
    assert a.path.parent == b.path.parent == base
    assert a.path != b.path


def test_open_reads_back_what_create_wrote(run: RunFolder, sheet: Path):
    again = RunFolder.open(run.path, catalog="Sandbox")
    assert again.catalog == "Sandbox"
    assert again.input_path == sheet.resolve()
    assert again.settings == {"write_rate": 1.0, "dry_run": False}
    again.check_input(sheet)


def test_open_refuses_a_folder_of_another_catalog(run: RunFolder):
    with pytest.raises(RunFolderError, match="made for catalog Sandbox, not AWS"):
        RunFolder.open(run.path, catalog="AWS")


def test_open_refuses_what_is_not_a_run_folder(tmp_path: Path, run: RunFolder):
    with pytest.raises(RunFolderError, match="no run folder"):
        RunFolder.open(tmp_path / "missing")
    with pytest.raises(RunFolderError, match="not a run folder"):
        RunFolder.open(tmp_path)
    (run.path / "run.json").write_text("{not json")
    with pytest.raises(RunFolderError, match="cannot be read"):
        RunFolder.open(run.path)
    (run.path / "run.json").write_text("[1, 2]")
    with pytest.raises(RunFolderError, match="not a run description"):
        RunFolder.open(run.path)


def test_check_input_notices_a_changed_file(run: RunFolder, sheet: Path):
    sheet.write_bytes(b"edited since")
    with pytest.raises(RunFolderError, match="not the file this run started from"):
        run.check_input(sheet)


def test_every_append_is_flushed_and_fsynced(run: RunFolder, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(journal_mod.os, "fsync", spy)
    run.journal.intent(2, "O1", T0, "abc", [])
    # Visible to another reader before anything is closed.
    assert len(run.journal_path.read_text().splitlines()) == 1
    run.journal.done(2, "O1", Outcome.UPDATED, T1, "")
    run.journal.outcome(3, "O2", Outcome.UNCHANGED)
    assert len(run.journal_path.read_text().splitlines()) == 3
    assert len(synced) == 3


def test_events_are_plain_json_lines(run: RunFolder):
    run.journal.intent(2, "O1", T0, "abc", [Change("Project.Title", "Old", "New")])
    run.journal.done(2, "O1", Outcome.UPDATED, T1, "")
    first, second = (json.loads(line) for line in run.journal_path.read_text().splitlines())
    assert first["event"] == "intent"
    assert first["last_modified_sent"] == T0.isoformat()
    assert first["changes"] == [{"column": "Project.Title", "old": "Old", "new": "New"}]
    assert second == {
        "at": second["at"],
        "event": "done",
        "row": 2,
        "identifier": "O1",
        "outcome": "updated",
        "new_last_modified": T1.isoformat(),
        "message": "",
    }


def test_replay_gives_each_row_its_final_state(run: RunFolder):
    run.journal.outcome(2, "O1", Outcome.UNCHANGED)
    run.journal.outcome(3, None, Outcome.INVALID, "Identifier is empty")
    run.journal.intent(4, "O3", T0, "d1", ["LifeCycle.Stage: Qualified -> Committed"])
    run.journal.done(4, "O3", Outcome.UPDATED, T1, "")
    run.journal.intent(5, "O4", T0, "d2", [])  # sent, answer never recorded
    # A ConflictException, re-read and re-merged, then sent again.
    run.journal.intent(6, "O5", T0, "d3", [])
    run.journal.done(6, "O5", "retry", None, "ConflictException")
    run.journal.intent(6, "O5", T1, "d4", [])
    run.journal.done(6, "O5", Outcome.UPDATED, T1 + timedelta(seconds=1), "")
    run.journal.intent(7, "O6", T0, "d5", [])
    run.journal.done(7, "O6", Outcome.INVALID, None, "Project.Title: too long")
    state = run.journal.replay()

    assert {n: r.state for n, r in state.ended().items()} == {
        2: "unchanged",
        3: "invalid",
        4: "updated",
        6: "updated",
        7: "invalid",
    }
    assert [r.row for r in state.in_flight()] == [5]
    flying = state.rows[5]
    assert flying.state == IN_FLIGHT and flying.in_flight
    assert flying.last_modified_sent == T0
    assert flying.payload_digest == "d2"
    assert state.rows[3].message == "Identifier is empty"
    assert state.rows[4].changes == ["LifeCycle.Stage: Qualified -> Committed"]
    assert state.rows[6].writes_sent == 2
    assert state.rows[6].last_modified_sent == T1
    assert {r.identifier: r.new_last_modified for r in state.written() if r.updated} == {
        "O3": T1,
        "O5": T1 + timedelta(seconds=1),
    }
    assert [r.row for r in state.written()] == [4, 6, 7]
    assert not state.torn_tail
    assert state.finished is None


def test_a_skipped_row_is_not_an_end_a_resume_keeps(run: RunFolder):
    run.journal.outcome(2, "O1", Outcome.SKIPPED, "not reached")
    run.journal.outcome(3, "O2", Outcome.UNCHANGED)
    state = run.journal.replay()
    assert list(state.ended()) == [3]
    assert state.rows[2].state == "skipped"


def test_settling_an_in_flight_row_closes_it(run: RunFolder):
    run.journal.intent(2, "O1", T0, "d", [])
    run.journal.done(2, "O1", Outcome.UPDATED, T1, "settled by reading the record again")
    assert run.journal.replay().in_flight() == []


def test_a_row_s_calls_keep_it_in_flight_until_its_end(run: RunFolder):
    assign = {"operation": "AssignOpportunity", "params": {"Identifier": "O1"}, "change": "c"}
    submit = {"operation": "SubmitOpportunity", "params": {"Identifier": "O1"}, "change": "s"}
    run.journal.intent(2, "O1", T0, "d", [])
    run.journal.call_intent(2, "O1", 0, assign)
    run.journal.call_done(2, "O1", 0, assign)
    run.journal.call_intent(2, "O1", 1, submit)
    # a calls-only row whose second call was refused
    run.journal.call_intent(3, "O2", 0, assign)
    run.journal.call_done(3, "O2", 0, assign)
    run.journal.call_intent(3, "O2", 1, submit)
    run.journal.call_done(3, "O2", 1, submit, Outcome.INVALID, "refused")
    run.journal.done(3, "O2", Outcome.INVALID, None, "refused")
    state = run.journal.replay()
    flying = state.rows[2]
    assert flying.in_flight and flying.calls_sent
    assert flying.calls_done == [assign]
    assert flying.call_in_flight == {**submit, "index": 1}
    assert flying.writes_sent == 3  # the update and two calls
    ended = state.rows[3]
    assert ended.state == "invalid" and ended.call_in_flight is None
    assert ended.calls_done == [assign]
    assert [r.row for r in state.written()] == [3]  # a refused call after one landed
    run.journal.done(2, "O1", Outcome.UPDATED, T1, "")
    assert [r.row for r in run.journal.replay().written()] == [2, 3]


def test_finish_is_remembered(run: RunFolder):
    run.journal.outcome(2, "O1", Outcome.UNCHANGED)
    run.journal.finish({"unchanged": 1})
    assert run.journal.replay().finished == {"unchanged": 1}


def test_a_torn_last_line_is_ignored_then_cut_off(run: RunFolder):
    run.journal.intent(2, "O1", T0, "d", [])
    run.close()
    with open(run.journal_path, "a") as f:
        f.write('{"event": "done", "row": 2, "ident')  # the crash
    reopened = RunFolder.open(run.path)
    state = reopened.journal.replay()
    assert state.torn_tail
    assert state.rows[2].in_flight

    reopened.journal.done(2, "O1", Outcome.UPDATED, T1, "settled")
    reopened.close()
    lines = reopened.journal_path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    state = RunFolder.open(run.path).journal.replay()
    assert not state.torn_tail
    assert state.rows[2].state == "updated"


def test_a_whole_event_missing_only_its_newline_is_kept(run: RunFolder):
    run.close()
    with open(run.journal_path, "a") as f:
        f.write(
            json.dumps({"event": "outcome", "row": 2, "identifier": "O1", "outcome": "unchanged"})
        )
    reopened = RunFolder.open(run.path)
    assert {n: r.state for n, r in reopened.journal.replay().ended().items()} == {2: "unchanged"}
    reopened.journal.outcome(3, "O2", Outcome.UNCHANGED)
    ended = reopened.journal.replay().ended()
    assert {n: r.state for n, r in ended.items()} == {2: "unchanged", 3: "unchanged"}


def test_a_damaged_line_in_the_middle_stops_the_resume(run: RunFolder):
    run.journal.outcome(2, "O1", Outcome.UNCHANGED)
    run.close()
    with open(run.journal_path, "a") as f:
        f.write("garbage\n")
        f.write(json.dumps({"event": "outcome", "row": 3, "outcome": "unchanged"}) + "\n")
    with pytest.raises(RunFolderError, match="line 2 is damaged"):
        RunFolder.open(run.path).journal.replay()


def test_concurrent_appends_never_interleave(run: RunFolder):
    threads, each = 6, 25

    def worker(t: int) -> None:
        for i in range(each):
            row = t * 1000 + i
            run.journal.intent(row, f"O{row}", T0, "x" * 200, [])
            run.journal.done(row, f"O{row}", Outcome.UPDATED, T1, "")

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    lines = run.journal_path.read_text().splitlines()
    assert len(lines) == threads * each * 2
    assert all(json.loads(line)["event"] in ("intent", "done") for line in lines)
    state = run.journal.replay()
    assert len([r for r in state.written() if r.updated]) == threads * each
    assert state.in_flight() == []


def record() -> dict:
    return {
        "Id": "O1234",
        "Catalog": "Sandbox",
        "LastModifiedDate": T0,
        "CreatedDate": datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        "Project": {
            "Title": "Migration",
            "AdditionalComments": "2026-01-01T00:00:00+00:00",  # text that looks like a time
        },
        "LifeCycle": {
            "Stage": "Qualified",
            "TargetCloseDate": "2026-12-31",
            "NextStepsHistory": [{"Time": T0, "Value": "call the customer"}],
        },
        "Customer": {"Contacts": [{"Email": "a@example.com"}]},
        "ResponseMetadata": {"RequestId": "r-1", "HTTPStatusCode": 200},
    }


def test_before_images_round_trip_with_their_datetimes(run: RunFolder):
    run.save_before("O1234", record())
    back = run.load_before("O1234")
    expected = record()
    del expected["ResponseMetadata"]
    assert back == expected
    assert isinstance(back["LifeCycle"]["NextStepsHistory"][0]["Time"], datetime)
    assert back["Project"]["AdditionalComments"] == "2026-01-01T00:00:00+00:00"
    on_disk = json.loads((run.path / "before" / "O1234.json").read_text())
    assert on_disk["LastModifiedDate"] == T0.isoformat()
    assert run.before_identifiers() == ["O1234"]


def test_save_before_replaces_atomically(run: RunFolder):
    run.save_before("O1", record())
    newer = record() | {"LastModifiedDate": T1}
    run.save_before("O1", newer)
    assert run.load_before("O1")["LastModifiedDate"] == T1
    assert [p.name for p in (run.path / "before").iterdir()] == ["O1.json"]  # no temp files


def test_load_before_of_an_unknown_record_is_none(run: RunFolder):
    assert run.load_before("O999") is None


@pytest.mark.parametrize("bad", ["../run", "O1/x", "", "O 1"])
def test_identifiers_never_leave_the_before_folder(run: RunFolder, bad: str):
    with pytest.raises(ValueError):
        run.save_before(bad, {})
