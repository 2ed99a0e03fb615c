"""The run commands as functions, under their former name (kept for older imports).

``validate_file`` lives in :mod:`bulk_update.run.validate`, ``apply_file`` in
:mod:`bulk_update.run.apply`.
"""

from __future__ import annotations

from bulk_update.errors import BulkUpdateError
from bulk_update.run.apply import ApplySettings, Confirm, apply_file
from bulk_update.run.validate import JobReport, Loaded, load, save, validate_file
from bulk_update.run.validate import row_results as _row_results  # noqa: F401  (an older test)

__all__ = [
    "ApplySettings",
    "BulkUpdateError",
    "Confirm",
    "JobReport",
    "Loaded",
    "apply_file",
    "load",
    "save",
    "validate_file",
]
