"""The register of problem codes: every code a :class:`~bulk_update.problems.Problem` carries.

Codes are stable, kebab-case names that scripts and the results workbook's
Errors sheet rely on; the message beside them may change, the code does not.
Each code has one meaning and its usual severity.  The business rules'
codes are errors, but a warning on a row that leaves an already broken
field as it was (the live record broke the rule before the sheet did).

``tests/test_codes.py`` scans the package for every code it can emit and
checks that each is here, and that ``docs/problem-codes.md`` is this table
(``python -m bulk_update.codes > docs/problem-codes.md`` writes that page).

Codes of the service's own validation answers are passed through under the
``api-`` prefix (``api-`` + the service's code, lower-cased): they are the
service's, not ours, so only the prefix is registered.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bulk_update.problems import Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Code:
    """One registered problem code."""

    code: str
    severity: Severity
    meaning: str
    where: str
    """The step of the flow that finds it: sheet, decide, run, rollback."""


_TABLE: tuple[Code, ...] = (
    # -- the sheet's cells (offline: validate and apply alike) ----------------------
    Code("missing-identifier", E, "the row has no Identifier", "sheet"),
    Code("invalid-identifier", E, "the Identifier is not O followed by digits", "sheet"),
    Code("duplicate-identifier", E, "the same Identifier is on more than one row", "sheet"),
    Code("bad-timestamp", E, "LastModifiedDate is not a time as an export writes it", "sheet"),
    Code("wrong-catalog", E, "the row's Catalog column names another catalog than --catalog", "sheet"),
    Code("not-allowed", E, "the value is not one of the field's allowed values", "sheet"),
    Code("not-documented", W, "the value is not in the documented list (the API accepts it)", "sheet"),
    Code("pattern", E, "the value does not have the form the field requires", "sheet"),
    Code("length", E, "the value is shorter or longer than the field allows", "sheet"),
    Code("date-format", E, "a date not written as YYYY-MM-DD", "sheet"),
    Code("invalid-date", E, "a YYYY-MM-DD date that does not exist (2027-02-30)", "sheet"),
    Code("required-cleared", E, "#CLEAR on a field that cannot be emptied", "sheet"),
    Code("required", E, "a group filled in without one of its required fields (a contact, a spend item, the owner, the submission)", "sheet"),
    Code("too-many-items", E, "more list items than the field allows", "sheet"),
    Code("owner-cleared", E, "#CLEAR in an Assignee cell: an opportunity's owner cannot be emptied", "sheet"),
    Code("submit-cleared", E, "#CLEAR in a Submit cell: a submission is not a field that can be emptied", "sheet"),
    Code("too-many-entities", E, "more related entities of one kind than an opportunity takes (offline, and again against the live record)", "sheet"),
    Code("duplicate-entity", W, "a related entity written twice for one kind: asked once", "sheet"),
    Code("normalised", W, "the value was read in its canonical spelling (case, spaces)", "sheet"),
    Code("leading-zeros-lost", E, "the spreadsheet stored the value as a number and dropped its leading zeros", "sheet"),
    Code("plus-lost", E, "the spreadsheet stored a phone number as a number and dropped its '+'", "sheet"),
    Code("stored-as-number", W, "a text field stored as a number: leading zeros may be lost", "sheet"),
    Code("error-cell", E, "an Excel error value (#N/A, #REF!...) where a value should be", "sheet"),
    Code("formula-not-calculated", E, "a formula saved without its computed value", "sheet"),
    Code("control-character", E, "a NUL or other control character inside a cell", "sheet"),
    # -- the export's baseline ---------------------------------------------------
    Code("baseline-unusable", W, "the export's baseline cannot be used: rows compared two-way", "sheet"),
    Code("not-in-baseline", W, "the row is not in the export's baseline: every filled cell applies", "sheet"),
    # -- business rules (sheet/rules.py), checked on the sheet and on the merge ----
    Code("closed-lost-reason-required", E, "Stage Closed Lost without a ClosedLostReason", "sheet"),
    Code("closed-lost-reason-without-closed-lost", E, "a ClosedLostReason on a stage other than Closed Lost", "sheet"),
    Code("other-industry-required", E, "Industry Other without OtherIndustry", "sheet"),
    Code("other-industry-without-other", E, "OtherIndustry with an Industry other than Other", "sheet"),
    Code("national-security-not-government", E, "NationalSecurity Yes outside the Government industry", "sheet"),
    Code("website-required", E, "no WebsiteUrl although NationalSecurity is not Yes", "sheet"),
    Code("target-close-date-past", E, "a TargetCloseDate you set is in the past", "sheet"),
    Code("use-cases-without-funding", E, "UseCases filled although AwsFundingUsed is No", "sheet"),
    Code("other-competitors-without-other", E, "OtherCompetitorNames without CompetitorName *Other", "sheet"),
    # -- deciding a row against the live record ----------------------------------
    Code("locked", E, "the review status forbids changing this field now", "decide"),
    Code("changed-on-both-sides", E, "you and someone in Partner Central changed the same field since the export", "decide"),
    Code("enum-newer-service", W, "a value the installed enum lacks, in a field where the record already holds such values: sent, the service judges it", "decide"),
    Code("last-solution", E, "#CLEAR on the last solution: it can only be replaced, never removed", "decide"),
    Code("not-submittable", E, "asked to submit an opportunity whose review status cannot be submitted", "decide"),
    Code("unknown-member", E, "the record holds a field the installed botocore does not know: a write would erase it", "decide"),
    # -- the write and its read-back ----------------------------------------------
    Code("not-kept", W, "Partner Central answered the write but kept another value than sent", "run"),
    Code("not-verified", W, "the written record could not be read back and compared", "run"),
    Code("api-", E, "the service refused the value: api- + its own validation code, lower-cased", "run"),
    # -- rollback -------------------------------------------------------------------
    Code("changed-since-run", E, "changed in Partner Central after the run: not rolled back", "rollback"),
    Code("solution-kept", W, "the run gave the opportunity its first solution: the last one is never removed, so it stays", "rollback"),
)

REGISTER: dict[str, Code] = {c.code: c for c in _TABLE}
PREFIXES = tuple(c.code for c in _TABLE if c.code.endswith("-"))
"""Families of codes registered by their prefix (``api-``)."""


def lookup(code: str) -> Code | None:
    """The register's entry for an emitted code (a prefix family included)."""
    if code in REGISTER:
        return REGISTER[code]
    for prefix in PREFIXES:
        if code.startswith(prefix):
            return REGISTER[prefix]
    return None


def markdown() -> str:
    """docs/problem-codes.md: the register as a page."""
    lines = [
        "# Problem codes",
        "",
        "Every problem the tool reports (the Errors sheet of a results workbook, `--json`)",
        "carries one of these codes. Codes are stable; messages may be reworded.",
        "An error makes its row `invalid` (or ends it `conflict`, `locked`, `failed`);",
        "a warning never stops a row. A business rule's code is a warning instead of an",
        "error on a row that leaves an already broken field as the live record had it.",
        "",
        "Generated from `bulk_update/codes.py` by `python -m bulk_update.codes`; a test",
        "checks that this page and the register agree.",
        "",
        "| code | severity | found by | meaning |",
        "|---|---|---|---|",
    ]
    for c in _TABLE:
        shown = f"`{c.code}*`" if c.code.endswith("-") else f"`{c.code}`"
        lines.append(f"| {shown} | {c.severity.value} | {c.where} | {c.meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
