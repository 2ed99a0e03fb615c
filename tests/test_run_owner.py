"""One owner per run folder, through boto3 and the emulator (issue 13 point 3, issue 11 point 5).

A resume or an apply holds an exclusive flock on its run folder for its whole
life; a second process is refused at once and told who holds it; a killed
holder leaves no stale lock.  A second apply of the same sheet is refused
unless --allow-concurrent.  ``--resume D`` accepts the folder given to --run-dir.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, write_sheet, writes
from conftest import FAST
from openpyxl import load_workbook

from bulk_update.errors import RunFolderError
from bulk_update.export.job import export_opportunities
from bulk_update.problems import Outcome
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.folder import RunFolder, find_run
from bulk_update.run.rollback import rollback_run


def _ids(emu: Any, n: int) -> list[str]:
    return sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:n]


def _sheet(tmp_path: Path, ids: list[str], text: str = "Owner") -> Path:
    return write_sheet(
        tmp_path / "s.csv", [{"Identifier": i, "LifeCycle.NextSteps": f"{text} {i}"} for i in ids]
    )


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "bulk_update", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _interrupted(emu: Any, tmp_path: Path, n: int) -> Path:
    """An apply run stopped after 2 writes (--max-writes): resumable."""
    report = apply_file(
        _sheet(tmp_path, _ids(emu, n)),
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", max_writes=2),
    )
    assert report.counts[Outcome.SKIPPED] == n - 2
    assert report.run_dir is not None
    return report.run_dir


def test_a_second_resume_is_refused_naming_the_holder_and_a_kill_frees_it(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    run = _interrupted(emu, tmp_path, 12)
    first = _cli(
        "apply", "--resume", str(run), "--catalog", "Sandbox", "--endpoint-url", emu.url,
        "--write-rate", "2", "--read-rate", "100",
    )  # fmt: skip
    try:
        _wait(lambda: sum(writes(emu).values()) >= 3)
        with pytest.raises(
            RunFolderError, match=rf"in use by another bulk-update \(pid {first.pid} "
        ):
            apply_file(None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=run))
        with pytest.raises(RunFolderError, match="in use by another bulk-update"):
            rollback_run(make_pc(emu.url), run)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    # the OS released the lock with the process: the resume now runs and finishes
    done = apply_file(None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=run))
    assert done.counts[Outcome.UPDATED] == 12
    assert set(writes(emu).values()) == {1} and len(writes(emu)) == 12


def test_a_second_apply_of_the_same_sheet_is_refused_unless_allowed(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    ids = _ids(emu, 10)
    sheet = _sheet(tmp_path, ids)
    runs = tmp_path / "runs"
    first = _cli(
        "apply", str(sheet), "--catalog", "Sandbox", "--endpoint-url", emu.url,
        "--run-dir", str(runs), "--write-rate", "2", "--read-rate", "100",
    )  # fmt: skip
    try:
        _wait(lambda: sum(writes(emu).values()) >= 1)
        with pytest.raises(RunFolderError, match="another apply of s.csv .*--allow-concurrent"):
            apply_file(sheet, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=runs))
        assert len(list(runs.iterdir())) == 1  # refused before making a folder
        other = write_sheet(tmp_path / "other.csv", [{"Identifier": ids[0]}])
        # another sheet is not refused
        apply_file(other, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=runs))
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode in (0, 1)


def test_allow_concurrent_lets_the_second_apply_start(fresh_emulator: Any, tmp_path: Path) -> None:
    emu = fresh_emulator(**FAST)
    sheet = _sheet(tmp_path, _ids(emu, 2))
    runs = tmp_path / "runs"
    holder = RunFolder.create(
        runs, input_path=sheet, catalog="Sandbox", command="apply", settings={}
    )
    lock_holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time; from bulk_update.run.folder import RunFolder; "
            "RunFolder.open(sys.argv[1]).lock('apply'); print('held', flush=True); time.sleep(60)",
            str(holder.path),
        ],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert lock_holder.stdout is not None and lock_holder.stdout.readline() == "held\n"
        with pytest.raises(RunFolderError, match="--allow-concurrent"):
            apply_file(sheet, make_pc(emu.url), ApplySettings(catalog="Sandbox", run_dir=runs))
        report = apply_file(
            sheet,
            make_pc(emu.url),
            ApplySettings(catalog="Sandbox", run_dir=runs, allow_concurrent=True),
        )
        assert report.counts[Outcome.UPDATED] == 2
    finally:
        lock_holder.kill()
        lock_holder.wait(timeout=10)


def test_resume_and_rollback_accept_the_run_dir_folder(fresh_emulator: Any, tmp_path: Path) -> None:
    emu = fresh_emulator(**FAST)
    run = _interrupted(emu, tmp_path, 4)
    runs = tmp_path / "runs"
    assert find_run(runs)[0] == run
    done = apply_file(None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=runs))
    assert done.counts[Outcome.UPDATED] == 4
    assert "the run folder inside" in done.summary.extra["resumed"]
    undone = rollback_run(make_pc(emu.url), runs)
    assert undone.counts[Outcome.UPDATED] == 4


def test_with_several_runs_the_latest_unfinished_one_is_taken(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    interrupted = _interrupted(emu, tmp_path, 4)
    finished = apply_file(
        write_sheet(tmp_path / "later.csv", [{"Identifier": _ids(emu, 5)[4]}]),
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs"),
    ).run_dir
    assert finished is not None and finished != interrupted
    path, note = find_run(tmp_path / "runs")
    assert path == interrupted
    assert note is not None and "holds 2 runs: using the latest unfinished one" in note


def test_after_a_resume_conflicts_keep_their_three_value_lines(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    target, other = _ids(emu, 2)
    out = tmp_path / "pipeline.xlsx"
    export_opportunities(make_pc(emu.url), out, columns=["Customer.Account.Address.City"])
    book = load_workbook(out)
    ws = book["Opportunities"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value in (target, other):
            row[headers.index("Customer.Account.Address.City")].value = "Lisbon"
    book.save(out)
    emu.seller_edit("Sandbox", target, {"Customer.Account.Address.City": "Porto"})
    first = apply_file(
        out,
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", max_writes=0, workers=1),
    )
    lines = [p for p in first.problems if p.identifier == target]
    assert [p.code for p in lines] == ["changed-on-both-sides"]
    assert first.counts[Outcome.SKIPPED] >= 1  # the other row among them: resumable
    again = apply_file(
        None, make_pc(emu.url), ApplySettings(catalog="Sandbox", resume=first.run_dir)
    )
    assert next(r for r in again.results if r.identifier == target).outcome is Outcome.CONFLICT
    assert [p for p in again.problems if p.identifier == target] == lines
    assert next(r for r in again.results if r.identifier == other).outcome is Outcome.UPDATED
