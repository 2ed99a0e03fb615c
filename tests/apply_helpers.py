"""Helpers for the end-to-end tests of ``apply``: sheets, a client, record comparison."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.api.boto import make_boto_client
from bulk_update.api.pacing import TokenBucket

# Fields that change on every write whatever the row says.
VOLATILE = ("LastModifiedDate",)


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    """A CSV sheet with the union of the rows' columns, Identifier first."""
    columns: list[str] = ["Identifier"]
    for r in rows:
        for c in r:
            if c not in columns:
                columns.append(c)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def make_pc(
    url: str,
    *,
    catalog: str = "Sandbox",
    read_rate: float = 1000.0,
    write_rate: float = 1000.0,
    **kwargs: Any,
) -> pcc.PartnerCentral:
    boto = make_boto_client(profile=None, endpoint_url=url)
    return pcc.PartnerCentral(
        boto,
        catalog,
        read_limiter=TokenBucket(read_rate, burst=max(1.0, read_rate)),
        write_limiter=TokenBucket(write_rate, burst=1.0),
        **kwargs,
    )


def strip_volatile(record: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    for key in VOLATILE:
        out.pop(key, None)
    out.get("LifeCycle", {}).pop("NextStepsHistory", None)
    return out


def without(record: dict[str, Any], *dotted: str) -> dict[str, Any]:
    """A copy of ``record`` with the given dotted fields removed (to compare the rest)."""
    out = strip_volatile(record)
    for path in dotted:
        node: Any = out
        *parents, last = path.split(".")
        for p in parents:
            node = node.get(p, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(last, None)
    return out


def pick(
    emu: Any,
    status: str,
    *,
    stage: str | None = None,
    skip: tuple[str, ...] = (),
    catalog: str = "Sandbox",
) -> str:
    """The first record (by id) in this review status (and stage)."""
    for ident, rec in sorted(emu.records(catalog).items()):
        life = rec["LifeCycle"]
        if ident in skip:
            continue
        if life["ReviewStatus"] == status and (stage is None or life["Stage"] == stage):
            return ident
    raise LookupError(status)


def writes(emu: Any) -> dict[str, int]:
    return dict(emu.counters()["writes_per_id"])


def apply_rows(emu: Any, tmp_path: Path, rows: list[dict[str, str]], **settings: Any) -> Any:
    """Apply these rows (written as a CSV in ``tmp_path``) to the emulator's Sandbox
    catalog, the run folder under ``tmp_path / "runs"``; ``pc=`` is for make_pc."""
    from bulk_update.run.apply import ApplySettings, apply_file

    sheet = write_sheet(tmp_path / "sheet.csv", rows)
    pc = make_pc(emu.url, **settings.pop("pc", {}))
    return apply_file(
        sheet, pc, ApplySettings(catalog="Sandbox", run_dir=tmp_path / "runs", **settings)
    )
