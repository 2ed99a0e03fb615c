from hypothesis import given
from hypothesis import strategies as st

from bulk_update.csvtext import escape, unescape


@given(st.text())
def test_unescape_undoes_escape_for_every_text(text: str) -> None:
    assert unescape(escape(text)) == text


@given(st.text())
def test_an_escaped_cell_never_starts_like_a_formula(text: str) -> None:
    assert escape(text)[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_the_known_payloads_get_one_apostrophe() -> None:
    for payload in (
        "=cmd|' /C calc'!A0",
        '=HYPERLINK("http://x")',
        "@SUM(A1)",
        "+1 555",
        "-5",
        "\t=1",
    ):
        assert escape(payload) == "'" + payload


def test_plain_text_and_quoted_text_are_left_alone() -> None:
    for text in ("", "Closed Lost", "O1234", "it's fine", "'quoted'", "a=b"):
        assert escape(text) == text
        assert unescape(text) == text


def test_a_text_that_already_looks_escaped_round_trips() -> None:
    assert escape("'=1") == "''=1"
    assert unescape("''=1") == "'=1"
