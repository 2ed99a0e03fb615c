"""The commands that write to Partner Central: ``apply`` and its undo, ``rollback``.

Both show the plan and ask before writing to the AWS (production) catalog,
pace their writes within the quota, and stop cleanly on Ctrl-C.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bulk_update.cli.app import (
    _asking_over,
    _interruptible,
    _production_confirmation,
    _progress,
    _report,
    _watch,
    handles_errors,
    main,
)
from bulk_update.cli.options import (
    FILE,
    FOLDER,
    Connection,
    Writes,
    api_options,
    bundled,
    catalog_option,
    daily_writes,
    json_option,
    no_verify,
    out_option,
    sheet_option,
    write_guard_options,
)

Confirm = Callable[[Any], bool]

_WORKERS = "Rows in progress at once (reads overlap the paced writes)."
_SETTINGS = ["on_conflict", "resume", "run_dir", "sheet", "out", "allow_concurrent"]
"""apply's own options: named as the fields of ``ApplySettings`` they fill, as given."""


@main.command(epilog="Example: bulk-update apply pipeline.xlsx --catalog Sandbox --dry-run")
@click.argument("file", type=FILE, required=False)
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
    type=FOLDER,
    help="Finish an interrupted run from its run folder; no row is sent twice.",
)
@click.option(
    "--run-dir", type=FOLDER, help="Where to keep the run folder (default: runs/ beside FILE)."
)
@sheet_option
@out_option("Results workbook (default: in the run folder).")
@daily_writes
@click.option(
    "--allow-concurrent",
    is_flag=True,
    help="Start even while another apply of the same sheet on the same catalog is running "
    "(by default that is refused: the two would report conflicts against each other).",
)
@no_verify
@api_options(_WORKERS, writes=True)
@json_option
@bundled("given", dict, _SETTINGS)
@handles_errors
def apply(
    file: Path | None,
    catalog: str,
    writes: Writes,
    given: dict[str, Any],
    api: Connection,
    as_json: bool,
) -> None:
    """Apply a sheet to live opportunities: the main job.

    \b
    For each row: read the live record, merge the row's cells into it
    (empty = keep, #CLEAR = empty the field), and send the whole record
    back, paced within your quota. Rows that change nothing send nothing.
    On --catalog AWS it shows the plan and asks first (or pass --yes),
    naming the reassignments, associations and submissions it sends.
    The run folder keeps a journal: `--resume RUN` finishes an interrupted
    run and `bulk-update rollback RUN` undoes it.
    """
    from bulk_update.run.apply import ApplySettings, apply_file

    if file is None and given["resume"] is None:
        raise click.UsageError("give the sheet to apply (FILE), or --resume RUN")
    confirm = _telling_calls(
        _production_confirmation(catalog, writes, "to change", "Apply {n} changes to production?")
    )
    pc = api.connect(catalog)
    settings = ApplySettings(
        catalog=catalog,
        dry_run=writes.dry_run,
        max_writes=writes.max_writes,
        verify=writes.verify,
        ledger=api.ledger(catalog, writes.daily_writes),
        workers=api.workers,
        **given,
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
    _report(report, as_json, fields=_calls_json(report))
    _drift_hint(report, as_json)
    sys.exit(report.exit_code)


def _telling_calls(confirm: Confirm | None) -> Confirm | None:
    """The production question, told first what the plan sends beside the updates:
    reassignments, associations, submissions (which cannot be undone)."""
    if confirm is None:
        return None
    ask = confirm

    def telling(plan: Any) -> bool:
        from bulk_update.run.confirm import plan_lines

        for line in plan_lines(plan):
            click.echo(line, err=True)
        return ask(plan)

    return telling


def _calls_json(report: Any) -> dict[str, Any]:
    """``--json``'s ``other_calls``: per kind, the calls of the rows that wrote (or would)."""
    from bulk_update.run.confirm import ended_calls

    return {"other_calls": ended_calls(report.results)}


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
@click.argument("run", type=FOLDER)
@catalog_option(required=True)
@write_guard_options(
    "Read and plan, write nothing: rows to put back end `would-update`.",
    "Stop after N writes (the rest end `skipped`; run again to finish).",
)
@out_option("Results workbook (default: in the rollback's folder).")
@daily_writes
@no_verify
@api_options(_WORKERS, writes=True)
@json_option
@handles_errors
def rollback(
    run: Path, catalog: str, writes: Writes, out: Path | None, api: Connection, as_json: bool
) -> None:
    """Put back the values an apply run changed, where nobody changed them since.

    \b
    For each row the run updated: if the record still carries the version
    that run wrote, its values from before the run are sent back; if someone
    saved it since, the row ends `conflict` (fields named) and nothing is
    written. The owner and the related entities the run changed are put
    back the same way; a submission cannot be undone (such rows are named).
    Rows already put back end `unchanged`, so running the same command
    again finishes an interrupted rollback. On --catalog AWS it shows the
    plan and asks first (or pass --yes).
    """
    from bulk_update.run.rollback import rollback_run

    confirm = _telling_calls(
        _production_confirmation(
            catalog, writes, "to put back", "Put back {n} records in production?"
        )
    )
    pc = api.connect(catalog)
    executors: list[Any] = []
    with _interruptible(executors), _progress(pc.stats) as progress:
        report = rollback_run(
            pc,
            run,
            dry_run=writes.dry_run,
            confirm=_asking_over(progress, confirm),
            on_row=progress.row,
            max_writes=writes.max_writes,
            workers=api.workers,
            out=out,
            on_executor=_watch(executors, progress),
            verify=writes.verify,
            ledger=api.ledger(catalog, writes.daily_writes),
        )
    _report(report, as_json, fields=_calls_json(report))
    _drift_hint(report, as_json, "roll back again")
    if not as_json:
        for label in ("rollback folder", "to finish"):
            if label in report.summary.extra:
                click.echo(f"{label.capitalize()}: {report.summary.extra[label]}", err=True)
    sys.exit(report.exit_code)

