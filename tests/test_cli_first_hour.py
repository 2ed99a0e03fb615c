"""A new user's first hour (issue 11): plain lines and exit 2, never a traceback.

Each test drives the real command line (click's CliRunner, or a subprocess
where a real port or process matters) and checks the exact line and status.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import write_sheet
from click.testing import CliRunner
from openpyxl import load_workbook

from bulk_update import cli


def invoke(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli.main, list(args), input=input)


@pytest.fixture
def closed_port() -> int:
    """A port on loopback that nobody listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


@pytest.fixture
def taken_port() -> Iterator[int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield int(s.getsockname()[1])
    s.close()


def _api_commands(tmp_path: Path, url: str) -> list[list[str]]:
    sheet = write_sheet(
        tmp_path / "s.csv", [{"Identifier": "O1000001", "LifeCycle.NextSteps": "x"}]
    )
    common = ["--catalog", "Sandbox", "--endpoint-url", url]
    return [
        ["export", str(tmp_path / "out.xlsx"), *common],
        ["export", str(tmp_path / "out.csv"), *common],
        ["apply", str(sheet), *common, "--run-dir", str(tmp_path / "runs")],
        ["apply", str(sheet), *common, "--dry-run", "--run-dir", str(tmp_path / "runs")],
        ["apply", "--resume", str(tmp_path / "runs"), *common],
        ["rollback", str(tmp_path / "runs"), *common],
        ["rollback", str(tmp_path / "runs"), *common, "--dry-run"],
    ]


def test_every_command_that_calls_the_api_stops_at_once_on_a_dead_endpoint(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    for args in _api_commands(tmp_path, url):
        started = time.monotonic()
        result = invoke(*args)
        took = time.monotonic() - started
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr == f"Error: cannot reach {url}: is `bulk-update emulator` running?\n"
        assert result.stdout == ""
        assert took < 5, (args, took)
        assert not (tmp_path / "out.xlsx").exists()


def test_a_dead_remote_endpoint_gets_a_network_hint_not_the_emulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    url = "http://partnercentral.invalid"
    result = invoke("export", str(tmp_path / "o.xlsx"), "--catalog", "AWS", "--endpoint-url", url)
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"Error: cannot reach {url}: check the network (or proxy) and --endpoint-url\n"
    )


def test_the_emulator_on_a_taken_port_suggests_another(taken_port: int) -> None:
    result = invoke("emulator", "--port", str(taken_port))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: port {taken_port} is already in use (another emulator?): stop it, "
        f"or choose another port with --port {taken_port + 1}\n"
    )


def test_the_emulator_refuses_a_seed_that_is_not_records(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"records": 3', "utf-8")
    result = invoke("emulator", "--port", "0", "--seed", str(seed))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: the emulator could not load its records: ")
    assert "Traceback" not in result.output


def _demo(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """``bulk-update demo ARGS`` run from ``folder``; it must exit 0."""
    monkeypatch.chdir(folder)
    result = invoke("demo", *args)
    assert result.exit_code == 0, result.output
    return result


def test_demo_runs_from_an_empty_folder_with_the_packaged_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _demo(tmp_path, monkeypatch, "--out-dir", "here", "--write-rate", "200")
    assert "19 rows: 17 updated, 1 unchanged, 1 locked" in result.stderr
    assert list((tmp_path / "here").glob("quarterly-cleanup-*/results.xlsx"))


def test_demo_keeps_its_old_option_names_as_aliases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo(tmp_path, monkeypatch, "--out", "old", "--rate", "200")
    assert list((tmp_path / "old").glob("quarterly-cleanup-*/results.xlsx"))


def test_template_refuses_a_name_that_is_not_xlsx(tmp_path: Path) -> None:
    result = invoke("template", str(tmp_path / "x.csv"))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: x.csv: a template is an Excel workbook (dropdowns, hints, a guide), "
        "so its name must end in .xlsx, e.g. x.xlsx\n"
    )
    assert not (tmp_path / "x.csv").exists()


def test_template_never_replaces_a_file_without_force(tmp_path: Path) -> None:
    target = tmp_path / "mine.xlsx"
    target.write_bytes(b"my edited sheet")
    result = invoke("template", str(target))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {target} already exists: choose another name, or pass --force to replace it\n"
    )
    assert target.read_bytes() == b"my edited sheet"
    result = invoke("template", str(target), "--force")
    assert result.exit_code == 0, result.output
    assert load_workbook(target).sheetnames[0] == "Opportunities"


def test_export_never_replaces_a_file_without_force(emulator: Any, tmp_path: Path) -> None:
    target = tmp_path / "pipeline.xlsx"
    target.write_bytes(b"my edited sheet")
    args = ["export", str(target), "--catalog", "Sandbox", "--endpoint-url", emulator.url]
    result = invoke(*args, "--ids", "O1000001")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {target} already exists: choose another name, or pass --force to replace it\n"
    )
    assert target.read_bytes() == b"my edited sheet"
    result = invoke(*args, "--ids", "O1000001", "--force")
    assert result.exit_code == 0, result.output
    assert load_workbook(target).sheetnames[0] == "Opportunities"


def test_a_csv_export_refuses_when_its_baseline_side_file_exists(
    emulator: Any, tmp_path: Path
) -> None:
    (tmp_path / "p.baseline.csv").write_text("kept", "utf-8")
    out = tmp_path / "p.csv"
    result = invoke("export", str(out), "--catalog", "Sandbox", "--endpoint-url", emulator.url)
    assert result.exit_code == 2
    assert "p.baseline.csv already exists" in result.stderr
    assert (tmp_path / "p.baseline.csv").read_text("utf-8") == "kept"
    assert not out.exists()


@pytest.mark.parametrize("spelling", ["sandbox", "SANDBOX", " Sandbox "])
def test_the_catalog_is_accepted_in_any_case_and_canonicalised(
    emulator: Any, tmp_path: Path, spelling: str
) -> None:
    out = tmp_path / "one.xlsx"
    result = invoke(
        "export",
        str(out),
        "--catalog",
        spelling,
        "--endpoint-url",
        emulator.url,
        "--ids",
        "O1000001",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert '"catalog": "Sandbox"' in result.stdout


def test_an_unknown_catalog_names_the_two_choices(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path / "x.csv"), "--catalog", "Prod")
    assert result.exit_code == 2
    assert "'Prod' is not a catalog: choose AWS or Sandbox" in result.stderr


def test_the_console_counts_warnings_after_the_outcomes(tmp_path: Path) -> None:
    # A StateOrRegion the documentation does not list is a warning, not an error.
    sheet = write_sheet(
        tmp_path / "w.csv",
        [
            {"Identifier": "O1000001", "Customer.Account.Address.StateOrRegion": "Nowhereland"},
            {"Identifier": "O1000002", "LifeCycle.Stage": "Closed Wonky"},
        ],
    )
    result = invoke("validate", str(sheet))
    assert result.exit_code == 1, result.output
    first = result.stderr.splitlines()[0]
    assert first == "2 rows: 1 valid, 1 invalid (1 warning)"


def test_the_built_in_seed_is_the_samples_records() -> None:
    import json

    from bulk_update.emulator.seeddata import generate

    samples = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"
    assert generate() == json.loads(samples.read_text("utf-8"))


def test_the_demo_sheet_ships_inside_the_package() -> None:
    from bulk_update.cli.app import _samples

    package = Path(cli.__file__).resolve().parent.parent
    shipped = _samples() / "quarterly-cleanup.xlsx"
    assert shipped.is_file()
    assert shipped.is_relative_to(package)  # inside bulk_update/, so a wheel carries it
    pyproject = (package.parent / "pyproject.toml").read_text("utf-8")
    assert '"data/samples/*.xlsx"' in pyproject
    assert load_workbook(shipped).active["A1"].value == "Identifier"


COMMANDS = ["validate", "apply", "rollback", "export", "template", "emulator", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_ends_with_one_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    last = result.stdout.rstrip().splitlines()[-1].strip()
    assert last.startswith(f"Example: bulk-update {command}"), last
    assert result.stdout.count("Example:") == 1


def test_the_filters_list_their_values_from_the_model() -> None:
    from bulk_update import fields

    members = fields.service_model().operation_model("ListOpportunities").input_shape.members
    text = " ".join(invoke("export", "--help").stdout.split())
    for member in ("LifeCycleStage", "LifeCycleReviewStatus"):
        values = members[member].member.enum
        assert values and ", ".join(values) in text, member
    assert "2026-05-01T20:37:46Z" in text
    task_help = " ".join(invoke("template", "--help").stdout.split())
    assert "close-stale|move-dates|fix-websites|expected-spend|full" in task_help


def test_the_emulator_options_say_they_are_the_servers_quota() -> None:
    text = " ".join(invoke("emulator", "--help").stdout.split())
    assert "--quota-writes FLOAT RANGE The server's write quota" in text
    assert "--quota-reads FLOAT RANGE The server's read quota" in text


def test_the_production_prompt_is_asked_on_a_cleared_line() -> None:
    from bulk_update.cli.app import _asking_over
    from bulk_update.problems import Outcome

    events: list[str] = []

    class Bar:
        def clear(self) -> None:
            events.append("clear")

    def confirm(counts: dict[Outcome, int]) -> bool:
        events.append("ask")
        return True

    asked = _asking_over(Bar(), confirm)  # type: ignore[arg-type]
    assert asked is not None and asked({Outcome.WOULD_UPDATE: 2}) is True
    assert events == ["clear", "ask"]
    assert _asking_over(Bar(), None) is None  # type: ignore[arg-type]


def test_the_emulator_keeps_its_old_quota_option_names_hidden(taken_port: int) -> None:
    assert "--write-rate" not in invoke("emulator", "--help").stdout
    result = invoke("emulator", "--port", str(taken_port), "--write-rate", "5", "--read-rate", "9")
    assert result.exit_code == 2
    assert "is already in use" in result.stderr  # the old names parsed; the port stopped it


def test_the_emulator_page_names_the_options_the_command_has() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "emulator.md").read_text("utf-8")
    help_text = invoke("emulator", "--help").stdout
    for option in ("--port", "--seed", "--data", "--quota-writes", "--quota-reads", "--fault-rate"):
        assert option in page and option in help_text, option


def test_template_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = invoke("template", str(tmp_path / "nope" / "t.xlsx"))
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path / 'nope'}: no such folder\n"


def test_a_listing_the_service_keeps_failing_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """Every call answers a server error: the export's ListOpportunities fails after
    its retries. One plain line naming the call, exit 2, no file written."""
    from conftest import FAST, SAMPLES

    from bulk_update.emulator import Emulator

    with Emulator(seed=SAMPLES, fault_rate=1.0, **FAST) as emu:
        out = tmp_path / "out.xlsx"
        result = invoke("export", str(out), "--catalog", "Sandbox", "--endpoint-url", emu.url)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith("Error: Partner Central: ListOpportunities failed after ")
    assert "try again" in line
    assert not out.exists()
