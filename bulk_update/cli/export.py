"""The ``export`` command: live opportunities to a sheet to edit and apply."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from bulk_update.cli.app import _print_notes, _progress, handles_errors, main
from bulk_update.cli.options import (
    Connection,
    api_options,
    bundled,
    catalog_option,
    force_option,
    json_option,
    model_values,
    stacked,
)


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """A date (YYYY-MM-DD) or an ISO 8601 time (UTC when it names no zone)."""
    from datetime import UTC, date, datetime

    if value is None:
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    if param.name and param.name.startswith("target_close"):
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD) or an ISO time (2026-05-01T20:37:46Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


_MOMENT = "YYYY-MM-DD or an ISO 8601 time such as 2026-05-01T20:37:46Z (UTC when no zone)"


def _listed(name: str, dest: str, what: str, member: str) -> Any:
    """A filter on one of the values the service model lists for ``member``."""
    values = model_values("ListOpportunities", member)
    return click.option(
        name,
        dest,
        multiple=True,
        help=f"Only this {what} (repeat for several: any of them): {values}.",
    )


def _when(name: str, help: str) -> Any:
    return click.option(name, callback=_moment, help=help)


def _repeated(name: str, dest: str, metavar: str, help: str) -> Any:
    return click.option(name, dest, multiple=True, metavar=metavar, help=help)


def _filters(ids: str | None, tags: tuple[str, ...], **given: Any) -> Any:
    """The filters given, as the library's :class:`ExportFilters` (``--ids`` read,
    each ``--tag`` split at its ``=``)."""
    from bulk_update.export.filters import ExportFilters, read_ids
    from bulk_update.export.search import parse_tag

    return ExportFilters(
        ids=tuple(read_ids(ids)) if ids else (), tags=tuple(parse_tag(t) for t in tags), **given
    )


_FILTERS = ["stages", "review_statuses", "modified_after", "modified_before"]
_FILTERS += ["target_close_after", "target_close_before", "ids", "companies"]
_FILTERS += ["keyword", "tags", "owners", "countries", "select"]

filter_options = stacked(
    _listed("--stage", "stages", "stage", "LifeCycleStage"),
    _listed("--review-status", "review_statuses", "review status", "LifeCycleReviewStatus"),
    _when("--modified-after", f"Modified at or after this moment: {_MOMENT}."),
    _when("--modified-before", f"Modified at or before this moment: {_MOMENT}."),
    _when("--target-close-after", "Target close date on or after YYYY-MM-DD."),
    _when("--target-close-before", "Target close date on or before YYYY-MM-DD."),
    click.option(
        "--ids",
        help="Only these opportunities: a file (ids one per line, or a sheet with an "
        "Identifier column) or a list such as O1234,O5678.",
    ),
    click.option(
        "--company",
        "companies",
        multiple=True,
        help="Only customers whose company name contains this text (repeat for several).",
    ),
    click.option(
        "--search",
        "keyword",
        metavar="KEYWORD",
        help="Only opportunities whose id, partner id, project title, company name or "
        "next steps contain this text (SearchOpportunities' Keyword).",
    ),
    _repeated(
        "--tag", "tags", "KEY=VALUE",
        "Only opportunities with this tag, e.g. region=emea (repeat: all of them).",
    ),
    _repeated(
        "--owner", "owners", "EMAIL",
        "Only opportunities this user owns, by e-mail (repeat for several: any of them).",
    ),
    _repeated(
        "--country", "countries", "CODE",
        "Only customers in this country, a two-letter ISO code such as US or DE "
        "(repeat for several: any of them).",
    ),
    click.option(
        "--select",
        type=click.Choice(["auto", "search", "list"]),
        default="auto",
        show_default=True,
        help="How to select: auto uses SearchOpportunities when --search/--tag/--owner/"
        "--country is given, ListOpportunities otherwise; search always tries "
        "SearchOpportunities (falling back to ListOpportunities, with a note, where the "
        "account has no search); list never searches. Where search is not enabled, "
        "--search/--tag/--owner/--country are refused, never dropped.",
    ),
)  # fmt: skip
"""The export's filters, given to the command as ``filters`` (an ``ExportFilters``)."""


@main.command(epilog="Example: bulk-update export pipeline.xlsx --catalog Sandbox --stage Prospect")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@catalog_option(required=True)
@filter_options
@click.option(
    "--columns",
    default="default",
    show_default=True,
    help="default (the quarterly clean-up's columns), all, or a comma-separated list.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv"]),
    help="Default: from OUT's suffix. A csv gets its baseline in OUT.baseline.csv.",
)
@force_option("Replace OUT (and its csv side files) if it exists.")
@api_options("Reads in progress at once (all paced by --read-rate).", writes=False)
@json_option
@handles_errors
@bundled("filters", _filters, _FILTERS)  # under handles_errors: an unreadable --ids is one line
def export(
    out: Path,
    catalog: str,
    filters: Any,
    columns: str,
    fmt: str | None,
    force: bool,
    api: Connection,
    as_json: bool,
) -> None:
    """Write live opportunities to a sheet to edit and apply (xlsx or csv).

    \b
    One row per opportunity: Identifier and LastModifiedDate first, then the
    columns; read-only columns are grey and locked. The hidden _baseline
    sheet (csv: OUT.baseline.csv) keeps what was exported, so `apply` sends
    only the cells you changed and keeps what sellers changed meanwhile.
    Exit status 1 when some opportunity could not be read (listed on stderr).

    \b
    --search, --tag, --owner and --country select with SearchOpportunities:
      bulk-update export emea.xlsx --catalog AWS --search migration \\
        --tag region=emea --owner sam.rivera@partner.example.com --country DE
    Where the account has no search they are refused, never dropped.
    """
    from bulk_update.export.job import export_opportunities

    chosen: Any = columns.strip()
    if chosen not in ("default", "all"):
        chosen = [c for c in chosen.split(",") if c.strip()]
    pc = api.connect(catalog)
    with _progress(pc.stats) as progress:
        report = export_opportunities(
            pc,
            out,
            filters=filters,
            columns=chosen,
            fmt=fmt,  # type: ignore[arg-type]
            workers=api.workers,
            force=force,
            on_record=progress.row,
        )
    for failure in report.failures:
        click.echo(f"{failure.identifier}: {failure.outcome.value}: {failure.message}", err=True)
    if as_json:
        _print_notes(report.notes)
        _print_notes(report.warnings, "Warning")
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(
            f"{report.rows} opportunities exported from catalog {report.catalog}"
            + (f", {len(report.failures)} could not be read" if report.failures else ""),
            err=True,
        )
        _print_notes(report.notes)
        _print_notes(report.warnings, "Warning")
        for path in report.files:
            click.echo(f"Written: {path}", err=True)
    sys.exit(report.exit_code)
