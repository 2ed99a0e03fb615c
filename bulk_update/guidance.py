"""What a workbook tells its user about each column, for the templates and the export alike.

A field's meaning (the first sentence of its documentation) and an example
value; the cell validation that refuses in Excel what ``validate`` would
refuse (from the field's pattern and length, :func:`bulk_update.sheet.rules.cell_check`,
worded as ``validate`` words it); the colours of the cross-field rules; what
a header note says (:func:`rules`, :func:`comment_text`), with what the calls'
columns do (owner, related entities, submission: :func:`call_note`,
:func:`call_lines`); and the helpers that write a Guide sheet.
Everything comes from the field catalog (botocore's model) except the example
texts, which a test checks against each field's pattern and length.
"""

from __future__ import annotations

import html
import re
from typing import Any, Protocol

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bulk_update import calls as _calls
from bulk_update import fields as cat
from bulk_update.fields import Field
from bulk_update.sheet import rules as rulebook
from bulk_update.sheet.messages import pattern_message
from bulk_update.workbook import CLEAR_TEXT as CLEAR
from bulk_update.workbook import LAST_ROW, LINE_HEIGHT, column_letter, wrapped_lines

# Examples for text fields, by catalog key (member name as a fallback). A test
# checks each against its field's pattern and length, and that every field
# with a pattern has one.
EXAMPLES: dict[str, str] = {
    cat.IDENTIFIER: "O1234567",
    cat.LAST_MODIFIED: "2026-01-15T10:30:00Z",
    "PartnerOpportunityIdentifier": "CRM-000042",
    "Customer.Account.OtherIndustry": "Space tourism",
    "Customer.Account.CompanyName": "Example Corp",
    "Customer.Account.WebsiteUrl": "https://www.example.com",
    "Customer.Account.AwsAccountId": "012345678901",
    "Customer.Account.Address.City": "Cambridge",
    "Customer.Account.Address.PostalCode": "02139",
    "Customer.Account.Address.StreetAddress": "1 Main Street",
    "Customer.Account.Duns": "012345678",
    "Email": "jane.doe@example.com",
    "FirstName": "Jane",
    "LastName": "Doe",
    "BusinessTitle": "Head of IT",
    "Phone": "+14155550100",
    "Amount": "2500.00",
    "TargetCompany": "AWS",
    "EstimationUrl": "https://calculator.aws/#/estimate?id=0123456789abcdef0123456789abcdef",
    "Project.ExpectedContractDuration.Value": "12",
    "Project.Title": "Data lake migration",
    "Project.CustomerBusinessProblem": "Nightly reports take 9 hours; the customer needs them by 7 am.",
    "Project.RelatedOpportunityIdentifier": "O7654321",
    "Project.OtherCompetitorNames": "Acme Cloud",
    "Project.OtherSolutionDescription": "Managed data platform",
    "Project.AdditionalComments": "Budget approved for Q3",
    "Marketing.CampaignName": "CAMP-2026-Q1",
    "LifeCycle.NextSteps": "Follow up after the customer's budget review",
}
DATE_EXAMPLE = "2026-12-31"


def meaning(f: Field | None, header: str) -> str:
    """The first sentence of the field's documentation, in plain text."""
    if f is None:
        if header == cat.IDENTIFIER:
            return "The opportunity's id: O followed by digits. Required on every row."
        return (
            "The version of the record this row was edited from, as an export writes it. "
            "Leave it empty unless you copied it from an export."
        )
    blocks = re.sub(r"</?(?:p|li|ul|ol|br|div)\b[^>]*>", " ", f.doc)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())
    first = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0]
    return first or f.key


CALL_EXAMPLES: dict[str, str] = {
    "Assignee.Email": "priya.natarajan@partner.example.com",
    "Assignee.FirstName": "Priya",
    "Assignee.LastName": "Natarajan",
    "Assignee.BusinessTitle": "PartnerSalesManager",
    "RelatedEntityIdentifiers.Solutions": "S-9000001; S-9000002",
    "RelatedEntityIdentifiers.AwsProducts": "AmazonRedshift; AWSGlue",
}
"""Examples for the call columns (a test checks each against its field's pattern).  The
owner is one of the emulator's registered users, so the README's example runs there."""


def call_note(f: Field | None) -> str | None:
    """What a call column (owner, related entities, submission) does, in one sentence or
    two; None for the fields UpdateOpportunity takes."""
    if f is None or not _calls.is_call_column(f.key):
        return None
    if f.path[0] == _calls.ASSIGNEE:
        return (
            "The owner (AssignOpportunity). To reassign, write the new owner's Email, "
            "FirstName, LastName and BusinessTitle: a registered Partner Central user. "
            "Empty keeps the owner."
        )
    if f.path[0] == _calls.RELATED:
        last = (
            " The last solution cannot be removed, only replaced."
            if f.path[1] == _calls.REQUIRED_KIND
            else ""
        )
        return (
            "The cell is the whole set: new ones are associated first, then those "
            f"missing disassociated.{last} Empty keeps them."
        )
    return (
        f"Submits the opportunity to AWS (SubmitOpportunity) after the row's other calls, "
        f"from {_calls.SUBMITTABLE} only. A submission cannot be undone."
    )


def clearable(f: Field | None) -> bool:
    """Whether ``#CLEAR`` means something in the field's column: an optional field, or a
    related-entity set (the owner and a submission cannot be emptied)."""
    if f is None or f.required:
        return False
    return not _calls.is_call_column(f.key) or f.path[0] == _calls.RELATED


def example(f: Field | None, header: str) -> str:
    """A value that fits the column."""
    if f is None:
        return EXAMPLES[header]
    if f.kind == "date":
        return DATE_EXAMPLE
    if f.key in CALL_EXAMPLES:
        return CALL_EXAMPLES[f.key]
    member = f.path[-1]
    if f.key in EXAMPLES or member in EXAMPLES:
        return EXAMPLES.get(f.key, EXAMPLES.get(member, ""))
    if f.allowed:
        return "; ".join(f.allowed[:2]) if f.kind == "list" else f.allowed[0]
    return ""


class Described(Protocol):
    """A column a workbook describes: its header, its field (None for the frame), and
    whether ``#CLEAR`` means something in it (a template's column)."""

    @property
    def header(self) -> str: ...
    @property
    def field(self) -> Field | None: ...
    @property
    def clearable(self) -> bool: ...


def _shortened(values: tuple[str, ...], limit: int = 8) -> str:
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f", ... ({len(values)} values in the dropdown)"


def rules(column: Described) -> list[str]:
    """What a column means and accepts, one line each (no header, no example)."""
    f = column.field
    lines = [meaning(f, column.header)]
    if f is None:
        return lines
    if f.allowed:
        label = "Allowed" if f.enum else "Usual values"
        lines.append(f"{label}: {_shortened(f.allowed)}")
    if f.kind == "list":
        lines.append("Several values: separate them with ; (the cell replaces the whole list).")
    if f.kind == "date":
        lines.append(f"A date, e.g. {DATE_EXAMPLE}.")
    if f.max_length:
        lines.append(f"At most {f.max_length} characters.")
    note = call_note(f)
    if note is not None:
        lines.append(note)
    if f.record_list and f.required:
        lines.append("Needed on every item of this list that you fill in.")
    elif not column.clearable:
        lines.append(f"Cannot be emptied ({CLEAR} is refused).")
    else:
        lines.append(f"{CLEAR} empties it.")
    return lines


def comment_text(column: Described) -> str:
    """The header comment: the column's name, meaning, rules and an example."""
    lines = [column.header, *rules(column)]
    sample = example(column.field, column.header)
    if sample:
        lines.append(f"Example: {sample}")
    return "\n".join(lines)


def cell_validation(f: Field, clearable: bool, cell: str) -> dict[str, Any] | None:
    """A custom validation from the field's pattern and length (rules.cell_check), if any.

    The error box says what ``validate`` says of the same mistake.
    """
    check = rulebook.cell_check(f, clearable=clearable)
    if check is None:
        return None
    if f.pattern:
        title, said = "Not the form the API accepts", pattern_message(f, None)
    else:
        title = "Wrong length"
        said = f"this value must be {f.min_length:,} to {f.max_length:,} characters"
    message = said[0].upper() + said[1:] + (f". {CLEAR} empties the field." if clearable else ".")
    return {
        "validate": "custom",
        "value": "=" + check.at(cell),
        "error_title": title,
        "error_message": message[:255],
    }


NEEDS_FILL = {"bg_color": "#FFEB9C", "font_color": "#7F6000"}
"""A cell a rule now needs (yellow, as the AWS console marks required cells)."""
NEEDS_CLEAR = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
"""A value a rule refuses with the row's other cells (red)."""


def add_rule_formats(
    book: xlsxwriter.Workbook, ws: Worksheet, headers: list[str], last_row: int = LAST_ROW
) -> list[rulebook.Flag]:
    """Colour the cells the cross-field rules (rules.RULES) flag; return the flags written."""
    refs = {h: f"${column_letter(n)}2" for n, h in enumerate(headers)}
    # In column order: the rules may list a list's items in any order (one of
    # them sorts a set), and the workbook's bytes must not depend on it.
    flags = sorted(rulebook.row_flags(refs), key=lambda flag: headers.index(flag.header))
    formats = {"fill": book.add_format(NEEDS_FILL), "clear": book.add_format(NEEDS_CLEAR)}
    for flag in flags:
        col = headers.index(flag.header)
        ws.conditional_format(
            1,
            col,
            last_row,
            col,
            {"type": "formula", "criteria": "=" + flag.condition, "format": formats[flag.needs]},
        )
    return flags


# -- the Guide sheet (templates and export) ------------------------------------------

GUIDE_WIDTH = 90


def fit_row(ws: Worksheet, row: int, text: str, width: int) -> None:
    """Make a row tall enough for its wrapped text (LibreOffice does not grow it itself)."""
    lines = wrapped_lines(text, width)
    if lines > 1:
        ws.set_row(row, LINE_HEIGHT * lines)


def write_guide_lines(
    ws: Worksheet, row: int, lines: list[tuple[str, str]], heading: Format, label: Format
) -> int:
    """Write ("#", heading), ("", paragraph) or (label, text) lines after ``row``; the last row."""
    for left, right in lines:
        row += 1
        if left == "#":
            row += 1
            ws.write_string(row, 0, right, heading)
            ws.write_string(row, 1, "", heading)
            continue
        if left:
            ws.write_string(row, 0, left, label)
        ws.write_string(row, 1, right)
        fit_row(ws, row, right, GUIDE_WIDTH - 5)
    return row


def guide_formats(book: xlsxwriter.Workbook) -> dict[str, Format]:
    """The Guide's formats: ``title``, ``heading``, ``label``, ``wrap``."""
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "heading": book.add_format({"bold": True, "font_size": 12, "bg_color": "#DDEBF7"}),
        "label": book.add_format({"bold": True, "valign": "top", "num_format": "@"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }


def call_lines() -> list[tuple[str, str]]:
    """The Guide's lines on the owner, related-entity and submission columns."""
    involvement, *others = _calls.submit_fields()
    also = " and ".join(f.key for f in others)
    return [
        ("#", "Owner, solutions and products, submission"),
        (
            f"{_calls.ASSIGNEE}.*",
            "The owner: the first member of OpportunityTeam. To reassign, write the new "
            "owner's Email, FirstName, LastName and BusinessTitle (a registered Partner "
            "Central user): the tool sends one AssignOpportunity.",
        ),
        (
            f"{_calls.RELATED}.*",
            "Solutions, AWS products, Marketplace offers...: each cell is the whole set, "
            "separated by ;. New ones are associated first, then the missing ones "
            f"disassociated; {CLEAR} removes them all. The last solution cannot be removed, "
            "only replaced.",
        ),
        (
            f"{_calls.SUBMIT_PREFIX}.*",
            "An export has no Submit columns: a submission is an action, not a state of the "
            f"record. To submit rows, add a column {involvement.key} "
            f"({' or '.join(involvement.allowed)}; {also} optional) and fill it on those "
            f"rows, or use the submit template. Only an opportunity in {_calls.SUBMITTABLE} "
            "can be submitted, after the row's other changes; a submission cannot be undone.",
        ),
    ]
