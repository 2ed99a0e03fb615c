"""Open a results workbook and the template in LibreOffice, headless, and check them.

    python benchmarks/open_in_libreoffice.py [--out DIR] [--png]

For each workbook: convert it to PDF (it must convert: a file LibreOffice
cannot load gives no PDF), save it back as .xlsx through LibreOffice and read
the data validations and comments of the template back with openpyxl (they must
survive the round trip), and with ``--png`` render the first page of each PDF
to PNG with pdftoppm to look at. Needs ``soffice`` (Debian:
``libreoffice-calc-nogui``) and, for ``--png``, ``pdftoppm`` (poppler-utils).
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bulk_update.problems import Change, Outcome, Problem  # noqa: E402
from bulk_update.results import RowResult, RunSummary, write_results  # noqa: E402
from bulk_update.template import write_template  # noqa: E402


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


def convert(soffice: str, src: Path, fmt: str, out: Path) -> Path:
    """Run LibreOffice headless to convert ``src``; return the converted file."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
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
            timeout=300,
        )
    target = out / f"{src.stem}.{fmt.split(':')[0]}"
    if not target.exists() or target.stat().st_size == 0:
        raise RuntimeError(f"LibreOffice did not convert {src.name} to {fmt}")
    return target


def validations(path: Path) -> tuple[int, int]:
    ws = openpyxl.load_workbook(path).worksheets[0]
    comments = sum(1 for c in ws[1] if c.comment is not None)
    return len(ws.data_validations.dataValidation), comments


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="lo-check-")))
    parser.add_argument("--png", action="store_true", help="render page 1 of each PDF to PNG")
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("soffice not found: install libreoffice-calc-nogui", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    ok = True
    books = [write_template(out / "template.xlsx"), sample_results(out / "results.xlsx")]
    for book in books:
        pdf = convert(soffice, book, "pdf", out)
        print(f"{book.name}: converted to {pdf.name} ({pdf.stat().st_size:,} bytes)")
        if args.png and shutil.which("pdftoppm"):
            stem = out / f"{book.stem}-page"
            subprocess.run(
                ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(pdf), str(stem)],
                check=True,
            )
            print(f"  page 1: {next(out.glob(f'{book.stem}-page*.png'))}")
    template = books[0]
    saved_dir = out / "resaved"
    saved_dir.mkdir(exist_ok=True)
    resaved = convert(soffice, template, "xlsx:Calc MS Excel 2007 XML", saved_dir)
    before, after = validations(template), validations(resaved)
    print(f"template validations/comments before {before}, after a LibreOffice save {after}")
    if after[0] < before[0] or after[1] < before[1]:
        print("validations or comments were lost in the round trip", file=sys.stderr)
        ok = False
    print(f"files in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
