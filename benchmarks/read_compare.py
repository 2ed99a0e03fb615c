"""Compare python-calamine and openpyxl on a large workbook, and time read_sheet.

    python benchmarks/read_compare.py [--rows 50000] [--cols 80] [--file PATH] [--keep]

Writes a workbook with xlsxwriter (text, number and date cells, some empty),
then reads it in a fresh process per reader so that each peak memory figure
(ru_maxrss) belongs to that reader alone. CPU seconds are printed beside wall
seconds: on a busy machine they are the steadier figure.

- calamine: CalamineWorkbook.from_path(...).get_sheet_by_name(...).to_python()
- openpyxl: load_workbook(read_only=True, data_only=True), iter_rows(values_only=True)
- read_sheet: this project's reader (calamine, the error-cell scan, text and kinds,
  the two DataFrames)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHEET = "Opportunities"


def make_workbook(path: Path, rows: int, cols: int) -> None:
    """A sheet of ``rows`` x ``cols``: mostly text, one in eight columns numbers, one in ten dates."""
    import xlsxwriter

    rng = random.Random(7)
    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False}
    )
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet(SHEET)
    kinds = ["id"] + [
        "number" if c % 8 == 3 else "date" if c % 10 == 5 else "text" for c in range(1, cols)
    ]
    sheet.write_row(0, 0, ["Identifier"] + [f"Column{c}" for c in range(1, cols)])
    words = ["Closed Lost", "Prospect", "Qualified", "Technical Validation", "Committed", ""]
    start = dt.date(2026, 1, 1)
    for r in range(1, rows + 1):
        sheet.write_string(r, 0, f"O{1000000 + r}")
        for c in range(1, cols):
            kind = kinds[c]
            if kind == "number":
                sheet.write_number(r, c, rng.choice([12345678901, 2139, 1234.5, r * 10]))
            elif kind == "date":
                day = start + dt.timedelta(days=r % 700)
                sheet.write_datetime(r, c, dt.datetime(day.year, day.month, day.day), date_format)
            else:
                word = words[(r + c) % len(words)]
                if word:
                    sheet.write_string(r, c, f"{word} {r % 97}")
    book.close()


def _peak_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(reader: str, path: str) -> dict[str, float | int | str]:
    """Run one reader in this process; return its time, peak RSS and what it read."""
    base = _peak_mib()
    t0 = time.perf_counter()
    c0 = time.process_time()
    if reader == "calamine":
        from python_calamine import CalamineWorkbook

        cells = CalamineWorkbook.from_path(path).get_sheet_by_name(SHEET).to_python()
        shape = f"{len(cells)}x{len(cells[0])}"
    elif reader == "openpyxl":
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        values = list(book[SHEET].iter_rows(values_only=True))
        book.close()
        shape = f"{len(values)}x{len(values[0])}"
    elif reader == "read_sheet":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from bulk_update.sheet.read import read_sheet

        sheet = read_sheet(path)
        shape = f"{len(sheet) + 1}x{len(sheet.headers)}"
    else:
        raise SystemExit(f"unknown reader {reader}")
    seconds = time.perf_counter() - t0
    return {
        "reader": reader,
        "seconds": round(seconds, 2),
        "cpu": round(time.process_time() - c0, 2),
        "peak_mib": round(_peak_mib()),
        "start_mib": round(base),
        "shape": shape,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--cols", type=int, default=80)
    parser.add_argument("--file", type=Path, help="reuse or write the workbook here")
    parser.add_argument("--keep", action="store_true", help="keep the generated workbook")
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--readers", default="calamine,openpyxl,read_sheet", help="comma-separated list"
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    tmp = tempfile.TemporaryDirectory()
    path = args.file or Path(tmp.name) / "read_compare.xlsx"
    if not path.exists():
        t0 = time.perf_counter()
        make_workbook(path, args.rows, args.cols)
        print(
            f"wrote {args.rows:,} rows x {args.cols} columns in {time.perf_counter() - t0:.1f} s "
            f"({path.stat().st_size / 2**20:.1f} MiB): {path}"
        )
    root = str(Path(__file__).resolve().parents[1])
    print(f"{'reader':<12}{'seconds':>9}{'cpu s':>7}{'peak RSS MiB':>14}{'(start)':>9}  shape")
    for reader in args.readers.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", reader, str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
        )
        r = json.loads(out.stdout)
        print(
            f"{r['reader']:<12}{r['seconds']:>9}{r['cpu']:>7}{r['peak_mib']:>14}{r['start_mib']:>9}"
            f"  {r['shape']}"
        )
    if args.keep and not args.file:
        kept = Path.cwd() / "read_compare.xlsx"
        path.replace(kept)
        print(f"kept {kept}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
