"""Shared fixtures: a local Partner Central emulator and real boto3 clients for it.

- ``emulator``: one per test module, seeded from samples/opportunities.json,
  quotas raised so tests never wait; tests that change records should use
  records nobody else in the module relies on, or ``fresh_emulator``.
- ``fresh_emulator``: a factory; each call starts a new emulator with the given
  ``Emulator`` keyword arguments (seeded from the samples unless ``seed`` is
  given) and it is stopped when the test ends.
- ``pc_client``: a real boto3 client pointed at ``emulator``.
- ``make_client``: a factory for boto3 clients at any URL (retries optional).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from bulk_update.emulator import Emulator

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"
FAST = {
    "write_rate": 1000.0,
    "read_rate": 1000.0,
    "write_burst": 1000,
    "read_burst": 1000,
    "daily_writes": 10_000_000,
    "daily_reads": 10_000_000,
}


def client_for(url: str, retries: int | None = None, pool: int = 10) -> Any:
    """A real boto3 client for the emulator at ``url``, dummy credentials.

    ``retries`` is the total number of attempts (1: no retry); None keeps
    botocore's defaults.  Note botocore's ``max_attempts`` key counts retries,
    not attempts: ``{"max_attempts": 1}`` still retries once.
    """
    options: dict[str, Any] = {"max_pool_connections": pool}
    if retries is not None:
        options["retries"] = {"total_max_attempts": retries, "mode": "standard"}
    return boto3.client(
        "partnercentral-selling",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(**options),
    )


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(seed=SAMPLES, **FAST) as emu:
        yield emu


@pytest.fixture
def fresh_emulator() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def start(**kwargs: Any) -> Emulator:
        kwargs.setdefault("seed", SAMPLES)
        emu = Emulator(**kwargs)
        emu.start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def pc_client(emulator: Emulator) -> Any:
    return client_for(emulator.url, retries=1)


@pytest.fixture
def make_client() -> Callable[..., Any]:
    return client_for
