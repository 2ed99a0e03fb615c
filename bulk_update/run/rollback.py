"""``bulk-update rollback RUN``: put back what an ``apply`` run changed, where nobody changed it since.

The run folder's journal says which rows the run ``updated`` and which
``LastModifiedDate`` each write produced; ``before/<id>.json`` holds each
record as it was just before the write.  For each such row the rollback reads
the live record and:

- if it already holds its values from before the run (same update-shaped
  projection), ends ``unchanged``: nothing to put back;
- else, if its ``LastModifiedDate`` is still the one the run produced, sends
  the before-image back (the whole update-shaped record, with the live
  version) and ends ``updated``; the changes listed are live -> before;
- else ends ``conflict`` and writes nothing: someone saved the record after
  the run.  The message names the fields that differ from what the run left
  (known from the before-image and the changes the journal recorded).

A row's other calls (AssignOpportunity, Associate/DisassociateOpportunity,
SubmitOpportunity: :mod:`bulk_update.calls`) are put back beside its fields,
in :mod:`bulk_update.run.restore`: the owner and the related entities the
run's journalled calls changed go back to the before-image's (associate what
the run removed first, then disassociate what it added; assign the old owner),
only those parts, and a part someone changed since is a ``conflict``.  A
submission cannot be undone: a row the run submitted ends ``locked`` while
AWS reviews it, and the report and the confirmation say how many rows the run
submitted.  Rows whose only writes were calls are rolled back the same way.

A live record holding members the installed botocore does not know (model
drift, see :mod:`bulk_update.api.drift`) is never put back: sending the
before-image would erase them; the row ends ``upgrade-needed``.

The usual checks of ``apply`` hold: review-status locks, business rules (a
before-image whose target close date is now in the past is ``invalid``), and a
``ConflictException`` at write time is a ``conflict`` (no retry: someone wrote).

Each rollback that writes keeps its own run folder, ``rollback-<time>`` inside
the apply run's folder, with the same layout (journal, before-images of the
rollback's writes, ``results.xlsx``).  So:

- **Resuming** a rollback is running it again: rows it already restored now
  hold their before values and end ``unchanged``; a row whose write was in
  flight when it stopped is settled the same way (restored -> ``unchanged``,
  not landed -> the version still matches and the row is restored now).
  Nothing is sent twice, and no resumed row is taken for a seller's change.
- **Undoing a rollback** is ``bulk-update rollback <run>/rollback-<time>``:
  the rollback's folder is itself a run folder.

Rows the apply run left in flight (interrupted between sending and hearing
back) are not rolled back: they end ``skipped``, with a message to resume the
apply run first.  A dry run reads every record and writes nothing, no folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.errors import RunFolderError
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome, Problem
from bulk_update.results import RowResult, RunSummary, summary_dict, write_results
from bulk_update.run.confirm import confirmed_run
from bulk_update.run.executor import Executor, Options, RowOutcome
from bulk_update.run.folder import RunFolder, end_run, find_run
from bulk_update.run.journal import RowState
from bulk_update.run.ledger import Ledger
from bulk_update.run.restore import (
    RestoreDecider,
    RunCalls,
    Target,
    restore_edits,
    submitted_note,
)
from bulk_update.run.validate import JobReport, keep_private, save
from bulk_update.times import iso, stamp

RESULT_HEADERS = ["LastModifiedDate after the run", "LastModifiedDate now"]
"""The extra columns of the rollback's Results sheet."""

Confirm = Callable[[dict[Outcome, int]], bool]


def targets(folder: RunFolder) -> tuple[list[Target], list[RowState]]:
    """The rows the run wrote (in row order), and the rows it left in flight.

    A row the run sent a write for that did not end ``updated`` (a conflict,
    a failure) is a target too, with ``ended`` set: it is checked against its
    before-image and reported when it differs, never silently left out.
    """
    state = folder.journal.replay()
    found: list[Target] = []
    for rs in state.written():
        assert rs.identifier is not None
        before = folder.load_before(rs.identifier)
        calls = RunCalls.of(rs.calls_done)
        # a call was sent: the row's update, if any, had landed (a refused call ended it)
        calls.landed = calls.landed or rs.called
        if rs.updated:
            found.append(
                Target(rs.row, rs.identifier, rs.new_last_modified, before, list(rs.changes),
                       calls=calls)
            )  # fmt: skip
        elif before is not None:  # no before-image: nothing was sent for it
            found.append(
                Target(rs.row, rs.identifier, None, before, list(rs.changes), rs.state, calls)
            )
    return found, state.in_flight()


# -- the job ----------------------------------------------------------------------------


def create_folder(source: RunFolder, started: datetime, settings: dict[str, Any]) -> RunFolder:
    """A new ``rollback-<time>`` run folder inside the apply run's folder."""
    return RunFolder.create(
        source.path,
        input_path=source.path,
        catalog=source.catalog,
        command="rollback",
        settings=settings,
        name=f"rollback-{stamp(started)}",
        digest_of=source.journal_path,
        started=started,
    )


def rollback_run(
    pc: pcc.PartnerCentral,
    run_dir: Path,
    *,
    dry_run: bool = False,
    confirm: Confirm | None = None,
    on_row: Callable[[RowOutcome], None] | None = None,
    max_writes: int | None = None,
    workers: int = 8,
    out: Path | None = None,
    today: date | None = None,
    on_executor: Callable[[Executor], None] | None = None,
    verify: bool = True,
    ledger: Ledger | None = None,
) -> JobReport:
    """``bulk-update rollback``: undo what the run in ``run_dir`` updated, where safe.

    ``confirm`` is asked once with the planned counts before the first write;
    returning False ends the rollback with every row to restore ``skipped``.
    Raises :class:`bulk_update.errors.RunFolderError` when ``run_dir`` is not a
    run folder of this catalog, or another process owns it.  The report's
    ``run_dir`` is None (a rollback is resumed by running it again); its folder
    is in ``summary.extra``.
    """
    started = datetime.now(UTC)
    where, note = find_run(Path(run_dir))
    source = RunFolder.open(where, catalog=pc.catalog)
    if source.info.get("command") not in ("apply", "rollback"):
        raise RunFolderError(f"{run_dir} is a {source.info.get('command')} run, not an apply run")
    folder: RunFolder | None = None
    try:
        source.lock("rollback")  # no resume of the run while it is rolled back
        found, in_flight = targets(source)
        plan = {t.row: t for t in found}
        outcomes, edits = _first_outcomes(source, found, in_flight, pc.catalog)
        if not dry_run and (edits or outcomes):
            folder = create_folder(source, started, {"max_writes": max_writes, "workers": workers})
            folder.lock("rollback")
            for o in outcomes.values():
                folder.journal.outcome(o.row, o.identifier, o.outcome.value, o.message)
        options = Options(
            dry_run=dry_run, on_conflict="overwrite", max_writes=max_writes, workers=workers,
            conflict_retries=0, today=today, verify=verify, ledger=ledger,
        )  # fmt: skip
        restore = RestoreDecider(pc, plan, today)
        executor = Executor(pc, options, folder, on_row, decider=restore)
        executor.resume_command = f"bulk-update rollback {source.path} --catalog {pc.catalog}"
        if on_executor:
            on_executor(executor)
        planner = None
        if confirm is not None and not dry_run:
            planner = Executor(
                pc, Options(dry_run=True, workers=workers, today=today), decider=restore
            )
            if on_executor:
                on_executor(planner)
        submitted = sum(1 for t in found if t.calls.submitted)
        notes = [submitted_note(submitted)] if submitted else []
        outcomes.update(confirmed_run(executor, planner, edits, confirm, notes))
        report = _report(
            pc, source, folder, plan, outcomes, restore.versions, executor, started,
            dry_run=dry_run, out=out,
        )  # fmt: skip
        if note:  # the run was picked from inside the folder given: say which
            report.notes.append(note)
        report.notes.extend(notes)
        if folder is not None:
            end_run(folder, summary_dict(report.results, report.summary))
        return report
    finally:
        if folder is not None:
            folder.close()
        source.close()


def _first_outcomes(
    source: RunFolder, found: list[Target], in_flight: list[RowState], catalog: str
) -> tuple[dict[int, RowOutcome], list[RowEdit]]:
    """Rows ended before any read (no before-image, left in flight), and the rows to run."""
    outcomes: dict[int, RowOutcome] = {}
    edits: list[RowEdit] = []
    for t in found:
        if t.before is None:
            outcomes[t.row] = RowOutcome(
                t.row,
                t.identifier,
                Outcome.FAILED,
                f"the run folder holds no before-image of {t.identifier}: cannot roll it back",
            )
        else:
            edits.append(RowEdit(t.row, t.identifier, last_modified=t.version))
    for rs in in_flight:
        outcomes[rs.row] = RowOutcome(
            rs.row,
            rs.identifier or "",
            Outcome.SKIPPED,
            "the run was interrupted while writing this row: finish it first with "
            f"`bulk-update apply --resume {source.path} --catalog {catalog}`, "
            "then roll back again",
        )
    return outcomes, edits


def _report(
    pc: pcc.PartnerCentral,
    source: RunFolder,
    folder: RunFolder | None,
    plan: Mapping[int, Target],
    outcomes: Mapping[int, RowOutcome],
    seen: Mapping[int, str],
    executor: Executor,
    started: datetime,
    *,
    dry_run: bool,
    out: Path | None,
) -> JobReport:
    """The rollback's results (with the two version columns) and its Summary, written."""
    results: list[RowResult] = []
    problems: list[Problem] = []
    for row in sorted(outcomes):
        o = outcomes[row]
        done = plan.get(row)
        now = o.new_version or seen.get(row, "")
        o.cells = [iso(done.version) if done else "", now]
        results.append(o)
        problems.extend(o.problems)
    summary = _summary(pc, source, folder, executor, started, results, dry_run)
    if out is not None:
        target = out
    elif folder is not None:
        target = folder.path / "results.xlsx"
    else:
        target = source.path / f"rollback-{stamp(started)}.dry-run.xlsx"
    summary.results_file = str(target)
    target = save(
        target,
        lambda t: write_results(t, results, problems, list(RESULT_HEADERS), summary),
        late=folder is not None,
    )
    if folder is not None:
        keep_private(target, folder)
    return JobReport(results, problems, summary, target, None, None)


def _summary(
    pc: pcc.PartnerCentral,
    source: RunFolder,
    folder: RunFolder | None,
    executor: Executor,
    started: datetime,
    results: list[RowResult],
    dry_run: bool,
) -> RunSummary:
    summary = RunSummary.of_calls(
        "rollback --dry-run" if dry_run else "rollback",
        pc.catalog,
        str(source.path),
        started,
        pc.stats,
        executor.writes_sent,
    )
    summary.extra["rolled back run"] = str(source.path)
    if executor.stop_reason:
        summary.extra["stopped"] = executor.stop_reason
    if folder is not None:
        summary.extra["rollback folder"] = str(folder.path)
    if any(r.outcome is Outcome.SKIPPED for r in results):
        summary.extra["to finish"] = (
            f"run `bulk-update rollback {source.path} --catalog {pc.catalog}` again: rows "
            "already restored end unchanged"
        )
    return summary


__all__ = ["RestoreDecider", "Target", "restore_edits", "rollback_run", "targets"]
