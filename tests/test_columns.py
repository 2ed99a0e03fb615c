"""Header resolution: every rule of sheet-contract.md section 1, passing and failing."""

from __future__ import annotations

import pytest

from bulk_update import fields as catalog_module
from bulk_update.errors import ColumnError
from bulk_update.fields import Catalog
from bulk_update.sheet.columns import NO_IDENTIFIER, Column, Layout, known_columns, resolve, suggest


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return catalog_module.load()


def layout(cat: Catalog, *headers: str) -> Layout:
    return resolve(["Identifier", *headers], cat)


def one(cat: Catalog, header: str) -> Column:
    return layout(cat, header).columns[1]


def error(cat: Catalog, headers: list[str]) -> str:
    with pytest.raises(ColumnError) as info:
        resolve(headers, cat)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- plain matching


def test_plain_fields_by_key(cat: Catalog) -> None:
    c = one(cat, "LifeCycle.Stage")
    assert (c.role, c.field and c.field.key, c.index, c.position) == (
        "field",
        "LifeCycle.Stage",
        None,
        1,
    )
    assert c.canonical == "LifeCycle.Stage" and c.writable


@pytest.mark.parametrize(
    "header", ["project.title", "  Project.Title  ", "PROJECT.TITLE", "Project.Title\t"]
)
def test_case_and_surrounding_spaces_ignored(cat: Catalog, header: str) -> None:
    c = one(cat, header)
    assert c.field is not None and c.field.key == "Project.Title"
    assert c.header == header  # the sheet's spelling is kept for messages
    assert c.canonical == "Project.Title"


@pytest.mark.parametrize(
    ("header", "role", "canonical"),
    [
        ("Identifier", "identifier", "Identifier"),
        ("identifier ", "identifier", "Identifier"),
        ("Id", "identifier", "Identifier"),
        ("ID", "identifier", "Identifier"),
    ],
)
def test_identifier_spellings(cat: Catalog, header: str, role: str, canonical: str) -> None:
    lay = resolve([header, "Project.Title"], cat)
    assert lay.identifier.role == role and lay.identifier.canonical == canonical
    assert lay.identifier.position == 0 and lay.identifier.header == header


def test_frame_columns(cat: Catalog) -> None:
    lay = layout(cat, "lastmodifieddate", "CATALOG", "Project.Title")
    assert lay.last_modified is not None and lay.last_modified.canonical == "LastModifiedDate"
    assert lay.catalog is not None and lay.catalog.canonical == "Catalog"
    assert [c.canonical for c in lay.fields] == ["Project.Title"]


def test_frame_columns_absent(cat: Catalog) -> None:
    lay = layout(cat, "Project.Title")
    assert lay.last_modified is None and lay.catalog is None


# ---------------------------------------------------------------- lists of records


def test_record_list_one_based(cat: Catalog) -> None:
    lay = layout(cat, "Customer.Contacts[1].Email", "Customer.Contacts[2].Phone")
    email, phone = lay.columns[1:]
    assert email.field is not None and email.field.key == "Customer.Contacts[].Email"
    assert (email.index, phone.index) == (0, 1)
    assert (email.canonical, phone.canonical) == (
        "Customer.Contacts[1].Email",
        "Customer.Contacts[2].Phone",
    )


def test_record_list_zero_based_when_any_column_uses_zero(cat: Catalog) -> None:
    lay = layout(cat, "Customer.Contacts[1].Email", "customer.contacts[0].email")
    assert [c.index for c in lay.columns[1:]] == [1, 0]
    assert [c.canonical for c in lay.columns[1:]] == [
        "Customer.Contacts[2].Email",
        "Customer.Contacts[1].Email",
    ]


def test_numbering_is_per_list(cat: Catalog) -> None:
    lay = layout(
        cat,
        "Customer.Contacts[0].Email",
        "Customer.Contacts[1].Email",
        "Project.ExpectedCustomerSpend[1].Amount",
        "Project.ExpectedCustomerSpend[2].Amount",
    )
    assert [c.index for c in lay.columns[1:]] == [0, 1, 0, 1]


def test_record_list_index_within_max_items(cat: Catalog) -> None:
    assert one(cat, "Project.ExpectedCustomerSpend[10].Amount").index == 9
    lay = layout(
        cat, "Project.ExpectedCustomerSpend[0].Amount", "Project.ExpectedCustomerSpend[9].Amount"
    )
    assert lay.columns[2].index == 9


def test_record_list_index_beyond_max_items(cat: Catalog) -> None:
    message = error(cat, ["Identifier", "Project.ExpectedCustomerSpend[11].Amount"])
    assert message == (
        "column 'Project.ExpectedCustomerSpend[11].Amount': Project.ExpectedCustomerSpend "
        "holds at most 10 items (numbered 1 to 10 in this sheet)"
    )
    message = error(
        cat,
        [
            "Identifier",
            "Project.ExpectedCustomerSpend[0].Amount",
            "Project.ExpectedCustomerSpend[10].Amount",
        ],
    )
    assert "numbered 0 to 9 in this sheet" in message


@pytest.mark.parametrize(
    "header",
    [
        "Customer.Contacts[-1].Email",
        "Customer.Contacts[x].Email",
        "Customer.Contacts[].Email",
        "Customer.Contacts[1.5].Email",
        "Customer.Contacts.Email",
        "Customer.Contacts[1].Nickname",
        "Customer.Contacts[1]",
        "Project.Title[1]",
        "PrimaryNeedsFromAws[-1]",
        "PrimaryNeedsFromAws[0].Value",
    ],
)
def test_bad_indexed_headers_are_unknown(cat: Catalog, header: str) -> None:
    assert error(cat, ["Identifier", header]).startswith(f"unknown column: {header!r}")


# ---------------------------------------------------------------- plain lists


def test_plain_list_as_one_cell(cat: Catalog) -> None:
    c = one(cat, "PrimaryNeedsFromAws")
    assert c.field is not None and c.field.kind == "list" and c.index is None


@pytest.mark.parametrize(
    ("headers", "indices"),
    [
        (["PrimaryNeedsFromAws[0]", "PrimaryNeedsFromAws[1]"], [0, 1]),
        (["PrimaryNeedsFromAws[1]", "PrimaryNeedsFromAws[2]"], [0, 1]),
        (["Marketing.Channels[2]", "Marketing.Channels[0]"], [2, 0]),
    ],
)
def test_plain_list_spread_over_indexed_columns(
    cat: Catalog, headers: list[str], indices: list[int]
) -> None:
    lay = layout(cat, *headers)
    assert [c.index for c in lay.columns[1:]] == indices
    assert {c.field.key for c in lay.columns[1:] if c.field} == {headers[0].split("[")[0]}
    assert all(c.role == "field" for c in lay.columns[1:])


def test_plain_list_whole_and_spread_is_an_error(cat: Catalog) -> None:
    message = error(cat, ["Identifier", "PrimaryNeedsFromAws", "PrimaryNeedsFromAws[1]"])
    assert message == (
        "columns 'PrimaryNeedsFromAws' and 'PrimaryNeedsFromAws[1]' both name "
        "PrimaryNeedsFromAws: use one column with values separated by ';' or indexed "
        "columns, not both"
    )


# ---------------------------------------------------------------- read-only and ignored


@pytest.mark.parametrize(
    ("header", "index"),
    [
        ("LifeCycle.ReviewStatus", None),
        ("LifeCycle.ReviewComments", None),
        ("LifeCycle.ReviewStatusReason", None),
        ("LifeCycle.NextStepsHistory[1].Time", 0),
        ("OpportunityTeam[2].Email", 1),
        ("Arn", None),
        ("CreatedDate", None),
    ],
)
def test_read_only_columns(cat: Catalog, header: str, index: int | None) -> None:
    c = one(cat, header)
    assert c.role == "read-only" and not c.writable
    assert c.field is not None and c.field.read_only
    assert c.index == index


@pytest.mark.parametrize(
    "header",
    ["ResponseMetadata.RequestId", "responsemetadata.HTTPHeaders.date", "ResponseMetadata"],
)
def test_response_metadata_ignored(cat: Catalog, header: str) -> None:
    c = one(cat, header)
    assert c.role == "ignored" and c.field is None and c.canonical == header


def test_response_metadata_lookalike_is_unknown(cat: Catalog) -> None:
    assert error(cat, ["Identifier", "ResponseMetadataX"]).startswith("unknown column")


def test_aws_sample_exporter_header_row(cat: Catalog) -> None:
    headers = [
        "Id",
        "Catalog",
        "Arn",
        "LifeCycle.Stage",
        "Customer.Contacts[0].Email",
        "PrimaryNeedsFromAws[0]",
        "PrimaryNeedsFromAws[1]",
        "RelatedEntityIdentifiers.Solutions[0]",
        "OpportunityTeam[0].Email",
        "LifeCycle.NextStepsHistory[0].Time",
        "CreatedDate",
        "ResponseMetadata.RequestId",
        "ResponseMetadata.HTTPHeaders.date",
    ]
    lay = resolve(headers, cat)
    got = [(c.position, c.role, c.field.key if c.field else None, c.index) for c in lay.columns]
    assert got == [
        (0, "identifier", None, None),
        (1, "catalog", None, None),
        (2, "read-only", "Arn", None),
        (3, "field", "LifeCycle.Stage", None),
        (4, "field", "Customer.Contacts[].Email", 0),
        (5, "field", "PrimaryNeedsFromAws", 0),
        (6, "field", "PrimaryNeedsFromAws", 1),
        (7, "call", "RelatedEntityIdentifiers.Solutions", 0),
        (8, "read-only", "OpportunityTeam[].Email", 0),
        (9, "read-only", "LifeCycle.NextStepsHistory[].Time", 0),
        (10, "read-only", "CreatedDate", None),
        (11, "ignored", None, None),
        (12, "ignored", None, None),
    ]
    assert lay.identifier.header == "Id"
    assert [c.canonical for c in lay.fields] == [
        "LifeCycle.Stage",
        "Customer.Contacts[1].Email",
        "PrimaryNeedsFromAws",
        "PrimaryNeedsFromAws",
    ]


# ---------------------------------------------------------------- unknown headers


def test_unknown_column_did_you_mean_exact_text(cat: Catalog) -> None:
    assert error(cat, ["Identifier", "Project.Titel"]) == (
        "unknown column: 'Project.Titel' (did you mean 'Project.Title'?). "
        "Fix the header row and run again; nothing was sent"
    )


def test_every_unknown_column_listed(cat: Catalog) -> None:
    message = error(
        cat,
        [
            "Identifier",
            "LifeCycle.Stage",
            "lifecycle.stag",
            "Customer.Contacts[0].Emial",
            "Custmer.Contacts.Email",
            "Zebra",
        ],
    )
    assert message == (
        "4 unknown columns: 'lifecycle.stag' (did you mean 'LifeCycle.Stage'?); "
        "'Customer.Contacts[0].Emial' (did you mean 'Customer.Contacts[0].Email'?); "
        "'Custmer.Contacts.Email' (did you mean 'Customer.Contacts[1].Email'?); "
        "'Zebra' (no known column is close). "
        "Fix the header row and run again; nothing was sent"
    )


def test_misspelt_identifier_is_suggested(cat: Catalog) -> None:
    message = error(cat, ["Identifer", "Project.Title"])
    assert "'Identifer' (did you mean 'Identifier'?)" in message


@pytest.mark.parametrize(
    ("header", "close"),
    [
        ("Project.ExpectedCustomerSpend[2].Amont", "Project.ExpectedCustomerSpend[2].Amount"),
        ("PrimaryNedsFromAws[1]", "PrimaryNeedsFromAws[1]"),
        ("PrimaryNedsFromAws", "PrimaryNeedsFromAws"),
        ("CreatedDat", "CreatedDate"),
        ("LifeCycle.ReviewStatu", "LifeCycle.ReviewStatus"),
        ("Customer.Contact[1].Email", "Customer.Contacts[1].Email"),
        ("qqqq", None),
    ],
)
def test_suggest(cat: Catalog, header: str, close: str | None) -> None:
    assert suggest(header, cat) == close


# ---------------------------------------------------------------- missing, repeated, empty


def test_no_identifier_column(cat: Catalog) -> None:
    assert error(cat, ["Project.Title", "LifeCycle.Stage"]) == NO_IDENTIFIER
    assert NO_IDENTIFIER == (
        "no Identifier column: the first row must hold the column names, one of them Identifier"
    )


def test_data_row_as_header_says_no_identifier(cat: Catalog) -> None:
    assert error(cat, ["O1234567", "12345", "xyzzy"]) == NO_IDENTIFIER


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        (["Identifier", "Project.Title", "project.title "], ("Project.Title", "project.title")),
        (["Id", "Identifier"], ("Id", "Identifier")),
        (
            ["Identifier", "Customer.Contacts[1].Email", "Customer.Contacts[01].Email"],
            ("Customer.Contacts[1].Email", "Customer.Contacts[01].Email"),
        ),
        (
            ["Identifier", "PrimaryNeedsFromAws[1]", "primaryneedsfromaws[1]"],
            ("PrimaryNeedsFromAws[1]", "primaryneedsfromaws[1]"),
        ),
        (["Identifier", "Catalog", "CATALOG"], ("Catalog", "CATALOG")),
    ],
)
def test_two_headers_for_one_column(
    cat: Catalog, headers: list[str], named: tuple[str, str]
) -> None:
    message = error(cat, headers)
    assert f"columns {named[0]!r} and {named[1]!r} both name" in message


def test_repeated_ignored_columns_are_fine(cat: Catalog) -> None:
    lay = layout(cat, "ResponseMetadata.RequestId", "responsemetadata.requestid")
    assert [c.role for c in lay.columns] == ["identifier", "ignored", "ignored"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_empty_header(cat: Catalog, blank: str) -> None:
    assert error(cat, ["Identifier", blank, "Project.Title"]) == (
        "column 2 has an empty header: give every column a name or delete it"
    )


# ---------------------------------------------------------------- known columns


def test_known_columns_shape(cat: Catalog) -> None:
    known = known_columns(cat)
    assert known[0] == "Identifier"
    assert len(known) == len(set(known))
    for i in (1, 2, 3):
        assert f"Customer.Contacts[{i}].Email" in known
        assert f"Project.ExpectedCustomerSpend[{i}].Amount" in known
    assert "Customer.Contacts[4].Email" not in known
    assert not any("[0]" in c for c in known)
    assert "PrimaryNeedsFromAws" in known and "LifeCycle.Stage" in known
    assert "LifeCycle.ReviewStatus" not in known and "CreatedDate" not in known
    assert known.index("Customer.Contacts[1].Phone") < known.index("Customer.Contacts[2].Email")


def test_known_columns_with_read_only(cat: Catalog) -> None:
    known = known_columns(cat, read_only=True, items=2)
    for name in (
        "LastModifiedDate",
        "Catalog",
        "LifeCycle.ReviewStatus",
        "OpportunityTeam[2].Email",
    ):
        assert name in known
    assert "Id" not in known and "Customer.Contacts[3].Email" not in known


def test_every_known_column_resolves_to_itself(cat: Catalog) -> None:
    known = known_columns(cat, read_only=True)
    lay = resolve(known, cat)
    assert [c.canonical for c in lay.columns] == known
    assert all(c.role != "ignored" for c in lay.columns)
    updatable = resolve(known_columns(cat), cat)
    assert all(c.role == "field" for c in updatable.columns[1:])


@pytest.mark.parametrize(
    "header",
    ["RelatedEntityIdentifiers.Solutions", "Assignee.Email", "Submit.InvolvementType"],
)
def test_call_columns(cat: Catalog, header: str) -> None:
    """The owner, related-entity and submission columns are the calls' (issue 16),
    not read-only: the sheet says the state it wants."""
    c = one(cat, header)
    assert c.role == "call" and not c.writable and c.field is not None
