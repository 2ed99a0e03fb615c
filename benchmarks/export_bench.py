"""How close ``export`` comes to the read quota: 2,000 opportunities at 200 reads/s.

The emulator is seeded with 2,000 records (the samples cloned under new ids)
and its read quota scaled to 200 per second; the tool's read limiter gets the
same rate.  An export must make at least one GetOpportunity per record, so it
cannot take less than 2,000 / 200 = 10 s (the floor) once the quota's burst is
spent; the ListOpportunities pages (20 of them, 100 ids each) come on top.

    python benchmarks/export_bench.py [--records 2000] [--rate 200] [--burst 200] [--workers 16]

``--burst`` is the bucket size on both sides (default: one second of quota,
as the CLI sets it); ``--burst 1`` shows the steady rate with no head start.
Prints T, the floor and the ratio T / floor (target: 1.15 or less).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import multiprocessing as mp
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bulk_update.api import client as pcc
from bulk_update.api.boto import make_boto_client
from bulk_update.api.pacing import TokenBucket
from bulk_update.emulator import Emulator
from bulk_update.export.filters import ExportFilters
from bulk_update.export.job import export_opportunities

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"


def records(n: int) -> list[dict[str, Any]]:
    """``n`` Sandbox records: the samples cloned in turn, each under a new id."""
    data = json.loads(SAMPLES.read_text("utf-8"))
    seed = data if isinstance(data, list) else data["records"]
    out = []
    for i in range(n):
        record = copy.deepcopy(seed[i % len(seed)])
        identifier = f"O{3_000_000 + i}"
        record.update(Id=identifier, Catalog="Sandbox")
        record.pop("Arn", None)
        out.append(record)
    return out


def _serve(settings: dict[str, Any], urls: Any, stop: Any) -> None:
    """The child process: an emulator until told to stop; its URL goes back through ``urls``."""
    with Emulator(seed=records(settings.pop("records")), **settings) as emu:
        urls.put(emu.url)
        stop.wait()
        urls.put(emu.counters())


@contextlib.contextmanager
def emulator(settings: dict[str, Any], in_process: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    """An emulator's URL; its counters fill the dict on exit.

    By default it runs in a process of its own, as the real service runs
    elsewhere: in the tool's process its request handling would take the
    interpreter lock from the tool's reading threads and slow both.
    """
    counters: dict[str, Any] = {}
    if in_process:
        with Emulator(seed=records(settings.pop("records")), **settings) as emu:
            yield emu.url, counters
            counters.update(emu.counters())
        return
    ctx = mp.get_context("spawn")
    urls = ctx.Queue()
    stop = ctx.Event()
    child = ctx.Process(target=_serve, args=(dict(settings), urls, stop), daemon=True)
    child.start()
    try:
        yield urls.get(timeout=60), counters
        stop.set()
        counters.update(urls.get(timeout=60))
    finally:
        stop.set()
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--burst", type=float, default=None, help="default: the rate")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--columns", choices=["default", "all"], default="default")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the emulator in this process (it then competes for the GIL)",
    )
    args = parser.parse_args(argv)
    burst = args.burst if args.burst is not None else args.rate
    settings = {
        "records": args.records,
        "read_rate": args.rate,
        "read_burst": burst,
        "daily_reads": 10_000_000,
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator(settings, args.in_process) as (
            url,
            counters,
        ),
    ):
        boto = make_boto_client(
            profile=None, endpoint_url=url, max_pool=max(16, args.workers * 2)
        )
        pc = pcc.PartnerCentral(
            boto,
            "Sandbox",
            read_limiter=TokenBucket(args.rate, burst=max(1.0, burst)),
            write_limiter=TokenBucket(1.0),
        )
        out = Path(tmp) / f"export.{args.format}"
        started = time.perf_counter()
        report = export_opportunities(
            pc,
            out,
            filters=ExportFilters(),
            columns=args.columns,
            fmt=args.format,
            workers=args.workers,
        )
        seconds = time.perf_counter() - started
    throttled = sum(counters.get("throttled", {}).values())
    floor = args.records / args.rate
    print(
        f"records {report.rows} of {args.records}, failures {len(report.failures)}, "
        f"calls {report.calls} (throttled by the emulator: {throttled}, "
        f"tool retries: {report.retries})"
    )
    where = "in this process" if args.in_process else "in its own process"
    print(
        f"rate {args.rate:g}/s, burst {burst:g}, workers {args.workers}, "
        f"format {args.format}, columns {args.columns}, emulator {where}"
    )
    print(
        f"T = {seconds:.2f} s   floor = {args.records:,} / {args.rate:g} = {floor:.2f} s   "
        f"ratio = {seconds / floor:.3f} (target <= 1.15)"
    )
    return 0 if report.rows == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
