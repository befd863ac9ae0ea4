"""Schema of the facts file (`knowledge/facts.yml`).

Pure pydantic (v1, the version Rasa 3.6 pins); no Rasa imports, so the facts
store can be loaded and tested anywhere.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Set

from pydantic import BaseModel, Extra, Field, root_validator, validator

TOPIC_IDS = (
    "what_is_microneedling",
    "benefits",
    "safety_overall",
    "can_it_go_wrong",
    "side_effects_overview",
    "recovery_time",
    "redness",
    "swelling",
    "pain_discomfort",
    "dryness",
    "bruising",
    "infection",
    "hyperpigmentation",
    "scarring",
    "allergic_reaction",
    "contraindications",
    "aftercare",
    "sun_protection",
    "practitioner_choice",
    "when_to_seek_help",
)

# What a fact says about its topic. The answer composer picks facts by aspect
# ("how long does X last" -> duration), and falls back to the topic overview.
ASPECTS = (
    "definition",  # what it is / what happens
    "benefit",
    "frequency",  # how common, normal or rare
    "duration",  # how long it lasts
    "cause",  # why it happens
    "management",  # how to manage, treat or reduce it
    "prevention",  # how to lower the risk beforehand
    "risk_group",  # who is more at risk / who should avoid
    "warning_signs",  # when it is a problem, when to get help
    "summary",  # the overall verdict
)

# Entity types the NLU lexicon produces (see `lexicon` below). `off_topic`
# marks subjects the articles do not cover at all (other treatments, hair
# loss, ...): a question about them is declined, so those entries have no topic.
ENTITY_TYPES = ("side_effect", "skin_condition", "care_item", "device", "off_topic")
OFF_TOPIC = "off_topic"

_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        anystr_strip_whitespace = True
        allow_mutation = False


class Article(_Strict):
    number: int = Field(..., ge=1)
    title: str = Field(..., min_length=3)
    # The article's first line in the seed file. Article n starts at the first
    # occurrence of its first_line after the start of article n-1 (several
    # articles share a heading), and ends where article n+1 starts.
    first_line: str = Field(..., min_length=10)


class Document(_Strict):
    file: str = Field(..., regex=r"^[\w.-]+\.txt$")
    articles: List[Article] = Field(..., min_items=1)


class Source(_Strict):
    document: str
    article: int = Field(..., ge=1)
    quote: str = Field(..., min_length=10)


class Fact(_Strict):
    id: str
    topic: str
    aspect: str
    text: str = Field(..., min_length=10, max_length=300)
    sources: List[Source] = Field(..., min_items=1)
    # True when the sources disagree and `text` reports every version.
    articles_disagree: bool = False

    @validator("id")
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower_snake_case words joined by dots")
        return value

    @validator("topic")
    def _known_topic(cls, value: str) -> str:
        if value not in TOPIC_IDS:
            raise ValueError(f"unknown topic id {value!r}")
        return value

    @validator("aspect")
    def _known_aspect(cls, value: str) -> str:
        if value not in ASPECTS:
            raise ValueError(f"unknown aspect {value!r}; one of {', '.join(ASPECTS)}")
        return value


class Topic(_Strict):
    id: str
    title: str = Field(..., min_length=3)  # "Redness"
    # The question a clarify button asks, e.g. "How long does redness last?".
    question: str = Field(..., min_length=5)
    # Fact ids that make the general answer, in order.
    overview: List[str] = Field(..., min_items=1)
    # Topics offered as follow-up buttons after an answer on this one.
    follow_ups: List[str] = Field(default_factory=list, max_items=3)

    @validator("id")
    def _known_topic(cls, value: str) -> str:
        if value not in TOPIC_IDS:
            raise ValueError(f"unknown topic id {value!r}")
        return value

    @validator("follow_ups", each_item=True)
    def _known_follow_up(cls, value: str) -> str:
        if value not in TOPIC_IDS:
            raise ValueError(f"unknown topic id {value!r}")
        return value


class LexiconEntry(_Strict):
    """Words patients use for one entity value; the NLU matcher is built from these."""

    value: str  # canonical entity value, e.g. "swelling" or "eczema"
    entity: str
    topic: Optional[str]  # topic that answers a question about this value
    # Topic when the value is reported as something that happened after
    # treatment ("pimples after microneedling") rather than asked about as a
    # condition one has before it ("can I do it with acne?").
    symptom_topic: Optional[str] = None
    terms: List[str] = Field(..., min_items=1)
    # False when the articles do not name this value (e.g. pregnancy): the
    # answer then says so instead of implying the articles cover it.
    named_in_articles: bool = True
    # Fact ids specific to this value (e.g. the eczema sentence), given first.
    facts: List[str] = Field(default_factory=list)
    # A skin_condition value that a question about this item in the run-up to
    # treatment is about: "when do I stop tretinoin before microneedling?" asks
    # who should wait, not how to look after the skin afterwards.
    before_treatment: Optional[str] = None
    # An off_topic value declined only when the message names nothing the
    # articles cover: "psoriasis on his scalp, can he do it for hair loss?" is
    # about psoriasis; "does it help hair loss?" is declined.
    declined_alone: bool = False
    # A product the articles say some people react to (numbing cream): a skin
    # reaction next to it, a reaction or sensitivity to it, or a risk question
    # about it is about allergic reactions; other questions take its topic.
    reactions: bool = False
    # A kind of microneedling the articles do not describe ("RF microneedling"):
    # beside a care item too, it gives way, and the answer says this first.
    caveat: Optional[str] = None
    # A place the treatment is done that the articles do not describe (the
    # scalp, the body): a general question about its risks ("what can go
    # wrong with microneedling on the scalp?") is answered, with the caveat.
    general_risks_apply: bool = False

    @validator("value")
    def _value_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower_snake_case")
        return value

    @validator("entity")
    def _known_entity(cls, value: str) -> str:
        if value not in ENTITY_TYPES:
            raise ValueError(f"unknown entity type {value!r}; one of {', '.join(ENTITY_TYPES)}")
        return value

    @validator("topic", always=True)
    def _known_topic(cls, value: Optional[str], values: Dict) -> Optional[str]:
        if values.get("entity") == OFF_TOPIC:
            if value is not None:
                raise ValueError("off_topic entries are declined, so they have no topic")
            return value
        if value not in TOPIC_IDS:
            raise ValueError(f"unknown topic id {value!r}")
        return value

    @validator("declined_alone")
    def _declined_alone_off_topic(cls, value: bool, values: Dict) -> bool:
        if value and values.get("entity") != OFF_TOPIC:
            raise ValueError("only off_topic entries are declined, alone or not")
        return value

    @validator("caveat")
    def _caveat_when_answered(cls, value: Optional[str], values: Dict) -> Optional[str]:
        if value is not None and not values.get("declined_alone"):
            raise ValueError("only a declined_alone value is ever answered beside, so only it has a caveat")
        if value is not None and not value.strip():
            raise ValueError("an empty caveat says nothing; leave it out")
        return value

    @validator("reactions")
    def _reactions_of_products(cls, value: bool, values: Dict) -> bool:
        if value and values.get("entity") != "care_item":
            raise ValueError("only a care_item (a product) is something people react to")
        return value

    @validator("symptom_topic")
    def _known_symptom_topic(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in TOPIC_IDS:
            raise ValueError(f"unknown topic id {value!r}")
        return value


class FactsFile(_Strict):
    version: int = Field(..., ge=1)
    documents: List[Document] = Field(..., min_items=1)
    topics: List[Topic]
    facts: List[Fact] = Field(..., min_items=1)
    lexicon: List[LexiconEntry] = Field(default_factory=list)
    # phrases that contain a lexicon term but mean something else
    lexicon_idioms: List[str] = Field(default_factory=list)

    @root_validator(skip_on_failure=True)
    def _cross_references(cls, values: Dict) -> Dict:
        articles: Dict[str, Set[int]] = {d.file: {a.number for a in d.articles} for d in values["documents"]}
        problems: List[str] = []
        fact_ids: Set[str] = set()
        for i, fact in enumerate(values["facts"]):
            if fact.id in fact_ids:
                problems.append(f"facts[{i}] (id {fact.id!r}): duplicate id")
            fact_ids.add(fact.id)
            for j, src in enumerate(fact.sources):
                if src.document not in articles:
                    problems.append(
                        f"facts[{i}] (id {fact.id!r}) field sources[{j}].document: "
                        f"unknown document {src.document!r}"
                    )
                elif src.article not in articles[src.document]:
                    problems.append(
                        f"facts[{i}] (id {fact.id!r}) field sources[{j}].article: "
                        f"{src.document} has no article {src.article}"
                    )
        seen_topics: Set[str] = set()
        for i, topic in enumerate(values["topics"]):
            if topic.id in seen_topics:
                problems.append(f"topics[{i}] (id {topic.id!r}): duplicate id")
            seen_topics.add(topic.id)
            for fid in topic.overview:
                if fid not in fact_ids:
                    problems.append(f"topics[{i}] (id {topic.id!r}) field overview: unknown fact {fid!r}")
        missing = [t for t in TOPIC_IDS if t not in seen_topics]
        if missing:
            problems.append(f"topics: missing topic ids {', '.join(missing)}")
        seen_values: Set[tuple] = set()
        for i, entry in enumerate(values["lexicon"]):
            key = (entry.entity, entry.value)
            if key in seen_values:
                problems.append(f"lexicon[{i}] (value {entry.value!r}): duplicate value")
            seen_values.add(key)
            for fid in entry.facts:
                if fid not in fact_ids:
                    problems.append(f"lexicon[{i}] (value {entry.value!r}) field facts: unknown fact {fid!r}")
        conditions = {e.value for e in values["lexicon"] if e.entity == "skin_condition"}
        for i, entry in enumerate(values["lexicon"]):
            if entry.before_treatment is not None and entry.before_treatment not in conditions:
                problems.append(
                    f"lexicon[{i}] (value {entry.value!r}) field before_treatment: "
                    f"unknown skin_condition value {entry.before_treatment!r}"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return values
