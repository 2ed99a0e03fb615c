"""Per-column checks, normalisation and the cross-field rules, on small sheets built in place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from bulk_update import fields as catalog
from bulk_update.payload import CLEAR, parse_column
from bulk_update.problems import Severity
from bulk_update.sheet import rules
from bulk_update.sheet.checks import CheckReport, check_sheet
from bulk_update.sheet.columns import Column, Layout
from bulk_update.sheet.read import NUMBER, TEXT, Sheet

CAT = catalog.load()
TODAY = dt.date(2026, 5, 1)


def layout(headers: list[str]) -> Layout:
    """A Layout for contract-spelt headers (``Name[0]`` marks a spread plain list item)."""
    cols = []
    for i, h in enumerate(headers):
        if h == "Identifier":
            cols.append(Column(i, h, "identifier"))
        elif h == "LastModifiedDate":
            cols.append(Column(i, h, "last-modified"))
        elif h == "Catalog":
            cols.append(Column(i, h, "catalog"))
        elif h.endswith("]"):
            name, index = h[:-1].split("[")
            cols.append(Column(i, h, "field", CAT.by_key[name], int(index)))
        else:
            found = parse_column(h, CAT)
            assert found is not None, h
            f, index = found
            cols.append(Column(i, h, "read-only" if f.read_only else "field", f, index))
    return Layout(tuple(cols))


def check(
    rows: list[dict[str, str]],
    numbers: set[tuple[int, str]] = frozenset(),  # type: ignore[assignment]
    run_catalog: str | None = "AWS",
) -> CheckReport:
    headers = list(dict.fromkeys(["Identifier", *(h for r in rows for h in r)]))
    data = [
        [r.get(h, "" if h != "Identifier" or h in r else f"O{i + 1}") for h in headers]
        for i, r in enumerate(rows)
    ]
    cells = pd.DataFrame(data, columns=range(len(headers)), dtype=object)
    kinds = pd.DataFrame(
        [
            [
                NUMBER if (i, h) in numbers else (TEXT if v else "")
                for h, v in zip(headers, row, strict=True)
            ]
            for i, row in enumerate(data)
        ],
        columns=range(len(headers)),
    )
    sheet = Sheet(Path("t.csv"), None, headers, cells, kinds, list(range(2, len(rows) + 2)))
    return check_sheet(sheet, layout(headers), CAT, run_catalog=run_catalog, today=TODAY)


def one(report: CheckReport, severity: Severity = Severity.ERROR) -> tuple[str, str, str]:
    found = [p for p in report.problems if p.severity is severity]
    assert len(found) == 1, found
    return found[0].column or "", found[0].code, found[0].message


def codes(report: CheckReport) -> list[str]:
    return [p.code for p in report.problems if p.is_error]


# --- normalisation ----------------------------------------------------------------


def test_valid_row_becomes_edits_with_canonical_spelling_and_a_note() -> None:
    r = check([{"Identifier": " O12 ", "LifeCycle.Stage": " closed   LOST ",
                "LifeCycle.ClosedLostReason": "customer deficiency",
                "Marketing.Channels": "email; ;display", "Project.Title": "  T  ",
                "LifeCycle.NextSteps": "#clear",
                "LastModifiedDate": "2026-05-01T20:37:46.123Z"}])  # fmt: skip
    assert r.ok and r.invalid_rows == set()
    edit = r.edits[0]
    assert edit is not None and edit.identifier == "O12" and edit.row == 2
    assert edit.last_modified == dt.datetime(2026, 5, 1, 20, 37, 46, 123000, tzinfo=dt.UTC)
    assert edit.edits == {
        ("LifeCycle", "Stage"): "Closed Lost",
        ("LifeCycle", "ClosedLostReason"): "Customer Deficiency",
        ("Marketing", "Channels"): ("Email", "Display"),
        ("Project", "Title"): "T",
        ("LifeCycle", "NextSteps"): CLEAR,
    }
    assert edit.columns[("LifeCycle", "Stage")] == "LifeCycle.Stage"
    assert "LifeCycle.Stage: 'closed   LOST' written as 'Closed Lost'" in r.normalised[0]
    assert {p.code for p in r.problems} == {"normalised"}


def test_sensitive_value_is_not_in_the_note() -> None:
    r = check([{"Customer.Account.Address.CountryCode": "us"}])
    assert r.normalised[0] == [
        "Customer.Account.Address.CountryCode: written in its canonical spelling"
    ]
    assert r.edits[0] is not None
    assert r.edits[0].edits == {("Customer", "Account", "Address", "CountryCode"): "US"}


def test_dates_from_timestamps_and_date_cells() -> None:
    r = check([{"LifeCycle.TargetCloseDate": "2026-12-31T10:00:00Z"},
               {"LifeCycle.TargetCloseDate": "2026-12-31 00:00:00"}])  # fmt: skip
    assert r.ok
    assert all(
        e is not None and e.edits[("LifeCycle", "TargetCloseDate")] == "2026-12-31" for e in r.edits
    )


@pytest.mark.parametrize("text", ["03/04/2026", "4.3.2026", "next week"])
def test_ambiguous_date_is_invalid(text: str) -> None:
    assert one(check([{"LifeCycle.TargetCloseDate": text}])) == (
        "LifeCycle.TargetCloseDate",
        "date-format",
        f"cannot read '{text}' as a date: write dates as YYYY-MM-DD (2026-12-31) or use a date cell",
    )


def test_impossible_calendar_date_is_invalid() -> None:
    assert one(check([{"LifeCycle.TargetCloseDate": "2026-02-30"}]))[1] == "invalid-date"


def test_spread_plain_list_is_one_list() -> None:
    r = check([{"PrimaryNeedsFromAws[0]": "co-sell - pricing assistance",
                "PrimaryNeedsFromAws[1]": "Co-Sell - Business Presentation"}])  # fmt: skip
    assert r.edits[0] is not None
    assert r.edits[0].edits == {
        ("PrimaryNeedsFromAws",): (
            "Co-Sell - Pricing Assistance",
            "Co-Sell - Business Presentation",
        )
    }


# --- per-column checks ------------------------------------------------------------


def test_enum_with_did_you_mean() -> None:
    assert one(check([{"LifeCycle.Stage": "Closd Lost"}])) == (
        "LifeCycle.Stage", "not-allowed", "'Closd Lost' is not a stage. Did you mean 'Closed Lost'?"
    )  # fmt: skip


def test_enum_without_a_close_value_lists_the_allowed_values_shortened() -> None:
    _, code, message = one(check([{"Customer.Account.Industry": "Zzzzzz"}]))
    assert code == "not-allowed"
    assert message.startswith("'Zzzzzz' is not an industry. Allowed: Aerospace, Agriculture,")
    assert message.endswith("... (28 values; see the template's lists).")


def test_list_item_not_allowed() -> None:
    assert one(check([{"Marketing.Channels": "Email;Emial"}]))[2] == (
        "'Emial' is not an allowed value for Marketing.Channels. Did you mean 'Email'?"
    )


def test_documented_only_values_are_warnings() -> None:
    r = check([{"Customer.Account.Address.StateOrRegion": "Califrnia"}])
    assert r.ok and r.edits[0] is not None
    assert one(r, Severity.WARNING)[1] == "not-documented"
    assert "Did you mean 'California'?" in one(r, Severity.WARNING)[2]
    # a sensitive field: the message does not repeat the value
    assert "Califrnia" not in one(r, Severity.WARNING)[2]
    assert check([{"Marketing.UseCases": "AI/ML;Analytics"}]).problems == []


def test_pattern_and_sensitive_value_kept_out_of_message() -> None:
    r = check([{"Customer.Contacts[1].Email": "Bob@Example"}])
    column, code, message = one(r)
    assert (column, code) == ("Customer.Contacts[1].Email", "pattern")
    assert "Bob" not in message and r.problems[0].value == "Bob@Example"
    assert check([{"Customer.Contacts[1].Email": "bob@example.com"}]).ok


def test_length_message() -> None:
    assert one(check([{"Project.CustomerBusinessProblem": "too short!!!"}]))[1:] == (
        "length", "must be 20 to 2,000 characters (this has 12)"
    )  # fmt: skip
    assert check([{"Project.CustomerBusinessProblem": "x" * 20}]).ok
    assert (
        one(check([{"Project.Title": "t" * 256}]))[2]
        == "must be at most 255 characters (this has 256)"
    )


def test_required_field_cannot_be_cleared_unless_its_whole_structure_is() -> None:
    assert one(check([{"Customer.Account.CompanyName": "#CLEAR"}]))[1] == "required-cleared"
    whole = {
        "Project.ExpectedContractDuration.Term": "#clear",
        "Project.ExpectedContractDuration.Value": "#CLEAR",
    }
    assert check([whole]).ok
    item = {f"Project.ExpectedCustomerSpend[2].{m}": "#CLEAR"
            for m in ("Amount", "CurrencyCode", "Frequency", "TargetCompany", "EstimationUrl")}  # fmt: skip
    assert check([item]).ok
    del item["Project.ExpectedCustomerSpend[2].Amount"]
    assert codes(check([item])) == ["required-cleared"] * 3
    part = {
        "Project.ExpectedContractDuration.Term": "#clear",
        "Project.ExpectedContractDuration.Value": "12",
    }
    assert codes(check([part])) == ["required-cleared"]


def test_identifier_pattern_missing_and_duplicates() -> None:
    r = check(
        [{"Identifier": "O1"}, {"Identifier": "X1"}, {"Identifier": ""}, {"Identifier": "O1"}]
    )
    assert [(p.row, p.code) for p in r.problems] == [
        (2, "duplicate-identifier"), (3, "invalid-identifier"), (4, "missing-identifier"),
        (5, "duplicate-identifier"),
    ]  # fmt: skip
    assert r.problems[0].message == "O1 appears on rows 2 and 5: give each opportunity one row only"
    assert r.edits == [None, None, None, None] and r.invalid_rows == {2, 3, 4, 5}
    assert check([{"Identifier": "O1"}, {"Identifier": "O2"}]).ok


def test_last_modified_needs_a_zone() -> None:
    assert one(check([{"LastModifiedDate": "2026-05-01T20:37:46"}]))[1] == "bad-timestamp"
    assert check([{"LastModifiedDate": "2026-05-01T22:37:46+02:00"}]).ok


def test_catalog_column_must_match_the_run() -> None:
    assert one(check([{"Catalog": "Sandbox"}]))[1] == "wrong-catalog"
    assert check([{"Catalog": "sandbox"}], run_catalog="Sandbox").ok
    assert check([{"Catalog": "Sandbox"}], run_catalog=None).ok
    assert one(check([{"Catalog": "Prod"}]))[1] == "not-allowed"


def test_read_only_columns_are_ignored() -> None:
    r = check([{"LifeCycle.ReviewStatus": "Nonsense", "Arn": "x"}])
    assert r.ok and r.edits[0] is not None and r.edits[0].edits == {}


def test_several_bad_cells_give_several_problems() -> None:
    r = check(
        [
            {
                "LifeCycle.Stage": "Nope",
                "Marketing.Source": "Radio",
                "LifeCycle.TargetCloseDate": "tomorrow",
            }
        ]
    )
    assert codes(r) == ["not-allowed", "not-allowed", "date-format"]
    assert r.edits == [None]


# --- number cells -------------------------------------------------------------------


def test_account_id_that_lost_its_leading_zero() -> None:
    r = check(
        [{"Customer.Account.AwsAccountId": "12345678901"}],
        numbers={(0, "Customer.Account.AwsAccountId")},
    )
    assert one(r)[1:] == (
        "leading-zeros-lost",
        "the spreadsheet stored this value as a number and dropped its leading zero(s); "
        "AwsAccountId needs 12 digits: format the column as Text and type all 12 digits, "
        "leading zeros included",
    )
    assert check([{"Customer.Account.AwsAccountId": "12345678901"}]).ok  # typed as text


def test_duns_and_phone_as_numbers() -> None:
    duns = check([{"Customer.Account.Duns": "1234567"}], numbers={(0, "Customer.Account.Duns")})
    assert one(duns)[1] == "leading-zeros-lost"
    phone = check(
        [{"Customer.Contacts[1].Phone": "15551234567"}], numbers={(0, "Customer.Contacts[1].Phone")}
    )
    assert one(phone)[1] == "plus-lost" and "dropped the '+'" in one(phone)[2]


def test_postal_code_as_number_is_a_warning() -> None:
    r = check(
        [{"Customer.Account.Address.PostalCode": "2139"}],
        numbers={(0, "Customer.Account.Address.PostalCode")},
    )
    assert r.ok and one(r, Severity.WARNING) == (
        "Customer.Account.Address.PostalCode", "stored-as-number",
        "stored as a number: if it had leading zeros they were lost; format the column as Text",
    )  # fmt: skip
    amount = check(
        [{"SoftwareRevenue.Value.Amount": "1200"}], numbers={(0, "SoftwareRevenue.Value.Amount")}
    )
    assert amount.problems == []  # an amount never has leading zeros


# --- cross-field rules on the row -----------------------------------------------------


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ({"LifeCycle.Stage": "Prospect", "LifeCycle.ClosedLostReason": "Customer Deficiency"},
         "closed-lost-reason-without-closed-lost"),
        ({"LifeCycle.Stage": "Closed Lost", "LifeCycle.ClosedLostReason": "#CLEAR"}, "closed-lost-reason-required"),
        ({"Customer.Account.Industry": "Retail", "Customer.Account.OtherIndustry": "Space"},
         "other-industry-without-other"),
        ({"Customer.Account.Industry": "Other", "Customer.Account.OtherIndustry": "#CLEAR"}, "other-industry-required"),
        ({"NationalSecurity": "Yes", "Customer.Account.Industry": "Retail"}, "national-security-not-government"),
        ({"NationalSecurity": "No", "Customer.Account.WebsiteUrl": "#CLEAR"}, "website-required"),
        ({"LifeCycle.TargetCloseDate": "2026-04-30"}, "target-close-date-past"),
        ({"Marketing.AwsFundingUsed": "No", "Marketing.UseCases": "AI/ML"}, "use-cases-without-funding"),
        ({"Project.CompetitorName": "Akamai", "Project.OtherCompetitorNames": "Acme"},
         "other-competitors-without-other"),
        ({"Project.ExpectedCustomerSpend[1].Amount": "10", "Project.ExpectedCustomerSpend[1].CurrencyCode": "#CLEAR"},
         "required-cleared"),
    ],
)  # fmt: skip
def test_rule_breaks(row: dict[str, str], code: str) -> None:
    assert code in codes(check([row]))


@pytest.mark.parametrize(
    "row",
    [
        {"LifeCycle.Stage": "Closed Lost", "LifeCycle.ClosedLostReason": "Customer Deficiency"},
        {"LifeCycle.ClosedLostReason": "Customer Deficiency"},  # the live stage decides: planner
        {"Customer.Account.Industry": "Other", "Customer.Account.OtherIndustry": "Space"},
        {"NationalSecurity": "Yes", "Customer.Account.Industry": "Government", "Customer.Account.WebsiteUrl": "#CLEAR"},
        {"LifeCycle.TargetCloseDate": "2026-05-01"},
        {"Marketing.AwsFundingUsed": "Yes", "Marketing.UseCases": "AI/ML"},
        {"Marketing.AwsFundingUsed": "No", "Marketing.UseCases": "#CLEAR"},
        {"Project.CompetitorName": "*Other", "Project.OtherCompetitorNames": "Acme"},
    ],
)  # fmt: skip
def test_rule_holds(row: dict[str, str]) -> None:
    assert check([row]).ok


def test_rule_problem_message_and_column() -> None:
    r = check(
        [{"LifeCycle.Stage": "Prospect", "LifeCycle.ClosedLostReason": "Customer Deficiency"}]
    )
    assert one(r) == (
        "LifeCycle.ClosedLostReason",
        "closed-lost-reason-without-closed-lost",
        "a ClosedLostReason goes only with Stage 'Closed Lost': clear the reason or set the stage to Closed Lost",
    )


def test_rules_skip_cells_that_already_failed() -> None:
    r = check([{"LifeCycle.Stage": "Prospct", "LifeCycle.ClosedLostReason": "Customer Deficiency"}])
    assert codes(r) == ["not-allowed"]


# --- business_problems on a merged record ------------------------------------------------


def test_merged_record_rules_treat_absent_as_empty() -> None:
    found = rules.business_problems(
        {"LifeCycle": {"Stage": "Closed Lost"}, "Customer": {"Account": {"Industry": "Retail"}}},
        today=TODAY,
    )
    assert {(k, c) for k, c, _ in found} == {
        ("LifeCycle.ClosedLostReason", "closed-lost-reason-required"),
        ("Customer.Account.WebsiteUrl", "website-required"),
        ("Customer.Account.CompanyName", "required"),
    }


def test_old_target_close_date_only_blocks_when_changed() -> None:
    record = {"LifeCycle": {"Stage": "Launched", "TargetCloseDate": "2020-01-01"}}
    assert rules.business_problems(record, today=TODAY, changed={"LifeCycle.Stage"}) == []
    found = rules.business_problems(record, today=TODAY, changed={"LifeCycle.TargetCloseDate"})
    assert [c for _, c, _ in found] == ["target-close-date-past"]


def test_spend_items_required_members_and_count_come_from_the_catalog() -> None:
    item = {"CurrencyCode": "USD", "Frequency": "Monthly", "TargetCompany": "AWS", "Amount": "1"}
    ok = {"Project": {"ExpectedCustomerSpend": [item] * 10}}
    assert rules.business_problems(ok, today=TODAY) == []
    found = rules.business_problems(
        {"Project": {"ExpectedCustomerSpend": [item] * 11}}, today=TODAY
    )
    assert [(k, c) for k, c, _ in found] == [
        ("Project.ExpectedCustomerSpend[11]", "too-many-items")
    ]
    found = rules.business_problems(
        {"Project": {"ExpectedCustomerSpend": [item, {"Amount": "2"}]}}, today=TODAY
    )
    assert sorted(k for k, _, _ in found) == [
        "Project.ExpectedCustomerSpend[2].CurrencyCode",
        "Project.ExpectedCustomerSpend[2].Frequency",
        "Project.ExpectedCustomerSpend[2].TargetCompany",
    ]
    found = rules.business_problems({"SoftwareRevenue": {"Value": {"Amount": "5"}}}, today=TODAY)
    assert [k for k, _, _ in found] == ["SoftwareRevenue.Value.CurrencyCode"]


def test_business_problem_length_on_merged_record() -> None:
    found = rules.business_problems({"Project": {"CustomerBusinessProblem": "short"}}, today=TODAY)
    assert found == [
        ("Project.CustomerBusinessProblem", "length", "must be 20 to 2,000 characters (this has 5)")
    ]


def test_an_empty_cell_is_no_edit_even_beside_filled_cells_of_its_column() -> None:
    report = check(
        [
            {"LifeCycle.NextSteps": "Call", "LifeCycle.ClosedLostReason": ""},
            {"LifeCycle.NextSteps": "", "LifeCycle.ClosedLostReason": "No Opportunity"},
        ]
    )
    first, second = report.edits
    assert first is not None and second is not None
    assert first.edits == {("LifeCycle", "NextSteps"): "Call"}
    assert second.edits == {("LifeCycle", "ClosedLostReason"): "No Opportunity"}
