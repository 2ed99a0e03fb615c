"""Run folders are private whatever the umask (issue 12 point 9)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import make_pc, write_sheet

from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.ledger import Ledger
from bulk_update.run.rollback import rollback_run


@pytest.fixture(params=[0o022, 0o000])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_folder_journal_before_images_results_and_ledger_are_private(
    fresh_emulator: Any, tmp_path: Path, umask: int
) -> None:
    emu = fresh_emulator(read_rate=1000, write_rate=1000, read_burst=1000, write_burst=1000)
    ids = sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:2]
    sheet = write_sheet(
        tmp_path / "sheet.csv", [{"Identifier": i, "LifeCycle.NextSteps": "Private"} for i in ids]
    )
    ledger = Ledger("modes", limit=100, folder=tmp_path / "home")
    report = apply_file(
        sheet,
        make_pc(emu.url),
        ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", ledger=ledger),
    )
    run = report.run_dir
    assert run is not None
    assert _mode(run) == 0o700 and _mode(run / "before") == 0o700
    files = [run / "journal.jsonl", run / "run.json", report.results_path, ledger.path]
    files += list((run / "before").glob("*.json"))
    assert len(files) == 6
    assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}

    undone = rollback_run(make_pc(emu.url), run)
    folder = Path(undone.summary.extra["rollback folder"])
    assert _mode(folder) == 0o700
    for f in [folder / "journal.jsonl", folder / "run.json", undone.results_path]:
        assert _mode(f) == 0o600, f
