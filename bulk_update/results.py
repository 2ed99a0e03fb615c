"""The results workbook, the retry file and the ``--json`` summary of a run.

Every ``validate`` and ``apply`` run ends here (sheet-contract.md, section 6):

- :func:`write_results` writes a workbook with three sheets: ``Results`` (one
  line per input row: its outcome, message, changes and its own cells),
  ``Errors`` (one line per problem) and ``Summary`` (counts per outcome, the
  run's facts and a chart).
- :func:`write_retry` writes the rows that did not end ``updated`` or
  ``unchanged`` in the input's format, ready to fix and run again.
- :func:`summary_dict` gives the same summary as plain data for ``--json``.

Every text goes into a workbook as a text cell, never as a formula, a number or
a link: a value such as ``=1+1``, ``+123`` or ``@foo`` comes back exactly as it
was. The workbook is written with xlsxwriter in constant-memory mode, the
Results and Errors lines each in one call (:class:`bulk_update.xlsxrows.RowSheet`:
the bytes xlsxwriter would write, at a fraction of its per-cell cost): see
the README's Performance section for what a 50,000-row result costs.
"""

from __future__ import annotations

import csv as csvlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bulk_update.csvtext import escape
from bulk_update.problems import Outcome, Problem
from bulk_update.problems import RowEnd as RowResult
from bulk_update.times import duration_text, when_text
from bulk_update.workbook import CELL_LIMIT as CELL_LIMIT
from bulk_update.workbook import HEADER_STYLE, column_width, print_setup
from bulk_update.workbook import LINE_HEIGHT as LINE_HEIGHT
from bulk_update.workbook import TRUNCATED as TRUNCATED
from bulk_update.workbook import WORKBOOK_OPTIONS as WORKBOOK_OPTIONS
from bulk_update.workbook import fit as fit
from bulk_update.workbook import wrapped_lines as wrapped_lines
from bulk_update.xlsxrows import Cell, RowSheet

# One fill colour per outcome (sheet-contract.md, section 5).
OUTCOME_COLOURS: dict[Outcome, str] = {
    Outcome.UPDATED: "#C6EFCE",
    Outcome.UNCHANGED: "#D9D9D9",
    Outcome.VALID: "#C6EFCE",
    Outcome.WOULD_UPDATE: "#BDD7EE",
    Outcome.INVALID: "#FFC7CE",
    Outcome.CONFLICT: "#F8CBAD",
    Outcome.LOCKED: "#D9C3E9",
    Outcome.NOT_FOUND: "#FFEB9C",
    Outcome.FAILED: "#C00000",
    Outcome.SKIPPED: "#EDEDED",
    Outcome.UPGRADE_NEEDED: "#FFD966",
}
_WHITE_TEXT = {Outcome.FAILED}

WRAP_WIDTH = 50
"""Width of the Message and Changes columns, in characters."""
MAX_LINES = 12
"""A row grows to show at most this many wrapped lines; the rest is in the cell."""

RESULT_COLUMNS = ["Row", "Identifier", "Outcome", "Message", "Changes"]
ERROR_COLUMNS = ["Row", "Identifier", "Column", "Value", "Problem", "Severity", "Code"]


@dataclass
class RunSummary:
    """The facts of one run that the Summary sheet and ``--json`` report."""

    command: str
    """``validate``, ``apply``, ``apply --dry-run`` or ``rollback``."""
    catalog: str | None
    input_file: str
    started: datetime
    ended: datetime
    calls: int = 0
    throttled: int = 0
    retries: int = 0
    writes: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    """Anything else worth a line on the Summary sheet (label -> text)."""
    results_file: str | None = None
    retry_file: str | None = None

    @classmethod
    def of_calls(
        cls,
        command: str,
        catalog: str | None,
        input_file: str,
        started: datetime,
        stats: Any,
        writes: int,
    ) -> RunSummary:
        """A run that called Partner Central: its call counts, ended now."""
        return cls(
            command,
            catalog,
            input_file,
            started,
            datetime.now(UTC),
            calls=stats.calls,
            throttled=stats.throttled,
            retries=stats.retries,
            writes=writes,
        )

    @staticmethod
    def counts(results: Iterable[RowResult]) -> dict[Outcome, int]:
        """How many rows ended with each outcome; every outcome listed, zeros included."""
        counts = dict.fromkeys(Outcome, 0)
        for r in results:
            counts[r.outcome] += 1
        return counts

    @property
    def seconds(self) -> float:
        return max(0.0, (self.ended - self.started).total_seconds())


class _Styles:
    """The formats a results workbook uses, made once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format(HEADER_STYLE)
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.top = book.add_format({"valign": "top"})
        self.bold = book.add_format({"bold": True})
        self.outcome: dict[Outcome, Format] = {}
        for outcome, colour in OUTCOME_COLOURS.items():
            spec: dict[str, Any] = {"bg_color": colour, "valign": "top", "bold": True}
            if outcome in _WHITE_TEXT:
                spec["font_color"] = "#FFFFFF"
            self.outcome[outcome] = book.add_format(spec)


def _headers(ws: Worksheet, names: Sequence[str], style: Format) -> None:
    for col, name in enumerate(names):
        ws.write_string(0, col, fit(name)[0], style)


def _results_layout(
    ws: Worksheet, sample: Sequence[RowResult], headers: Sequence[str], st: _Styles
) -> None:
    """Column widths (from the first rows), panes, printing and the header row."""
    names = [*RESULT_COLUMNS, *headers]
    ws.set_column(0, 0, 7, st.top)
    ws.set_column(1, 1, 22, st.top)
    ws.set_column(2, 2, 14, st.top)
    ws.set_column(3, 4, WRAP_WIDTH, st.wrap)
    base = len(RESULT_COLUMNS)
    for i, name in enumerate(headers):
        column = (r.cells[i] for r in sample[:200] if i < len(r.cells))
        ws.set_column(base + i, base + i, column_width([name, *column], most=40))
    ws.freeze_panes(1, 3)
    print_setup(ws)
    ws.repeat_columns(0, 2)
    _headers(ws, names, st.header)


def _write_result(
    ws: RowSheet, n: int, result: RowResult, headers: Sequence[str], st: _Styles
) -> None:
    """Line ``n`` of the Results sheet: the outcome, then the input's own cells."""
    base = len(RESULT_COLUMNS)
    cells = result.cells
    # A cell cut to fit is told in Message (only a text over half the limit can be over it).
    cut: list[str] = []
    if cells and max(map(len, cells)) > CELL_LIMIT // 2:
        cells, cut = _fitted(cells, headers)
    message = result.message
    if cut:
        note = f"Cells cut to Excel's {CELL_LIMIT:,}-character limit here: {', '.join(cut)}."
        message = f"{message} {note}".strip()
    changes = "\n".join(str(c) for c in result.changes)
    changes, changes_cut = fit(changes)
    if changes_cut:
        message = f"{message} The list of changes is cut to fit Excel's cell limit.".strip()
    lines = max(wrapped_lines(message, WRAP_WIDTH), wrapped_lines(changes, WRAP_WIDTH))
    lead: list[Cell] = [
        (0, result.row, None),
        (1, fit(result.identifier)[0], None),
        (2, str(result.outcome), st.outcome[result.outcome]),
    ]
    if message:
        lead.append((3, fit(message)[0], None))
    if changes:
        lead.append((4, changes, None))
    height = LINE_HEIGHT * min(lines, MAX_LINES) if lines > 1 else None
    ws.put_row(n, lead, cells, base, height)


def _fitted(cells: Sequence[str], headers: Sequence[str]) -> tuple[list[str], list[str]]:
    """The cells cut to Excel's limit, and the headers of those cut."""
    out, cut = [], []
    for i, value in enumerate(cells):
        text, was_cut = fit(value)
        out.append(text)
        if was_cut:
            cut.append(headers[i] if i < len(headers) else f"column {i + 1}")
    return out, cut


def _errors_layout(ws: Worksheet, st: _Styles) -> None:
    widths = [7, 22, 34, 30, 80, 10, 22]
    for col, width in enumerate(widths):
        ws.set_column(col, col, width, st.wrap if col in (3, 4) else st.top)
    ws.freeze_panes(1, 0)
    print_setup(ws)
    _headers(ws, ERROR_COLUMNS, st.header)


def _write_problem(ws: RowSheet, n: int, p: Problem) -> None:
    """Line ``n`` of the Errors sheet."""
    cells: list[Cell] = [] if p.row is None else [(0, p.row, None)]
    value, value_cut = fit(p.value or "")
    message = p.message
    if value_cut:
        message += f" (The value is cut to Excel's {CELL_LIMIT:,}-character limit here.)"
    texts = [p.identifier or "", p.column or "", value, message, str(p.severity), p.code]
    cells += [(col, fit(text)[0], None) for col, text in enumerate(texts, start=1) if text]
    ws.put_row(n, cells)


class ResultsWriter:
    """The results workbook written as the rows come, in constant memory.

    ``add`` takes the next rows' results (in sheet order) and their problems;
    ``close`` writes the Summary and returns the path. The first call to
    ``add`` sets the column widths from its first rows. Problems are written
    in row order within each call (a problem without a row first), so calls in
    sheet order give the same Errors sheet as :func:`write_results`.
    """

    def __init__(self, path: str | Path, headers: Sequence[str], command: str) -> None:
        self.path = Path(path)
        self.headers = list(headers)
        # ZIP64 allowed: the Results sheet of Excel's 1,048,575 rows is over 2 GiB of
        # XML, which zipfile refuses without it (a small file is written as before).
        self.book = xlsxwriter.Workbook(str(self.path), {**WORKBOOK_OPTIONS, "use_zip64": True})
        self.book.set_properties({"title": f"bulk-update {command} results"})
        self.st = _Styles(self.book)
        self.results_ws = self._row_sheet("Results")
        self.errors_ws = self._row_sheet("Errors")
        self.summary_ws = self.book.add_worksheet("Summary")
        _errors_layout(self.errors_ws, self.st)
        self.counts = dict.fromkeys(Outcome, 0)
        self.rows = 0
        self.problems = 0
        self._laid_out = False

    def _row_sheet(self, name: str) -> RowSheet:
        sheet = self.book.add_worksheet(name, worksheet_class=RowSheet)
        assert isinstance(sheet, RowSheet)
        return sheet

    def add(self, results: Sequence[RowResult], problems: Sequence[Problem] = ()) -> None:
        if not self._laid_out:
            _results_layout(self.results_ws, results, self.headers, self.st)
            self._laid_out = True
        for result in results:
            self.rows += 1
            self.counts[result.outcome] += 1
            _write_result(self.results_ws, self.rows, result, self.headers, self.st)
        for p in sorted(problems, key=lambda p: -1 if p.row is None else p.row):
            self.problems += 1
            _write_problem(self.errors_ws, self.problems, p)

    def close(self, summary: RunSummary) -> Path:
        if not self._laid_out:
            _results_layout(self.results_ws, [], self.headers, self.st)
        names = len(RESULT_COLUMNS) + len(self.headers)
        self.results_ws.autofilter(0, 0, max(self.rows, 1), names - 1)
        self.errors_ws.autofilter(0, 0, max(self.problems, 1), len(ERROR_COLUMNS) - 1)
        _write_summary_sheet(self.book, self.summary_ws, self.counts, summary, self.st)
        self.results_ws.activate()
        self.book.close()
        return self.path


def _write_summary_sheet(
    book: xlsxwriter.Workbook,
    ws: Worksheet,
    counts: dict[Outcome, int],
    summary: RunSummary,
    st: _Styles,
) -> None:
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 40)
    print_setup(ws, one_page=True)
    ws.write_string(0, 0, "Outcome", st.header)
    ws.write_string(0, 1, "Rows", st.header)
    row = 1
    for outcome, count in counts.items():
        ws.write_string(row, 0, str(outcome), st.outcome[outcome])
        ws.write_number(row, 1, count)
        row += 1
    last = row - 1
    ws.write_string(row, 0, "total", st.bold)
    ws.write_number(row, 1, sum(counts.values()), st.bold)
    row += 2
    ws.write_string(row, 0, "Run", st.header)
    ws.write_string(row, 1, "", st.header)
    row += 1
    facts: list[tuple[str, str | int]] = [
        ("Command", summary.command),
        ("Catalog", summary.catalog or "(none)"),
        ("Input file", summary.input_file),
    ]
    if summary.results_file:
        facts.append(("Results file", summary.results_file))
    if summary.retry_file:
        facts.append(("Retry file", summary.retry_file))
    facts += [
        ("Started", when_text(summary.started)),
        ("Ended", when_text(summary.ended)),
        ("Duration", duration_text(summary.seconds)),
        ("Calls made", summary.calls),
        ("Throttled calls", summary.throttled),
        ("Retries", summary.retries),
        ("Writes", summary.writes),
        *summary.extra.items(),
    ]
    for label, value in facts:
        ws.write_string(row, 0, fit(label)[0], st.bold)
        if isinstance(value, int):
            ws.write_number(row, 1, value)
        else:
            ws.write_string(row, 1, fit(value)[0])
        row += 1
    ws.insert_chart(1, 3, _summary_chart(book, counts, last))


def _summary_chart(book: xlsxwriter.Workbook, counts: dict[Outcome, int], last: int) -> Any:
    """The Summary's column chart of rows per outcome (rows 1 to ``last`` of its table)."""
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "Rows",
            "categories": ["Summary", 1, 0, last, 0],
            "values": ["Summary", 1, 1, last, 1],
            "points": [
                {"fill": {"color": OUTCOME_COLOURS[o]}, "border": {"color": "#808080"}}
                for o in counts
            ],
            "data_labels": {"value": True},
        }
    )
    chart.set_title({"name": "Rows per outcome"})
    chart.set_legend({"none": True})
    step = max(1, -(-max(counts.values(), default=0) // 5))
    chart.set_y_axis(
        {
            "name": "Rows",
            "min": 0,
            "major_unit": step,
            "num_format": "0",
            "major_gridlines": {"visible": True},
        }
    )
    chart.set_size({"width": 640, "height": 320})
    return chart


def write_results(
    path: str | Path,
    results: list[RowResult],
    problems: list[Problem],
    headers: list[str],
    summary: RunSummary,
) -> Path:
    """Write the results workbook (Results, Errors, Summary) and return its path.

    ``headers`` are the input's own headers, as read; each result's ``cells``
    follow them. The workbook opens on the Results sheet.
    """
    writer = ResultsWriter(path, headers, summary.command)
    writer.add(results, problems)
    return writer.close(summary)


def write_retry(
    path: str | Path,
    sheet_headers: list[str],
    rows: list[list[str]],
    *,
    csv: bool,
    sheet_name: str = "Retry",
) -> Path:
    """Write the rows to try again, with the input's headers, as xlsx or csv.

    The caller picks the rows (those not ended ``updated``/``unchanged``). An xlsx holds one sheet of text cells in text-formatted
    columns, so Excel keeps leading zeros when the user edits them. A csv is
    UTF-8 with a byte-order mark (so Excel reads its accents right), comma
    delimited, with cells quoted where they need it, and every cell that a
    spreadsheet would run as a formula escaped (:func:`bulk_update.csvtext.escape`:
    one apostrophe first, which the tool's reader takes off again).
    """
    path = Path(path)
    if csv:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csvlib.writer(fh, quoting=csvlib.QUOTE_MINIMAL)
            writer.writerow([escape(h) for h in sheet_headers])
            writer.writerows([escape(v) for v in row] for row in rows)
        return path
    book = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    text = book.add_format({"num_format": "@"})
    header = book.add_format({"bold": True, "num_format": "@"})
    ws = book.add_worksheet(sheet_name, worksheet_class=RowSheet)
    for col, name in enumerate(sheet_headers):
        sample = (r[col] for r in rows[:200] if col < len(r))
        ws.set_column(col, col, column_width([name, *sample], most=40), text)
    ws.freeze_panes(1, 0)
    print_setup(ws)
    _headers(ws, sheet_headers, header)
    for n, row in enumerate(rows, start=1):  # whole rows: a text like "<r>...</r>" stays text
        ws.put_row(n, (), row)
    book.close()
    return path


def summary_dict(results: Iterable[RowResult], summary: RunSummary) -> dict[str, Any]:
    """The run's summary as plain JSON-ready data (for ``--json``)."""
    counts = RunSummary.counts(results)
    total = sum(counts.values())
    files = {"input": summary.input_file}
    if summary.results_file:
        files["results"] = summary.results_file
    if summary.retry_file:
        files["retry"] = summary.retry_file
    return {
        "command": summary.command,
        "catalog": summary.catalog,
        "rows": total,
        "ok": all(o.ok for o, n in counts.items() if n),
        "counts": {str(o): n for o, n in counts.items()},
        "files": files,
        "started": summary.started.isoformat(),
        "ended": summary.ended.isoformat(),
        "seconds": round(summary.seconds, 3),
        "calls": summary.calls,
        "throttled": summary.throttled,
        "retries": summary.retries,
        "writes": summary.writes,
        "extra": dict(summary.extra),
    }
