"""Row <-> payload, record <-> row, and the round trip for any valid record."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.model import ListShape, Shape, StructureShape
from hypothesis import given, settings
from hypothesis import strategies as st

from bulk_update import fields as catalog
from bulk_update.fields import Field
from bulk_update.payload import (
    CLEAR,
    field_path,
    parse_column,
    payload_to_edits,
    record_to_row,
    row_to_edits,
    row_to_record,
    to_payload,
)
from bulk_update.times import format_timestamp, parse_timestamp

CAT = catalog.load()

RECORD = {
    "Id": "O1234567",
    "Arn": "arn:aws:partnercentral:us-east-1::catalog/AWS/opportunity/O1234567",
    "Catalog": "AWS",
    "LastModifiedDate": datetime(2026, 5, 1, 20, 37, 46, 123456, tzinfo=UTC),
    "CreatedDate": "2026-01-02T03:04:05Z",
    "PrimaryNeedsFromAws": ["Co-Sell - Pricing Assistance", "Co-Sell - Business Presentation"],
    "Customer": {
        "Account": {"CompanyName": "Acme", "Address": {"PostalCode": "02139"}},
        "Contacts": [{"Email": "a@example.com"}, {"Phone": "+15551234567", "FirstName": "Bo"}],
    },
    "LifeCycle": {"Stage": "Prospect", "ReviewStatus": "Approved", "TargetCloseDate": "2026-12-31"},
}


def test_record_to_row_uses_contract_spelling_and_catalog_order() -> None:
    row = record_to_row(RECORD)
    assert row == {
        "Identifier": "O1234567",
        "Catalog": "AWS",
        "LastModifiedDate": "2026-05-01T20:37:46.123Z",
        "PrimaryNeedsFromAws": "Co-Sell - Pricing Assistance;Co-Sell - Business Presentation",
        "Customer.Account.CompanyName": "Acme",
        "Customer.Account.Address.PostalCode": "02139",
        "Customer.Contacts[1].Email": "a@example.com",
        "Customer.Contacts[2].FirstName": "Bo",
        "Customer.Contacts[2].Phone": "+15551234567",
        "LifeCycle.Stage": "Prospect",
        "LifeCycle.TargetCloseDate": "2026-12-31",
        "LifeCycle.ReviewStatus": "Approved",
        "Arn": RECORD["Arn"],
        "CreatedDate": "2026-01-02T03:04:05.000Z",
    }
    assert list(row)[:3] == ["Identifier", "Catalog", "LastModifiedDate"]


def test_read_only_columns_are_found_and_flagged() -> None:
    found = parse_column("LifeCycle.ReviewStatus")
    assert found is not None and found[0].read_only
    found = parse_column("Customer.Contacts[2].Email")
    assert found is not None and found[1] == 1 and not found[0].read_only
    assert parse_column("Customer.Contacts[0].Email") is None
    assert parse_column("No.Such") is None


def test_row_to_record_keeps_only_updatable_fields() -> None:
    record = row_to_record(record_to_row(RECORD))
    assert "Arn" not in record and "ReviewStatus" not in record["LifeCycle"]
    assert record["Customer"]["Contacts"][1] == {"FirstName": "Bo", "Phone": "+15551234567"}


def test_row_to_edits_reads_clear_and_lists() -> None:
    edits = row_to_edits(
        {
            "LifeCycle.Stage": "",
            "LifeCycle.NextSteps": " #clear ",
            "Marketing.Channels": "Email; ;Display ",
            "Customer.Contacts[3].Email": "x@example.com",
            "Identifier": "O1",
        }
    )
    assert edits == {
        ("LifeCycle", "NextSteps"): CLEAR,
        ("Marketing", "Channels"): ("Email", "Display"),
        ("Customer", "Contacts", 2, "Email"): "x@example.com",
    }


def test_to_payload_nests_and_keeps_placeholders_and_clear() -> None:
    payload = to_payload(
        {
            ("LifeCycle", "Stage"): "Closed Lost",
            ("Customer", "Contacts", 1, "Email"): "a@example.com",
            ("Marketing", "Channels"): ("Email",),
            ("Project", "Title"): CLEAR,
        }
    )
    assert payload == {
        "LifeCycle": {"Stage": "Closed Lost"},
        "Customer": {"Contacts": [{}, {"Email": "a@example.com"}]},
        "Marketing": {"Channels": ["Email"]},
        "Project": {"Title": CLEAR},
    }
    assert payload_to_edits(payload) == {
        ("LifeCycle", "Stage"): "Closed Lost",
        ("Customer", "Contacts", 1, "Email"): "a@example.com",
        ("Marketing", "Channels"): ("Email",),
        ("Project", "Title"): CLEAR,
    }


def test_field_path() -> None:
    email = CAT.get("Customer.Contacts[].Email")
    stage = CAT.get("LifeCycle.Stage")
    assert email is not None and stage is not None
    assert field_path(email, 0) == ("Customer", "Contacts", 0, "Email")
    assert field_path(stage) == ("LifeCycle", "Stage")
    with pytest.raises(ValueError):
        field_path(email)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (
            datetime(2026, 5, 1, 22, 0, 0, 5000, tzinfo=timezone(timedelta(hours=2))),
            "2026-05-01T20:00:00.005Z",
        ),
        (datetime(2026, 5, 1, 20, 0, 0), "2026-05-01T20:00:00.000Z"),
        ("2026-05-01T20:37:46.123Z", "2026-05-01T20:37:46.123Z"),
        ("2026-05-01T22:37:46+02:00", "2026-05-01T20:37:46.000Z"),
    ],
)
def test_format_timestamp(value: datetime | str, text: str) -> None:
    assert format_timestamp(value) == text


def test_parse_timestamp_needs_a_zone() -> None:
    assert parse_timestamp("2026-05-01T20:37:46.123Z") == datetime(
        2026, 5, 1, 20, 37, 46, 123000, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        parse_timestamp("2026-05-01T20:37:46")
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


# --- the round trip ---------------------------------------------------------------


def _text(f: Field) -> st.SearchStrategy[str]:
    lo = max(f.min_length or 0, 1)  # an empty text is an empty cell: nothing to round-trip
    hi = f.max_length or 40
    if f.pattern:
        # hypothesis cannot generate look-aheads; the length they state is checked below.
        pattern = re.sub(r"^\(\?=[^)]*\)", "", f.pattern)
        strat = st.from_regex(pattern, fullmatch=True)
    else:
        strat = st.text(st.characters(codec="utf-8"), min_size=lo, max_size=min(hi, 40))
    # "#CLEAR" is the clear marker, never a value (see mapping's docstring).
    return strat.filter(lambda s: lo <= len(s) <= hi and s.strip().upper() != "#CLEAR")


def _leaf(f: Field) -> st.SearchStrategy[Any]:
    if f.kind == "enum":
        return st.sampled_from(f.enum)
    if f.kind == "date":
        return st.dates(min_value=date(1000, 1, 1)).map(date.isoformat)
    if f.kind == "list":
        # Known limitation: items holding ';' cannot travel in one cell; none exist.
        items = [v for v in f.allowed if ";" not in v]
        return st.lists(st.sampled_from(items), min_size=1, max_size=4)
    return _text(f)


def _shape(shape: Shape, prefix: str) -> st.SearchStrategy[Any]:
    if isinstance(shape, StructureShape):
        required = set(shape.required_members)
        req: dict[str, st.SearchStrategy[Any]] = {}
        opt: dict[str, st.SearchStrategy[Any]] = {}
        for name, member in shape.members.items():
            key = f"{prefix}.{name}" if prefix else name
            if CAT.get(key) is not None and CAT.by_key[key].read_only:
                continue
            if key.split("[]")[0] in catalog.AWS_OWNED:
                continue
            (req if name in required else opt)[name] = _shape(member, key)
        return st.fixed_dictionaries(req, optional=opt).filter(bool)  # type: ignore[arg-type]
    if isinstance(shape, ListShape) and isinstance(shape.member, StructureShape):
        return st.lists(_shape(shape.member, prefix + "[]"), min_size=1, max_size=3)
    return _leaf(CAT.by_key[prefix])


def _record() -> st.SearchStrategy[dict[str, Any]]:
    top = {k: _shape(v, k) for k, v in catalog.updatable_members().items()}
    return st.fixed_dictionaries({}, optional=top)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(record=_record(), ident=st.from_regex(r"O[0-9]{1,19}", fullmatch=True))
def test_round_trip_record_row_record(record: dict[str, Any], ident: str) -> None:
    row = record_to_row({**record, "Id": ident})
    assert row["Identifier"] == ident
    assert all(isinstance(v, str) and v for v in row.values())
    assert row_to_record(row) == record
