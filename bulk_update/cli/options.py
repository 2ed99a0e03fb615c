"""The options the commands share, each defined once; the commands list them by name.

Options that travel together reach the command as one value: the ways to
reach Partner Central as a :class:`Connection` (``api``), the guards of a
command that writes as :class:`Writes` (``writes``). :func:`bundled` does
that, so a command's signature names what it uses, not a dozen flags.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from bulk_update import fields as cat
from bulk_update.api.pacing import WRITES

F = TypeVar("F", bound=Callable[..., Any])

FILE = click.Path(path_type=Path)
FOLDER = click.Path(path_type=Path, file_okay=False)
RATE = click.FloatRange(min=0.01)


def model_values(operation: str, member: str) -> str:
    """The values the service model allows for a list member of an operation's input.

    For --help texts: the list comes from botocore's model, never by hand.
    """
    shape = cat.service_model().operation_model(operation).input_shape
    found = shape.members.get(member) if shape is not None else None
    values = list(getattr(getattr(found, "member", found), "enum", None) or [])
    return ", ".join(values)


def bundled(into: str, kind: Callable[..., Any], names: Sequence[str]) -> Callable[[F], F]:
    """Hand the options ``names`` to the command as one argument, ``into=kind(**them)``."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[into] = kind(**{name: kwargs.pop(name) for name in names})
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def stacked(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Several options as one decorator, listed in --help in the order given."""

    def decorate(fn: F) -> F:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def with_default(name: str, kind: Any, default: Any, help: str) -> Callable[[F], F]:
    """An option of type ``kind`` whose default --help shows."""
    return click.option(name, type=kind, default=default, show_default=True, help=help)


def rate_option(name: str, default: float, help: str) -> Callable[[F], F]:
    """Calls per second (at least 0.01)."""
    return with_default(name, RATE, default, help)


def old_name(name: str, dest: str, kind: Any) -> Callable[[F], F]:
    """A hidden option under a name this command had before (issue 11, point 13)."""
    return click.option(name, dest, type=kind, hidden=True, default=None)


# -- the catalog -----------------------------------------------------------------


class CatalogChoice(click.ParamType):
    """AWS or Sandbox, in any case (``sandbox`` -> ``Sandbox``)."""

    name = "catalog"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(cat.CATALOGS) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        for name in cat.CATALOGS:
            if str(value).strip().casefold() == name.casefold():
                return name
        self.fail(f"{value!r} is not a catalog: choose {' or '.join(cat.CATALOGS)}", param, ctx)


def catalog_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--catalog",
        type=CatalogChoice(),
        required=required,
        help="AWS (production) or Sandbox (testing). No default: you choose."
        if required
        else "Check the sheet's Catalog column against this catalog.",
    )


# -- reaching Partner Central ----------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """How to reach Partner Central and at what pace: the options of every API command."""

    profile: str | None
    endpoint_url: str | None
    region: str
    read_rate: float
    write_rate: float = 1.0
    workers: int = 8
    operation_rates: tuple[tuple[str, float], ...] = ()
    """(operation, calls per second) for the write lanes --operation-rate names."""

    def connect(self, catalog: str) -> Any:
        """A paced client for ``catalog``; raises at once when nothing answers."""
        from bulk_update.api.client import connect

        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return connect(catalog, **given)

    def ledger(self, catalog: str, daily_writes: int) -> Any:
        """The count of writes against this account's daily quota."""
        from bulk_update.run.ledger import Ledger, account_key

        return Ledger(account_key(self.profile, self.endpoint_url, catalog), limit=daily_writes)


_profile = click.option(
    "--profile", help="AWS profile from your config (default: the standard chain)."
)
_endpoint_url = click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING",
    help="Another endpoint, e.g. the local emulator's URL.",
)
_region = click.option(
    "--region", default=cat.REGION, show_default=True, help="The API lives in us-east-1."
)
_read_rate = rate_option(
    "--read-rate",
    10.0,
    "Reads per second (GetOpportunity, ListOpportunities, SearchOpportunities); raise only if "
    "your quota was raised.",
)
_write_rate = rate_option(
    "--write-rate",
    1.0,
    "UpdateOpportunity calls per second; the quota is 1 per second unless raised. The other "
    "writes each have a lane of their own: see --operation-rate.",
)


class OperationRate(click.ParamType):
    """``OPERATION=RATE``: one write operation's own quota lane, in calls per second."""

    name = "operation=rate"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "OPERATION=RATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, float]:
        if isinstance(value, tuple):
            return value
        name, _, rate = str(value).partition("=")
        found = [op for op in sorted(WRITES) if op.casefold() == name.strip().casefold()]
        if not found:
            self.fail(
                f"{name.strip()!r} is not a write operation: write OPERATION=RATE with one of "
                f"{', '.join(sorted(WRITES))}, e.g. AssignOpportunity=2",
                param,
                ctx,
            )
        try:
            per_second = float(rate)
        except ValueError:
            per_second = 0.0
        if not 0.01 <= per_second < float("inf"):
            self.fail(
                f"{value!r}: the rate after '=' must be a number of calls per second, at "
                f"least 0.01, e.g. {found[0]}=2",
                param,
                ctx,
            )
        return found[0], per_second


def _operation_rate_help() -> str:
    return (
        "One write operation's calls per second, as OPERATION=RATE (repeatable), e.g. "
        f"AssignOpportunity=2. Each of {', '.join(sorted(WRITES))} is paced in a lane of its "
        "own, at its quota of 1 per second unless raised (UpdateOpportunity's is --write-rate), "
        "so a run that assigns while it updates uses both lanes at once."
    )


_operation_rate = click.option(
    "--operation-rate",
    "operation_rates",
    type=OperationRate(),
    multiple=True,
    help=_operation_rate_help(),
)


def api_options(workers_help: str, writes: bool) -> Callable[[F], F]:
    """--workers, --profile, --endpoint-url, --region, --read-rate (and --write-rate
    when the command writes), given to the command as ``api``: a :class:`Connection`."""
    workers = with_default("--workers", click.IntRange(1, 64), 8, workers_help)
    names = ["profile", "endpoint_url", "region", "read_rate", "workers"]
    listed = [workers, _profile, _endpoint_url, _region, _read_rate]
    if writes:
        names += ["write_rate", "operation_rates"]
        listed += [_write_rate, _operation_rate]

    def decorate(fn: F) -> F:
        return stacked(*listed)(bundled("api", Connection, names)(fn))

    return decorate


# -- the guards of a command that writes -------------------------------------------


@dataclass(frozen=True)
class Writes:
    """What a command that writes may do: plan only, ask first, how many writes at most."""

    dry_run: bool
    yes: bool
    max_writes: int | None
    daily_writes: int
    no_verify: bool

    @property
    def verify(self) -> bool:
        return not self.no_verify


_WRITES = [f.name for f in fields(Writes)]

daily_writes = click.option(
    "--daily-writes",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="The account's write quota per rolling 24 hours: the tool counts its own writes and "
    "stops before going over it (rows `skipped`, resumable).",
)
no_verify = click.option(
    "--no-verify",
    is_flag=True,
    help="Do not read each written record back to check that Partner Central kept what was sent.",
)


def write_guard_options(dry_run_help: str, max_writes_help: str) -> Callable[[F], F]:
    """--dry-run, --yes and --max-writes: the options of every command that writes.

    With --daily-writes and --no-verify (listed where each command shows them)
    they reach the command as ``writes``: a :class:`Writes`.
    """
    guards = stacked(
        click.option("--dry-run", is_flag=True, help=dry_run_help),
        click.option(
            "--yes", is_flag=True, help="Do not ask before writing to the AWS (production) catalog."
        ),
        click.option("--max-writes", type=click.IntRange(min=0), help=max_writes_help),
    )

    def decorate(fn: F) -> F:
        return guards(bundled("writes", Writes, _WRITES)(fn))

    return decorate


# -- sheets and outputs ------------------------------------------------------------

sheet_option = click.option("--sheet", help="Which sheet of an .xlsx to read (default: the first).")


def out_option(help: str) -> Callable[[F], F]:
    return click.option("--out", type=FILE, help=help)


def force_option(help: str) -> Callable[[F], F]:
    return click.option("--force", is_flag=True, help=help)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout."
)
