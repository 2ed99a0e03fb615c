"""``bulk-update apply`` as a function: check, read, merge, write, report every row.

The steps, each a function below: open the run (a new run folder, or the one
to resume, locked for the life of the run), load and check the sheet, carry
over what a resumed journal already settled, run the rest through the
executor (asking ``confirm`` first when given), then write the results and
end the run (journal ``finish``, folder closed) the same way rollback does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from bulk_update.api import client as pcc
from bulk_update.decide import Held
from bulk_update.errors import BulkUpdateError, RunFolderError
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome, Problem, Severity
from bulk_update.results import RowResult, RunSummary, summary_dict, write_results, write_retry
from bulk_update.run import enumcheck
from bulk_update.run.confirm import confirmed_run
from bulk_update.run.deciders import MergeDecider
from bulk_update.run.executor import Executor, Options, RowOutcome
from bulk_update.run.folder import RunFolder, end_run, find_run, holder_text, private_dir
from bulk_update.run.journal import JournalState, RowState
from bulk_update.run.ledger import Ledger
from bulk_update.run.settle import AGAIN, RESUME, settle_in_flight, settle_row
from bulk_update.run.validate import (
    JobReport,
    Loaded,
    check_writable,
    default_out,
    identifier_cells,
    keep_private,
    load,
    row_results,
    save,
)
from bulk_update.sheet import baseline
from bulk_update.times import iso_or_none


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
    allow_concurrent: bool = False
    """Start even while another apply of the same sheet and catalog is running."""


Confirm = Callable[[dict[Outcome, int]], bool]


@dataclass
class _Run:
    """One apply run as it goes: where it keeps its journal and what it found there."""

    path: Path
    folder: RunFolder | None = None
    journal: JournalState | None = None
    notes: list[str] = field(default_factory=list)


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
    run = _resumed(settings) if settings.resume is not None else _Run(Path(str(path)))
    try:
        loaded = load(
            run.path, sheet=settings.sheet, run_catalog=settings.catalog, today=settings.today
        )
        held = enumcheck.hold(loaded, run_catalog=settings.catalog, today=settings.today)
        if run.folder is None and not settings.dry_run:
            run.folder = _new_folder(run.path, settings)
        _check_outputs(run, settings)
        baselines, baseline_notes = baseline.row_baselines(
            loaded.sheet, loaded.report.edits, identifier_cells(loaded)
        )
        options = _options(settings)
        decider = MergeDecider(pc, options, baselines, held)
        executor = Executor(pc, options, run.folder, on_row=on_row, decider=decider)
        if on_executor:
            on_executor(executor)
        outcomes, edits, resumed = _carry_over(loaded, run, pc)
        executor.resumed.update(resumed)
        planner = _planner(pc, settings, baselines, held, on_executor) if confirm else None
        if planner is not None:
            planner.resumed.update(resumed)
        outcomes.update(confirmed_run(executor, planner, edits, confirm))
        problems = enumcheck.offline_problems(loaded, held) + baseline_notes
        report = _report(loaded, run, settings, pc, executor, outcomes, problems, started)
        if run.folder is not None:
            end_run(run.folder, summary_dict(report.results, report.summary))
        return report
    except OSError as exc:  # the journal, a before-image or an output could not be written
        where = exc.filename or (run.folder.path if run.folder else run.path)
        raise BulkUpdateError(
            f"cannot write {where}: {exc.strerror or exc}; free space, then resume with "
            f"`bulk-update apply --resume {run.folder.path if run.folder else '<run folder>'} "
            f"--catalog {settings.catalog}`"
        ) from None
    finally:
        if run.folder is not None:
            run.folder.close()


# -- opening the run ---------------------------------------------------------------------


def _resumed(settings: ApplySettings) -> _Run:
    """The run folder to resume, locked; refused when its run already finished."""
    assert settings.resume is not None
    where, note = find_run(settings.resume)
    folder = RunFolder.open(where, catalog=settings.catalog)
    folder.lock("apply --resume")
    try:
        folder.check_input(folder.input_path)
        state = folder.journal.replay()
        if state.complete:
            raise RunFolderError(_finished_text(folder, state))
    except BaseException:
        folder.close()
        raise
    settings.sheet = folder.settings.get("sheet", settings.sheet)
    return _Run(folder.input_path, folder, state, [note] if note else [])


def _finished_text(folder: RunFolder, state: JournalState) -> str:
    summary = state.finished or {}
    counts = summary.get("counts") or {}
    told = ", ".join(f"{n} {o}" for o, n in counts.items() if n) if isinstance(counts, dict) else ""
    return (
        f"{folder.path} is a finished run ({told or 'no rows'}; ended {summary.get('ended')}): "
        f"nothing to resume, nothing was changed; its results are in {folder.path / 'results.xlsx'}"
    )


def _new_folder(path: Path, settings: ApplySettings) -> RunFolder:
    """A new run folder, locked; refused while another apply of this sheet is running."""
    if not settings.allow_concurrent:
        _refuse_concurrent(path, settings)
    folder = RunFolder.create(
        settings.run_dir,
        input_path=path,
        catalog=settings.catalog,
        command="apply",
        settings={"sheet": settings.sheet, "on_conflict": settings.on_conflict},
    )
    folder.lock("apply")
    return folder


def _refuse_concurrent(path: Path, settings: ApplySettings) -> None:
    """Refuse to start beside a running apply of the same sheet (same content) and catalog."""
    from bulk_update.run.folder import file_sha256

    base = settings.run_dir or path.resolve().parent / "runs"
    if not base.is_dir():
        return
    digest = file_sha256(path)
    for child in sorted(base.iterdir()):
        try:
            other = RunFolder.open(child)
        except RunFolderError:
            continue
        same = other.info.get("input_sha256") == digest and other.catalog == settings.catalog
        if same and other.info.get("command") == "apply" and other.locked_by_other():
            raise RunFolderError(
                f"another apply of {path.name} on catalog {settings.catalog} is running "
                f"({holder_text(child)}) in {child}: two runs of one sheet would report "
                "conflicts against each other; wait for it to end, or pass --allow-concurrent"
            )


def _results_target(run: _Run, settings: ApplySettings) -> Path:
    if settings.out is not None:
        return settings.out
    if run.folder is not None:
        return run.folder.path / "results.xlsx"
    return default_out(run.path, "dry-run")


def _check_outputs(run: _Run, settings: ApplySettings) -> None:
    """Every output the run will write, checked writable before the first call (exit 2).

    The run folder was just made (or opened and locked); the results and the
    retry file go to one folder; the daily-write ledger has its own.
    """
    check_writable(_results_target(run, settings), "results file")
    if settings.ledger is not None and not settings.dry_run:
        path = settings.ledger.path
        try:
            private_dir(path.parent, exist_ok=True)
        except OSError as exc:
            raise BulkUpdateError(
                f"cannot write the daily-write ledger {path}: {exc.strerror or exc}; "
                "nothing was sent"
            ) from None
        check_writable(path, "daily-write ledger")


def _options(settings: ApplySettings) -> Options:
    return Options(
        dry_run=settings.dry_run,
        on_conflict=settings.on_conflict,  # type: ignore[arg-type]
        max_writes=settings.max_writes,
        ledger=settings.ledger,
        workers=settings.workers,
        today=settings.today,
        verify=settings.verify,
    )


def _planner(
    pc: pcc.PartnerCentral,
    settings: ApplySettings,
    baselines: dict[int, dict[str, str]],
    held: dict[int, Held],
    on_executor: Callable[[Executor], None] | None,
) -> Executor | None:
    """A dry-run executor of the same rows, for the confirmation's plan."""
    if settings.dry_run:
        return None
    options = Options(
        dry_run=True,
        on_conflict=settings.on_conflict,  # type: ignore[arg-type]
        workers=settings.workers,
        today=settings.today,
    )
    planner = Executor(pc, options, decider=MergeDecider(pc, options, baselines, held))
    if on_executor:
        on_executor(planner)
    return planner


# -- what a resumed journal already says ----------------------------------------------------


def _carry_over(
    loaded: Loaded, run: _Run, pc: pcc.PartnerCentral
) -> tuple[dict[int, RowOutcome], list[RowEdit], set[int]]:
    """The rows the journal settled (their ends), the rows still to run, and among
    those the rows the interrupted run left part-done (decided again on a fresh read
    with the version question settled: ``Executor.resumed``)."""
    outcomes: dict[int, RowOutcome] = {}
    edits: list[RowEdit] = []
    resumed: set[int] = set()
    state = run.journal or JournalState()
    ended = state.ended()
    flying = {rs.row: rs for rs in state.in_flight()}
    for edit in loaded.report.edits:
        if edit is None:
            continue
        if edit.row in ended:
            outcomes[edit.row] = _as_before(edit, ended[edit.row])
            continue
        rs = flying.get(edit.row)
        settled = AGAIN if rs is None else settle_row(pc, edit, rs)
        if not isinstance(settled, RowOutcome):  # not reached, skipped, or to go on
            edits.append(edit)
            if settled == RESUME:
                resumed.add(edit.row)
            continue
        outcomes[edit.row] = settled
        if run.folder is not None:
            run.folder.journal.done(
                edit.row,
                edit.identifier,
                settled.outcome.value,
                settled.new_version,
                settled.message,
                settled.problems,
            )
    return outcomes, edits, resumed


def _as_before(edit: RowEdit, rs: RowState) -> RowOutcome:
    """A row the interrupted run ended, as it ended (its problems too: the Errors sheet)."""
    return RowOutcome(
        edit.row,
        edit.identifier,
        Outcome(rs.state),
        rs.message,
        problems=[_problem(p) for p in rs.problems],
        new_version=iso_or_none(rs.new_last_modified),
    )


def _problem(data: dict[str, object]) -> Problem:
    row = data.get("row")
    return Problem(
        row if isinstance(row, int) else None,
        _text_or_none(data.get("identifier")),
        _text_or_none(data.get("column")),
        _text_or_none(data.get("value")),
        str(data.get("code", "")),
        str(data.get("message", "")),
        Severity(str(data.get("severity", Severity.ERROR.value))),
    )


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


# -- the report --------------------------------------------------------------------------


def _report(
    loaded: Loaded,
    run: _Run,
    settings: ApplySettings,
    pc: pcc.PartnerCentral,
    executor: Executor,
    outcomes: dict[int, RowOutcome],
    problems: list[Problem],
    started: datetime,
) -> JobReport:
    """Every row's result, the Summary, and the results (and retry) files written."""

    def carried_out(i: int, row: int, ident: str, cells: list[str]) -> RowResult:
        done = outcomes[row]  # the row's one record: it gains its cells for the results
        done.identifier, done.cells = ident, cells
        problems.extend(done.problems)
        return done

    results = row_results(loaded, carried_out)
    summary = _summary(run, settings, pc, executor, started)
    folder = run.folder
    target = _results_target(run, settings)
    target = save(
        target,
        lambda t: write_results(t, results, problems, loaded.sheet.headers, summary),
        late=folder is not None,
    )
    if target.parent != _results_target(run, settings).parent:
        run.notes.append(f"the results could not be written in place: they are in {target}")
    if folder is not None:
        keep_private(target, folder)
    retry_path = None if settings.dry_run else _retry_file(loaded, run, target, results)
    report = JobReport(
        results, problems, summary, target, retry_path, folder.path if folder else None
    )
    report.notes.extend(run.notes)
    return report


def _summary(
    run: _Run,
    settings: ApplySettings,
    pc: pcc.PartnerCentral,
    executor: Executor,
    started: datetime,
) -> RunSummary:
    summary = RunSummary.of_calls(
        "apply --dry-run" if settings.dry_run else "apply",
        settings.catalog,
        str(run.path),
        started,
        pc.stats,
        executor.writes_sent,
    )
    if executor.stop_reason:
        summary.extra["stopped"] = executor.stop_reason
    if run.folder is not None:
        summary.extra["run folder"] = str(run.folder.path)
    for note in run.notes:
        summary.extra["resumed"] = note
    return summary


def _retry_file(loaded: Loaded, run: _Run, target: Path, results: list[RowResult]) -> Path | None:
    """The rows to fix and run again, in the input's own format, beside the results."""
    retry = [
        r
        for r in results
        if r.outcome not in (Outcome.UPDATED, Outcome.UNCHANGED, Outcome.WOULD_UPDATE)
    ]
    if not retry:
        return None
    is_csv = run.path.suffix.lower() == ".csv"
    retry_path = target.with_name(f"{run.path.stem}.retry{'.csv' if is_csv else '.xlsx'}")
    retry_path = save(
        retry_path,
        lambda t: write_retry(t, loaded.sheet.headers, [r.cells for r in retry], csv=is_csv),
        late=run.folder is not None,
    )
    if run.folder is not None:
        keep_private(retry_path, run.folder)
    return retry_path


__all__ = ["ApplySettings", "apply_file", "settle_in_flight"]
