"""Exceptions for problems that stop a run before it starts (exit status 2).

Data problems in rows are never exceptions: they are ``problems.Problem``
records.  These are for a sheet or an invocation the tool cannot work with.
"""


class BulkUpdateError(Exception):
    """A problem that stops the run; its message is one line for the user."""


class SheetError(BulkUpdateError):
    """The file cannot be read as a sheet (missing, empty, corrupt, encrypted, bad encoding)."""


class ColumnError(BulkUpdateError):
    """A header names no known field, a required column is missing, or a header repeats."""


class RunFolderError(BulkUpdateError):
    """A run folder is missing, unreadable, or belongs to another catalog."""


class AccessDenied(BulkUpdateError):
    """The credentials may not call Partner Central."""


class NoCredentials(BulkUpdateError):
    """No AWS credentials were found in the standard chain."""


class OutputExists(BulkUpdateError):
    """An output file already exists; --force to replace it."""


class EndpointUnreachable(BulkUpdateError):
    """Nothing answers at the endpoint: the run stops before its first row."""
