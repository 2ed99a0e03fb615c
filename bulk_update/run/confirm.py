"""Asking once before the first write: plan the rows with a dry run, then carry them out.

Apply and rollback both ask (the CLI asks for the production catalog); what
the planner decided is reused, so a confirmed row is not read a second time.

The question is put with a :class:`Plan`: the planned rows per outcome (a
plain ``dict[Outcome, int]`` to a caller that wants no more), and the calls
beside the updates the plan would send, counted from the planned decisions'
``calls``: how many opportunities reassigned, entities associated and
disassociated, opportunities submitted.  :func:`plan_lines` says them in
plain words, with the sentence that a submission cannot be undone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from bulk_update import calls as call_plan
from bulk_update.decide import Decision
from bulk_update.payload import RowEdit
from bulk_update.problems import Change, Outcome, RowEnd
from bulk_update.run.executor import Executor

CALL_WORDS = {
    call_plan.ASSIGN: "reassigned",
    call_plan.ASSOCIATE: "associated",
    call_plan.DISASSOCIATE: "disassociated",
    call_plan.SUBMIT: "submitted",
}
"""Each call beside the update, by the word its count goes under (``--json``'s keys)."""

NO_UNDO = (
    "a submission cannot be undone, nor rolled back: the opportunity goes to AWS for "
    "review and takes no update until AWS answers"
)


class Plan(dict[Outcome, int]):
    """The planned rows per outcome, with the calls the plan sends beside the updates."""

    def __init__(
        self,
        counts: Mapping[Outcome, int],
        calls: Mapping[str, int] | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        super().__init__(counts)
        self.calls: dict[str, int] = dict(calls or call_counts(()))
        """Per word of :data:`CALL_WORDS`, how many such calls the plan holds."""
        self.notes: list[str] = list(notes)
        """Lines the job adds to the question (rollback: the rows the run submitted)."""


def call_counts(operations: Iterable[str]) -> dict[str, int]:
    """How many calls of each kind, by :data:`CALL_WORDS` (zeros included)."""
    seen = Counter(operations)
    return {word: seen.get(op, 0) for op, word in CALL_WORDS.items()}


def planned_calls(decisions: Iterable[Decision]) -> dict[str, int]:
    """The calls the decisions would send beside their updates."""
    return call_counts(c.operation for d in decisions for c in d.calls)


def operation_of(change: Change) -> str | None:
    """The operation a change of the Changes column names, or None for a field's change
    (:class:`bulk_update.calls.Call` names its change ``<operation> <column>``)."""
    head = change.column.split(" ", 1)[0]
    return head if head in CALL_WORDS else None


def ended_calls(results: Iterable[RowEnd]) -> dict[str, int]:
    """The calls of the rows that wrote or would write, by their Changes (for ``--json``)."""
    ops: list[str] = []
    for r in results:
        if r.outcome in (Outcome.UPDATED, Outcome.WOULD_UPDATE):
            ops.extend(op for op in map(operation_of, r.changes) if op is not None)
    return call_counts(ops)


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def plan_lines(plan: Mapping[Outcome, int]) -> list[str]:
    """The plan's calls in plain words, one line, then the notes: only the notes for a
    plan without calls (nothing for a plain dict of counts)."""
    calls = getattr(plan, "calls", None) or {}
    notes = list(getattr(plan, "notes", None) or [])
    parts = []
    if calls.get("reassigned"):
        parts.append(f"reassign {_n(calls['reassigned'], 'opportunity', 'opportunities')}")
    for verb in ("associate", "disassociate"):
        if calls.get(verb + "d"):
            parts.append(f"{verb} {_n(calls[verb + 'd'], 'related entity', 'related entities')}")
    if calls.get("submitted"):
        parts.append(f"SUBMIT {_n(calls['submitted'], 'opportunity', 'opportunities')} to AWS")
    lines = [f"Besides updating fields, the plan will {', '.join(parts)}."] if parts else []
    if calls.get("submitted"):
        lines.append(NO_UNDO[0].upper() + NO_UNDO[1:] + ".")
    return lines + notes


def confirmed_run(
    executor: Executor,
    planner: Executor | None,
    edits: list[RowEdit],
    confirm: Callable[[dict[Outcome, int]], bool] | None,
    notes: Sequence[str] = (),
) -> dict[int, RowEnd]:
    """Run ``edits``; with ``confirm``, plan them first (no write) and ask once.

    The planner is a dry-run executor of the same kind. Confirmed, the rows it
    decided to write go to ``executor`` with their decisions (no second read)
    and the others keep the planned outcome; refused, every writing row ends
    ``skipped`` and nothing is written.  A plan that stopped (the endpoint
    went away, Ctrl-C) is not put to the question: the run stops the same way,
    for the planner's reason.  ``confirm`` is asked with a :class:`Plan`
    (``notes``: the job's own lines for the question).
    """
    if confirm is None or planner is None or not edits:
        return executor.run(edits)
    planned = planner.run(edits)
    decided = planner.decisions
    plan = Plan(
        Counter(o.outcome for o in planned.values()), planned_calls(decided.values()), notes
    )
    outcomes: dict[int, RowEnd] = {}
    if planner.stop.is_set() or not confirm(plan):
        reason = planner.stop_reason or "not confirmed: nothing was written"
        executor.halt(reason)
        for e in edits:
            p = planned[e.row]
            if p.outcome is Outcome.WOULD_UPDATE:
                p = RowEnd(e.row, e.identifier, Outcome.SKIPPED, reason, p.changes)
            outcomes[e.row] = executor.final(p)
        return outcomes
    for e in edits:
        if planned[e.row].outcome is not Outcome.WOULD_UPDATE:
            outcomes[e.row] = executor.final(planned[e.row])
    outcomes.update(executor.run([e for e in edits if e.row in decided], decided))
    return outcomes
