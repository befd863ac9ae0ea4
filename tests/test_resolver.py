"""What a message asks: topic and aspect from question type, subject and focus."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Sequence, Tuple

import pytest

from actions.resolver import GENERAL, Entity, Resolver, Understanding


def understood(
    intent: Optional[str],
    entities: Sequence[Tuple[str, str]] = (),
    text: str = "",
    focus: Tuple[Optional[str], Optional[str]] = (None, None),
    confidence: float = 0.9,
    ranking: Sequence[Tuple[str, float]] = (),
    excluded: Sequence[Tuple[str, str]] = (),
) -> Understanding:
    return Understanding(
        intent=intent,
        confidence=confidence,
        ranking=list(ranking) or [(intent or "nlu_fallback", confidence)],
        entities=[Entity(e, v) for e, v in entities],
        text=text,
        focus_topic=focus[0],
        focus_aspect=focus[1],
        excluded=[Entity(e, v) for e, v in excluded],
    )


@pytest.fixture(scope="module")
def resolver(runtime) -> Resolver:
    return runtime.resolver


@pytest.mark.parametrize(
    "intent,entities,text,expected",
    [
        # the subject decides the topic, the question type the aspect
        ("ask_duration", [("side_effect", "redness")], "how long does redness last", ("redness", "duration")),
        ("ask_cause", [("side_effect", "bruising")], "why do I bruise", ("bruising", "cause")),
        ("ask_manage", [("side_effect", "dryness")], "how to stop peeling", ("dryness", "management")),
        ("ask_symptom", [("side_effect", "swelling")], "is puffiness normal", ("swelling", GENERAL)),
        # a care item decides "what kind of" questions
        (
            "ask_what_is",
            [("care_item", "sunscreen")],
            "what kind of sunscreen is best after",
            ("sun_protection", GENERAL),
        ),
        # no subject: the question type's own topic
        ("ask_duration", [], "what's the downtime", ("recovery_time", "duration")),
        ("ask_go_wrong", [], "can it go wrong", ("can_it_go_wrong", GENERAL)),
        ("ask_what_is", [], "what is microneedling", ("what_is_microneedling", GENERAL)),
        ("ask_manage", [], "what should I do after", ("aftercare", "management")),
        # a named condition wants the specific answer, not the general safety one
        ("ask_safety", [("skin_condition", "eczema")], "is it safe for eczema", ("contraindications", GENERAL)),
        ("ask_safety", [("skin_condition", "darker_skin")], "safe for dark skin?", ("hyperpigmentation", GENERAL)),
        (
            "ask_suitability",
            [("skin_condition", "rosacea"), ("side_effect", "redness")],
            "rosacea?",
            ("contraindications", GENERAL),
        ),
        # ... but a reported symptom wants the symptom answer
        (
            "ask_symptom",
            [("skin_condition", "active_acne")],
            "pimples after microneedling",
            ("side_effects_overview", GENERAL),
        ),
        (
            "ask_suitability",
            [("skin_condition", "active_acne")],
            "breaking out, should I wait",
            ("contraindications", GENERAL),
        ),
        # care items
        ("ask_aftercare", [("care_item", "makeup")], "can I wear makeup", ("aftercare", GENERAL)),
        ("ask_aftercare", [("care_item", "sun")], "can I sunbathe", ("sun_protection", GENERAL)),
        # asking whether it is an allergy makes the allergy the subject
        (
            "ask_symptom",
            [("side_effect", "rash"), ("side_effect", "redness"), ("side_effect", "allergic_reaction")],
            "rash after microneedling, itchy red bumps, is that an allergy",
            ("allergic_reaction", GENERAL),
        ),
        (
            "ask_symptom",
            [("side_effect", "redness"), ("side_effect", "itching")],
            "face went red and itchy when the numbing cream went on, was that a reaction?",
            ("allergic_reaction", GENERAL),
        ),
        (
            "ask_symptom",
            [("side_effect", "bumps_breakouts")],
            "purging or a reaction?",
            ("side_effects_overview", GENERAL),
        ),
        # what the treatment improves comes after any other condition named
        (
            "ask_suitability",
            [("skin_condition", "acne_scars"), ("skin_condition", "age")],
            "im 16 and have acne scars, am i old enough for microneedling",
            ("contraindications", GENERAL),
        ),
        (
            "ask_benefits",
            [("skin_condition", "acne_scars"), ("skin_condition", "age")],
            "help teen acne scars?",
            ("benefits", GENERAL),
        ),
        # a product in use at the time of treatment: who should wait
        (
            "ask_suitability",
            [("care_item", "actives")],
            "Can You Get Microneedling If You Use Tretinoin?",
            ("contraindications", GENERAL),
        ),
        # a day after treatment named: the recovery, not what the treatment is
        ("ask_what_is", [], "What Happens on Microneedling Day 2?", ("recovery_time", GENERAL)),
        ("ask_what_is", [], "what happens during microneedling", ("what_is_microneedling", GENERAL)),
        # a "why" question about the treatment itself, not about a symptom after it
        ("ask_cause", [], "Why Do People Get Microneedling?", ("benefits", GENERAL)),
        (
            "ask_cause",
            [],
            "Why is microneedling called collagen induction therapy?",
            ("what_is_microneedling", GENERAL),
        ),
        ("ask_cause", [], "why does my skin feel weird after microneedling", ("side_effects_overview", "cause")),
        # a symptom the articles do not name, after the cream they say some react to
        (
            "ask_cause",
            [("side_effect", "itching"), ("care_item", "numbing_cream")],
            "Why does my skin itch after applying numbing cream?",
            ("allergic_reaction", "cause"),
        ),
        (
            "ask_cause",
            [("side_effect", "redness"), ("care_item", "numbing_cream")],
            "why am I red after the numbing cream",
            ("redness", "cause"),
        ),
        # the run-up reading of a care item wins over another subject
        (
            "ask_recovery",
            [("care_item", "actives"), ("skin_condition", "active_acne")],
            "on tretinoin every night for acne, do i need to stop before microneedling",
            ("contraindications", GENERAL),
        ),
        (
            "ask_suitability",
            [("care_item", "actives")],
            "can I get microneedling while on tretinoin?",
            ("contraindications", GENERAL),
        ),
        (
            "ask_prevention",
            [("care_item", "actives")],
            "how long should I stop my retinol before I go in for it?",
            ("contraindications", "prevention"),
        ),
        # the run-up to treatment: who should wait or avoid it
        ("ask_prevention", [], "What should I avoid before the treatment?", ("contraindications", GENERAL)),
        ("ask_aftercare", [], "how do I prepare for my session?", ("contraindications", GENERAL)),
        # a condition named beside what it improves comes first (found by
        # review: a contraindication must not be dropped)
        (
            "ask_benefits",
            [("skin_condition", "rosacea"), ("skin_condition", "acne_scars")],
            "I have rosacea, will microneedling help my acne scars?",
            ("contraindications", GENERAL),
        ),
        # what it improves, worded as getting worse, is a risk
        (
            "ask_benefits",
            [("skin_condition", "acne_scars")],
            "is it possible for microneedling to make my acne scars worse?",
            ("scarring", GENERAL),
        ),
        (
            "ask_benefits",
            [("side_effect", "hyperpigmentation")],
            "does hydroquinone help if microneedling darkened my skin",
            ("hyperpigmentation", GENERAL),
        ),
        # being allergic to something is about allergic reactions, whatever
        # else is named
        (
            "ask_practitioner",
            [("side_effect", "allergic_reaction"), ("care_item", "moisturiser")],
            "can u be alergic to microneedling itself or only the creams they use",
            ("allergic_reaction", GENERAL),
        ),
        # a condition in a recovery question happened after the treatment
        (
            "ask_recovery",
            [("skin_condition", "active_acne")],
            "woke up with breakouts the day after my session",
            ("side_effects_overview", GENERAL),
        ),
        # "before bed", "again": not the run-up to treatment
        (
            "ask_aftercare",
            [("care_item", "actives")],
            "how long should I wait before using retinol again?",
            ("aftercare", GENERAL),
        ),
        (
            "ask_aftercare",
            [("care_item", "actives")],
            "2 days ago, can I use retinol before bed?",
            ("aftercare", GENERAL),
        ),
        # "why" about a symptom stays a side-effect question
        ("ask_cause", [], "why does the skin get so hot?", ("side_effects_overview", "cause")),
        ("ask_cause", [], "Why Should I Try Microneedling?", ("benefits", GENERAL)),
        # "this reaction" is not "an allergic reaction"
        ("ask_symptom", [("side_effect", "redness")], "is this reaction normal? red on day 3", ("redness", GENERAL)),
        # what the treatment is done for, in a recovery question, is no symptom
        (
            "ask_recovery",
            [("skin_condition", "acne_scars")],
            "recovery for acne scar microneedling?",
            ("recovery_time", GENERAL),
        ),
        # "help with scars" asks what it improves; "hurt" is still pain
        ("ask_benefits", [("side_effect", "scarring")], "Does Microneedling Help with Scars?", ("benefits", GENERAL)),
        (
            "ask_benefits",
            [("side_effect", "pain_discomfort")],
            "Does Microneedling Hurt?",
            ("pain_discomfort", GENERAL),
        ),
        # a care item said to cause a named side effect: the side effect
        (
            "ask_aftercare",
            [("care_item", "moisturiser"), ("side_effect", "allergic_reaction")],
            "Can the creams used during microneedling cause an allergic reaction?",
            ("allergic_reaction", GENERAL),
        ),
        # a painkiller in an aftercare question eases the pain, whatever else it is
        (
            "ask_aftercare",
            [("care_item", "painkillers"), ("skin_condition", "blood_thinners")],
            "what painkiller can I take after, is ibuprofen ok",
            ("pain_discomfort", GENERAL),
        ),
        # a product in the run-up to treatment: who should wait, not aftercare
        (
            "ask_prevention",
            [("care_item", "actives")],
            "how many days before microneedling should I stop tretinoin",
            ("contraindications", "prevention"),
        ),
        ("ask_aftercare", [("care_item", "actives")], "retinol before and after?", ("aftercare", GENERAL)),
        ("ask_aftercare", [("care_item", "actives")], "retinol the night after?", ("aftercare", GENERAL)),
        # the numbing cream: pain, unless a reaction to it is the question
        # (found by review: "what does it feel like", scabbing, "sensitive
        # skin" and sunlight are not reactions to it)
        (
            "ask_what_is",
            [("side_effect", "treatment_feel"), ("care_item", "numbing_cream")],
            "what does it feel like with numbing cream?",
            ("pain_discomfort", GENERAL),
        ),
        (
            "ask_symptom",
            [("side_effect", "scabbing"), ("care_item", "numbing_cream")],
            "will there be scabbing if you use numbing cream?",
            ("dryness", GENERAL),
        ),
        (
            "ask_sun",
            [("care_item", "sun")],
            "can you react to sunlight after microneedling?",
            ("sun_protection", GENERAL),
        ),
        (
            "ask_symptom",
            [("side_effect", "itching"), ("care_item", "patch_test")],
            "I got itchy after my patch test",
            ("allergic_reaction", GENERAL),
        ),
        # "while on holiday" after treatment is not the run-up
        (
            "ask_suitability",
            [("care_item", "washing")],
            "is it ok to shower while on holiday? had microneedling",
            ("aftercare", GENERAL),
        ),
        ("ask_symptom", [("care_item", "numbing_cream")], "can I use numbing cream", ("pain_discomfort", GENERAL)),
        ("ask_safety", [("care_item", "numbing_cream")], "is numbing cream safe?", ("allergic_reaction", GENERAL)),
        (
            "ask_symptom",
            [("care_item", "numbing_cream")],
            "very bad reaction to lidocaine numbing cream",
            ("allergic_reaction", GENERAL),
        ),
        (
            "ask_symptom",
            [("care_item", "numbing_cream"), ("side_effect", "redness"), ("side_effect", "itching")],
            "numbing cream made my skin blotchy and itchy",
            ("allergic_reaction", GENERAL),
        ),
        # a sun question that names no care item but a symptom: the symptom
        ("ask_sun", [("side_effect", "redness")], "looks sunburnt after", ("redness", GENERAL)),
        (
            "ask_sun",
            [("care_item", "sun"), ("side_effect", "redness")],
            "beach after, will I burn",
            ("sun_protection", GENERAL),
        ),
        # a side effect the articles name comes before one they do not
        (
            "ask_symptom",
            [("side_effect", "itching"), ("side_effect", "allergic_reaction")],
            "itchy, is that an allergic reaction?",
            ("allergic_reaction", GENERAL),
        ),
        ("ask_symptom", [("side_effect", "itching")], "itchy face after", ("side_effects_overview", GENERAL)),
        (
            "ask_cause",
            [("skin_condition", "skin_texture")],
            "why is my skin bumpy and textured",
            ("side_effects_overview", "cause"),
        ),
        ("ask_benefits", [("skin_condition", "skin_texture")], "does it improve texture", ("benefits", GENERAL)),
        # what the treatment improves, asked as a risk: the risk
        ("ask_go_wrong", [("skin_condition", "acne_scars")], "can it make my acne scars worse", ("scarring", GENERAL)),
        # ... but not when it is only named: "is it safe for acne scars?" asks about safety
        (
            "ask_safety",
            [("skin_condition", "acne_scars")],
            "my sister wants it for her acne scars, is it safe",
            ("safety_overall", GENERAL),
        ),
        # a condition in an aftercare question happened after the treatment
        (
            "ask_aftercare",
            [("skin_condition", "active_acne")],
            "pimples on day 5 after microneedling, can I pop them",
            ("side_effects_overview", GENERAL),
        ),
        ("ask_benefits", [("skin_condition", "acne_scars")], "does it help acne scars", ("benefits", GENERAL)),
        # "make a difference" asks what it improves, "make worse" about a risk
        (
            "ask_benefits",
            [("side_effect", "scarring")],
            "old chickenpox scars, would microneedling make a visible difference",
            ("benefits", GENERAL),
        ),
        ("ask_go_wrong", [("side_effect", "scarring")], "could it make my scars worse", ("scarring", GENERAL)),
        # of two care items, the one the question type is about
        (
            "ask_sun",
            [("care_item", "moisturiser"), ("care_item", "sunscreen")],
            "is my tinted moisturiser with spf 15 enough",
            ("sun_protection", GENERAL),
        ),
        (
            "ask_aftercare",
            [("care_item", "sunscreen"), ("care_item", "moisturiser")],
            "sunscreen or moisturiser first after microneedling?",
            ("aftercare", GENERAL),
        ),
        # downtime asked in a question about what it treats
        (
            "ask_benefits",
            [("skin_condition", "acne_scars"), ("skin_condition", "fine_lines_wrinkles")],
            "Microneedling Downtime for Acne Scars vs Fine Lines: Is It Different?",
            ("recovery_time", GENERAL),
        ),
        # pain describes the other side effect named
        (
            "ask_what_is",
            [("side_effect", "pain_discomfort"), ("side_effect", "bruising")],
            "theres a sore purple spot under my left eye",
            ("bruising", GENERAL),
        ),
        # ... not pain compared with it, nor pain asked about with it
        (
            "ask_duration",
            [("side_effect", "pain_discomfort"), ("side_effect", "swelling")],
            "how long does the pain last compared to the swelling",
            ("pain_discomfort", "duration"),
        ),
        (
            "ask_duration",
            [("side_effect", "pain_discomfort"), ("side_effect", "swelling")],
            "will I have pain and swelling after, and how long does it last",
            ("pain_discomfort", "duration"),
        ),
        # what it treats, asked with the downtime
        (
            "ask_benefits",
            [("skin_condition", "acne_scars")],
            "is microneedling good for acne scars with little downtime",
            ("benefits", GENERAL),
        ),
        # in a sun question, an aftercare item gives way to a side effect
        (
            "ask_sun",
            [("side_effect", "swelling"), ("care_item", "sleep")],
            "Why Is My Face More Swollen on the Side I Slept On?",
            ("swelling", GENERAL),
        ),
        # "reacted to a serum before" is about allergic reactions
        (
            "ask_practitioner",
            [("care_item", "moisturiser"), ("side_effect", "redness")],
            "i've reacted to a hyaluronic acid serum before, went red",
            ("allergic_reaction", GENERAL),
        ),
        # someone with a condition or on a medicine the lexicon does not know
        ("ask_safety", [], "Is microneedling safe for people with lichen planus?", ("contraindications", GENERAL)),
        ("ask_safety", [], "Is It Safe While Taking Prednisone?", ("contraindications", GENERAL)),
        # ... not the treatment itself, had already
        ("ask_safety", [], "is it safe to fly if I have had microneedling?", ("safety_overall", GENERAL)),
        # "a sign of infection" is about infection, not the symptoms before it
        (
            "ask_seek_help",
            [("side_effect", "pain_discomfort"), ("side_effect", "infection")],
            "Is a Warm, Tender Spot a Sign of Infection After Microneedling?",
            ("infection", "warning_signs"),
        ),
        # a habit the articles do not name: whether the treatment suits the
        # patient before it, what to do about it after it
        (
            "ask_suitability",
            [("care_item", "lifestyle")],
            "I smoke, can I still get microneedling?",
            ("contraindications", GENERAL),
        ),
        (
            "ask_safety",
            [("care_item", "lifestyle")],
            "is it safe to drink alcohol after microneedling",
            ("aftercare", GENERAL),
        ),
        (
            "ask_practitioner",
            [("care_item", "numbing_cream")],
            "do you use numbing cream",
            ("pain_discomfort", GENERAL),
        ),
        ("ask_practitioner", [("side_effect", "bruising")], "who is more prone to bruising", ("bruising", GENERAL)),
        ("ask_practitioner", [], "who should do my microneedling", ("practitioner_choice", GENERAL)),
        (
            "ask_practitioner",
            [("side_effect", "warning_signs")],
            "red flags in a clinic",
            ("practitioner_choice", GENERAL),
        ),
        (
            "ask_seek_help",
            [("side_effect", "warning_signs")],
            "red flags after treatment",
            ("when_to_seek_help", "warning_signs"),
        ),
        # a subject with no warning signs of its own: when to get help
        (
            "ask_seek_help",
            [("skin_condition", "active_acne")],
            "how long before I get a slow-healing spot checked after needling",
            ("when_to_seek_help", "warning_signs"),
        ),
        # what the treatment improves, asked whatever the question type
        (
            "ask_symptom",
            [("skin_condition", "other_scars")],
            "can collagen induction therapy soften burn scars",
            ("benefits", GENERAL),
        ),
        (
            "ask_symptom",
            [("skin_condition", "other_scars")],
            "could it make my burn scars worse",
            ("scarring", GENERAL),
        ),
        # ... but not next to a condition that decides whether to have it
        (
            "ask_suitability",
            [("skin_condition", "rosacea"), ("skin_condition", "acne_scars")],
            "is it safe with rosacea if I want to treat acne scars",
            ("contraindications", GENERAL),
        ),
        # the skin as it is before treatment, not a symptom after it
        (
            "ask_symptom",
            [("skin_condition", "sunburn")],
            "can I get microneedling with windburned cheeks",
            ("contraindications", GENERAL),
        ),
        (
            "ask_symptom",
            [("skin_condition", "open_wounds")],
            "cut on my cheek from shaving, microneedling tomorrow?",
            ("contraindications", GENERAL),
        ),
        (
            "ask_symptom",
            [("skin_condition", "open_wounds")],
            "cut on my cheek since microneedling",
            ("infection", GENERAL),
        ),
        # aftercare for a skin type
        (
            "ask_aftercare",
            [("skin_condition", "active_acne")],
            "post-microneedling aftercare for oily, acne-prone skin",
            ("contraindications", GENERAL),
        ),
        (
            "ask_practitioner",
            [("device", "derma_roller")],
            "is downtime shorter with a dermaroller than a pen",
            ("recovery_time", GENERAL),
        ),
    ],
)
def test_question_topics(resolver, intent, entities, text, expected) -> None:
    decision = resolver.decide(understood(intent, entities, text))
    assert decision.kind == "answer"
    assert (decision.topic, decision.aspect) == expected


def test_follow_ups_keep_the_aspect_and_change_the_subject(resolver) -> None:
    decision = resolver.decide(
        understood("follow_up", [("side_effect", "bruising")], "and bruising?", focus=("swelling", "duration"))
    )
    assert (decision.topic, decision.aspect) == ("bruising", "duration")


def test_pronouns_lean_on_the_topic_in_focus(resolver) -> None:
    decision = resolver.decide(
        understood("ask_manage", [], "what should I do about it?", focus=("bruising", "duration"))
    )
    assert (decision.topic, decision.aspect) == ("bruising", "management")
    # without a pronoun, a general question keeps its own topic
    decision = resolver.decide(understood("ask_duration", [], "what is the downtime", focus=("bruising", GENERAL)))
    assert decision.topic == "recovery_time"


def test_buttons_choose_topic_and_aspect(resolver) -> None:
    decision = resolver.decide(understood("choose_option", [("topic", "redness"), ("aspect", "duration")]))
    assert (decision.kind, decision.topic, decision.aspect) == ("answer", "redness", "duration")
    bad = resolver.decide(understood("choose_option", [("topic", "no_such_topic"), ("aspect", "nonsense")]))
    assert bad.kind in ("clarify", "fallback")


def test_red_flags_come_first(resolver) -> None:
    decision = resolver.decide(
        understood("ask_symptom", [("side_effect", "swelling"), ("red_flag", "breathing_difficulty")], "throat tight")
    )
    assert decision.kind == "urgent" and decision.red_flags == ["breathing_difficulty"]


@pytest.mark.parametrize(
    "asked,topic",
    [("infection_signs", "infection"), ("allergic_signs", "allergic_reaction"), ("severe_pain", "pain_discomfort")],
)
def test_a_sign_asked_about_is_answered_from_its_topic(resolver, asked, topic) -> None:
    """'Is pus normal after microneedling?': answered, with the sign kept for the advice to get help."""
    decision = resolver.decide(understood("nlu_fallback", [("red_flag_asked", asked)], "is it normal?", confidence=0.2))
    assert (decision.kind, decision.topic, decision.red_flags) == ("answer", topic, [asked])
    # a sign reported in the same message still raises the alarm
    both = understood("report_red_flag", [("red_flag_asked", asked), ("red_flag", "breathing_difficulty")], "x")
    assert resolver.decide(both).kind == "urgent"


def test_a_sign_asked_about_next_to_a_side_effect_is_answered_from_the_side_effect(resolver) -> None:
    """'Does microneedling cause swelling of the lips?' asks about swelling; the
    advice for an emergency sign still comes first (the sign is kept)."""
    entities = [("side_effect", "swelling"), ("red_flag_asked", "breathing_difficulty")]
    decision = resolver.decide(understood("ask_symptom", entities, "Does microneedling cause swelling of the lips?"))
    assert (decision.kind, decision.topic, decision.red_flags) == ("answer", "swelling", ["breathing_difficulty"])


def test_only_an_emergency_sign_asked_about_gives_way_to_the_side_effect_named(resolver) -> None:
    entities = [("side_effect", "redness"), ("red_flag_asked", "infection_signs")]
    decision = resolver.decide(
        understood("ask_seek_help", entities, "Is it normal for redness to be warm to the touch?")
    )
    assert (decision.topic, decision.red_flags) == ("infection", ["infection_signs"])


def test_a_sign_asked_about_is_answered_even_next_to_an_off_topic_word(resolver) -> None:
    """The advice to call for help must not be lost in a decline."""
    entities = [
        ("off_topic", "other_treatment"),
        ("side_effect", "swelling"),
        ("red_flag_asked", "breathing_difficulty"),
    ]
    decision = resolver.decide(understood("out_of_scope", entities, "Can microneedling with PRP cause lips swelling?"))
    assert (decision.kind, decision.topic, decision.red_flags) == ("answer", "swelling", ["breathing_difficulty"])


def test_sessions_and_results_give_way_to_a_symptom(resolver) -> None:
    entities = [("off_topic", "sessions_and_results"), ("side_effect", "hyperpigmentation")]
    decision = resolver.decide(understood("ask_duration", entities, "how many sessions before the dark spots fade?"))
    assert (decision.kind, decision.topic) == ("answer", "hyperpigmentation")
    alone = understood("ask_what_is", [("off_topic", "sessions_and_results")], "How many treatments will I need?")
    assert resolver.decide(alone).kind == "out_of_scope"


def test_a_weak_guess_that_finds_no_subject_of_its_type_answers_the_one_named(resolver) -> None:
    """'got melasma, would needling flare it up?' guessed, weakly, as a question about the sun."""
    text = "got hormonal melasma after my second baby, would needling flare it up"
    weak = understood("ask_sun", [("skin_condition", "melasma")], text, confidence=0.36)
    assert (resolver.decide(weak).kind, resolver.decide(weak).topic) == ("answer", "hyperpigmentation")
    # a confident guess keeps its own reading
    sure = replace(weak, confidence=0.9)
    assert resolver.decide(sure).topic == "sun_protection"


@pytest.mark.parametrize(
    "intent,entities,text,confidence",
    [
        ("out_of_scope", [], "how much is it", 0.9),
        ("ask_side_effects", [("off_topic", "other_treatment")], "botox side effects", 0.9),
        # two devices: a comparison the articles do not make
        ("ask_what_is", [("device", "skinpen"), ("device", "dermapen")], "SkinPen vs Dermapen: which is better?", 0.9),
        # a confident "out of scope" stands, even with a side effect named
        (
            "out_of_scope",
            [("side_effect", "pain_discomfort")],
            "low pain tolerance, should I bother with treatment",
            0.95,
        ),
        # a weak one stands when the message is not about the treatment ...
        ("out_of_scope", [("side_effect", "redness")], "how to treat a sunburn from the beach", 0.7),
        # ... or names only what the treatment improves (sessions, results)
        ("out_of_scope", [("skin_condition", "acne_scars")], "how many microneedling sessions for acne scars", 0.6),
        # products compared, with nothing about the treatment, even when unsure
        ("ask_aftercare", [("care_item", "makeup"), ("care_item", "makeup")], "bb cream vs cc cream", 0.9),
        ("nlu_fallback", [("care_item", "actives"), ("care_item", "actives")], "is tretinoin better than retinol", 0.3),
        # the visit itself
        ("ask_aftercare", [("off_topic", "appointment_logistics")], "what should I wear to my appointment", 0.9),
        # the condition itself, not the treatment
        ("ask_cause", [("skin_condition", "active_acne")], "what causes acne in adults", 0.9),
    ],
)
def test_out_of_scope(resolver, intent, entities, text, confidence) -> None:
    assert resolver.decide(understood(intent, entities, text, confidence=confidence)).kind == "out_of_scope"


@pytest.mark.parametrize(
    "entities,text,topic",
    [
        (
            [("skin_condition", "active_acne")],
            "Microneedling With Cystic Acne: Why Most Clinics Tell You to Wait",
            "contraindications",
        ),
        (
            [("side_effect", "bruising"), ("side_effect", "petechiae")],
            "bruising or petechiae after microneedling?",
            "bruising",
        ),
    ],
)
def test_a_weak_out_of_scope_gives_way_to_a_named_subject(resolver, entities, text, topic) -> None:
    decision = resolver.decide(understood("out_of_scope", entities, text, confidence=0.6))
    assert (decision.kind, decision.topic) == ("answer", topic)


def test_a_very_weak_decline_gives_way_to_a_care_item_the_articles_name(resolver) -> None:
    text = "boxing class tmrw night, i get properly sweaty. skip it"
    very_weak = understood("out_of_scope", [("care_item", "exercise")], text, confidence=0.35)
    assert (resolver.decide(very_weak).kind, resolver.decide(very_weak).topic) == ("answer", "aftercare")
    weak = understood("out_of_scope", [("care_item", "exercise")], text, confidence=0.6)
    assert resolver.decide(weak).kind == "out_of_scope"


def test_a_weak_contact_guess_gives_way_to_a_named_subject(resolver) -> None:
    text = "Allergic to Lidocaine? What That Means for Your Microneedling Appointment"
    weak = understood("ask_contact", [("skin_condition", "known_allergies")], text, confidence=0.65)
    assert (resolver.decide(weak).kind, resolver.decide(weak).topic) == ("answer", "allergic_reaction")
    assert resolver.decide(replace(weak, confidence=0.8)).kind == "contact"


@pytest.mark.parametrize("intent", ["out_of_scope", "ask_contact"])
def test_a_very_weak_decline_gives_way_to_a_named_subject_without_the_treatment_named(resolver, intent) -> None:
    text = "breaking out with a few cysts on my jaw at the moment, ok to go ahead?"
    weak = understood(intent, [("skin_condition", "active_acne")], text, confidence=0.44)
    assert (resolver.decide(weak).kind, resolver.decide(weak).topic) == ("answer", "contraindications")
    surer = replace(weak, confidence=0.6)  # the treatment is not named: the decline stands
    assert resolver.decide(surer).kind == ("out_of_scope" if intent == "out_of_scope" else "contact")


def test_a_weak_guess_with_nothing_to_anchor_it_is_not_answered(resolver) -> None:
    ranking = [("ask_what_is", 0.39), ("ask_manage", 0.3), ("out_of_scope", 0.2)]
    weather = understood("ask_what_is", text="whats the weather in sydney tomorrow", confidence=0.39, ranking=ranking)
    assert resolver.decide(weather).kind == "fallback"
    # the same guess is answered when the message is about the treatment, names a subject, or follows one
    about_it = replace(weather, text="whats microneedling like tomorrow")
    assert resolver.decide(about_it).kind == "answer"
    named = replace(weather, entities=[Entity("side_effect", "redness")])
    assert resolver.decide(named).kind == "answer"
    follow_up = replace(weather, focus_topic="redness", focus_aspect=GENERAL)
    assert resolver.decide(follow_up).kind == "answer"


def test_an_unrelated_emergency_is_marked_on_the_decline(resolver) -> None:
    entities = [("off_topic", "medical_emergency"), ("side_effect", "pain_discomfort")]
    decision = resolver.decide(understood("ask_symptom", entities, "chest pain going down my left arm"))
    assert decision.kind == "out_of_scope"
    assert decision.subject == Entity("off_topic", "medical_emergency")


def test_an_unrelated_body_topic_gives_way_to_a_condition_the_articles_name(resolver) -> None:
    text = "my husband has psoriasis on his scalp, can he do microneedling for his hair loss"
    entities = [("skin_condition", "psoriasis"), ("off_topic", "unrelated_body_topic")]
    decision = resolver.decide(understood("out_of_scope", entities, text, confidence=0.6))
    assert (decision.kind, decision.topic) == ("answer", "contraindications")
    alone = understood("ask_benefits", [("off_topic", "unrelated_body_topic")], "does it help hair loss")
    assert resolver.decide(alone).kind == "out_of_scope"
    # other off-topic subjects are declined whatever else is named
    botox = understood("ask_aftercare", [("off_topic", "other_treatment"), ("side_effect", "swelling")], "botox?")
    assert resolver.decide(botox).kind == "out_of_scope"


def test_an_aftercare_item_asked_about_before_treatment_is_declined(resolver) -> None:
    # the articles say nothing about coffee or self-tan beforehand
    for item, text in (
        ("lifestyle", "can I drink coffee before microneedling?"),
        ("makeup", "spray tan before my appointment?"),
    ):
        decision = resolver.decide(understood("ask_aftercare", [("care_item", item)], text))
        assert decision.kind == "out_of_scope"
    # afterwards, it is aftercare
    after = resolver.decide(understood("ask_aftercare", [("care_item", "lifestyle")], "coffee after microneedling?"))
    assert (after.kind, after.topic) == ("answer", "aftercare")


def test_an_unnamed_symptom_next_to_the_numbing_cream_is_about_a_reaction_even_when_unsure(resolver) -> None:
    entities = [("side_effect", "itching"), ("care_item", "numbing_cream")]
    unsure = understood("nlu_fallback", entities, "eyes itchy and streaming after the numbing cream", confidence=0.3)
    assert resolver.decide(unsure).topic == "allergic_reaction"


def test_a_kind_of_microneedling_gives_way_to_what_the_articles_cover_with_a_caveat(resolver) -> None:
    variant = ("off_topic", "microneedling_variant")
    swelling = understood(
        "ask_cause", [("side_effect", "swelling"), variant], "what causes swelling after RF microneedling"
    )
    decision = resolver.decide(swelling)
    assert (decision.kind, decision.topic, decision.aside) == ("answer", "swelling", Entity(*variant))
    washing = understood(
        "ask_aftercare", [("care_item", "washing"), variant], "how to clean my face after a vampire facial"
    )
    assert (resolver.decide(washing).kind, resolver.decide(washing).topic) == ("answer", "aftercare")
    # alone, or compared with anything, it is declined
    alone = understood("ask_side_effects", [variant], "RF microneedling side effects?")
    assert resolver.decide(alone).kind == "out_of_scope"
    compared = understood(
        "ask_symptom", [variant, ("side_effect", "pain_discomfort")], "is RF microneedling more painful than regular"
    )
    assert resolver.decide(compared).kind == "out_of_scope"
    either = understood("ask_suitability", [variant, ("skin_condition", "acne_scars")], "RF or regular microneedling?")
    assert resolver.decide(either).kind == "out_of_scope"
    # "better" alone compares nothing
    healing = understood(
        "ask_duration",
        [("side_effect", "redness"), variant],
        "when will the redness get better after RF microneedling?",
    )
    assert (resolver.decide(healing).kind, resolver.decide(healing).topic) == ("answer", "redness")
    # what is not a kind of microneedling is not answered beside a care item
    scalp = understood("ask_aftercare", [("care_item", "washing"), ("off_topic", "unrelated_body_topic")], "scalp wash")
    assert resolver.decide(scalp).kind == "out_of_scope"


@pytest.mark.parametrize(
    "text,kind",
    [
        ("infection after dermapen or dermaroller treatment, who is most at risk?", "answer"),
        ("dermapen vs dermaroller, which is safer?", "out_of_scope"),
        ("is a dermapen just an electric version of a dermaroller?", "out_of_scope"),
    ],
)
def test_two_devices_are_declined_only_when_compared(resolver, text, kind) -> None:
    entities = [("side_effect", "infection"), ("device", "dermapen"), ("device", "derma_roller")]
    decision = resolver.decide(understood("ask_symptom", entities if "infection" in text else entities[1:], text))
    assert decision.kind == kind


def test_the_cause_of_a_condition_after_treatment_is_answered(resolver) -> None:
    decision = resolver.decide(
        understood("ask_cause", [("skin_condition", "active_acne")], "what causes acne after microneedling")
    )
    assert (decision.kind, decision.topic) == ("answer", "side_effects_overview")


def test_the_scalp_gives_way_to_a_care_item_with_a_caveat(resolver) -> None:
    entities = [("off_topic", "scalp_and_body"), ("care_item", "sunscreen")]
    decision = resolver.decide(understood("ask_sun", entities, "sun protection after scalp microneedling"))
    assert (decision.kind, decision.topic) == ("answer", "sun_protection") and decision.aside is not None
    alone = resolver.decide(
        understood("ask_benefits", [("off_topic", "scalp_and_body")], "does scalp microneedling work")
    )
    assert alone.kind == "out_of_scope"


@pytest.mark.parametrize("intent", ["ask_go_wrong", "ask_side_effects", "ask_safety", "ask_seek_help"])
def test_general_risks_of_a_place_the_articles_do_not_describe_are_answered(resolver, intent) -> None:
    text = "what can go wrong with microneedling on the scalp"
    decision = resolver.decide(understood(intent, [("off_topic", "scalp_and_body")], text))
    assert decision.kind == "answer" and decision.aside is not None


def test_going_too_far_is_what_can_go_wrong(resolver) -> None:
    decision = resolver.decide(understood("ask_what_is", [], "what happens if they go too deep around the eyes"))
    assert (decision.kind, decision.topic) == ("answer", "can_it_go_wrong")


def test_products_compared_after_treatment_are_answered(resolver) -> None:
    text = "vaseline vs aquaphor after microneedling"
    decision = resolver.decide(understood("ask_aftercare", [("care_item", "moisturiser")] * 2, text))
    assert (decision.kind, decision.topic) == ("answer", "aftercare")


def test_one_device_is_not_a_subject(resolver) -> None:
    decision = resolver.decide(
        understood("ask_duration", [("device", "dermapen"), ("side_effect", "redness")], "redness after dermapen")
    )
    assert (decision.kind, decision.topic, decision.aspect) == ("answer", "redness", "duration")


def test_contact(resolver) -> None:
    assert resolver.decide(understood("ask_contact")).kind == "contact"


def test_unsure_reads_what_the_treatment_improves_as_a_risk_when_worded_as_one(resolver) -> None:
    text = "Is it possible for microneedling to make my acne scars worse?"
    unsure = understood("nlu_fallback", [("skin_condition", "acne_scars")], text, confidence=0.3)
    assert resolver.decide(unsure).topic == "scarring"
    assert resolver.decide(replace(unsure, text="microneedling and acne scars?")).topic == "benefits"


def test_unsure_answers_a_named_subject(resolver) -> None:
    decision = resolver.decide(understood("nlu_fallback", [("side_effect", "swelling")], "puffy??", confidence=0.3))
    assert (decision.kind, decision.topic) == ("answer", "swelling")


def test_unsure_without_subject_asks_did_you_mean(resolver) -> None:
    decision = resolver.decide(
        understood(
            "nlu_fallback",
            text="nervous about next week",
            confidence=0.3,
            ranking=[
                ("nlu_fallback", 0.3),
                ("ask_side_effects", 0.28),
                ("ask_safety", 0.25),
                ("greet", 0.2),
                ("ask_recovery", 0.15),
            ],
        )
    )
    assert decision.kind == "clarify"
    assert [t for t, _ in decision.candidates] == ["side_effects_overview", "safety_overall", "recovery_time"]


def test_unsure_reads_a_condition_as_a_symptom_when_the_best_guess_asks_about_one(resolver) -> None:
    entities = [("skin_condition", "active_acne")]
    reported = understood(
        "nlu_fallback",
        entities,
        "got pimples since",
        confidence=0.3,
        ranking=[("nlu_fallback", 0.3), ("ask_symptom", 0.28)],
    )
    asked = understood(
        "nlu_fallback", entities, "acne ok?", confidence=0.3, ranking=[("nlu_fallback", 0.3), ("ask_suitability", 0.28)]
    )
    assert resolver.decide(reported).topic == "side_effects_overview"
    assert resolver.decide(asked).topic == "contraindications"


def test_unsure_and_nearly_out_of_scope_declines(resolver) -> None:
    ranking = [("nlu_fallback", 0.3), ("ask_what_is", 0.3), ("ask_manage", 0.29), ("out_of_scope", 0.27)]
    decision = resolver.decide(understood("nlu_fallback", text="weather tomorrow?", confidence=0.3, ranking=ranking))
    assert decision.kind == "out_of_scope"


def test_nothing_to_go_on_is_a_fallback(resolver) -> None:
    decision = resolver.decide(
        understood("nlu_fallback", text="asdf", confidence=0.3, ranking=[("nlu_fallback", 0.3), ("greet", 0.2)])
    )
    assert decision.kind == "fallback"


@pytest.mark.parametrize(
    "intent,entities,text,topic",
    [
        ("ask_manage", [], "other than swelling and redness what else can happen", "side_effects_overview"),
        ("ask_side_effects", [], "besides redness, what other side effects are there?", "side_effects_overview"),
        ("nlu_fallback", [], "apart from the peeling, anything else?", "side_effects_overview"),
        # the question's own topic answers the others
        ("ask_safety", [], "aside from bruising what are the risks", "safety_overall"),
        # what is left named is the subject
        ("ask_symptom", [("side_effect", "dryness")], "besides the redness my skin is peeling", "dryness"),
    ],
)
def test_a_side_effect_set_aside_is_not_the_subject(resolver, intent, entities, text, topic) -> None:
    u = understood(intent, entities, text, excluded=[("side_effect", "redness")], confidence=0.6)
    decision = resolver.decide(u)
    assert (decision.kind, decision.topic) == ("answer", topic)
