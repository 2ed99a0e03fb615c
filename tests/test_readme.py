"""The README and docs/ say what the tool does: each claim has a test.

The walkthrough in the README is run again here, step by step, against
``bulk-update emulator`` started on a free port: each command's printed output
must equal the README's once the parts that change from run to run are masked
(the run folders' UTC times, the temp folder, the port). So a change of
behaviour that the README does not follow fails here.

``CLAIMS`` lists each statement the README (and the pages it links to) makes
about behaviour, with the test that checks it; a test below checks that each
named test exists, so the list cannot go stale.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from bulk_update.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
TESTS = Path(__file__).resolve().parent

# The reference pages the README must link (each is checked to exist).
PAGES_BY_OTHERS = {
    "run-folder.md",
    "reliability.md",
    "safety.md",
    "problem-codes.md",
    "emulator.md",
}

# (what the README or a docs page says, the test that checks it)
CLAIMS: list[tuple[str, str]] = [
    (
        "the walkthrough's export, validate, dry run, apply and rollback print what the README shows",
        "test_readme.py::test_the_walkthrough_prints_what_the_readme_shows",
    ),
    (
        "the dry run's Changes column lists the changes the README shows",
        "test_readme.py::test_the_walkthrough_prints_what_the_readme_shows",
    ),
    (
        "rows of an export left as exported end `unchanged`; editing six cells of three rows changes three",
        "test_readme.py::test_the_walkthrough_prints_what_the_readme_shows",
    ),
    (
        "the export's sheet is protected and does not let you delete rows",
        "test_readme.py::test_the_walkthrough_prints_what_the_readme_shows",
    ),
    (
        "`bulk-update emulator` prints its URL and the records it holds (66 Sandbox, 6 AWS)",
        "test_readme.py::test_the_walkthrough_prints_what_the_readme_shows",
    ),
    (
        "each walkthrough command exits 0",
        "test_readme.py::test_the_walkthrough_prints_what_the_readme_shows",
    ),
    (
        "`bulk-update demo`: 17 updated, 1 unchanged, 1 locked",
        "test_readme.py::test_demo_ends_as_the_readme_says",
    ),
    (
        "the example sheet's rows are on opportunities whose review status allows the edit",
        "test_readme.py::test_the_example_rows_would_update_against_the_samples",
    ),
    (
        "the templates table: which templates ship, which have LastModifiedDate",
        "test_readme.py::test_the_template_table_matches_the_shipped_templates",
    ),
    (
        "the documented `--json` keys are the keys `--json` prints",
        "test_readme.py::test_the_documented_json_keys_are_the_printed_ones",
    ),
    (
        "`warnings` in the `--json` summary is the number of warnings the console counts",
        "test_cli_notes.py::test_json_counts_the_warnings_the_console_counts",
    ),
    (
        "a note on what the run chose by itself follows the counts line, once",
        "test_cli_notes.py::test_resume_prints_which_run_it_took_once_after_the_summary_line",
    ),
    (
        "the commands table lists every command, and only commands that exist",
        "test_readme.py::test_the_commands_table_lists_exactly_the_commands",
    ),
    (
        "every command has help and is in the README",
        "test_cli_validate.py::test_every_command_has_help_and_is_in_the_readme",
    ),
    (
        "the package table names every subpackage, and each name exists",
        "test_readme.py::test_the_package_table_matches_the_tree",
    ),
    (
        "no page points outside the repository; every link resolves",
        "test_readme.py::test_no_link_leaves_the_repository_and_every_link_resolves",
    ),
    (
        "mistakes row 5 passes validate but ends `locked` in the dry run",
        "test_readme.py::test_the_mistakes_sheets_row_5_ends_locked_in_the_dry_run",
    ),
    (
        "mistakes sheet: 6 invalid rows, 1 valid",
        "test_template_samples.py::test_mistakes_sheet_shows_each_kind_of_mistake",
    ),
    (
        "header matching ignores case and surrounding spaces",
        "test_columns.py::test_case_and_surrounding_spaces_ignored",
    ),
    (
        'an unknown header stops the run with a "did you mean"',
        "test_columns.py::test_unknown_column_did_you_mean_exact_text",
    ),
    (
        "`Id` also works for `Identifier`; AWS sample exporter sheets are read as they are",
        "test_columns.py::test_aws_sample_exporter_header_row",
    ),
    (
        "apply exits 0 when every row ends well, 1 when one does not, 2 when it cannot start",
        "test_cli_apply.py::test_apply_exits_1_when_a_row_does_not",
    ),
    ("an unknown column is exit 2", "test_cli_apply.py::test_apply_exits_2_on_an_unknown_column"),
    ("`--catalog` has no default", "test_cli_apply.py::test_catalog_has_no_default"),
    (
        "on AWS without a terminal and without --yes, apply refuses (exit 2)",
        "test_cli_apply.py::test_production_without_a_terminal_is_refused",
    ),
    (
        "on AWS, apply shows the plan and asks before writing",
        "test_cli_apply.py::test_production_asks_before_writing",
    ),
    (
        "an untouched export sends nothing, even after sellers changed the records",
        "test_export.py::test_untouched_export_stays_unchanged_after_sellers_edit",
    ),
    (
        "a field changed on both sides ends `conflict` with the three values",
        "test_three_way.py::test_a_field_changed_on_both_sides_is_a_conflict_naming_three_values",
    ),
    (
        "a row missing from the baseline falls back to two-way with a warning",
        "test_three_way.py::test_a_row_missing_from_the_baseline_falls_back_to_two_way_with_a_warning",
    ),
    (
        "rollback refuses where a seller changed the record since the run",
        "test_rollback.py::test_rollback_refuses_where_a_seller_changed_the_record_after_the_run",
    ),
    (
        "running rollback again finishes an interrupted rollback",
        "test_rollback.py::test_an_interrupted_rollback_finishes_when_run_again",
    ),
    (
        "resume after a kill writes every row exactly once",
        "test_cli_apply.py::test_killed_mid_run_then_resumed_writes_every_row_exactly_once",
    ),
    (
        "lost leading zeros: three rows invalid, one warning",
        "test_samples.py::test_lost_leading_zeros_are_caught_and_explained",
    ),
    (
        "the shipped templates are what the generator writes today",
        "test_template.py::test_shipped_templates_are_up_to_date",
    ),
    (
        "every text is written as text, never a formula",
        "test_cli_validate.py::test_formula_like_text_comes_back_as_text",
    ),
    # docs/sheet-format.md
    (
        "CSV: UTF-8 with or without a BOM; the delimiter from the header line; `sep=;` honoured",
        "test_readers.py::test_csv_excel_sep_line",
    ),
    (
        "CSV delimiter taken from the header line",
        "test_readers.py::test_csv_delimiter_from_the_header_line",
    ),
    ("`03/04/2026` is invalid, never guessed", "test_checks.py::test_ambiguous_date_is_invalid"),
    (
        "a LastModifiedDate without a zone is invalid",
        "test_checks.py::test_last_modified_needs_a_zone",
    ),
    (
        "the same Identifier on two rows: both invalid",
        "test_checks.py::test_identifier_pattern_missing_and_duplicates",
    ),
    (
        "a Catalog column must equal the run's --catalog",
        "test_checks.py::test_catalog_column_must_match_the_run",
    ),
    (
        "`#CLEAR` on a required field is invalid unless the whole item is cleared",
        "test_checks.py::test_required_field_cannot_be_cleared_unless_its_whole_structure_is",
    ),
    (
        "another case is sent in its proper spelling, with a warning",
        "test_checks.py::test_valid_row_becomes_edits_with_canonical_spelling_and_a_note",
    ),
    (
        "a number cell never reads as 1.2E10 or .0",
        "test_readers.py::test_number_text_never_has_exponent_or_point_zero",
    ),
    (
        "a formula cell is read as its last calculated value",
        "test_readers.py::test_xlsx_formulas_read_as_cached_values",
    ),
    (
        "a contact disappears when all its cells are cleared",
        "test_merge.py::test_clearing_every_field_of_a_contact_removes_it",
    ),
    # docs/outcomes.md
    (
        "the outcomes table lists every outcome",
        "test_readme.py::test_the_outcomes_page_lists_every_outcome",
    ),
    (
        "every outcome is reached by a real case",
        "test_apply.py::test_every_outcome_is_reached_by_a_real_case",
    ),
    (
        "the results workbook's sheets and Errors columns are as documented",
        "test_readme.py::test_the_results_workbook_is_as_documented",
    ),
    (
        "Action Required allows only its open fields; Approved locks a few",
        "test_locks.py::test_action_required_allows_only_its_open_fields",
    ),
    # docs/scheduled-runs.md, docs/how-it-works.md
    (
        "--max-writes stops and skips the rest",
        "test_apply.py::test_max_writes_stops_and_skips_the_rest",
    ),
    (
        "the daily quota stops the run and says when the rest fits",
        "test_apply.py::test_the_daily_quota_stops_the_run_and_says_when_the_rest_fits",
    ),
    (
        "the ledger is kept per profile, endpoint and catalog",
        "test_ledger.py::test_account_keys_separate_catalogs_and_endpoints",
    ),
    ("--no-verify reads nothing back", "test_verify.py::test_no_verify_reads_nothing_back"),
    (
        "a record with fields the model lacks ends upgrade-needed, never written",
        "test_model_drift.py::test_apply_refuses_a_record_with_unknown_members_and_the_control_row_is_updated",
    ),
]


# ----------------------------------------------------------------- reading the pages


def _text(path: Path = README) -> str:
    return path.read_text(encoding="utf-8")


def _between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i : text.index(end, i)]


def _table_after(text: str, marker: str) -> list[dict[str, str]]:
    """The markdown table that follows ``marker``, as one dict per row."""
    lines = text[text.index(marker) + len(marker) :].lstrip("\n").splitlines()
    rows: list[list[str]] = []
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        rows.append([c.replace("\\|", "|") for c in cells])
    header, _rule, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


def _console_steps(text: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of the console blocks, with the lines it printed."""
    steps: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    return steps


def _unquote(cell: str) -> str:
    return cell.strip("`")


# ------------------------------------------------------------------------ helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def emulator_process() -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``bulk-update emulator`` itself, on a free port, stopped with Ctrl-C at the end."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulk_update.cli", "emulator", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield port, proc
    finally:
        proc.send_signal(2)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _mask(lines: list[str], folder: Path) -> list[str]:
    out = []
    for line in lines:
        for prefix in {str(folder.resolve()), str(folder)}:
            line = line.replace(prefix, "/tmp/walkthrough")
        line = re.sub(r"\d{8}T\d{6}Z", "<time>", line)
        line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:4566", line)
        out.append(line.rstrip())
    return [line for line in out if line]


def _apply_edits(sheet: Path, edits: list[dict[str, str]]) -> None:
    """What the README asks the reader to do in Excel, done with openpyxl."""
    book = openpyxl.load_workbook(sheet)
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    row_of = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value}
    for edit in edits:
        ws.cell(row_of[edit["Identifier"]], header.index(edit["column"]) + 1).value = edit[
            "new value"
        ]
    book.save(sheet)


def _changes(workbook: Path) -> list[dict[str, str]]:
    """The Results sheet's changes, one line per change, as the README's table has them."""
    ws = openpyxl.load_workbook(workbook, read_only=True)["Results"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    out = []
    for row in rows[1:]:
        rec = dict(zip(header, row, strict=False))
        for change in str(rec["Changes"] or "").splitlines():
            out.append(
                {
                    "Row": str(rec["Row"]),
                    "Identifier": str(rec["Identifier"]),
                    "Outcome": str(rec["Outcome"]),
                    "Changes": change,
                }
            )
    return out


def _invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env)


def _dry_run(sheet: Path, url: str, out: Path, env: dict[str, str]) -> Result:
    """``apply SHEET --dry-run`` on the Sandbox catalog of ``url``, results in ``out``."""
    api = ["--catalog", "Sandbox", "--endpoint-url", url]
    return _invoke(["apply", str(sheet), *api, "--dry-run", "--out", str(out)], env)


# -------------------------------------------------------------------- the walkthrough


def test_the_walkthrough_prints_what_the_readme_shows(
    emulator_process: tuple[int, subprocess.Popen[str]], tmp_path: Path, monkeypatch: Any
) -> None:
    port, proc = emulator_process
    walk = _between(_text(), "<!-- walkthrough:start -->", "<!-- walkthrough:end -->")
    edits = _table_after(walk, "<!-- walkthrough:edits -->")
    expected_changes = _table_after(walk, "<!-- walkthrough:changes -->")
    steps = _console_steps(walk)
    assert [s[0].split()[:2] for s in steps if s[0].startswith("bulk-update")] == [
        ["bulk-update", "emulator"],
        ["bulk-update", "export"],
        ["bulk-update", "validate"],
        ["bulk-update", "apply"],
        ["bulk-update", "apply"],
        ["bulk-update", "rollback"],
        ["bulk-update", "rollback"],
    ], "the walkthrough's steps changed: update this test with the README"
    env = {"BULK_UPDATE_HOME": str(tmp_path / "home")}
    monkeypatch.chdir(tmp_path)
    here = tmp_path
    ran = 0
    for command, expected in steps:
        if command == "bulk-update emulator":
            assert proc.stdout is not None
            printed = [proc.stdout.readline() for _ in expected]
            assert _mask(printed, here) == _mask(expected, here), "the emulator's banner"
            continue
        if match := re.fullmatch(r"mkdir (\S+) && cd \1", command):
            here = tmp_path / match.group(1)
            here.mkdir()
            monkeypatch.chdir(here)
            continue
        if match := re.fullmatch(r"export (\w+)=(\S+)", command):
            env[match.group(1)] = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{port}", match.group(2))
            continue
        args = shlex.split(command)
        assert args[0] == "bulk-update", command
        runs = sorted((here / "runs").glob("pipeline-*")) if (here / "runs").exists() else []
        args = [
            re.sub(r"^runs/pipeline-\d{8}T\d{6}Z$", f"runs/{runs[-1].name}", a) if runs else a
            for a in args[1:]
        ]
        result = _invoke(args, env)
        assert result.exit_code == 0, (command, result.output)
        assert _mask(result.output.splitlines(), here) == _mask(expected, here), command
        ran += 1
        if args[0] == "export":
            sheet = here / args[1]
            protection = openpyxl.load_workbook(sheet).worksheets[0].protection
            assert protection.sheet and protection.deleteRows, "rows of an export cannot be deleted"
            _apply_edits(sheet, edits)
        if args[:1] == ["apply"] and "--dry-run" in args:
            assert _changes(here / "pipeline.dry-run.xlsx") == expected_changes
    assert ran == 6


def test_demo_ends_as_the_readme_says(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    result = _invoke(["demo"], {"BULK_UPDATE_HOME": str(tmp_path / "home")})
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if re.match(r"\d+ rows: ", x))
    counts = line.split(": ", 1)[1]
    text = _text()
    setup = _between(text, "## Set-up: two commands", "## A ten-minute walkthrough")
    samples = _between(text, "## The samples", "## Performance")
    assert counts in " ".join(setup.split()), counts
    assert f"The whole job on the local stand-in: {counts}" in samples
    assert "demo-run" in result.output and "results.xlsx" in result.output


# --------------------------------------------------------------- what the README shows


def test_the_example_rows_would_update_against_the_samples(emulator: Any, tmp_path: Path) -> None:
    rows = _table_after(_text(), "<!-- example:sheet -->")
    assert rows
    sheet = tmp_path / "example.csv"
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "example.dry-run.xlsx"
    result = _dry_run(sheet, emulator.url, out, {"BULK_UPDATE_HOME": str(tmp_path / "home")})
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out, read_only=True)["Results"]
    outcomes = [r[2] for r in list(ws.iter_rows(values_only=True))[1:]]
    assert outcomes == ["would-update"] * len(rows)


def test_the_template_table_matches_the_shipped_templates() -> None:
    table = _table_after(_text(), "<!-- templates:table -->")
    documented = {_unquote(r["file"]): r["LastModifiedDate"] == "yes" for r in table}
    shipped = {}
    for path in sorted((ROOT / "templates").glob("*.xlsx")):
        ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
        header = next(ws.iter_rows(values_only=True, max_row=1))
        shipped[path.name] = "LastModifiedDate" in header
    assert documented == shipped
    assert "and the full one has `LastModifiedDate`" not in _text()


def _documented_keys(table: list[dict[str, str]]) -> set[str]:
    return {k.strip() for row in table for k in re.findall(r"`([^`]+)`", row["key"])}


def _json(result: Result) -> dict[str, Any]:
    assert result.exit_code in (0, 1), result.output
    return dict(json.loads(result.stdout))


def test_the_documented_json_keys_are_the_printed_ones(emulator: Any, tmp_path: Path) -> None:
    page = _text(DOCS / "scheduled-runs.md")
    summary_keys = _documented_keys(_table_after(page, "print these keys:"))
    export_keys = _documented_keys(_table_after(page, "`export --json` prints:"))
    env = {"BULK_UPDATE_HOME": str(tmp_path / "home")}
    api = ["--catalog", "Sandbox", "--endpoint-url", emulator.url]
    sheet = tmp_path / "s.csv"
    # O1000013 may change (Pending Submission); O1000002 is Submitted: locked, so a retry file.
    sheet.write_text(
        "Identifier,LifeCycle.NextSteps\nO1000013,Call the CFO\nO1000002,Call the CTO\n",
        encoding="utf-8",
    )
    printed = [
        _json(_invoke(["validate", str(sheet), "--json"], env)),
        _json(_invoke(["apply", str(sheet), *api, "--dry-run", "--json"], env)),
        _json(
            _invoke(
                [
                    "apply",
                    str(sheet),
                    *api,
                    "--json",
                    "--run-dir",
                    str(tmp_path / "runs"),
                    "--write-rate",
                    "100",
                ],
                env,
            )
        ),
    ]
    run = printed[-1]["run_dir"]
    printed.append(_json(_invoke(["rollback", run, *api, "--json", "--write-rate", "100"], env)))
    for data in printed:
        assert set(data) <= summary_keys, (data["command"], set(data) - summary_keys)
    assert set().union(*printed) == summary_keys
    commands = next(r for r in _table_after(page, "print these keys:") if r["key"] == "`command`")
    assert {d["command"] for d in printed} <= set(
        re.findall(r"`([^`]+)`", commands["what it holds"])
    )
    assert printed[2]["retry_file"] and printed[3]["counts"]["updated"] == 1
    exported = _json(
        _invoke(["export", str(tmp_path / "e.xlsx"), *api, "--ids", "O1000013", "--json"], env)
    )
    assert set(exported) == export_keys


def test_the_commands_table_lists_exactly_the_commands() -> None:
    commands = _between(_text(), "## The commands", "## The sheet in one minute")
    table = _table_after(commands, "## The commands\n")
    named = {_unquote(r["command"]).split()[1] for r in table}
    assert named == set(main.commands)


def test_the_package_table_matches_the_tree() -> None:
    table = _table_after(_text(), "<!-- packages:list -->")
    named = {n.strip("`/ ") for r in table for n in r["package or module"].split(",")}
    package = ROOT / "bulk_update"
    for name in named:
        assert (package / name).is_dir() or (package / f"{name}.py").is_file(), name
    subpackages = {p.parent.name for p in package.glob("*/__init__.py")}
    assert subpackages <= named, subpackages - named


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def test_no_link_leaves_the_repository_and_every_link_resolves() -> None:
    for page in _pages():
        text = _text(page)
        assert "../shared" not in text and "sheet-contract" not in text, page.name
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"https?://", target):
                continue
            path_part, _, anchor = target.partition("#")
            path = (page.parent / path_part).resolve() if path_part else page
            assert ROOT in path.parents or path == ROOT, (page.name, target)
            assert path.exists(), (page.name, target)
            if anchor and path.suffix == ".md":
                slugs = {_slug(h) for h in re.findall(r"^#+ (.+)$", _text(path), flags=re.M)}
                assert anchor in slugs, (page.name, target)


def test_the_readme_links_the_pages_others_write() -> None:
    text = _text()
    for name in PAGES_BY_OTHERS:
        assert f"(docs/{name})" in text, name


def test_the_mistakes_sheets_row_5_ends_locked_in_the_dry_run(
    emulator: Any, tmp_path: Path
) -> None:
    sheet = ROOT / "samples" / "typical-mistakes.csv"
    env = {"BULK_UPDATE_HOME": str(tmp_path / "home")}
    checked = _invoke(["validate", str(sheet), "--out", str(tmp_path / "v.xlsx")], env)
    assert checked.exit_code == 1
    out = tmp_path / "d.xlsx"
    result = _dry_run(sheet, emulator.url, out, env)
    assert result.exit_code == 1, result.output
    by_row = {
        r[0]: r[2]
        for r in list(
            openpyxl.load_workbook(out, read_only=True)["Results"].iter_rows(values_only=True)
        )[1:]
    }
    valid = {
        r[0]: r[2]
        for r in list(
            openpyxl.load_workbook(tmp_path / "v.xlsx", read_only=True)["Results"].iter_rows(
                values_only=True
            )
        )[1:]
    }
    assert (valid[5], by_row[5]) == ("valid", "locked")


def test_every_claim_names_a_test_that_exists() -> None:
    for claim, test in CLAIMS:
        file, _, name = test.partition("::")
        source = (TESTS / file).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(name)}\(", source, flags=re.M), (claim, test)


def test_the_outcomes_page_lists_every_outcome() -> None:
    from bulk_update.problems import Outcome

    table = _table_after(_text(DOCS / "outcomes.md"), "## Outcomes\n")
    assert [_unquote(r["outcome"]) for r in table] == [o.value for o in Outcome]


def test_the_results_workbook_is_as_documented(tmp_path: Path) -> None:
    page = _text(DOCS / "outcomes.md")
    errors_line = " ".join(_between(page, "- **Errors**", "- **Summary**").split())
    documented = re.findall(r"`([^`]+)`", errors_line.split(". An error")[0])
    sheet = tmp_path / "s.csv"
    sheet.write_text("Identifier,LifeCycle.Stage\nO1,Prospekt\n", encoding="utf-8")
    out = tmp_path / "r.xlsx"
    assert _invoke(["validate", str(sheet), "--out", str(out)], {}).exit_code == 1
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["Results", "Errors", "Summary"]
    assert list(next(book["Errors"].iter_rows(values_only=True))) == documented
    results_header = list(next(book["Results"].iter_rows(values_only=True)))
    assert results_header[:5] == ["Row", "Identifier", "Outcome", "Message", "Changes"]
