"""The tool's own count of writes per account and catalog, over a rolling 24 hours.

Partner Central allows 10,000 writes a day per partner account.  The service
answers ThrottlingException past it, which a run cannot wait out; so the tool
keeps a ledger of the writes it sent (one line per write: time, no values)
and plans each run within what is left, saying when the rest will fit.

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

from bulk_update.run.folder import FILE_MODE, private_dir

DAY = timedelta(hours=24)
DAILY_WRITES = 10_000


def home() -> Path:
    return Path(os.environ.get("BULK_UPDATE_HOME") or Path.home() / ".bulk-update")


def account_key(profile: str | None, endpoint_url: str | None, catalog: str) -> str:
    host = urlparse(endpoint_url).netloc if endpoint_url else "aws"
    raw = f"{profile or 'default'}-{host}-{catalog}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", raw)


class Ledger:
    """Times of this account's recent writes; thread-safe appends."""

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

    def _load(self) -> list[datetime]:
        cutoff = self._clock() - DAY
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        times = []
        for line in lines:
            try:
                t = datetime.fromisoformat(line.strip())
            except ValueError:
                continue  # a torn line from a crash
            if t > cutoff:
                times.append(t)
        return times

    @property
    def used(self) -> int:
        cutoff = self._clock() - DAY
        return sum(1 for t in self._times if t > cutoff)

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def fits_at(self, writes: int) -> datetime:
        """When ``writes`` more writes will fit in the rolling window."""
        cutoff = self._clock() - DAY
        recent = sorted(t for t in self._times if t > cutoff)
        excess = len(recent) + writes - self.limit
        if excess <= 0:
            return self._clock()
        if excess > len(recent):
            return self._clock() + DAY
        return recent[excess - 1] + DAY

    def record(self) -> None:
        """Note one write sent now (appended and flushed; the file is small)."""
        t = self._clock()
        with self._lock:
            self._times.append(t)
            if not self.path.parent.is_dir():
                private_dir(self.path.parent, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                os.fchmod(f.fileno(), FILE_MODE)
                f.write(t.isoformat() + "\n")
            if len(self._times) > 4 * self.limit:
                self._compact()

    def _compact(self) -> None:
        cutoff = self._clock() - DAY
        self._times = [t for t in self._times if t > cutoff]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(t.isoformat() + "\n" for t in self._times), encoding="utf-8")
        os.chmod(tmp, FILE_MODE)
        tmp.replace(self.path)
