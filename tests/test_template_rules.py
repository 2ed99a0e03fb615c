"""The rules a template carries, read back with openpyxl and run on good and bad values.

Three promises of issue 15:

- each cell formula (rules.cell_check, from the model's pattern and length) refuses
  what the model's pattern refuses where it says it is exact, and never refuses a
  value the pattern accepts where it only approximates;
- each conditional format (rules.RULES) colours a cell exactly when ``validate``
  reports that rule on that cell, or, for a cell it asks to fill, when the cell
  is empty and the rule needs it;
- the common mistakes typed into each shipped template are caught in the sheet
  and named by ``validate`` on the same column.

Formulas run in ``excel_formula``, a tiny evaluator of the functions they use.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from excel_formula import Formula, serial
from openpyxl.worksheet.worksheet import Worksheet

from bulk_update import fields as cat
from bulk_update import template as tpl
from bulk_update.payload import CLEAR
from bulk_update.run.apply import ApplySettings, apply_file
from bulk_update.run.validate import validate_file
from bulk_update.sheet import rules
from bulk_update.template import CLEAR as CLEAR_TEXT
from bulk_update.template import TASKS

CATALOG = cat.load()
TODAY = date(2026, 11, 26)
CHECKED = [f for f in CATALOG.fields if rules.cell_check(f, clearable=not f.required) is not None]


def _mutations(good: str) -> list[str]:
    """Near misses of a good value: what slips in when typing it."""
    out = {
        good[1:],
        good[:-1],
        good + "0",
        good + "x",
        " " + good,
        good.upper(),
        "x" + good,
        good.replace(".", ","),
        "$" + good,
        good.replace("@", " at "),
        good.replace("https://", "http://"),
        good.lstrip("+"),
        good[:1] + "0" + good[1:],
        good * 2,
        good[:2],
        good * 300,
        "",
    }
    out |= {good[:i] + good[i + 1 :] for i in range(len(good))}
    out |= {good[:i] + c + good[i:] for i in range(0, len(good) + 1, 3) for c in "0a.-"}
    return sorted(v for v in out if v != CLEAR_TEXT)


def _model_accepts(f: cat.Field, value: str) -> bool:
    fits = f.pattern is None or re.fullmatch(f.pattern, value) is not None
    lo, hi = f.min_length or 0, f.max_length or 10**9
    return fits and lo <= len(value) <= hi


def _good(f: cat.Field) -> str:
    return tpl.example(f, f.key) or "x" * max(f.min_length or 1, 1)


@pytest.mark.parametrize("f", CHECKED, ids=lambda f: f.key)
def test_cell_formula_matches_the_model_pattern(f: cat.Field) -> None:
    check = rules.cell_check(f, clearable=not f.required)
    assert check is not None
    formula = Formula(check.at("A2"))
    holds = lambda v: formula.holds({"A2": v})  # noqa: E731
    good = _good(f)
    assert _model_accepts(f, good) and holds(good), good
    refused = 0
    for value in _mutations(good):
        if value == "":
            continue  # an empty cell is never validated (ignore_blank)
        accepted = _model_accepts(f, value)
        if accepted:
            assert holds(value), (value, "the sheet refuses what the API accepts")
        elif check.exact:
            assert not holds(value), (value, "an exact formula lets a bad value in")
        refused += not holds(value)
    assert refused, "the formula refuses none of the near misses"
    assert holds(CLEAR_TEXT) is (not f.required)
    assert len("=" + check.at("ZZZ2")) <= rules.FORMULA_LIMIT


COMMON = {
    "Customer.Contacts[].Email": "jane.doe.example.com",
    "Customer.Contacts[].Phone": "14155550100",
    "Project.ExpectedCustomerSpend[].Amount": "$2500",
    "SoftwareRevenue.Value.Amount": "2,500.00",
    "Project.ExpectedCustomerSpend[].EstimationUrl": "http://calculator.aws/#/estimate?id="
    + "0" * 32,
    "Customer.Account.Duns": "12345678",
}
"""The cell mistakes the issue names that the model's patterns decide."""


@pytest.mark.parametrize("key", list(COMMON))
def test_common_cell_mistakes_are_refused_by_formula_and_model(key: str) -> None:
    f = CATALOG.get(key)
    assert f is not None
    check = rules.cell_check(f, clearable=True)
    assert check is not None
    assert not Formula(check.at("B2")).holds({"B2": COMMON[key]})
    assert not _model_accepts(f, COMMON[key])


# -- conditional formats against business_problems ---------------------------------

# The values each rule column takes in the combinations below: blank (None), #CLEAR,
# the value a rule names, and another value. Dates: past, today, future.
_PICKS: dict[str, list[Any]] = {
    rules.STAGE: [None, "Closed Lost", "closed lost", "Qualified"],
    rules.INDUSTRY: [None, CLEAR_TEXT, "Other", "Government", "Retail"],
    rules.NATIONAL_SECURITY: [None, "Yes", "No"],
    rules.FUNDING: [None, "No", "Yes"],
    rules.COMPETITOR: [None, CLEAR_TEXT, "*Other", "Oracle Cloud"],
    rules.TARGET_CLOSE: [None, TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=30)],
}
_ANY_TEXT = [None, CLEAR_TEXT, "some text"]


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    """The partial payload validate builds from a row (blank: absent; #CLEAR: CLEAR)."""
    out: dict[str, Any] = {}
    for header, value in row.items():
        if value is None:
            continue
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", header)
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part.startswith("["):
                continue
            nxt = parts[i + 1] if not last else None
            if last:
                node[part] = (
                    CLEAR
                    if value == CLEAR_TEXT
                    else value.isoformat()
                    if isinstance(value, date)
                    else value
                )
            elif nxt is not None and nxt.startswith("["):
                items = node.setdefault(part, [])
                index = int(nxt[1:-1]) - 1
                while len(items) <= index:
                    items.append({})
                node = items[index]
            else:
                node = node.setdefault(part, {})
    return out


def _canonical(row: dict[str, Any]) -> dict[str, Any]:
    """As validate sees it: allowed values in their canonical spelling."""
    out = {}
    for header, value in row.items():
        f = CATALOG.get(re.sub(r"\[\d+\]", "[]", header))
        if isinstance(value, str) and f is not None and f.enum:
            value = next((a for a in f.enum if a.casefold() == value.casefold()), value)
        out[header] = value
    return out


def _sheet_value(value: Any) -> Any:
    return float(serial(value)) if isinstance(value, date) else value


_SCENARIOS: list[tuple[str, ...]] = [
    (rules.CLOSED_LOST_REASON, rules.STAGE),
    (rules.OTHER_INDUSTRY, rules.INDUSTRY),
    (rules.NATIONAL_SECURITY, rules.INDUSTRY),
    (rules.WEBSITE, rules.NATIONAL_SECURITY),
    (rules.USE_CASES, rules.FUNDING),
    (rules.OTHER_COMPETITORS, rules.COMPETITOR),
    (rules.TARGET_CLOSE,),
    (
        "Project.ExpectedCustomerSpend[1].Amount",
        "Project.ExpectedCustomerSpend[1].CurrencyCode",
    ),
]


@pytest.mark.parametrize("columns", _SCENARIOS, ids=lambda c: c[0])
def test_colours_agree_with_the_rules_validate_runs(columns: tuple[str, ...]) -> None:
    refs = {h: f"${chr(ord('A') + n)}2" for n, h in enumerate(columns)}
    flags = rules.row_flags(refs)
    assert flags, "the rule has no colour for these columns"
    choices = [
        _PICKS.get(h, _ANY_TEXT if "CurrencyCode" not in h else [None, CLEAR_TEXT, "USD"])
        for h in columns
    ]
    if "Amount" in columns[0]:
        choices[0] = [None, CLEAR_TEXT, "2500"]
    seen_fire = False
    for values in itertools.product(*choices):
        row = dict(zip(columns, values, strict=True))
        cells = {refs[h].replace("$", ""): _sheet_value(v) for h, v in row.items()}
        found = {
            (column, code)
            for column, code, _ in rules.business_problems(
                _payload(_canonical(row)), today=TODAY, partial=True
            )
        }
        fired = {
            (f.header, f.code): f for f in flags if Formula(f.condition).holds(cells, today=TODAY)
        }
        seen_fire |= bool(fired)
        for column, code in found:
            assert (column, code) in fired, (
                row,
                code,
                "validate names it, the sheet shows nothing",
            )
        for (header, code), flag in fired.items():
            if flag.needs == "clear" or row.get(header) == CLEAR_TEXT:
                assert (header, code) in found, (
                    row,
                    code,
                    "the sheet colours what validate accepts",
                )
            else:  # a cell left empty: validate cannot know the live value; the sheet asks
                assert row.get(header) is None, (row, code)
    assert seen_fire


# -- the shipped templates, read back ------------------------------------------------


def _validation_for(ws: Worksheet, letter: str) -> Any:
    for dv in ws.data_validations.dataValidation:
        if any(r.coord.startswith(f"{letter}2") for r in dv.sqref.ranges):
            return dv
    return None


def _formats(ws: Worksheet) -> dict[str, list[str]]:
    """Column letter -> the conditional-format formulas over it (from row 2)."""
    out: dict[str, list[str]] = {}
    for cf in ws.conditional_formatting:
        letter = re.match(r"[A-Z]+", str(cf.sqref)).group(0)  # type: ignore[union-attr]
        assert str(cf.sqref).startswith(f"{letter}2:"), cf.sqref
        for rule in cf.rules:
            out.setdefault(letter, []).extend(rule.formula)
    return out


# One row per mistake: the cells typed, the column validate must name, and whether the
# sheet refuses the value (a data validation) or colours the cell (a rule).
MISTAKES: list[tuple[str, dict[str, Any], str]] = [
    ("closed lost, reason cleared", {"LifeCycle.Stage": "Closed Lost", "LifeCycle.ClosedLostReason": CLEAR_TEXT}, "LifeCycle.ClosedLostReason"),
    ("reason without closed lost", {"LifeCycle.Stage": "Qualified", "LifeCycle.ClosedLostReason": "Price"}, "LifeCycle.ClosedLostReason"),
    ("other industry, no text", {"Customer.Account.Industry": "Other", "Customer.Account.OtherIndustry": CLEAR_TEXT}, "Customer.Account.OtherIndustry"),
    ("national security outside government", {"NationalSecurity": "Yes", "Customer.Account.Industry": "Retail"}, "NationalSecurity"),
    ("email without @", {"Customer.Contacts[1].Email": "jane.doe.example.com"}, "Customer.Contacts[1].Email"),
    ("phone without +", {"Customer.Contacts[1].Phone": "14155550100"}, "Customer.Contacts[1].Phone"),
    ("amount with a currency sign", {"Project.ExpectedCustomerSpend[1].Amount": "$2500"}, "Project.ExpectedCustomerSpend[1].Amount"),
    ("estimate link without https", {"Project.ExpectedCustomerSpend[1].EstimationUrl": "http://calculator.aws/#/estimate?id=" + "0" * 32}, "Project.ExpectedCustomerSpend[1].EstimationUrl"),
    ("spend item without its currency", {"Project.ExpectedCustomerSpend[1].Amount": "2500", "Project.ExpectedCustomerSpend[1].CurrencyCode": CLEAR_TEXT}, "Project.ExpectedCustomerSpend[1].CurrencyCode"),
    ("website too short to be one", {"Customer.Account.WebsiteUrl": "n/a"}, "Customer.Account.WebsiteUrl"),
    ("date in the past", {"LifeCycle.TargetCloseDate": date(2026, 1, 5)}, "LifeCycle.TargetCloseDate"),
    ("owner e-mail without @", {"Assignee.Email": "priya.natarajan.partner.example.com"}, "Assignee.Email"),
    ("owner phone without +", {"Assignee.Phone": "14155550100"}, "Assignee.Phone"),
    ("submission type not in the list", {"Submit.InvolvementType": "Yes"}, "Submit.InvolvementType"),
]  # fmt: skip
EXCEL_CANNOT: list[tuple[str, dict[str, Any], str]] = [
    ("solution without its S-", {"RelatedEntityIdentifiers.Solutions": "S-9000001; 9000002"}, "RelatedEntityIdentifiers.Solutions"),
]  # fmt: skip
"""Mistakes in a ; list (issue 16): Excel cannot check the items, the Guide says so and
``validate`` names them."""


def _sheet_catches(ws: Worksheet, headers: list[str], row: dict[str, Any], target: str) -> bool:
    letters = {h: openpyxl.utils.get_column_letter(n + 1) for n, h in enumerate(headers)}
    cells = {f"{letters[h]}2": _sheet_value(v) for h, v in row.items()}
    letter = letters[target]
    dv = _validation_for(ws, letter)
    typed = row.get(target) not in (None, "")
    if dv is not None and dv.type == "list" and typed and dv.errorStyle in (None, "stop"):
        sheet, cells_at = str(dv.formula1).lstrip("=").split("!")
        listed = ws.parent[sheet.strip("'")][cells_at.replace("$", "")]
        if row[target] not in [c.value for line in listed for c in line]:
            return True  # Excel refuses a value its dropdown does not hold
    if (
        dv is not None
        and dv.type == "custom"
        and typed
        and not Formula(str(dv.formula1)).holds(cells)
    ):
        return True
    return any(Formula(f).holds(cells, today=TODAY) for f in _formats(ws).get(letter, []))


@pytest.mark.parametrize("task", list(TASKS))
def test_common_mistakes_caught_in_the_sheet_and_by_validate(task: str, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(tpl.shipped_path(task))
    ws = book[tpl.DATA_SHEET]
    headers = [str(c.value) for c in ws[1]]
    used = [(name, cells, target) for name, cells, target in MISTAKES if set(cells) <= set(headers)]
    unseen = [m for m in EXCEL_CANNOT if set(m[1]) <= set(headers)]
    assert used or unseen, "no common mistake fits this template"
    guide = "\n".join(str(c.value) for line in book["Guide"].iter_rows() for c in line if c.value)
    for name, cells, target in unseen:
        assert not _sheet_catches(ws, headers, cells, target), (task, name)
        assert f"{target}\nExcel cannot check the items" in guide, (task, name)
    used += unseen
    for n, (name, cells, target) in enumerate(used):
        assert (name, cells, target) in unseen or _sheet_catches(ws, headers, cells, target), (
            task,
            name,
        )
        ws.cell(row=n + 2, column=1, value=f"O10000{n + 10}")
        for header, value in cells.items():
            cell = ws.cell(row=n + 2, column=headers.index(header) + 1, value=value)
            cell.number_format = "yyyy-mm-dd" if isinstance(value, date) else "@"
    path = tmp_path / f"{task}.xlsx"
    book.save(path)
    checked = validate_file(path, out=tmp_path / "results.xlsx", today=TODAY)
    for n, (name, _, target) in enumerate(used):
        named = {p.column for p in checked.problems if p.row == n + 2 and p.is_error}
        assert target in named, (task, name, named)


def test_a_filled_good_row_is_not_coloured() -> None:
    """The example values of every column, with the rules' values chosen to fit, flag nothing."""
    book = openpyxl.load_workbook(tpl.SHIPPED)
    ws = book[tpl.DATA_SHEET]
    headers = [str(c.value) for c in ws[1]]
    chosen = {"LifeCycle.Stage": "Closed Lost", "LifeCycle.ClosedLostReason": "Price",
              "Customer.Account.Industry": "Other", "NationalSecurity": "No",
              "Marketing.AwsFundingUsed": "Yes", "Project.CompetitorName": "*Other",
              "LifeCycle.TargetCloseDate": TODAY + timedelta(days=9)}  # fmt: skip
    row: dict[str, Any] = {}
    for column in tpl.task_columns():
        value = chosen.get(column.header) or tpl.example(column.field, column.header)
        row[column.header] = value if isinstance(value, date) else str(value) or None
    letters = {h: openpyxl.utils.get_column_letter(n + 1) for n, h in enumerate(headers)}
    cells = {f"{letters[h]}2": _sheet_value(v) for h, v in row.items()}
    coloured = [
        h
        for h in headers
        for f in _formats(ws).get(letters[h], [])
        if Formula(f).holds(cells, today=TODAY)
    ]
    assert coloured == []
    refused = [
        h
        for h in headers
        if (dv := _validation_for(ws, letters[h])) is not None
        and dv.type == "custom"
        and row.get(h)
        and not Formula(str(dv.formula1)).holds(cells)
    ]
    assert refused == []


def test_closed_lost_left_without_a_reason_is_coloured_and_named_by_the_dry_run(
    emulator: Any, tmp_path: Path
) -> None:
    """An empty reason keeps the live one, so validate cannot know; the sheet asks, the plan names it."""
    import json

    from apply_helpers import make_pc

    seed = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"
    ident = next(
        r["Id"]
        for r in json.loads(seed.read_text(encoding="utf-8"))
        if r.get("Catalog", "Sandbox") == "Sandbox"
        and r["LifeCycle"].get("ReviewStatus") == "Pending Submission"
        and not r["LifeCycle"].get("ClosedLostReason")
        and r["LifeCycle"].get("Stage") != "Closed Lost"
    )
    book = openpyxl.load_workbook(tpl.shipped_path("close-stale"))
    ws = book[tpl.DATA_SHEET]
    headers = [str(c.value) for c in ws[1]]
    row = {"Identifier": ident, "LifeCycle.Stage": "Closed Lost"}
    assert _sheet_catches(ws, headers, row, "LifeCycle.ClosedLostReason")
    for header, value in row.items():
        ws.cell(row=2, column=headers.index(header) + 1, value=value).number_format = "@"
    path = tmp_path / "close-stale.xlsx"
    book.save(path)
    checked = validate_file(path, out=tmp_path / "validate.xlsx", today=TODAY)
    assert not [p for p in checked.problems if p.is_error]  # the live record decides
    settings = ApplySettings(
        catalog="Sandbox", dry_run=True, out=tmp_path / "dry-run.xlsx", today=TODAY
    )
    planned = apply_file(path, make_pc(emulator.url), settings)
    named = {(p.column, p.code) for p in planned.problems}
    assert ("LifeCycle.ClosedLostReason", "closed-lost-reason-required") in named, named
