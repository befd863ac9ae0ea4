"""Checks on the real facts file, `knowledge/facts.yml`, against the seed articles.

The seed files in knowledge/sources/ are the single source of truth: every
quote must be copied verbatim from the article it names, and every sentence of
every article that states a fact must be quoted by some fact (the sentences
that hold no fact are listed, with a reason, in NO_FACT_SENTENCES below).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from actions.facts_schema import ASPECTS, ENTITY_TYPES, TOPIC_IDS
from actions.facts_store import FactsStore, article_texts, load_facts

ROOT = Path(__file__).resolve().parent.parent
FACTS_PATH = ROOT / "knowledge" / "facts.yml"
SOURCES_DIR = ROOT / "knowledge" / "sources"
SEED_FILES = ("000_cd3ae78a834cc04f.txt", "001_3d3d3cc1674fbd5b.txt")
ARTICLES_PER_FILE = {"000_cd3ae78a834cc04f.txt": 4, "001_3d3d3cc1674fbd5b.txt": 1}

# Sentences of the seed articles that state no fact, each reviewed by hand.
# Compared after whitespace normalisation; a heading shared by several
# articles is listed once.
NO_FACT_SENTENCES: Dict[str, str] = {
    # --- 000, headings and lead-ins ---
    "Understanding the Side Effects of Microneedling": "article title (articles 2, 3 and 4)",
    "Common Side Effects": "section heading",
    "Managing Post-Procedure Discomfort": "section heading",
    "Rare but Serious Side Effects": "section heading; the next sentence says the same and is quoted",
    "Personal Experience and Professional Insight": "section heading",
    "Conclusion": "section heading",
    "Less Common Side Effects": "section heading",
    "These include:": "list lead-in; the list items are quoted",
    "Special Considerations": "section heading",
    "Post-Procedure Care": "section heading",
    "This includes:": "list lead-in of article 3, whose list is empty in the source",
    "How to Minimize Side Effects": "section heading",
    "To minimize the risk of side effects, it is essential to follow these guidelines:": (
        "list lead-in; the guidelines are quoted"
    ),
    "Get updated with beauty resources, tips, and news": "website boilerplate after article 4",
    # --- 001, headings, byline and framing ---
    "Potential Risks and Complications- When Can Microneedling Go Wrong-": ("page title"),
    "by liuqiyue": "byline",
    "Can Microneedling Go Wrong?": "article title (first half)",
    "Understanding the Risks and Precautions": "article title (second half)",
    "In this article, we will explore the potential issues that can arise during "
    "microneedling and the precautions you should take to minimize them.": (
        "rhetorical framing of what the article covers"
    ),
    "Understanding the Procedure": "section heading",
    "Common Risks and Complications": "section heading",
    "Precautions to Take": "section heading",
    "To minimize the risks associated with microneedling, it is essential to take certain "
    "precautions:": "list lead-in; the precautions are quoted",
    "Related Posts": "website boilerplate after the article",
}

# Aspects each topic must have a fact for: verified by reading the articles,
# which state each of these (see the sources of the facts themselves).
REQUIRED_ASPECTS: Dict[str, Set[str]] = {
    "what_is_microneedling": {"definition"},
    "benefits": {"benefit"},
    "safety_overall": {"summary", "prevention"},
    "can_it_go_wrong": {"summary", "cause", "prevention"},
    "side_effects_overview": {"frequency", "summary"},
    "recovery_time": {"duration", "management"},
    # common, "like a sunburn", normal part of healing, how long (4 versions),
    # aftercare and sunscreen, infection can also cause it (001)
    "redness": {"frequency", "definition", "cause", "duration", "management", "warning_signs"},
    "swelling": {"frequency", "definition", "cause", "duration", "management", "warning_signs"},
    # common after; "generally painless" (001); needle depth / sensitivity;
    # few days vs few days to a week; aftercare; "excessive pain" -> seek help
    "pain_discomfort": {"frequency", "cause", "duration", "management", "warning_signs"},
    # common; dry and flaky; up to a week; lost moisture / peeling; moisturisers
    "dryness": {"frequency", "definition", "duration", "cause", "management"},
    # "in some cases"; deeper needles; particularly sensitive skin
    "bruising": {"frequency", "cause", "risk_group"},
    "infection": {"frequency", "cause", "prevention", "warning_signs"},
    "hyperpigmentation": {"definition", "frequency", "cause", "risk_group", "management"},
    "scarring": {"frequency", "cause", "risk_group"},
    "allergic_reaction": {"frequency", "cause", "prevention"},
    "contraindications": {"risk_group", "prevention"},
    "aftercare": {"management", "prevention"},
    "sun_protection": {"duration", "management", "cause"},
    "practitioner_choice": {"prevention", "summary"},
    "when_to_seek_help": {"warning_signs", "management"},
}

# Aspects the articles do NOT state for these topics: a fact here would be
# invented (e.g. no article says how long bruising lasts or how to treat it).
UNSUPPORTED_ASPECTS: Dict[str, Set[str]] = {
    "bruising": {"duration", "management", "prevention", "warning_signs"},
    "scarring": {"duration", "management", "warning_signs"},
    "allergic_reaction": {"duration", "management", "warning_signs", "risk_group"},
    "hyperpigmentation": {"duration", "warning_signs"},
    "infection": {"duration", "management"},
    "dryness": {"warning_signs", "risk_group"},
}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def store() -> FactsStore:
    return load_facts(FACTS_PATH)


@pytest.fixture(scope="module")
def seeds() -> Dict[str, str]:
    return {name: (SOURCES_DIR / name).read_text(encoding="utf-8") for name in SEED_FILES}


def article_spans(store: FactsStore, seeds: Dict[str, str]) -> Dict[Tuple[str, int], str]:
    """Text of each article, as the loader computes it (see `article_texts`)."""
    for doc in store.documents:
        numbers = [a.number for a in doc.articles]
        assert numbers == list(range(1, len(numbers) + 1)), f"{doc.file}: articles not 1..n"
        first = doc.articles[0].first_line
        # nothing but blank lines before the first article
        assert seeds[doc.file].lstrip().startswith(first), doc.file
    return article_texts(store.documents, SOURCES_DIR)


def sentences(text: str) -> Iterator[str]:
    """Lines, then sentence-final punctuation followed by whitespace. A leading
    list number ("1. ") is dropped so it does not split off as a sentence."""
    for line in text.split("\n"):
        line = re.sub(r"^\d+\.\s+", "", line.strip())
        for part in re.split(r"(?<=[.!?])\s+", line):
            part = _norm(part)
            if part:
                yield part


def _covered(sentence: str, quotes: List[str]) -> bool:
    return any(q in sentence or sentence in q for q in quotes)


# --- 1. schema ------------------------------------------------------------------


def test_real_file_loads(store: FactsStore) -> None:
    assert store.version == 1
    assert len(store.facts) >= 60
    assert {d.file for d in store.documents} == set(SEED_FILES)
    for doc in store.documents:
        assert len(doc.articles) == ARTICLES_PER_FILE[doc.file]


def test_article_titles(store: FactsStore) -> None:
    titles = {(d.file, a.number): a.title for d in store.documents for a in d.articles}
    assert titles[("001_3d3d3cc1674fbd5b.txt", 1)] == (
        "Can Microneedling Go Wrong? Understanding the Risks and Precautions"
    )
    assert "untitled" in titles[("000_cd3ae78a834cc04f.txt", 1)]
    for n in (2, 3, 4):
        assert titles[("000_cd3ae78a834cc04f.txt", n)] == ("Understanding the Side Effects of Microneedling")


# --- 2. quotes are verbatim and in the right article ------------------------------


def test_article_spans_partition_the_seed_files(store: FactsStore, seeds: Dict[str, str]) -> None:
    spans = article_spans(store, seeds)
    for name, text in seeds.items():
        joined = "\n".join(spans[(name, n)] for n in range(1, ARTICLES_PER_FILE[name] + 1))
        assert joined == text, f"{name}: the article spans do not cover the file exactly"
    # spot checks of where the articles of file 000 start
    assert spans[("000_cd3ae78a834cc04f.txt", 1)].startswith("Microneedling, also known as")
    assert "within a few hours to a couple of days" in spans[("000_cd3ae78a834cc04f.txt", 4)]
    assert "within a few days to a week" in spans[("000_cd3ae78a834cc04f.txt", 3)]
    assert "rosacea" in spans[("000_cd3ae78a834cc04f.txt", 3)]
    assert "rosacea" not in spans[("000_cd3ae78a834cc04f.txt", 1)]


def test_every_quote_is_verbatim_in_its_article(store: FactsStore, seeds: Dict[str, str]) -> None:
    spans = article_spans(store, seeds)
    problems = []
    for fact, source in store.all_sources():
        if source.quote not in seeds[source.document]:
            problems.append(f"{fact.id}: not in {source.document}: {source.quote!r}")
        elif source.quote not in spans[(source.document, source.article)]:
            problems.append(f"{fact.id}: not in {source.document} article {source.article}: {source.quote!r}")
    assert not problems, "\n".join(problems)


def test_quotes_are_sentences_or_clauses(store: FactsStore) -> None:
    for fact, source in store.all_sources():
        assert len(source.quote.split()) >= 5, f"{fact.id}: quote too short: {source.quote!r}"
        assert source.quote == source.quote.strip()


def test_curly_apostrophes_of_001_are_kept(store: FactsStore) -> None:
    quotes_001 = [s.quote for _, s in store.all_sources() if s.document.startswith("001_")]
    assert any("\u2019" in q for q in quotes_001)
    assert not any("skin's" in q or "body's" in q for q in quotes_001)


# --- 3. coverage of every fact-bearing sentence -------------------------------------


def test_every_fact_sentence_is_quoted(store: FactsStore, seeds: Dict[str, str]) -> None:
    spans = article_spans(store, seeds)
    quotes: Dict[Tuple[str, int], List[str]] = defaultdict(list)
    for _, source in store.all_sources():
        quotes[(source.document, source.article)].append(_norm(source.quote))
    uncovered = []
    for key, text in spans.items():
        for sentence in sentences(text):
            if sentence in NO_FACT_SENTENCES:
                continue
            if not _covered(sentence, quotes[key]):
                uncovered.append(f"{key[0]} article {key[1]}: {sentence}")
    assert not uncovered, "sentences no fact quotes:\n" + "\n".join(uncovered)


def test_exclusion_list_is_current(seeds: Dict[str, str]) -> None:
    all_sentences = {s for text in seeds.values() for s in sentences(text)}
    stale = [s for s in NO_FACT_SENTENCES if s not in all_sentences]
    assert not stale, f"excluded sentences no longer in the seeds: {stale}"
    assert all(reason.strip() for reason in NO_FACT_SENTENCES.values())


def test_excluded_sentences_are_not_fact_sentences(store: FactsStore) -> None:
    # An excluded sentence that some fact quotes belongs in neither list twice.
    quotes = [_norm(s.quote) for _, s in store.all_sources()]
    for sentence in NO_FACT_SENTENCES:
        assert not any(q in sentence for q in quotes), f"quoted but excluded: {sentence!r}"


def test_sentence_splitter() -> None:
    text = "Heading\n\n1. Infection: One. Two? Three!\nRemember, \u201cCan it go wrong?\u201d The answer."
    assert list(sentences(text)) == [
        "Heading",
        "Infection: One.",
        "Two?",
        "Three!",
        "Remember, \u201cCan it go wrong?\u201d The answer.",
    ]


# --- 4. topics and aspects ------------------------------------------------------------


def test_all_topics_present_with_facts_and_overview(store: FactsStore) -> None:
    assert set(store.topics) == set(TOPIC_IDS)
    by_topic = defaultdict(list)
    for fact in store.facts.values():
        by_topic[fact.topic].append(fact)
    for topic_id in TOPIC_IDS:
        topic = store.topic(topic_id)
        assert by_topic[topic_id], f"{topic_id}: no facts"
        assert 1 <= len(topic.overview) <= 3, topic_id
        assert len(set(topic.overview)) == len(topic.overview), topic_id
        for fact in store.overview(topic_id):
            assert fact.topic == topic_id, f"{topic_id}: overview uses {fact.id} of {fact.topic}"
        bubble = " ".join(f.text for f in store.overview(topic_id))
        # actions/composer.py fits at most TEXT_BUDGET (520) characters of facts
        # in one bubble; the whole overview must fit.
        assert len(bubble) <= 520, f"{topic_id}: overview too long for a chat bubble ({len(bubble)})"
        assert topic_id not in topic.follow_ups
        assert len(set(topic.follow_ups)) == len(topic.follow_ups)
        assert topic.question.endswith("?")


def test_required_aspects(store: FactsStore) -> None:
    assert set(REQUIRED_ASPECTS) == set(TOPIC_IDS)
    missing = []
    for topic_id, aspects in REQUIRED_ASPECTS.items():
        assert aspects <= set(ASPECTS)
        for aspect in sorted(aspects):
            if not store.facts_for(topic_id, aspect):
                missing.append(f"{topic_id}/{aspect}")
    assert not missing, f"missing facts: {missing}"


def test_no_facts_for_aspects_the_articles_do_not_state(store: FactsStore) -> None:
    for topic_id, aspects in UNSUPPORTED_ASPECTS.items():
        for aspect in aspects:
            assert not store.facts_for(topic_id, aspect), f"{topic_id}/{aspect} is not in the articles"


def test_fact_ids_and_texts(store: FactsStore) -> None:
    for fact in store.facts.values():
        assert fact.id.startswith(fact.topic + "."), fact.id
        assert len(fact.text) <= 300, f"{fact.id}: text longer than 300 characters"
        assert fact.text[0].isupper() and fact.text.rstrip()[-1] in ".?!", fact.id
        assert "\n" not in fact.text


def test_no_number_in_a_text_that_its_sources_do_not_give(store: FactsStore) -> None:
    for fact in store.facts.values():
        quoted = " ".join(s.quote for s in fact.sources)
        for number in re.findall(r"\d+", fact.text):
            assert number in quoted, f"{fact.id}: number {number} is not in its sources"


def test_disagreeing_facts_cite_several_articles(store: FactsStore) -> None:
    flagged = [f for f in store.facts.values() if f.articles_disagree]
    assert len(flagged) >= 4
    for fact in flagged:
        articles = {(s.document, s.article) for s in fact.sources}
        assert len(articles) >= 2, f"{fact.id}: disagreement needs sources from several articles"
        assert re.search(r"differ|disagree|instead|another", fact.text), fact.id


# --- 5. the redness and swelling durations keep every version ---------------------


@pytest.mark.parametrize("fact_id", ["redness.duration", "swelling.duration", "recovery_time.duration"])
def test_duration_keeps_every_version(store: FactsStore, fact_id: str) -> None:
    fact = store.fact(fact_id)
    assert fact.articles_disagree is True
    assert store.facts_for(fact.topic, "duration")[0].id == fact_id
    quoted: Dict[int, str] = defaultdict(str)
    for source in fact.sources:
        if source.document == "000_cd3ae78a834cc04f.txt":
            quoted[source.article] += source.quote + "\n"
    # one source per version, each from the article that gives it
    assert "a few hours to a couple of days." in quoted[4]
    assert "within a few days to a week." in quoted[3]
    assert "within a few days.\n" in quoted[2]
    assert "within a few days.\n" in quoted[1]
    for version in ("a few hours to a couple of days", "within a few days", "a few days to a week"):
        assert version in fact.text, f"{fact_id}: text omits {version!r}"


def test_pain_duration_keeps_both_versions(store: FactsStore) -> None:
    fact = store.fact("pain_discomfort.duration")
    assert fact.articles_disagree
    assert "within a few days" in fact.text and "a few days to a week" in fact.text


def test_dryness_duration(store: FactsStore) -> None:
    (fact,) = store.facts_for("dryness", "duration")
    assert "up to a week" in fact.text
    assert [(s.document, s.article) for s in fact.sources] == [("000_cd3ae78a834cc04f.txt", 2)]


def test_infection_frequency_disagreement(store: FactsStore) -> None:
    fact = store.fact("infection.frequency")
    assert fact.articles_disagree
    quotes = " ".join(s.quote for s in fact.sources)
    assert "One of the most common risks associated with microneedling is infection." in quotes
    assert "Although rare" in quotes and "Less common" in quotes


def test_sun_avoidance_keeps_both_periods(store: FactsStore) -> None:
    fact = store.fact("sun_protection.avoid_sun")
    assert "at least 48 hours" in fact.text and "a few days" in fact.text


def test_contraindications_name_each_condition(store: FactsStore) -> None:
    texts = " ".join(f.text for f in store.facts_for("contraindications", "risk_group"))
    for condition in ("active acne", "eczema", "psoriasis", "rosacea", "keloid", "sensitive skin", "darker skin tones"):
        assert condition in texts, condition
    rosacea = store.fact("contraindications.rosacea")
    assert {s.article for s in rosacea.sources} == {3}


def test_when_to_seek_help_quotes_001(store: FactsStore) -> None:
    (urgent,) = [f for f in store.overview("when_to_seek_help") if f.id == "when_to_seek_help.urgent"]
    assert urgent.sources[0].quote == (
        "If you experience any signs of infection, excessive pain, or other complications, "
        "seek medical attention immediately."
    )


# --- 6. lexicon ---------------------------------------------------------------------

REQUIRED_LEXICON = {
    # (entity, value): (topic, named_in_articles)
    ("side_effect", "redness"): ("redness", True),
    ("side_effect", "swelling"): ("swelling", True),
    ("side_effect", "pain_discomfort"): ("pain_discomfort", True),
    ("side_effect", "dryness"): ("dryness", True),
    ("side_effect", "bruising"): ("bruising", True),
    ("side_effect", "infection"): ("infection", True),
    ("side_effect", "hyperpigmentation"): ("hyperpigmentation", True),
    ("side_effect", "scarring"): ("scarring", True),
    ("side_effect", "allergic_reaction"): ("allergic_reaction", True),
    ("side_effect", "rash"): ("allergic_reaction", False),
    ("side_effect", "hives"): ("allergic_reaction", False),
    ("side_effect", "itching"): ("side_effects_overview", False),
    ("side_effect", "warning_signs"): ("when_to_seek_help", False),
    ("side_effect", "bumps_breakouts"): ("side_effects_overview", False),
    ("side_effect", "cold_sores"): ("infection", False),
    ("side_effect", "petechiae"): ("bruising", False),
    ("side_effect", "scabbing"): ("dryness", False),
    ("skin_condition", "active_acne"): ("contraindications", True),
    ("skin_condition", "eczema"): ("contraindications", True),
    ("skin_condition", "psoriasis"): ("contraindications", True),
    ("skin_condition", "rosacea"): ("contraindications", True),
    ("skin_condition", "keloid_history"): ("contraindications", True),
    ("skin_condition", "sensitive_skin"): ("contraindications", True),
    ("skin_condition", "darker_skin"): ("hyperpigmentation", True),
    ("skin_condition", "known_allergies"): ("allergic_reaction", True),
    ("skin_condition", "skin_texture"): ("benefits", True),
    ("skin_condition", "melasma"): ("hyperpigmentation", False),
    ("skin_condition", "pregnancy"): ("contraindications", False),
    ("skin_condition", "isotretinoin"): ("contraindications", False),
    ("skin_condition", "blood_thinners"): ("contraindications", False),
    ("skin_condition", "diabetes"): ("contraindications", False),
    ("skin_condition", "autoimmune"): ("contraindications", False),
    ("care_item", "makeup"): ("aftercare", False),
    ("care_item", "exercise"): ("aftercare", True),
    ("care_item", "sun"): ("sun_protection", True),
    ("care_item", "sunscreen"): ("sun_protection", True),
    ("care_item", "moisturiser"): ("aftercare", True),
    ("care_item", "harsh_products"): ("aftercare", True),
    ("care_item", "washing"): ("aftercare", False),
    ("care_item", "numbing_cream"): ("pain_discomfort", True),
}

# products the articles say some people react to ("the numbing creams or other
# topical agents used during the procedure", a mask the clinic puts on among
# them): a skin reaction next to them is about allergic reactions
REACTED_TO = {"numbing_cream", "patch_test", "skincare_masks"}


# Words that would fire on ordinary sentences about microneedling.
TOO_GENERIC = {
    "skin",
    "face",
    "after",
    "treatment",
    "procedure",
    "microneedling",
    "needle",
    "needles",
    "reaction",
    "side effect",
    "side effects",
    "spot",
    "run",
    "running",
    "care",
    "products",
    "product",
    "acid",
    "acids",
    "cosmetic",
    "cosmetics",
}


def test_required_lexicon_entries(store: FactsStore) -> None:
    for (entity, value), (topic, named) in REQUIRED_LEXICON.items():
        entry = store.lexicon_entry(entity, value)
        assert entry is not None, f"lexicon lacks {entity}/{value}"
        assert entry.topic == topic, f"{value}: topic {entry.topic}, expected {topic}"
        assert entry.named_in_articles is named, value
    keloid = store.lexicon_entry("skin_condition", "keloid_history")
    assert "scarring.risk_group" in keloid.facts
    darker = store.lexicon_entry("skin_condition", "darker_skin")
    assert "hyperpigmentation.risk_group" in darker.facts
    assert {e.value for e in store.lexicon if e.reactions} == REACTED_TO


def test_lexicon_references_exist(store: FactsStore) -> None:
    for entry in store.lexicon:
        assert entry.entity in ENTITY_TYPES
        # off_topic values (other treatments...) are declined, so have no topic
        assert entry.topic in store.topics or (entry.entity == "off_topic" and entry.topic is None)
        for fid in entry.facts:
            assert fid in store.facts, f"{entry.value}: unknown fact {fid}"


def test_lexicon_terms_are_clean_and_unique(store: FactsStore) -> None:
    owner: Dict[str, str] = {}
    for entry in store.lexicon:
        assert len(set(entry.terms)) == len(entry.terms), f"{entry.value}: repeated term"
        for term in entry.terms:
            assert term == term.lower(), f"{entry.value}: {term!r} is not lower-case"
            assert term == _norm(term), f"{entry.value}: {term!r} has stray whitespace"
            assert term not in TOO_GENERIC, f"{entry.value}: {term!r} is too generic"
            # Stricter than "per entity type": one term, one value, across all
            # types, so the matcher never has to pick between two readings.
            assert term not in owner, f"{term!r} under both {owner[term]} and {entry.value}"
            owner[term] = f"{entry.entity}/{entry.value}"
    assert "acne scars" not in store.lexicon_entry("skin_condition", "active_acne").terms


def test_lexicon_terms_unique_after_lemmatising(store: FactsStore) -> None:
    # The NLU matches on spaCy lookup lemmas ("swollen" -> "swell"), so two
    # values must not share a term once lemmatised either. spaCy and its lookup
    # tables are pinned project dependencies; nothing is downloaded.
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    owner: Dict[Tuple[str, ...], str] = {}
    clashes = []
    for entry in store.lexicon:
        for term in entry.terms:
            key = tuple(t.lemma_ for t in nlp(term))
            if key in owner and owner[key] != entry.value:
                clashes.append(f"{term!r} ({entry.value}) = {owner[key]} as lemmas {key}")
            owner.setdefault(key, entry.value)
    assert not clashes, "\n".join(clashes)


def test_named_in_articles_matches_the_seeds(seeds: Dict[str, str], store: FactsStore) -> None:
    text = " ".join(seeds.values()).lower().replace("\u2019", "'")

    def occurs(term: str) -> bool:
        return re.search(r"\b" + re.escape(term) + r"(s|es)?\b", text) is not None

    for entry in store.lexicon:
        found = [t for t in entry.terms if occurs(t)]
        if entry.named_in_articles:
            assert found, f"{entry.value}: named_in_articles but no term occurs in the seeds"
        else:
            assert not found, f"{entry.value}: the seeds do name it ({found}); set named_in_articles"
