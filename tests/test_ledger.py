"""The rolling 24-hour count of the tool's own writes."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bulk_update.run.ledger import Ledger, account_key

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_writes_older_than_a_day_no_longer_count(tmp_path: Path) -> None:
    old = Ledger("k", limit=3, folder=tmp_path, now=NOW - timedelta(hours=25))
    old.record()
    recent = Ledger("k", limit=3, folder=tmp_path, now=NOW - timedelta(hours=2))
    recent.record()
    recent.record()
    now = Ledger("k", limit=3, folder=tmp_path, now=NOW)
    assert now.used == 2 and now.remaining == 1
    assert now.fits_at(1) == NOW
    assert now.fits_at(2) == NOW - timedelta(hours=2) + timedelta(hours=24)


def test_a_torn_line_is_ignored(tmp_path: Path) -> None:
    Ledger("k", folder=tmp_path, now=NOW).record()
    with (tmp_path / "writes-k.log").open("a") as f:
        f.write("2026-11-2")
    assert Ledger("k", folder=tmp_path, now=NOW).used == 1


def test_account_keys_separate_catalogs_and_endpoints() -> None:
    assert account_key(None, None, "AWS") != account_key(None, None, "Sandbox")
    assert account_key("p", "http://127.0.0.1:4566", "AWS") == "p-127.0.0.1_4566-AWS"


def test_each_operation_has_its_own_rolling_count(tmp_path: Path) -> None:
    ledger = Ledger("k", limit=2, folder=tmp_path, now=NOW)
    ledger.record()
    ledger.record("AssignOpportunity")
    ledger.record("AssignOpportunity")
    again = Ledger("k", limit=2, folder=tmp_path, now=NOW)
    assert again.used_by("UpdateOpportunity") == again.used == 1
    assert again.used_by("AssignOpportunity") == 2
    assert again.remaining_for("AssignOpportunity") == 0 and again.remaining == 1
    assert again.fits_at(1, "AssignOpportunity") == NOW + timedelta(hours=24)
    assert again.used_by("SubmitOpportunity") == 0


def test_a_ledger_of_an_earlier_version_counts_as_updates(tmp_path: Path) -> None:
    # earlier versions wrote one time per line, every write an UpdateOpportunity
    (tmp_path / "writes-k.log").write_text(f"{NOW.isoformat()}\n{NOW.isoformat()}\n")
    ledger = Ledger("k", folder=tmp_path, now=NOW)
    assert ledger.used == 2 and ledger.used_by("AssignOpportunity") == 0
    ledger.record("AssignOpportunity")
    ledger.record()
    lines = (tmp_path / "writes-k.log").read_text().splitlines()
    assert lines[2:] == [f"{NOW.isoformat()} AssignOpportunity", NOW.isoformat()]
