"""A dead endpoint in the middle of a run, through boto3 and the emulator (issue 11).

The emulator is shut down after a few rows are written.  The first call that
finds nobody there (after the client's own retries) stops the run, as access
denied does: the rows not started end ``skipped`` with one plain message, a
write that was on the wire stays in flight in the journal, the results are
written; a resume against an emulator restarted on the same store finishes
every row without writing any of them twice.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import openpyxl
from apply_helpers import make_pc, write_sheet
from conftest import FAST

from bulk_update.problems import Outcome, RowEnd
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.folder import RunFolder
from bulk_update.run.rollback import rollback_run

ROWS = 20
WORKERS = 4
ATTEMPTS = 4
"""The client's attempts per call (its backoff kept short so the test is quick)."""


def _rows(emu: Any) -> list[dict[str, str]]:
    ids = sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:ROWS]
    assert len(ids) == ROWS
    return [{"Identifier": i, "LifeCycle.NextSteps": f"Call back {i}"} for i in ids]


def _client(url: str) -> Any:
    # paced at 10 writes a second, so the emulator dies with most rows still to go
    return make_pc(url, write_rate=10.0, backoff_base=0.02, max_attempts=ATTEMPTS)


class _Killer:
    """Shuts the emulator down (from its own thread) once ``after`` rows ended ``ends``."""

    def __init__(self, emu: Any, pc: Any, after: int, ends: Outcome = Outcome.UPDATED) -> None:
        self.emu, self.pc, self.after, self.ends = emu, pc, after, ends
        self.updated = 0
        self.calls_at_stop: int | None = None
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    def on_row(self, outcome: RowEnd) -> None:
        with self._lock:
            self.updated += outcome.outcome is self.ends
            if self.updated < self.after or self.calls_at_stop is not None:
                return
            self.calls_at_stop = self.pc.stats.calls
        threading.Thread(target=self._stop).start()

    def _stop(self) -> None:
        self.emu.stop()
        self.stopped.set()


def test_a_dead_endpoint_stops_the_run_at_once_and_a_resume_finishes_it(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    store = tmp_path / "store.json"
    emu = fresh_emulator(**FAST, data_file=store)
    rows = _rows(emu)
    sheet = write_sheet(tmp_path / "sheet.csv", rows)
    pc = _client(emu.url)
    killer = _Killer(emu, pc, after=4)
    settings = ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", workers=WORKERS)

    began = time.monotonic()
    report = apply_file(sheet, pc, settings, on_row=killer.on_row)
    took = time.monotonic() - began

    assert killer.stopped.wait(10)
    assert took < 20, f"{took:.1f}s"
    # each worker (and read-back) spent one call's retries at most, not one per row left
    assert killer.calls_at_stop is not None
    after_stop = pc.stats.calls - killer.calls_at_stop
    assert after_stop <= (WORKERS + 2) * (ATTEMPTS + 1), after_stop

    stopped = report.summary.extra["stopped"]
    assert stopped.startswith(f"cannot reach {emu.url}: the run stopped; start the service")
    assert f"resume with `bulk-update apply --resume {report.run_dir}" in stopped
    assert "\n" not in stopped
    ends = {r.row: r for r in report.results}
    updated = {n for n, r in ends.items() if r.outcome is Outcome.UPDATED}
    skipped = {n for n, r in ends.items() if r.outcome is Outcome.SKIPPED}
    assert len(updated) >= 4 and updated | skipped == set(ends), {r.outcome for r in report.results}
    assert len(skipped) >= ROWS - 4 - WORKERS
    assert all(ends[n].message.startswith("cannot reach") for n in skipped)
    assert report.exit_code == 1
    assert report.results_path.is_file()
    # the contract's results workbook of a run that stopped early: every row, the
    # ones it did not reach as skipped
    sheet_rows = list(
        openpyxl.load_workbook(report.results_path, read_only=True)["Results"].iter_rows(
            min_row=2, values_only=True
        )
    )
    assert {(r[0], r[2]) for r in sheet_rows} == {(n, str(e.outcome)) for n, e in ends.items()}

    # the journal: what ended updated is done, a write on the wire is left in flight
    assert report.run_dir is not None
    state = RunFolder.open(report.run_dir).journal.replay()
    assert {n for n, r in state.ended().items() if r.updated} == updated
    flying = {r.row for r in state.in_flight()}
    assert flying <= skipped
    assert {n for n in skipped if "may have landed" in ends[n].message} == flying
    assert not state.complete

    # the same store, served again: the resume writes only what did not land
    again = fresh_emulator(**FAST, data_file=store)
    resumed = apply_file(
        None,
        _client(again.url),
        ApplySettings(catalog="Sandbox", resume=report.run_dir, workers=WORKERS),
    )
    assert {r.outcome for r in resumed.results} == {Outcome.UPDATED}, [
        r.message for r in resumed.results if r.outcome is not Outcome.UPDATED
    ]
    first = emu.counters()["writes_per_id"]
    second = again.counters()["writes_per_id"]
    ids = {f"Sandbox/{r['Identifier']}" for r in rows}
    assert {i: first.get(i, 0) + second.get(i, 0) for i in ids} == dict.fromkeys(ids, 1)
    for r in rows:
        record = again.record("Sandbox", r["Identifier"])
        assert record["LifeCycle"]["NextSteps"] == r["LifeCycle.NextSteps"]
    assert RunFolder.open(report.run_dir).journal.replay().complete


def test_a_dead_endpoint_stops_a_rollback_and_running_it_again_finishes_it(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    store = tmp_path / "store.json"
    emu = fresh_emulator(**FAST, data_file=store)
    rows = _rows(emu)
    before = {r["Identifier"]: emu.record("Sandbox", r["Identifier"]) for r in rows}
    sheet = write_sheet(tmp_path / "sheet.csv", rows)
    applied = apply_file(
        sheet, _client(emu.url), ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs")
    )
    assert applied.exit_code == 0 and applied.run_dir is not None
    emu.reset_counters()

    pc = _client(emu.url)
    killer = _Killer(emu, pc, after=4)
    began = time.monotonic()
    report = rollback_run(pc, applied.run_dir, on_row=killer.on_row, workers=WORKERS)
    took = time.monotonic() - began
    assert killer.stopped.wait(10)
    assert took < 20, f"{took:.1f}s"
    stopped = report.summary.extra["stopped"]
    assert stopped.startswith(f"cannot reach {emu.url}: the run stopped")
    assert f"`bulk-update rollback {applied.run_dir} --catalog Sandbox`" in stopped
    outcomes = {r.outcome for r in report.results}
    assert outcomes <= {Outcome.UPDATED, Outcome.SKIPPED} and Outcome.SKIPPED in outcomes

    again = fresh_emulator(**FAST, data_file=store)
    finished = rollback_run(_client(again.url), applied.run_dir, workers=WORKERS)
    assert {r.outcome for r in finished.results} <= {Outcome.UPDATED, Outcome.UNCHANGED}
    first = emu.counters()["writes_per_id"]
    second = again.counters()["writes_per_id"]
    ids = {f"Sandbox/{i}" for i in before}
    assert {i: first.get(i, 0) + second.get(i, 0) for i in ids} == dict.fromkeys(ids, 1)
    for ident, record in before.items():
        now = again.record("Sandbox", ident)
        assert now["LifeCycle"]["NextSteps"] == record["LifeCycle"]["NextSteps"]


def test_a_dead_endpoint_while_planning_stops_without_asking(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    sheet = write_sheet(tmp_path / "sheet.csv", _rows(emu))
    pc = make_pc(emu.url, read_rate=10.0, backoff_base=0.02, max_attempts=ATTEMPTS)
    killer = _Killer(emu, pc, after=4, ends=Outcome.WOULD_UPDATE)
    asked: list[dict[Outcome, int]] = []

    def planner_too(executor: Any) -> None:
        if executor.options.dry_run:  # the plan the question is asked on
            executor.on_row = killer.on_row

    report = apply_file(
        sheet,
        pc,
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", workers=WORKERS),
        confirm=lambda counts: asked.append(counts) or True,
        on_executor=planner_too,
    )
    assert killer.stopped.wait(10)
    assert asked == []
    assert emu.counters()["writes_per_id"] == {}
    assert {r.outcome for r in report.results} == {Outcome.SKIPPED}
    assert all(r.message.startswith(f"cannot reach {emu.url}") for r in report.results)
    assert report.summary.extra["stopped"].startswith(f"cannot reach {emu.url}")
