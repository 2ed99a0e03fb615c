"""The run folder: what an ``apply`` run did, kept so it can be resumed and rolled back.

A run folder holds::

    runs/<input-stem>-<yyyymmddTHHMMSSZ>/
        run.json        input path and its sha256, catalog, command, settings, start time
        journal.jsonl   one JSON event per line (:mod:`bulk_update.run.journal`)
        before/<id>.json  the live record as it was just before our write
        lock            held (flock) by the process that owns the run; says who
        results workbook (written by the results module)

Everything in it is private to its owner (0700/0600, whatever the umask), and
written so a crash leaves an old file or a new one, whole.  The journal is the
truth about writes; this module makes, opens, locks and finds run folders,
keeps the before-images, and ends a run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from botocore.model import Shape

from bulk_update.errors import RunFolderError
from bulk_update.fields import service_model
from bulk_update.run.journal import Journal, dumps, jsonable
from bulk_update.times import parse_or_none, stamp

RUN_FILE = "run.json"
JOURNAL_FILE = "journal.jsonl"
BEFORE_DIR = "before"
LOCK_FILE = "lock"

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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


class RunFolder:
    """One run's folder: its settings, journal and before-images."""

    def __init__(self, path: Path, info: dict[str, Any]) -> None:
        self.path = path
        self.info = info
        self.journal = Journal(path / JOURNAL_FILE)
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
                "settings": jsonable(settings),
                "started": started.isoformat(),
            }
            atomic_write_text(path / RUN_FILE, dumps(info) + "\n")
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
        return self.journal.path

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
        atomic_write_text(self._before_path(identifier), dumps(body) + "\n")

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

    def close(self) -> None:
        """Close the journal and give up the folder's lock."""
        self.journal.close()
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
            os.pwrite(fd, (dumps(info) + "\n").encode(), 0)
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
            runs.append(
                (str(folder.info.get("started", "")), folder.journal.replay().complete, child)
            )
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
        folder.journal.finish(summary)
    except OSError:
        pass
    finally:
        folder.close()
