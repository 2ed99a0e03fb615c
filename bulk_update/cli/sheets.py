"""Commands on sheets alone, with no AWS call: ``validate`` and ``template``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bulk_update import template as tpl
from bulk_update.cli.app import _report, handles_errors, main
from bulk_update.cli.options import (
    FILE,
    catalog_option,
    force_option,
    json_option,
    out_option,
    sheet_option,
)
from bulk_update.errors import BulkUpdateError


@main.command(epilog="Example: bulk-update validate pipeline.xlsx")
@click.argument("file", type=FILE)
@sheet_option
@catalog_option(required=False)
@out_option("Results workbook (default: FILE.results.xlsx beside FILE).")
@json_option
@handles_errors
def validate(
    file: Path, sheet: str | None, catalog: str | None, out: Path | None, as_json: bool
) -> None:
    """Check a sheet offline (no AWS call) and write the results workbook.

    Every row ends `valid` or `invalid`; the Errors sheet names each bad cell
    and how to fix it. Exit status 0 when every row is valid, 1 otherwise,
    2 when the file cannot be read (unknown column, missing file...).
    """
    from bulk_update.run.validate import validate_file

    report = validate_file(file, sheet=sheet, catalog=catalog, out=out)
    _report(report, as_json)
    sys.exit(report.exit_code)


@main.command(epilog="Example: bulk-update template close-stale.xlsx --task close-stale")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option(
    "--task",
    type=click.Choice(list(tpl.TASKS)),
    help="A template with only the columns one job needs (--list says what each is for).",
)
@click.option("--list", "list_tasks", is_flag=True, help="List the task templates and exit.")
@force_option("Replace OUT if it exists (default: refuse).")
@handles_errors
def template(out: Path | None, task: str | None, list_tasks: bool, force: bool) -> None:
    """Write a blank template to fill in (default: opportunity-update.xlsx).

    The template is an Excel workbook (dropdowns, help on each header), so
    OUT must end in .xlsx; an existing file is kept unless --force.
    """
    if list_tasks:
        width = max(map(len, tpl.TASKS))
        for name, (description, _cols) in tpl.TASKS.items():
            click.echo(f"{name:{width}}  {description}")
        return
    name = task if task and task != "full" else "opportunity-update"
    target = out or Path(f"{name}.xlsx")
    if not target.parent.is_dir():
        raise BulkUpdateError(f"{target.parent}: no such folder")
    try:
        tpl.write_template(target, task=task, force=force)
    except OSError as exc:
        raise BulkUpdateError(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"Template written: {target}", err=True)
