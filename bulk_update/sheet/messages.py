"""The plain-words text of every problem the checks report.

Messages name the field and, unless it is sensitive, quote the value; they say
what is wrong and how to write it instead ("did you mean", allowed values,
formats).  :func:`number_problem` words what a number cell in a text column
means (a lost ``+`` or lost leading zeros).
"""

from __future__ import annotations

import difflib
import re

from bulk_update.fields import Field
from bulk_update.problems import Severity

_FIXED_DIGITS = re.compile(r"\[0-9\]\{(\d+)\}|\\d\{(\d+)\}")


def canon_key(text: str) -> str:
    """A value with case and spacing ignored: how allowed values are matched."""
    return " ".join(text.split()).casefold()


_PATTERN_HINTS = {
    "Email": "is not an email address the API accepts: lower-case letters, one @ and a domain (name@example.com)",
    "Phone": "is not a phone number the API accepts: + then the country code and number, digits only (+15551234567)",
    "Amount": "is not an amount: digits with at most 2 decimals after a dot, no currency sign or thousands separator (1234.50)",
    "Duns": "must be 9 digits",
    "AwsAccountId": "must be a 12-digit AWS account id",
    "EstimationUrl": "must be an AWS Pricing Calculator estimate link (https://calculator.aws/#/estimate?id=...)",
    "RelatedOpportunityIdentifier": "must be an opportunity id: O followed by digits (O1234567890)",
}


def _label(f: Field) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", f.path[-1]).lower()
    return ("an " if words[0] in "aeiou" else "a ") + words


def and_list(numbers: list[int]) -> str:
    """2, 5 and 9."""
    text = [str(n) for n in numbers]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _listing(values: tuple[str, ...]) -> str:
    if len(values) <= 8:
        return ", ".join(values)
    return ", ".join(values[:5]) + f"... ({len(values)} values; see the template's lists)"


_STATE_CODE = re.compile(r"[A-Za-z]{2}")


def did_you_mean(value: str, allowed: tuple[str, ...]) -> str | None:
    """The allowed value closest to ``value`` (case and spacing ignored), if one is close."""
    key = canon_key(value)
    if len(key) < 3:
        return None  # 'WA' is as close to 'Iowa' as to nothing: no guess for a code
    keys = {canon_key(a): a for a in allowed}
    close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.6)
    return keys[close[0]] if close else None


def allowed_message(f: Field, bad: list[str], *, documented: bool = False) -> str:
    """Why values are not allowed, with a "did you mean" or the allowed values."""
    allowed = f.allowed
    parts = []
    for value in bad:
        shown = "this value" if f.sensitive else f"'{value}'"
        if documented:
            text = f"{shown} is not in the list the API documents for {f.key} (it may still be accepted)."
        elif f.kind == "enum":
            text = f"{shown} is not {_label(f)}."
        else:
            text = f"{shown} is not an allowed value for {f.key}."
        guess = did_you_mean(value, allowed)
        if (
            documented
            and guess is None
            and f.key.endswith("StateOrRegion")
            and _STATE_CODE.fullmatch(value)
        ):
            parts.append(
                f"{text} It looks like a two-letter state code: the documented list spells "
                "each state out in full (for example 'California', not 'CA')."
            )
            continue
        parts.append(
            f"{text} Did you mean '{guess}'?" if guess else f"{text} Allowed: {_listing(allowed)}."
        )
    return " ".join(parts)


def date_message(value: str) -> str:
    return f"cannot read '{value}' as a date: write dates as YYYY-MM-DD (2026-12-31) or use a date cell"


def pattern_message(f: Field, value: str | None) -> str:
    shown = "this value" if value is None else f"'{value}'"
    hint = _PATTERN_HINTS.get(f.path[-1], f"does not have the form the API expects ({f.pattern})")
    return f"{shown} {hint}"


def length_message(f: Field, value: str) -> str:
    lo, hi, n = f.min_length or 0, f.max_length, len(value)
    if hi is None:
        return f"must be at least {lo:,} characters (this has {n:,})"
    if lo <= 1:
        return f"must be at most {hi:,} characters (this has {n:,})"
    return f"must be {lo:,} to {hi:,} characters (this has {n:,})"


def number_problem(f: Field, digits: str) -> tuple[str, str, Severity] | None:
    """What a number cell in a text column means for this field, if anything."""
    name = f.path[-1]
    pat = re.compile(f.pattern) if f.pattern else None
    fits = pat is None or pat.fullmatch(digits) is not None
    if pat is not None and not fits and pat.fullmatch("+" + digits):
        typed = "it with its '+' (+15551234567)" if f.sensitive else f"+{digits}"
        shown = "this value" if f.sensitive else digits
        return ("plus-lost", f"the spreadsheet stored {shown} as a number and dropped the '+': "
                f"format the column as Text and type {typed}", Severity.ERROR)  # fmt: skip
    m = _FIXED_DIGITS.search(f.pattern or "")
    width = int(m.group(1) or m.group(2)) if m else 0
    if (
        pat is not None
        and digits.isdigit()
        and len(digits) < width
        and pat.fullmatch(digits.zfill(width))
    ):
        typed = (
            f"all {width} digits, leading zeros included" if f.sensitive else digits.zfill(width)
        )
        shown = "this value" if f.sensitive else digits
        return ("leading-zeros-lost", f"the spreadsheet stored {shown} as a number and dropped its "
                f"leading zero(s); {name} needs {width} digits: format the column as Text and type "
                f"{typed}", Severity.ERROR)  # fmt: skip
    if not fits or (pat is not None and not pat.fullmatch("0" + digits)):
        return None  # the pattern check speaks, or leading zeros cannot occur (amounts)
    return ("stored-as-number", "stored as a number: if it had leading zeros they were lost; "
            "format the column as Text", Severity.WARNING)  # fmt: skip


def cell_error_message(cell: str, error: str) -> str:
    return (
        f"cell {cell} holds the Excel error {error}, not a value: fix the formula it comes "
        "from, or type the value (leave the cell empty to keep the field as it is)"
    )


def uncalculated_message(cell: str) -> str:
    return (
        f"cell {cell} holds a formula that was never calculated (the program that saved the "
        "file does not compute formulas), so its value is unknown: open the file in Excel "
        "and save it again, or type the value"
    )


def control_message(cell: str, code: int) -> str:
    name = "a NUL byte" if code == 0 else f"the control character U+{code:04X}"
    return (
        f"cell {cell} holds {name}, which no field accepts (often left by a copy from "
        "another program): retype the cell's text"
    )
