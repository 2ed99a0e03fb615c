"""The ``bulk-update`` click group and the plumbing its commands share.

Nothing here decides anything about rows: the commands (one module per
family under :mod:`bulk_update.cli`) call :mod:`bulk_update.run` (apply, validate, rollback, and
friends), print what came back, and map the library's exceptions to
one-line messages and exit codes:
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

from bulk_update.api.errors import CallError
from bulk_update.cli.options import Writes
from bulk_update.errors import BulkUpdateError
from bulk_update.problems import Outcome

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ROWS, EXIT_START = 0, 1, 2


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_START)


def handles_errors(fn: F) -> F:
    """Turn the library's start-up errors into one line and exit status 2.

    A call that failed outside any row (the export's listing, a search) is one
    line too: its message names the operation and the error code, never values.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BulkUpdateError as exc:
            _fail(str(exc))
        except CallError as exc:
            _fail(
                f"Partner Central: {exc}: try again later; if it keeps failing, "
                "check --endpoint-url and --region"
            )

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


def _report(
    report: Any, as_json: bool, notes: tuple[str, ...] = (), fields: dict[str, Any] | None = None
) -> None:
    """The summary: JSON on stdout, or the counts line, the notes and the files on stderr.

    ``notes`` adds to the report's own: each is printed once, right after the
    counts line.  ``fields``: the command's own members of the JSON summary.
    """
    from bulk_update.results import summary_dict

    if as_json:
        data = summary_dict(report.results, report.summary)
        data.update(fields or {})
        data["warnings"] = _warnings(report)
        data["results_file"] = str(report.results_path)
        if report.retry_path:
            data["retry_file"] = str(report.retry_path)
        if report.run_dir:
            data["run_dir"] = str(report.run_dir)
        data["exit_code"] = report.exit_code
        click.echo(json.dumps(data, indent=2, default=str))
        return
    click.echo(_counts_line(report), err=True)
    _print_notes([*report.notes, *notes])
    if report.summary.extra.get("stopped"):
        click.echo(f"Stopped early: {report.summary.extra['stopped']}", err=True)
    click.echo(f"Results: {report.results_path}", err=True)
    if report.retry_path:
        click.echo(f"Rows to fix and run again: {report.retry_path}", err=True)
    resume = f"bulk-update apply --resume {report.run_dir} --catalog {report.summary.catalog}"
    said = str(report.summary.extra.get("stopped") or "")  # the stop line may name it already
    if (
        report.run_dir
        and resume not in said
        and any(r.outcome is Outcome.SKIPPED for r in report.results)
    ):
        click.echo(f"Resume with: {resume}", err=True)


def _print_notes(notes: list[str], prefix: str = "Note") -> None:
    """Each note once, in the order they came, one plain line each."""
    for note in dict.fromkeys(notes):
        click.echo(f"{prefix}: {note}", err=True)


def _warnings(report: Any) -> int:
    """The report's problems that do not make a row fail."""
    return sum(1 for p in getattr(report, "problems", None) or [] if not p.is_error)


def _counts_line(report: Any) -> str:
    """``66 rows: 60 valid, 6 invalid (3 warnings)``: the warnings last, in brackets."""
    parts = [f"{n} {o.value}" for o, n in report.counts.items() if n]
    line = f"{len(report.results)} rows: " + (", ".join(parts) or "none")
    warnings = _warnings(report)
    if warnings:
        line += f" ({warnings} warning{'s' if warnings != 1 else ''})"
    return line


# -- confirmation, Ctrl-C and progress ------------------------------------------


def _production_confirmation(
    catalog: str, writes: Writes, label: str, question: str
) -> Callable[[dict[Outcome, int]], bool] | None:
    """On the AWS catalog, a question asked once the plan is known; None elsewhere.

    With no terminal to ask on and no --yes, the run does not start (exit 2).
    """
    if catalog != "AWS" or writes.dry_run or writes.yes:
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
    """First Ctrl-C: stop taking rows, finish writes in flight. Second: stop waiting for
    them, write the results and the resume hint. A third ends the process at once."""
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
            click.echo("\nStopping now: writing the results (Ctrl-C again to quit)...", err=True)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            for ex in holder:
                ex.abandon("interrupted twice (Ctrl-C)")

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


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

    def clear(self) -> None:
        """Take the bar off the screen (it comes back at the next row)."""
        self.bar.clear()

    def close(self) -> None:
        self.bar.close()


def _asking_over(
    progress: _Progress, confirm: Callable[[dict[Outcome, int]], bool] | None
) -> Callable[[dict[Outcome, int]], bool] | None:
    """The confirmation, asked on a clean line: the progress bar cleared first."""
    if confirm is None:
        return None
    ask = confirm

    def cleared(counts: dict[Outcome, int]) -> bool:
        progress.clear()
        return ask(counts)

    return cleared


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


def _samples() -> Path:
    """The sample files that ship in the package (the demo's sheet)."""
    return Path(__file__).resolve().parent.parent / "data" / "samples"
