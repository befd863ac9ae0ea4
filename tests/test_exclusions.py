"""What a message sets aside ("besides redness, what else?") is never its subject."""

from __future__ import annotations

import pytest

from components.exclusions import excluded_spans


def set_aside(text: str) -> list:
    return [text[a:b].strip() for a, b in excluded_spans(text)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("besides redness, what other side effects are there?", ["redness"]),
        ("other than swelling and redness what else can happen", ["swelling and redness"]),
        ("Apart from the peeling are there other side effects", ["the peeling"]),
        ("what side effects are there besides the redness?", ["the redness"]),
        ("Aside from bruising; anything else?", ["bruising"]),
        # nothing set aside
        ("how long does redness last", []),
        ("my redness went beyond", []),
    ],
)
def test_excluded_spans(text, expected) -> None:
    assert set_aside(text) == expected


def test_a_set_aside_span_is_bounded() -> None:
    text = "besides " + "very " * 40 + "red"
    ((start, end),) = excluded_spans(text)
    assert end - start <= 60
