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

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.api import drift
from bulk_update.decide import Decision, decide, refuse_drift
from bulk_update.errors import RunFolderError
from bulk_update.merge import Leaf, Payload, column_of, diff, leaves, project
from bulk_update.payload import CLEAR, RowEdit, Value
from bulk_update.payload import Path as FieldPath
from bulk_update.problems import Outcome, Problem
from bulk_update.results import RowResult, RunSummary, summary_dict, write_results
from bulk_update.run.confirm import confirmed_run
from bulk_update.run.executor import Executor, Options, RowOutcome
from bulk_update.run.folder import RunFolder, end_run, find_run
from bulk_update.run.journal import RowState
from bulk_update.run.ledger import Ledger
from bulk_update.run.validate import JobReport, keep_private, save
from bulk_update.times import iso, same_version, stamp

RESULT_HEADERS = ["LastModifiedDate after the run", "LastModifiedDate now"]
"""The extra columns of the rollback's Results sheet."""

Confirm = Callable[[dict[Outcome, int]], bool]


@dataclass
class Target:
    """One row the apply run updated, and what the rollback needs to undo it."""

    row: int
    identifier: str
    version: datetime | None
    """The LastModifiedDate the run's write produced (None if the journal lacks it)."""
    before: dict[str, Any] | None
    """The record just before the run's write (None if its file is missing)."""
    run_changes: list[Any] = field(default_factory=list)
    """The changes the journal's last intent named (text or dicts)."""
    ended: str | None = None
    """For a row the run sent a write for but did not end ``updated``: how it ended."""


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
        if rs.updated:
            found.append(
                Target(rs.row, rs.identifier, rs.new_last_modified, before, list(rs.changes))
            )
        elif before is not None:  # no before-image: nothing was sent for it
            found.append(Target(rs.row, rs.identifier, None, before, list(rs.changes), rs.state))
    return found, state.in_flight()


# -- what to send -----------------------------------------------------------------------


def _text(value: Leaf | None) -> str:
    if value is None:
        return ""
    return "; ".join(value) if isinstance(value, tuple) else value


def restore_edits(before: Payload, current: Payload) -> dict[FieldPath, Value]:
    """Edits that turn ``current`` into ``before`` (both update-shaped projections).

    Every leaf of ``before`` is set, and every leaf that only ``current`` holds
    is cleared, so applying them gives back exactly ``before``.
    """
    wanted = dict(leaves(before))
    edits: dict[FieldPath, Value] = {p: CLEAR for p, _ in leaves(current) if p not in wanted}
    edits.update(wanted)
    return edits


def _same(a: Payload, b: Payload) -> bool:
    return dict(leaves(a)) == dict(leaves(b))


def _change_parts(change: Any, before_text: Mapping[str, str]) -> tuple[str, str | None]:
    """The column and the new value (None if unknown) of a change the journal recorded."""
    if isinstance(change, Mapping):
        return str(change.get("column", "")), str(change.get("new", ""))
    text = str(change)
    column, sep, rest = text.partition(": ")
    if not sep:
        return column, None
    old = before_text.get(column, "") or "(empty)"
    if not rest.startswith(old + " -> "):
        return column, None
    new = rest[len(old) + 4 :]
    return column, "" if new == "(empty)" else new


def changed_since(before: Payload, live: Payload, run_changes: Iterable[Any]) -> list[str]:
    """The columns whose live value differs from what the run left behind.

    What the run left is the before-image with the run's recorded changes
    applied; a change whose new value cannot be read back counts as changed.
    """
    before_text = {column_of(p): _text(v) for p, v in leaves(before)}
    expected = dict(before_text)
    unknown: set[str] = set()
    for change in run_changes:
        column, new = _change_parts(change, before_text)
        if not column:
            continue
        if new is None:
            unknown.add(column)
        else:
            expected[column] = new
    now = {column_of(p): _text(v) for p, v in leaves(live)}
    moved = {c for c in expected.keys() | now.keys() if expected.get(c, "") != now.get(c, "")}
    return sorted(moved | (unknown & (expected.keys() | now.keys())))


# -- the executor -----------------------------------------------------------------------


class RestoreDecider:
    """Rollback's decision for a row: its before-image, only on the version the run left."""

    def __init__(self, pc: pcc.PartnerCentral, plan: Mapping[int, Target], today: date | None):
        self.pc = pc
        self.plan = plan
        self.today = today
        self.versions: dict[int, str] = {}
        """Per row, the live LastModifiedDate at its last read (for the Results sheet)."""
        self._seen_lock = threading.Lock()

    def decide(self, edit: RowEdit) -> Decision:
        return self.redecide(edit, self.pc.get(edit.identifier))

    def redecide(self, edit: RowEdit, live: Mapping[str, Any]) -> Decision:
        target = self.plan[edit.row]
        assert target.before is not None
        live_version = live.get("LastModifiedDate")
        with self._seen_lock:
            self.versions[edit.row] = iso(live_version)
        before = project(target.before)
        current = project(live)
        if _same(before, current):
            return Decision(
                edit,
                Outcome.UNCHANGED,
                "the record already holds its values from before the run",
                live=live,
            )
        unknown = drift.unknown_of(live)
        if unknown:
            return refuse_drift(edit, live, unknown, diff(current, before))
        if target.version is None or not same_version(live_version, target.version):
            return self._conflict(edit, target, live, before, current)
        edit.edits = restore_edits(before, current)
        edit.columns = {p: column_of(p) for p in edit.edits}
        decision = decide(edit, live, on_conflict="overwrite", today=self.today)
        if decision.outcome is Outcome.UNCHANGED:
            decision.message = "the record already holds its values from before the run"
        return decision

    def _conflict(
        self,
        edit: RowEdit,
        target: Target,
        live: Mapping[str, Any],
        before: Payload,
        current: Payload,
    ) -> Decision:
        changes = diff(current, before)
        now = iso(live.get("LastModifiedDate"))
        if target.ended is not None:
            message = (
                f"the run sent a write for this row but did not see it land (the row ended "
                f"{target.ended}); the record differs from before the run in "
                f"{', '.join(c.column for c in changes)}: not rolled back, check it"
            )
            return Decision(edit, Outcome.CONFLICT, message, changes, live=live)
        if target.version is None:
            message = (
                "the run did not record the version its write produced, so the tool "
                "cannot tell whether someone changed the record since; nothing written"
            )
            return Decision(edit, Outcome.CONFLICT, message, changes, live=live)
        moved = changed_since(before, current, target.run_changes)
        when = f"(the run left version {iso(target.version)}, now {now})"
        if moved:
            message = (
                f"changed in Partner Central after the run {when}: {', '.join(moved)}; "
                "nothing written"
            )
        else:
            message = (
                f"saved again in Partner Central after the run {when}, though its "
                "fields still hold what the run wrote; nothing written: check it and "
                "undo by hand if needed"
            )
        problems = [
            Problem(
                edit.row,
                edit.identifier,
                column,
                None,
                "changed-since-run",
                "changed in Partner Central after the run: not rolled back",
            )
            for column in moved
        ]
        return Decision(edit, Outcome.CONFLICT, message, changes, problems, live=live)


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
        outcomes.update(confirmed_run(executor, planner, edits, confirm))
        report = _report(
            pc, source, folder, plan, outcomes, restore.versions, executor, started,
            dry_run=dry_run, out=out,
        )  # fmt: skip
        if note:  # the run was picked from inside the folder given: say which
            report.notes.append(note)
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
