"""The ``bulk-update`` command: parse options, call the library, report.

:mod:`bulk_update.cli.app` holds the click group ``main`` and the plumbing
the commands share, :mod:`bulk_update.cli.options` the options they share
(each defined once); each family of commands has its own module, imported
here so that its commands register on the group.
"""

from bulk_update.cli import export, local, sheets, writes  # noqa: F401  (registers the commands)
from bulk_update.cli.app import main

__all__ = ["main"]
