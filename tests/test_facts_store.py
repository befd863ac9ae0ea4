"""The facts store: loading errors name the file, entry and field; the indexes work."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from actions.facts_schema import TOPIC_IDS
from actions.facts_store import FACTS_PATH_ENV, FactsFileError, FactsStore, load_facts

ROOT = Path(__file__).resolve().parent.parent
REAL_FACTS = ROOT / "knowledge" / "facts.yml"


def minimal_facts() -> Dict[str, Any]:
    """A small valid facts file: one fact per topic, one document of two articles."""
    facts = []
    topics = []
    for topic_id in TOPIC_IDS:
        fid = f"{topic_id}.summary"
        facts.append(
            {
                "id": fid,
                "topic": topic_id,
                "aspect": "summary",
                "text": f"A plain sentence about {topic_id}.",
                "sources": [{"document": "doc.txt", "article": 1, "quote": "A quoted sentence here."}],
            }
        )
        topics.append({"id": topic_id, "title": topic_id.title(), "question": "A question?", "overview": [fid]})
    facts.append(
        {
            "id": "redness.duration",
            "topic": "redness",
            "aspect": "duration",
            "text": "Redness lasts a while, the articles differ.",
            "articles_disagree": True,
            "sources": [
                {"document": "doc.txt", "article": 1, "quote": "It lasts a few days."},
                {"document": "doc.txt", "article": 2, "quote": "It lasts up to a week."},
            ],
        }
    )
    return {
        "version": 1,
        "documents": [
            {
                "file": "doc.txt",
                "articles": [
                    {"number": 1, "title": "First article", "first_line": "The first line here"},
                    {"number": 2, "title": "Second article", "first_line": "The second line here"},
                ],
            }
        ],
        "topics": topics,
        "facts": facts,
        "lexicon": [
            {
                "value": "swelling",
                "entity": "side_effect",
                "topic": "swelling",
                "terms": ["swelling", "swollen"],
                "facts": ["swelling.summary"],
            },
            {
                "value": "pregnancy",
                "entity": "skin_condition",
                "topic": "contraindications",
                "terms": ["pregnant"],
                "named_in_articles": False,
            },
        ],
    }


SOURCE_DOC = (
    "The first line here\nA quoted sentence here. It lasts a few days.\n"
    "The second line here\nA quoted sentence here. It lasts up to a week.\n"
)


def write(tmp_path: Path, data: Any, name: str = "facts.yml") -> Path:
    """Write the facts file and, beside it, the source article it quotes."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (tmp_path / "sources").mkdir(exist_ok=True)
    (tmp_path / "sources" / "doc.txt").write_text(SOURCE_DOC, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(FactsFileError) as info:
        load_facts(path)
    message = str(info.value)
    assert str(path) in message, "the message must name the file"
    return message


# --- loading errors -------------------------------------------------------------------


def test_minimal_file_loads(tmp_path: Path) -> None:
    store = load_facts(write(tmp_path, minimal_facts()))
    assert isinstance(store, FactsStore)
    assert len(store.facts) == len(TOPIC_IDS) + 1


def test_missing_quote(tmp_path: Path) -> None:
    data = minimal_facts()
    del data["facts"][0]["sources"][0]["quote"]
    message = load_error(write(tmp_path, data))
    assert "facts[0]" in message
    assert "'what_is_microneedling.summary'" in message
    assert "field sources.0.quote" in message
    assert "field required" in message


def test_unknown_topic_id(tmp_path: Path) -> None:
    data = minimal_facts()
    data["facts"][3]["topic"] = "nausea"
    message = load_error(write(tmp_path, data))
    assert "facts[3]" in message
    assert f"'{data['facts'][3]['id']}'" in message
    assert "field topic" in message
    assert "unknown topic id 'nausea'" in message


def test_unknown_article_number(tmp_path: Path) -> None:
    data = minimal_facts()
    data["facts"][-1]["sources"][1]["article"] = 7
    message = load_error(write(tmp_path, data))
    index = len(data["facts"]) - 1
    assert f"facts[{index}] (id 'redness.duration')" in message
    assert "field sources[1].article" in message
    assert "doc.txt has no article 7" in message


def test_unknown_document(tmp_path: Path) -> None:
    data = minimal_facts()
    data["facts"][2]["sources"][0]["document"] = "other.txt"
    message = load_error(write(tmp_path, data))
    assert "facts[2]" in message and "field sources[0].document" in message
    assert "unknown document 'other.txt'" in message


def test_duplicate_fact_id(tmp_path: Path) -> None:
    data = minimal_facts()
    duplicate = copy.deepcopy(data["facts"][0])
    data["facts"].append(duplicate)
    message = load_error(write(tmp_path, data))
    index = len(data["facts"]) - 1
    assert f"facts[{index}] (id 'what_is_microneedling.summary'): duplicate id" in message


def test_unknown_aspect_and_bad_id(tmp_path: Path) -> None:
    data = minimal_facts()
    data["facts"][1]["aspect"] = "cure"
    data["facts"][2]["id"] = "Safety Overall"
    message = load_error(write(tmp_path, data))
    assert "facts[1]" in message and "field aspect" in message and "unknown aspect 'cure'" in message
    assert "facts[2] (id 'Safety Overall') field id" in message


def test_text_too_long(tmp_path: Path) -> None:
    data = minimal_facts()
    data["facts"][0]["text"] = "x" * 401
    message = load_error(write(tmp_path, data))
    assert "facts[0]" in message and "field text" in message


def test_extra_field_is_rejected(tmp_path: Path) -> None:
    data = minimal_facts()
    data["facts"][0]["note"] = "not in the schema"
    message = load_error(write(tmp_path, data))
    assert "facts[0]" in message and "field note" in message
    assert "extra fields not permitted" in message


def test_missing_topic_and_unknown_overview_fact(tmp_path: Path) -> None:
    data = minimal_facts()
    data["topics"] = [t for t in data["topics"] if t["id"] != "bruising"]
    data["topics"][0]["overview"] = ["no.such_fact"]
    message = load_error(write(tmp_path, data))
    assert "topics: missing topic ids bruising" in message
    assert "topics[0] (id 'what_is_microneedling') field overview: unknown fact 'no.such_fact'" in message


def test_lexicon_errors(tmp_path: Path) -> None:
    data = minimal_facts()
    data["lexicon"][0]["facts"] = ["swelling.nope"]
    data["lexicon"][1]["entity"] = "medication"
    message = load_error(write(tmp_path, data))
    assert "lexicon[1] (id 'pregnancy') field entity" in message
    assert "unknown entity type 'medication'" in message
    data["lexicon"][1]["entity"] = "skin_condition"
    message = load_error(write(tmp_path, data))
    assert "lexicon[0] (value 'swelling') field facts: unknown fact 'swelling.nope'" in message
    data["lexicon"][0]["facts"] = []
    data["lexicon"][0]["before_treatment"] = "no_such_condition"
    message = load_error(write(tmp_path, data))
    assert "lexicon[0] (value 'swelling') field before_treatment: unknown skin_condition value" in message
    data["lexicon"][0]["before_treatment"] = None
    data["lexicon"][0]["declined_alone"] = True
    message = load_error(write(tmp_path, data))
    assert "only off_topic entries are declined, alone or not" in message
    data["lexicon"][0]["declined_alone"] = False
    data["lexicon"][0]["caveat"] = "Not covered."
    message = load_error(write(tmp_path, data))
    assert "field caveat: only a declined_alone value is ever answered beside" in message
    data["lexicon"][0]["caveat"] = None
    data["lexicon"][0]["reactions"] = True
    message = load_error(write(tmp_path, data))
    assert "field reactions: only a care_item (a product) is something people react to" in message


def test_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("version: 1\nfacts: [unclosed\n", encoding="utf-8")
    message = load_error(path)
    assert "not valid YAML" in message


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yml"
    path.write_text("- one\n- two\n", encoding="utf-8")
    assert "mapping at the top level" in load_error(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "does_not_exist.yml"
    assert "cannot read the facts file" in load_error(path)


def test_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, minimal_facts(), name="from_env.yml")
    monkeypatch.setenv(FACTS_PATH_ENV, str(path))
    store = load_facts()
    assert store.path == path
    assert "redness.duration" in store.facts


# --- indexes ----------------------------------------------------------------------------


def test_indexes_on_minimal_file(tmp_path: Path) -> None:
    store = load_facts(write(tmp_path, minimal_facts()))
    assert [f.id for f in store.facts_for("redness", "duration")] == ["redness.duration"]
    assert [f.id for f in store.facts_for("redness", "summary")] == ["redness.summary"]
    assert store.facts_for("redness", "cause") == []
    assert [f.id for f in store.overview("infection")] == ["infection.summary"]
    entry = store.lexicon_entry("side_effect", "swelling")
    assert entry is not None and entry.topic == "swelling" and entry.named_in_articles
    assert store.lexicon_entry("skin_condition", "pregnancy").named_in_articles is False
    assert store.lexicon_entry("skin_condition", "swelling") is None
    sources = store.fact("redness.duration").sources
    assert store.article(sources[1]).title == "Second article"
    assert store.article(sources[1]).number == 2
    assert len(list(store.all_sources())) == len(TOPIC_IDS) + 2


def test_indexes_on_real_file() -> None:
    store = load_facts(REAL_FACTS)
    assert [f.id for f in store.facts_for("redness", "duration")] == ["redness.duration"]
    assert [f.id for f in store.overview("redness")] == ["redness.frequency", "redness.duration"]
    ids = [f.id for f in store.facts_for("contraindications", "risk_group")]
    assert ids[0] == "contraindications.skin_conditions" and "contraindications.eczema" in ids
    entry = store.lexicon_entry("skin_condition", "eczema")
    assert entry.topic == "contraindications" and entry.facts == ["contraindications.eczema"]
    assert store.lexicon_entry("care_item", "sunscreen").topic == "sun_protection"
    source = store.fact("when_to_seek_help.urgent").sources[0]
    ref = store.article(source)
    assert ref.document == "001_3d3d3cc1674fbd5b.txt"
    assert ref.title == "Can Microneedling Go Wrong? Understanding the Risks and Precautions"
    ref4 = store.article(store.fact("redness.duration").sources[0])
    assert (ref4.document, ref4.number) == ("000_cd3ae78a834cc04f.txt", 4)


def test_quote_not_in_its_article(tmp_path: Path) -> None:
    data = minimal_facts()
    data["facts"][0]["sources"][0]["quote"] = "A sentence the article never says."
    message = load_error(write(tmp_path, data))
    assert "facts[0]" in message and "sources.0.quote" in message
    assert "not found verbatim in doc.txt article 1" in message


def test_quote_from_another_article(tmp_path: Path) -> None:
    data = minimal_facts()
    redness = next(f for f in data["facts"] if f["id"] == "redness.duration")
    redness["sources"][0]["quote"] = "It lasts up to a week."  # article 2's sentence, cited as 1
    message = load_error(write(tmp_path, data))
    assert "'redness.duration'" in message and "article 1" in message
