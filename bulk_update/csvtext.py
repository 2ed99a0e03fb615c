"""Formula escaping for the CSV files the tool writes and reads back.

A spreadsheet opening a CSV runs a cell that starts with ``=``, ``+``, ``-``
or ``@`` (or a tab or carriage return before one) as a formula: CSV injection.
Every CSV the tool writes passes each cell through :func:`escape`, which puts
one apostrophe before such a cell (the OWASP advice), and every CSV the tool
reads passes each cell through :func:`unescape`, which takes exactly that
apostrophe off again.  A text that already starts with apostrophes before a
trigger gets one more, so ``unescape(escape(text)) == text`` for every text.
"""

from __future__ import annotations

import re

TRIGGERS = "=+-@\t\r"
_NEEDS = re.compile(r"'*[=+\-@\t\r]")


def needs_escape(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula (or it looks escaped)."""
    return _NEEDS.match(text) is not None


def escape(text: str) -> str:
    """``text`` as written into a CSV cell: an apostrophe first when it could be a formula."""
    return "'" + text if needs_escape(text) else text


def unescape(text: str) -> str:
    """The inverse of :func:`escape`: the one apostrophe it added, taken off."""
    if text.startswith("'") and needs_escape(text[1:]):
        return text[1:]
    return text
