"""The owner, related-entity and submission columns (issue 16), checked offline.

Each call cell gets its model Field's own checks; these tests pin the rules
across a row's call cells (bulk_update/sheet/callrules.py), the joining of a
list spread over indexed columns, and the header help.  The expected columns
come from the model (calls.assignee_fields(), submit_fields(), ENTITY_LIMITS),
never from a list kept here.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from apply_helpers import apply_rows, make_pc
from click.testing import CliRunner
from conftest import FAST
from excel_formula import Formula
from openpyxl import load_workbook

from bulk_update import calls
from bulk_update import fields as catalog
from bulk_update.cli import main
from bulk_update.errors import ColumnError
from bulk_update.export.columns import sheet_columns
from bulk_update.export.filters import ExportFilters
from bulk_update.export.job import export_opportunities
from bulk_update.export.sinks import CsvSink
from bulk_update.payload import CLEAR, RowEdit, record_to_row
from bulk_update.problems import Severity
from bulk_update.run import enumcheck
from bulk_update.run.validate import Loaded, load
from bulk_update.sheet import columns, rules
from bulk_update.sheet.baseline import changed_calls, row_baselines

TODAY = dt.date(2026, 5, 1)
CAT = catalog.load()
OWNER = {
    "Assignee.Email": "priya.natarajan@partner.example.com",
    "Assignee.FirstName": "Priya",
    "Assignee.LastName": "Natarajan",
    "Assignee.BusinessTitle": "PartnerSalesManager",
    "Assignee.Phone": "+12065550100",
}
REQUIRED_OWNER = [f.key for f in calls.assignee_fields() if f.required]
SOLUTIONS = "RelatedEntityIdentifiers.Solutions"
PRODUCTS = "RelatedEntityIdentifiers.AwsProducts"
INVOLVEMENT = "Submit.InvolvementType"
VISIBILITY = "Submit.Visibility"


def write(path: Path, rows: list[dict[str, str]], headers: list[str] | None = None) -> Path:
    """A CSV with ``headers`` (default: Identifier then the rows' columns); ids O1, O2..."""
    columns = headers or list(dict.fromkeys(["Identifier", *(h for r in rows for h in r)]))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, columns)
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({"Identifier": f"O{i + 1}", **r})
    return path


def checked(tmp_path: Path, rows: list[dict[str, str]], headers: list[str] | None = None) -> Loaded:
    return load(write(tmp_path / "s.csv", rows, headers), sheet=None, run_catalog=None, today=TODAY)


def found(loaded: Loaded, severity: Severity = Severity.ERROR) -> set[tuple[int, str, str]]:
    """(Excel row, column, code) of every problem of that severity."""
    return {
        (int(p.row or 0), str(p.column), p.code)
        for p in loaded.report.problems
        if p.severity is severity
    }


def message(loaded: Loaded, row: int, column: str) -> str:
    return next(p.message for p in loaded.report.problems if (p.row, p.column) == (row, column))


# -- the owner ---------------------------------------------------------------------


def test_the_model_marks_members_of_the_assignee_required() -> None:
    """The premise of the next tests: AssignOpportunity's Assignee has required members."""
    assert "Assignee.Email" in REQUIRED_OWNER and len(REQUIRED_OWNER) > 1
    assert any(not f.required for f in calls.assignee_fields())


def test_a_new_owner_needs_every_member_the_model_requires(tmp_path: Path) -> None:
    headers = ["Identifier", *OWNER]
    loaded = checked(
        tmp_path,
        [OWNER, {"Assignee.Email": OWNER["Assignee.Email"]}, {"Assignee.Phone": "+12065550100"}],
        headers,
    )
    missing_for_email = {(3, k, "required") for k in REQUIRED_OWNER if k != "Assignee.Email"}
    missing_for_phone = {(4, k, "required") for k in REQUIRED_OWNER}
    assert found(loaded) == missing_for_email | missing_for_phone
    assert loaded.report.edits[0] is not None
    assert loaded.report.edits[0].calls == OWNER
    text = message(loaded, 3, "Assignee.FirstName")
    assert text.startswith("Assignee.FirstName is needed with the row's other Assignee cells")
    assert "or empty every Assignee cell of this row" in text
    assert OWNER["Assignee.Email"] not in text  # an owner's details are never quoted


def test_an_owner_member_without_its_column_is_named_on_the_filled_cell(tmp_path: Path) -> None:
    loaded = checked(tmp_path, [{"Assignee.Email": OWNER["Assignee.Email"]}])
    assert found(loaded) == {(2, "Assignee.Email", "required")}
    text = message(loaded, 2, "Assignee.Email")
    for key in REQUIRED_OWNER:
        assert key in text
    assert "this sheet has no" in text and "columns: add them and fill them in" in text


@pytest.mark.parametrize(
    ("column", "code"),
    [(f.key, "owner-cleared") for f in calls.assignee_fields()]
    + [(f.key, "submit-cleared") for f in calls.submit_fields()],
)
def test_clear_is_no_value_for_an_owner_or_submission_cell(
    tmp_path: Path, column: str, code: str
) -> None:
    rows = [{column: "#clear"}]
    loaded = checked(tmp_path, rows)
    assert found(loaded) == {(2, column, code)}
    assert message(loaded, 2, column).startswith(f"#CLEAR is not a value for {column}: ")


def test_clearing_the_owner_beside_a_full_owner_names_only_the_cleared_cell(
    tmp_path: Path,
) -> None:
    loaded = checked(tmp_path, [{**OWNER, "Assignee.Phone": "#CLEAR"}])
    assert found(loaded) == {(2, "Assignee.Phone", "owner-cleared")}
    assert "cannot be emptied" in message(loaded, 2, "Assignee.Phone")


# -- the submission ----------------------------------------------------------------


def test_the_model_requires_the_involvement_type_of_a_submission() -> None:
    required = {f.key: f.required for f in calls.submit_fields()}
    assert required == {INVOLVEMENT: True, VISIBILITY: False}


def test_visibility_without_an_involvement_type_is_an_error(tmp_path: Path) -> None:
    loaded = checked(
        tmp_path,
        [{VISIBILITY: "Full"}, {INVOLVEMENT: "co-sell"}, {INVOLVEMENT: "Co-Sell", VISIBILITY: "Limited"}],
        ["Identifier", INVOLVEMENT, VISIBILITY],
    )  # fmt: skip
    assert found(loaded) == {(2, INVOLVEMENT, "required")}
    text = message(loaded, 2, INVOLVEMENT)
    assert "SubmitOpportunity needs Submit.InvolvementType" in text
    for value in calls.by_column()[INVOLVEMENT].enum:
        assert value in text
    assert [e.calls if e else None for e in loaded.report.edits[1:]] == [
        {INVOLVEMENT: "Co-Sell"},
        {INVOLVEMENT: "Co-Sell", VISIBILITY: "Limited"},
    ]


def test_visibility_in_a_sheet_without_the_involvement_column(tmp_path: Path) -> None:
    loaded = checked(tmp_path, [{VISIBILITY: "Full"}])
    assert found(loaded) == {(2, VISIBILITY, "required")}
    assert f"this sheet has no {INVOLVEMENT} column" in message(loaded, 2, VISIBILITY)


def test_a_submission_value_outside_the_enum_is_refused(tmp_path: Path) -> None:
    loaded = checked(tmp_path, [{INVOLVEMENT: "Co Sell Please"}])
    assert found(loaded) == {(2, INVOLVEMENT, "not-allowed")}


# -- related entities ----------------------------------------------------------------


def test_clear_asks_for_no_related_entity(tmp_path: Path) -> None:
    loaded = checked(tmp_path, [{PRODUCTS: "#CLEAR", SOLUTIONS: "#clear"}])
    assert found(loaded) == set()
    edit = loaded.report.edits[0]
    assert edit is not None and edit.calls == {PRODUCTS: CLEAR, SOLUTIONS: CLEAR}


@pytest.mark.parametrize(("column", "item"), [(SOLUTIONS, "S-{}"), (PRODUCTS, "product-{}")])
def test_more_identifiers_than_a_kind_takes_is_an_error_offline(
    tmp_path: Path, column: str, item: str
) -> None:
    limit = calls.ENTITY_LIMITS[column.rsplit(".", 1)[1]]
    at_limit = ";".join(item.format(n) for n in range(1, limit + 1))
    over = ";".join(item.format(n) for n in range(1, limit + 2))
    loaded = checked(tmp_path, [{column: at_limit}, {column: over}])
    assert found(loaded) == {(3, column, "too-many-entities")}
    assert f"{limit + 1} " in message(loaded, 3, column)
    assert f"at most {limit}" in message(loaded, 3, column)
    assert loaded.report.edits[0] is not None and loaded.report.edits[1] is None


def test_an_identifier_written_twice_is_asked_once_with_a_note(tmp_path: Path) -> None:
    limit = calls.ENTITY_LIMITS["Solutions"]
    # every distinct one fits, though the cell holds more than the limit
    cell = ";".join(f"S-{n}" for n in range(1, limit + 1)) + ";S-1"
    loaded = checked(tmp_path, [{SOLUTIONS: cell}])
    assert found(loaded) == set()
    assert found(loaded, Severity.WARNING) == {(2, SOLUTIONS, "duplicate-entity")}
    assert message(loaded, 2, SOLUTIONS).startswith("S-1 written more than once")
    edit = loaded.report.edits[0]
    assert edit is not None
    assert edit.calls == {SOLUTIONS: tuple(f"S-{n}" for n in range(1, limit + 1))}


def test_a_related_list_spread_over_indexed_columns_is_one_list(tmp_path: Path) -> None:
    rows = [
        {f"{SOLUTIONS}[0]": "S-1", f"{SOLUTIONS}[1]": "S-2;S-3"},
        {f"{SOLUTIONS}[1]": "S-4"},
        {f"{SOLUTIONS}[0]": "S-5", f"{SOLUTIONS}[1]": "S-5"},
    ]
    loaded = checked(tmp_path, rows)
    assert found(loaded) == set()
    assert found(loaded, Severity.WARNING) == {(4, f"{SOLUTIONS}[1]", "duplicate-entity")}
    assert [e.calls if e else None for e in loaded.report.edits] == [
        {SOLUTIONS: ("S-1", "S-2", "S-3")},
        {SOLUTIONS: ("S-4",)},
        {SOLUTIONS: ("S-5",)},
    ]


def test_the_limit_counts_a_spread_list_whole(tmp_path: Path) -> None:
    limit = calls.ENTITY_LIMITS["Solutions"]
    first = ";".join(f"S-{n}" for n in range(1, limit + 1))
    loaded = checked(tmp_path, [{f"{SOLUTIONS}[1]": first, f"{SOLUTIONS}[2]": "S-99"}])
    assert found(loaded) == {(2, f"{SOLUTIONS}[2]", "too-many-entities")}


# -- the same rule as a template's or export's colours -----------------------------------


def test_the_owner_colours_agree_with_validate(tmp_path: Path) -> None:
    """Every combination of empty, #CLEAR and filled owner cells: Excel colours a cell
    (rules.row_flags) exactly where validate wants it filled."""
    headers = [f.key for f in calls.assignee_fields()]
    refs = {h: f"${chr(ord('B') + n)}2" for n, h in enumerate(headers)}
    flags = rules.row_flags(refs)
    assert {f.header for f in flags} == set(REQUIRED_OWNER)
    combos = list(itertools.product(("", "#CLEAR", "x"), repeat=len(headers)))
    rows = [
        {h: (OWNER[h] if v == "x" else v) for h, v in zip(headers, combo, strict=True)}
        for combo in combos
    ]
    loaded = checked(tmp_path, rows, ["Identifier", *headers])
    problems = found(loaded)
    for n, row in enumerate(rows):
        cells = {refs[h].replace("$", ""): v for h, v in row.items()}
        coloured = {f.header for f in flags if Formula(f.condition).holds(cells, today=TODAY)}
        wanted = {c for r, c, code in problems if r == n + 2 and code == "required"}
        cleared = {c for r, c, code in problems if r == n + 2 and code == "owner-cleared"}
        assert coloured - cleared == wanted, row  # a #CLEAR cell: coloured, and refused


# -- header help ---------------------------------------------------------------------


def test_call_columns_are_the_models_in_their_order() -> None:
    assert columns.call_columns() == [f.key for f in calls.column_fields()]
    assert columns.call_columns()[0] == "Assignee.Email"
    layout = columns.resolve(["Identifier", *columns.call_columns()], CAT)
    assert [c.canonical for c in layout.calls] == columns.call_columns()


def test_the_exports_known_columns_are_left_as_they_were() -> None:
    """The owner and submission columns are no read-only fields of the record: the
    export's list (known_columns) does not grow them; engineer export chooses."""
    known = columns.known_columns(CAT, read_only=True)
    assert not any(c.startswith(("Assignee.", "Submit.")) for c in known)


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Asignee.Email", "Assignee.Email"),
        ("assignee.firstnme", "Assignee.FirstName"),
        ("Submit.Involvment", INVOLVEMENT),
        ("Owner email", "Assignee.Email"),
        ("Owner first name", "Assignee.FirstName"),
        ("Assignee email", "Assignee.Email"),
        ("Involvement type", INVOLVEMENT),
    ],
)
def test_a_misspelt_or_worded_call_header_suggests_its_column(header: str, column: str) -> None:
    assert columns.suggest(header, CAT) == column
    with pytest.raises(ColumnError) as e:
        columns.resolve(["Identifier", header], CAT)
    assert f"did you mean '{column}'?" in str(e.value)


@pytest.mark.parametrize("header", ["Email", "Phone"])
def test_a_last_part_shared_with_a_contacts_column_names_no_call_column(header: str) -> None:
    """``Email`` alone may be the owner's or a contact's: the words match gives no answer."""
    assert columns.suggest(header, CAT) is None


def test_the_sheet_format_page_names_every_call_column_and_limit() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "sheet-format.md").read_text("utf-8")
    section = page.split("## The owner, related entities and submission", 1)[1].split("\n## ", 1)[0]
    for f in calls.column_fields():
        assert f.path[-1] in section, f.key
    for kind, limit in calls.ENTITY_LIMITS.items():
        assert f"| `{kind}` | {limit} |" in section, kind


# -- through the command line -----------------------------------------------------------


def test_validate_on_the_command_line_names_each_call_cell(tmp_path: Path) -> None:
    sheet = write(
        tmp_path / "calls.csv",
        [
            OWNER,
            {"Assignee.Email": "#CLEAR"},
            {SOLUTIONS: ";".join(f"S-{n}" for n in range(1, 12))},
            {VISIBILITY: "Full"},
            {INVOLVEMENT: "Co-Sell", PRODUCTS: "#CLEAR"},
        ],
    )
    result = CliRunner().invoke(main, ["validate", str(sheet)])
    assert result.exit_code == 1, result.output
    book = load_workbook(tmp_path / "calls.results.xlsx", read_only=True)
    errors = {(r[0], r[2], r[6]) for r in book["Errors"].iter_rows(min_row=2, values_only=True)}
    outcomes = [r[2] for r in book["Results"].iter_rows(min_row=2, values_only=True)]
    book.close()
    assert errors == {
        (3, "Assignee.Email", "owner-cleared"),
        (4, SOLUTIONS, "too-many-entities"),
        (5, INVOLVEMENT, "required"),
    }
    assert outcomes == ["valid", "invalid", "invalid", "invalid", "valid"]
    assert "Traceback" not in result.output


# -- the export's baseline ----------------------------------------------------------------


def _edits(path: Path) -> tuple[Loaded, dict[int, dict[str, str]]]:
    loaded = load(path, sheet=None, run_catalog="Sandbox", today=TODAY)
    ids = [e.identifier if e else "" for e in loaded.report.edits]
    bases, _notes = row_baselines(loaded.sheet, loaded.report.edits, ids)
    return loaded, bases


def _rewrite(path: Path, change: dict[tuple[str, str], str]) -> None:
    """Edit cells of a csv export in place: (identifier, column) -> new text."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for (ident, column), text in change.items():
            if r["Identifier"] == ident:
                r[column] = text
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _owner_export(emu: Any, out: Path, ids: list[str]) -> Path:
    """What the export must write for the owner and related entities (engineer export's
    part): the record's row, and calls.asked_from_record's cells, through the export's
    own csv writer, data and baseline alike."""
    pc = make_pc(emu.url)
    names = [*(f.key for f in calls.assignee_fields()), SOLUTIONS, PRODUCTS]
    sink = CsvSink(out, sheet_columns(names, CAT))
    for ident in ids:
        record = dict(pc.get(ident))
        row = record_to_row(record, CAT)
        for key, value in calls.asked_from_record(record).items():
            row[key] = (
                ";".join(value)
                if isinstance(value, tuple)
                else ""
                if value is CLEAR
                else str(value)
            )
        sink.add(row)
    sink.close([("catalog", "Sandbox")])
    return out


@pytest.fixture
def emu(fresh_emulator: Any) -> Any:
    return fresh_emulator(**FAST)


def test_an_export_with_related_entity_columns_round_trips_with_its_baseline(
    emu: Any, tmp_path: Path
) -> None:
    out = tmp_path / "export.csv"
    ids = sorted(emu.records("Sandbox"))[:4]
    export_opportunities(
        make_pc(emu.url), out, columns=["LifeCycle.Stage", SOLUTIONS, PRODUCTS],
        filters=ExportFilters(ids=tuple(ids)),
    )  # fmt: skip
    loaded, bases = _edits(out)
    assert found(loaded) == set()
    assert {c.canonical for c in loaded.layout.calls} == {SOLUTIONS, PRODUCTS}
    edits = [e for e in loaded.report.edits if e is not None]
    assert len(edits) == len(ids) and all(e.calls for e in edits)  # the cells are there...
    assert [changed_calls(e, bases[e.row]) for e in edits] == [{}] * len(ids)  # ...untouched
    live = {i: calls.related_of(emu.record("Sandbox", i)) for i in ids}
    products = list(live[ids[0]]["AwsProducts"])
    assert products, "the seed gives every record AWS products"
    _rewrite(out, {
        (ids[0], PRODUCTS): ";".join(reversed(products)),  # the same set: no change
        (ids[1], PRODUCTS): ";".join([*live[ids[1]]["AwsProducts"], "AmazonRDS"]),
    })  # fmt: skip
    loaded, bases = _edits(out)
    edits = [e for e in loaded.report.edits if e is not None]
    assert [changed_calls(e, bases[e.row]) for e in edits] == [
        {},
        {PRODUCTS: (*live[ids[1]]["AwsProducts"], "AmazonRDS")},
        {},
        {},
    ]


def test_clear_against_an_empty_or_clear_baseline_cell_is_no_change() -> None:
    edit = RowEdit(2, "O1", calls={PRODUCTS: CLEAR, SOLUTIONS: CLEAR})
    assert changed_calls(edit, {PRODUCTS: "", SOLUTIONS: "#CLEAR"}) == {}
    assert changed_calls(edit, {PRODUCTS: "AmazonEC2", SOLUTIONS: "#clear"}) == {PRODUCTS: CLEAR}


def test_an_export_with_owner_columns_round_trips_and_an_owner_change_is_sent_whole(
    emu: Any, tmp_path: Path
) -> None:
    ids = sorted(emu.records("Sandbox"))[:3]
    record = emu.record("Sandbox", ids[2])  # an owner without a BusinessTitle
    record["OpportunityTeam"][0].pop("BusinessTitle")
    emu.put_record("Sandbox", record)
    out = _owner_export(emu, tmp_path / "owners.csv", ids)
    loaded, bases = _edits(out)
    assert found(loaded) == set()  # untouched: the incomplete owner asks for nothing
    edits = [e for e in loaded.report.edits if e is not None]
    assert all("Assignee.Email" in e.calls for e in edits)
    assert [changed_calls(e, bases[e.row]) for e in edits] == [{}, {}, {}]
    new = "priya.natarajan@partner.example.com"
    _rewrite(out, {(ids[0], "Assignee.Email"): new, (ids[2], "Assignee.Email"): new})
    loaded, bases = _edits(out)
    assert found(loaded) == {(4, "Assignee.BusinessTitle", "required")}
    edit = loaded.report.edits[0]
    assert edit is not None
    owner = calls.owner_of(emu.record("Sandbox", ids[0]))
    assert owner is not None
    expected = {
        f.key: str(owner[f.path[1]]) for f in calls.assignee_fields() if owner.get(f.path[1])
    }
    assert changed_calls(edit, bases[edit.row]) == {**expected, "Assignee.Email": new}


# -- through the emulator: the offline verdict stands, call enums are never re-judged ---------


def test_a_dry_run_of_a_call_sheet_reports_exactly_the_offline_cells(
    emu: Any, tmp_path: Path
) -> None:
    ident = sorted(emu.records("Sandbox"))
    rows = [
        {"Identifier": ident[0], **OWNER},
        {"Identifier": ident[1], "Assignee.Email": "#CLEAR"},
        {"Identifier": ident[2], SOLUTIONS: ";".join(f"S-{n}" for n in range(1, 12))},
        {"Identifier": ident[3], VISIBILITY: "Full"},
        {"Identifier": ident[4], INVOLVEMENT: "Co-Sell Maybe"},  # outside the enum
        {"Identifier": ident[5], "Project.CompetitorName": "Nimbus Cloud Co"},  # held, re-judged
        {"Identifier": ident[6], PRODUCTS: "AmazonEC2;AmazonEC2"},
    ]
    before = int(emu.counters()["calls"].get("GetOpportunity", 0))
    report = apply_rows(emu, tmp_path, rows, dry_run=True)
    reads = int(emu.counters()["calls"].get("GetOpportunity", 0)) - before
    errors = {(p.row, p.column, p.code) for p in report.problems if p.is_error}
    assert errors == {
        (3, "Assignee.Email", "owner-cleared"),
        (4, SOLUTIONS, "too-many-entities"),
        (5, INVOLVEMENT, "required"),
        (6, INVOLVEMENT, "not-allowed"),
        (7, "Project.CompetitorName", "not-allowed"),
    }
    warned = {(p.row, p.column, p.code) for p in report.problems if not p.is_error}
    assert (8, PRODUCTS, "duplicate-entity") in warned
    invalid = sorted(r.row for r in report.results if r.outcome.value == "invalid")
    assert invalid == [3, 4, 5, 6, 7]
    # the two valid rows and the held CompetitorName row are read; the call rows are not
    assert reads == 3
    assert sum(emu.counters()["writes_per_id"].values()) == 0


def test_the_enum_rejudge_holds_field_cells_only(tmp_path: Path) -> None:
    rows = [{INVOLVEMENT: "Co-Sell Maybe"}, {"Project.CompetitorName": "Nimbus Cloud Co"}]
    loaded = checked(tmp_path, rows)
    assert found(loaded) == {
        (2, INVOLVEMENT, "not-allowed"),
        (3, "Project.CompetitorName", "not-allowed"),
    }
    held = enumcheck.hold(loaded, run_catalog=None, today=TODAY)
    assert sorted(held) == [3]
    assert loaded.report.edits[0] is None
