"""The tokenizer the classifier reads: lemmas, and the treatment's other names."""

from __future__ import annotations

from typing import List, Tuple

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.lemma_tokenizer import LemmaTokenizer


def tokens(text: str) -> List[Tuple[str, str]]:
    tokenizer = LemmaTokenizer(LemmaTokenizer.get_default_config())
    return [(t.text, t.lemma) for t in tokenizer.tokenize(Message.build(text), "text")]


def test_tokens_carry_lemmas() -> None:
    assert tokens("my face is swollen") == [("my", "my"), ("face", "face"), ("is", "be"), ("swollen", "swell")]


@pytest.mark.parametrize(
    "text,name",
    [
        ("Who should not get collagen induction therapy?", "collagen induction therapy"),
        ("is Percutaneous Collagen Induction safe", "Percutaneous Collagen Induction"),
        ("redness after skin needling", "skin needling"),
        ("micro-needling side effects", "micro-needling"),
    ],
)
def test_other_names_of_the_treatment_read_as_microneedling(text: str, name: str) -> None:
    found = tokens(text)
    assert (name, "microneedling") in found
    assert len([t for t in found if t[1] == "microneedling"]) == 1


def test_names_are_kept_apart_when_the_message_compares_them() -> None:
    found = tokens("is skin needling the same thing as microneedling")
    assert found[1:3] == [("skin", "skin"), ("needling", "needle")]


def test_words_of_a_name_alone_are_left_alone() -> None:
    assert ("collagen", "collagen") in tokens("does it boost collagen")
    assert ("skin", "skin") in tokens("my skin is red")


def test_a_message_of_only_punctuation_still_gets_tokens() -> None:
    # punctuation is dropped, except when nothing else is left
    assert tokens("???") == [("?", "?"), ("?", "?"), ("?", "?")]
    assert tokens("red?") == [("red", "red")]


def test_a_page_title_s_site_name_is_left_out() -> None:
    assert [lemma for _, lemma in tokens("What is skin needling? | Melbourne Skin Clinic")] == [
        "what",
        "be",
        "microneedling",
    ]
