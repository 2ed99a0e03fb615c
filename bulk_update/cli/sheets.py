"""Commands on sheets alone, with no AWS call: ``validate`` and ``template``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bulk_update.cli.app import _report, catalog_option, handles_errors, json_option, main


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--sheet", help="Which sheet of an .xlsx to read (default: the first).")
@catalog_option(required=False)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results workbook (default: FILE.results.xlsx beside FILE).",
)
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
    from bulk_update.run.jobs import validate_file

    report = validate_file(file, sheet=sheet, catalog=catalog, out=out)
    _report(report, as_json)
    sys.exit(report.exit_code)


@main.command()
@click.argument("out", type=click.Path(path_type=Path), required=False)
@click.option("--task", help="A template with only the columns one job needs (see --list).")
@click.option("--list", "list_tasks", is_flag=True, help="List the task templates and exit.")
@handles_errors
def template(out: Path | None, task: str | None, list_tasks: bool) -> None:
    """Write a blank template to fill in (default: opportunity-update.xlsx)."""
    from bulk_update import template as tpl

    if list_tasks:
        for name, (description, _cols) in tpl.TASKS.items():
            click.echo(f"{name:16} {description}")
        return
    if task is not None and task not in tpl.TASKS:
        raise click.BadParameter(
            f"unknown task {task!r}; choose from {', '.join(tpl.TASKS)}", param_hint="--task"
        )
    name = task if task and task != "full" else "opportunity-update"
    target = out or Path(f"{name}.xlsx")
    tpl.write_template(target, task=task)
    click.echo(f"Template written: {target}", err=True)
