"""Asking once before the first write: plan the rows with a dry run, then carry them out.

Apply and rollback both ask (the CLI asks for the production catalog); what
the planner decided is reused, so a confirmed row is not read a second time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome, RowEnd
from bulk_update.run.executor import Executor


def confirmed_run(
    executor: Executor,
    planner: Executor | None,
    edits: list[RowEdit],
    confirm: Callable[[dict[Outcome, int]], bool] | None,
) -> dict[int, RowEnd]:
    """Run ``edits``; with ``confirm``, plan them first (no write) and ask once.

    The planner is a dry-run executor of the same kind. Confirmed, the rows it
    decided to write go to ``executor`` with their decisions (no second read)
    and the others keep the planned outcome; refused, every writing row ends
    ``skipped`` and nothing is written.  A plan that stopped (the endpoint
    went away, Ctrl-C) is not put to the question: the run stops the same way,
    for the planner's reason.
    """
    if confirm is None or planner is None or not edits:
        return executor.run(edits)
    planned = planner.run(edits)
    counts = Counter(o.outcome for o in planned.values())
    outcomes: dict[int, RowEnd] = {}
    if planner.stop.is_set() or not confirm(dict(counts)):
        reason = planner.stop_reason or "not confirmed: nothing was written"
        executor.halt(reason)
        for e in edits:
            p = planned[e.row]
            if p.outcome is Outcome.WOULD_UPDATE:
                p = RowEnd(e.row, e.identifier, Outcome.SKIPPED, reason, p.changes)
            outcomes[e.row] = executor.final(p)
        return outcomes
    decided = planner.decisions
    for e in edits:
        if planned[e.row].outcome is not Outcome.WOULD_UPDATE:
            outcomes[e.row] = executor.final(planned[e.row])
    outcomes.update(executor.run([e for e in edits if e.row in decided], decided))
    return outcomes
