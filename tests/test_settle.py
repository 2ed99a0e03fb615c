"""Settling ambiguous writes through boto3 and the emulator (issue 13, point 1).

The emulator keeps a write and then answers 500 (the client retries and gets a
ConflictException for its own write) or drops the answer: every such row must
end ``updated``, written once, journalled as done with its new version, and a
rollback must put every one of them back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, write_sheet
from conftest import FAST

from bulk_update.errors import RunFolderError
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.folder import RunFolder
from bulk_update.run.rollback import rollback_run


def _rows(emu: Any, n: int) -> list[dict[str, str]]:
    ids = sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:n]
    return [{"Identifier": i, "LifeCycle.NextSteps": f"Settled for {i}"} for i in ids]


def _apply(emu: Any, tmp_path: Path, rows: list[dict[str, str]], **settings: Any) -> Any:
    sheet = write_sheet(tmp_path / "sheet.csv", rows)
    pc = make_pc(emu.url, backoff_base=0.01)
    return apply_file(
        sheet, pc, ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", **settings)
    )


def test_a_write_kept_then_answered_500_ends_updated_not_conflict(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    rows = _rows(emu, 4)
    emu.set_faults(error_after_write_rate=1.0)
    report = _apply(emu, tmp_path, rows)
    got = {r.identifier: r.outcome for r in report.results}
    assert got == {r["Identifier"]: Outcome.UPDATED for r in rows}, [
        r.message for r in report.results
    ]
    assert report.exit_code == 0
    assert emu.counters()["writes_per_id"] == {f"Sandbox/{r['Identifier']}": 1 for r in rows}
    for r in rows:
        assert (
            emu.record("Sandbox", r["Identifier"])["LifeCycle"]["NextSteps"]
            == (r["LifeCycle.NextSteps"])
        )
    # journalled as done with the version the record has now
    assert report.run_dir is not None
    state = RunFolder.open(report.run_dir).journal.replay()
    for rs in state.rows.values():
        live = emu.record("Sandbox", str(rs.identifier))
        assert rs.state == "updated" and rs.new_last_modified is not None
        assert rs.new_last_modified.isoformat().startswith(str(live["LastModifiedDate"])[:19])


def test_a_real_conflict_still_ends_conflict_naming_the_field(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST, seller_edit_rate=1.0, fault_seed=1)
    rows = _rows(emu, 3)
    report = _apply(emu, tmp_path, rows, on_conflict="skip")
    assert {r.outcome for r in report.results} == {Outcome.CONFLICT}
    for r in report.results:
        assert "someone changed" in r.message or "kept changing" in r.message, r.message
    assert emu.counters()["seller_edits"]


def test_rollback_puts_back_every_settled_write(fresh_emulator: Any, tmp_path: Path) -> None:
    emu = fresh_emulator(**FAST)
    rows = _rows(emu, 4)
    before = {r["Identifier"]: emu.record("Sandbox", r["Identifier"]) for r in rows}
    emu.set_faults(error_after_write_rate=0.5, fault_seed=3)
    applied = _apply(emu, tmp_path, rows)
    assert {r.outcome for r in applied.results} == {Outcome.UPDATED}
    emu.set_faults(error_after_write_rate=0.0, drop_after_write_rate=0.5, fault_seed=5)
    undone = rollback_run(make_pc(emu.url, backoff_base=0.01), applied.run_dir)
    assert {r.outcome for r in undone.results} == {Outcome.UPDATED}, [
        r.message for r in undone.results
    ]
    assert undone.exit_code == 0
    for ident, old in before.items():
        now = emu.record("Sandbox", ident)
        assert now["LifeCycle"].get("NextSteps") == old["LifeCycle"].get("NextSteps")


def test_a_lost_answer_is_journalled_done_and_resume_says_the_run_finished(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    rows = _rows(emu, 3)
    emu.set_faults(drop_after_write_rate=1.0)
    first = _apply(emu, tmp_path, rows)
    assert {r.outcome for r in first.results} == {Outcome.UPDATED}
    emu.set_faults(drop_after_write_rate=0.0)
    results = first.run_dir / "results.xlsx"
    stamp = results.stat().st_mtime_ns
    with pytest.raises(RunFolderError, match="finished run .*nothing to resume"):
        apply_file(None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=first.run_dir))
    assert results.stat().st_mtime_ns == stamp  # not rewritten
    assert all(n == 1 for n in emu.counters()["writes_per_id"].values())
