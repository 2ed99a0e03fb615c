"""``bulk-update validate`` as a function, and what the run commands share.

The CLI parses options and calls :func:`validate_file`; it returns a
:class:`JobReport` and raises only :class:`bulk_update.errors.BulkUpdateError`
for a run that cannot start.  Row problems travel as records inside the report.
:func:`load`, :func:`save` and the per-row results are used by ``apply`` too.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError

from bulk_update import fields as cat
from bulk_update.errors import BulkUpdateError
from bulk_update.problems import Change, Outcome, Problem
from bulk_update.results import ResultsWriter, RowResult, RunSummary
from bulk_update.run.folder import FILE_MODE, RunFolder
from bulk_update.sheet import checks, chunks, columns
from bulk_update.sheet import read as readers
from bulk_update.times import now_stamp


@dataclass
class Loaded:
    """A sheet read, its columns resolved and every row checked."""

    sheet: readers.Sheet
    layout: columns.Layout
    report: checks.CheckReport


@dataclass
class JobReport:
    results: list[RowResult]
    problems: list[Problem]
    summary: RunSummary
    results_path: Path
    retry_path: Path | None = None
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[Outcome, int]:
        return RunSummary.counts(self.results)

    @property
    def exit_code(self) -> int:
        return 0 if all(r.outcome.ok for r in self.results) else 1


def load(path: Path, *, sheet: str | None, run_catalog: str | None, today: date | None) -> Loaded:
    """Read, resolve and check a sheet (no AWS call)."""
    data = readers.read_sheet(path, sheet)
    layout = columns.resolve(data.headers, cat.load())
    report = checks.check_sheet(
        data, layout, cat.load(), run_catalog=run_catalog, today=today or datetime.now(UTC).date()
    )
    return Loaded(data, layout, report)


def _cells(sheet: readers.Sheet) -> list[list[str]]:
    """The rows' cell texts; the readers give texts already, so usually no conversion."""
    values = sheet.cells.to_numpy(dtype=object)
    if set(map(type, values.flat)) <= {str}:
        return values.tolist()
    return sheet.cells.astype(str).values.tolist()


def identifier_cells(loaded: Loaded) -> list[str]:
    pos = loaded.layout.identifier.position
    return [str(v).strip() for v in loaded.sheet.cells[pos].tolist()]


def _invalid_message(problems: list[Problem]) -> str:
    errors = [p for p in problems if p.is_error]
    shown = "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in errors[:3])
    if len(errors) > 3:
        shown += f"; and {len(errors) - 3} more (see the Errors sheet)"
    return shown


def default_out(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.stem}.{suffix}.xlsx")


_NO_CHANGES: list[Change] = []
_NO_CELLS: list[str] = []
"""The report's results keep no changes and no cells: all of them share these two
empty lists (never filled) instead of two new ones each, which is 112 bytes a row,
about 110 MB on a sheet of 1,048,575 rows."""


def validate_file(
    path: Path,
    *,
    sheet: str | None = None,
    catalog: str | None = None,
    out: Path | None = None,
    today: date | None = None,
    chunk_bytes: int | None = None,
) -> JobReport:
    """``bulk-update validate``: every row ``valid`` or ``invalid``, no AWS call.

    The sheet is read, checked and written chunk by chunk (:mod:`bulk_update.sheet.chunks`),
    so memory does not grow with the rows' cells; ``chunk_bytes`` sets the chunk size.
    The report's results keep each row's outcome and message, not its cells.
    """
    started = datetime.now(UTC)
    fields = cat.load()
    day = today or datetime.now(UTC).date()
    stream = chunks.open_stream(
        path,
        sheet,
        lambda headers: columns.resolve(headers, fields).identifier.position,
        chunk_bytes=chunk_bytes,
    )
    layout = columns.resolve(stream.headers, fields)
    target = out or default_out(path, "results")
    results: list[RowResult] = []
    problems: list[Problem] = []
    with stream, tempfile.TemporaryDirectory(prefix="bulk-update-") as tmp:
        writer = ResultsWriter(Path(tmp) / "results.xlsx", stream.headers, "validate")
        for part in stream.chunks():
            report = checks.check_sheet(
                part, layout, fields, run_catalog=catalog, today=day,
                duplicates=stream.duplicates,
            )  # fmt: skip
            loaded = Loaded(part, layout, report)

            def valid(i: int, row: int, ident: str, cells: list[str], r=report) -> RowResult:
                notes = r.normalised[i] if r.normalised else []
                return RowResult(row, ident, Outcome.VALID, "; ".join(notes), [], cells)

            rows = row_results(loaded, valid)
            writer.add(rows, report.problems)
            problems.extend(report.problems)
            results.extend(
                RowResult(r.row, r.identifier, r.outcome, r.message, _NO_CHANGES, _NO_CELLS)
                for r in rows
            )
            del rows, loaded, report, part
        summary = RunSummary("validate", catalog, str(path), started, datetime.now(UTC))
        written = writer.close(summary)
        target = save(target, lambda t: Path(shutil.copyfile(written, t)))
    return JobReport(results, problems, summary, target)


def save(target: Path, write: Callable[[Path], Path], *, late: bool = False) -> Path:
    """Write an output file, making its folder; if the file cannot be written
    (open in Excel, say), write it beside under a timestamped name instead.

    ``late`` (the run already wrote to Partner Central, so its results must not
    be lost): when neither can be written (a full disk), write it under the
    system's temporary folder and return that path.  A failed attempt leaves
    no empty or partial file behind.
    """
    stamp = now_stamp()
    tries = [target, target.with_name(f"{target.stem}-{stamp}{target.suffix}")]
    if late:
        tries.append(Path(tempfile.gettempdir()) / "bulk-update-results" / tries[1].name)
    reason = ""
    with _quiet_unraisable():
        for n, place in enumerate(tries):
            existed = place.exists()
            try:
                if n == 2:  # the temporary folder is shared: keep the results private there
                    place.parent.mkdir(mode=0o700, exist_ok=True)
                    written = write(place)
                    os.chmod(written, FILE_MODE)
                    return written
                place.parent.mkdir(parents=True, exist_ok=True)
                return write(place)
            except (OSError, FileCreateError) as exc:
                # Keep the words only: the exception's frames hold the half-written file.
                reason = reason or (getattr(exc, "strerror", None) or str(exc))
            _remove_partial(place, existed)
    raise BulkUpdateError(
        f"cannot write {target}: {reason}; close it if it is open in Excel, "
        "or choose another place with --out"
    )


@contextmanager
def _quiet_unraisable() -> Iterator[None]:
    """Keep a failed workbook write from printing a traceback later.

    When xlsxwriter cannot finish a file (a full disk), its zip file is left
    open; closing it when it is collected fails again, and Python would print
    that as "Exception ignored in ...". The failure is already reported in one
    line, so such leftovers are collected here, silently.
    """
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        yield
    finally:
        gc.collect()
        sys.unraisablehook = hook


def _remove_partial(path: Path, existed: bool) -> None:
    """Remove what a failed write left: a file it created, or one it left empty."""
    try:
        if path.is_file() and (not existed or path.stat().st_size == 0):
            path.unlink()
    except OSError:
        pass


def check_writable(path: Path, what: str) -> None:
    """Refuse (exit 2) an output that cannot be written, before any call is made.

    The folder is made if missing and a probe file written and removed in it:
    so a read-only folder, a path under a file, or a full disk is found now,
    not after the first update was sent.
    """
    if path.is_dir():
        raise BulkUpdateError(f"cannot write the {what} {path}: it is a folder; name a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".bulk-update-probe-")
        try:
            os.write(fd, b"probe")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        where = exc.filename or path.parent
        raise BulkUpdateError(
            f"cannot write the {what} {path}: {exc.strerror or exc} ({where}); "
            "nothing was sent: choose another place with --out or --run-dir"
        ) from None


def keep_private(path: Path, folder: RunFolder) -> None:
    """An output written inside a run folder is as private as the journal (0600)."""
    if path.resolve().is_relative_to(folder.path.resolve()):
        os.chmod(path, FILE_MODE)


def row_results(
    loaded: Loaded, checked: Callable[[int, int, str, list[str]], RowResult]
) -> list[RowResult]:
    """One result per sheet row, in order: ``invalid`` when the checks refused it,
    else what ``checked(index, row number, identifier, cells)`` says."""
    by_row = _problems_by_row(loaded.report.problems)
    cells = _cells(loaded.sheet)
    ids = identifier_cells(loaded)
    results = []
    for i, row in enumerate(loaded.sheet.row_numbers):
        if loaded.report.edits[i] is None:
            message = _invalid_message(by_row.get(row, []))
            results.append(RowResult(row, ids[i], Outcome.INVALID, message, [], cells[i]))
        else:
            results.append(checked(i, row, ids[i], cells[i]))
    return results


def _problems_by_row(problems: list[Problem]) -> dict[int, list[Problem]]:
    out: dict[int, list[Problem]] = {}
    for p in problems:
        if p.row is not None:
            out.setdefault(p.row, []).append(p)
    return out


__all__ = ["JobReport", "Loaded", "check_writable", "load", "save", "validate_file"]
