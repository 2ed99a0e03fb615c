"""Commands that need no AWS account: the local ``emulator`` and the ``demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bulk_update import fields as cat
from bulk_update.cli.app import (
    _interruptible,
    _partner_central,
    _progress,
    _report,
    _samples,
    _watch,
    handles_errors,
    main,
)


@main.command()
@click.option("--port", type=int, default=4566, show_default=True)
@click.option(
    "--seed",
    type=click.Path(path_type=Path, exists=True),
    help="JSON file of records to start with (default: the samples).",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="Keep the state in this JSON file across restarts.",
)
@click.option("--write-rate", type=float, default=1.0, show_default=True)
@click.option("--read-rate", type=float, default=10.0, show_default=True)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of calls that answer InternalServerException.",
)
def emulator(
    port: int,
    seed: Path | None,
    data: Path | None,
    write_rate: float,
    read_rate: float,
    fault_rate: float,
) -> None:
    """Run a local Partner Central stand-in on 127.0.0.1 until Ctrl-C.

    Point the tool at it with --endpoint-url (the URL it prints); no AWS
    account or credentials are needed.
    """
    from bulk_update.emulator import serve

    serve(
        port=port,
        seed=seed or _samples() / "opportunities.json",
        data_file=data,
        write_rate=write_rate,
        read_rate=read_rate,
        fault_rate=fault_rate,
    )


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-run"),
    show_default=True,
    help="Folder for the run folder and results.",
)
@click.option(
    "--rate",
    type=float,
    default=10.0,
    show_default=True,
    help="Write quota of the stand-in (the real one is 1 per second).",
)
@handles_errors
def demo(out: Path, rate: float) -> None:
    """Apply the sample quarterly-cleanup sheet to a local stand-in: no AWS account needed."""
    from bulk_update.emulator import Emulator
    from bulk_update.run.jobs import ApplySettings, apply_file

    samples = _samples()
    sheet = samples / "quarterly-cleanup.xlsx"
    with Emulator(
        seed=samples / "opportunities.json",
        write_rate=rate,
        write_burst=1,
        read_rate=rate * 10,
        read_burst=rate * 10,
    ) as emu:
        click.echo(f"Local Partner Central stand-in at {emu.url} (catalog Sandbox)", err=True)
        pc = _partner_central("Sandbox", None, emu.url, cat.REGION, rate * 10, rate)
        out.mkdir(parents=True, exist_ok=True)
        settings = ApplySettings(catalog="Sandbox", run_dir=out)
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
