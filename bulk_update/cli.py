"""The ``bulk-update`` command: parse options, call the library, report.

Nothing here decides anything about rows: the commands call
:mod:`bulk_update.jobs` (and friends), print what came back, and map the
library's exceptions to one-line messages and exit codes:
0 every row ended well, 1 some row did not, 2 the run could not start.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from bulk_update import catalog as cat
from bulk_update.errors import BulkUpdateError
from bulk_update.problems import Outcome

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ROWS, EXIT_START = 0, 1, 2


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_START)


def handles_errors(fn: F) -> F:
    """Turn the library's start-up errors into one line and exit status 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BulkUpdateError as exc:
            _fail(str(exc))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="bulk-update")
def main() -> None:
    """Change many AWS Partner Central opportunities at once, from a spreadsheet.

    \b
    The quarterly routine:
      bulk-update export pipeline.xlsx --catalog AWS      # what is live now
      (edit the sheet in Excel: empty cell = keep, #CLEAR = empty the field)
      bulk-update validate pipeline.xlsx                  # offline checks
      bulk-update apply pipeline.xlsx --catalog AWS --dry-run
      bulk-update apply pipeline.xlsx --catalog AWS       # asks before writing
    Every run writes a results workbook: one outcome per row, the problems,
    and a summary. Try it with no AWS account: bulk-update demo
    """


# -- shared options -------------------------------------------------------------


def catalog_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--catalog",
        type=click.Choice(cat.CATALOGS),
        required=required,
        help="AWS (production) or Sandbox (testing). No default: you choose."
        if required
        else "Check the sheet's Catalog column against this catalog.",
    )


def api_options(fn: F) -> F:
    for option in reversed(
        [
            click.option(
                "--profile", help="AWS profile from your config (default: the standard chain)."
            ),
            click.option(
                "--endpoint-url",
                envvar="AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING",
                help="Another endpoint, e.g. the local emulator's URL.",
            ),
            click.option(
                "--region",
                default=cat.REGION,
                show_default=True,
                help="The API lives in us-east-1.",
            ),
            click.option(
                "--read-rate",
                type=click.FloatRange(min=0.01),
                default=10.0,
                show_default=True,
                help="Reads per second (GetOpportunity, ListOpportunities); raise only if your quota was raised.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def write_rate_option(fn: F) -> F:
    return click.option(
        "--write-rate",
        type=click.FloatRange(min=0.01),
        default=1.0,
        show_default=True,
        help="Writes per second (UpdateOpportunity); the quota is 1 per second unless raised.",
    )(fn)


def json_option(fn: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout."
    )(fn)


def _partner_central(
    catalog: str,
    profile: str | None,
    endpoint_url: str | None,
    region: str,
    read_rate: float,
    write_rate: float,
    workers: int = 8,
) -> Any:
    from bulk_update import client as pcc
    from bulk_update.limiter import TokenBucket

    boto = pcc.make_boto_client(
        profile=profile, endpoint_url=endpoint_url, region=region, max_pool=max(16, workers * 2)
    )
    return pcc.PartnerCentral(
        boto,
        catalog,
        read_limiter=TokenBucket(read_rate, burst=max(1.0, read_rate)),
        write_limiter=TokenBucket(
            write_rate, burst=1.0, margin=pcc.default_write_margin(write_rate)
        ),
    )


def _report(report: Any, as_json: bool) -> None:
    from bulk_update.results import summary_dict

    if as_json:
        data = summary_dict(report.results, report.summary)
        data["results_file"] = str(report.results_path)
        if report.retry_path:
            data["retry_file"] = str(report.retry_path)
        if report.run_dir:
            data["run_dir"] = str(report.run_dir)
        data["exit_code"] = report.exit_code
        click.echo(json.dumps(data, indent=2, default=str))
        return
    counts = report.counts
    parts = [f"{n} {o.value}" for o, n in counts.items() if n]
    click.echo(f"{len(report.results)} rows: " + (", ".join(parts) or "none"), err=True)
    if report.summary.extra.get("stopped"):
        click.echo(f"Stopped early: {report.summary.extra['stopped']}", err=True)
    click.echo(f"Results: {report.results_path}", err=True)
    if report.retry_path:
        click.echo(f"Rows to fix and run again: {report.retry_path}", err=True)
    if report.run_dir and any(r.outcome is Outcome.SKIPPED for r in report.results):
        click.echo(
            f"Resume with: bulk-update apply --resume {report.run_dir} "
            f"--catalog {report.summary.catalog}",
            err=True,
        )


# -- validate -------------------------------------------------------------------


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
    from bulk_update.jobs import validate_file

    report = validate_file(file, sheet=sheet, catalog=catalog, out=out)
    _report(report, as_json)
    sys.exit(report.exit_code)


# -- apply ----------------------------------------------------------------------


def _production_confirmation(
    catalog: str, dry_run: bool, yes: bool, label: str, question: str
) -> Callable[[dict[Outcome, int]], bool] | None:
    """On the AWS catalog, a question asked once the plan is known; None elsewhere.

    With no terminal to ask on and no --yes, the run does not start (exit 2).
    """
    if catalog != "AWS" or dry_run or yes:
        return None
    if not _stdin_is_terminal():
        _fail(
            "refusing to write to production (catalog AWS) without a terminal to confirm: "
            "check with --dry-run first, then pass --yes"
        )

    def confirm(counts: dict[Outcome, int]) -> bool:
        n = counts.get(Outcome.WOULD_UPDATE, 0)
        plan = ", ".join(
            f"{label if k is Outcome.WOULD_UPDATE else k.value}: {v}" for k, v in counts.items()
        )
        click.echo(f"Plan: {plan}", err=True)
        if n == 0:
            return True
        return click.confirm(question.format(n=n), default=False, err=True)

    return confirm


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@contextmanager
def _interruptible(holder: list[Any]) -> Iterator[None]:
    """First Ctrl-C: stop taking rows, finish writes in flight. Second: stop now."""
    presses = {"n": 0}

    def handler(signum: int, frame: Any) -> None:
        presses["n"] += 1
        if presses["n"] == 1:
            click.echo(
                "\nStopping: finishing the writes in flight (Ctrl-C again to stop at once)...",
                err=True,
            )
            for ex in holder:
                ex.halt("interrupted (Ctrl-C)")
        else:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            raise KeyboardInterrupt

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@main.command()
@click.argument("file", type=click.Path(path_type=Path), required=False)
@catalog_option(required=True)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and plan, write nothing: rows that would change end `would-update`.",
)
@click.option(
    "--yes", is_flag=True, help="Do not ask before writing to the AWS (production) catalog."
)
@click.option(
    "--on-conflict",
    type=click.Choice(["skip", "overwrite"]),
    default="skip",
    show_default=True,
    help="A row whose LastModifiedDate is older than the live record: leave it (conflict) or apply it anyway.",
)
@click.option(
    "--max-writes", type=click.IntRange(min=0), help="Stop after N writes (the rest end `skipped`)."
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
@click.option(
    "--daily-writes",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="The account's write quota per rolling 24 hours: the tool counts its own writes and "
    "stops before going over it (rows `skipped`, resumable).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Rows in progress at once (reads overlap the paced writes).",
)
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
    from bulk_update.jobs import ApplySettings, apply_file
    from bulk_update.ledger import Ledger, account_key

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
    )
    executors: list[Any] = []
    with _interruptible(executors), _progress(pc.stats) as progress:
        report = apply_file(
            file,
            pc,
            settings,
            confirm=confirm,
            on_row=progress.row,
            on_executor=_watch(executors, progress),
        )
    _report(report, as_json)
    sys.exit(report.exit_code)


class _Progress:
    """A tqdm bar on a terminal (silent in logs): rows done, reads, writes, throttles.

    Its ETA follows the rows' pace, which the write quota sets.
    """

    def __init__(self, stats: Any = None) -> None:
        from tqdm import tqdm

        self.stats = stats
        self.bar = tqdm(unit="row", desc="rows", disable=None, file=sys.stderr, dynamic_ncols=True)

    def attach(self, executor: Any) -> None:
        executor.on_start = self.start

    def start(self, total: int, dry_run: bool) -> None:
        self.bar.reset(total=total)
        self.bar.set_description("planning" if dry_run else "rows")

    def row(self, outcome: Any) -> None:
        self.bar.update(1)
        if self.stats is not None:
            s = self.stats
            self.bar.set_postfix_str(
                f"reads={s.reads} writes={s.writes} throttled={s.throttled}", refresh=False
            )

    def close(self) -> None:
        self.bar.close()


def _watch(executors: list[Any], progress: _Progress) -> Callable[[Any], None]:
    """Keep each executor for Ctrl-C, and let the progress bar follow it."""

    def watch(executor: Any) -> None:
        executors.append(executor)
        progress.attach(executor)

    return watch


@contextmanager
def _progress(stats: Any = None) -> Iterator[_Progress]:
    progress = _Progress(stats)
    try:
        yield progress
    finally:
        progress.close()


# -- template -------------------------------------------------------------------


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


# -- emulator and demo ----------------------------------------------------------


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


def _samples() -> Path:
    here = Path(__file__).resolve().parent.parent / "samples"
    return here if here.is_dir() else Path("samples")


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
    from bulk_update.jobs import ApplySettings, apply_file

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


# -- export ---------------------------------------------------------------------


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


@main.command()
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@catalog_option(required=True)
@click.option(
    "--stage", "stages", multiple=True, help="Only this stage (repeat for several: any of them)."
)
@click.option(
    "--review-status",
    "review_statuses",
    multiple=True,
    help="Only this review status (repeat for several: any of them).",
)
@click.option(
    "--modified-after", callback=_moment, help="Modified at or after this date/time (UTC)."
)
@click.option(
    "--modified-before", callback=_moment, help="Modified at or before this date/time (UTC)."
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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Reads in progress at once (all paced by --read-rate).",
)
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
    columns: str,
    fmt: str | None,
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
    """
    from bulk_update.export import ExportFilters, export_opportunities, read_ids

    filters = ExportFilters(
        stages=stages,
        review_statuses=review_statuses,
        modified_after=modified_after,
        modified_before=modified_before,
        target_close_after=target_close_after,
        target_close_before=target_close_before,
        ids=tuple(read_ids(ids)) if ids else (),
        companies=companies,
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
            on_record=progress.row,
        )
    for failure in report.failures:
        click.echo(f"{failure.identifier}: {failure.outcome.value}: {failure.message}", err=True)
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


# -- rollback -------------------------------------------------------------------


@main.command()
@click.argument("run", type=click.Path(path_type=Path, file_okay=False))
@catalog_option(required=True)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read and plan, write nothing: rows to put back end `would-update`.",
)
@click.option(
    "--yes", is_flag=True, help="Do not ask before writing to the AWS (production) catalog."
)
@click.option(
    "--max-writes",
    type=click.IntRange(min=0),
    help="Stop after N writes (the rest end `skipped`; run again to finish).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results workbook (default: in the rollback's folder).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Rows in progress at once (reads overlap the paced writes).",
)
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
    from bulk_update.rollback import rollback_run

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
            confirm=confirm,
            on_row=progress.row,
            max_writes=max_writes,
            workers=workers,
            out=out,
            on_executor=_watch(executors, progress),
        )
    _report(report, as_json)
    if not as_json:
        for label in ("rollback folder", "to finish"):
            if label in report.summary.extra:
                click.echo(f"{label.capitalize()}: {report.summary.extra[label]}", err=True)
    sys.exit(report.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
