"""What a run does with each row: read the live record and decide it.

The executor owns the pool, the pacing, the journal; what a row means is its
decider's.  Apply's is :class:`MergeDecider` (the row's cells merged into the
live record); rollback's is :class:`bulk_update.run.rollback.RestoreDecider`
(the before-image put back), beside the rollback's other rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from bulk_update.api import client as pcc
from bulk_update.decide import Decision, Held, OnConflict, asks_nothing, decide
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome


class Judging(Protocol):
    """What a decision needs of the run's options (:class:`bulk_update.run.executor.Options`)."""

    @property
    def on_conflict(self) -> OnConflict: ...

    @property
    def today(self) -> date | None: ...


class Decider(Protocol):
    """What a run does with each row: apply's merge, or rollback's restore."""

    def decide(self, edit: RowEdit) -> Decision:
        """Read the live record and decide the row."""
        ...

    def redecide(self, edit: RowEdit, live: Mapping[str, Any]) -> Decision:
        """Decide again on a fresh read (after a conflict or a settled write)."""
        ...


class MergeDecider:
    """Apply's decision: merge the row's cells into the live record (:func:`decide`)."""

    def __init__(
        self,
        pc: pcc.PartnerCentral,
        options: Judging,
        baselines: Mapping[int, Mapping[str, str]] | None = None,
        held: Mapping[int, Held] | None = None,
    ) -> None:
        self.pc = pc
        self.options = options
        self.baselines = baselines or {}
        """Per input row, the export's baseline cells (three-way merge)."""
        self.held = held or {}
        """Per input row, the cells held for the read: values outside the installed enum."""

    def decide(self, edit: RowEdit) -> Decision:
        """A row of an exported sheet whose cells (fields and calls) all equal the
        export's baseline is ``unchanged`` without a read: the user asked for nothing."""
        baseline = self.baselines.get(edit.row)
        if baseline is not None and asks_nothing(edit, baseline):
            return Decision(edit, Outcome.UNCHANGED, "no cell differs from the export")
        held = self.held.get(edit.row)
        try:
            live = self.pc.get(edit.identifier)
        except pcc.NotFound:
            if held is None:
                raise
            return held.refused(edit)  # no record holds a newer value: the offline end
        return decide(
            edit, live, on_conflict=self.options.on_conflict, today=self.options.today,
            baseline=baseline, held=held,
        )  # fmt: skip

    def redecide(self, edit: RowEdit, live: Mapping[str, Any]) -> Decision:
        return decide(
            edit, live, on_conflict="overwrite", today=self.options.today,
            baseline=self.baselines.get(edit.row), held=self.held.get(edit.row),
        )  # fmt: skip
