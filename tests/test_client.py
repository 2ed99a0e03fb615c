"""The Partner Central client, through a real boto3 client over HTTP to the emulator."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bulk_update import errors
from bulk_update.api.boto import is_loopback, make_boto_client
from bulk_update.api.client import (
    AccessDeniedError,
    CallFailed,
    Conflict,
    NotFound,
    PartnerCentral,
    Unreachable,
    Validation,
    WriteUncertain,
)
from bulk_update.api.pacing import TokenBucket
from bulk_update.merge import project

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"
EDITABLE = [
    r["Id"]
    for r in json.loads(SAMPLES.read_text())
    if r["Catalog"] == "Sandbox" and r["LifeCycle"]["ReviewStatus"] == "Pending Submission"
]


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """An environment with no AWS credentials anywhere in the standard chain."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def pc_for(url: str, *, read_rate=1000.0, write_rate=1000.0, **kw: Any) -> PartnerCentral:
    kw.setdefault("sleep", lambda s: None)  # backoff waits: not worth real time in tests
    return PartnerCentral(
        make_boto_client(profile=None, endpoint_url=url),
        "Sandbox",
        read_limiter=kw.pop("read_limiter", None) or TokenBucket(read_rate, burst=10),
        write_limiter=kw.pop("write_limiter", None) or TokenBucket(write_rate),
        **kw,
    )


def edit(pc: PartnerCentral, identifier: str, note: str) -> dict[str, Any]:
    """The whole update payload for a record, with one field changed."""
    live = pc.get(identifier)
    payload = project(live)
    payload["Identifier"] = identifier
    payload["LastModifiedDate"] = live["LastModifiedDate"]
    payload.setdefault("Project", {})["AdditionalComments"] = note
    return payload


def writes(emu, identifier: str) -> int:
    return emu.counters()["writes_per_id"].get(f"Sandbox/{identifier}", 0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the boto3 client ------------------------------------------------------------------


def test_botocore_never_retries_on_its_own(no_aws, emulator):
    client = make_boto_client(profile=None, endpoint_url=emulator.url)
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client.meta.config.max_pool_connections == 16
    assert client.meta.region_name == "us-east-1"


def test_the_emulator_gets_dummy_credentials(no_aws, emulator):
    pc = pc_for(emulator.url)
    assert pc.get(EDITABLE[0])["Id"] == EDITABLE[0]


def test_the_standard_endpoint_variable_is_honoured(no_aws, emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_PARTNERCENTRAL_SELLING", emulator.url)
    client = make_boto_client(profile=None, endpoint_url=None)
    assert client.meta.endpoint_url == emulator.url
    pc = PartnerCentral(
        client, "Sandbox", read_limiter=TokenBucket(1000), write_limiter=TokenBucket(1000)
    )
    assert pc.get(EDITABLE[0])["Id"] == EDITABLE[0]


def test_no_credentials_for_aws_itself_is_a_plain_message(no_aws):
    with pytest.raises(errors.NoCredentials) as info:
        make_boto_client(profile=None, endpoint_url=None)
    assert str(info.value) == (
        "no AWS credentials found: run `aws sso login` / set AWS_PROFILE, or pass --profile"
    )


def test_an_unknown_profile_is_named(no_aws):
    with pytest.raises(errors.NoCredentials, match="'nope' is not in your AWS config"):
        make_boto_client(profile="nope", endpoint_url=None)


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://127.0.0.1:4566", True),
        ("http://localhost:8080/", True),
        ("http://[::1]:9000", True),
        ("http://127.0.0.2", True),
        ("https://partnercentral-selling.us-east-1.amazonaws.com", False),
        ("http://10.0.0.1", False),
        (None, False),
    ],
)
def test_is_loopback(url, expected):
    assert is_loopback(url) is expected


# -- reading ---------------------------------------------------------------------------


def test_get_returns_the_record(no_aws, emulator):
    pc = pc_for(emulator.url)
    record = pc.get(EDITABLE[0])
    assert "ResponseMetadata" not in record
    assert record["Id"] == EDITABLE[0]
    assert isinstance(record["LastModifiedDate"], datetime)
    assert pc.stats.snapshot() | {} == {
        "calls": 1,
        "reads": 1,
        "writes": 0,
        "throttled": 0,
        "retries": 0,
        "faults": 0,
        "uncertain": 0,
    }


def test_get_of_a_missing_record_is_not_found(no_aws, emulator):
    pc = pc_for(emulator.url)
    with pytest.raises(NotFound) as info:
        pc.get("O999999999")
    assert info.value.identifier == "O999999999"
    assert "O999999999" in str(info.value)


def test_listing_follows_every_page(no_aws, emulator):
    pc = pc_for(emulator.url)
    ids = [s["Id"] for s in pc.list_summaries(MaxResults=10)]
    assert len(ids) == len(set(ids)) == len(emulator.records("Sandbox"))
    assert set(ids) == set(emulator.records("Sandbox"))
    assert pc.stats.reads >= -(-len(ids) // 10)  # one call per page of ten


# -- writing ---------------------------------------------------------------------------


def test_update_writes_once_and_returns_the_new_version(no_aws, fresh_emulator):
    emu = fresh_emulator(write_rate=1000, write_burst=10, read_rate=1000, read_burst=100)
    pc = pc_for(emu.url)
    identifier = EDITABLE[0]
    payload = edit(pc, identifier, "checked in the quarterly cleanup")
    answer = pc.update(payload)
    assert answer["Id"] == identifier
    assert answer["LastModifiedDate"] > payload["LastModifiedDate"]
    assert "ResponseMetadata" not in answer
    assert emu.record("Sandbox", identifier)["Project"]["AdditionalComments"] == (
        "checked in the quarterly cleanup"
    )
    assert writes(emu, identifier) == 1
    assert pc.stats.writes == 1


def test_a_payload_for_another_catalog_is_refused(no_aws, emulator):
    pc = pc_for(emulator.url)
    with pytest.raises(ValueError):
        pc.update({"Catalog": "AWS", "Identifier": "O1"})
    assert pc.stats.calls == 0


def test_update_of_a_missing_record_is_not_found(no_aws, emulator):
    pc = pc_for(emulator.url)
    payload = edit(pc, EDITABLE[0], "x") | {"Identifier": "O999999999"}
    with pytest.raises(NotFound):
        pc.update(payload)


def test_a_stale_version_is_a_conflict(no_aws, fresh_emulator):
    emu = fresh_emulator(write_rate=1000, write_burst=10, read_rate=1000, read_burst=100)
    pc = pc_for(emu.url)
    identifier = EDITABLE[1]
    payload = edit(pc, identifier, "mine")
    emu.seller_edit("Sandbox", identifier, {"Project.Title": "Renamed by the seller"})
    with pytest.raises(Conflict) as info:
        pc.update(payload)
    assert info.value.operation == "UpdateOpportunity"
    assert writes(emu, identifier) == 0


def test_validation_names_the_fields_and_never_the_values(no_aws, emulator):
    pc = pc_for(emulator.url)
    payload = edit(pc, EDITABLE[2], "x")
    payload["LifeCycle"]["Stage"] = "Secret Stage Value"
    with pytest.raises(Validation) as info:
        pc.update(payload)
    exc = info.value
    assert exc.reason == "REQUEST_VALIDATION_FAILED"
    fields = [f for f, _, _ in exc.field_errors]
    assert any("LifeCycle.Stage" in f for f in fields)
    assert all(len(item) == 3 for item in exc.field_errors)
    assert "LifeCycle.Stage" in str(exc)
    assert "Secret Stage Value" not in str(exc)


def test_botocores_own_check_is_a_validation_without_values(no_aws, emulator):
    pc = pc_for(emulator.url)
    payload = edit(pc, EDITABLE[2], "x")
    payload["Customer"]["Account"]["Duns"] = 987654321  # a number where text belongs
    with pytest.raises(Validation) as info:
        pc.update(payload)
    assert info.value.reason == "PARAM_VALIDATION_FAILED"
    assert info.value.field_errors[0][0] == "Customer.Account.Duns"
    assert "987654321" not in str(info.value)
    assert "987654321" not in repr(info.value.field_errors)


def test_access_denied_stops_with_the_shared_error(no_aws, fresh_emulator):
    emu = fresh_emulator(read_rate=1000, read_burst=100)
    emu.deny_access = True
    pc = pc_for(emu.url)
    with pytest.raises(AccessDeniedError) as info:
        pc.get(EDITABLE[0])
    assert isinstance(info.value, errors.AccessDenied)
    assert pc.stats.calls == 1  # never retried


# -- throttling ------------------------------------------------------------------------


def write_several(pc: PartnerCentral, ids: list[str]) -> None:
    for n, identifier in enumerate(ids):
        pc.update(edit(pc, identifier, f"paced write {n}"))


def test_a_limiter_at_the_quota_is_never_throttled(no_aws, fresh_emulator):
    emu = fresh_emulator(write_rate=2, write_burst=1, read_rate=1000, read_burst=100)
    # 20 ms of margin on each 500 ms interval absorbs the jitter between the
    # moment a request leaves and the moment the emulator counts it.
    pc = pc_for(emu.url, write_limiter=TokenBucket(2, margin=0.02))
    ids = EDITABLE[:6]
    start = time.monotonic()
    write_several(pc, ids)
    assert time.monotonic() - start >= (len(ids) - 1) / 2
    assert pc.stats.throttled == 0
    assert emu.counters()["throttled"] == {}
    assert all(writes(emu, i) == 1 for i in ids)


def test_a_limiter_faster_than_the_quota_is_throttled_but_never_fails(no_aws, fresh_emulator):
    emu = fresh_emulator(write_rate=2, write_burst=1, read_rate=1000, read_burst=100)
    pc = pc_for(emu.url, write_limiter=TokenBucket(10))
    ids = EDITABLE[:6]
    write_several(pc, ids)
    assert pc.stats.throttled > 0
    assert pc.stats.throttled == emu.counters()["throttled"]["UpdateOpportunity"]
    assert pc.stats.writes == len(ids) + pc.stats.throttled
    assert pc.write_limiter.rate < 10
    assert all(writes(emu, i) == 1 for i in ids)


def test_endless_throttling_gives_up_in_the_end(no_aws, fresh_emulator):
    emu = fresh_emulator(read_rate=1000, read_burst=100, daily_reads=0)
    pc = pc_for(emu.url, read_limiter=TokenBucket(1000), max_throttles=4)
    with pytest.raises(CallFailed) as info:
        pc.get(EDITABLE[0])
    assert info.value.kind == "throttled for too long"
    assert pc.stats.throttled == 4
    assert "ThrottlingException" in str(info.value)


# -- faults and lost answers -----------------------------------------------------------

QUICK = {"write_rate": 1000, "read_rate": 1000, "read_burst": 100}
"""Quotas high enough that only the faults under test slow a call down."""


def test_server_errors_are_retried_until_they_pass(no_aws, fresh_emulator):
    emu = fresh_emulator(**QUICK, write_burst=100, fault_rate=0.3, fault_seed=7)
    pc = pc_for(emu.url)
    ids = EDITABLE[:8]
    for n, identifier in enumerate(ids):
        pc.update(edit(pc, identifier, f"through the faults {n}"))
    faults = sum(emu.counters()["faults"].values())
    assert faults > 0
    assert pc.stats.faults == faults
    assert pc.stats.retries == faults
    assert all(writes(emu, i) == 1 for i in ids)


def test_server_errors_fail_the_call_after_max_attempts(no_aws, fresh_emulator):
    emu = fresh_emulator(read_rate=1000, read_burst=100, fault_rate=1.0)
    waits: list[float] = []
    pc = pc_for(emu.url, max_attempts=4, sleep=waits.append, backoff_base=0.5)
    with pytest.raises(CallFailed) as info:
        pc.get(EDITABLE[0])
    assert info.value.kind == "server error"
    assert info.value.attempts == 4
    assert "InternalServerException" in str(info.value)
    assert len(waits) == 3
    assert all(0 <= w <= 0.5 * 2**k for k, w in enumerate(waits))  # full jitter, doubling


def test_a_write_whose_answer_is_lost_is_never_sent_again(no_aws, fresh_emulator):
    emu = fresh_emulator(**QUICK, write_burst=10, drop_after_write_rate=1.0)
    pc = pc_for(emu.url)
    identifier = EDITABLE[3]
    payload = edit(pc, identifier, "landed but unanswered")
    with pytest.raises(WriteUncertain) as info:
        pc.update(payload)
    assert info.value.identifier == identifier
    assert writes(emu, identifier) == 1  # it landed, once
    assert emu.counters()["calls"]["UpdateOpportunity"] == 1
    assert pc.stats.uncertain == 1
    after = pc.get(identifier)  # the engine settles the row by reading
    assert after["Project"]["AdditionalComments"] == "landed but unanswered"


def test_a_read_whose_connection_drops_is_retried(no_aws, fresh_emulator):
    emu = fresh_emulator(read_rate=1000, read_burst=100, drop_rate=1.0)
    pc = pc_for(emu.url, max_attempts=3)
    with pytest.raises(CallFailed) as info:
        pc.get(EDITABLE[0])
    assert info.value.kind == "network"
    assert emu.counters()["calls"]["GetOpportunity"] == 3


def test_a_refused_connection_is_retried_even_for_writes(no_aws):
    pc = pc_for(f"http://127.0.0.1:{closed_port()}", max_attempts=3)
    with pytest.raises(CallFailed) as info:
        pc.update({"Identifier": "O1", "LastModifiedDate": datetime.now()})
    assert info.value.kind == "network"
    assert info.value.attempts == 3
    assert pc.stats.writes == 3 and pc.stats.uncertain == 0


def test_a_dead_endpoint_gives_up_after_three_attempts_not_the_whole_budget(no_aws):
    """Issue 11: a run whose endpoint died stops in seconds. With the default budget
    (8 attempts, backoff up to 20 s each) a refused connection would cost about a
    minute per call; three refusals in a row end the call as Unreachable."""
    waits: list[float] = []
    pc = pc_for(f"http://127.0.0.1:{closed_port()}", sleep=waits.append)
    assert pc.max_attempts == 8 and pc.max_unreached == 3  # the defaults a user runs with
    with pytest.raises(Unreachable) as info:
        pc.get("O1")
    assert info.value.attempts == 3
    assert len(waits) == 2 and sum(waits) <= 0.5 + 1.0


def test_stats_add_up_across_threads(no_aws, emulator):
    pc = pc_for(emulator.url)
    ids = sorted(emulator.records("Sandbox"))[:40]

    def worker(chunk: list[str]) -> None:
        for identifier in chunk:
            pc.get(identifier)

    threads = [threading.Thread(target=worker, args=(ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert pc.stats.reads == pc.stats.calls == len(ids)
