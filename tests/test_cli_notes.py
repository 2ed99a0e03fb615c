"""The console tells what the report notes, and ``--json`` counts the warnings (issue 11).

A note is what the run chose or fell back to on its own (which run folder
``--resume`` took from a ``--run-dir`` holding several, a fallback path...):
printed once, plainly, right after the summary line. Every test drives the
real command line through click's CliRunner against the emulator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import write_sheet
from click.testing import CliRunner
from conftest import FAST

from bulk_update import cli


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli.main, list(args))


def _editable(emu: Any, n: int) -> list[str]:
    return sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:n]


def _api(emu: Any) -> list[str]:
    return ["--catalog", "Sandbox", "--endpoint-url", emu.url, "--write-rate", "100"]


def _two_runs(emu: Any, tmp_path: Path) -> tuple[Path, Path]:
    """``runs/`` holding an interrupted run (--max-writes 1 of 2 rows) and a later finished one."""
    first, second, third = _editable(emu, 3)
    runs = tmp_path / "runs"
    rows = [{"Identifier": i, "LifeCycle.NextSteps": "notes"} for i in (first, second)]
    stopped = invoke(
        "apply", str(write_sheet(tmp_path / "a.csv", rows)), *_api(emu), "--run-dir", str(runs),
        "--max-writes", "1", "--json",
    )  # fmt: skip
    assert stopped.exit_code == 1, stopped.output
    later = [{"Identifier": third, "LifeCycle.NextSteps": "notes"}]
    done = invoke(
        "apply", str(write_sheet(tmp_path / "b.csv", later)), *_api(emu), "--run-dir", str(runs),
        "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return runs, Path(json.loads(stopped.stdout)["run_dir"])


def _after_summary(stderr: str) -> list[str]:
    """The lines printed after the summary line (``N rows: ...``)."""
    lines = stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if " rows: " in line or line.endswith(" rows:"))
    return lines[at + 1 :]


def test_resume_prints_which_run_it_took_once_after_the_summary_line(
    emu: Any, tmp_path: Path
) -> None:
    runs, interrupted = _two_runs(emu, tmp_path)
    result = invoke("apply", "--resume", str(runs), *_api(emu))
    assert result.exit_code == 0, result.output
    note = f"Note: {runs} holds 2 runs: using the latest unfinished one, {interrupted}"
    after = _after_summary(result.stderr)
    assert after[0] == note
    assert result.stderr.count(f"{runs} holds 2 runs") == 1


def test_rollback_prints_which_run_it_took_once_after_the_summary_line(
    emu: Any, tmp_path: Path
) -> None:
    runs, interrupted = _two_runs(emu, tmp_path)
    result = invoke("rollback", str(runs), *_api(emu))
    assert result.exit_code == 0, result.output
    note = f"{runs} holds 2 runs: using the latest unfinished one, {interrupted}"
    assert _after_summary(result.stderr)[0] == f"Note: {note}"  # as apply says it
    assert result.stderr.count(f"{runs} holds 2 runs") == 1


def test_a_run_without_notes_prints_none(emu: Any, tmp_path: Path) -> None:
    rows = [{"Identifier": _editable(emu, 1)[0], "LifeCycle.NextSteps": "notes"}]
    sheet = write_sheet(tmp_path / "s.csv", rows)
    result = invoke("apply", str(sheet), *_api(emu), "--run-dir", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.output
    assert "Note:" not in result.stderr


def test_validate_prints_the_reports_notes_after_the_summary_line(tmp_path: Path) -> None:
    from bulk_update.cli.app import _report
    from bulk_update.run.validate import validate_file

    sheet = write_sheet(tmp_path / "s.csv", [{"Identifier": "O1", "LifeCycle.NextSteps": "x"}])
    report = validate_file(sheet, out=tmp_path / "r.xlsx")
    report.notes.extend(["the results went elsewhere", "the results went elsewhere"])
    runner = CliRunner()
    with runner.isolation() as (_out, err, _):
        _report(report, as_json=False)
        printed = err.getvalue().decode()
    assert printed.splitlines()[:2] == ["1 rows: 1 valid", "Note: the results went elsewhere"]
    assert printed.count("the results went elsewhere") == 1


def test_export_prints_its_notes_once_after_the_summary_line(emu: Any, tmp_path: Path) -> None:
    known = _editable(emu, 1)[0]
    out = tmp_path / "e.xlsx"
    result = invoke(
        "export", str(out), *_api(emu)[:4], "--ids", f"{known},O9999999", "--stage", "Prospect",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    summary = next(i for i, line in enumerate(lines) if "exported from catalog" in line)
    note = "Warning: 1 of the ids given did not match the other filters (or do not exist): "
    assert [line for line in lines if line.startswith(note)] == lines[summary + 1 : summary + 2]
    assert result.stderr.count("did not match the other filters") == 1


def _warned_sheet(tmp_path: Path) -> Path:
    """Two rows, each with one warning: a stage in the wrong case (sent in its proper spelling)."""
    rows = [{"Identifier": f"O10000{n}", "LifeCycle.Stage": "prospect"} for n in (1, 2)]
    return write_sheet(tmp_path / "w.csv", rows)


def test_json_counts_the_warnings_the_console_counts(tmp_path: Path) -> None:
    sheet = _warned_sheet(tmp_path)
    console = invoke("validate", str(sheet), "--out", str(tmp_path / "c.xlsx"))
    assert console.exit_code == 0, console.output
    assert "(2 warnings)" in console.stderr
    printed = invoke("validate", str(sheet), "--out", str(tmp_path / "j.xlsx"), "--json")
    assert json.loads(printed.stdout)["warnings"] == 2


def test_json_warnings_are_zero_without_warnings(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", [{"Identifier": "O1", "LifeCycle.NextSteps": "x"}])
    printed = invoke("validate", str(sheet), "--json")
    assert json.loads(printed.stdout)["warnings"] == 0
