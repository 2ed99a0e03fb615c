"""A full disk under the run folder, through boto3 and the emulator (issue 13 point 3).

The run folder lives on a small tmpfs (mounted for the test; skipped with the
reason where mounting is not allowed - tests/test_executor_unit.py injects the
same failure at the journal's write and always runs).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, write_sheet, writes
from conftest import FAST

from bulk_update.errors import BulkUpdateError
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.folder import RunFolder


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "small"
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}); "
                    "the injected journal fault in test_executor_unit covers the logic")  # fmt: skip
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """A filler file leaving about ``leave`` bytes free on ``disk``."""
    filler = disk / "filler"
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with filler.open("wb") as f:
        f.write(b"\0" * max(0, free - leave))
    return filler


def _zero_byte_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.stat().st_size == 0]


def _rows(emu: Any, n: int) -> list[dict[str, str]]:
    ids = sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:n]
    return [{"Identifier": i, "LifeCycle.NextSteps": f"Disk {i}"} for i in ids]


def test_a_disk_that_fills_mid_run_stops_cleanly_and_resumes(
    fresh_emulator: Any, tmp_path: Path, small_disk: Path
) -> None:
    emu = fresh_emulator(**FAST)
    rows = _rows(emu, 30)
    assert len(rows) >= 20
    sheet = write_sheet(tmp_path / "s.csv", rows)
    filler = _fill(small_disk, 40_000)
    report = apply_file(
        sheet,
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=small_disk / "runs", workers=4),
    )
    stopped = report.summary.extra["stopped"]
    assert "No space left on device" in stopped and "--resume" in stopped, stopped
    assert "\n" not in stopped
    got = {r.identifier: r.outcome for r in report.results}
    assert Outcome.SKIPPED in got.values()
    written = {k.split("/", 1)[1] for k in writes(emu)}
    # every write that landed had its intent journalled first
    folder = RunFolder.open(report.run_dir)  # type: ignore[arg-type]
    journalled = {rs.identifier for rs in folder.journal.replay().rows.values() if rs.writes_sent}
    assert written <= journalled
    assert all(got[i] is Outcome.UPDATED for i in written if got[i] is not Outcome.SKIPPED)
    # the results were not lost: written elsewhere, and said where
    assert report.results_path.is_file()
    assert [p for p in _zero_byte_files(small_disk) if p.name != "lock"] == []
    filler.unlink()
    again = apply_file(
        None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=report.run_dir)
    )
    assert {r.outcome for r in again.results} == {Outcome.UPDATED}, [
        r.message for r in again.results if r.outcome is not Outcome.UPDATED
    ]
    assert set(writes(emu).values()) == {1} and len(writes(emu)) == len(rows)


def test_a_disk_full_from_the_start_refuses_before_any_call(
    fresh_emulator: Any, tmp_path: Path, small_disk: Path
) -> None:
    emu = fresh_emulator(**FAST)
    sheet = write_sheet(tmp_path / "s.csv", _rows(emu, 3))
    _fill(small_disk, 0)
    with pytest.raises(BulkUpdateError, match="No space left on device"):
        apply_file(
            sheet, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=small_disk / "runs")
        )
    assert emu.counters()["calls"] == {}
    assert [p for p in _zero_byte_files(small_disk) if p.name != "filler"] == []


def test_results_that_cannot_be_written_refuse_before_any_call(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    sheet = write_sheet(tmp_path / "s.csv", _rows(emu, 2))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BulkUpdateError, match="cannot write the results file .*nothing was sent"):
        apply_file(
            sheet,
            make_pc(emu.url),
            ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", out=blocker / "r.xlsx"),
        )
    assert emu.counters()["calls"] == {}
