"""The tool's own count of writes per account and catalog, over a rolling 24 hours.

Partner Central allows 10,000 writes a day per partner account and write
operation (UpdateOpportunity, AssignOpportunity...: each its own quota).  The
service answers ThrottlingException past it, which a run cannot wait out; so
the tool keeps a ledger of the writes it sent (one line per write: its time
and operation, no values) and plans each run within what is left of each
operation's count, saying when the rest will fit.  A line with a time alone
(the ledgers of earlier versions) is an UpdateOpportunity.

The ledger lives in ``$BULK_UPDATE_HOME`` (default ``~/.bulk-update``), one
file per account key: the profile (or ``default``), the endpoint host, and the
catalog.  Writes made by other tools are not seen; the limit is a setting.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from bulk_update.api.pacing import UPDATE
from bulk_update.run.folder import FILE_MODE, private_dir

DAY = timedelta(hours=24)
DAILY_WRITES = 10_000
"""Each write operation's rolling 24-hour quota (a setting: quotas can be raised)."""
# UPDATE: the operation of a ledger line that names none (written before operations
# were told apart).


def home() -> Path:
    return Path(os.environ.get("BULK_UPDATE_HOME") or Path.home() / ".bulk-update")


def account_key(profile: str | None, endpoint_url: str | None, catalog: str) -> str:
    host = urlparse(endpoint_url).netloc if endpoint_url else "aws"
    raw = f"{profile or 'default'}-{host}-{catalog}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", raw)


class Ledger:
    """Times of this account's recent writes, per operation; thread-safe appends.

    ``limit`` is every operation's daily quota; ``used``, ``remaining`` and
    :meth:`fits_at` answer for one operation (UpdateOpportunity by default).
    """

    def __init__(
        self,
        key: str,
        *,
        limit: int = DAILY_WRITES,
        folder: Path | None = None,
        now: datetime | None = None,
    ) -> None:
        self.limit = limit
        self.path = (folder or home()) / f"writes-{key}.log"
        self._lock = threading.Lock()
        self._now = now
        self._times = self._load()

    def _clock(self) -> datetime:
        return self._now or datetime.now(UTC)

    def _load(self) -> dict[str, list[datetime]]:
        cutoff = self._clock() - DAY
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        times: dict[str, list[datetime]] = {}
        for line in lines:
            stamp, _, operation = line.strip().partition(" ")
            try:
                t = datetime.fromisoformat(stamp)
            except ValueError:
                continue  # a torn line from a crash
            if t > cutoff:
                times.setdefault(operation or UPDATE, []).append(t)
        return times

    def _recent(self, operation: str) -> list[datetime]:
        cutoff = self._clock() - DAY
        return [t for t in self._times.get(operation, ()) if t > cutoff]

    @property
    def used(self) -> int:
        """UpdateOpportunity's writes in the last 24 hours."""
        return self.used_by(UPDATE)

    @property
    def remaining(self) -> int:
        return self.remaining_for(UPDATE)

    def used_by(self, operation: str) -> int:
        """One operation's writes in the last 24 hours."""
        return len(self._recent(operation))

    def remaining_for(self, operation: str) -> int:
        return max(0, self.limit - self.used_by(operation))

    def fits_at(self, writes: int, operation: str = UPDATE) -> datetime:
        """When ``writes`` more writes of ``operation`` will fit in the rolling window."""
        recent = sorted(self._recent(operation))
        excess = len(recent) + writes - self.limit
        if excess <= 0:
            return self._clock()
        if excess > len(recent):
            return self._clock() + DAY
        return recent[excess - 1] + DAY

    def record(self, operation: str = UPDATE) -> None:
        """Note one write of ``operation`` sent now (appended and flushed; the file is small)."""
        t = self._clock()
        with self._lock:
            self._times.setdefault(operation, []).append(t)
            if not self.path.parent.is_dir():
                private_dir(self.path.parent, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                os.fchmod(f.fileno(), FILE_MODE)
                f.write(_line(t, operation))
            if sum(len(v) for v in self._times.values()) > 4 * self.limit:
                self._compact()

    def _compact(self) -> None:
        self._times = {op: self._recent(op) for op in self._times}
        lines = sorted((t, op) for op, ts in self._times.items() for t in ts)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(_line(t, op) for t, op in lines), encoding="utf-8")
        os.chmod(tmp, FILE_MODE)
        tmp.replace(self.path)


def _line(t: datetime, operation: str) -> str:
    """A ledger line: the time, then the operation (UpdateOpportunity's alone, as before)."""
    return f"{t.isoformat()}\n" if operation == UPDATE else f"{t.isoformat()} {operation}\n"
