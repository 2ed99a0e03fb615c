"""An export's baseline, read in one place: the values as exported, beside the sheet.

An xlsx export keeps them in its very hidden ``_baseline`` sheet and its
metadata in ``_export`` (:func:`export_baseline`, which the reader calls with
the workbook open); a csv export in ``<name>.baseline.csv`` with
``<name>.export.json`` beside it (:func:`load_csv_baseline`).  :func:`row_baselines` gives each row its
exported values, for the three-way rules; :func:`changed_calls` picks the call
cells (owner, related entities, submission) the user changed against them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from bulk_update import calls
from bulk_update.errors import SheetError
from bulk_update.merge import column_of
from bulk_update.payload import CLEAR, CLEAR_TEXT, LIST_SEPARATOR
from bulk_update.problems import Problem, Severity
from bulk_update.sheet.csvcells import csv_records
from bulk_update.workbook import BASELINE_SHEET, EXPORT_SHEET

if TYPE_CHECKING:
    from bulk_update.payload import Path as FieldPath
    from bulk_update.payload import RowEdit, Value
    from bulk_update.sheet.read import Sheet


META_SHEETS = (EXPORT_SHEET, "_meta")
BASELINE_PROBLEM = "baseline_problem"
"""Key in Sheet.meta saying why a ``_baseline`` sheet could not be used."""


class _Grid(Protocol):
    headers: list[str]
    cells: pd.DataFrame


def export_baseline(
    sheet_names: Sequence[str],
    text_rows: Callable[[str], list[list[str]]],
    grid: Callable[[list[list[str]], str], _Grid],
) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """The ``_baseline`` sheet (as a DataFrame named by its headers) and ``_export`` metadata.

    ``text_rows(name)`` gives a sheet's rows as text; ``grid(rows, name)`` finds
    their header and cells as the data sheet's are found. A broken baseline
    must not stop the run: it reads as None, and ``meta[BASELINE_PROBLEM]``
    says why, so that the caller falls back to the rules without a baseline.
    """
    meta: dict[str, str] = {}
    for meta_name in META_SHEETS:
        if meta_name in sheet_names:
            meta = _key_values(text_rows(meta_name))
            break
    baseline = None
    if BASELINE_SHEET in sheet_names:
        try:
            base = grid(text_rows(BASELINE_SHEET), BASELINE_SHEET)
            baseline = base.cells.set_axis(base.headers, axis=1)
        except SheetError as e:
            meta[BASELINE_PROBLEM] = str(e)
    return baseline, meta


def _key_values(rows: list[list[str]]) -> dict[str, str]:
    """The key/value pairs of an ``_export`` sheet (a ``key, value`` header row is skipped)."""
    meta: dict[str, str] = {}
    for row in rows:
        if not row:
            continue
        key = row[0].strip()
        value = row[1] if len(row) > 1 else ""
        if key and not (key.casefold() == "key" and value.strip().casefold() == "value"):
            meta[key] = value
    return meta


def sidecar_paths(csv_path: Path) -> tuple[Path, Path]:
    """``<name>.baseline.csv`` and ``<name>.export.json`` beside a csv export."""
    csv_path = Path(csv_path)
    return (
        csv_path.with_name(f"{csv_path.stem}.baseline.csv"),
        csv_path.with_name(f"{csv_path.stem}.export.json"),
    )


def load_csv_baseline(csv_path: Path) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """The baseline and metadata a csv export left beside ``csv_path``.

    Returns ``(baseline, meta)``: the baseline as a DataFrame shaped like
    ``readers.Sheet.baseline`` (columns named by the headers, every value a
    ``str``, ``""`` for empty, blank lines skipped), or None when there is no
    ``<name>.baseline.csv``; ``meta`` holds the ``<name>.export.json`` keys as
    text (``catalog``, ``exported_at``, ``columns``...), empty when there is
    none.  A sidecar that cannot be read gives None / {} plus a
    ``sidecar_problem`` entry in ``meta`` saying why, so that the caller can
    fall back to the two-way rules with a warning.
    """
    baseline_path, info_path = sidecar_paths(Path(csv_path))
    meta: dict[str, str] = {}
    problems: list[str] = []
    if info_path.is_file():
        try:
            data = json.loads(info_path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            for key, value in data.items():
                meta[str(key)] = value if isinstance(value, str) else json.dumps(value)
        except (OSError, ValueError) as e:
            problems.append(f"{info_path.name} cannot be read ({e})")
    frame: pd.DataFrame | None = None
    if baseline_path.is_file():
        try:
            text = baseline_path.read_bytes().decode("utf-8-sig")
            lines = list(csv_records(io.StringIO(text, newline=""), ",", baseline_path.name))
            lines = [r for r in lines if any(v.strip() for v in r)]
            if not lines:
                raise ValueError("empty")
            headers = [h.strip() for h in lines[0]]
            width = len(headers)
            body = [(r + [""] * width)[:width] for r in lines[1:]]
            frame = pd.DataFrame(body, columns=headers, dtype=object)
        except (OSError, ValueError, SheetError) as e:
            problems.append(f"{baseline_path.name} cannot be read ({e})")
            frame = None
    if problems:
        meta["sidecar_problem"] = "; ".join(problems)
    return frame, meta


def row_baselines(
    sheet: Sheet, edits: Sequence[RowEdit | None], ids: Sequence[str]
) -> tuple[dict[int, dict[str, str]], list[Problem]]:
    """Each row's exported values, when the sheet carries an export's baseline.

    A row whose identifier is not in the baseline (added after the export, or
    its id changed) falls back to the two-way rules, with a warning.
    """
    table = sheet.baseline
    if table is None and sheet.path.suffix.lower() == ".csv":
        table, _meta = load_csv_baseline(sheet.path)
    if table is None or len(table) == 0:
        return {}, []
    headers = [str(h).strip() for h in table.columns]
    id_header = next((h for h in headers if h.lower() in ("identifier", "id")), None)
    if id_header is None:
        return {}, [
            Problem(
                None,
                None,
                None,
                None,
                "baseline-unusable",
                "the export's baseline has no Identifier column; every row is "
                "compared with the live record only (two-way)",
                Severity.WARNING,
            )
        ]
    rows: dict[str, dict[str, str]] = {}
    for values in table.astype(str).values.tolist():
        record = dict(zip(headers, values, strict=False))
        rows[record[id_header].strip()] = record
    out: dict[int, dict[str, str]] = {}
    notes: list[Problem] = []
    for i, edit in enumerate(edits):
        if edit is None:
            continue
        base = rows.get(ids[i])
        if base is None:
            notes.append(
                Problem(
                    edit.row,
                    edit.identifier,
                    None,
                    None,
                    "not-in-baseline",
                    "this row is not in the export's baseline (added or id changed): "
                    "every filled cell is applied (two-way rules)",
                    Severity.WARNING,
                )
            )
        else:
            out[edit.row] = base
    return out, notes


def _call_text(value: Value, related: bool) -> str | frozenset[str]:
    """A call cell as comparable text: a related list as a set (order and repeats aside)."""
    if value is CLEAR or (isinstance(value, str) and value.strip().upper() == CLEAR_TEXT):
        return frozenset() if related else ""
    parts = value if isinstance(value, tuple) else str(value).split(LIST_SEPARATOR)
    if related:
        return frozenset(p.strip() for p in parts if p.strip())
    return LIST_SEPARATOR.join(p.strip() for p in parts)


def changed_calls(edit: RowEdit, base: Mapping[str, str]) -> dict[str, Value]:
    """The row's call cells (``edit.calls``) that differ from the export's baseline row.

    The owner's cells and the submission's each make one call, so such a group
    is kept whole when any of its cells changed (AssignOpportunity needs every
    required member, not only the one edited); a related-entity kind is
    compared as a set, so a reordered list is no change, and ``#CLEAR`` where
    the export wrote nothing is none either.  Without a baseline row every
    call cell is the user's (two-way).
    """
    by_lower = {k.strip().casefold(): v for k, v in base.items()}
    related = {f.key for f in calls.related_fields()}

    def changed(key: str) -> bool:
        is_related = key in related
        before = by_lower.get(key.casefold(), "")
        return _call_text(edit.calls[key], is_related) != _call_text(before, is_related)

    out: dict[str, Value] = {}
    for key in edit.calls:
        if key in related and changed(key):
            out[key] = edit.calls[key]
    for group in (calls.assignee_fields(), calls.submit_fields()):
        keys = [f.key for f in group if f.key in edit.calls]
        if any(changed(k) for k in keys):
            out.update({k: edit.calls[k] for k in keys})
    return {k: out[k] for k in edit.calls if k in out}


# -- what the user changed against the export (the three-way merge's side) ----------------


def cell_text(value: Value | tuple[str, ...] | None) -> str:
    """A value as comparable text: lists joined by ';', items trimmed."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ";".join(v.strip() for v in value)
    if value is CLEAR:
        return ""
    return (
        ";".join(part.strip() for part in str(value).split(";"))
        if ";" in str(value)
        else str(value).strip()
    )


def _edited(value: Value, exported: str) -> bool:
    """A cell differs from its export (``#CLEAR`` of an empty export asks for nothing)."""
    before = cell_text(exported)
    if value is CLEAR:
        return before not in ("", "#CLEAR")
    return cell_text(value) != before


def user_edits(edit: RowEdit, baseline: Mapping[str, str]) -> dict[FieldPath, Value]:
    """The cells the user changed against the export's baseline."""
    return {
        path: value
        for path, value in edit.edits.items()
        if _edited(value, baseline.get(edit.columns.get(path, column_of(path)), ""))
    }


def user_calls(edit: RowEdit, baseline: Mapping[str, str]) -> dict[str, Value]:
    """The call cells the user changed against the export's baseline (as
    :func:`user_edits` filters field cells: a cell equal to its export asks for nothing);
    the owner's cells and the submission's go whole when one of them changed, a related
    list is compared as a set (:func:`changed_calls`)."""
    return changed_calls(edit, baseline)


def asks_nothing(edit: RowEdit, baseline: Mapping[str, str]) -> bool:
    """An exported row whose every cell, field or call, still equals the export."""
    return not user_edits(edit, baseline) and not user_calls(edit, baseline)


def clash(edit: RowEdit, header: str, base: str, server: str, mine: str) -> Problem:
    """A cell the user and Partner Central both changed since the export, differently."""
    return Problem(
        edit.row,
        edit.identifier,
        header,
        mine,
        "changed-on-both-sides",
        f"changed on both sides since the export: exported {base or '(empty)'!r}, "
        f"Partner Central now {server or '(empty)'!r}, this sheet {mine or '(empty)'!r}; "
        "decide which is right and run the row again",
    )


def _ids(value: Value) -> frozenset[str]:
    got = _call_text(value, True)
    return got if isinstance(got, frozenset) else frozenset()


def call_clashes(
    edit: RowEdit, live: Mapping[str, Any], base: Mapping[str, str], asked: Mapping[str, Value]
) -> list[Problem]:
    """The owner and related entities the user and Partner Central both changed since
    the export, differently (as :func:`bulk_update.decide.both_sides` for fields): the
    owner by its e-mail (case aside), a related kind as a set."""
    by_lower = {k.strip().casefold(): v for k, v in base.items()}
    problems = []
    held = calls.related_of(live)
    for f in calls.related_fields():
        if f.key in asked:
            sets = (
                _ids(by_lower.get(f.key.casefold(), "")),
                frozenset(held.get(f.path[1], ())),
                _ids(asked[f.key]),
            )
            if sets[1] not in (sets[0], sets[2]):
                problems.append(clash(edit, f.key, *(";".join(sorted(v)) for v in sets)))
    email = f"{calls.ASSIGNEE}.Email"
    if isinstance(asked.get(email), str):
        owner = calls.owner_of(live) or {}
        texts = [
            by_lower.get(email.casefold(), "").strip(),
            str(owner.get("Email") or "").strip(),
            str(asked[email]).strip(),
        ]
        folded = [t.casefold() for t in texts]
        if folded[1] not in (folded[0], folded[2]):
            problems.append(clash(edit, email, *texts))
    return problems
