"""Compose the bot's reply (text, buttons, contract) from a Decision.

Pure: no Rasa imports. Every factual sentence comes from the facts file; the
clinic's details from config/clinic.yml; the few fixed sentences (decline,
urgent instruction, disclaimer) live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from actions import contract
from actions.clinic import Clinic
from actions.facts_schema import Fact
from actions.facts_store import FactsStore
from actions.red_flags_config import Category, RedFlagsFile
from actions.resolver import GENERAL, MEDICAL_EMERGENCY, Decision

SIDE_EFFECT_TOPICS = (
    "redness",
    "swelling",
    "pain_discomfort",
    "dryness",
    "bruising",
    "infection",
    "hyperpigmentation",
    "scarring",
    "allergic_reaction",
)

# aspect -> (phrase for "the articles don't say ...", button question)
ASPECT_WORDING: Dict[str, Tuple[str, str]] = {
    "duration": ("how long {x} lasts", "How long does {x} last?"),
    "cause": ("why {x} happens", "Why does {x} happen?"),
    "management": ("how to manage {x}", "How do I manage {x}?"),
    "prevention": ("how to prevent {x}", "How can I lower the risk of {x}?"),
    "risk_group": ("who is more at risk of {x}", "Who is more at risk of {x}?"),
    "warning_signs": ("when {x} needs medical attention", "When does {x} need a doctor?"),
    "frequency": ("how common {x} is", "How common is {x}?"),
}
FOLLOW_UP_ASPECTS = ("duration", "management", "warning_signs")
MAX_BUTTONS = 3
TEXT_BUDGET = 520  # characters of facts in one chat bubble (at least one fact)

DISCLAIMER = (
    "(This is general information from published articles, not medical advice. "
    "Please ask your practitioner about your own skin.)"
)


@dataclass
class Reply:
    text: str
    custom: Dict[str, Any]
    buttons: List[Dict[str, str]] = field(default_factory=list)
    focus_topic: Optional[str] = None
    focus_aspect: Optional[str] = None


def choose_payload(topic: str, aspect: str = GENERAL) -> str:
    if aspect == GENERAL:
        return f'/choose_option{{"topic": "{topic}"}}'
    return f'/choose_option{{"topic": "{topic}", "aspect": "{aspect}"}}'


class Composer:
    def __init__(self, store: FactsStore, clinic: Clinic, red_flags: RedFlagsFile) -> None:
        self.store = store
        self.clinic = clinic
        self.red_flags = red_flags

    def compose(self, decision: Decision, with_disclaimer: bool = False) -> Reply:
        build = {
            "answer": self._answer,
            "clarify": self._clarify,
            "urgent": self._urgent,
            "out_of_scope": self._out_of_scope,
            "contact": self._contact,
            "fallback": self._fallback,
        }[decision.kind]
        reply = build(decision)
        if with_disclaimer:
            reply.text = f"{reply.text}\n\n{DISCLAIMER}"
        return reply

    # --- answers ----------------------------------------------------------------

    def _answer(self, d: Decision) -> Reply:
        assert d.topic is not None
        topic = self.store.topic(d.topic)
        lead: List[str] = []
        if d.red_flags:  # "is pus normal after microneedling?"
            categories = self._categories(d.red_flags)
            what = self._labels(categories)
            if any(c.severity == "emergency" for c in categories):
                lead.append(
                    f"If you ever have {what}, call {self.clinic.emergency_number} now, "
                    f"then let your practitioner know, or call {self.clinic.name} on {self.clinic.phone}."
                )
            else:
                lead.append(f"If you have {what}, {self._seek_help_promptly()}")
        aside = self.store.lexicon_entry(d.aside.entity, d.aside.value) if d.aside else None
        if aside is not None and aside.caveat:
            lead.append(aside.caveat)
        facts: List[Fact] = []
        entry = self.store.lexicon_entry(d.subject.entity, d.subject.value) if d.subject else None
        if entry is not None:
            own_topic = entry.topic == d.topic  # not its symptom reading
            if not entry.named_in_articles:
                lead.append(
                    f"The articles I use don't mention {entry.terms[0]} specifically. "
                    f"Here is what they say about {topic.title.lower()}:"
                )
            elif not own_topic:  # e.g. acne scars asked about as a risk: scarring
                lead.append(f"Here is what the articles say about {topic.title.lower()}:")
            if own_topic:
                facts += [self.store.fact(fid) for fid in entry.facts]
        if d.aspect != GENERAL:
            specific = self.store.facts_for(d.topic, d.aspect)
            if not specific and d.topic in SIDE_EFFECT_TOPICS and d.aspect in ASPECT_WORDING:
                missing = ASPECT_WORDING[d.aspect][0].format(x=topic.title.lower())
                lead.append(f"The articles don't say {missing}. What they do say:")
            facts += specific
        facts += self.store.overview(d.topic)
        chosen = self._fit(facts)
        text = " ".join(lead + [f.text for f in chosen])
        return Reply(
            text=f"{text}\n\n{self._source_line(chosen)}",
            custom=contract.payload("answer", [d.topic], chosen),
            buttons=self._follow_up_buttons(d.topic, d.aspect, chosen),
            focus_topic=d.topic,
            focus_aspect=d.aspect,
        )

    def _fit(self, facts: Sequence[Fact]) -> List[Fact]:
        """The facts, without repeats, that fit one chat bubble (at least one)."""
        chosen: List[Fact] = []
        used = 0
        for fact in facts:
            if any(fact.id == c.id for c in chosen):
                continue
            if chosen and used + len(fact.text) > TEXT_BUDGET:
                break
            chosen.append(fact)
            used += len(fact.text) + 1
        return chosen

    def _source_line(self, facts: Sequence[Fact]) -> str:
        """'Sources: "Title" (file, articles 2 and 4); ...', one entry per title."""
        cited: Dict[Tuple[str, str], List[int]] = {}
        for fact in facts:
            for src in fact.sources:
                article = self.store.article(src)
                numbers = cited.setdefault((article.title, article.document), [])
                if article.number not in numbers:
                    numbers.append(article.number)
        refs = []
        for (title, document), numbers in cited.items():
            numbers.sort()
            if len(numbers) == 1:
                where = f"article {numbers[0]}"
            else:
                where = "articles " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
            refs.append(f'"{title}" ({document}, {where})')
        label = "Source" if len(refs) == 1 and len(next(iter(cited.values()))) == 1 else "Sources"
        return f"{label}: " + "; ".join(refs)

    def _follow_up_buttons(self, topic_id: str, aspect: str, given: Sequence[Fact]) -> List[Dict[str, str]]:
        buttons: List[Dict[str, str]] = []
        given_aspects = {f.aspect for f in given if f.topic == topic_id} | {aspect}
        if topic_id in SIDE_EFFECT_TOPICS:
            title = self.store.topic(topic_id).title.lower()
            for asp in FOLLOW_UP_ASPECTS:
                if asp not in given_aspects and self.store.facts_for(topic_id, asp):
                    question = ASPECT_WORDING[asp][1].format(x=title)
                    buttons.append({"title": question, "payload": choose_payload(topic_id, asp)})
                if len(buttons) == 2:
                    break
        for other in self.store.topic(topic_id).follow_ups:
            if len(buttons) >= MAX_BUTTONS:
                break
            buttons.append({"title": self.store.topic(other).question, "payload": choose_payload(other)})
        return buttons[:MAX_BUTTONS]

    def _question_for(self, topic_id: str, aspect: str) -> str:
        topic = self.store.topic(topic_id)
        if aspect != GENERAL and aspect in ASPECT_WORDING and topic_id in SIDE_EFFECT_TOPICS:
            return ASPECT_WORDING[aspect][1].format(x=topic.title.lower())
        return topic.question

    # --- the other kinds ----------------------------------------------------------

    def _clarify(self, d: Decision) -> Reply:
        buttons = [
            {"title": self._question_for(t, a), "payload": choose_payload(t, a)} for t, a in d.candidates[:MAX_BUTTONS]
        ]
        return Reply(
            text="I'm not sure I understood. Did you mean one of these?",
            custom=contract.payload("clarify", [t for t, _ in d.candidates[:MAX_BUTTONS]]),
            buttons=buttons,
        )

    def _categories(self, red_flags: Sequence[str]) -> List[Category]:
        return [c for c in (self.red_flags.category(r) for r in red_flags) if c]

    @staticmethod
    def _labels(categories: Sequence[Category]) -> str:
        return " and ".join(dict.fromkeys(c.label for c in categories)) or "a symptom that needs checking"

    def _seek_help_promptly(self) -> str:
        return (
            "please seek medical attention promptly: contact your practitioner or a doctor today, "
            f"or call {self.clinic.name} on {self.clinic.phone}."
        )

    def _urgent(self, d: Decision) -> Reply:
        categories = self._categories(d.red_flags)
        emergency = any(c.severity == "emergency" for c in categories)
        what = self._labels(categories)
        lines = []
        if emergency:
            lines.append(
                f"What you describe ({what}) can be serious. If you have trouble breathing, or "
                f"your throat, tongue or lips are swelling, call {self.clinic.emergency_number} now. "
                f"Then let your practitioner know, or call {self.clinic.name} on {self.clinic.phone}."
            )
        else:
            advice = self._seek_help_promptly()
            lines.append(f"What you describe sounds like {what}. {advice[0].upper()}{advice[1:]}")
        # what the articles say about this sign, else their general instruction
        facts = [f for c in categories for f in self.store.facts_for(c.topic, "warning_signs")]
        facts = facts or self.store.overview("when_to_seek_help")[:1]
        chosen = self._fit(facts)
        lines.append(" ".join(f.text for f in chosen))
        topics = ["when_to_seek_help", *(c.topic for c in categories)]
        return Reply(
            text="\n\n".join([*lines, self._source_line(chosen)]),
            custom=contract.payload("urgent", topics, chosen),
        )

    def _reach_clinic(self) -> str:
        c = self.clinic
        return f"call {c.name} on {c.phone} ({c.opening_hours}) or book online at {c.booking_url}"

    def _out_of_scope(self, d: Decision) -> Reply:
        decline = (
            "I only answer from published articles about microneedling and its side effects. "
            f"For prices, sessions, bookings or other treatments, please {self._reach_clinic()}."
        )
        if d.subject is not None and d.subject.value == MEDICAL_EMERGENCY:
            text = (
                f"If this is a medical emergency, call {self.clinic.emergency_number} now. "
                f"I can't help with it here: {decline}"
            )
        else:
            text = (
                f"I'm sorry, I don't have information on that: {decline} "
                f"If this is a medical emergency, call {self.clinic.emergency_number}."
            )
        return Reply(
            text=text,
            custom=contract.payload("out_of_scope"),
            buttons=self._menu(),
        )

    def _contact(self, d: Decision) -> Reply:
        return Reply(
            text=f"To talk to someone or book an appointment, {self._reach_clinic()}.",
            custom=contract.payload("out_of_scope"),
        )

    def _fallback(self, d: Decision) -> Reply:
        return Reply(
            text=(
                "Sorry, I didn't understand that. I can answer questions about microneedling "
                "and its side effects: could you say it another way, or pick a topic below? "
                f"For anything else, {self._reach_clinic()}."
            ),
            custom=contract.payload("fallback"),
            buttons=self._menu(),
        )

    def _menu(self) -> List[Dict[str, str]]:
        topics = ("side_effects_overview", "contraindications", "aftercare")
        return [{"title": self.store.topic(t).question, "payload": choose_payload(t)} for t in topics]
