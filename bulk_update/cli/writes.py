"""The commands that write to Partner Central: ``apply`` and its undo, ``rollback``.

Both show the plan and ask before writing to the AWS (production) catalog,
pace their writes within the quota, and stop cleanly on Ctrl-C.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bulk_update.cli.app import (
    _asking_over,
    _interruptible,
    _partner_central,
    _production_confirmation,
    _progress,
    _report,
    _watch,
    api_options,
    catalog_option,
    handles_errors,
    json_option,
    main,
    workers_option,
    write_guard_options,
    write_rate_option,
)

daily_writes_option = click.option(
    "--daily-writes",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="The account's write quota per rolling 24 hours: the tool counts its own writes and "
    "stops before going over it (rows `skipped`, resumable).",
)


@main.command(epilog="Example: bulk-update apply pipeline.xlsx --catalog Sandbox --dry-run")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@catalog_option(required=True)
@write_guard_options(
    "Read and plan, write nothing: rows that would change end `would-update`.",
    "Stop after N writes (the rest end `skipped`).",
)
@click.option(
    "--on-conflict",
    type=click.Choice(["skip", "overwrite"]),
    default="skip",
    show_default=True,
    help="A row whose LastModifiedDate is older than the live record: leave it (conflict) or apply it anyway.",
)
@click.option(
    "--resume",
    type=click.Path(path_type=Path, file_okay=False),
    help="Finish an interrupted run from its run folder; no row is sent twice.",
)
@click.option(
    "--run-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to keep the run folder (default: runs/ beside FILE).",
)
@click.option("--sheet", help="Which sheet of an .xlsx to read (default: the first).")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Results workbook (default: in the run folder)."
)
@daily_writes_option
@click.option(
    "--allow-concurrent",
    is_flag=True,
    help="Start even while another apply of the same sheet on the same catalog is running "
    "(by default that is refused: the two would report conflicts against each other).",
)
@click.option(
    "--no-verify",
    is_flag=True,
    help="Do not read each written record back to check that Partner Central kept what was sent.",
)
@workers_option("Rows in progress at once (reads overlap the paced writes).")
@api_options
@write_rate_option
@json_option
@handles_errors
def apply(
    file: Path | None,
    catalog: str,
    dry_run: bool,
    yes: bool,
    on_conflict: str,
    max_writes: int | None,
    resume: Path | None,
    run_dir: Path | None,
    sheet: str | None,
    out: Path | None,
    daily_writes: int,
    allow_concurrent: bool,
    no_verify: bool,
    workers: int,
    profile: str | None,
    endpoint_url: str | None,
    region: str,
    read_rate: float,
    write_rate: float,
    as_json: bool,
) -> None:
    """Apply a sheet to live opportunities: the main job.

    \b
    For each row: read the live record, merge the row's cells into it
    (empty = keep, #CLEAR = empty the field), and send the whole record
    back, paced within your quota. Rows that change nothing send nothing.
    On --catalog AWS it shows the plan and asks first (or pass --yes).
    The run folder keeps a journal: `--resume RUN` finishes an interrupted
    run and `bulk-update rollback RUN` undoes it.
    """
    from bulk_update.run.apply import ApplySettings, apply_file
    from bulk_update.run.ledger import Ledger, account_key

    if file is None and resume is None:
        raise click.UsageError("give the sheet to apply (FILE), or --resume RUN")
    confirm = _production_confirmation(
        catalog, dry_run, yes, "to change", "Apply {n} changes to production?"
    )

    pc = _partner_central(catalog, profile, endpoint_url, region, read_rate, write_rate, workers)
    settings = ApplySettings(
        catalog=catalog,
        sheet=sheet,
        out=out,
        run_dir=run_dir,
        dry_run=dry_run,
        on_conflict=on_conflict,
        max_writes=max_writes,
        workers=workers,
        resume=resume,
        ledger=Ledger(account_key(profile, endpoint_url, catalog), limit=daily_writes),
        verify=not no_verify,
        allow_concurrent=allow_concurrent,
    )
    executors: list[Any] = []
    with _interruptible(executors), _progress(pc.stats) as progress:
        report = apply_file(
            file,
            pc,
            settings,
            confirm=_asking_over(progress, confirm),
            on_row=progress.row,
            on_executor=_watch(executors, progress),
        )
    _report(report, as_json)
    _drift_hint(report, as_json)
    sys.exit(report.exit_code)


def _drift_hint(report: Any, as_json: bool, then: str = "run the retry file") -> None:
    """One line on stderr when rows were refused for model drift: what to run."""
    from bulk_update.api import drift
    from bulk_update.problems import Outcome

    n = sum(1 for r in report.results if r.outcome is Outcome.UPGRADE_NEEDED)
    if n and not as_json:
        click.echo(
            f"{n} row(s) not written: Partner Central holds fields this {drift.versions()} "
            f"cannot see (named in Results). Upgrade with `{drift.PIP_UPGRADE}`, then {then}.",
            err=True,
        )


@main.command(
    epilog="Example: bulk-update rollback runs/pipeline-20261201T101500Z --catalog Sandbox"
)
@click.argument("run", type=click.Path(path_type=Path, file_okay=False))
@catalog_option(required=True)
@write_guard_options(
    "Read and plan, write nothing: rows to put back end `would-update`.",
    "Stop after N writes (the rest end `skipped`; run again to finish).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results workbook (default: in the rollback's folder).",
)
@daily_writes_option
@click.option(
    "--no-verify",
    is_flag=True,
    help="Do not read each written record back to check that Partner Central kept what was sent.",
)
@workers_option("Rows in progress at once (reads overlap the paced writes).")
@api_options
@write_rate_option
@json_option
@handles_errors
def rollback(
    run: Path,
    catalog: str,
    dry_run: bool,
    yes: bool,
    max_writes: int | None,
    out: Path | None,
    daily_writes: int,
    no_verify: bool,
    workers: int,
    profile: str | None,
    endpoint_url: str | None,
    region: str,
    read_rate: float,
    write_rate: float,
    as_json: bool,
) -> None:
    """Put back the values an apply run changed, where nobody changed them since.

    \b
    For each row the run updated: if the record still carries the version
    that run wrote, its values from before the run are sent back; if someone
    saved it since, the row ends `conflict` (fields named) and nothing is
    written. Rows already put back end `unchanged`, so running the same
    command again finishes an interrupted rollback. On --catalog AWS it
    shows the plan and asks first (or pass --yes).
    """
    from bulk_update.run.ledger import Ledger, account_key
    from bulk_update.run.rollback import rollback_run

    confirm = _production_confirmation(
        catalog, dry_run, yes, "to put back", "Put back {n} records in production?"
    )

    pc = _partner_central(catalog, profile, endpoint_url, region, read_rate, write_rate, workers)
    executors: list[Any] = []
    with _interruptible(executors), _progress(pc.stats) as progress:
        report = rollback_run(
            pc,
            run,
            dry_run=dry_run,
            confirm=_asking_over(progress, confirm),
            on_row=progress.row,
            max_writes=max_writes,
            workers=workers,
            out=out,
            on_executor=_watch(executors, progress),
            verify=not no_verify,
            ledger=Ledger(account_key(profile, endpoint_url, catalog), limit=daily_writes),
        )
    _report(report, as_json)
    _drift_hint(report, as_json, "roll back again")
    if not as_json:
        for label in ("rollback folder", "to finish"):
            if label in report.summary.extra:
                click.echo(f"{label.capitalize()}: {report.summary.extra[label]}", err=True)
    sys.exit(report.exit_code)
