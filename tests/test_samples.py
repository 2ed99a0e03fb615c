"""The shipped sample sheets say what the README says they say."""

from __future__ import annotations

from pathlib import Path

from bulk_update.problems import Outcome
from bulk_update.run.validate import validate_file

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_the_cleanup_sheet_is_valid_in_both_formats(tmp_path: Path) -> None:
    for name in ("quarterly-cleanup.xlsx", "quarterly-cleanup.csv"):
        report = validate_file(SAMPLES / name, out=tmp_path / f"{name}.xlsx")
        assert {r.outcome for r in report.results} == {Outcome.VALID}, name


def test_lost_leading_zeros_are_caught_and_explained(tmp_path: Path) -> None:
    report = validate_file(SAMPLES / "lost-leading-zeros.xlsx", out=tmp_path / "r.xlsx")
    codes = {p.column: (p.code, p.severity.value) for p in report.problems}
    assert codes == {
        "Customer.Account.AwsAccountId": ("leading-zeros-lost", "error"),
        "Customer.Contacts[1].Phone": ("plus-lost", "error"),
        "Customer.Account.Duns": ("leading-zeros-lost", "error"),
        "Customer.Account.Address.PostalCode": ("stored-as-number", "warning"),
    }
    assert [r.outcome for r in report.results] == [Outcome.INVALID] * 3 + [Outcome.VALID]
    for p in report.problems:
        assert p.value is not None and p.value not in p.message, "sensitive digits stay out"
