"""What a message sets aside ("besides redness, what else?") is never its subject."""

from __future__ import annotations

import pytest

from components.exclusions import excluded_spans, set_aside


def spans_text(text: str) -> list:
    return [text[a:b].strip() for a, b in excluded_spans(text)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("besides redness, what other side effects are there?", ["redness"]),
        ("other than swelling and redness what else can happen", ["swelling and redness"]),
        ("Apart from the peeling are there other side effects", ["the peeling"]),
        ("what side effects are there besides the redness?", ["the redness"]),
        ("Aside from bruising; anything else?", ["bruising"]),
        # what is set aside ends where the message goes on
        ("besides the redness I got dryness on day 2", ["the redness"]),
        # nothing set aside
        ("how long does redness last", []),
        ("my redness went beyond", []),
        # the item is all the patient has: it is the subject
        ("nothing other than redness so far, how long does it last?", []),
        ("no side effects except peeling. how long will it last?", []),
        ("my skin is fine except for dryness, what should I put on it?", []),
    ],
)
def test_excluded_spans(text, expected) -> None:
    assert spans_text(text) == expected


@pytest.mark.parametrize(
    "text,words,expected",
    [
        # asks about the rest
        ("besides redness, what else can happen?", ["redness"], [True]),
        ("Any side effects other than redness I should expect?", ["redness"], [True]),
        ("Beyond the redness, is there anything to worry about?", ["redness"], [True]),
        # names something else: that is the subject
        ("besides the redness I got dryness on day 2, how do I treat it?", ["redness", "dryness"], [True, False]),
        # neither: the item set aside is still what the message is about
        ("apart from the redness on my chin, is it normal on day 5?", ["redness"], [False]),
        # "other than" itself does not ask about the others
        ("other than the redness on my chin, is it normal on day 5?", ["redness"], [False]),
    ],
)
def test_set_aside_needs_a_question_about_the_rest_or_another_subject(text, words, expected) -> None:
    assert set_aside(text, [text.index(w) for w in words]) == expected


def test_a_set_aside_span_is_bounded() -> None:
    text = "besides " + "very " * 40 + "red"
    ((start, end),) = excluded_spans(text)
    assert end - start <= 60
