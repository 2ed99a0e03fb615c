"""The library side of the commands: ``validate`` and ``apply`` as functions.

The CLI parses options and calls these; they return a :class:`JobReport`
and raise only :class:`bulk_update.errors.BulkUpdateError` for a run that
cannot start.  Row problems travel as records inside the report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError

from bulk_update import fields as cat
from bulk_update.api import client as pcc
from bulk_update.errors import BulkUpdateError
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome, Problem
from bulk_update.results import ResultsWriter, RowResult, RunSummary, write_results, write_retry
from bulk_update.run.executor import Executor, Options, RowOutcome, confirmed_run
from bulk_update.run.folder import FILE_MODE, RunFolder
from bulk_update.run.ledger import Ledger
from bulk_update.run.settle import Verdict, settle
from bulk_update.sheet import baseline, checks, chunks, columns
from bulk_update.sheet import read as readers
from bulk_update.times import iso_or_none, now_stamp


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
    return sheet.cells.astype(str).values.tolist()


def _identifier_cells(loaded: Loaded) -> list[str]:
    pos = loaded.layout.identifier.position
    return [str(v).strip() for v in loaded.sheet.cells[pos].tolist()]


def _invalid_message(problems: list[Problem]) -> str:
    errors = [p for p in problems if p.is_error]
    shown = "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in errors[:3])
    if len(errors) > 3:
        shown += f"; and {len(errors) - 3} more (see the Errors sheet)"
    return shown


def _default_out(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.stem}.{suffix}.xlsx")


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
    target = out or _default_out(path, "results")
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

            rows = _row_results(loaded, valid)
            writer.add(rows, report.problems)
            problems.extend(report.problems)
            results.extend(RowResult(r.row, r.identifier, r.outcome, r.message) for r in rows)
            del rows, loaded, report, part
        summary = RunSummary("validate", catalog, str(path), started, datetime.now(UTC))
        written = writer.close(summary)
        target = save(target, lambda t: Path(shutil.copyfile(written, t)))
    return JobReport(results, problems, summary, target)


def save(target: Path, write: Callable[[Path], Path]) -> Path:
    """Write an output file, making its folder; if the file cannot be written
    (open in Excel, say), write it beside under a timestamped name instead."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return write(target)
    except (OSError, FileCreateError) as exc:
        stamp = now_stamp()
        other = target.with_name(f"{target.stem}-{stamp}{target.suffix}")
        try:
            return write(other)
        except (OSError, FileCreateError):
            reason = getattr(exc, "strerror", None) or str(exc)
            raise BulkUpdateError(
                f"cannot write {target}: {reason}; close it if it is open in Excel, "
                "or choose another place with --out"
            ) from None


def keep_private(path: Path, folder: RunFolder) -> None:
    """An output written inside a run folder is as private as the journal (0600)."""
    if path.resolve().is_relative_to(folder.path.resolve()):
        os.chmod(path, FILE_MODE)


def _row_results(
    loaded: Loaded, checked: Callable[[int, int, str, list[str]], RowResult]
) -> list[RowResult]:
    """One result per sheet row, in order: ``invalid`` when the checks refused it,
    else what ``checked(index, row number, identifier, cells)`` says."""
    by_row = _problems_by_row(loaded.report.problems)
    cells = _cells(loaded.sheet)
    ids = _identifier_cells(loaded)
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


@dataclass
class ApplySettings:
    catalog: str
    sheet: str | None = None
    out: Path | None = None
    run_dir: Path | None = None
    dry_run: bool = False
    on_conflict: str = "skip"
    max_writes: int | None = None
    workers: int = 8
    today: date | None = None
    resume: Path | None = None
    ledger: Ledger | None = None
    verify: bool = True
    """Read each written record back and warn about fields it did not keep."""


Confirm = Callable[[dict[Outcome, int]], bool]


def apply_file(
    path: Path | None,
    pc: pcc.PartnerCentral,
    settings: ApplySettings,
    *,
    confirm: Confirm | None = None,
    on_row: Callable[[RowOutcome], None] | None = None,
    on_executor: Callable[[Executor], None] | None = None,
) -> JobReport:
    """``bulk-update apply``: check, read, merge, write, and report every row.

    ``confirm`` is asked once with the planned counts before the first write
    (the CLI asks it for the production catalog); returning False ends the
    run with every writing row ``skipped``.  ``on_executor`` receives the
    executor so the caller can stop it (Ctrl-C).
    """
    started = datetime.now(UTC)
    folder: RunFolder | None = None
    previous: dict[int, tuple[str, str, str | None]] = {}
    in_flight: dict[int, str | None] = {}
    if settings.resume is not None:
        folder = RunFolder.open(settings.resume, catalog=settings.catalog)
        path = folder.input_path
        folder.check_input(path)
        state = folder.replay()
        for n, rs in state.rows.items():
            if rs.in_flight:
                in_flight[n] = iso_or_none(rs.last_modified_sent)
            elif rs.state != Outcome.SKIPPED.value:
                previous[n] = (rs.state, rs.message, iso_or_none(rs.new_last_modified))
        settings.sheet = folder.settings.get("sheet", settings.sheet)
    assert path is not None
    loaded = load(path, sheet=settings.sheet, run_catalog=settings.catalog, today=settings.today)
    if folder is None and not settings.dry_run:
        folder = RunFolder.create(
            settings.run_dir,
            input_path=path,
            catalog=settings.catalog,
            command="apply",
            settings={"sheet": settings.sheet, "on_conflict": settings.on_conflict},
        )
    options = Options(
        dry_run=settings.dry_run,
        on_conflict=settings.on_conflict,  # type: ignore[arg-type]
        max_writes=settings.max_writes,
        ledger=settings.ledger,
        workers=settings.workers,
        today=settings.today,
        verify=settings.verify,
    )
    baselines, baseline_notes = baseline.row_baselines(
        loaded.sheet, loaded.report.edits, _identifier_cells(loaded)
    )
    executor = Executor(pc, options, folder, on_row=on_row, baselines=baselines)
    if on_executor:
        on_executor(executor)

    edits: list[RowEdit] = []
    outcomes: dict[int, RowOutcome] = {}
    for edit in loaded.report.edits:
        if edit is None:
            continue
        if edit.row in previous:
            o, msg, ver = previous[edit.row]
            outcomes[edit.row] = RowOutcome(
                edit.row, edit.identifier, Outcome(o), msg, new_version=ver
            )
        elif edit.row in in_flight:
            settled = _settle_in_flight(pc, edit, in_flight[edit.row])
            if settled is None:
                edits.append(edit)
            else:
                outcomes[edit.row] = settled
                if folder is not None:
                    folder.done(
                        settled.row,
                        settled.identifier,
                        settled.outcome.value,
                        settled.new_version,
                        settled.message,
                    )
        else:
            edits.append(edit)

    planner = None
    if confirm is not None and not settings.dry_run:
        planner = Executor(
            pc,
            Options(
                dry_run=True,
                on_conflict=options.on_conflict,
                workers=options.workers,
                today=options.today,
            ),
            baselines=baselines,
        )
        if on_executor:
            on_executor(planner)
    outcomes.update(confirmed_run(executor, planner, edits, confirm))

    problems = list(loaded.report.problems) + baseline_notes

    def carried_out(i: int, row: int, ident: str, cells: list[str]) -> RowResult:
        done = outcomes[row]
        problems.extend(done.problems)
        return RowResult(row, ident, done.outcome, done.message, done.changes, cells)

    results = _row_results(loaded, carried_out)
    stats = pc.stats
    summary = RunSummary(
        "apply --dry-run" if settings.dry_run else "apply",
        settings.catalog,
        str(path),
        started,
        datetime.now(UTC),
        calls=stats.calls,
        throttled=stats.throttled,
        retries=stats.retries,
        writes=stats.writes,
    )
    if executor.stop_reason:
        summary.extra["stopped"] = executor.stop_reason
    if folder is not None:
        summary.extra["run folder"] = str(folder.path)
    target = settings.out or (
        folder.path / "results.xlsx" if folder else _default_out(path, "dry-run")
    )
    target = save(
        target, lambda t: write_results(t, results, problems, loaded.sheet.headers, summary)
    )
    if folder is not None:
        keep_private(target, folder)
    retry_path = None
    retry = [
        r
        for r in results
        if r.outcome not in (Outcome.UPDATED, Outcome.UNCHANGED, Outcome.WOULD_UPDATE)
    ]
    if retry and not settings.dry_run:
        is_csv = path.suffix.lower() == ".csv"
        retry_path = target.with_name(f"{path.stem}.retry{'.csv' if is_csv else '.xlsx'}")
        retry_path = save(
            retry_path,
            lambda t: write_retry(t, loaded.sheet.headers, [r.cells for r in retry], csv=is_csv),
        )
        if folder is not None:
            keep_private(retry_path, folder)
    return JobReport(
        results, problems, summary, target, retry_path, folder.path if folder else None
    )


def _settle_in_flight(pc: pcc.PartnerCentral, edit: RowEdit, sent: str | None) -> RowOutcome | None:
    """A write the last run sent but never saw answered: did it land? (None: plan it again.)"""
    got = settle(pc, edit.identifier, sent, edits=edit.edits)
    if got.verdict is Verdict.NOT_LANDED:
        return None
    if got.verdict is Verdict.LANDED:
        return RowOutcome(
            edit.row,
            edit.identifier,
            Outcome.UPDATED,
            "updated by the interrupted run (confirmed by reading the record again)",
            new_version=iso_or_none(got.version),
        )
    return RowOutcome(
        edit.row,
        edit.identifier,
        Outcome.CONFLICT,
        "the interrupted run's write cannot be confirmed: the record now holds "
        "other values; check it in Partner Central",
    )


__all__ = ["ApplySettings", "BulkUpdateError", "JobReport", "apply_file", "validate_file"]
