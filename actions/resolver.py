"""Decide what a message asks: which topic, which aspect, or that it must be
declined, clarified or escalated. Pure (no Rasa), so it is table-tested.

NLU gives a question *type* (intent: ask_duration, ask_cause, ...) and the
*subject* as entities (side_effect, skin_condition, care_item, from the facts
file's lexicon). The topic comes from the subject when there is one, from the
question type otherwise, and from the conversation's focus for follow-ups
("what should I do about it?").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from actions.facts_schema import ASPECTS, OFF_TOPIC, TOPIC_IDS
from actions.facts_store import FactsStore

GENERAL = "general"  # the topic's overview rather than one aspect
# the off-topic lexicon value for emergencies unrelated to the treatment
MEDICAL_EMERGENCY = "medical_emergency"

# intent -> (topic when the message names no subject, aspect asked)
QUESTION_INTENTS: Dict[str, Tuple[Optional[str], str]] = {
    "ask_what_is": ("what_is_microneedling", GENERAL),
    "ask_benefits": ("benefits", GENERAL),
    "ask_safety": ("safety_overall", GENERAL),
    "ask_go_wrong": ("can_it_go_wrong", GENERAL),
    "ask_side_effects": ("side_effects_overview", GENERAL),
    "ask_recovery": ("recovery_time", GENERAL),
    "ask_duration": ("recovery_time", "duration"),
    "ask_symptom": ("side_effects_overview", GENERAL),
    "ask_cause": (None, "cause"),
    "ask_manage": ("aftercare", "management"),
    "ask_prevention": ("can_it_go_wrong", "prevention"),
    "ask_suitability": ("contraindications", GENERAL),
    "ask_aftercare": ("aftercare", GENERAL),
    "ask_sun": ("sun_protection", GENERAL),
    "ask_practitioner": ("practitioner_choice", GENERAL),
    "ask_seek_help": ("when_to_seek_help", "warning_signs"),
}

# Which entity type names the subject, by question type. A skin condition
# decides "is it safe for eczema?"; a side effect decides "how long does
# redness last?"; a care item decides "can I wear makeup after?".
_SUBJECT_ORDER: Dict[str, Tuple[str, ...]] = {
    "ask_safety": ("skin_condition", "side_effect", "care_item"),
    "ask_suitability": ("skin_condition", "side_effect", "care_item"),
    "ask_go_wrong": ("skin_condition", "side_effect", "care_item"),
    "ask_side_effects": ("skin_condition", "side_effect", "care_item"),
    # "what kind of sunscreen is best after?" is about the sunscreen
    "ask_what_is": ("side_effect", "skin_condition", "care_item"),
    "ask_benefits": ("skin_condition", "side_effect", "care_item"),
    "ask_aftercare": ("care_item", "side_effect", "skin_condition"),
    # "looks sunburnt after microneedling?" (no care item) is about redness
    "ask_sun": ("care_item", "side_effect"),
    # "who" questions: "do you use numbing cream?" is about the cream, "who is
    # more prone to bruising?" about bruising, "can you microneedle over a
    # sunburn?" about sunburnt skin; sterile equipment is the practitioner's
    # topic anyway
    "ask_practitioner": ("care_item", "side_effect", "skin_condition"),
}
_DEFAULT_ORDER = ("side_effect", "skin_condition", "care_item")

# Follow-ups that lean on the topic in focus: "what should I do about it?"
_REFERS_BACK = re.compile(r"\b(it|its|it's|this|that|these|those|they|them|there|same|one)\b", re.IGNORECASE)

# A care item asked about in the run-up to treatment, and not afterwards:
# "when do I stop tretinoin before microneedling?" (the item's
# `before_treatment` value in the lexicon).
_TREATMENT_NOUN = (
    r"(?:(?:my|the|a|your|each|every)\s+)?(?:next\s+|first\s+)?"
    r"(?:micro[\s-]?needl\w*|needling|dermapen|treatments?|sessions?|procedures?|appointments?|appt)"
)
_BEFORE_TREATMENT = re.compile(
    r"\b(?:(?:before|prior to|ahead of|run[\s-]?up to|leading up to)\s+" + _TREATMENT_NOUN + r"|beforehand"
    r"|pre[\s-]?(?:treatment|procedure|microneedling)|prepar(?:e|es|ed|ing|ation)|prep for"
    # "can you get microneedling if you use tretinoin?": in use at the time
    r"|(?:if|while|whilst) (?:i|you|i'm|im|i am|you're) (?:use|using|on|take|taking)"
    # "can I get microneedling while on tretinoin?" (not "shower while on holiday")
    r"|(?:get|have|do|book)\w* (?:microneedling|it|the treatment|a session) (?:while|whilst) (?:on|using|taking)"
    # "... before I go in for it?"
    r"|before (?:i|you|we) (?:go in|come in|go for|book|start))\b",
    re.IGNORECASE,
)
# "how long should I wait before using retinol again?", "2 days ago": after it
_AFTER_TREATMENT = re.compile(
    r"\b(after|afterwards?|post|following|since|aftercare|ago|yesterday|again|healed|healing|just had"
    r"|had (?:my |the )?(?:microneedling|treatment|session|procedure)|had it done)\b",
    re.IGNORECASE,
)

# "itchy red bumps, is that an allergy?", "... was that a reaction?", "allergic
# to the creams?": asking whether what happened is an allergic reaction, or
# about being allergic to something, makes that the subject, before the
# symptoms or products named (a reaction alone, elsewhere, is not one: "purging or
# a reaction?").
_ASKS_IF_ALLERGIC = re.compile(
    r"\b(?:(?:is|was) (?:that|this|it)|am i having|could (?:that|this|it) be)\s+"
    r"(?:(?:an?\s+)?(?:allergic reaction|allergy)|an?\s+reaction)\b|\ballerg(?:y|ic)\s*\?+\s*$"
    # "can you be allergic to microneedling itself?", "alergic to lidocaine",
    # "could I react to the glide serum?" (a product: not "react to sunlight")
    r"|\ball?erg(?:ic|y) to\b"
    r"|\breact(?:ion|ed|s|ing)? (?:badly )?to (?:the |a |an |any |their |your |my )?(?:\w+ ){0,2}"
    r"(?:serums?|creams?|products?|numbing|an?a?esthetics?|lidocaine|gels?|ingredients?|needles?|nickel|metal"
    r"|gloves?|latex)\b",
    re.IGNORECASE,
)
# "Is a warm, tender spot a sign of infection?": the sign's cause is the
# subject, not the symptoms named before it.
_SIGN_OF_INFECTION = re.compile(r"\b(?:signs?|symptoms?|indications?) of (?:an? )?infect(?:ion|ed)\b", re.IGNORECASE)
# "What happens on microneedling day 2?" asks about the recovery, not what
# the treatment is.
_DAY_AFTER = re.compile(
    r"\bday[\s-]*(\d{1,2}|one|two|three|four|five|six|seven)\b"
    r"|\b(\d{1,2}|one|two|three|four|five|six|seven) days? (after|post|later|out)\b",
    re.IGNORECASE,
)

_DOWNTIME = re.compile(r"\b(?:downtime|down time|recovery time|healing time|time off work)\b", re.IGNORECASE)
# ... unless it asks what it treats too ("good for acne scars with little downtime?")
_ASKS_WHAT_IT_TREATS = re.compile(r"\b(?:treats?|good for|help|helps|benefits?|improves?|work for)\b", re.IGNORECASE)
# "a sore purple spot", "painful, swollen cheek": a pain word before what hurts
_PAIN_DESCRIBES = re.compile(
    r"\b(?:sore|painful|tender|achy|aching|throbbing|stinging|burning|hurting)\b(?:,?\s+(?:and\s+)?\w+){0,2}?,?\s+"
    r"(?:spots?|bumps?|bruises?|bruising|patch(?:es)?|lumps?|swelling|swollen|redness|red|peeling|marks?|rash|dots|welts?)\b",
    re.IGNORECASE,
)

# "Why do people get microneedling?", "why should I try it?": why have the
# treatment at all (its benefits); "why is it called collagen induction
# therapy?": what it is. Other "why" questions are about side effects.
_WHY_HAVE_IT = re.compile(
    r"\bwhy (?:should|would|do|does|did|might) (?:i|you|people|anyone|someone|one|patients?)\b"
    r"(?: \w+)? (?:try|get|choose|consider|have|do|want|need|use|pick|go for)\b"
    r"|\bwhy would anyone\b|\bwhy (?:choose|consider|try|get|pick)\b",
    re.IGNORECASE,
)
_WHY_CALLED = re.compile(r"\bwhy is (?:it|this|microneedling|the treatment) called\b", re.IGNORECASE)

# Risk questions are not answered by what the treatment improves: "can it make
# my acne scars worse?" is about scarring (the value's symptom_topic), not about
# the benefits; a value with no symptom reading is then no subject at all.
# Likewise "red flags to look out for in a clinic" is about the practitioner,
# not about when to get medical help.
_IGNORED_SUBJECT_TOPICS: Dict[str, Tuple[str, ...]] = {
    "ask_safety": ("benefits",),
    "ask_go_wrong": ("benefits",),
    "ask_side_effects": ("benefits",),
    "ask_practitioner": ("when_to_seek_help",),
}

# ... but only when the message words it as a risk: "is it safe for my acne
# scars?" asks about safety; "can it make my acne scars worse?" about scarring.
_RISK_WORDING = re.compile(
    r"\b(worse|worsen\w*|caus\w*|give|gives|gave|leave|leaves|deeper|permanent|darken\w*"
    # not "would it make a visible difference to my scars?"
    r"|(?:make|makes|made)(?!\s+(?:a|any|much|no)?\s*(?:\w+\s+)?difference))\b",
    re.IGNORECASE,
)

_COMPARES = re.compile(
    r"\b(vs|versus|than|compared?|comparison|difference|differ\w*|or (?:regular|normal|standard|traditional|plain))\b",
    re.IGNORECASE,
)

_REACTS = re.compile(
    r"\b(react\w*|sensitiv(?:e|ity) to|intoleran\w*|(?:cause|causes|caused|have|has|any) side[\s-]?effects?)\b",
    re.IGNORECASE,
)

# Questions about risks in general.
_RISK_INTENTS = ("ask_safety", "ask_go_wrong", "ask_side_effects")

# Wording that makes what the treatment improves a risk even in a question
# about improvements: "can it make my acne scars worse?"
_WORSE = re.compile(r"\b(worse|worsen\w*|deeper|thicker|more (?:visible|noticeable|obvious))\b", re.IGNORECASE)
# "what happens if they go too deep?": what can go wrong
_TOO_FAR = re.compile(r"\b(?:too (?:deep|hard|much|often|aggressive\w*)|overdo\w*|over-do\w*)\b", re.IGNORECASE)
# general questions about the risks, answered for a place the articles do not
# describe (lexicon `general_risks_apply`)
_GENERAL_RISK_INTENTS = ("ask_go_wrong", "ask_side_effects", "ask_safety", "ask_seek_help")
# "can collagen induction therapy soften burn scars?": what it improves, asked
# whatever the question type was taken to be
_IMPROVES = re.compile(
    r"\b(?:improv\w*|soften\w*|fade|fades|fading|reduc\w*|smooth(?:s|es|ing)?|help(?:s|ing)?(?: with)?|treat(?:s|ing)?"
    r"|fix(?:es|ing)?|get rid of|minimi[sz]\w*|diminish\w*|lighten\w*|good for|work for|works for)\b",
    re.IGNORECASE,
)
# "can I get microneedling with windburned cheeks?", "cut on my cheek,
# microneedling tomorrow?": a state of the skin before treatment
_BEFORE_STATE = re.compile(
    r"\b(?:get|have|do|book|go ahead with)\w*\s+(?:microneedl\w*|needling|it|the treatment|a session|treatment)"
    r"(?:\s+done)?\s+(?:with|over|on|if)\b"
    r"|\b(?:microneedl\w*|needling|treatment|session|appointment|appt)\s+(?:is\s+)?"
    r"(?:tomorrow|tmrw|tmr|next week|this week(?:end)?|on (?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
    re.IGNORECASE,
)


# "is a dermapen just an electric version of a dermaroller?" compares them too
_LIKENS = re.compile(r"\b(?:version of|same as|same thing|instead of|better|safer|which)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|ive|me|my|mine)\b", re.IGNORECASE)
# "aftercare for oily, acne-prone skin": a skin type, not something that happened
_CARE_FOR_SKIN_TYPE = re.compile(r"\b(?:aftercare|care|routine|products?) for\b", re.IGNORECASE)

# Question types about something that happens after treatment: a value with a
# `symptom_topic` ("pimples") is answered from that topic here.
_SYMPTOM_INTENTS = ("ask_symptom", "ask_duration", "ask_cause", "ask_manage", "ask_seek_help", "ask_recovery")

# "Is it safe for people with lichen planus?", "... while taking prednisone?":
# a safety question about someone with a condition or on a medicine, even one
# the lexicon does not know, asks who should avoid the treatment.
_SOMEONE_WITH = re.compile(
    r"\b(?:for|in) (?:people|persons?|someone|somebody|anyone|those|patients?|clients?|women|men|me|us)"
    r" (?:with|who (?:have|has|suffer|take|are on|is on)|on|taking|using)\b"
    r"|\bwhile (?:taking|on|using|suffering)\b"
    r"|\bif (?:i|you|someone|one) (?:have|has|had|suffer|suffers|take|takes|am on|'m on|is on|are on)\b"
    r"|\b(?:skin|face|area) with\b|\bwith (?:a )?history of\b",
    re.IGNORECASE,
)

# Question types whose own topic does not answer "besides redness, what else
# ...?" (the others), when nothing else is named: the side effects overview
# does. "Aside from bruising, what are the risks?" keeps its own topic.
_OTHERS_ASKED_INTENTS = ("ask_manage", "ask_symptom", "ask_cause", "ask_duration")

# ... and those, with aftercare, where what the treatment improves ("acne
# scars") is what it was done for, unless worded as a risk.
_AFTER_INTENTS = (*_SYMPTOM_INTENTS, "ask_aftercare")

# Question types that can lean on the topic in focus when they name no subject.
_FOCUS_INTENTS = ("ask_duration", "ask_cause", "ask_manage", "ask_prevention", "ask_seek_help", "ask_symptom")

CLARIFY_MAX = 3
# When NLU is unsure and "out of scope" is within this much of the best guess,
# the bot declines instead of offering topics ("what's the weather tomorrow?").
OUT_OF_SCOPE_MARGIN = 0.05
# Below this confidence, an "out of scope" guess gives way to a side effect or
# skin condition the articles name, in a message about the treatment that
# names nothing off-topic: "Microneedling with cystic acne: why clinics tell
# you to wait" is about acne, however it is phrased ("how to treat a sunburn
# from the beach" is not about the treatment, and stays declined). Values
# whose topic is the benefits are left out: next to an out-of-scope guess they
# come with sessions, results or comparisons, which the articles do not cover.
WEAK_OUT_OF_SCOPE = 0.75
# A question guessed with less confidence than this, in a first message that
# names neither the treatment nor any subject, is treated as not understood
# (the topic menu, no guessed topics) rather than answered: "whats the weather in
# sydney tomorrow" is not a question about what microneedling is.
UNSURE_WITHOUT_SUBJECT = 0.5
# A question about what the treatment improves that names a side effect
# ("does microneedling help with scars?") is answered from the benefits only
# when NLU is this sure: symptom questions are sometimes taken for benefit
# questions at lower confidence ("will I look red at work the morning after?").
SURE_OF_BENEFITS = 0.8
# side effects that are also what the treatment is done for
_TREATED = ("scarring", "hyperpigmentation")
_MENTIONS_TREATMENT = re.compile(
    r"\b(micro[\s-]?needl\w*|needl(?:e|es|ed|ing)|derma[\s-]?(pen|roll|stamp)\w*|pens?|collagen induction"
    r"|sessions?|treatments?|procedures?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str


ALLERGIC_REACTION = Entity("side_effect", "allergic_reaction")
INFECTION = Entity("side_effect", "infection")
PAIN = "pain_discomfort"

# The entity role NLU gives a value the message sets aside ("besides redness,
# what else can happen?"): never the subject.
EXCLUDED_ROLE = "excluded"


@dataclass
class Decision:
    kind: str  # answer | clarify | urgent | out_of_scope | fallback | contact
    topic: Optional[str] = None
    aspect: str = GENERAL
    subject: Optional[Entity] = None  # the lexicon value the answer is about
    candidates: List[Tuple[str, str]] = field(default_factory=list)  # clarify: (topic, aspect)
    # urgent: the signs reported; answer: the signs asked about, if any
    red_flags: List[str] = field(default_factory=list)
    # answer: an off-topic value named beside the subject, whose caveat the
    # answer leads with ("swelling after RF microneedling")
    aside: Optional[Entity] = None


@dataclass(frozen=True)
class Understanding:
    intent: Optional[str]
    confidence: float
    ranking: Sequence[Tuple[str, float]]
    entities: Sequence[Entity]
    text: str
    focus_topic: Optional[str] = None
    focus_aspect: Optional[str] = None
    # payloads of the buttons last offered, so "2" or "the second one" can pick
    offered: Sequence[str] = ()
    # values set aside ("apart from the peeling, ..."), not in `entities`
    excluded: Sequence[Entity] = ()


_ORDINALS = {
    "1": 1,
    "one": 1,
    "first": 1,
    "2": 2,
    "two": 2,
    "second": 2,
    "middle": 2,
    "3": 3,
    "three": 3,
    "third": 3,
}
_PAYLOAD = re.compile(r"^/choose_option(\{.*\})$")


def option_number(text: str) -> Optional[int]:
    """'2', 'option 2', 'the second one' -> 2; 'the last one' -> -1."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    if "last" in words:
        return -1
    picked = [w for w in words if w in _ORDINALS]
    if len(picked) > 1 and "one" in picked:  # "the second one"
        picked.remove("one")
    return _ORDINALS[picked[0]] if len(picked) == 1 else None


def payload_entities(payload: str) -> List[Entity]:
    """The entities of a /choose_option{...} button payload."""
    match = _PAYLOAD.match(payload.strip())
    if not match:
        return []
    try:
        values = json.loads(match.group(1))
    except ValueError:
        return []
    return [Entity(k, str(v)) for k, v in values.items() if isinstance(v, str)] if isinstance(values, dict) else []


def _guesses(u: Understanding) -> List[Tuple[str, float]]:
    """The intent ranking without the FallbackClassifier's own entry."""
    return [(n, c) for n, c in u.ranking if n != "nlu_fallback"]


def _asks_before_treatment(text: str) -> bool:
    return _BEFORE_TREATMENT.search(text) is not None and _AFTER_TREATMENT.search(text) is None


class Resolver:
    def __init__(
        self,
        store: FactsStore,
        red_flag_topics: Optional[Dict[str, str]] = None,
        emergency_red_flags: Sequence[str] = (),
    ) -> None:
        self.store = store
        # red-flag category -> the topic that answers a question about it
        self.red_flag_topics = red_flag_topics or {}
        self.emergency_red_flags = frozenset(emergency_red_flags)

    def decide(self, u: Understanding) -> Decision:
        decision = self._decide(u)
        if decision.kind == "answer":
            decision.aside = next((e for e in u.entities if self._caveat(e)), None)
        return decision

    def _caveat(self, e: Entity) -> Optional[str]:
        entry = self.store.lexicon_entry(e.entity, e.value)
        return entry.caveat if entry is not None else None

    def _decide(self, u: Understanding) -> Decision:
        if u.focus_topic is not None and u.focus_topic not in self.store.topics:
            # a slot from an older facts file, or tampered with: no focus
            u = replace(u, focus_topic=None, focus_aspect=None)
        red_flags = [e.value for e in u.entities if e.entity == "red_flag"]
        if u.intent == "report_red_flag" or red_flags:
            return Decision("urgent", red_flags=red_flags or ["unspecified"])
        asked = [e.value for e in u.entities if e.entity == "red_flag_asked" and e.value in self.red_flag_topics]
        if asked:
            # "is pus normal after microneedling?": its topic, with the advice to
            # get help; before any decline, so that advice is never lost ("can
            # microneedling with PRP cause lip swelling?")
            topic = self.red_flag_topics[asked[0]]
            if asked[0] in self.emergency_red_flags:
                # "does microneedling cause swelling of the lips?" is about swelling
                named = self._named_subject([e for e in u.entities if e.entity == "side_effect"])
                entry = self.store.lexicon_entry(named.entity, named.value) if named else None
                topic = entry.topic if entry and entry.topic else topic
            aspect = "warning_signs" if self.store.facts_for(topic, "warning_signs") else GENERAL
            return Decision("answer", topic=topic, aspect=aspect, red_flags=asked)
        off_topic = [e for e in u.entities if e.entity == OFF_TOPIC and not self._gives_way(e, u)]
        devices = {e.value for e in u.entities if e.entity == "device"}
        if off_topic or (len(devices) > 1 and (_COMPARES.search(u.text) or _LIKENS.search(u.text))):
            # an off-topic subject, or a comparison of devices: not in the articles
            emergency = next((e for e in off_topic if e.value == MEDICAL_EMERGENCY), None)
            return Decision("out_of_scope", subject=emergency)
        if self._compares_products_only(u):
            # "bb cream vs cc cream", "is tretinoin better than retinol?":
            # nothing about the treatment, and the articles compare no products
            return Decision("out_of_scope")
        if u.intent in ("out_of_scope", "ask_contact"):
            named = self._named_subject(u.entities) if self._weak_decline(u) else None
            if named is None and u.confidence < UNSURE_WITHOUT_SUBJECT:
                # "boxing class tomorrow night, I get properly sweaty. skip it?"
                named = self._named_subject(u.entities, ("care_item",))
            if named:
                return self._about(named, GENERAL)
            return Decision("out_of_scope" if u.intent == "out_of_scope" else "contact")
        if u.intent == "choose_option":
            return self._chosen(u)
        if u.intent == "follow_up":
            return self._follow_up(u)
        if u.intent in QUESTION_INTENTS:
            if self._unanchored(u):
                # nothing ties it to the treatment: offering topics would be a
                # guess; say it was not understood, with the topic menu
                return Decision("fallback")
            if self._subject_elsewhere(u):
                return self._unsure(u)
            return self._question(u.intent, u)
        # nlu_fallback (the FallbackClassifier was unsure) or anything unknown
        return self._unsure(u)

    # --- question types ---------------------------------------------------------

    def _question(self, intent: str, u: Understanding) -> Decision:
        default_topic, aspect = QUESTION_INTENTS[intent]
        if (
            (intent == "ask_what_is" and _DAY_AFTER.search(u.text))
            or (
                # "Microneedling downtime for acne scars vs fine lines?"
                intent == "ask_benefits" and _DOWNTIME.search(u.text) and not _ASKS_WHAT_IT_TREATS.search(u.text)
            )
            or (
                # "is downtime shorter with a dermaroller than a pen?"
                intent == "ask_practitioner" and _DOWNTIME.search(u.text)
            )
        ):
            intent, (default_topic, aspect) = "ask_recovery", QUESTION_INTENTS["ask_recovery"]
        asked_about = self._asked_about(u)
        if asked_about is not None:
            return self._about(asked_about, aspect)
        improved = next((e for e in u.entities if self._improvement_asked(e, u.text)), None)
        # not "is it safe with rosacea if I want to treat acne scars?"
        if improved is not None and not any(
            e.entity in ("side_effect", "skin_condition")
            and (entry := self.store.lexicon_entry(e.entity, e.value)) is not None
            and entry.topic not in (None, "benefits")
            for e in u.entities
        ):
            return self._about(improved, aspect)
        run_up = self._run_up(intent, u)
        if run_up is not None:
            return run_up
        risk_worded = _RISK_WORDING.search(u.text) is not None
        subject = self._subject(
            u.entities,
            _SUBJECT_ORDER.get(intent, _DEFAULT_ORDER),
            _IGNORED_SUBJECT_TOPICS.get(intent, ()),
            risk_worded=risk_worded,
            improvements_last=intent != "ask_benefits",
            care_topic=default_topic,
            text=u.text,
        )
        if subject is not None and intent == "ask_sun" and subject.entity == "care_item":
            # "why is the side I slept on more swollen?": an aftercare item
            # gives way to a side effect named
            sun_item = self.store.lexicon_entry(subject.entity, subject.value)
            if sun_item is not None and sun_item.topic == "aftercare":
                subject = self._subject(u.entities, ("side_effect",)) or subject
        if (
            subject is not None
            and intent == "ask_cause"
            and subject.entity == "skin_condition"
            and u.focus_topic is None
            and not any(
                p.search(u.text) for p in (_MENTIONS_TREATMENT, _AFTER_TREATMENT, _BEFORE_TREATMENT, _FIRST_PERSON)
            )
        ):
            # "what causes enlarged pores?", "what causes acne in adults?": the
            # condition itself, which the articles do not explain (not "why is
            # my skin bumpy?", which a patient asks about their skin now)
            return Decision("out_of_scope")
        if subject is not None:
            entry = self.store.lexicon_entry(subject.entity, subject.value)
            special = self._special_reading(intent, u, subject, aspect, risk_worded)
            if special is not None:
                return special
            risk_reading = entry is not None and (
                entry.topic in _IGNORED_SUBJECT_TOPICS.get(intent, ())
                # "could it make my acne scars worse?", even when taken for a
                # question about what the treatment improves
                or (entry.topic == "benefits" and _WORSE.search(u.text) is not None)
            )
            # "pimples on day 5, can I pop them?": a condition in an aftercare
            # question happened after the treatment (not "aftercare for
            # acne-prone skin")
            after = (
                intent == "ask_aftercare"
                and subject.entity == "skin_condition"
                and not _CARE_FOR_SKIN_TYPE.search(u.text)
            )
            before = (
                subject.entity == "skin_condition"
                and _BEFORE_STATE.search(u.text) is not None
                and _AFTER_TREATMENT.search(u.text) is None
            )
            as_symptom = (intent in _SYMPTOM_INTENTS or risk_reading or after) and not before
            decision = self._about(subject, aspect, as_symptom=as_symptom)
            if (
                intent == "ask_seek_help"
                and decision.topic == "side_effects_overview"
                and u.confidence >= UNSURE_WITHOUT_SUBJECT
            ):
                # "when should a slow-healing spot be checked?": no side effect
                # with warning signs of its own
                return Decision("answer", topic="when_to_seek_help", aspect=aspect, subject=subject)
            return decision
        if (
            intent == "ask_safety"
            and _SOMEONE_WITH.search(u.text)
            # not "is it safe to fly if I have had microneedling?"
            and _AFTER_TREATMENT.search(u.text) is None
            and not any(e.entity == "device" for e in u.entities)
        ):
            return Decision("answer", topic="contraindications", aspect=aspect)
        if intent in _OTHERS_ASKED_INTENTS and self._sets_aside_a_side_effect(u):
            # "apart from the swelling, what else can happen?"
            return Decision("answer", topic="side_effects_overview", aspect=GENERAL)
        if u.focus_topic and intent in _FOCUS_INTENTS:
            if default_topic is None or _REFERS_BACK.search(u.text):
                return Decision("answer", topic=u.focus_topic, aspect=aspect)
        if intent == "ask_what_is" and _TOO_FAR.search(u.text):
            return Decision("answer", topic="can_it_go_wrong", aspect=GENERAL)
        if intent == "ask_cause" and not u.focus_topic:
            if _WHY_CALLED.search(u.text):
                return Decision("answer", topic="what_is_microneedling", aspect=GENERAL)
            if _WHY_HAVE_IT.search(u.text):
                return Decision("answer", topic="benefits", aspect=GENERAL)
        return Decision("answer", topic=default_topic or "side_effects_overview", aspect=aspect)

    def _special_reading(
        self, intent: str, u: Understanding, subject: Entity, aspect: str, risk_worded: bool
    ) -> Optional[Decision]:
        """Messages whose subject is not what they ask about, or not in the
        usual reading; None when the subject's own reading holds."""
        entry = self.store.lexicon_entry(subject.entity, subject.value)
        if self._reaction(u) or (self._reacted_to(subject) and intent in _RISK_INTENTS):
            # ... and "is numbing cream safe?" asks about reactions to it too;
            # "can you still feel the needles through the numbing cream?" is
            # about pain, the cream's own topic
            return self._about(ALLERGIC_REACTION, aspect)
        if (
            intent == "ask_benefits"
            and u.confidence >= SURE_OF_BENEFITS
            and subject.entity == "side_effect"
            and entry is not None
            and entry.topic in _TREATED
            and not risk_worded
        ):
            # "Does microneedling help with scars?" asks what it improves
            return Decision("answer", topic="benefits", aspect=aspect)
        if intent == "ask_aftercare" and subject.entity == "care_item" and risk_worded:
            # "can the creams used during microneedling cause an allergic
            # reaction?" asks about the reaction
            caused = self._named_subject([e for e in u.entities if e.entity == "side_effect"])
            if caused is not None:
                return self._about(caused, aspect)
        if (
            intent in ("ask_suitability", "ask_safety")
            and entry is not None
            and entry.entity == "care_item"
            and entry.topic == "aftercare"
            and not entry.named_in_articles
            and _AFTER_TREATMENT.search(u.text) is None
        ):
            # "I smoke, can I still get microneedling?": whether the treatment
            # suits someone with that habit, which the articles leave to who
            # should avoid it and the practitioner, not what to do afterwards
            return Decision("answer", topic="contraindications", aspect=aspect)
        if entry is not None and entry.topic == "benefits" and intent in _AFTER_INTENTS and not risk_worded:
            # "How long is the recovery for acne scar microneedling?": what
            # the treatment is for, not a symptom
            return self._question_without_benefits(intent, u)
        return None

    def _question_without_benefits(self, intent: str, u: Understanding) -> Decision:
        kept = [
            e for e in u.entities if (x := self.store.lexicon_entry(e.entity, e.value)) is None or x.topic != "benefits"
        ]
        return self._question(intent, replace(u, entities=kept))

    def _about(self, subject: Entity, aspect: str, as_symptom: bool = False) -> Decision:
        entry = self.store.lexicon_entry(subject.entity, subject.value)
        assert entry is not None and entry.topic is not None  # _subject checked it
        topic = (entry.symptom_topic if as_symptom else None) or entry.topic
        return Decision("answer", topic=topic, aspect=aspect, subject=subject)

    def _subject(
        self,
        entities: Sequence[Entity],
        order: Sequence[str],
        ignored_topics: Sequence[str] = (),
        risk_worded: bool = True,
        improvements_last: bool = True,
        care_topic: Optional[str] = None,
        text: str = "",
    ) -> Optional[Entity]:
        """The first entity of the first type in `order` that has a topic; one
        whose topic is ignored counts only when `risk_worded` gives it its
        symptom reading. With `improvements_last`, what the treatment improves
        comes after any other value of its type: in "I'm 16 with acne scars, am
        I old enough?" the age is the subject.

        Within a type, a value the articles name comes before one they do not:
        "itchy skin, is that an allergic reaction?" is about allergic reactions;
        and a care item of `care_topic` (the question type's own) before the
        others: "is my tinted moisturiser with SPF 15 enough?" asks about sun
        protection; pain after another side effect when `text` uses it to
        describe that one ("a sore purple spot").
        """
        # _subject runs for every guess of an unsure message: read the text only
        # when pain is named
        pain_describes = (
            any(e.value == PAIN for e in entities)
            and _PAIN_DESCRIBES.search(text) is not None
            and _COMPARES.search(text) is None
        )
        for entity_type in order:
            usable = [
                (
                    (
                        entry.topic == "benefits" and improvements_last,
                        entity_type == "care_item" and care_topic is not None and entry.topic != care_topic,
                        not entry.named_in_articles,
                        # "a sore purple spot", "painful swelling": the pain
                        # describes the other side effect named
                        e.value == PAIN and pain_describes,
                    ),
                    e,
                )
                for e in entities
                if e.entity == entity_type
                and (entry := self.store.lexicon_entry(e.entity, e.value)) is not None
                and entry.topic is not None
                and (entry.topic not in ignored_topics or (risk_worded and entry.symptom_topic is not None))
            ]
            if usable:  # min is stable: the first best-ranked value
                return min(usable, key=lambda ranked: ranked[0])[1]
        return None

    def _improvement_asked(self, e: Entity, text: str) -> bool:
        """Whether `text` asks if the treatment improves `e`, one of what it
        improves ("can collagen induction therapy soften burn scars?"), rather
        than about it after treatment or made worse."""
        entry = self.store.lexicon_entry(e.entity, e.value)
        return (
            entry is not None
            and entry.topic == "benefits"
            and _IMPROVES.search(text) is not None
            and _WORSE.search(text) is None
            and _AFTER_TREATMENT.search(text) is None
        )

    @staticmethod
    def _compares_products_only(u: Understanding) -> bool:
        return (
            u.focus_topic is None
            and _COMPARES.search(u.text) is not None
            and _MENTIONS_TREATMENT.search(u.text) is None
            and _AFTER_TREATMENT.search(u.text) is None
            and any(e.entity == "care_item" for e in u.entities)
            and all(e.entity == "care_item" for e in u.entities)
        )

    def _unanchored(self, u: Understanding) -> bool:
        """A weak guess with nothing to tie it to the treatment or a topic."""
        return (
            u.confidence < UNSURE_WITHOUT_SUBJECT
            and u.focus_topic is None
            and self._subject(u.entities, _DEFAULT_ORDER) is None
            and not self._sets_aside_a_side_effect(u)
            and not _MENTIONS_TREATMENT.search(u.text)
        )

    @staticmethod
    def _weak_decline(u: Understanding) -> bool:
        """A guess of "not covered" (or "put me through to the clinic") weak
        enough to give way to a subject the articles name: below
        WEAK_OUT_OF_SCOPE in a message about the treatment, below
        UNSURE_WITHOUT_SUBJECT in any ("a few cysts on my jaw, ok to go ahead?")."""
        return u.confidence < UNSURE_WITHOUT_SUBJECT or (
            u.confidence < WEAK_OUT_OF_SCOPE and _MENTIONS_TREATMENT.search(u.text) is not None
        )

    def _subject_elsewhere(self, u: Understanding) -> bool:
        """A weak guess whose question type finds no subject in the message,
        though it names one: "got melasma, would needling flare it up?" read
        as a question about the sun is about melasma."""
        assert u.intent is not None
        order = _SUBJECT_ORDER.get(u.intent, _DEFAULT_ORDER)
        ignored = _IGNORED_SUBJECT_TOPICS.get(u.intent, ())
        return (
            u.confidence < UNSURE_WITHOUT_SUBJECT
            and self._subject(u.entities, order, ignored) is None
            and self._subject(u.entities, ("side_effect", "skin_condition"), ignored) is not None
        )

    def _asked_about(self, u: Understanding) -> Optional[Entity]:
        """A subject the wording of the question settles, whatever else is
        named: "..., is that an allergy?" (an allergic reaction), or the
        lexicon's `before_treatment` reading of a care item in a question about
        the run-up to treatment ("on tretinoin for acne, do I need to stop
        before microneedling?")."""
        if _ASKS_IF_ALLERGIC.search(u.text):
            return ALLERGIC_REACTION
        if _SIGN_OF_INFECTION.search(u.text):
            return INFECTION
        if not _asks_before_treatment(u.text):
            return None
        for e in u.entities:
            entry = self.store.lexicon_entry(e.entity, e.value)
            if entry is not None and entry.before_treatment:
                return Entity("skin_condition", entry.before_treatment)
        return None

    def _run_up(self, intent: Optional[str], u: Understanding) -> Optional[Decision]:
        """A question about the run-up to treatment that names nothing with a
        `before_treatment` reading. The articles' one word on the run-up is who
        should wait or avoid it: "how do I prepare for my session?" is answered
        from the contraindications; an aftercare item ("can I drink coffee
        before microneedling?", "spray tan before my appointment?") they say
        nothing about beforehand, so it is declined rather than answered with
        aftercare. None when the question is not about the run-up."""
        if not _asks_before_treatment(u.text):
            return None
        named = [
            entry
            for e in u.entities
            if e.entity in ("side_effect", "skin_condition", "care_item")
            and (entry := self.store.lexicon_entry(e.entity, e.value)) is not None
            and entry.topic is not None
        ]
        if not named:
            if intent in ("ask_prevention", "ask_aftercare", "ask_manage"):
                return Decision("answer", topic="contraindications", aspect=GENERAL)
            return None
        if all(entry.entity == "care_item" and entry.topic == "aftercare" for entry in named):
            return Decision("out_of_scope")
        return None

    def _reaction(self, u: Understanding) -> bool:
        """ "Why does my skin itch after applying numbing cream?", "numbing
        cream made my skin blotchy and itchy": a skin reaction (itching, a
        rash, bumps, an allergic reaction) next to a product the articles say
        some people react to (lexicon `reactions`) is about that reaction; so
        is a reaction or sensitivity to it ("very bad reaction to lidocaine")."""
        if not any(self._reacted_to(e) for e in u.entities):
            return False
        return _REACTS.search(u.text) is not None or any(
            e.entity == "side_effect"
            and (entry := self.store.lexicon_entry(e.entity, e.value)) is not None
            # a skin reaction (itching, a rash, bumps), not "what does it feel
            # like?" or scabbing
            and entry.topic in ("allergic_reaction", "side_effects_overview")
            for e in u.entities
        )

    def _reacted_to(self, e: Entity) -> bool:
        entry = self.store.lexicon_entry(e.entity, e.value)
        return entry is not None and entry.reactions

    def _gives_way(self, off_topic: Entity, u: Understanding) -> bool:
        """An off-topic value that is `declined_alone`, next to a side effect
        (any: a symptom is never declined for a word beside it) or a condition
        the articles name; a kind of microneedling (a value with a caveat) also
        next to a care item ("washing my face after RF microneedling"). Never
        when the message compares it with something, as the articles compare
        nothing ("is RF microneedling more painful than regular?")."""
        entry = self.store.lexicon_entry(off_topic.entity, off_topic.value)
        if entry is None or not entry.declined_alone or _COMPARES.search(u.text):
            return False
        if entry.general_risks_apply and u.intent in _GENERAL_RISK_INTENTS:
            return True
        return any(
            (other := self.store.lexicon_entry(e.entity, e.value)) is not None
            and other.topic is not None
            and (
                e.entity == "side_effect"
                or (e.entity == "skin_condition" and other.named_in_articles)
                or (e.entity == "care_item" and entry.caveat is not None)
            )
            for e in u.entities
        )

    def _named_subject(
        self, entities: Sequence[Entity], types: Sequence[str] = ("side_effect", "skin_condition")
    ) -> Optional[Entity]:
        """A side effect or skin condition (or other `types`) the articles
        name, not a benefit."""
        for entity_type in types:
            for e in entities:
                entry = self.store.lexicon_entry(e.entity, e.value)
                if (
                    e.entity == entity_type
                    and entry is not None
                    and entry.named_in_articles
                    and entry.topic not in (None, "benefits")
                ):
                    return e
        return None

    # --- conversation -------------------------------------------------------------

    def _follow_up(self, u: Understanding) -> Decision:
        """'and bruising?' keeps the aspect in focus and changes the subject."""
        aspect = u.focus_aspect if u.focus_aspect in ASPECTS else GENERAL
        subject = self._subject(u.entities, _DEFAULT_ORDER)
        if subject is not None:
            return self._about(subject, aspect)
        if u.focus_topic:
            return Decision("answer", topic=u.focus_topic, aspect=GENERAL)
        return self._unsure(u)

    def _chosen(self, u: Understanding) -> Decision:
        """A button: /choose_option{"topic": "redness", "aspect": "duration"},
        or its number typed on a channel without buttons ("2")."""
        entities = list(u.entities)
        if not any(e.entity == "topic" for e in entities):
            entities += payload_entities(self._offered_payload(u))
        topic = next((e.value for e in entities if e.entity == "topic"), None)
        aspect = next((e.value for e in entities if e.entity == "aspect"), GENERAL)
        if aspect not in ASPECTS:
            aspect = GENERAL
        if topic in TOPIC_IDS:
            return Decision("answer", topic=topic, aspect=aspect)
        subject = self._subject(entities, _DEFAULT_ORDER)
        if subject is not None:
            return self._about(subject, aspect)
        return self._unsure(u)

    @staticmethod
    def _offered_payload(u: Understanding) -> str:
        """The payload of the option the patient picked by number, or ''."""
        number = option_number(u.text)
        if number is None:
            return ""
        index = number - 1 if number > 0 else number  # -1: "the last one"
        return u.offered[index] if -len(u.offered) <= index < len(u.offered) else ""

    def _unsure(self, u: Understanding) -> Decision:
        """NLU fell back: answer a clearly named subject, else ask, else decline."""
        asked_about = self._asked_about(u)
        if asked_about is not None:
            return self._about(asked_about, GENERAL)
        run_up = self._run_up(None, u)
        if run_up is not None:
            return run_up
        subject = self._subject(u.entities, _DEFAULT_ORDER)
        if subject is not None:
            if self._reaction(u):
                return self._about(ALLERGIC_REACTION, GENERAL)
            entry = self.store.lexicon_entry(subject.entity, subject.value)
            # "got loads of pimples since my session": read as a symptom when
            # the best guess, though unsure, was a question about one, or when
            # what the treatment improves is worded as a risk ("could it make my
            # acne scars worse?")
            guesses = _guesses(u)
            symptom_guess = bool(guesses) and guesses[0][0] in _SYMPTOM_INTENTS
            risk = entry is not None and entry.topic == "benefits" and _RISK_WORDING.search(u.text) is not None
            as_symptom = (symptom_guess or risk) and not self._improvement_asked(subject, u.text)
            return self._about(subject, GENERAL, as_symptom=as_symptom)
        if self._sets_aside_a_side_effect(u):
            return Decision("answer", topic="side_effects_overview", aspect=GENERAL)
        return self._clarify(u) or Decision("fallback")

    def _sets_aside_a_side_effect(self, u: Understanding) -> bool:
        return any(e.entity == "side_effect" for e in u.excluded)

    def _clarify(self, u: Understanding) -> Optional[Decision]:
        guesses = _guesses(u)
        if guesses and any(n == "out_of_scope" and c >= guesses[0][1] - OUT_OF_SCOPE_MARGIN for n, c in guesses):
            # unsure, but "not covered" is (about) the best guess: decline honestly
            return Decision("out_of_scope")
        candidates: List[Tuple[str, str]] = []
        for name, confidence in guesses:
            if name not in QUESTION_INTENTS or confidence < 0.1:
                continue
            decision = self._question(name, u)
            pick = (decision.topic or "", decision.aspect)
            if decision.topic and pick not in candidates:
                candidates.append(pick)
            if len(candidates) == CLARIFY_MAX:
                break
        if not candidates:
            return None
        return Decision("clarify", candidates=candidates)
