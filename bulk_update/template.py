"""Blank template workbooks to fill in, built from the field catalog.

:func:`write_template` writes a workbook whose first sheet, ``Opportunities``,
has one column per field (or per task, see :data:`TASKS`), named as the sheet
contract spells it. Everything a column says about itself comes from the
catalog (botocore's model): its section colour, the header comment with the
field's meaning and allowed values, the dropdown list, the text or date format.
Nothing here lists fields by hand except the task definitions, and those are
checked against the catalog (:func:`task_columns` raises on an unknown key).

Decisions worth knowing:

- Every column that is not a date is formatted as text (``@``), so Excel keeps
  what is typed: leading zeros, a leading ``+``, ids that look like numbers,
  ``1-2`` that would otherwise become a date.
- Dropdowns read their values from the hidden ``_lists`` sheet (Excel limits an
  inline list to 255 characters). A field that may be emptied also offers
  ``#CLEAR``. A field whose values are only documented (not enforced by the
  API), and a list field holding several values separated by ``;``, gets a
  dropdown that suggests but does not refuse other text.
- ``Guide`` comes after the data sheet: the tool reads the first sheet only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from bulk_update import calls as _calls
from bulk_update import fields as cat
from bulk_update.errors import BulkUpdateError
from bulk_update.fields import Catalog, Field
from bulk_update.guidance import (
    DATE_EXAMPLE,
    GUIDE_WIDTH,
    add_rule_formats,
    call_lines,
    cell_validation,
    clearable,
    comment_text,
    example,
    fit_row,
    guide_formats,
    meaning,
    rules,
    write_guide_lines,
)
from bulk_update.sheet import rules as rulebook
from bulk_update.workbook import CLEAR_TEXT as CLEAR
from bulk_update.workbook import DATA_SHEET as DATA_SHEET
from bulk_update.workbook import GUIDE_SHEET as GUIDE_SHEET
from bulk_update.workbook import LAST_ROW as LAST_ROW
from bulk_update.workbook import LINE_HEIGHT as LINE_HEIGHT
from bulk_update.workbook import LISTS_SHEET as LISTS_SHEET
from bulk_update.workbook import TEXT_OPTIONS as TEXT_OPTIONS
from bulk_update.workbook import check_output, column_letter, print_setup

RECORD_ITEMS = 2
"""How many items of each list of records the full template offers."""
BUILD_TIME = datetime(2025, 1, 1)
"""Fixed creation time, so a rebuilt template has the same content."""
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
"""Where the generated templates ship, one file per task (see :func:`shipped_path`)."""
SHIPPED = TEMPLATES_DIR / "opportunity-update.xlsx"
"""The full template (every updatable column); ``bulk-update template`` writes the same."""

# The columns each quarterly job needs. ``*`` takes every catalog field under
# that prefix (in catalog order), so a field the model adds there is included;
# the call columns (owner, related entities, submission: :mod:`bulk_update.calls`)
# are found the same way, from the operations' own input shapes.
TASKS: dict[str, tuple[str, list[str]]] = {
    "close-stale": (
        "Close stale opportunities as Closed Lost, with a reason and next steps",
        [
            cat.IDENTIFIER,
            cat.LAST_MODIFIED,
            "LifeCycle.Stage",
            "LifeCycle.ClosedLostReason",
            "LifeCycle.NextSteps",
        ],
    ),
    "move-dates": (
        "Move target close dates and say why in the next steps",
        [cat.IDENTIFIER, "LifeCycle.TargetCloseDate", "LifeCycle.NextSteps"],
    ),
    "fix-websites": (
        "Fix customer websites and addresses",
        [cat.IDENTIFIER, "Customer.Account.WebsiteUrl", "Customer.Account.Address.*"],
    ),
    "expected-spend": (
        "Update the expected monthly customer spend (two spend items)",
        [
            cat.IDENTIFIER,
            "Project.ExpectedCustomerSpend[1].*",
            "Project.ExpectedCustomerSpend[2].*",
        ],
    ),
    "full": ("Every field UpdateOpportunity takes (owner, solutions, submission: below)", ["*"]),
    "reassign-owner": (
        "Reassign opportunities to a new owner (AssignOpportunity)",
        [cat.IDENTIFIER, "Assignee.*"],
    ),
    "attach-solutions": (
        "Attach or replace solutions and AWS products (Associate/DisassociateOpportunity)",
        [
            cat.IDENTIFIER,
            "RelatedEntityIdentifiers.Solutions",
            "RelatedEntityIdentifiers.AwsProducts",
        ],
    ),
    "submit": (
        "Submit opportunities to AWS (SubmitOpportunity; a submission cannot be undone)",
        [cat.IDENTIFIER, "Submit.*"],
    ),
}
DEFAULT_TASK = "full"

# Sections shown first: what a quarterly clean-up edits most. Others follow in
# the catalog's order.
SECTION_FIRST = ("LifeCycle",)
TOP_LEVEL = "Opportunity"
"""The section name for fields at the request's top level (``OpportunityType``)."""
PALETTE = ("#DDEBF7", "#E2EFDA", "#FFF2CC", "#FCE4D6", "#EDE2F6", "#DEEAF1", "#F2F2F2")
KEY_COLOUR = "#BFBFBF"


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template: its header and the catalog field behind it."""

    header: str
    field: Field | None
    """None for the frame columns (Identifier, LastModifiedDate)."""

    @property
    def section(self) -> str:
        if self.field is None:
            return TOP_LEVEL
        return self.field.section if len(self.field.path) > 1 else TOP_LEVEL

    @property
    def is_date(self) -> bool:
        return self.field is not None and self.field.kind == "date"

    @property
    def clearable(self) -> bool:
        return clearable(self.field)


def _field_for(catalog: Catalog, column: str) -> Field:
    key = re.sub(r"\[\d+\]", "[]", column)
    found = _calls.by_column().get(key) or catalog.get(key)
    if found is None or found.read_only:
        raise KeyError(f"task column {column!r} is not an updatable field of the catalog")
    return found


def _expand(catalog: Catalog, spec: str) -> list[TemplateColumn]:
    if spec in (cat.IDENTIFIER, cat.LAST_MODIFIED):
        return [TemplateColumn(spec, None)]
    if spec == "*":
        return _all_columns(catalog)
    if spec.endswith("*"):
        prefix = spec[:-1]
        index = re.search(r"\[(\d+)\]", prefix)
        key_prefix = re.sub(r"\[\d+\]", "[]", prefix)
        found = [
            f for f in (*_calls.column_fields(), *catalog.fields) if f.key.startswith(key_prefix)
        ]
        if not found:
            raise KeyError(f"task column {spec!r} matches no updatable field of the catalog")
        number = int(index.group(1)) if index else None
        return [TemplateColumn(f.column(number), f) for f in found]
    f = _field_for(catalog, spec)
    return [TemplateColumn(spec, f)]


def _section_rank(catalog: Catalog) -> dict[str, int]:
    order: list[str] = list(SECTION_FIRST)
    for f in catalog.fields:
        name = f.section if len(f.path) > 1 else TOP_LEVEL
        if name not in order:
            order.append(name)
    if TOP_LEVEL in order:  # the top-level fields come just after the first sections
        order.remove(TOP_LEVEL)
        order.insert(len(SECTION_FIRST), TOP_LEVEL)
    return {name: n for n, name in enumerate(order)}


def _all_columns(catalog: Catalog) -> list[TemplateColumn]:
    """Every updatable field; lists of records as RECORD_ITEMS items, 1-based."""
    columns: list[TemplateColumn] = []
    done: set[str] = set()
    for f in catalog.fields:
        lst = f.record_list
        if lst is None:
            columns.append(TemplateColumn(f.key, f))
            continue
        if lst in done:
            continue
        done.add(lst)
        members = [m for m in catalog.fields if m.record_list == lst]
        items = min(RECORD_ITEMS, catalog.record_lists.get(lst) or RECORD_ITEMS)
        for i in range(1, items + 1):
            columns.extend(TemplateColumn(m.column(i), m) for m in members)
    rank = _section_rank(catalog)
    columns.sort(key=lambda c: rank[c.section])
    return [TemplateColumn(cat.IDENTIFIER, None), TemplateColumn(cat.LAST_MODIFIED, None), *columns]


def task_columns(task: str | None = None, catalog: Catalog | None = None) -> list[TemplateColumn]:
    """The columns of a task's template (the full template when ``task`` is None)."""
    catalog = catalog or cat.load()
    name = task or DEFAULT_TASK
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    columns: list[TemplateColumn] = []
    for spec in TASKS[name][1]:
        for column in _expand(catalog, spec):
            if column.header not in {c.header for c in columns}:
                columns.append(column)
    return columns


# -- what a column says about itself --------------------------------------------


# -- writing ---------------------------------------------------------------------


def _width(column: TemplateColumn) -> float:
    return float(min(max(len(column.header) + 3, 14), 45))


def _write_lists(book: xlsxwriter.Workbook, columns: list[TemplateColumn]) -> dict[str, str]:
    """The hidden sheet of dropdown values; returns header -> list reference."""
    ws = book.add_worksheet(LISTS_SHEET)
    refs: dict[str, str] = {}
    by_key: dict[str, str] = {}
    col = 0
    for column in columns:
        f = column.field
        if f is None or not f.allowed:
            continue
        values = [*f.allowed, *([CLEAR] if column.clearable else [])]
        source = f"{f.key}|{column.clearable}"
        if source not in by_key:
            ws.write_string(0, col, f.key)
            for row, value in enumerate(values, start=1):
                ws.write_string(row, col, value)
            letter = column_letter(col)
            by_key[source] = f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
            col += 1
        refs[column.header] = by_key[source]
    ws.hide()
    return refs


def _validation(column: TemplateColumn, col: int, source: str | None) -> dict[str, Any] | None:
    f = column.field
    if f is None:
        if column.header == cat.IDENTIFIER:
            cell = f"{column_letter(col)}2"
            return {
                "validate": "custom",
                "value": f'=AND(LEFT({cell},1)="O",ISNUMBER(--MID({cell},2,20)))',
                "error_type": "stop",
                "error_title": "Not an opportunity id",
                "error_message": "An id is the letter O followed by digits, e.g. O1234567.",
            }
        return None
    if source is not None:
        strict = bool(f.enum) and f.kind != "list"
        spec: dict[str, Any] = {"validate": "list", "source": source}
        if strict:
            spec |= {
                "error_type": "stop",
                "error_title": "Not an allowed value",
                "error_message": "Pick a value from the list"
                + (f", or {CLEAR} to empty the field." if column.clearable else "."),
            }
        else:
            spec |= {"show_error": False}
        return spec
    if f.kind == "date":
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": date(2000, 1, 1),
            "maximum": date(2100, 12, 31),
            "error_type": "warning",
            "error_title": "Is this a date?",
            "error_message": f"Type a date such as {DATE_EXAMPLE}"
            + (f", or {CLEAR} to empty the field." if column.clearable else "."),
        }
    check = cell_validation(f, column.clearable, f"{column_letter(col)}2")
    if check is not None:
        return check | {"error_type": "stop"}
    if f.max_length and f.max_length >= len(CLEAR) and f.kind != "list":  # per item for a list
        return {
            "validate": "length",
            "criteria": "<=",
            "value": f.max_length,
            "error_type": "stop",
            "error_title": "Too long",
            "error_message": f"At most {f.max_length} characters.",
        }
    return None


def _write_data_sheet(
    book: xlsxwriter.Workbook, ws: Worksheet, columns: list[TemplateColumn], refs: dict[str, str]
) -> None:
    sections = list(dict.fromkeys(c.section for c in columns if c.field is not None))
    colour = {s: PALETTE[n % len(PALETTE)] for n, s in enumerate(sections)}
    text = book.add_format({"num_format": "@"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    header_base = {"bold": True, "border": 1, "text_wrap": True, "valign": "top", "num_format": "@"}
    headers: dict[str, Any] = {}
    ws.set_comments_author("bulk-update")
    for col, column in enumerate(columns):
        fill = KEY_COLOUR if column.field is None else colour[column.section]
        if fill not in headers:
            headers[fill] = book.add_format({**header_base, "bg_color": fill})
        ws.set_column(col, col, _width(column), day if column.is_date else text)
        ws.write_string(0, col, column.header, headers[fill])
        note = comment_text(column)
        lines = note.count("\n") + 1 + len(note) // 60
        ws.write_comment(0, col, note, {"x_scale": 2.6, "y_scale": max(1.5, lines * 0.45)})
        spec = _validation(column, col, refs.get(column.header))
        if spec is not None:
            spec = {
                **spec,
                "input_title": column.header[-32:],
                "input_message": meaning(column.field, column.header)[:250],
            }
            ws.data_validation(1, col, LAST_ROW, col, spec)
    add_rule_formats(book, ws, [c.header for c in columns])
    ws.set_row(0, 45)
    ws.freeze_panes(1, 1)
    print_setup(ws)


# The Guide sheet: ("#", heading), ("", paragraph) or (label, text).
GUIDE: list[tuple[str, str]] = [
    ("#", "How to use this template"),
    (
        "",
        "One row per opportunity you want to change. Put its id (O followed by digits) in "
        "Identifier, then fill only the cells you want to change.",
    ),
    ("", "Keep the header row as it is. You may delete the columns you do not need."),
    ("#", "What a cell means"),
    ("empty", "leave this field as it is on the live record"),
    (CLEAR, "empty this field (a required field cannot be emptied)"),
    ("anything else", "set the field to this value"),
    ("#", "How to write values"),
    ("Dropdowns", "Most fields offer a list: pick a value from it. Case does not matter."),
    (
        "Lists",
        "PrimaryNeedsFromAws, Project.DeliveryModels and the other list fields take several "
        "values separated by ; (e.g. Email; Display). The cell replaces the whole list.",
    ),
    (
        "Contacts and spend",
        "Each contact or spend item has its own columns, numbered from 1: "
        "Customer.Contacts[1].Email, Customer.Contacts[2].Phone, "
        "Project.ExpectedCustomerSpend[1].Amount.",
    ),
    ("Dates", f"Type a date such as {DATE_EXAMPLE}. Never 03/04/2026: it is refused as unclear."),
    (
        "Ids and numbers",
        "The columns are formatted as text, so leading zeros (AwsAccountId 012345678901, "
        "PostalCode 02139) and the + of a phone number are kept. Please keep it that way.",
    ),
    (
        "LastModifiedDate",
        "Leave it empty unless you copied rows from an export: then the tool refuses to "
        "overwrite a record somebody changed after your export (a conflict).",
    ),
    ("Column notes", "Hover over a header to see what the field means, its values and an example."),
    ("#", "What happens next"),
    (
        "validate",
        "bulk-update validate FILE checks every cell without calling AWS and writes a "
        "results workbook: each row valid or invalid, with the reason.",
    ),
    (
        "dry run",
        "bulk-update apply FILE --catalog Sandbox --dry-run reads each opportunity and "
        "lists what would change, writing nothing.",
    ),
    (
        "apply",
        "bulk-update apply FILE --catalog AWS updates each row's opportunity. Fields you left "
        "empty are never changed. The results workbook gives each row an outcome (updated, "
        "unchanged, invalid, conflict, locked, ...) and a retry file holds the rows to fix "
        "and run again. rollback puts a run's changes back.",
    ),
]


def rule_lines(columns: list[TemplateColumn]) -> list[tuple[str, str]]:
    """The Guide's lines on the rules: what the colours mean, and what Excel cannot check."""
    refs = {c.header: c.header for c in columns}
    keys = {c.field.key for c in columns if c.field is not None}
    lines: list[tuple[str, str]] = [
        ("#", "Rules between columns"),
        (
            "Colours",
            "A yellow cell is one a rule now needs, given the row's other cells (fill it in "
            "unless the record already has it); a red cell holds a value the row's other "
            "cells do not allow (clear it, or change the other cell).",
        ),
    ]
    for rule in rulebook.RULES:
        shown = rule.flags is not None and bool(rule.flags(refs))
        if shown or rule.in_cell and rule.columns[0] in keys:
            lines.append((rule.code, rule.statement))
        elif any(k in keys for k in rule.columns):
            lines.append(
                (rule.code, f"{rule.statement} Excel cannot show it here: validate checks it.")
            )
    approximations: dict[str, str] = {}
    for column in columns:
        f = column.field
        check = rulebook.cell_check(f, clearable=column.clearable) if f is not None else None
        if f is not None and check is not None and f.pattern and not check.exact:
            approximations[f.key.replace("[]", "[n]")] = check.statement + "."
        elif f is not None and f.kind == "list" and f.pattern:
            approximations[f.key] = (
                f"Excel cannot check the items of a ; list: validate checks each against "
                f"{f.pattern}."
            )
    if approximations:
        lines.append(("#", "What Excel cannot check fully"))
        lines.extend(approximations.items())
    return lines


def _write_guide(
    book: xlsxwriter.Workbook, ws: Worksheet, task: str, columns: list[TemplateColumn]
) -> None:
    formats = guide_formats(book)
    title, heading, label, wrap = (formats[k] for k in ("title", "heading", "label", "wrap"))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, GUIDE_WIDTH, wrap)
    ws.set_column(2, 2, 50, wrap)
    print_setup(ws, header=False)
    ws.write_string(0, 0, "Opportunity update template", title)
    ws.write_string(1, 0, f"Task: {task}", label)
    ws.write_string(1, 1, TASKS[task][0])
    row = write_guide_lines(ws, 2, GUIDE, heading, label)
    if any(c.field is not None and _calls.is_call_column(c.field.key) for c in columns):
        row = write_guide_lines(ws, row, call_lines(), heading, label)
    row = write_guide_lines(ws, row + 2, rule_lines(columns), heading, label)
    row += 2
    for col, name in enumerate(("Column", "Meaning and values", "Example")):
        ws.write_string(row, col, name, heading)
    for column in columns:
        row += 1
        ws.write_string(row, 0, column.header, label)
        described = "\n".join(rules(column))
        ws.write_string(row, 1, described)
        fit_row(ws, row, described, GUIDE_WIDTH - 5)
        sample = example(column.field, column.header)
        if sample:
            ws.write_string(row, 2, sample)


def write_template(path: str | Path, *, task: str | None = None, force: bool = False) -> Path:
    """Write a blank template (every updatable column, or one task's) and return its path.

    A template is an Excel workbook (dropdowns, hints, the Guide): a name that
    does not end in ``.xlsx`` is refused, never written as an xlsx under
    another extension. An existing file is refused (:class:`OutputExists`)
    unless ``force``.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BulkUpdateError(
            f"{path.name}: a template is an Excel workbook (dropdowns, hints, a guide), "
            f"so its name must end in .xlsx, e.g. {path.with_suffix('.xlsx').name}"
        )
    check_output(path, force)
    name = task or DEFAULT_TASK
    columns = task_columns(name)
    book = xlsxwriter.Workbook(
        str(path),
        TEXT_OPTIONS,
    )
    book.set_properties(
        {
            "title": "Opportunity update template",
            "subject": TASKS[name][0],
            "author": "bulk-update",
            "created": BUILD_TIME,
        }
    )
    data = book.add_worksheet(DATA_SHEET)
    guide = book.add_worksheet(GUIDE_SHEET)
    refs = _write_lists(book, columns)
    _write_data_sheet(book, data, columns, refs)
    _write_guide(book, guide, name, columns)
    data.activate()
    book.close()
    return path


def shipped_path(task: str | None = None) -> Path:
    """Where the template of a task ships: ``templates/<task>.xlsx``, the full one as SHIPPED."""
    name = task or DEFAULT_TASK
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return SHIPPED if name == DEFAULT_TASK else TEMPLATES_DIR / f"{name}.xlsx"


def write_shipped(folder: Path | None = None) -> list[Path]:
    """Rebuild every shipped template (the full one and one per task); return their paths.

    ``folder`` writes them elsewhere under the same names (tests compare the two sets).
    """
    written = []
    for name in TASKS:
        target = shipped_path(name)
        if folder is not None:
            target = folder / target.name
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(write_template(target, task=name, force=True))
    return written


if __name__ == "__main__":  # python -m bulk_update.template: rebuild every shipped template
    for shipped in write_shipped():
        print(shipped)
