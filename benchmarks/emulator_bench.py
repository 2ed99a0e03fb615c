"""How many UpdateOpportunity calls a second the emulator serves.

    python benchmarks/emulator_bench.py [--calls 3000] [--threads 8] [--in-process]
                                        [--stock-client | --raw-http]

Quotas lifted; one boto3 client shared by the threads (its pool sized to
match); each thread owns its own records and sends valid full payloads with
the version it got back from its previous write, so no call conflicts.  By
default the emulator runs in its own process (as ``bulk-update emulator``
does), so client and server each get a core; ``--in-process`` runs it in this
one instead.  Prints calls per second.

The boto3 client is made lean by default (fixed user agent, no client-side
parameter validation, no SigV4 signature, which the emulator does not check):
botocore otherwise spends over two milliseconds of CPU per call, which on a
2-core machine caps one client process near 400 calls/s whatever the server
does.  ``--signed`` keeps the signature; ``--stock-client`` measures botocore's defaults;
``--raw-http`` sends the same JSON over plain keep-alive connections, which
shows what the emulator itself can serve.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "opportunities.json"
OWNED = ("ReviewStatus", "ReviewComments", "ReviewStatusReason", "NextStepsHistory")
LIFTED = {
    "write_rate": 1e9,
    "read_rate": 1e9,
    "write_burst": 1e9,
    "read_burst": 1e9,
    "daily_writes": 10**9,
    "daily_reads": 10**9,
}


def _payload(got: dict[str, Any]) -> dict[str, Any]:
    body = {
        k: copy.deepcopy(v)
        for k, v in got.items()
        if k not in ("Id", "Arn", "CreatedDate", "RelatedEntityIdentifiers", "OpportunityTeam")
        and k != "ResponseMetadata"
    }
    body["Identifier"] = got["Id"]
    body["LifeCycle"] = {k: v for k, v in got["LifeCycle"].items() if k not in OWNED}
    return body


def _start_subprocess() -> tuple[subprocess.Popen[str], str]:
    code = (
        "import sys, json; from bulk_update.emulator import serve; "
        f"serve(seed={str(SAMPLES)!r}, builtin_seed=False, **json.loads(sys.argv[1]))"
    )
    settings = dict(LIFTED)
    rate_args = {k: settings.pop(k) for k in ("write_rate", "read_rate")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps({**rate_args, **settings})],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.rsplit(" ", 1)[-1].strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument(
        "--signed", action="store_true", help="sign requests (SigV4) as against AWS"
    )
    parser.add_argument(
        "--stock-client",
        action="store_true",
        help="leave botocore's per-call user-agent building and parameter validation on",
    )
    parser.add_argument(
        "--raw-http",
        action="store_true",
        help="send the same JSON over plain keep-alive connections (the emulator's own ceiling)",
    )
    args = parser.parse_args()

    proc = None
    emulator = None
    if args.in_process:
        sys.path.insert(0, str(ROOT))
        from bulk_update.emulator import Emulator

        emulator = Emulator(seed=SAMPLES, **LIFTED)
        url = emulator.start()
    else:
        proc, url = _start_subprocess()
    # botocore spends about a millisecond of CPU per call building its
    # user-agent string and re-validating parameters the server checks anyway;
    # a fixed user agent and no client-side validation take that away.
    lean: dict[str, Any] = (
        {}
        if args.stock_client
        else {"user_agent": "bulk-update-bench", "parameter_validation": False}
    )
    if not args.stock_client and not args.signed:
        # The emulator checks no signature, and SigV4 signing is the largest
        # part of botocore's own work per call: an unsigned client shows what
        # the emulator serves to boto3.
        lean["signature_version"] = UNSIGNED
    try:
        client = boto3.client(
            "partnercentral-selling",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(
                max_pool_connections=args.threads * 2,
                retries={"total_max_attempts": 1},
                **lean,
            ),
        )
        listed = client.list_opportunities(
            Catalog="Sandbox",
            LifeCycleReviewStatus=["Pending Submission", "Approved"],
            MaxResults=100,
        )["OpportunitySummaries"]
        ids = [s["Id"] for s in listed]
        per_thread = [ids[i :: args.threads] for i in range(args.threads)]
        bodies = {i: _payload(client.get_opportunity(Catalog="Sandbox", Identifier=i)) for i in ids}
        calls = args.calls // args.threads
        failures: list[BaseException] = []

        def work(own: list[str]) -> None:
            try:
                for n in range(calls):
                    body = bodies[own[n % len(own)]]
                    body["Project"]["AdditionalComments"] = f"Benchmark write {n}"
                    out = client.update_opportunity(**body)
                    body["LastModifiedDate"] = out["LastModifiedDate"]
            except BaseException as error:  # noqa: BLE001
                failures.append(error)

        def work_raw(own: list[str]) -> None:
            host, port = url.removeprefix("http://").split(":")
            connection = http.client.HTTPConnection(host, int(port))
            headers = {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "AWSPartnerCentralSelling.UpdateOpportunity",
            }
            try:
                for n in range(calls):
                    body = bodies[own[n % len(own)]]
                    body["Project"]["AdditionalComments"] = f"Benchmark write {n}"
                    connection.request("POST", "/", json.dumps(body, default=str), headers)
                    answer = connection.getresponse()
                    data = json.loads(answer.read())
                    if answer.status != 200:
                        raise RuntimeError(data)
                    body["LastModifiedDate"] = data["LastModifiedDate"]
            except BaseException as error:  # noqa: BLE001
                failures.append(error)
            finally:
                connection.close()

        target = work_raw if args.raw_http else work
        threads = [threading.Thread(target=target, args=(own,)) for own in per_thread]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        if failures:
            raise SystemExit(f"{len(failures)} threads failed, first: {failures[0]!r}")
        total = calls * args.threads
        where = "this process" if args.in_process else "a separate process"
        kind = (
            "raw HTTP"
            if args.raw_http
            else "stock"
            if args.stock_client
            else "lean, signed"
            if args.signed
            else "lean, unsigned"
        )
        print(
            f"{total} UpdateOpportunity calls, {args.threads} threads, {kind} client, "
            f"emulator in {where}: "
            f"{elapsed:.2f} s, {total / elapsed:.0f} calls/s"
        )
    finally:
        if emulator is not None:
            emulator.stop()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
