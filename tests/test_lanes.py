"""Each write operation paced in a quota lane of its own, through boto3 and the emulator.

The emulator plays the service's lanes (a bucket per write operation, one for
the reads: ``bulk_update/emulator/quotas.py``); these tests check that the
client's lanes match them: two lanes used at once, a throttle that slows only
its own lane, the rates as settings (``--operation-rate``), and the writes
counted per operation.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from bulk_update.api.boto import make_boto_client
from bulk_update.api.client import PartnerCentral, connect
from bulk_update.api.pacing import WRITES, TokenBucket, write_lanes
from bulk_update.cli.options import api_options
from bulk_update.merge import project

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"
EDITABLE = [
    r["Id"]
    for r in json.loads(SAMPLES.read_text())
    if r["Catalog"] == "Sandbox" and r["LifeCycle"]["ReviewStatus"] == "Pending Submission"
]
OWNER = {
    "Email": "priya.natarajan@partner.example.com",
    "FirstName": "Priya",
    "LastName": "Natarajan",
    "BusinessTitle": "PartnerSalesManager",
}
STRICT = {"write_rate": 1.0, "write_burst": 1, "read_rate": 1000, "read_burst": 1000}
"""The service's write quotas (1 per second per lane, no burst), reads out of the way."""


class FakeClock:
    """Time that moves only when someone sleeps: shared by the client and the emulator."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)
        self.now += max(0.0, seconds)


def update(pc: PartnerCentral, identifier: str, note: str) -> None:
    """One UpdateOpportunity of the whole record with one field changed."""
    live = pc.get(identifier)
    payload = project(live)
    payload.update(Identifier=identifier, LastModifiedDate=live["LastModifiedDate"])
    payload.setdefault("Project", {})["AdditionalComments"] = note
    pc.update(payload)


def assign(pc: PartnerCentral, identifier: str) -> None:
    pc.send_call("AssignOpportunity", {"Identifier": identifier, "Assignee": OWNER})


def fake_timed_pc(url: str, clock: FakeClock, **rates: float) -> PartnerCentral:
    """A client whose every bucket runs on ``clock``: UpdateOpportunity and AssignOpportunity
    at the rates given (default 1/s), no margin, so the fake time is exact."""

    def lane(rate: float) -> TokenBucket:
        return TokenBucket(rate, burst=1.0, clock=clock, sleep=clock.sleep)

    return PartnerCentral(
        make_boto_client(profile=None, endpoint_url=url),
        "Sandbox",
        read_limiter=TokenBucket(1000, burst=1000, clock=clock, sleep=clock.sleep),
        write_limiter=lane(rates.get("update", 1.0)),
        write_lanes={"AssignOpportunity": lane(rates.get("assign", 1.0))},
        clock=clock,
        sleep=clock.sleep,
        send_lead=0.0,
    )


# -- the lanes -------------------------------------------------------------------------


def test_the_lanes_are_the_writes_a_plan_sends_and_the_model_has() -> None:
    from bulk_update import fields
    from bulk_update.calls import OPERATIONS

    assert {"UpdateOpportunity", *OPERATIONS} == WRITES
    assert set(fields.service_model().operation_names) >= WRITES


def test_every_write_operation_has_a_bucket_of_its_own() -> None:
    update_lane = TokenBucket(3.0, margin=0.01)
    pc = PartnerCentral(
        make_boto_client(profile=None, endpoint_url="http://127.0.0.1:9"),
        "Sandbox",
        read_limiter=TokenBucket(10),
        write_limiter=update_lane,
    )
    assert set(pc.write_lanes) == WRITES
    assert pc.lane("UpdateOpportunity") is pc.write_limiter is update_lane
    buckets = {id(pc.lane(op)) for op in WRITES} | {id(pc.lane("GetOpportunity"))}
    assert len(buckets) == len(WRITES) + 1
    # the lanes not given are twins of UpdateOpportunity's: the same pace, apart
    assert {pc.lane(op).configured_rate for op in WRITES} == {3.0}
    assert pc.lane("ListOpportunities") is pc.lane("GetOpportunity") is pc.read_limiter


def test_update_then_assign_in_the_same_instant_waits_for_nothing(fresh_emulator) -> None:
    clock = FakeClock()
    emu = fresh_emulator(**STRICT, clock=clock)
    pc = fake_timed_pc(emu.url, clock)
    update(pc, EDITABLE[0], "lane one")
    assign(pc, EDITABLE[1])
    assert clock.slept == 0.0  # the assignment found its own lane full
    assert emu.counters()["throttled"] == {}
    update(pc, EDITABLE[2], "lane one again")
    assert clock.slept == pytest.approx(1.0)  # a second update waits for its lane's turn
    assert pc.stats.per_operation() == {"AssignOpportunity": 1, "UpdateOpportunity": 2}


def test_a_run_that_assigns_and_updates_uses_both_lanes_at_once(fresh_emulator) -> None:
    """Real time, the emulator at the service's 1/s lanes: 2 x n writes in about n - 1 s.

    (A throttle from jitter on a loaded machine is allowed here: the fake-clock
    test above shows that the lanes themselves throttle nothing.)
    """
    emu = fresh_emulator(**STRICT)
    lanes = write_lanes()
    pc = PartnerCentral(
        make_boto_client(profile=None, endpoint_url=emu.url),
        "Sandbox",
        read_limiter=TokenBucket(1000, burst=1000),
        write_limiter=lanes.pop("UpdateOpportunity"),
        write_lanes=lanes,
    )
    n = 5
    updated, assigned = EDITABLE[:n], EDITABLE[n : 2 * n]
    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        jobs = [
            pool.submit(lambda: [update(pc, i, "both lanes") for i in updated]),
            pool.submit(lambda: [assign(pc, i) for i in assigned]),
        ]
        for job in jobs:
            job.result()  # a call that failed fails the test
    elapsed = time.monotonic() - start
    counters = emu.counters()
    throttled = counters["throttled"]
    sent = {op: n + throttled.get(op, 0) for op in ("AssignOpportunity", "UpdateOpportunity")}
    assert {op: counters["calls"][op] for op in sent} == sent
    assert pc.stats.per_operation() == sent
    owners = [emu.record("Sandbox", i)["OpportunityTeam"][0]["Email"] for i in assigned]
    assert owners == [OWNER["Email"]] * n
    # one lane for all 2n writes would need at least 2n - 1 = 9 s
    assert n - 1 <= elapsed < 2 * (n - 1) - 1


def test_a_throttle_slows_only_the_lane_it_hit(fresh_emulator) -> None:
    clock = FakeClock()
    # the service allows 1 assignment a second; this client tries 10
    emu = fresh_emulator(**STRICT, clock=clock)
    pc = fake_timed_pc(emu.url, clock, assign=10.0)
    assign(pc, EDITABLE[0])
    assign(pc, EDITABLE[1])  # throttled until the service's second has passed
    assert pc.stats.throttled > 0
    assert emu.counters()["throttled"] == {"AssignOpportunity": pc.stats.throttled}
    assert pc.lane("AssignOpportunity").rate < 10.0
    assert pc.lane("UpdateOpportunity").rate == 1.0
    slept = clock.slept
    update(pc, EDITABLE[2], "not slowed")
    assert clock.slept == slept  # UpdateOpportunity's lane was neither slowed nor emptied
    assert emu.counters()["throttled"] == {"AssignOpportunity": pc.stats.throttled}


# -- the rates as settings -------------------------------------------------------------


def test_connect_sets_each_lane_and_refuses_an_unknown_operation(emulator) -> None:
    pc = connect(
        "Sandbox",
        endpoint_url=emulator.url,
        write_rate=3.0,
        operation_rates={"AssignOpportunity": 2.0},
    )
    rates = {op: pc.lane(op).configured_rate for op in WRITES}
    assert rates == {
        "UpdateOpportunity": 3.0,
        "AssignOpportunity": 2.0,
        "AssociateOpportunity": 1.0,
        "DisassociateOpportunity": 1.0,
        "SubmitOpportunity": 1.0,
    }
    with pytest.raises(ValueError) as info:
        connect("Sandbox", endpoint_url=emulator.url, operation_rates={"GetOpportunity": 5.0})
    assert str(info.value).startswith("no write lane for GetOpportunity: the write operations are")


def test_the_lanes_default_to_the_documented_quota_each() -> None:
    lanes = write_lanes()
    assert set(lanes) == WRITES
    assert len({id(b) for b in lanes.values()}) == len(WRITES)
    assert {(b.configured_rate, b.burst) for b in lanes.values()} == {(1.0, 1.0)}
    faster = write_lanes(5.0, {"UpdateOpportunity": 3.0, "SubmitOpportunity": 0.5})
    rates = {op: b.configured_rate for op, b in faster.items()}
    assert rates["UpdateOpportunity"] == 3.0  # the operation's own setting wins
    assert rates["SubmitOpportunity"] == 0.5
    assert rates["AssignOpportunity"] == 1.0


def test_update_s_lane_is_given_once() -> None:
    with pytest.raises(ValueError):
        PartnerCentral(
            make_boto_client(profile=None, endpoint_url="http://127.0.0.1:9"),
            "Sandbox",
            read_limiter=TokenBucket(10),
            write_limiter=TokenBucket(1),
            write_lanes={"UpdateOpportunity": TokenBucket(2)},
        )


@click.command()
@api_options("Rows at once.", writes=True)
def lanes_of(api: Any) -> None:
    """The lanes' rates that the shared options give to the client."""
    pc = api.connect("Sandbox")
    click.echo(json.dumps({op: pc.lane(op).configured_rate for op in sorted(WRITES)}))


def test_the_operation_rate_option_reaches_the_lanes(emulator) -> None:
    result = CliRunner().invoke(
        lanes_of,
        [
            "--endpoint-url",
            emulator.url,
            "--write-rate",
            "4",
            "--operation-rate",
            "AssignOpportunity=2",
            "--operation-rate",
            "submitopportunity=0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "AssignOpportunity": 2.0,
        "AssociateOpportunity": 1.0,
        "DisassociateOpportunity": 1.0,
        "SubmitOpportunity": 0.5,
        "UpdateOpportunity": 4.0,
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "Assign=2",
            "'Assign' is not a write operation: write OPERATION=RATE with one of "
            "AssignOpportunity, AssociateOpportunity, DisassociateOpportunity, "
            "SubmitOpportunity, UpdateOpportunity, e.g. AssignOpportunity=2",
        ),
        (
            "AssignOpportunity",
            "'AssignOpportunity': the rate after '=' must be a number of calls per second, "
            "at least 0.01, e.g. AssignOpportunity=2",
        ),
        (
            "AssignOpportunity=0",
            "'AssignOpportunity=0': the rate after '=' must be a number of calls per second, "
            "at least 0.01, e.g. AssignOpportunity=2",
        ),
    ],
)
def test_a_wrong_operation_rate_is_a_plain_usage_error(given: str, message: str) -> None:
    result = CliRunner().invoke(lanes_of, ["--operation-rate", given])
    assert result.exit_code == 2
    assert f"Error: Invalid value for '--operation-rate': {message}\n" in result.output


def test_the_help_teaches_the_option() -> None:
    result = CliRunner().invoke(lanes_of, ["--help"], terminal_width=200)
    text = " ".join(result.output.split())
    assert "--operation-rate OPERATION=RATE" in text
    assert "e.g. AssignOpportunity=2" in text
    for op in WRITES:
        assert op in text
