"""The ``export`` command: live opportunities to a sheet to edit and apply."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from bulk_update.cli.app import (
    _partner_central,
    _progress,
    api_options,
    catalog_option,
    handles_errors,
    json_option,
    main,
    model_values,
    workers_option,
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


def _search_options(command: Any) -> Any:
    """The export-only options that need SearchOpportunities, and --select."""
    options = [
        click.option(
            "--search",
            "keyword",
            metavar="KEYWORD",
            help="Only opportunities whose id, partner id, project title, company name or "
            "next steps contain this text (SearchOpportunities' Keyword).",
        ),
        click.option(
            "--tag",
            "tags",
            multiple=True,
            metavar="KEY=VALUE",
            help="Only opportunities with this tag, e.g. region=emea (repeat: all of them).",
        ),
        click.option(
            "--owner",
            "owners",
            multiple=True,
            metavar="EMAIL",
            help="Only opportunities this user owns, by e-mail (repeat for several: any of them).",
        ),
        click.option(
            "--country",
            "countries",
            multiple=True,
            metavar="CODE",
            help="Only customers in this country, a two-letter ISO code such as US or DE "
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command(epilog="Example: bulk-update export pipeline.xlsx --catalog Sandbox --stage Prospect")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@catalog_option(required=True)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    help="Only this stage (repeat for several: any of them): "
    + model_values("ListOpportunities", "LifeCycleStage")
    + ".",
)
@click.option(
    "--review-status",
    "review_statuses",
    multiple=True,
    help="Only this review status (repeat for several: any of them): "
    + model_values("ListOpportunities", "LifeCycleReviewStatus")
    + ".",
)
@click.option(
    "--modified-after", callback=_moment, help=f"Modified at or after this moment: {_MOMENT}."
)
@click.option(
    "--modified-before", callback=_moment, help=f"Modified at or before this moment: {_MOMENT}."
)
@click.option(
    "--target-close-after", callback=_moment, help="Target close date on or after YYYY-MM-DD."
)
@click.option(
    "--target-close-before", callback=_moment, help="Target close date on or before YYYY-MM-DD."
)
@click.option(
    "--ids",
    help="Only these opportunities: a file (ids one per line, or a sheet with an "
    "Identifier column) or a list such as O1234,O5678.",
)
@click.option(
    "--company",
    "companies",
    multiple=True,
    help="Only customers whose company name contains this text (repeat for several).",
)
@_search_options
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
@click.option("--force", is_flag=True, help="Replace OUT (and its csv side files) if it exists.")
@workers_option("Reads in progress at once (all paced by --read-rate).")
@api_options
@json_option
@handles_errors
def export(
    out: Path,
    catalog: str,
    stages: tuple[str, ...],
    review_statuses: tuple[str, ...],
    modified_after: Any,
    modified_before: Any,
    target_close_after: Any,
    target_close_before: Any,
    ids: str | None,
    companies: tuple[str, ...],
    keyword: str | None,
    tags: tuple[str, ...],
    owners: tuple[str, ...],
    countries: tuple[str, ...],
    select: str,
    columns: str,
    fmt: str | None,
    force: bool,
    workers: int,
    profile: str | None,
    endpoint_url: str | None,
    region: str,
    read_rate: float,
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
    from bulk_update.export.job import ExportFilters, export_opportunities, read_ids
    from bulk_update.export.search import parse_tag

    filters = ExportFilters(
        stages=stages,
        review_statuses=review_statuses,
        modified_after=modified_after,
        modified_before=modified_before,
        target_close_after=target_close_after,
        target_close_before=target_close_before,
        ids=tuple(read_ids(ids)) if ids else (),
        companies=companies,
        keyword=keyword,
        tags=tuple(parse_tag(t) for t in tags),
        owners=owners,
        countries=countries,
        select=select,  # type: ignore[arg-type]
    )
    chosen: Any = columns.strip()
    if chosen not in ("default", "all"):
        chosen = [c for c in chosen.split(",") if c.strip()]
    pc = _partner_central(catalog, profile, endpoint_url, region, read_rate, 1.0, workers)
    with _progress(pc.stats) as progress:
        report = export_opportunities(
            pc,
            out,
            filters=filters,
            columns=chosen,
            fmt=fmt,  # type: ignore[arg-type]
            workers=workers,
            force=force,
            on_record=progress.row,
        )
    for failure in report.failures:
        click.echo(f"{failure.identifier}: {failure.outcome.value}: {failure.message}", err=True)
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(
            f"{report.rows} opportunities exported from catalog {report.catalog}"
            + (f", {len(report.failures)} could not be read" if report.failures else ""),
            err=True,
        )
        for path in report.files:
            click.echo(f"Written: {path}", err=True)
    sys.exit(report.exit_code)
