"""bulk-update: change many AWS Partner Central opportunities from a spreadsheet.

The library's public face (the CLI uses nothing else for a run)::

    import bulk_update as bu

    pc = bu.connect("Sandbox", endpoint_url="http://127.0.0.1:4566")
    report = bu.validate_file("pipeline.xlsx")                      # offline
    report = bu.apply_file("pipeline.xlsx", pc, bu.ApplySettings(catalog="Sandbox"))
    report = bu.rollback_run(pc, report.run_dir)
    bu.export_opportunities(pc, Path("now.xlsx"), filters=bu.ExportFilters(stages=("Prospect",)))
    bu.write_template(Path("blank.xlsx"), task="close-stale")

Rows end with an :class:`Outcome`; what is wrong with a cell is a
:class:`Problem` record (its code is in :data:`PROBLEM_CODES`); a run that
cannot start raises a :class:`BulkUpdateError`.  Names are imported on first
use, so ``import bulk_update`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # the jobs
    "validate_file": "bulk_update.run.validate",
    "apply_file": "bulk_update.run.apply",
    "rollback_run": "bulk_update.run.rollback",
    "export_opportunities": "bulk_update.export.job",
    "write_template": "bulk_update.template",
    # their settings and reports
    "ApplySettings": "bulk_update.run.apply",
    "ExportFilters": "bulk_update.export.filters",
    "JobReport": "bulk_update.run.validate",
    "ExportReport": "bulk_update.export.job",
    # Partner Central
    "connect": "bulk_update.api.client",
    "PartnerCentral": "bulk_update.api.client",
    "TokenBucket": "bulk_update.api.pacing",
    # the records
    "Outcome": "bulk_update.problems",
    "Problem": "bulk_update.problems",
    "Severity": "bulk_update.problems",
    "Change": "bulk_update.problems",
    "PROBLEM_CODES": "bulk_update.codes",
    # errors that stop a run (exit status 2 on the command line)
    "BulkUpdateError": "bulk_update.errors",
    "SheetError": "bulk_update.errors",
    "ColumnError": "bulk_update.errors",
    "RunFolderError": "bulk_update.errors",
    "AccessDenied": "bulk_update.errors",
    "NoCredentials": "bulk_update.errors",
    "OutputExists": "bulk_update.errors",
    "EndpointUnreachable": "bulk_update.errors",
    # errors of one call (PartnerCentral's methods)
    "CallError": "bulk_update.api.errors",
}
_RENAMED = {"PROBLEM_CODES": "REGISTER"}

__all__ = [
    "AccessDenied",
    "ApplySettings",
    "BulkUpdateError",
    "CallError",
    "Change",
    "ColumnError",
    "EndpointUnreachable",
    "ExportFilters",
    "ExportReport",
    "JobReport",
    "NoCredentials",
    "Outcome",
    "OutputExists",
    "PROBLEM_CODES",
    "PartnerCentral",
    "Problem",
    "RunFolderError",
    "Severity",
    "SheetError",
    "TokenBucket",
    "apply_file",
    "connect",
    "export_opportunities",
    "rollback_run",
    "validate_file",
    "write_template",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bulk_update' has no attribute {name!r}")
    value = getattr(import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:
    from bulk_update.api.client import PartnerCentral, connect
    from bulk_update.api.errors import CallError
    from bulk_update.api.pacing import TokenBucket
    from bulk_update.codes import REGISTER as PROBLEM_CODES
    from bulk_update.errors import (
        AccessDenied,
        BulkUpdateError,
        ColumnError,
        EndpointUnreachable,
        NoCredentials,
        OutputExists,
        RunFolderError,
        SheetError,
    )
    from bulk_update.export.filters import ExportFilters
    from bulk_update.export.job import ExportReport, export_opportunities
    from bulk_update.problems import Change, Outcome, Problem, Severity
    from bulk_update.run.apply import ApplySettings, apply_file
    from bulk_update.run.rollback import rollback_run
    from bulk_update.run.validate import JobReport, validate_file
    from bulk_update.template import write_template
