"""Lexicon entities: lemma-aware, typo-tolerant, negation-aware, longest match."""

from __future__ import annotations

from typing import List, Tuple

import pytest


def found(matcher, text: str) -> List[Tuple[str, str]]:
    return [(m.entity, m.value) for m in matcher.match(text)]


@pytest.mark.parametrize(
    "text,expected",
    [
        # lemmas: one term reaches every inflection
        ("my face is swollen", ("side_effect", "swelling")),
        ("the swelling", ("side_effect", "swelling")),
        ("it swells", ("side_effect", "swelling")),
        ("so puffy", ("side_effect", "swelling")),
        ("I bruised", ("side_effect", "bruising")),
        ("lots of bruises", ("side_effect", "bruising")),
        ("my skin is peeling", ("side_effect", "dryness")),
        ("flaky patches", ("side_effect", "dryness")),
        ("my face is red", ("side_effect", "redness")),
        ("I look sunburnt", ("side_effect", "redness")),
        ("dark spots", ("side_effect", "hyperpigmentation")),
        ("my skin got darker", ("side_effect", "hyperpigmentation")),
        ("does it hurt", ("side_effect", "pain_discomfort")),
        # typos one edit away from a term, when they are not English words
        ("sweling", ("side_effect", "swelling")),
        ("rednes", ("side_effect", "redness")),
        ("alergic reaction", ("side_effect", "allergic_reaction")),
        ("I have exzema", ("skin_condition", "eczema")),
        # conditions and care items
        ("I have rosacea", ("skin_condition", "rosacea")),
        ("darker skin tone", ("skin_condition", "darker_skin")),
        ("I'm Fitzpatrick type V", ("skin_condition", "darker_skin")),
        ("can I wear makeup", ("care_item", "makeup")),
        ("when can I go to the gym", ("care_item", "exercise")),
        ("what about botox", ("off_topic", "other_treatment")),
        ("how much does it cost", ("off_topic", "cost_and_cover")),
        ("is it covered by insurance", ("off_topic", "cost_and_cover")),
        ("I think I'm having a heart attack", ("off_topic", "medical_emergency")),
        ("my dad's face is drooping on one side", ("off_topic", "medical_emergency")),
        ("can microneedling improve rough skin texture", ("skin_condition", "skin_texture")),
        ("can I go outside after", ("care_item", "sun")),
        ("do they reuse the needles", ("care_item", "sterile_equipment")),
        ("worried about catching something", ("side_effect", "infection")),
        ("could you catch HIV or hepatitis from a microneedling facial", ("side_effect", "infection")),
        ("hot yoga the day after, bad idea?", ("care_item", "exercise")),
        # clinical words
        ("is desquamation normal after collagen induction therapy", ("side_effect", "dryness")),
        ("ecchymosis under the eyes", ("side_effect", "bruising")),
        ("I'm south asian, will I get dark marks", ("skin_condition", "darker_skin")),
        ("brown splotches on my cheeks", ("side_effect", "hyperpigmentation")),
        ("are microneedling pens cleared by regulators", ("off_topic", "regulatory_status")),
    ],
)
def test_terms_are_found(lexicon_matcher, text: str, expected: Tuple[str, str]) -> None:
    assert expected in found(lexicon_matcher, text)


@pytest.mark.parametrize("text", ["how are you feeling", "I was spelling it wrong", "the dwelling"])
def test_real_words_are_not_corrected_into_terms(lexicon_matcher, text: str) -> None:
    assert found(lexicon_matcher, text) == []


def test_longest_match_wins(lexicon_matcher) -> None:
    # the idiom is not redness
    assert found(lexicon_matcher, "red flags when choosing a clinic") == [("side_effect", "warning_signs")]
    assert found(lexicon_matcher, "I get cold sores") == [("side_effect", "cold_sores")]
    assert found(lexicon_matcher, "is it safe for darker skin") == [("skin_condition", "darker_skin")]
    # an illness elsewhere in the body is a reason to wait, not an infection of the skin
    assert found(lexicon_matcher, "on antibiotics for a chest infection") == [
        ("skin_condition", "current_illness"),
        ("skin_condition", "current_illness"),
    ]
    assert found(lexicon_matcher, "can I use a cold compress") == []
    # "got a cold" inside "got a cold sore" is the cold sore
    assert found(lexicon_matcher, "Got a cold sore three days after microneedling") == [("side_effect", "cold_sores")]
    assert found(lexicon_matcher, "Microneedling during chemotherapy - is it allowed?") == [
        ("skin_condition", "cancer_treatment")
    ]
    assert found(lexicon_matcher, "What skin conditions can microneedling make worse?") == [
        ("skin_condition", "skin_conditions")
    ]
    # "run" in "run by a nurse" is not exercise; a hyaluronic acid serum hydrates
    assert found(lexicon_matcher, "the clinic is run by a nurse") == []
    assert found(lexicon_matcher, "hyaluronic acid serum after microneedling") == [("care_item", "moisturiser")]
    assert found(lexicon_matcher, "back on my exfoliating acids") == [("care_item", "actives")]
    # cuts and cat scratches are open wounds; scratching an itch is not
    assert found(lexicon_matcher, "open cuts from my cat scratching me") == [
        ("skin_condition", "open_wounds"),
        ("skin_condition", "open_wounds"),
    ]
    assert found(lexicon_matcher, "I keep scratching my face") == []
    # a child who has eaten the cream is an emergency; a hairdresser's bleach is not
    assert ("off_topic", "medical_emergency") in found(lexicon_matcher, "i think she's eaten some of the cream")
    assert found(lexicon_matcher, "I'm a hairdresser, around bleach all day") == []
    assert found(lexicon_matcher, "I've eaten some chocolate") == []
    assert found(lexicon_matcher, "ate some of the chocolate, will it cause breakouts") == [
        ("skin_condition", "active_acne")
    ]
    assert ("off_topic", "medical_emergency") in found(lexicon_matcher, "my toddler has eaten numbing cream")
    # products, devices, courses and history the articles say nothing of
    assert found(lexicon_matcher, "best serum to use with a derma roller at home?") == [
        ("off_topic", "buying_and_training")
    ]
    assert found(lexicon_matcher, "When Was Microneedling Invented?") == [("off_topic", "treatment_history")]
    assert found(lexicon_matcher, "Is Aquagold the Same as Microneedling?") == [("off_topic", "other_treatment")]


@pytest.mark.parametrize(
    "text,expected",
    [
        # the facts file's lexicon_idioms: longer than the term, so they win and name nothing
        ("trying to work out if I can go to a wedding 2 days later", []),
        ("Burning Questions About Microneedling, Answered", []),
        ("red carpet ready after microneedling?", []),
        ("I have tennis elbow, can I still get microneedling?", []),
        ("I got dirt cheap microneedling at a salon", []),
        # drying with a towel is not dry skin; a port wine stain is no drink
        ("can rubbing your face dry with a towel hurt?", [("side_effect", "pain_discomfort")]),
        ("can microneedling lighten a port wine birthmark?", [("off_topic", "unrelated_body_topic")]),
        # red wine is a drink, not redness
        ("can I drink red wine after", [("care_item", "lifestyle")]),
        ("a cheeky glass of red with dinner", [("care_item", "lifestyle")]),
        # the term itself still counts
        ("when can I work out again", [("care_item", "exercise")]),
        ("my skin is burning", [("side_effect", "pain_discomfort")]),
        # "number" is not the comparative of "numb" (a lemma fixed in the pipeline)
        ("what number should I call", []),
        ("my face feels numb", [("care_item", "numbing_cream")]),
        ("help or hurt?", []),
        # "my age spots" is pigmentation, not an age question plus acne "spots"
        ("can microneedling remove my age spots?", [("side_effect", "hyperpigmentation")]),
        ("is it safe at my age", [("skin_condition", "age")]),
    ],
)
def test_idioms_are_not_terms(lexicon_matcher, text: str, expected: List[Tuple[str, str]]) -> None:
    assert found(lexicon_matcher, text) == expected


@pytest.mark.parametrize(
    "text",
    ["Is skin needling a safe treatment? - Brisbane Skin & Laser FAQ", "Microneedling swelling | City Laser Clinic"],
)
def test_a_site_name_in_a_page_title_is_not_off_topic(lexicon_matcher, text: str) -> None:
    assert all(entity != "off_topic" for entity, _ in found(lexicon_matcher, text))


def test_off_topic_words_in_the_question_still_count(lexicon_matcher) -> None:
    assert ("off_topic", "other_treatment") in found(lexicon_matcher, "Is laser better? - Skin FAQ")
    assert ("off_topic", "other_treatment") in found(lexicon_matcher, "microneedling - laser or not")


def test_negated_terms_are_dropped(lexicon_matcher) -> None:
    assert found(lexicon_matcher, "no pus or fever, just a bit red on day 2") == [("side_effect", "redness")]
    assert found(lexicon_matcher, "I don't have any swelling") == []
    # a care item stays the subject, denied or not
    assert found(lexicon_matcher, "Can you have microneedling without numbing cream?") == [
        ("care_item", "numbing_cream")
    ]
    assert found(lexicon_matcher, "no makeup for how long?") == [("care_item", "makeup")]


def test_offsets_point_into_the_message(lexicon_matcher) -> None:
    text = "Day 2: my cheeks are PUFFY and flaky"
    spans = {m.value: text[m.start : m.end] for m in lexicon_matcher.match(text)}
    assert spans == {"swelling": "PUFFY", "dryness": "flaky"}


def test_matcher_survives_a_json_round_trip(lexicon_matcher) -> None:
    from components.lexicon_matcher import LexiconMatcher

    copy = LexiconMatcher.from_json(lexicon_matcher.to_json())
    text = "sweling and bruises after microneedling"
    assert found(copy, text) == found(lexicon_matcher, text)
