"""Rebuild the sample sheets from the emulator's seed records.

    python samples/make_samples.py              # every sample below
    python samples/make_samples.py --results    # only the results workbook

Writes, beside this script:
- quarterly-cleanup.xlsx and .csv: a realistic quarterly clean-up (close stale
  deals, move target dates, fix websites, set next steps), as an ops person
  would fill the template; the demo applies it;
- typical-mistakes.csv: the same kind of sheet with the mistakes people make
  (misspelt stage, US-style date, a date in the past, an id without its O,
  the same id twice...);
- typical-mistakes.results.xlsx: the results workbook the tool writes for it,
  made by running ``bulk-update validate samples/typical-mistakes.csv --out
  samples/typical-mistakes.results.xlsx``. Run this again whenever the checks
  change (``--results`` rebuilds only this file).
The choice of rows is deterministic: it depends only on opportunities.json.
The results workbook also holds the run's date and times.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGED = ROOT / "bulk_update" / "data" / "samples"
MISTAKES = HERE / "typical-mistakes.csv"
MISTAKES_RESULTS = HERE / "typical-mistakes.results.xlsx"

COLUMNS = [
    "Identifier",
    "LifeCycle.Stage",
    "LifeCycle.ClosedLostReason",
    "LifeCycle.TargetCloseDate",
    "LifeCycle.NextSteps",
    "Customer.Account.WebsiteUrl",
]


def _pick(records: list[dict], status: str, stages: set[str], n: int, used: set[str]) -> list[dict]:
    out = []
    for r in records:
        lc = r.get("LifeCycle", {})
        if r["Id"] in used or lc.get("ReviewStatus") != status or lc.get("Stage") not in stages:
            continue
        out.append(r)
        used.add(r["Id"])
        if len(out) == n:
            break
    return out


def cleanup_rows(records: list[dict]) -> list[dict[str, str]]:
    """The quarterly clean-up: what an ops team typically changes."""
    sandbox = sorted((r for r in records if r.get("Catalog", "Sandbox") == "Sandbox"), key=lambda r: r["Id"])
    used: set[str] = set()
    early = {"Prospect", "Qualified", "Technical Validation", "Business Validation"}
    rows: list[dict[str, str]] = []
    for r in _pick(sandbox, "Pending Submission", early, 4, used) + _pick(sandbox, "Approved", early, 2, used):
        rows.append({"Identifier": r["Id"], "LifeCycle.Stage": "Closed Lost",
                     "LifeCycle.ClosedLostReason": "No Opportunity",
                     "LifeCycle.NextSteps": "Closed in the Q4 pipeline review: no activity for 6 months"})
    for r in _pick(sandbox, "Pending Submission", early | {"Committed"}, 4, used) + _pick(
        sandbox, "Action Required", early | {"Committed"}, 2, used
    ):
        rows.append({"Identifier": r["Id"], "LifeCycle.TargetCloseDate": "2027-06-30"})
    anything = early | {"Committed", "Launched", "Closed Lost"}
    for r in _pick(sandbox, "Pending Submission", anything, 2, used) + _pick(
        sandbox, "Action Required", anything, 1, used
    ):
        rows.append({"Identifier": r["Id"], "Customer.Account.WebsiteUrl":
                     "https://www." + r["Customer"]["Account"]["CompanyName"].split()[0].lower() + ".example.com"})
    for r in _pick(sandbox, "Approved", early | {"Committed"}, 3, used):
        rows.append({"Identifier": r["Id"], "LifeCycle.NextSteps": "Joint call with the AWS account team booked"})
    # A row that asks for what the record already holds: nothing is sent.
    for r in _pick(sandbox, "Pending Submission", anything, 1, used):
        rows.append({"Identifier": r["Id"], "LifeCycle.Stage": r["LifeCycle"]["Stage"]})
    # A row on an opportunity under AWS review: Partner Central takes no update.
    for r in _pick(sandbox, "Submitted", early | {"Committed", "Launched", "Closed Lost"}, 1, used):
        rows.append({"Identifier": r["Id"], "LifeCycle.NextSteps": "Follow up after the review"})
    return rows


def mistake_rows(records: list[dict]) -> list[dict[str, str]]:
    ids = sorted(r["Id"] for r in records if r.get("Catalog", "Sandbox") == "Sandbox")
    return [
        {"Identifier": ids[0], "LifeCycle.Stage": "Closd Lost", "LifeCycle.ClosedLostReason": "No Opportunity"},
        {"Identifier": ids[1], "LifeCycle.TargetCloseDate": "03/04/2027"},
        {"Identifier": ids[2], "LifeCycle.TargetCloseDate": "2021-01-31"},
        {"Identifier": ids[3], "Customer.Account.WebsiteUrl": "#CLEAR"},
        {"Identifier": "1000005", "LifeCycle.NextSteps": "Identifier without its O"},
        {"Identifier": ids[4], "LifeCycle.Stage": "closed lost", "LifeCycle.ClosedLostReason": "no opportunity"},
        {"Identifier": ids[4], "LifeCycle.NextSteps": "The same id twice"},
    ]


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Opportunities"
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for r in rows:
        ws.append([r.get(c, "") or None for c in COLUMNS])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    for col, width in zip("ABCDEF", (12, 16, 22, 16, 50, 40), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "B2"
    wb.properties.creator = "bulk-update samples"
    wb.save(path)


LOST_ZEROS = [
    # (column, number as Excel stored it, what the person typed)
    ("Customer.Account.AwsAccountId", 12345678901, "012345678901"),
    ("Customer.Contacts[1].Phone", 14155550100, "+14155550100"),
    ("Customer.Account.Duns", 1234567, "001234567"),
    ("Customer.Account.Address.PostalCode", 2139, "02139"),
]


def write_lost_zeros_xlsx(path: Path, records: list[dict]) -> None:
    """The mistake a csv cannot show: digits typed into General cells became numbers.

    Excel drops the leading zeros and the phone's '+'; the tool reads the digits
    it holds and says what happened (invalid where the pattern now fails, a
    warning where it still fits).
    """
    ids = sorted(r["Id"] for r in records if r.get("Catalog", "Sandbox") == "Sandbox")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Opportunities"
    ws.append(["Identifier", *(c for c, _, _ in LOST_ZEROS)])
    for i, (column, number, _typed) in enumerate(LOST_ZEROS):
        ws.append([ids[10 + i], *(number if c == column else None for c, _, _ in LOST_ZEROS)])
    wb.properties.creator = "bulk-update samples"
    wb.save(path)


def write_mistakes_results() -> Path:
    """Run the tool's own ``validate`` on the mistakes sheet, as a user would, from the repo root.

    Exit status 1 is expected (the sheet has invalid rows); 2 means it could not run.
    """
    command = [
        sys.executable,
        "-m",
        "bulk_update",
        "validate",
        str(MISTAKES.relative_to(ROOT)),
        "--out",
        str(MISTAKES_RESULTS.relative_to(ROOT)),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1) or not MISTAKES_RESULTS.exists():
        raise SystemExit(f"validate failed ({done.returncode}): {done.stderr}")
    return MISTAKES_RESULTS


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if "--results" not in args:
        records = json.loads((HERE / "opportunities.json").read_text(encoding="utf-8"))
        rows = cleanup_rows(records)
        write_xlsx(HERE / "quarterly-cleanup.xlsx", rows)
        # The demo's copy inside the package: a real file, not a link (a Windows
        # checkout or a zip of the repository turns a link into a text file).
        shutil.copyfile(HERE / "quarterly-cleanup.xlsx", PACKAGED / "quarterly-cleanup.xlsx")
        write_csv(HERE / "quarterly-cleanup.csv", rows)
        write_csv(MISTAKES, mistake_rows(records))
        write_lost_zeros_xlsx(HERE / "lost-leading-zeros.xlsx", records)
        print(f"{len(rows)} clean-up rows written")
    print(f"results workbook written: {write_mistakes_results().relative_to(ROOT)}")


if __name__ == "__main__":
    main()
