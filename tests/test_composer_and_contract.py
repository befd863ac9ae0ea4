"""Replies: facts from the facts file only, sources named, one valid contract."""

from __future__ import annotations

import re

import jsonschema
import pytest

from actions import contract
from actions.composer import DISCLAIMER, TEXT_BUDGET
from actions.facts_schema import TOPIC_IDS
from actions.resolver import GENERAL, Decision, Entity


def check_contract(custom) -> None:
    jsonschema.validate(custom, contract.SCHEMA)


@pytest.mark.parametrize("topic", TOPIC_IDS)
def test_every_topic_answers_from_its_facts_with_sources(runtime, topic) -> None:
    reply = runtime.composer.compose(Decision("answer", topic=topic))
    check_contract(reply.custom)
    assert reply.custom["kind"] == "answer" and reply.custom["topics"][0] == topic
    store = runtime.store
    facts = [store.fact(fid) for fid in reply.custom["facts"]]
    assert facts, "an answer states at least one fact"
    for fact in facts:
        assert fact.text in reply.text  # the fact's own words, nothing invented
    quotes = {(s.document, s.article, s.quote) for f in facts for s in f.sources}
    assert {(s["document"], s["article"], s["quote"]) for s in reply.custom["sources"]} == quotes
    assert re.search(r"^Sources?: ", reply.text, re.MULTILINE)
    assert sum(len(f.text) for f in facts[1:]) <= TEXT_BUDGET  # fits a chat bubble
    assert len(reply.buttons) <= 3


def test_conflicting_articles_are_reported_honestly(runtime) -> None:
    reply = runtime.composer.compose(Decision("answer", topic="redness", aspect="duration"))
    assert reply.custom["facts"][0] == "redness.duration"
    assert "a few hours to a couple of days" in reply.text and "a few days to a week" in reply.text
    quotes = " ".join(s["quote"] for s in reply.custom["sources"])
    assert "a few hours to a couple of days" in quotes and "a few days to a week" in quotes


def test_missing_aspect_is_said_not_invented(runtime) -> None:
    reply = runtime.composer.compose(Decision("answer", topic="bruising", aspect="duration"))
    assert reply.text.startswith("The articles don't say how long bruising lasts.")
    assert all(runtime.store.fact(f).topic == "bruising" for f in reply.custom["facts"])


def test_values_the_articles_do_not_name_are_flagged(runtime) -> None:
    decision = Decision("answer", topic="contraindications", subject=Entity("skin_condition", "pregnancy"))
    reply = runtime.composer.compose(decision)
    assert "don't mention pregnancy" in reply.text


def test_a_named_value_read_as_a_risk_is_not_called_unmentioned(runtime) -> None:
    decision = Decision("answer", topic="scarring", subject=Entity("skin_condition", "acne_scars"))
    reply = runtime.composer.compose(decision)
    assert reply.text.startswith("Here is what the articles say about scarring:")
    assert "don't mention" not in reply.text
    assert reply.custom["topics"] == ["scarring"]


def test_an_answer_beside_a_kind_of_microneedling_says_the_articles_do_not_cover_it(runtime) -> None:
    variant = Entity("off_topic", "microneedling_variant")
    reply = runtime.composer.compose(Decision("answer", topic="swelling", aside=variant))
    caveat = runtime.store.lexicon_entry(variant.entity, variant.value).caveat
    assert caveat and reply.text.startswith(caveat)
    assert "RF microneedling" in caveat and reply.custom["topics"] == ["swelling"]
    plain = runtime.composer.compose(Decision("answer", topic="swelling"))
    assert plain.custom == reply.custom  # the same facts and sources


def test_named_condition_gets_its_own_fact_first(runtime) -> None:
    decision = Decision("answer", topic="contraindications", subject=Entity("skin_condition", "eczema"))
    reply = runtime.composer.compose(decision)
    assert reply.custom["facts"][0] == "contraindications.eczema"


def test_follow_up_buttons_are_choose_option_payloads(runtime) -> None:
    reply = runtime.composer.compose(Decision("answer", topic="swelling", aspect=GENERAL))
    assert reply.buttons
    for button in reply.buttons:
        assert button["payload"].startswith('/choose_option{"topic": "')


def test_clarify_offers_up_to_three_topics(runtime) -> None:
    decision = Decision(
        "clarify",
        candidates=[("redness", "duration"), ("swelling", GENERAL), ("aftercare", GENERAL), ("benefits", GENERAL)],
    )
    reply = runtime.composer.compose(decision)
    check_contract(reply.custom)
    assert reply.custom["kind"] == "clarify"
    assert reply.custom["topics"] == ["redness", "swelling", "aftercare"]
    assert [b["title"] for b in reply.buttons][0] == "How long does redness last?"


@pytest.mark.parametrize(
    "red_flags,emergency",
    [(["infection_signs"], False), (["breathing_difficulty"], True), (["prolonged_symptoms"], False)],
)
def test_urgent_answers(runtime, red_flags, emergency) -> None:
    reply = runtime.composer.compose(Decision("urgent", red_flags=red_flags))
    check_contract(reply.custom)
    assert reply.custom["kind"] == "urgent"
    assert reply.custom["topics"][0] == "when_to_seek_help"
    assert reply.custom["sources"], "the urgent answer cites its source"
    clinic = runtime.clinic
    assert clinic.phone in reply.text
    if emergency:
        assert f"call {clinic.emergency_number} now" in reply.text
    else:
        assert "seek medical attention promptly" in reply.text


def test_an_answer_about_a_sign_opens_with_the_advice_to_get_help(runtime) -> None:
    """'Is pus normal after microneedling?' is answered, not escalated, but says what to do."""
    reply = runtime.composer.compose(Decision("answer", topic="infection", red_flags=["infection_signs"]))
    check_contract(reply.custom)
    assert (reply.custom["kind"], reply.custom["topics"]) == ("answer", ["infection"])
    clinic = runtime.clinic
    assert reply.text.startswith("If you have signs of an infection, please seek medical attention promptly")
    assert f"call {clinic.name} on {clinic.phone}" in reply.text
    assert reply.custom["sources"]


def test_an_answer_about_an_emergency_sign_opens_with_the_emergency_number(runtime) -> None:
    """'Does microneedling cause swelling of the lips?': answered, but says to call for help if it happens."""
    reply = runtime.composer.compose(Decision("answer", topic="swelling", red_flags=["breathing_difficulty"]))
    check_contract(reply.custom)
    assert (reply.custom["kind"], reply.custom["topics"]) == ("answer", ["swelling"])
    assert reply.text.startswith(
        "If you ever have trouble breathing or swelling of the throat, tongue or lips, "
        f"call {runtime.clinic.emergency_number} now"
    )


@pytest.mark.parametrize("kind", ["out_of_scope", "contact", "fallback"])
def test_declines_give_the_clinic_and_no_facts(runtime, kind) -> None:
    reply = runtime.composer.compose(Decision(kind))
    check_contract(reply.custom)
    assert reply.custom["kind"] == ("out_of_scope" if kind == "contact" else kind)
    assert reply.custom["facts"] == [] and reply.custom["sources"] == []
    assert runtime.clinic.phone in reply.text


def test_an_unrelated_emergency_is_declined_with_the_emergency_number_first(runtime) -> None:
    emergency = Entity("off_topic", "medical_emergency")
    reply = runtime.composer.compose(Decision("out_of_scope", subject=emergency))
    check_contract(reply.custom)
    assert reply.custom["kind"] == "out_of_scope" and reply.custom["facts"] == []
    assert reply.text.startswith(f"If this is a medical emergency, call {runtime.clinic.emergency_number} now.")


def test_disclaimer_only_when_asked(runtime) -> None:
    first = runtime.composer.compose(Decision("answer", topic="redness"), with_disclaimer=True)
    later = runtime.composer.compose(Decision("answer", topic="redness"))
    assert DISCLAIMER in first.text and DISCLAIMER not in later.text


def test_contract_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError):
        contract.payload("maybe")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"kind": "answer", "topics": ["not_a_topic"], "facts": [], "sources": []}, contract.SCHEMA)
