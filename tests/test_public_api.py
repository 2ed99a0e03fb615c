"""The library's public face: ``bulk_update.__all__``, pinned.

Changing this list is changing the library's API: do it on purpose, here.
"""

from __future__ import annotations

import subprocess
import sys

import bulk_update

PUBLIC = [
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


def test_the_public_names_are_pinned() -> None:
    assert bulk_update.__all__ == PUBLIC


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    from bulk_update import errors
    from bulk_update.run import apply

    for name in PUBLIC:
        assert getattr(bulk_update, name) is not None, name
    assert bulk_update.apply_file is apply.apply_file
    assert bulk_update.OutputExists is errors.OutputExists
    assert set(bulk_update._EXPORTS) == set(PUBLIC)


def test_the_errors_that_stop_a_run_share_one_base() -> None:
    for name in ("SheetError", "ColumnError", "RunFolderError", "AccessDenied", "NoCredentials",
                 "OutputExists", "EndpointUnreachable"):  # fmt: skip
        assert issubclass(getattr(bulk_update, name), bulk_update.BulkUpdateError), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        bulk_update.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, bulk_update; print(sorted({'pandas', 'boto3', 'openpyxl'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_problem_codes_are_the_register() -> None:
    from bulk_update.codes import REGISTER

    assert bulk_update.PROBLEM_CODES is REGISTER
