"""The run folder: what an ``apply`` run did, kept so it can be resumed and rolled back.

A run folder holds::

    runs/<input-stem>-<yyyymmddTHHMMSSZ>/
        run.json        input path and its sha256, catalog, command, settings, start time
        journal.jsonl   one JSON event per line, each flushed and fsync'd before we go on
        before/<id>.json  the live record as it was just before our write
        lock            held (flock) by the process that owns the run; says who
        plan.json       (written by the planner)
        results workbook (written by the results module)

The journal is the truth about writes.  ``intent`` is written before a write is
sent and ``done`` after its answer came back, so a row whose last event is an
``intent`` is in flight: the write may or may not have landed, and the engine
settles it by reading the record again, never by sending it a second time.
Rows decided without a write get a single ``outcome`` event.

A crash in the middle of an append leaves a torn last line.  Replay ignores it
(that event was never acknowledged), and reopening the journal for appending
cuts it off first, so later events start on a line of their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import socket
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import IO, Any

from botocore.model import Shape

from bulk_update.errors import RunFolderError
from bulk_update.fields import service_model
from bulk_update.problems import Outcome
from bulk_update.times import parse_or_none, stamp

RUN_FILE = "run.json"
JOURNAL_FILE = "journal.jsonl"
BEFORE_DIR = "before"
LOCK_FILE = "lock"

IN_FLIGHT = "in-flight"
"""The state of a row whose write was sent but whose answer was never recorded."""

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _jsonable(value: Any) -> Any:
    """Turn datetimes, enums and dataclasses into plain JSON values."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, sort_keys=True)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


DIR_MODE = 0o700
FILE_MODE = 0o600
"""Run folders and what they hold are private to the user who ran the tool,
whatever the umask: the journal and before-images hold customer data."""


def private_dir(path: Path, *, exist_ok: bool = False) -> None:
    """Make ``path`` (its parents as usual) readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=DIR_MODE, exist_ok=exist_ok)
    os.chmod(path, DIR_MODE)


def private_file(path: Path) -> None:
    """Create ``path`` empty if missing; either way readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)


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
    kept = [_jsonable(p) for p in problems]
    if kept:
        event["problems"] = kept
    return event


def take_lock(path: Path) -> int | None:
    """Open ``path`` (0600) and take an exclusive non-blocking flock: the descriptor, or
    None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    os.fchmod(fd, FILE_MODE)
    return fd


def holder_text(folder: Path) -> str:
    """Who holds a run folder's lock, from what the holder wrote in it."""
    try:
        info = json.loads((folder / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "holder unknown"
    if not isinstance(info, dict):
        return "holder unknown"
    return (
        f"pid {info.get('pid')} on {info.get('host')}, {info.get('command', 'a run')} "
        f"since {info.get('started')}"
    )


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some systems cannot open a directory; the rename still stands
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves the old file or the new one, whole."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@cache
def _record_shape() -> Shape:
    shape = service_model().operation_model("GetOpportunity").output_shape
    assert shape is not None
    return shape


def _revive(value: Any, shape: Shape) -> Any:
    """Turn the ISO strings of a JSON record back into datetimes where the model says timestamp."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {k: _revive(v, members[k]) if k in members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_revive(v, shape.member) for v in value]  # type: ignore[attr-defined]
    if kind == "timestamp" and isinstance(value, str):
        return parse_or_none(value) or value
    return value


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
    """How many intents were recorded for this row (a ConflictException retry adds one)."""

    @property
    def in_flight(self) -> bool:
        return self.state == IN_FLIGHT

    @property
    def updated(self) -> bool:
        return self.state == Outcome.UPDATED


@dataclass
class JournalState:
    """Everything a journal says, row by row, as read back by :meth:`RunFolder.replay`."""

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
        """Rows the run wrote, in row order: ended ``updated``, or sent a write and heard
        back (a conflict, a failure); rows in flight and rows without an identifier left out."""
        return [
            r
            for _, r in sorted(self.rows.items())
            if r.identifier and not r.in_flight and (r.updated or r.writes_sent)
        ]


class RunFolder:
    """One run's folder: its settings, journal and before-images."""

    def __init__(self, path: Path, info: dict[str, Any]) -> None:
        self.path = path
        self.info = info
        self._lock = threading.Lock()
        self._journal: IO[str] | None = None
        self._lock_fd: int | None = None

    # -- making and opening --------------------------------------------------------

    @classmethod
    def create(
        cls,
        base_dir: Path | None,
        *,
        input_path: Path,
        catalog: str,
        command: str,
        settings: dict[str, Any],
        name: str | None = None,
        digest_of: Path | None = None,
        started: datetime | None = None,
    ) -> RunFolder:
        """Make a new private run folder inside ``base_dir`` (default: ``runs/`` beside the input).

        It is named ``<input-stem>-<time>`` unless ``name`` is given (a rollback's
        ``rollback-<time>``); ``digest_of`` is the file whose sha256 stands for
        the input (default: the input itself; a rollback's is the run's journal).
        """
        input_path = Path(input_path)
        base = Path(base_dir) if base_dir is not None else input_path.resolve().parent / "runs"
        started = (started or datetime.now(UTC)).replace(microsecond=0)
        stem = name or f"{input_path.stem}-{stamp(started)}"
        try:
            base.mkdir(parents=True, exist_ok=True)
            path = base / stem
            for n in range(2, 1000):
                try:
                    private_dir(path)
                    break
                except FileExistsError:
                    path = base / f"{stem}-{n}"
            private_dir(path / BEFORE_DIR)
            info = {
                "input": str(input_path.resolve()),
                "input_sha256": file_sha256(digest_of or input_path),
                "catalog": catalog,
                "command": command,
                "settings": _jsonable(settings),
                "started": started.isoformat(),
            }
            atomic_write_text(path / RUN_FILE, _dumps(info) + "\n")
            private_file(path / JOURNAL_FILE)
            _fsync_dir(path)
        except OSError as e:
            raise RunFolderError(f"cannot create a run folder in {base}: {e.strerror}") from e
        return cls(path, info)

    @classmethod
    def open(cls, path: Path, *, catalog: str | None = None) -> RunFolder:
        """Open an existing run folder; with ``catalog``, refuse one made for another catalog."""
        path = Path(path)
        if not path.is_dir():
            raise RunFolderError(f"no run folder at {path}")
        try:
            info = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunFolderError(f"{path} is not a run folder (no {RUN_FILE})") from None
        except (OSError, ValueError) as e:
            raise RunFolderError(f"{path / RUN_FILE} cannot be read: {e}") from None
        if not isinstance(info, dict) or not {"input", "catalog", "command"} <= info.keys():
            raise RunFolderError(f"{path / RUN_FILE} is not a run description")
        if not (path / JOURNAL_FILE).is_file():
            raise RunFolderError(f"{path} has no {JOURNAL_FILE}")
        if catalog is not None and info["catalog"] != catalog:
            raise RunFolderError(f"{path} was made for catalog {info['catalog']}, not {catalog}")
        (path / BEFORE_DIR).mkdir(mode=DIR_MODE, exist_ok=True)
        return cls(path, info)

    # -- what the folder knows -----------------------------------------------------

    @property
    def catalog(self) -> str:
        return str(self.info["catalog"])

    @property
    def input_path(self) -> Path:
        return Path(self.info["input"])

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.info.get("settings") or {})

    @property
    def journal_path(self) -> Path:
        return self.path / JOURNAL_FILE

    def check_input(self, input_path: Path) -> None:
        """Refuse to resume with a file that is not the one the run started from."""
        if file_sha256(Path(input_path)) != self.info.get("input_sha256"):
            raise RunFolderError(
                f"{input_path} is not the file this run started from (its content changed)"
            )

    # -- before-images -------------------------------------------------------------

    def _before_path(self, identifier: str) -> Path:
        if not _SAFE_ID.match(identifier):
            raise ValueError("an opportunity identifier holds only letters, digits, - and _")
        return self.path / BEFORE_DIR / f"{identifier}.json"

    def save_before(self, identifier: str, record: dict[str, Any]) -> None:
        """Keep the live record as it was just before our write (replaces an older copy)."""
        body = {k: v for k, v in record.items() if k != "ResponseMetadata"}
        atomic_write_text(self._before_path(identifier), _dumps(body) + "\n")

    def load_before(self, identifier: str) -> dict[str, Any] | None:
        """The record saved by :meth:`save_before`, with its datetimes back; None if none."""
        path = self._before_path(identifier)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError as e:
            raise RunFolderError(f"{path} cannot be read: {e}") from None
        return _revive(data, _record_shape())

    def before_identifiers(self) -> list[str]:
        return sorted(p.stem for p in (self.path / BEFORE_DIR).glob("*.json"))

    # -- the journal ---------------------------------------------------------------

    def _open_journal(self) -> IO[str]:
        """Open the journal for appending, first cutting off a torn last line."""
        path = self.journal_path
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
        line = _dumps(event) + "\n"
        with self._lock:
            if self._journal is None:
                self._journal = self._open_journal()
            journal = self._journal
            start = os.fstat(journal.fileno()).st_size
            try:
                journal.write(line)
                journal.flush()
                os.fsync(journal.fileno())
            except OSError:
                # a full disk: cut back to the last whole event and drop the buffer, so
                # no torn or half-buffered line is left to land later
                self._journal = None
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

    def finish(self, summary: dict[str, Any]) -> None:
        """Record that the run ended on its own, with its counts."""
        self._append({"event": "finish", "summary": summary})

    def close(self) -> None:
        """Close the journal and give up the folder's lock."""
        with self._lock:
            if self._journal is not None:
                journal, self._journal = self._journal, None
                # its last flush may fail (a full disk): the events before it stand
                with contextlib.suppress(OSError):
                    journal.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # closing the descriptor releases the flock
                self._lock_fd = None

    # -- one owner at a time -------------------------------------------------------

    def lock(self, command: str) -> None:
        """Own the folder for the life of this run: an exclusive ``flock`` on its lock file.

        The OS releases it when the process ends, however it ends, so a crash
        leaves no stale lock.  A second process is refused at once, and told
        who holds it (pid, host, start time, command).
        """
        if self._lock_fd is not None:
            return
        try:
            fd = take_lock(self.path / LOCK_FILE)
        except OSError as e:
            raise RunFolderError(f"cannot lock {self.path}: {e.strerror or e}") from None
        if fd is None:
            raise RunFolderError(
                f"{self.path} is in use by another bulk-update ({holder_text(self.path)}); "
                "wait for it to end, then try again"
            )
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
        }
        self._lock_fd = fd
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (_dumps(info) + "\n").encode(), 0)
        except OSError:
            pass  # the lock holds without its note (a full disk): the holder is then unnamed

    def locked_by_other(self) -> bool:
        """True while another process owns this folder (its lock is held)."""
        if self._lock_fd is not None or not (self.path / LOCK_FILE).exists():
            return False
        fd = take_lock(self.path / LOCK_FILE)
        if fd is None:
            return True
        os.close(fd)
        return False

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading the journal back --------------------------------------------------

    def events(self) -> Iterator[dict[str, Any]]:
        """The journal's events in order; a torn last line is left out."""
        yield from self._read_events()[0]

    def _read_events(self) -> tuple[list[dict[str, Any]], bool]:
        try:
            data = self.journal_path.read_bytes()
        except OSError as e:
            raise RunFolderError(f"{self.journal_path} cannot be read: {e.strerror}") from None
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
                    f"{self.journal_path} line {number} is damaged; the run cannot be resumed safely"
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
            elif kind in ("done", "outcome"):
                rs.state = str(ev.get("outcome"))
                rs.message = ev.get("message") or ""
                rs.problems = [p for p in ev.get("problems") or [] if isinstance(p, dict)]
                rs.new_last_modified = parse_or_none(ev.get("new_last_modified"))
        return state


def find_run(path: Path) -> tuple[Path, str | None]:
    """The run folder ``path`` names, and a note when it was picked from inside ``path``.

    ``path`` may be a run folder, or the folder given to ``--run-dir`` (the
    runs inside it): its only run, or, when it holds several, the latest one
    not finished (else the latest).  Anything else comes back as it is, for
    :meth:`RunFolder.open` to refuse in its own words.
    """
    path = Path(path)
    if (path / RUN_FILE).is_file() or not path.is_dir():
        return path, None
    runs: list[tuple[str, bool, Path]] = []
    for child in sorted(path.iterdir()):
        if not (child / RUN_FILE).is_file():
            continue
        try:
            folder = RunFolder.open(child)
            runs.append((str(folder.info.get("started", "")), folder.replay().complete, child))
        except RunFolderError:
            continue
    if not runs:
        return path, None
    if len(runs) == 1:
        return runs[0][2], f"using {runs[0][2]}, the run folder inside {path}"
    open_runs = [r for r in runs if not r[1]]
    latest = max(open_runs or runs)[2]
    which = "latest unfinished" if open_runs else "latest"
    return latest, f"{path} holds {len(runs)} runs: using the {which} one, {latest}"


def end_run(folder: RunFolder, summary: dict[str, Any]) -> None:
    """End a run the one way apply and rollback share: journal ``finish``, close.

    A ``finish`` that cannot be written (a full disk) is left out: the run then
    reads as unfinished, and a resume settles it; the folder is closed anyway.
    """
    try:
        folder.finish(summary)
    except OSError:
        pass
    finally:
        folder.close()
