"""Time ``bulk-update validate`` on a 50,000-row, all-columns workbook, beside a floor.

    python benchmarks/validate_bench.py [--rows 50000] [--file PATH] [--keep] [--repeat 1]

Writes a workbook with every updatable column of the catalog (lists of records
with 2 contacts and 2 spend items, 1-based headers) filled with realistic valid
values: allowed values from each field's enum, dates in 2027 (some as real date
cells), ids ``O...``, e-mail addresses, some postal codes as number cells, and a
few bad cells so that the Errors sheet is not empty. Then, each in a fresh
process so that its peak memory (ru_maxrss) is its own:

- validate: ``validate_file`` end to end, with its parts timed in place:
  read (``chunks.open_stream``: the one read, its first pass and the spill),
  check (``columns.resolve`` + ``checks.check_sheet``, per chunk), write
  (``ResultsWriter.add`` + ``close``), and the rest (chunks read back, RowResults);
- floor: a bare python-calamine read of the file
  (``CalamineWorkbook.from_path(...).get_sheet_by_index(0).to_python()``) plus a
  bare xlsxwriter constant_memory write of the same cells, all as strings.

Targets (issue 14): total <= 1.25x the floor, peak RSS < 400 MiB at 50,000 rows.
``--scale 10000,100000,1048576`` generates each size once (``make_big_workbook``:
the XML of 12,000 generated rows repeated; cached under /tmp keyed by size) and
prints wall, floor, ratio and peak RSS per size; ``--parts floor`` or
``--parts validate`` runs one of the two. CPU seconds are
printed beside wall seconds, and the ratio of both: on a busy machine the CPU
seconds are the steadier figure.
The load average is printed before and after the runs.

Before issue 14 (whole-sheet read), measured 2026-11-26 on the 2-core machine, load average about 1 (this run
alone), best of 2: read 6.4 s, check 12.1 s, write 27.6 s, other 1.3 s, total
47.5 s; floor 29.8 s (calamine read 4.4 s + xlsxwriter write 25.4 s); ratio
1.59; peak RSS 715 MiB (the floor process alone: 474 MiB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECORD_ITEMS = 2
TARGET_RATIO = 1.25  # issue 14 (issue 2 asked for 2.0 and 1 GiB)
TARGET_RSS_MIB = 400

_WORDS = [
    "migration",
    "data",
    "lake",
    "analytics",
    "platform",
    "modernisation",
    "cloud",
    "retail",
    "payments",
    "streaming",
    "warehouse",
    "security",
    "identity",
    "backup",
    "archive",
    "compliance",
    "latency",
    "machine",
    "learning",
    "forecasting",
    "inventory",
    "logistics",
    "customer",
    "portal",
    "mobile",
    "billing",
    "reporting",
    "observability",
    "containers",
    "serverless",
    "database",
]


# ---------------------------------------------------------------- the workbook


def _columns() -> list[tuple[str, Any]]:
    """(header, field) for Identifier and every updatable column; records have 2 items."""
    from bulk_update import fields as cat
    from bulk_update.fields import IDENTIFIER

    out: list[tuple[str, Any]] = [(IDENTIFIER, None)]
    fields = cat.load().fields
    done: set[str] = set()
    for f in fields:
        if f.list_at is None:
            out.append((f.key, f))
            continue
        name = f.record_list or f.key
        if name in done:
            continue
        done.add(name)
        members = [g for g in fields if g.record_list == name]
        for i in range(1, min(RECORD_ITEMS, f.max_items or RECORD_ITEMS) + 1):
            out += [(g.column(i), g) for g in members]
    return out


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    words: list[str] = []
    while len(" ".join(words)) < lo or not words:
        words.append(rng.choice(_WORDS))
    text = " ".join(words).capitalize()
    return text[:hi].rstrip() if len(text) > hi else text


class _Row:
    """The values of one row: the rules' pairs chosen together, then each field."""

    def __init__(self, rng: random.Random, r: int) -> None:
        self.rng = rng
        self.r = r
        self.closed_lost = r % 10 == 0
        self.industry_other = r % 20 == 1
        self.government = r % 25 == 2
        self.funding = r % 3 != 0
        self.competitor_other = r % 8 == 3

    def value(self, header: str, f: Any) -> str:
        rng, r = self.rng, self.r
        if f is None:
            return f"O{1_000_000_000 + r}"
        key, name = f.key, f.path[-1]
        special = {
            "LifeCycle.Stage": lambda: (
                "Closed Lost"
                if self.closed_lost
                else rng.choice([v for v in f.enum if v != "Closed Lost"])
            ),
            "LifeCycle.ClosedLostReason": lambda: rng.choice(f.enum) if self.closed_lost else "",
            "Customer.Account.Industry": lambda: (
                "Other"
                if self.industry_other
                else "Government"
                if self.government
                else rng.choice([v for v in f.enum if v not in ("Other", "Government")])
            ),
            "Customer.Account.OtherIndustry": lambda: (
                _sentence(rng, 5, 40) if self.industry_other else ""
            ),
            "NationalSecurity": lambda: "Yes" if self.government and r % 2 else "No",
            "Marketing.AwsFundingUsed": lambda: "Yes" if self.funding else "No",
            "Marketing.UseCases": lambda: (
                ";".join(rng.sample(f.allowed, 2)) if self.funding else ""
            ),
            "Project.CompetitorName": lambda: (
                "*Other"
                if self.competitor_other
                else rng.choice([v for v in f.enum if v != "*Other"])
            ),
            "Project.OtherCompetitorNames": lambda: (
                _sentence(rng, 5, 60) if self.competitor_other else ""
            ),
            "Customer.Account.WebsiteUrl": lambda: f"https://www.customer{r % 7919}.example.com",
            "Customer.Account.CompanyName": lambda: f"Customer {r % 7919} Ltd",
            "Customer.Account.Address.PostalCode": lambda: f"{r % 99999:05d}",
            "Customer.Account.Address.CountryCode": lambda: "US",
            "Project.ExpectedContractDuration.Value": lambda: str(rng.choice([12, 24, 36])),
            "Project.CustomerBusinessProblem": lambda: _sentence(rng, 20, 300),
            "Project.Title": lambda: f"{_sentence(rng, 10, 60)} {r}",
            "LifeCycle.NextSteps": lambda: f"Call back on day {r % 365}: {_sentence(rng, 10, 80)}",
        }
        if key in special:
            return special[key]()
        if f.kind == "enum":
            return rng.choice(f.enum)
        if f.kind == "list":
            pool = f.allowed
            return ";".join(rng.sample(pool, min(2, len(pool))))
        if f.kind == "date":
            day = dt.date(2027, 1, 1) + dt.timedelta(days=r % 365)
            return day.isoformat()
        if f.documented:
            return rng.choice(f.documented)
        by_name: dict[str, Callable[[], str]] = {
            "Email": lambda: f"contact.{header[18]}.{r}@customer{r % 7919}.example.com",
            "Phone": lambda: f"+1555{r:07d}",
            "Amount": lambda: f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}",
            "Duns": lambda: f"{r:09d}",
            "AwsAccountId": lambda: f"{r:012d}",
            "EstimationUrl": lambda: (
                "https://calculator.aws/#/estimate?id="
                + "".join(rng.choices("0123456789abcdef", k=40))
            ),
            "RelatedOpportunityIdentifier": lambda: f"O{2_000_000_000 + r}",
            "FirstName": lambda: rng.choice(["Ana", "Bo", "Chen", "Dara", "Eli", "Femi"]),
            "LastName": lambda: rng.choice(["Silva", "Okafor", "Berg", "Tanaka", "Novak"]),
            "BusinessTitle": lambda: rng.choice(["CTO", "Head of IT", "Architect", "CFO"]),
            "TargetCompany": lambda: f"Customer {r % 7919} Ltd",
        }
        if name in by_name:
            return by_name[name]()
        lo, hi = f.min_length or 1, min(f.max_length or 120, 120)
        return _sentence(rng, lo, hi)


# Bad cells, one kind per column: (header, every n-th row, value).
_BAD = [
    ("LifeCycle.Stage", 997, "Prospekt"),
    ("Customer.Contacts[1].Email", 1499, "Not An Email"),
    ("LifeCycle.TargetCloseDate", 2003, "03/04/2027"),
    ("Customer.Account.Duns", 3001, "12AB"),
    ("Project.ExpectedCustomerSpend[1].CurrencyCode", 4001, "Dollars"),
]
# Case variants of allowed values: normalised, noted, still valid.
_LOOSE = [("Customer.Account.Industry", 211), ("Marketing.Source", 307)]


def make_workbook(path: Path, rows: int, seed: int = 7) -> dict[str, int]:
    """Write the sheet; return how many cells were written of each kind."""
    import xlsxwriter

    rng = random.Random(seed)
    columns = _columns()
    headers = [h for h, _ in columns]
    where = {h: i for i, h in enumerate(headers)}
    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "strings_to_formulas": False,
        },
    )
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    ws = book.add_worksheet("Opportunities")
    for c, h in enumerate(headers):
        ws.write_string(0, c, h)
    counts = {"text": 0, "number": 0, "date": 0, "bad": 0}
    postal = where["Customer.Account.Address.PostalCode"]
    close = where["LifeCycle.TargetCloseDate"]
    for r in range(1, rows + 1):
        row = _Row(rng, r)
        values = [row.value(h, f) for h, f in columns]
        for h, n, bad in _BAD:
            if r % n == 0:
                values[where[h]] = bad
                counts["bad"] += 1
        for h, n in _LOOSE:
            if r % n == 0:
                values[where[h]] = f"  {values[where[h]].lower()} "
        if r == rows:  # one duplicated identifier
            values[0] = f"O{1_000_000_000 + 1}"
            counts["bad"] += 1
        for c, v in enumerate(values):
            if not v:
                continue
            if c == postal and r % 20 == 0:  # typed into a General cell: lost its zeros
                ws.write_number(r, c, int(v))
                counts["number"] += 1
            elif c == close and r % 2 == 0 and v[:4] == "2027":  # a real date cell
                ws.write_datetime(r, c, dt.datetime.fromisoformat(v), date_format)
                counts["date"] += 1
            else:
                ws.write_string(r, c, v)
                counts["text"] += 1
    book.close()
    return counts


PATTERN_ROWS = 12_000
"""Rows generated by make_workbook that a big sheet repeats (each bad cell kind recurs)."""
CACHE = Path(tempfile.gettempdir()) / "bulk-update-bench"
_GENERATOR = "v2"  # in the cache key: a change of the generator makes new sheets


EXCEL_ROWS = 1_048_576
"""Excel's grid: a sheet of that many rows holds the header and 1,048,575 data rows."""


def cached_big_workbook(rows: int) -> Path:
    """The big sheet of ``rows`` data rows (at most Excel's grid less the header),
    generated once and kept under /tmp keyed by size."""
    rows = min(rows, EXCEL_ROWS - 1)
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"validate-{_GENERATOR}-{rows}.xlsx"
    if not path.exists():
        part = path.with_suffix(".part")
        make_big_workbook(part, rows)
        part.replace(path)
    return path


def make_big_workbook(path: Path, rows: int, seed: int = 7) -> None:
    """The sheet of make_workbook, in minutes for a million rows.

    make_workbook writes :data:`PATTERN_ROWS` rows (values, bad cells, case
    variants, number and date cells as it places them); their XML is then
    repeated, row after row, with each row's own number and identifier, and the
    last row's identifier a duplicate of the first's. The worksheet XML is
    written straight into the zip (deflate level 1), one row at a time: no
    per-cell Python call. xlsxwriter's constant_memory mode writes inline
    strings, so the repeated XML is the same kind of file as the small one.
    """
    pattern_path = path.with_name(path.name + ".pattern.xlsx")
    make_workbook(pattern_path, min(rows, PATTERN_ROWS), seed=seed)
    with zipfile.ZipFile(pattern_path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    pattern_path.unlink()
    sheet_name = "xl/worksheets/sheet1.xml"
    xml = parts.pop(sheet_name)
    start, end = xml.index(b"<sheetData>") + len(b"<sheetData>"), xml.index(b"</sheetData>")
    head, body, tail = xml[:start], xml[start:end], xml[end:]
    pieces = [r + b"</row>" for r in body.split(b"</row>") if r]
    header, templates = pieces[0], [_template(r) for r in pieces[1:]]
    last_col = re.search(rb'<dimension ref="A1:([A-Z]+)\d+"', head)
    assert last_col is not None
    head = head.replace(
        last_col.group(0), b'<dimension ref="A1:%s%d"' % (last_col.group(1), rows + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for name, data in parts.items():
            out.writestr(name, data)
        with out.open(sheet_name, "w", force_zip64=True) as sheet:
            sheet.write(head + header)
            block: list[bytes] = []
            for r in range(1, rows + 1):
                number = b"%d" % (r + 1)
                ident = b"O%d" % (1_000_000_000 + (1 if r == rows and r > 1 else r))
                block.append(
                    templates[(r - 1) % len(templates)]
                    .replace(b"\x00", number)
                    .replace(b"\x01", ident)
                )
                if len(block) >= 4096:
                    sheet.write(b"".join(block))
                    block = []
            sheet.write(b"".join(block) + tail)


def _template(row: bytes) -> bytes:
    """A row's XML with its row number as NUL and its identifier's text as SOH."""
    number = re.match(rb'<row r="(\d+)"', row)
    assert number is not None
    refs = re.compile(rb'( r="[A-Z]*)' + number.group(1) + rb'"')
    row = refs.sub(lambda m: m.group(1) + b'\x00"', row)
    return re.sub(
        rb"^(.*?<t>)O\d+(</t>)", lambda m: m.group(1) + b"\x01" + m.group(2), row, count=1
    )


# ---------------------------------------------------------------- children


def _peak_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Clock:
    """Wall and CPU seconds of named parts, summed over calls."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def wrap(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[part] = self.wall.get(part, 0.0) + time.perf_counter() - w
                self.cpu[part] = self.cpu.get(part, 0.0) + time.process_time() - c

        return timed


def child_validate(path: str, out: str) -> dict[str, Any]:
    """validate_file end to end, its parts timed where validate_file calls them."""
    from bulk_update import results  # imports before the clock
    from bulk_update.run.validate import validate_file
    from bulk_update.sheet import checks, chunks, columns

    start_mib = _peak_mib()
    clock = _Clock()
    chunks.open_stream = clock.wrap("read", chunks.open_stream)  # type: ignore[assignment]
    columns.resolve = clock.wrap("check", columns.resolve)
    checks.check_sheet = clock.wrap("check", checks.check_sheet)
    writer = results.ResultsWriter
    writer.add = clock.wrap("write", writer.add)  # type: ignore[method-assign]
    writer.close = clock.wrap("write", writer.close)  # type: ignore[method-assign]
    run = clock.wrap("total", validate_file)
    report = run(Path(path), out=Path(out))
    counts = {str(o): n for o, n in report.counts.items() if n}
    return {
        "wall": clock.wall,
        "cpu": clock.cpu,
        "peak_mib": _peak_mib(),
        "start_mib": start_mib,
        "rows": len(report.results),
        "counts": counts,
        "problems": len(report.problems),
        "errors": sum(p.is_error for p in report.problems),
    }


def child_floor(path: str, out: str, stream: bool = False) -> dict[str, Any]:
    """A bare calamine read, then a bare xlsxwriter constant_memory write of its cells as text."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    start_mib = _peak_mib()
    clock = _Clock()

    def read() -> list[list[Any]]:
        return CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()

    if stream:  # rows written as calamine gives them: no list of every row in Python
        # ZIP64 as ResultsWriter allows it: a million rows' sheet XML is over 2 GiB.
        book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_urls": False, "strings_to_formulas": False,
                                         "use_zip64": True})  # fmt: skip
        ws = book.add_worksheet("Results")
        put = ws.write_string
        cells = 0
        w, c = time.perf_counter(), time.process_time()
        for r, row in enumerate(CalamineWorkbook.from_path(path).get_sheet_by_index(0).iter_rows()):
            cells += len(row)
            for k, v in enumerate(row):
                if v != "":
                    put(r, k, v if type(v) is str else str(v))
        book.close()
        total = time.perf_counter() - w
        return {"wall": {"read": 0.0, "write": total}, "cpu": {"read": 0.0,
                "write": time.process_time() - c}, "peak_mib": _peak_mib(),
                "start_mib": start_mib, "cells": cells}  # fmt: skip

    def write(rows: list[list[Any]]) -> None:
        book = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "strings_to_formulas": False,
            },
        )
        ws = book.add_worksheet("Results")
        put = ws.write_string
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if v != "":
                    put(r, c, v if type(v) is str else str(v))
        book.close()

    rows = clock.wrap("read", read)()
    clock.wrap("write", write)(rows)
    return {
        "wall": clock.wall,
        "cpu": clock.cpu,
        "peak_mib": _peak_mib(),
        "start_mib": start_mib,
        "cells": sum(len(r) for r in rows),
    }


def _run_child(kind: str, path: Path, out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- main


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--file", type=Path, help="reuse or write the workbook here")
    parser.add_argument("--keep", action="store_true", help="keep the generated workbook")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each child (best kept)")
    parser.add_argument(
        "--scale",
        help="comma-separated row counts (e.g. 10000,100000,1048576): a scaling run",
    )
    parser.add_argument(
        "--parts", default="floor,validate", help="with --scale: floor, validate or both"
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, out = args.child
        if kind == "validate":
            print(json.dumps(child_validate(path, out)))
        else:
            print(json.dumps(child_floor(path, out, stream=kind == "floor-stream")))
        return
    if args.scale:
        scale(args.scale, args.parts)
        return

    tmp = tempfile.TemporaryDirectory()
    work = Path(tmp.name)
    path = args.file or work / "validate_bench.xlsx"
    if not path.exists():
        t0 = time.perf_counter()
        counts = make_workbook(path, args.rows)
        width = len(_columns())
        print(
            f"wrote {args.rows:,} rows x {width} columns in {time.perf_counter() - t0:.1f} s "
            f"({path.stat().st_size / 2**20:.1f} MiB; cells: {counts}): {path}"
        )
    print(f"load average before (1/5/15 min): {_load()}  ({os.cpu_count()} CPUs)")

    runs: dict[str, list[dict[str, Any]]] = {"floor": [], "validate": []}
    for _ in range(args.repeat):
        for kind in ("floor", "validate"):
            r = _run_child(kind, path, work / f"{kind}.out.xlsx")
            runs[kind].append(r)
            parts = ", ".join(
                f"{k} {v:.1f} s (cpu {r['cpu'][k]:.1f})" for k, v in r["wall"].items()
            )
            print(f"  {kind:<9} {parts}; peak RSS {r['peak_mib']:.0f} MiB  [load {_load()}]")
    print(f"load average after (1/5/15 min): {_load()}")

    floor = min(runs["floor"], key=lambda r: r["wall"]["read"] + r["wall"]["write"])
    best = min(runs["validate"], key=lambda r: r["wall"]["total"])
    fw, vw = floor["wall"], best["wall"]
    floor_s = fw["read"] + fw["write"]
    total = vw["total"]
    rest = total - vw["read"] - vw["check"] - vw["write"]
    peak = max(r["peak_mib"] for r in runs["validate"])
    print()
    print(
        f"validate: {best['rows']:,} rows, outcomes {best['counts']}, "
        f"{best['problems']} problems ({best['errors']} errors)"
    )
    print(f"{'figure':<40}{'wall s':>8}{'cpu s':>8}")
    for label, key in (("read   (chunks.open_stream: read + spill)", "read"),
                       ("check  (columns.resolve + check_sheet)", "check"),
                       ("write  (ResultsWriter.add + close)", "write")):  # fmt: skip
        print(f"{label:<40}{vw[key]:>8.1f}{best['cpu'][key]:>8.1f}")
    rest_cpu = best["cpu"]["total"] - sum(best["cpu"][k] for k in ("read", "check", "write"))
    print(f"{'other  (chunks back, RowResults)':<40}{rest:>8.1f}{rest_cpu:>8.1f}")
    print(f"{'total  (validate_file)':<40}{total:>8.1f}{best['cpu']['total']:>8.1f}")
    print(f"{'floor: bare calamine read':<40}{fw['read']:>8.1f}{floor['cpu']['read']:>8.1f}")
    print(f"{'floor: bare xlsxwriter write':<40}{fw['write']:>8.1f}{floor['cpu']['write']:>8.1f}")
    floor_cpu = floor["cpu"]["read"] + floor["cpu"]["write"]
    print(f"{'floor: read + write':<40}{floor_s:>8.1f}{floor_cpu:>8.1f}")
    ratio = total / floor_s
    cpu_ratio = best["cpu"]["total"] / floor_cpu
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(
        f"ratio total/floor: {ratio:.2f} (cpu {cpu_ratio:.2f}); target <= {TARGET_RATIO}: {verdict}"
    )
    verdict = "meets" if peak <= TARGET_RSS_MIB else "MISSES"
    print(
        f"peak RSS of validate_file: {peak:.0f} MiB (floor process {floor['peak_mib']:.0f} MiB); "
        f"target <= {TARGET_RSS_MIB} MiB: {verdict}"
    )
    if args.keep and not args.file:
        kept = Path.cwd() / "validate_bench.xlsx"
        path.replace(kept)
        print(f"kept {kept}")
    tmp.cleanup()


def scale(sizes: str, parts: str = "floor,validate") -> None:
    """For each size: the sheet (generated once, cached under /tmp), then the floor
    and validate, each in a fresh process; print wall, floor, ratio and peak RSS.

    The floor here streams (calamine's iter_rows written row by row with
    xlsxwriter) so that a million rows need no Python list of every cell; it does
    the same reading and writing as the floor of the 50,000-row run. ``parts``
    (``floor``, ``validate`` or both) lets the two be run at different times."""
    tmp = tempfile.TemporaryDirectory()
    work = Path(tmp.name)
    lines = []
    for n in (int(x) for x in sizes.split(",")):
        t0 = time.perf_counter()
        path = cached_big_workbook(n)
        print(f"sheet of {n:,} rows ready in {time.perf_counter() - t0:.0f} s "
              f"({path.stat().st_size / 2**20:.0f} MiB): {path} [load {_load()}]", flush=True)  # fmt: skip
        line = f"{n:>10,} rows:"
        fw = fc = None
        if "floor" in parts:
            floor = _run_child("floor-stream", path, work / "floor.out.xlsx")
            fw, fc = floor["wall"]["write"], floor["cpu"]["write"]
            line += (f" floor {fw:7.1f} s (cpu {floor['cpu']['write']:.1f}), "
                     f"peak RSS {floor['peak_mib']:.0f} MiB;")  # fmt: skip
            print(f"  {line} [load {_load()}]", flush=True)
        if "validate" in parts:
            run = _run_child("validate", path, work / "validate.out.xlsx")
            vw = run["wall"]["total"]
            line += (f" validate {vw:7.1f} s (cpu {run['cpu']['total']:.1f}), peak RSS "
                     f"{run['peak_mib']:.0f} MiB, {run['errors']} errors, outcomes {run['counts']}")  # fmt: skip
            if fw and fc:
                line += f"; ratio {vw / fw:.2f} (cpu {run['cpu']['total'] / fc:.2f})"
        line += f" [load {_load()}]"
        print(line, flush=True)
        lines.append(line)
    print("\n".join(["", "scaling:", *lines]))
    tmp.cleanup()


if __name__ == "__main__":
    main()
