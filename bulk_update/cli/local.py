"""Commands that need no AWS account: the local ``emulator`` and the ``demo``.

Both run from any folder after a plain ``pip install``: the emulator's
records come from :mod:`bulk_update.emulator.seeddata` (the same records as
``samples/opportunities.json``) and the demo's sheet ships in the package
(``bulk_update/data/samples``).
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import click

from bulk_update import fields as cat
from bulk_update.api.pacing import WRITES
from bulk_update.cli.app import (
    _fail,
    _interruptible,
    _progress,
    _report,
    _samples,
    _watch,
    handles_errors,
    main,
)
from bulk_update.cli.options import FOLDER, RATE, Connection, old_name, rate_option, with_default

JSON_FILE = click.Path(path_type=Path, dir_okay=False)


def _port_taken(port: int) -> None:
    _fail(
        f"port {port} is already in use (another emulator?): stop it, or choose another "
        f"port with --port {port + 1}"
    )


@main.command(epilog="Example: bulk-update emulator --port 4566")
@with_default("--port", click.IntRange(0, 65535), 4566, "TCP port on 127.0.0.1 (0: any free port).")
@click.option(
    "--seed",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="JSON file of records to start with (default: the built-in sample records).",
)
@click.option("--data", type=JSON_FILE, help="Keep the state in this JSON file across restarts.")
@rate_option(
    "--quota-writes",
    1.0,
    "The server's write quota: calls per second it accepts in each write operation's lane "
    "(UpdateOpportunity, AssignOpportunity, ...) before answering ThrottlingException "
    "(the real service: 1).",
)
@rate_option(
    "--quota-reads",
    10.0,
    "The server's read quota: GetOpportunity/ListOpportunities calls per second it "
    "accepts before throttling (the real service: 10).",
)
@with_default(
    "--fault-rate",
    click.FloatRange(0, 1),
    0.0,
    "Share of calls that answer InternalServerException.",
)
@old_name("--write-rate", "old_write_rate", RATE)
@old_name("--read-rate", "old_read_rate", RATE)
def emulator(
    port: int,
    seed: Path | None,
    data: Path | None,
    quota_writes: float,
    quota_reads: float,
    fault_rate: float,
    old_write_rate: float | None,
    old_read_rate: float | None,
) -> None:
    """Run a local Partner Central stand-in on 127.0.0.1 until Ctrl-C.

    Point the tool at it with --endpoint-url and the URL it prints; no AWS
    account or credentials are needed.
    """
    quota: dict[str, Any] = {
        "write_rate": quota_writes if old_write_rate is None else old_write_rate,
        "read_rate": quota_reads if old_read_rate is None else old_read_rate,
    }
    from bulk_update.emulator import serve

    try:
        serve(port=port, seed=seed, data_file=data, fault_rate=fault_rate, **quota)
    except ValueError as exc:  # a seed or data file that is not a list of records
        _fail(f"the emulator could not load its records: {exc}")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _port_taken(port)
        _fail(f"the emulator could not start on port {port}: {exc.strerror or exc}")


@main.command(epilog="Example: bulk-update demo --out-dir demo-run")
@click.option(
    "--out-dir",
    type=FOLDER,
    default=Path("demo-run"),
    show_default=True,
    help="Folder for the run folder and its results workbook (created if missing).",
)
@rate_option(
    "--write-rate",
    10.0,
    "Writes per second of each write operation, for the tool and the stand-in's quota alike "
    "(the real service allows 1 per second each).",
)
@old_name("--out", "old_out", FOLDER)
@old_name("--rate", "old_rate", RATE)
@handles_errors
def demo(out_dir: Path, write_rate: float, old_out: Path | None, old_rate: float | None) -> None:
    """Apply the sample quarterly-cleanup sheet to a local stand-in: no AWS account needed."""
    out_dir = old_out or out_dir
    write_rate = old_rate or write_rate
    from bulk_update.emulator import Emulator
    from bulk_update.emulator.seeddata import generate
    from bulk_update.run.apply import ApplySettings, apply_file

    sheet = _samples() / "quarterly-cleanup.xlsx"
    with Emulator(
        seed=generate(),
        write_rate=write_rate,
        write_burst=1,
        read_rate=write_rate * 10,
        read_burst=write_rate * 10,
    ) as emu:
        click.echo(f"Local Partner Central stand-in at {emu.url} (catalog Sandbox)", err=True)
        # every write lane at the stand-in's rate
        lanes = tuple((op, write_rate) for op in sorted(WRITES))
        pc = Connection(
            None, emu.url, cat.REGION, write_rate * 10, write_rate, operation_rates=lanes
        ).connect("Sandbox")
        out_dir.mkdir(parents=True, exist_ok=True)
        settings = ApplySettings(catalog="Sandbox", run_dir=out_dir)
        executors: list[Any] = []
        with _interruptible(executors), _progress(pc.stats) as progress:
            report = apply_file(
                sheet, pc, settings, on_row=progress.row, on_executor=_watch(executors, progress)
            )
    _report(report, as_json=False)
    click.echo(
        "Open the results workbook to see each row's outcome and changes. (The sample "
        "sheet holds one row on an opportunity under review: it ends `locked` on purpose.)",
        err=True,
    )
