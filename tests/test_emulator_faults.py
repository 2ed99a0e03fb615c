"""Quotas, injected faults, seller edits, persistence and the inspection routes."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, HTTPClientError
from conftest import FAST, client_for
from test_emulator_api import payload, pick

from bulk_update.emulator import Emulator


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _update(client: Any, ident: str, title: str) -> str:
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    body["Project"]["Title"] = title
    try:
        client.update_opportunity(**body)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def test_n_plus_one_writes_in_a_second_one_throttled(fresh_emulator: Any) -> None:
    clock = FakeClock()
    emu = fresh_emulator(write_rate=5, write_burst=5, read_rate=1000, read_burst=1000, clock=clock)
    client = client_for(emu.url, retries=1)
    ids = [
        i
        for i, r in sorted(emu.records().items())
        if r["LifeCycle"]["ReviewStatus"] == "Pending Submission"
    ]
    outcomes = [_update(client, ident, "Paced") for ident in ids[:6]]
    assert outcomes == ["ok"] * 5 + ["ThrottlingException"]
    assert emu.counters()["throttled"] == {"UpdateOpportunity": 1}
    clock.now += 0.2  # one token back at 5 per second
    assert _update(client, ids[5], "Paced") == "ok"
    assert _update(client, ids[6], "Paced") == "ThrottlingException"


def test_default_write_quota_is_one_a_second(fresh_emulator: Any) -> None:
    emu = fresh_emulator(read_rate=1000, read_burst=1000)
    client = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    client.update_opportunity(**body)
    with pytest.raises(client.exceptions.ThrottlingException) as caught:
        client.update_opportunity(**body)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_botocore_retries_throttling(fresh_emulator: Any) -> None:
    clock = FakeClock()
    emu = fresh_emulator(read_rate=1, read_burst=1, clock=clock)
    client = client_for(emu.url, retries=2)
    client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    with pytest.raises(client.exceptions.ThrottlingException) as caught:
        client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert emu.counters()["throttled"] == {"GetOpportunity": 2}


def test_daily_quota(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**{**FAST, "daily_reads": 3})
    client = client_for(emu.url, retries=1)
    for _ in range(3):
        client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    with pytest.raises(client.exceptions.ThrottlingException):
        client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    emu.set_quotas(daily_reads=10)
    client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")


def _outcomes(emu: Emulator, calls: int) -> list[str]:
    client = client_for(emu.url, retries=1)
    seen = []
    for _ in range(calls):
        try:
            client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
            seen.append("ok")
        except ClientError as error:
            seen.append(str(error.response["Error"]["Code"]))
    return seen


def test_faults_are_reproducible_from_the_seed(fresh_emulator: Any) -> None:
    first = _outcomes(fresh_emulator(**FAST, fault_rate=0.3, fault_seed=7), 30)
    again = _outcomes(fresh_emulator(**FAST, fault_rate=0.3, fault_seed=7), 30)
    other = _outcomes(fresh_emulator(**FAST, fault_rate=0.3, fault_seed=8), 30)
    assert first == again
    assert first != other
    assert set(first) == {"ok", "InternalServerException"}
    assert 3 <= first.count("InternalServerException") <= 18


def test_internal_error_is_a_500(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST, fault_rate=1.0)
    client = client_for(emu.url, retries=1)
    with pytest.raises(client.exceptions.InternalServerException) as caught:
        client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert emu.counters()["faults"] == {"GetOpportunity": 1}


def test_latency_is_added(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST, latency=0.2)
    client = client_for(emu.url, retries=1)
    started = time.perf_counter()
    client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    assert time.perf_counter() - started >= 0.2


def test_dropped_call_does_not_land(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST, drop_rate=1.0)
    client = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    before = emu.record("Sandbox", ident)
    body = payload(before | {"Id": ident})
    body["Project"]["Title"] = "Lost in the network"
    with pytest.raises(HTTPClientError):
        client.update_opportunity(**body)
    assert emu.record("Sandbox", ident) == before


def test_drop_after_write_lands_the_write(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST)
    client = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    body["Project"]["Title"] = "Landed, unanswered"
    emu.set_faults(drop_after_write_rate=1.0)
    with pytest.raises(ConnectionClosedError):
        client.update_opportunity(**body)
    assert emu.record("Sandbox", ident)["Project"]["Title"] == "Landed, unanswered"
    assert emu.counters()["writes_per_id"] == {f"Sandbox/{ident}": 1}
    emu.set_faults(drop_after_write_rate=0.0)
    with pytest.raises(client.exceptions.ConflictException):
        client.update_opportunity(**body)


def test_error_after_write_keeps_the_write_and_answers_500(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST)
    client = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    body = payload(client.get_opportunity(Catalog="Sandbox", Identifier=ident))
    body["Project"]["Title"] = "Landed, answered 500"
    emu.set_faults(error_after_write_rate=1.0)
    with pytest.raises(ClientError) as raised:
        client.update_opportunity(**body)
    assert raised.value.response["Error"]["Code"] == "InternalServerException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert emu.record("Sandbox", ident)["Project"]["Title"] == "Landed, answered 500"
    assert emu.counters()["writes_per_id"] == {f"Sandbox/{ident}": 1}
    emu.set_faults(error_after_write_rate=0.0)
    with pytest.raises(client.exceptions.ConflictException):
        client.update_opportunity(**body)


def test_random_seller_edit_makes_the_next_write_conflict(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST, seller_edit_rate=1.0, fault_seed=3)
    client = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    with pytest.raises(client.exceptions.ConflictException):
        client.update_opportunity(**payload(got))
    stored = emu.record("Sandbox", ident)
    edited = [
        stored["LifeCycle"].get("NextSteps", ""),
        stored["Project"].get("AdditionalComments", ""),
    ]
    assert any(text.startswith("Seller update") for text in edited)


def test_scheduled_seller_edit_follows_the_next_read(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST)
    client = client_for(emu.url, retries=1)
    ident = pick(emu, "Pending Submission")
    emu.schedule_seller_edit("Sandbox", ident, {"Project.Title": "Seller's title"})
    got = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert got["Project"]["Title"] != "Seller's title"
    with pytest.raises(client.exceptions.ConflictException):
        client.update_opportunity(**payload(got))
    fresh = client.get_opportunity(Catalog="Sandbox", Identifier=ident)
    assert fresh["Project"]["Title"] == "Seller's title"
    assert fresh["LastModifiedDate"] > got["LastModifiedDate"]
    client.update_opportunity(**payload(fresh))  # no edit left waiting


def test_seller_edit_now(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST)
    client = client_for(emu.url, retries=1)
    before = client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    emu.seller_edit(
        "Sandbox", "O1000001", {"Customer.Contacts[0].Phone": "+442071234567", "Marketing": None}
    )
    after = client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    assert after["Customer"]["Contacts"][0]["Phone"] == "+442071234567"
    assert "Marketing" not in after
    assert after["LastModifiedDate"] > before["LastModifiedDate"]


def test_state_survives_a_restart(tmp_path: Any) -> None:
    data = tmp_path / "state.json"
    with Emulator(
        seed=[{"Id": "O77", "Catalog": "AWS", "Customer": {"Account": {"CompanyName": "Keep"}}}],
        data_file=data,
        **FAST,
    ) as emu:
        client = client_for(emu.url, retries=1)
        got = client.get_opportunity(Catalog="AWS", Identifier="O77")
        body = payload(got)
        body["Customer"]["Account"].update(Industry="Mining", WebsiteUrl="https://keep.example.com")
        out = client.update_opportunity(**body)
    with Emulator(data_file=data, **FAST) as emu:
        client = client_for(emu.url, retries=1)
        again = client.get_opportunity(Catalog="AWS", Identifier="O77")
        assert again["Customer"]["Account"]["Industry"] == "Mining"
        assert again["LastModifiedDate"] == out["LastModifiedDate"]
        assert emu.records("Sandbox") == {}


def test_inspection_routes(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST)
    client = client_for(emu.url, retries=1)
    client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    with urllib.request.urlopen(emu.url + "/_emulator/counters") as answer:
        assert json.loads(answer.read())["calls"] == {"GetOpportunity": 1}
    with urllib.request.urlopen(emu.url + "/_emulator/records?catalog=AWS") as answer:
        assert set(json.loads(answer.read())) == set(emu.records("AWS"))
    edit = {
        "catalog": "Sandbox",
        "identifier": "O1000001",
        "changes": {"Project.Title": "Via HTTP"},
    }
    request = urllib.request.Request(
        emu.url + "/_emulator/seller-edit", data=json.dumps(edit).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as answer:
        assert json.loads(answer.read())["Project"]["Title"] == "Via HTTP"
    assert (
        client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")["Project"]["Title"]
        == "Via HTTP"
    )
    emu.reset_counters()
    assert emu.counters()["calls"] == {}


def test_stop_closes_kept_alive_connections(fresh_emulator: Any) -> None:
    emu = fresh_emulator(**FAST)
    client = client_for(emu.url, retries=1)
    client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")
    emu.stop()
    with pytest.raises(BotoCoreError):
        client.get_opportunity(Catalog="Sandbox", Identifier="O1000001")


def test_samples_are_valid_and_cover_every_stage_and_status(emulator: Any) -> None:
    from bulk_update.emulator.rules import business_errors
    from bulk_update.emulator.validation import output_shape, validate

    records = list(emulator.records("Sandbox").values())
    assert len(records) >= 60 and emulator.records("AWS")
    shape = output_shape("GetOpportunity")
    stages = set(shape.members["LifeCycle"].members["Stage"].enum)  # type: ignore[attr-defined]
    statuses = set(shape.members["LifeCycle"].members["ReviewStatus"].enum)  # type: ignore[attr-defined]
    assert {r["LifeCycle"]["Stage"] for r in records} == stages
    assert {r["LifeCycle"]["ReviewStatus"] for r in records} == statuses
    for record in records:
        assert validate(shape, record) == []
        assert business_errors(record, None, "2026-11-26") == []
        assert record["LifeCycle"]["TargetCloseDate"] >= "2027-01-01"
