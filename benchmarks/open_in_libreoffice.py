"""Open every template and a results workbook in LibreOffice, headless, and check them.

    python benchmarks/open_in_libreoffice.py [--out DIR] [--png] [--screenshot PNG]

What it checks, for the shipped templates (rebuilt by the generator into DIR),
a results workbook with every outcome, and ``samples/typical-mistakes.results.xlsx``:

1. LibreOffice converts each to PDF, exits 0 and prints no error (a file it
   cannot load gives no PDF; headless LibreOffice never shows a repair dialog,
   so a broken file shows up here as a failed conversion or a message on
   stderr), and the PDF's text holds the first header.
2. Each template saved back as .xlsx by LibreOffice still has, column by
   column, the same data validations (kind, list source, limits, strict or
   not, input message) and header comments, and the hidden ``_lists`` sheet.
   What LibreOffice changes on the way is printed as notes (for example, it
   writes the validation ranges down to row 1001 only).
3. ``--png``: page 1 of each PDF as PNG (pdftoppm) beside the PDFs.
4. ``--screenshot PNG``: the full template with a few rows filled in (one of them
   Closed Lost without a reason, which the template colours), printed
   with grid lines and row and column headings, page 1 rendered and cropped to
   what is printed: the README's picture (docs/template-screenshot.png).

Needs ``soffice`` (Debian: ``libreoffice-calc-nogui``) and, for the pictures,
``pdftoppm`` (poppler-utils). Exit status 0 when every check passed, 1 when one
failed, 2 when LibreOffice is missing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bulk_update import template as tpl  # noqa: E402
from bulk_update.problems import Change, Outcome, Problem  # noqa: E402
from bulk_update.results import RowResult, RunSummary, write_results  # noqa: E402

MISTAKES_RESULTS = ROOT / "samples" / "typical-mistakes.results.xlsx"

# What the screenshot shows: a few rows as a person fills them, and the first
# columns (three sections, three colours) at a size that reads on a web page.
SCREENSHOT_AREA = "A1:I7"
SCREENSHOT_ROWS: list[dict[str, str | date]] = [
    {
        "Identifier": "O1000001",
        "LifeCycle.Stage": "Closed Lost",
        "LifeCycle.ClosedLostReason": "No Opportunity",
        "LifeCycle.NextSteps": "Closed in Q4 review",
    },
    {  # closed lost without a reason: the template colours the reason cell (issue 15)
        "Identifier": "O1000002",
        "LifeCycle.Stage": "Closed Lost",
        "LifeCycle.NextSteps": "Customer chose to wait",
    },
    {
        "Identifier": "O1000004",
        "LifeCycle.NextSteps": "Budget moves to Q2",
        "LifeCycle.TargetCloseDate": date(2027, 6, 30),
    },
    {
        "Identifier": "O1000007",
        "PrimaryNeedsFromAws": "Co-Sell - Pricing Assistance; Co-Sell - Deal Support",
    },
    {
        "Identifier": "O1000012",
        "LifeCycle.Stage": "Qualified",
        "LifeCycle.ClosedLostReason": tpl.CLEAR,
        "NationalSecurity": "No",
    },
    {
        "Identifier": "O1000015",
        "LastModifiedDate": "2026-09-11T20:14:40Z",
        "LifeCycle.NextSteps": tpl.CLEAR,
        "PartnerOpportunityIdentifier": "CRM-000042",
    },
]


def sample_results(path: Path) -> Path:
    """A small results workbook with every outcome, formula-like texts and problems."""
    headers = ["Identifier", "LifeCycle.Stage", "LifeCycle.NextSteps"]
    results = [
        RowResult(
            n + 2,
            f"O{1000 + n}",
            outcome,
            f"Row ended {outcome}.",
            [Change("LifeCycle.Stage", "Qualified", "Closed Lost")] * (n % 3),
            [f"O{1000 + n}", "Closed Lost", "=1+1" if n == 0 else "+123"],
        )
        for n, outcome in enumerate(Outcome)
    ]
    problems = [Problem(6, "O1004", "LifeCycle.Stage", "Closd", "not-allowed", "Did you mean?")]
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    summary = RunSummary("apply", "Sandbox", "in.xlsx", start, start + timedelta(seconds=75), 20)
    return write_results(path, results, problems, headers, summary)


def convert(soffice: str, src: Path, fmt: str, out: Path) -> tuple[Path, str]:
    """Run LibreOffice headless to convert ``src``; return the file and what it said on stderr."""
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                fmt,
                "--outdir",
                str(out),
                str(src),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    target = out / f"{src.stem}.{fmt.split(':')[0]}"
    if not target.exists() or target.stat().st_size == 0:
        raise RuntimeError(f"LibreOffice did not convert {src.name} to {fmt}")
    said = [line for line in done.stderr.splitlines() if line.strip() and not _harmless(line)]
    return target, "\n".join(said)


def _harmless(line: str) -> bool:
    """Start-up noise of a LibreOffice without Java, unrelated to the file."""
    return "javaldx" in line


def pdf_text(pdf: Path) -> str:
    """The PDF's text (empty when pdftotext is missing)."""
    if shutil.which("pdftotext") is None:
        return ""
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    )
    return done.stdout


def _formula(text: str | None) -> str | None:
    """A validation formula without the spellings that mean the same ('_lists' or _lists)."""
    if text is None:
        return None
    return text.lstrip("=").replace("'", "")


def column_checks(ws: Worksheet) -> dict[str, tuple[object, ...]]:
    """Column letter -> what its data validation enforces (range ends left out)."""
    found: dict[str, tuple[object, ...]] = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            letter = re.match(r"[A-Z]+", cell_range.coord)
            assert letter is not None
            strict = bool(dv.showErrorMessage)
            found[letter.group(0)] = (
                dv.type,
                _formula(dv.formula1),
                _formula(dv.formula2) if dv.type in ("date", "whole", "decimal") else None,
                strict,
                (dv.errorStyle or "stop") if strict else None,
                dv.prompt,
                cell_range.min_row,
            )
    return found


def rule_formats(ws: Worksheet) -> dict[str, tuple[tuple[str, str], ...]]:
    """Column letter -> its conditional formats (formula, fill colour), from row 2 on."""
    found: dict[str, list[tuple[str, str]]] = {}
    for cf in ws.conditional_formatting:
        for cell_range in cf.sqref.ranges:
            letter = re.match(r"[A-Z]+", cell_range.coord)
            assert letter is not None and cell_range.min_row == 2
            for rule in cf.rules:
                fill = rule.dxf.fill.bgColor.rgb if rule.dxf and rule.dxf.fill else ""
                for formula in rule.formula:
                    found.setdefault(letter.group(0), []).append(
                        (formula.lstrip("="), str(fill)[-6:])
                    )
    return {k: tuple(sorted(v)) for k, v in found.items()}


def validation_rows(ws: Worksheet) -> set[int]:
    """The last rows the validations reach (one value when they all agree)."""
    return {r.max_row for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}


def read_template(path: Path) -> dict[str, object]:
    """What must survive a save: validations, comments, the hidden list sheet, list values."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    lists = book[tpl.LISTS_SHEET]
    return {
        "sheets": book.sheetnames,
        "lists hidden": lists.sheet_state,
        "validations": column_checks(ws),
        "rule formats": rule_formats(ws),
        "comments": {c.coordinate: c.comment.text for c in ws[1] if c.comment is not None},
        "list values": [[c.value for c in col] for col in lists.iter_cols()],
        "warnings": [str(w.message) for w in caught],
        "rows": validation_rows(ws),
        "freeze": ws.freeze_panes,
        "date format": {
            d.number_format.replace("\\", "")
            for d in ws.column_dimensions.values()
            if d.number_format != "@"
        },
    }


def round_trip(soffice: str, template: Path, out: Path) -> tuple[bool, list[str]]:
    """Save a template through LibreOffice; compare what matters; return (ok, notes)."""
    saved, said = convert(soffice, template, "xlsx:Calc MS Excel 2007 XML", out)
    before, after = read_template(template), read_template(saved)
    notes = [f"LibreOffice said: {said}"] if said else []
    ok = True
    keys = ("sheets", "lists hidden", "validations", "rule formats", "comments", "list values")
    for key in (*keys, "date format"):
        if before[key] != after[key]:
            ok = False
            if key in ("validations", "rule formats"):
                b, a = before[key], after[key]
                assert isinstance(b, dict) and isinstance(a, dict)
                for letter in sorted(set(b) | set(a)):
                    if b.get(letter) != a.get(letter):
                        notes.append(f"  column {letter}: {b.get(letter)} -> {a.get(letter)}")
            notes.insert(0, f"LOST OR CHANGED: {key}")
    if after["warnings"]:
        notes.append(f"openpyxl warned reading LibreOffice's file: {after['warnings']}")
    if before["rows"] != after["rows"]:
        notes.append(
            f"note: validations reached row {max(before['rows'])} (Excel's last), "  # type: ignore[call-overload]
            f"after the save they reach row {max(after['rows'])}"  # type: ignore[call-overload]
        )
    if before["freeze"] != after["freeze"]:
        notes.append(
            f"note: frozen panes {before['freeze']} -> {after['freeze']} "
            "(lost in a headless save; a save from the LibreOffice window was not checked)"
        )
    return ok, notes


# -- the README picture ------------------------------------------------------------


def screenshot_book(path: Path) -> Path:
    """The full template with SCREENSHOT_ROWS typed in, set up to print like a sheet on screen."""
    book = openpyxl.load_workbook(tpl.write_template(path))
    ws = book[tpl.DATA_SHEET]
    headers = [c.value for c in ws[1]]
    for row, values in enumerate(SCREENSHOT_ROWS, start=2):
        for header, value in values.items():
            cell = ws.cell(row=row, column=headers.index(header) + 1)
            cell.value = value
            cell.number_format = "yyyy-mm-dd" if isinstance(value, date) else "@"
    ws.print_area = SCREENSHOT_AREA
    ws.print_options.gridLines = True
    ws.print_options.headings = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    ws.print_title_rows = None  # type: ignore[assignment]
    book.save(path)
    return path


def _content_box(pgm: Path, margin: int) -> tuple[int, int, int, int]:
    """x, y, width, height of the non-white part of a binary PGM image, plus a margin."""
    data = pgm.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    if fields is None:
        raise RuntimeError(f"{pgm.name} is not a binary PGM")
    width, height = int(fields.group(1)), int(fields.group(2))
    pixels = data[fields.end() :]
    rows = [y for y in range(height) if min(pixels[y * width : (y + 1) * width]) < 200]
    cols = [
        x for x in range(width) if any(pixels[y * width + x] < 200 for y in range(0, height, 2))
    ]
    if not rows or not cols:
        raise RuntimeError("the page is blank")
    x0, y0 = max(cols[0] - margin, 0), max(rows[0] - margin, 0)
    x1, y1 = min(cols[-1] + margin, width - 1), min(rows[-1] + margin, height - 1)
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def render_screenshot(soffice: str, out: Path, target: Path, dpi: int = 150) -> Path:
    """Print the screenshot workbook to PDF and save page 1, cropped, as ``target``."""
    pdf, _said = convert(soffice, screenshot_book(out / "screenshot.xlsx"), "pdf", out)
    base = ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*base, "-gray", str(pdf), str(out / "screenshot-gray")], check=True)
    x, y, w, h = _content_box(out / "screenshot-gray.pgm", margin=12)
    crop = ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
    subprocess.run([*base, "-png", *crop, str(pdf), str(out / "screenshot")], check=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "screenshot.png", target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where to keep the files")
    parser.add_argument("--png", action="store_true", help="render page 1 of each PDF to PNG")
    parser.add_argument("--screenshot", type=Path, help="write the README picture here")
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("soffice not found: install libreoffice-calc-nogui", file=sys.stderr)
        return 2
    out: Path = args.out or Path(tempfile.mkdtemp(prefix="lo-check-"))
    out.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([soffice, "--version"], capture_output=True, text=True).stdout
    print(f"{version.strip()}; files in {out}")
    started = time.monotonic()
    ok = True
    templates = tpl.write_shipped(out / "templates")
    books = [*templates, sample_results(out / "results.xlsx")]
    if MISTAKES_RESULTS.exists():
        books.append(Path(shutil.copy(MISTAKES_RESULTS, out / MISTAKES_RESULTS.name)))
    pdfs = out / "pdf"
    pdfs.mkdir(exist_ok=True)
    for book in books:
        first = openpyxl.load_workbook(book, read_only=True).worksheets[0]
        header = str(next(first.iter_rows(max_row=1, values_only=True))[0])
        try:
            pdf, said = convert(soffice, book, "pdf", pdfs)
        except (subprocess.CalledProcessError, RuntimeError) as exc:
            print(f"FAIL {book.name}: {exc}", file=sys.stderr)
            ok = False
            continue
        found = pdf_text(pdf)
        shown = header in found if found else True
        pages = found.count("\f") if found else "?"
        print(f"{'ok  ' if shown and not said else 'FAIL'} {book.name}: PDF {pages} pages")
        if said:
            print(f"     LibreOffice said: {said}")
        ok = ok and shown and not said
        if args.png and shutil.which("pdftoppm"):
            stem = pdfs / f"{book.stem}-page1"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile"]
                + [str(pdf), str(stem)],
                check=True,
            )
    saved_dir = out / "resaved"
    saved_dir.mkdir(exist_ok=True)
    for template in templates:
        kept, notes = round_trip(soffice, template, saved_dir)
        print(f"{'ok  ' if kept else 'FAIL'} {template.name}: saved by LibreOffice, read back")
        for note in notes:
            print(f"     {note}")
        ok = ok and kept
    if args.screenshot:
        if shutil.which("pdftoppm") is None:
            print("pdftoppm not found: install poppler-utils", file=sys.stderr)
            return 1
        shot = render_screenshot(soffice, out, args.screenshot)
        print(f"ok   screenshot: {shot}")
    print(
        f"{'all checks passed' if ok else 'SOME CHECKS FAILED'} in {time.monotonic() - started:.0f} s"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
