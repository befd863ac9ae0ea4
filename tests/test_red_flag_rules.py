"""The red-flag rules (knowledge/red_flags.yml): what raises an alarm, and
what must not. Table-driven, on the real rules file."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest

from components.red_flag_rules import duration_days, find_red_flags, tokens_of, with_term_lemmas

URGENT = [
    ("my throat feels tight", "breathing_difficulty"),
    ("I can't breathe properly", "breathing_difficulty"),
    ("my lips are swelling up after the numbing cream", "breathing_difficulty"),
    ("what if my throat swells up", "breathing_difficulty"),  # emergencies are never suppressed
    ("hives", "allergic_signs"),
    ("I have hives all over my face", "allergic_signs"),
    ("I have hives, can numbing cream cause that?", "allergic_signs"),
    ("my eyes are swollen shut", "allergic_signs"),
    ("I think I'm having an allergic reaction", "allergic_signs"),
    ("my face has hives a lot of them", "allergic_signs"),
    ("my cheek has gone greyish and cold", "skin_colour_change"),
    ("there is pus coming out of my cheek", "infection_signs"),
    ("puss and crusty yellow bits on my chin", "infection_signs"),
    ("is it normal to have pus", "infection_signs"),
    ("Could this be an infection? There's pus", "infection_signs"),
    ("does it matter that I have a fever", "infection_signs"),
    ("temp of 38.9 the day after and my face is throbbing", "infection_signs"),
    ("my skin is hot to the touch", "infection_signs"),
    ("the redness is spreading", "infection_signs"),
    ("the red patch got bigger overnight", "infection_signs"),
    ("my face keeps bleeding", "worsening_symptoms"),
    # a report stays urgent even when it is asked as a question
    ("does my redness get worse every day? it is spreading to my neck", "infection_signs"),
    ("the swelling is getting worse, does that mean something is wrong?", "worsening_symptoms"),
    ("does it matter that my bruising is getting worse", "worsening_symptoms"),
    ("my skin is infected", "infection_signs"),
    ("the pain is getting worse", "severe_pain"),
    ("severe pain after microneedling", "severe_pain"),
    ("bruising is getting worse every day", "worsening_symptoms"),
    # a report of worsening stays urgent even when it asks about the usual course
    ("my redness is getting worse, does it get worse before it gets better?", "worsening_symptoms"),
    ("it's been 3 weeks and I'm still red", "prolonged_symptoms"),
    ("still swollen after 2 weeks", "prolonged_symptoms"),
    ("The redness has been there for a month now", "prolonged_symptoms"),
    # the closest pair counts, not the first word of each: "redness" early on,
    # "red ... spreading" later
    ("redness was going down but now my cheek is hot and the red part is spreading", "infection_signs"),
    ("my face is super swollen and I feel dizzy", "infection_signs"),
    ("temp is 38.5 and i feel shivery", "infection_signs"),
    ("three days later, my face is throbbing and getting more painful every day", "severe_pain"),
    ("day 3 and my face is hotter and more painful than yesterday", "severe_pain"),
    # an emergency described, not asked about in general: still an emergency
    ("Could barely breathe last night after the session and the lips swelled up", "breathing_difficulty"),
    ("Will the lip swelling go down by tomorrow?", "breathing_difficulty"),
    ("Can her throat swelling be from the numbing cream?", "breathing_difficulty"),
    ("Why does the tongue swell after microneedling, should they go to A&E?", "breathing_difficulty"),
    ("Would you go to A&E for swollen lips after microneedling?", "breathing_difficulty"),
    # a general question quiets only its own sentence
    ("whats the difference between purging and infection? theres yellow pus and its spreading", "infection_signs"),
    ("how can you tell if its infected? its oozing and hot to the touch", "infection_signs"),
    ("difference between allergy and irritation? face covered in hives after microneedling", "allergic_signs"),
    # "how can / how do" questions that report a sign are reports, with or
    # without "I" (found by review)
    ("how can i stop this severe pain", "severe_pain"),
    ("how do you get rid of pus coming out of the holes", "infection_signs"),
    ("how can the redness still be there after 3 weeks?", "prolonged_symptoms"),
    ("how does the redness keep spreading like this", "infection_signs"),
    ("my eye is swollen shut, how do I get the swelling down?", "allergic_signs"),
    # hives by other names, blisters, infection in lay and non-native words
    ("itchy raised patches like nettle rash on my neck tonight", "allergic_signs"),
    ("blisters popping up on my cheeks since i put the balm on", "blisters"),
    ("cluster of blisters by my mouth, i do get cold sores sometimes", "blisters"),
    ("face very hot and swollen, yellow water come out", "infection_signs"),
    ("day 5 and theres a funny smell from my cheek", "infection_signs"),
    ("one side of my face has gone rock hard and hot", "infection_signs"),
    ("vision is blurry and my eye is sore after they needled close to it", "eye_problems"),
    ("it hurts to move my eye since the treatment", "eye_problems"),
    ("my left eye is blurry since the treatment", "eye_problems"),
    ("skin on one cheek is going a dusky greyish colour", "skin_colour_change"),
    ("a patch on my cheek has gone a bluish purple colour", "skin_colour_change"),
    ("my cheek smells like something rotten", "infection_signs"),
    # found by the second review
    ("yellow stuff coming out of the dots on my face", "infection_signs"),
    ("there's a horrible smell coming from my cheek", "infection_signs"),
    ("my cheek is swollen hot and throbbing 3 days after", "infection_signs"),
    ("Hot, Throbbing Lump Under the Skin After Microneedling - What Should I do", "infection_signs"),
    ("a patch on my chin has gone white and mottled since yesterday", "skin_colour_change"),
    # found in the twenty-eighth blind set
    ("my face and eyes are swelling up fast and i feel wheezy", "breathing_difficulty"),
    ("today theres a hot, really tender lump on my jaw where they needled", "infection_signs"),
    ("the clinic hasn't replied about the yellowish crusting on my chin", "infection_signs"),
    ("eyes itching and face blotchy with raised bumps 20 min after the clinic", "allergic_signs"),
]

NO_ALARM = [
    # a cold sore is a "fever blister", neither a fever nor blistering skin
    "got a fever blister 2 days after my microneedling appt, coincidence??",
    "can microneedling cause blisters",
    # a skin tone, a question about sight, sight that is fine
    "is microneedling safe for black skin",
    "can microneedling near the eyes cause blurry vision?",
    "my vision is fine but my eyes are puffy",
    # found by review: words of the new signs about something else
    "my heart is racing just thinking about needles",
    "I have chronic urticaria, can I get microneedling?",
    "the redness has gone but I hate the sight of my flaky skin",
    "my skin is dusky pink after microneedling, normal?",
    "I have a dusky olive skin tone, is it safe for me?",
    "my hair is turning grey, does microneedling help the scalp?",
    "I have a blister on my foot from running",
    "I bought a blister pack of antihistamines",
    "the serum they used had a funny smell",
    "rock hard water in my area, should I use filtered water to wash?",
    # ... and by the second review
    "I put a warm compress on the lump",
    "can I wash the lumps with warm water?",
    "I use rose water and a green clay mask, can I go back to them?",
    "My hair is going grey and my skin is dull, will microneedling help?",
    "the scab on my cheek has turned black",
    "a blister on my heel from walking around after my session",
    "there's faint swelling and a bit of tingling, is that normal?",
    "I got misty-eyed when I saw my results",
    "does a hot lump after microneedling mean an infection?",
    # "bigger" and "keep" alone are not worsening ("Big" lemmatises to "big")
    "How to Calm Post-Microneedling Redness Quickly Before a Big Event",
    "Is pinpoint bleeding normal and how do I keep it clean?",
    # questions about the usual course, not reports
    "Does redness after microneedling get worse on day two?",
    "is it normal for swelling to get worse the next morning?",
    "day 1 and my face is a bit red",
    "a little flaking on day 3",
    "my eyes are a bit puffy the day after microneedling",
    "puffy under my eyes",
    "it hurts a bit",
    "does microneedling hurt?",
    "my face is red and swollen",
    "how long does swelling last",
    "will redness last 3 weeks?",  # a question about duration, not a report
    "still a bit red on day 5",  # within the usual time
    "can microneedling cause hives?",
    "can numbing cream cause hives?",
    "can I have an allergic reaction to the numbing cream?",
    "can it get infected",
    "how do I know if my skin is infected",
    "what are the signs of infection like pus?",
    "what does an infection look like",
    "how do I avoid getting an infection after microneedling",
    "is my risk of infection higher if I do microneedling at home?",
    "if I ever got pus or a fever after microneedling, what should I do?",
    "no pus, just red",
    "no pus or fever, just a bit red on day 2",
    "my redness is not spreading",
    "Is it ok to do hot yoga 2 days after microneedling?",
    "Can skin get worse after microneedling?",
    "Does the redness get worse before it gets better?",  # asks about the usual course
    "do bruises get worse before they fade?",
    "little raised bumps right after treatment, kind of hive-ish texture but not itchy",
    # found by the last review: raised scars, heat that is not the lump's, asthma
    "my raised acne scars are itchy, is that normal after?",
    "I raised the itchy skin issue with my practitioner",
    "I did hot yoga and now I have lumps",
    "the weather is hot and I have small lumps, is that normal",
    "a bit wheezy from my asthma, can I still have microneedling?",
    "is microneedling more painful than laser?",
    # "it" before the verb only, and in one sentence
    "It's been great. My lashes seem to grow faster and it looks lovely",
    "the collagen will keep growing and it will look better",
    # idioms
    "feeling sick of this redness",
    "the needles give me the shivers",
    # asking how to tell signs apart, not reporting them
    "what are the signs my face is actually infected vs just healing?",
    "How would I tell an allergic reaction apart from the normal redness?",
    "got a fever blister 2 days after my microneedling appt, coincidence??",  # a cold sore
    "Hives after microneedling - what causes them?",  # asks about causes
]

SIDE_EFFECT_WORDS = ("red", "swoll", "flak", "peel", "bruis", "pain", "puffy")


def flags(text: str, rules: Dict[str, Any]) -> List[str]:
    toks, spans = tokens_of(text)
    mentioned = any(w in text.lower() for w in SIDE_EFFECT_WORDS)
    return [h.category for h in find_red_flags(toks, spans, rules, text, mentioned)]


@pytest.mark.parametrize("text,category", URGENT)
def test_red_flags_are_caught(text: str, category: str, red_flag_rules) -> None:
    assert category in flags(text, red_flag_rules)


@pytest.mark.parametrize("text", NO_ALARM)
def test_expected_effects_raise_no_alarm(text: str, red_flag_rules) -> None:
    assert flags(text, red_flag_rules) == []


def test_evidence_points_at_the_words(red_flag_rules) -> None:
    text = "Thanks! By the way there's pus on my chin."
    toks, spans = tokens_of(text)
    [hit] = find_red_flags(toks, spans, red_flag_rules, text, False)
    assert (hit.category, hit.severity, text[hit.start : hit.end]) == ("infection_signs", "urgent", "pus")


def test_typos_reach_the_rules_through_recognised_terms(red_flag_rules) -> None:
    text = "rednes spreading and feels hot, day 4"
    toks, spans = tokens_of(text)
    assert not find_red_flags(toks, spans, red_flag_rules, text, True)
    # the lexicon matcher recognised "rednes" as redness
    toks = with_term_lemmas(toks, spans, [(0, 6, "redness")])
    assert [h.category for h in find_red_flags(toks, spans, red_flag_rules, text, True)][0] == "infection_signs"


def prolonged(text: str, lasting_terms: List[str], rules: Dict[str, Any]) -> bool:
    """Whether a duration makes the side effects at `lasting_terms` (their
    words in the text) a prolonged-symptom red flag."""
    toks, spans = tokens_of(text)
    found = [(text.index(t), text.index(t) + len(t)) for t in lasting_terms]
    return "prolonged_symptoms" in [h.category for h in find_red_flags(toks, spans, rules, text, bool(found), found)]


@pytest.mark.parametrize(
    "text,passing,expected",
    [
        ("my scar is still red and swollen 3 weeks after", ["red", "swollen"], True),
        ("pigmentation and swelling still there after 2 weeks", ["swelling"], True),
        ("It's been 4 weeks and my skin is still darker and really red", ["red"], True),
        # named, but not what is said to last: the dark patches are
        ("its been 3 weeks and i have brown patches where the redness was", ["redness"], False),
        # only dark patches or scars named: they last by nature
        ("its been 3 weeks and the brown patches are still there", [], False),
    ],
)
def test_a_passing_side_effect_said_to_last_is_prolonged(text, passing, expected, red_flag_rules) -> None:
    assert prolonged(text, passing, red_flag_rules) is expected


def asked(text: str, rules: Dict[str, Any]) -> List[Tuple[str, bool]]:
    toks, spans = tokens_of(text)
    return [(h.category, h.asked) for h in find_red_flags(toks, spans, rules, text, False)]


@pytest.mark.parametrize(
    "text,expected",
    [
        # whether a sign is usual: asked, answered with the advice to get help
        ("Is pus after microneedling normal?", [("infection_signs", True)]),
        ("is it normal to have a fever after microneedling", [("infection_signs", True)]),
        ("Hives after microneedling - allergy or normal?", [("allergic_signs", True)]),
        ("how common is oozing after microneedling", [("infection_signs", True)]),
        # a report, or pointing at something present: the alarm
        ("I have pus on my chin, is that normal?", [("infection_signs", False)]),
        ("is this pus normal?", [("infection_signs", False)]),
        ("there's pus coming out, is it normal", [("infection_signs", False)]),
        ("pus??", [("infection_signs", False)]),
        ("are blisters normal after microneedling?", [("blisters", True)]),
        # whether a sign is a red flag, or needs checking, asked in general
        ("Is pus after microneedling a red flag?", [("infection_signs", True)]),
        ("Should a bruise that spreads after microneedling be checked by a doctor?", [("worsening_symptoms", True)]),
        ("my bruise is spreading, should it be checked?", [("worsening_symptoms", False)]),
        # asking what a symptom is, in a report: answered from the topic
        ("My face is itchy after microneedling, is that an allergic reaction?", [("allergic_signs", True)]),
        ("my skin is red and warm, is it infected?", [("infection_signs", True)]),
        ("I think I'm having an allergic reaction", [("allergic_signs", False)]),
        # saying when is describing a case, not asking in general
        ("the pain is getting worse not better, day 3, normal??", [("severe_pain", False)]),
        # an emergency is softened only in a general question about the treatment
        ("is it normal to have trouble breathing after microneedling?", [("breathing_difficulty", False)]),
        ("Does microneedling cause swelling of the lips?", [("breathing_difficulty", True)]),
        ("can microneedling cause anaphylaxis", [("breathing_difficulty", True)]),
        ("my lips are swollen, does microneedling cause that?", [("breathing_difficulty", False)]),
    ],
)
def test_asking_whether_a_sign_is_usual_is_not_a_report(text: str, expected, red_flag_rules) -> None:
    assert asked(text, red_flag_rules) == expected


@pytest.mark.parametrize(
    "text,days",
    [
        ("3 weeks", 21),
        ("three weeks", 21),
        ("a couple of weeks", 14),
        ("a month", 30),
        ("day 12", 12),
        ("for 10 days and 2 weeks", 14),
        ("no duration here", None),
    ],
)
def test_duration_parsing(text: str, days, red_flag_rules) -> None:
    toks, _ = tokens_of(text)
    assert duration_days(toks, red_flag_rules["duration_units"]) == days
