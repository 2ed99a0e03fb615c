"""The journal of a run: one JSON event per line, each flushed and fsync'd before we go on.

The journal is the truth about writes.  ``intent`` is written before a row's
update is sent and ``done`` when the row ended, so a row whose last event is an
``intent`` is in flight: the write may or may not have landed, and the engine
settles it by reading the record again, never by sending it a second time.
A row's other calls (AssignOpportunity, AssociateOpportunity...: its plan,
:mod:`bulk_update.calls`) each get a ``call-intent`` before and a ``call-done``
after, with the call's index in the row's plan and the call itself; the row
stays in flight until its ``done``, written once the whole row ended.
Rows decided without a write get a single ``outcome`` event; a run that ends
on its own gets a ``finish`` event with its counts.

A crash in the middle of an append leaves a torn last line.  Replay ignores it
(that event was never acknowledged), and reopening the journal for appending
cuts it off first, so later events start on a line of their own.

:meth:`Journal.replay` reads it back as a :class:`JournalState`: what apply's
resume and rollback ask of a journal is answered there, in one place.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any

from bulk_update.errors import RunFolderError
from bulk_update.problems import Outcome
from bulk_update.times import parse_or_none

IN_FLIGHT = "in-flight"
"""The state of a row whose write was sent but whose answer was never recorded."""
LANDED = "landed"
"""A ``call-done`` whose call Partner Central took (else its ``outcome`` says how it ended)."""


def jsonable(value: Any) -> Any:
    """Turn datetimes, enums and dataclasses into plain JSON values."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """One line of JSON, keys sorted (run.json, before-images, journal events)."""
    return json.dumps(jsonable(value), ensure_ascii=False, sort_keys=True)


def _forget(journal: IO[str], size: int) -> None:
    """Truncate a journal to ``size`` and close it without writing its buffer."""
    fd = journal.fileno()
    with contextlib.suppress(OSError):
        os.ftruncate(fd, size)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        journal.buffer.raw.close()  # type: ignore[attr-defined]  # the buffer is not written
    with contextlib.suppress(OSError, ValueError):
        journal.close()


def _with_problems(event: dict[str, Any], problems: Iterable[Any]) -> dict[str, Any]:
    kept = [jsonable(p) for p in problems]
    if kept:
        event["problems"] = kept
    return event


@dataclass
class RowState:
    """Where one input row stands according to the journal."""

    row: int
    identifier: str | None
    state: str
    """An outcome (``updated``, ``conflict``...) or ``in-flight``."""
    message: str = ""
    last_modified_sent: datetime | None = None
    new_last_modified: datetime | None = None
    """The LastModifiedDate our write produced (rows that ended ``updated``)."""
    payload_digest: str | None = None
    changes: list[Any] = field(default_factory=list)
    """The changes named in the last intent (a ``Change`` comes back as a dict)."""
    problems: list[dict[str, Any]] = field(default_factory=list)
    """The row's problems as journalled with its outcome (plain dicts)."""
    writes_sent: int = 0
    """How many intents were recorded for this row (a ConflictException retry adds one;
    each call's intent adds one)."""
    calls_done: list[dict[str, Any]] = field(default_factory=list)
    """The row's calls journalled as landed (``Call.as_json()``: operation, params, change)."""
    call_in_flight: dict[str, Any] | None = None
    """The call whose ``call-intent`` has no ``call-done`` (``as_json()`` and its ``index``)."""

    @property
    def calls_sent(self) -> bool:
        """True when a call of this row was sent (so its update, if any, had landed)."""
        return bool(self.calls_done) or self.call_in_flight is not None

    @property
    def in_flight(self) -> bool:
        return self.state == IN_FLIGHT

    @property
    def updated(self) -> bool:
        return self.state == Outcome.UPDATED


@dataclass
class JournalState:
    """Everything a journal says, row by row, as read back by :meth:`Journal.replay`."""

    rows: dict[int, RowState] = field(default_factory=dict)
    torn_tail: bool = False
    """True when the last line was cut short by a crash and left out."""
    finished: dict[str, Any] | None = None
    """The summary of a ``finish`` event, when the run ended on its own."""

    @property
    def complete(self) -> bool:
        """The run ended on its own with nothing left to do: no row skipped or in flight."""
        if self.finished is None:
            return False
        counts = self.finished.get("counts") or {}
        left = counts.get("skipped", 0) if isinstance(counts, dict) else 0
        return not left and not any(r.in_flight or r.state == "skipped" for r in self.rows.values())

    def in_flight(self) -> list[RowState]:
        """Rows whose write may or may not have landed, in row order: settle them by reading."""
        return [r for _, r in sorted(self.rows.items()) if r.in_flight]

    def ended(self) -> dict[int, RowState]:
        """Rows whose end a resume keeps: every outcome but ``skipped`` (a skipped row runs
        again), nothing in flight."""
        return {
            n: r for n, r in self.rows.items() if not r.in_flight and r.state != Outcome.SKIPPED
        }

    def written(self) -> list[RowState]:
        """Rows the run wrote, in row order: ended ``updated``, or sent a write (an update or
        a call) and heard back (a conflict, a failure, a refused call after others landed);
        rows in flight and rows without an identifier left out."""
        return [
            r
            for _, r in sorted(self.rows.items())
            if r.identifier and not r.in_flight and (r.updated or r.writes_sent)
        ]


class Journal:
    """A run's ``journal.jsonl``: appended to by many threads, one whole line at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: IO[str] | None = None

    # -- writing ---------------------------------------------------------------------

    def _open(self) -> IO[str]:
        """Open the journal for appending, first cutting off a torn last line."""
        path = self.path
        with open(path, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                tail = data[cut:]
                try:
                    json.loads(tail)
                    f.write(b"\n")  # a whole event that only lacks its newline: keep it
                except ValueError:
                    f.truncate(cut)
                f.flush()
                os.fsync(f.fileno())
        return open(path, "a", encoding="utf-8")

    def _append(self, event: dict[str, Any]) -> None:
        event = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), **event}
        line = dumps(event) + "\n"
        with self._lock:
            if self._file is None:
                self._file = self._open()
            journal = self._file
            start = os.fstat(journal.fileno()).st_size
            try:
                journal.write(line)
                journal.flush()
                os.fsync(journal.fileno())
            except OSError:
                # a full disk: cut back to the last whole event and drop the buffer, so
                # no torn or half-buffered line is left to land later
                self._file = None
                _forget(journal, start)
                raise

    def intent(
        self,
        row: int,
        identifier: str,
        last_modified_sent: datetime | str | None,
        payload_digest: str,
        changes: Iterable[Any] = (),
    ) -> None:
        """Record that a write for ``row`` is about to be sent (call before sending)."""
        self._append(
            {
                "event": "intent",
                "row": row,
                "identifier": identifier,
                "last_modified_sent": last_modified_sent,
                "payload_digest": payload_digest,
                "changes": list(changes),
            }
        )

    def done(
        self,
        row: int,
        identifier: str,
        outcome: str,
        new_last_modified: datetime | str | None = None,
        message: str = "",
        problems: Iterable[Any] = (),
    ) -> None:
        """Record the answer to the write for ``row`` (or how an in-flight row was settled)."""
        event: dict[str, Any] = {
            "event": "done",
            "row": row,
            "identifier": identifier,
            "outcome": outcome,
            "new_last_modified": new_last_modified,
            "message": message,
        }
        self._append(_with_problems(event, problems))

    def outcome(
        self,
        row: int,
        identifier: str | None,
        outcome: str,
        message: str = "",
        problems: Iterable[Any] = (),
    ) -> None:
        """Record the outcome of a row decided without a write (unchanged, invalid, conflict...).

        ``problems`` (the row's Problem records) are kept so a resume shows them
        again: a conflict's three-value lines in the Errors sheet.
        """
        event: dict[str, Any] = {
            "event": "outcome",
            "row": row,
            "identifier": identifier,
            "outcome": outcome,
            "message": message,
        }
        self._append(_with_problems(event, problems))

    def call_intent(self, row: int, identifier: str, index: int, call: dict[str, Any]) -> None:
        """Record that call ``index`` of the row's plan (``Call.as_json()``) is about to be sent."""
        self._append(
            {"event": "call-intent", "row": row, "identifier": identifier, "index": index,
             "call": call}
        )  # fmt: skip

    def call_done(
        self,
        row: int,
        identifier: str,
        index: int,
        call: dict[str, Any],
        outcome: str = LANDED,
        message: str = "",
    ) -> None:
        """Record the answer to call ``index``: ``landed``, or how it ended (``invalid``...)."""
        self._append(
            {"event": "call-done", "row": row, "identifier": identifier, "index": index,
             "call": call, "outcome": outcome, "message": message}
        )  # fmt: skip

    def finish(self, summary: dict[str, Any]) -> None:
        """Record that the run ended on its own, with its counts."""
        self._append({"event": "finish", "summary": summary})

    def close(self) -> None:
        """Close the file (a later event opens it again)."""
        with self._lock:
            if self._file is not None:
                journal, self._file = self._file, None
                # its last flush may fail (a full disk): the events before it stand
                with contextlib.suppress(OSError):
                    journal.close()

    # -- reading back ----------------------------------------------------------------

    def events(self) -> Iterator[dict[str, Any]]:
        """The journal's events in order; a torn last line is left out."""
        yield from self._read_events()[0]

    def _read_events(self) -> tuple[list[dict[str, Any]], bool]:
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise RunFolderError(f"{self.path} cannot be read: {e.strerror}") from None
        lines = data.split(b"\n")
        events: list[dict[str, Any]] = []
        torn = False
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except ValueError:
                if number == len(lines):  # the last line, with no newline after it
                    torn = True
                    continue
                raise RunFolderError(
                    f"{self.path} line {number} is damaged; the run cannot be resumed safely"
                ) from None
            events.append(event)
        return events, torn

    def replay(self) -> JournalState:
        """Read the journal back: each row's final outcome, or ``in-flight``."""
        events, torn = self._read_events()
        state = JournalState(torn_tail=torn)
        for ev in events:
            kind = ev.get("event")
            if kind == "finish":
                state.finished = ev.get("summary") or {}
                continue
            row = ev.get("row")
            if not isinstance(row, int):
                continue
            state.finished = None  # a resume went on after an earlier finish
            rs = state.rows.get(row)
            if rs is None:
                rs = state.rows[row] = RowState(row=row, identifier=ev.get("identifier"), state="")
            if ev.get("identifier"):
                rs.identifier = ev["identifier"]
            if kind == "intent":
                rs.state = IN_FLIGHT
                rs.message = ""
                rs.writes_sent += 1
                rs.last_modified_sent = parse_or_none(ev.get("last_modified_sent"))
                rs.payload_digest = ev.get("payload_digest")
                rs.changes = list(ev.get("changes") or [])
                rs.new_last_modified = None
            elif kind in ("call-intent", "call-done"):
                _replay_call(rs, kind, ev)
            elif kind in ("done", "outcome"):
                rs.state = str(ev.get("outcome"))
                rs.message = ev.get("message") or ""
                rs.problems = [p for p in ev.get("problems") or [] if isinstance(p, dict)]
                rs.new_last_modified = parse_or_none(ev.get("new_last_modified"))
                rs.call_in_flight = None
        return state


def _replay_call(rs: RowState, kind: str, ev: dict[str, Any]) -> None:
    """A call's event: its intent puts the row in flight, its done (landed) is kept."""
    call = ev.get("call") if isinstance(ev.get("call"), dict) else {}
    assert isinstance(call, dict)
    if kind == "call-intent":
        rs.state = IN_FLIGHT
        rs.message = ""
        rs.writes_sent += 1
        rs.call_in_flight = {**call, "index": ev.get("index")}
        return
    rs.call_in_flight = None
    if ev.get("outcome") == LANDED:
        rs.calls_done.append(call)
