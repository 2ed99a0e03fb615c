"""How close does ``apply`` come to the write quota's floor?

    python benchmarks/apply_bench.py [--rows 600] [--changing 450] [--write-rate 20] [--read-rate 200]
    python benchmarks/apply_bench.py --mixed 60 [--compare]

An emulator (in its own process, so its work does not share the GIL with the
tool) holds ``rows`` opportunities, with quotas scaled to 20 writes/s and 200
reads/s. A sheet names every one of them; ``changing`` rows change a field,
the others ask for what the record already holds. The tool must send
``changing`` writes, so the floor is changing / write-rate seconds.

It prints, for the tool and for the script a user would write instead (a
sequential loop: get, merge, update, with boto3's default retries):
wall time T, the floor, T / floor, throttled calls and failed rows. The tool
runs with its read-back verification on (the default) and with
``--no-verify``, so the two wall times show what verifying costs; then once
more, verifying, with 5% injected server errors.

``--mixed N`` runs the mixed job instead: N rows that each change a field AND
reassign the owner (one UpdateOpportunity and one AssignOpportunity a row),
against the emulator at the service's real quotas: 1 call per second in each
write operation's lane (burst 1) and 10 reads per second.  The busiest lane
carries N calls, so the floor is N seconds; it prints the wall time, that
floor and their ratio (target <= 1.10).  ``--compare`` also runs it with one
bucket shared by every write (the client before per-operation lanes), whose
floor is 2N.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bulk_update.api import client as pcc  # noqa: E402
from bulk_update.api.boto import make_boto_client  # noqa: E402
from bulk_update.api.pacing import TokenBucket  # noqa: E402
from bulk_update.emulator import Emulator  # noqa: E402
from bulk_update.emulator.calls import registered_users  # noqa: E402
from bulk_update.problems import Outcome  # noqa: E402
from bulk_update.run.apply import ApplySettings, apply_file  # noqa: E402

SAMPLES = ROOT / "samples" / "opportunities.json"
WORKERS = 8


def records(n: int) -> list[dict[str, Any]]:
    """n editable opportunities, cloned from the samples' Pending Submission ones."""
    seed = [
        r
        for r in json.loads(SAMPLES.read_text())
        if r["LifeCycle"]["ReviewStatus"] == "Pending Submission"
        and r["LifeCycle"]["Stage"] not in ("Closed Lost", "Launched")
    ]
    out = []
    for i in range(n):
        r = copy.deepcopy(seed[i % len(seed)])
        r["Id"] = f"O{2_000_000 + i}"
        r["Arn"] = r["Arn"].rsplit("/", 1)[0] + "/" + r["Id"]
        r["Catalog"] = "Sandbox"
        out.append(r)
    return out


def serve(conn: Any, seed: list[dict[str, Any]], kwargs: dict[str, Any]) -> None:
    with Emulator(seed=seed, **kwargs) as emu:
        conn.send(emu.url)
        conn.recv()  # until told to stop
        conn.send(emu.counters())


class Server:
    def __init__(self, seed: list[dict[str, Any]], **kwargs: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=serve, args=(child, seed, kwargs), daemon=True)
        self.proc.start()
        self.url: str = self.conn.recv()

    def stop(self) -> dict[str, Any]:
        self.conn.send("stop")
        counters: dict[str, Any] = self.conn.recv()
        self.proc.join(10)
        return counters


def sheet(path: Path, recs: list[dict[str, Any]], changing: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Identifier", "LifeCycle.NextSteps"])
        for i, r in enumerate(recs):
            same = r["LifeCycle"].get("NextSteps", "")
            w.writerow([r["Id"], f"Benchmark step {i}" if i < changing else same])
    return path


def run_tool(
    url: str, path: Path, write_rate: float, read_rate: float, margin: float, verify: bool = True
) -> tuple[float, Any]:
    boto = make_boto_client(profile=None, endpoint_url=url, max_pool=32)
    pc = pcc.PartnerCentral(
        boto,
        "Sandbox",
        read_limiter=TokenBucket(read_rate, burst=read_rate),
        write_limiter=TokenBucket(write_rate, burst=1.0, margin=margin),
    )
    t0 = time.perf_counter()
    report = apply_file(
        path,
        pc,
        ApplySettings(
            catalog="Sandbox", run_dir=path.parent / "runs", workers=WORKERS, verify=verify
        ),
    )
    return time.perf_counter() - t0, report


def run_naive(url: str, recs: list[dict[str, Any]], changing: int) -> tuple[float, int, int]:
    """The script people write: for each row, get, patch, update; boto3's default retries."""
    client = boto3.client(
        "partnercentral-selling",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard"}),
    )
    failed = 0
    t0 = time.perf_counter()
    for i, r in enumerate(recs[:changing]):
        try:
            got = client.get_opportunity(Catalog="Sandbox", Identifier=r["Id"])
            body = {
                k: got[k]
                for k in (
                    "PrimaryNeedsFromAws",
                    "NationalSecurity",
                    "PartnerOpportunityIdentifier",
                    "Customer",
                    "Project",
                    "OpportunityType",
                    "Marketing",
                    "SoftwareRevenue",
                )
                if k in got
            }
            life = {
                k: v
                for k, v in got["LifeCycle"].items()
                if k
                not in ("ReviewStatus", "ReviewComments", "ReviewStatusReason", "NextStepsHistory")
            }
            life["NextSteps"] = f"Benchmark step {i}"
            client.update_opportunity(
                Catalog="Sandbox",
                Identifier=r["Id"],
                LastModifiedDate=got["LastModifiedDate"],
                LifeCycle=life,
                **body,
            )
        except Exception:
            failed += 1
    return time.perf_counter() - t0, failed, 0


# -- the mixed job: an update and an assignment a row, at the real quotas -------------

REAL_QUOTAS = {"write_rate": 1.0, "write_burst": 1, "read_rate": 10.0, "read_burst": 10}
ASSIGNEE = ("Email", "FirstName", "LastName", "BusinessTitle")


def new_owner(record: dict[str, Any], n: int) -> dict[str, str]:
    """A registered user other than the record's owner (a different one row after row)."""
    owner = ((record.get("OpportunityTeam") or [{}])[0].get("Email") or "").lower()
    users = [u for u in registered_users() if u["Email"].lower() != owner]
    return users[n % len(users)]


def mixed_sheet(path: Path, recs: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Identifier", "LifeCycle.NextSteps", *(f"Assignee.{m}" for m in ASSIGNEE)])
        for i, r in enumerate(recs):
            owner = new_owner(r, i)
            w.writerow([r["Id"], f"Mixed step {i}", *(owner[m] for m in ASSIGNEE)])
    return path


def one_lane(pc: pcc.PartnerCentral) -> pcc.PartnerCentral:
    """The same client with every write in UpdateOpportunity's bucket (no lanes)."""
    pc.write_lanes = {op: pc.write_limiter for op in pc.write_lanes}
    return pc


def run_mixed(n: int, tmp: Path, label: str, shared: bool) -> None:
    recs = records(n)
    server = Server(recs, **REAL_QUOTAS)
    path = mixed_sheet(tmp / f"mixed-{label}.csv", recs)
    pc = pcc.connect("Sandbox", endpoint_url=server.url, read_rate=10.0, write_rate=1.0)
    if shared:
        one_lane(pc)
    t0 = time.perf_counter()
    report = apply_file(
        path, pc, ApplySettings(catalog="Sandbox", run_dir=tmp / f"runs-{label}", workers=WORKERS)
    )
    seconds = time.perf_counter() - t0
    counters = server.stop()
    calls, throttled = counters["calls"], counters["throttled"]
    floor = float(2 * n if shared else n)
    failed = sum(1 for r in report.results if r.outcome is Outcome.FAILED)
    line(label, seconds, floor, sum(throttled.values()), failed)
    if shared:
        print(f"{'':34} T / the busiest lane's floor ({n} s) = {seconds / n:.3f}")
    print(
        f"{'':34} UpdateOpportunity {calls.get('UpdateOpportunity', 0)}, AssignOpportunity "
        f"{calls.get('AssignOpportunity', 0)}, reads {calls.get('GetOpportunity', 0)}; "
        f"throttled {dict(throttled)}; client writes per operation {pc.stats.per_operation()}; "
        f"writes per id max {max(counters['writes_per_id'].values(), default=0)}; "
        f"outcomes { {o.value: k for o, k in report.counts.items() if k} }"
    )


def mixed(n: int, compare: bool) -> None:
    print(
        f"mixed: {n} rows, each an update and an assignment; quotas 1 call/s per write "
        f"operation (burst 1), 10 reads/s; busiest lane {n} calls: floor {n} s; "
        f"{WORKERS} workers"
    )
    with tempfile.TemporaryDirectory() as tmp:
        run_mixed(n, Path(tmp), "bulk-update, a lane per operation", shared=False)
        if compare:
            run_mixed(n, Path(tmp), "one bucket for every write", shared=True)


def line(name: str, seconds: float, floor: float, throttled: int, failed: int) -> None:
    print(
        f"{name:34} T={seconds:7.2f} s  floor={floor:6.2f} s  T/floor={seconds / floor:5.3f}  "
        f"throttled={throttled:4d}  failed rows={failed}"
    )


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--changing", type=int, default=450)
    ap.add_argument("--write-rate", type=float, default=20.0)
    ap.add_argument("--read-rate", type=float, default=200.0)
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument(
        "--server-burst",
        type=float,
        default=1.0,
        help="the emulator's write burst (1: strictest, no two writes closer than 1/rate)",
    )
    ap.add_argument(
        "--margin",
        type=float,
        default=None,
        help="seconds the tool adds to each write interval (default: the CLI's)",
    )
    ap.add_argument(
        "--workers", type=int, default=8, help="rows in progress at once (the CLI's default: 8)"
    )
    ap.add_argument(
        "--mixed",
        type=int,
        metavar="N",
        help="run the mixed job instead: N rows, each an update and an assignment (e.g. 60)",
    )
    ap.add_argument(
        "--compare",
        action="store_true",
        help="with --mixed: also run it with one bucket shared by every write",
    )
    return ap.parse_args()


def main() -> None:
    args = arguments()
    global WORKERS
    WORKERS = args.workers
    if args.mixed:
        mixed(args.mixed, args.compare)
        return
    floor = args.changing / args.write_rate
    quotas = {
        "write_rate": args.write_rate,
        "write_burst": 1,
        "read_rate": args.read_rate,
        "read_burst": args.read_rate,
    }
    print(
        f"{args.rows} rows, {args.changing} changing; quotas {args.write_rate:g} writes/s, "
        f"{args.read_rate:g} reads/s; floor {floor:.2f} s"
    )
    recs = records(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        runs = (
            ("bulk-update --no-verify", 0.0, False),
            ("bulk-update (verify on)", 0.0, True),
            ("bulk-update, 5% server errors", 0.05, True),
        )
        for n, (label, faults, verify) in enumerate(runs):
            server = Server(recs, fault_rate=faults, fault_seed=1, **quotas)
            path = sheet(Path(tmp) / f"sheet-{n}.csv", recs, args.changing)
            margin = (
                pcc.default_write_margin(args.write_rate) if args.margin is None else args.margin
            )
            seconds, report = run_tool(
                server.url, path, args.write_rate, args.read_rate, margin, verify
            )
            counters = server.stop()
            failed = sum(1 for r in report.results if r.outcome is Outcome.FAILED)
            counts = {o.value: n for o, n in report.counts.items() if n}
            line(label, seconds, floor, report.summary.throttled, failed)
            print(
                f"{'':34} outcomes {counts}; writes per id max "
                f"{max(counters['writes_per_id'].values())}; retries {report.summary.retries}; "
                f"reads {counters['calls'].get('GetOpportunity', 0)}"
            )
            # A write answered InternalServerException has used its quota slot too:
            # the quota admits only write-rate of them a second, whatever they answer.
            admitted = counters["calls"].get("UpdateOpportunity", 0) - counters["throttled"].get(
                "UpdateOpportunity", 0
            )
            if admitted > args.changing:
                quota_floor = admitted / args.write_rate
                print(
                    f"{'':34} {admitted} writes admitted by the quota ({admitted - args.changing} "
                    f"answered with a fault): their floor {quota_floor:.2f} s, "
                    f"T/that floor {seconds / quota_floor:.3f}"
                )
        if not args.skip_naive:
            server = Server(recs, **quotas)
            seconds, failed, _ = run_naive(server.url, recs, args.changing)
            counters = server.stop()
            throttled = sum(counters["throttled"].values())
            line("sequential get/merge/update loop", seconds, floor, throttled, failed)


if __name__ == "__main__":
    main()
