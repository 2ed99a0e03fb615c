"""Unit tests of the pure decision (bulk_update.decide.decide): no call is made.

The live records come from the emulator once, through boto3, so their shape is
the real one; decide() itself is given dicts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from apply_helpers import make_pc

from bulk_update.decide import decide
from bulk_update.payload import RowEdit
from bulk_update.problems import Outcome

STEPS = ("LifeCycle", "NextSteps")


@pytest.fixture(scope="module")
def live(emulator: Any) -> dict[str, Any]:
    ident = sorted(
        i
        for i, r in emulator.records("Sandbox").items()
        if r["LifeCycle"]["ReviewStatus"] == "Pending Submission"
    )[0]
    return make_pc(emulator.url).get(ident)


def _edit(live: dict[str, Any], value: str, **kw: Any) -> RowEdit:
    return RowEdit(
        2, live["Id"], edits={STEPS: value}, columns={STEPS: "LifeCycle.NextSteps"}, **kw
    )


def test_a_change_gives_a_payload_with_the_live_version(live: dict[str, Any]) -> None:
    d = decide(_edit(live, "Call the CFO"), live)
    assert d.outcome is None and d.payload is not None
    assert d.payload["LifeCycle"]["NextSteps"] == "Call the CFO"
    assert d.payload["Identifier"] == live["Id"]
    assert d.payload["LastModifiedDate"] == live["LastModifiedDate"]
    assert [c.column for c in d.changes] == ["LifeCycle.NextSteps"]


def test_values_already_held_are_unchanged(live: dict[str, Any]) -> None:
    d = decide(_edit(live, live["LifeCycle"].get("NextSteps") or ""), live)
    assert d.outcome is Outcome.UNCHANGED and d.payload is None


def test_a_stale_row_is_a_conflict_unless_overwrite(live: dict[str, Any]) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    d = decide(_edit(live, "Stale", last_modified=old), live)
    assert d.outcome is Outcome.CONFLICT and "changed in Partner Central" in d.message
    forced = decide(_edit(live, "Stale", last_modified=old), live, on_conflict="overwrite")
    assert forced.outcome is None and forced.payload is not None


def test_a_baseline_row_nobody_edited_is_unchanged(live: dict[str, Any]) -> None:
    steps = live["LifeCycle"].get("NextSteps") or ""
    d = decide(_edit(live, steps), live, baseline={"LifeCycle.NextSteps": steps})
    assert d.outcome is Outcome.UNCHANGED and "no cell differs" in d.message
