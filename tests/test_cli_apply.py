"""``bulk-update apply`` from the command line: exit codes, confirmation, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import write_sheet, writes
from click.testing import CliRunner
from conftest import FAST
from openpyxl import load_workbook

from bulk_update import cli


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli.main, list(args), input=input)


def pending(emu: Any, n: int) -> list[str]:
    return sorted(
        i
        for i, r in emu.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
    )[:n]


def test_apply_exits_0_when_every_row_ends_well(emu: Any, tmp_path: Path) -> None:
    ident = pending(emu, 1)[0]
    sheet = write_sheet(tmp_path / "s.csv", [{"Identifier": ident, "LifeCycle.NextSteps": "CLI"}])
    result = invoke(
        "apply",
        str(sheet),
        "--catalog",
        "Sandbox",
        "--endpoint-url",
        emu.url,
        "--run-dir",
        str(tmp_path / "runs"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["counts"]["updated"] == 1
    assert Path(summary["results_file"]).exists()


def test_apply_exits_1_when_a_row_does_not(emu: Any, tmp_path: Path) -> None:
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": "O9999999", "LifeCycle.NextSteps": "x"}]
    )
    result = invoke(
        "apply",
        str(sheet),
        "--catalog",
        "Sandbox",
        "--endpoint-url",
        emu.url,
        "--run-dir",
        str(tmp_path / "runs"),
    )
    assert result.exit_code == 1
    assert "1 not-found" in result.stderr


def test_apply_exits_2_on_an_unknown_column(emu: Any, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", [{"Identifier": "O1000001", "LifeCycle.Stagee": "x"}])
    result = invoke("apply", str(sheet), "--catalog", "Sandbox", "--endpoint-url", emu.url)
    assert result.exit_code == 2
    assert "LifeCycle.Stagee" in result.stderr and "did you mean" in result.stderr.lower()
    assert "Traceback" not in result.output
    assert emu.counters()["calls"] == {}


def test_catalog_has_no_default(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", [{"Identifier": "O1000001"}])
    result = invoke("apply", str(sheet))
    assert result.exit_code == 2
    assert "--catalog" in result.stderr


def test_production_without_a_terminal_is_refused(emu: Any, tmp_path: Path) -> None:
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": "O1000067", "LifeCycle.NextSteps": "x"}]
    )
    result = invoke("apply", str(sheet), "--catalog", "AWS", "--endpoint-url", emu.url)
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert emu.counters()["calls"] == {}


@pytest.mark.parametrize(("answer", "written"), [("n\n", 0), ("y\n", 1)])
def test_production_asks_before_writing(
    emu: Any, tmp_path: Path, monkeypatch: Any, answer: str, written: int
) -> None:
    monkeypatch.setattr("bulk_update.cli.app._stdin_is_terminal", lambda: True)
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": "O1000067", "LifeCycle.NextSteps": "Prod"}]
    )
    result = invoke(
        "apply",
        str(sheet),
        "--catalog",
        "AWS",
        "--endpoint-url",
        emu.url,
        "--run-dir",
        str(tmp_path / "runs"),
        input=answer,
    )
    assert "Apply 1 changes to production?" in result.stderr
    assert sum(writes(emu).values()) == written
    assert result.exit_code == (0 if written else 1)


def test_production_with_yes_does_not_ask(emu: Any, tmp_path: Path) -> None:
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": "O1000067", "LifeCycle.NextSteps": "Yes"}]
    )
    result = invoke(
        "apply",
        str(sheet),
        "--catalog",
        "AWS",
        "--endpoint-url",
        emu.url,
        "--yes",
        "--run-dir",
        str(tmp_path / "runs"),
    )
    assert result.exit_code == 0, result.output
    assert writes(emu) == {"AWS/O1000067": 1}


# -- killed and interrupted runs, in a real process --------------------------------


def _start(sheet: Path, url: str, runs: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bulk_update",
            "apply",
            str(sheet),
            "--catalog",
            "Sandbox",
            "--endpoint-url",
            url,
            "--run-dir",
            str(runs),
            "--write-rate",
            "10",
            "--read-rate",
            "100",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_writes(emu: Any, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(writes(emu).values()) < n:
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.02)


def _resume(runs: Path, url: str) -> subprocess.CompletedProcess[str]:
    (folder,) = list(runs.iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bulk_update",
            "apply",
            "--resume",
            str(folder),
            "--catalog",
            "Sandbox",
            "--endpoint-url",
            url,
            "--write-rate",
            "50",
            "--read-rate",
            "100",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_killed_mid_run_then_resumed_writes_every_row_exactly_once(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(latency=0.05, **FAST)
    ids = pending(emu, 20)
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": i, "LifeCycle.NextSteps": f"Kill {i}"} for i in ids]
    )
    runs = tmp_path / "runs"
    proc = _start(sheet, emu.url, runs)
    _wait_for_writes(emu, 6)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert 6 <= sum(writes(emu).values()) < 20
    done = _resume(runs, emu.url)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["counts"]["updated"] == 20
    per_id = writes(emu)
    assert set(per_id) == {f"Sandbox/{i}" for i in ids}
    assert set(per_id.values()) == {1}, per_id
    for i in ids:
        assert emu.record("Sandbox", i)["LifeCycle"]["NextSteps"] == f"Kill {i}"


def test_ctrl_c_finishes_writes_in_flight_and_writes_the_results(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(**FAST)
    ids = pending(emu, 20)
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": i, "LifeCycle.NextSteps": f"Int {i}"} for i in ids]
    )
    runs = tmp_path / "runs"
    proc = _start(sheet, emu.url, runs)
    _wait_for_writes(emu, 4)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "Resume with: bulk-update apply --resume" in err
    (folder,) = list(runs.iterdir())
    book = load_workbook(folder / "results.xlsx", read_only=True)
    got = [row[2] for row in book["Results"].iter_rows(min_row=2, values_only=True)]
    assert len(got) == 20 and set(got) == {"updated", "skipped"}
    assert got.count("updated") == sum(writes(emu).values())
    done = _resume(runs, emu.url)
    assert done.returncode == 0, done.stderr
    assert set(writes(emu).values()) == {1} and len(writes(emu)) == 20


def test_sensitive_values_stay_out_of_the_output(emu: Any, tmp_path: Path) -> None:
    ident = pending(emu, 1)[0]
    secret_company = "Zyxwv Secret Holdings"
    secret_email = "NOT-LOWER@Example.com"
    sheet = write_sheet(
        tmp_path / "s.csv",
        [
            {"Identifier": ident, "Customer.Account.CompanyName": secret_company},
            {"Identifier": pending(emu, 2)[1], "Customer.Contacts[1].Email": secret_email},
        ],
    )
    for extra in ([], ["--json"]):
        result = invoke(
            "apply",
            str(sheet),
            "--catalog",
            "Sandbox",
            "--endpoint-url",
            emu.url,
            "--run-dir",
            str(tmp_path / "runs"),
            *extra,
        )
        assert result.exit_code == 1, result.output
        assert secret_company not in result.output and secret_email not in result.output
    # the workbook the user asked for does hold them
    (folder, *_) = sorted((tmp_path / "runs").iterdir())
    cells = [
        c
        for row in load_workbook(folder / "results.xlsx")["Results"].iter_rows(values_only=True)
        for c in row
    ]
    assert secret_company in " ".join(str(c) for c in cells)


def test_no_credentials_for_aws_is_exit_2_before_any_call(tmp_path: Path, monkeypatch: Any) -> None:
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv(
        "AWS_EC2_METADATA_DISABLED", "true"
    )  # never ask the instance metadata service
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": "O1000001", "LifeCycle.NextSteps": "x"}]
    )
    result = invoke("apply", str(sheet), "--catalog", "Sandbox", "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no AWS credentials found")
    assert "Traceback" not in result.output


def test_ctrl_c_once_stops_the_queued_writes_at_once(fresh_emulator: Any, tmp_path: Path) -> None:
    emu = fresh_emulator(**FAST)
    ids = pending(emu, 20)
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": i, "LifeCycle.NextSteps": f"Once {i}"} for i in ids]
    )
    proc = _start(sheet, emu.url, tmp_path / "runs", "--write-rate", "2")
    _wait_for_writes(emu, 2)
    at_signal = sum(writes(emu).values())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    # 8 workers were waiting for a write: only the writes let through the gate (2) may follow
    assert sum(writes(emu).values()) - at_signal <= 2


def test_ctrl_c_twice_still_writes_the_results_and_the_resume_hint(
    fresh_emulator: Any, tmp_path: Path
) -> None:
    emu = fresh_emulator(latency=1.0, **FAST)  # every answer takes a second: writes on the wire
    ids = pending(emu, 10)
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": i, "LifeCycle.NextSteps": f"Twice {i}"} for i in ids]
    )
    runs = tmp_path / "runs"
    proc = _start(sheet, emu.url, runs, "--write-rate", "50")
    _wait_for_writes(emu, 1)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "Aborted" not in err
    assert "Resume with: bulk-update apply --resume" in err
    (folder,) = list(runs.iterdir())
    assert (folder / "results.xlsx").is_file()
    emu.set_faults(latency=0.0)
    done = _resume(runs, emu.url)
    assert done.returncode == 0, done.stderr
    assert set(writes(emu).values()) == {1} and len(writes(emu)) == 10


def test_resuming_a_finished_run_says_so_and_changes_nothing(emu: Any, tmp_path: Path) -> None:
    ids = pending(emu, 2)
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": i, "LifeCycle.NextSteps": f"Done {i}"} for i in ids]
    )
    runs = tmp_path / "runs"
    first = invoke("apply", str(sheet), "--catalog", "Sandbox", "--endpoint-url", emu.url,
                   "--run-dir", str(runs))  # fmt: skip
    assert first.exit_code == 0, first.output
    (folder,) = list(runs.iterdir())
    stamp = (folder / "results.xlsx").stat().st_mtime_ns
    again = invoke(
        "apply", "--resume", str(runs), "--catalog", "Sandbox", "--endpoint-url", emu.url
    )
    assert again.exit_code == 2
    assert "is a finished run" in again.stderr and "nothing to resume" in again.stderr
    assert "Traceback" not in again.output
    assert (folder / "results.xlsx").stat().st_mtime_ns == stamp
    assert sum(writes(emu).values()) == 2
