"""The facts store: loads, validates and indexes `knowledge/facts.yml` once.

No Rasa imports: the action server, the NLU components and the tests all use it.
A file that does not match the schema raises `FactsFileError`, whose message
names the file, the entry and the field, so the action server stops with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from actions.facts_schema import Document, Fact, FactsFile, LexiconEntry, Source, Topic
from actions.yaml_model import load_yaml_model

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACTS_PATH = PROJECT_ROOT / "knowledge" / "facts.yml"
FACTS_PATH_ENV = "FACTS_FILE"


class FactsFileError(Exception):
    """The facts file is missing, is not YAML, or does not match the schema."""


@dataclass(frozen=True)
class ArticleRef:
    document: str
    number: int
    title: str


class FactsStore:
    """Read-only, indexed view of the facts file."""

    def __init__(self, data: FactsFile, path: Path) -> None:
        self.path = path
        self.version = data.version
        self.facts: Dict[str, Fact] = {f.id: f for f in data.facts}
        self.topics: Dict[str, Topic] = {t.id: t for t in data.topics}
        self._by_topic_aspect: Dict[Tuple[str, str], List[Fact]] = {}
        for fact in data.facts:
            self._by_topic_aspect.setdefault((fact.topic, fact.aspect), []).append(fact)
        self.lexicon: List[LexiconEntry] = list(data.lexicon)
        self.lexicon_idioms: List[str] = list(data.lexicon_idioms)
        self._lexicon_by_key: Dict[Tuple[str, str], LexiconEntry] = {(e.entity, e.value): e for e in data.lexicon}
        self.articles: Dict[Tuple[str, int], ArticleRef] = {
            (d.file, a.number): ArticleRef(d.file, a.number, a.title) for d in data.documents for a in d.articles
        }
        self.documents = list(data.documents)

    def fact(self, fact_id: str) -> Fact:
        return self.facts[fact_id]

    def topic(self, topic_id: str) -> Topic:
        return self.topics[topic_id]

    def facts_for(self, topic_id: str, aspect: str) -> List[Fact]:
        """Facts on `topic_id` that state `aspect`, in file order."""
        return list(self._by_topic_aspect.get((topic_id, aspect), ()))

    def overview(self, topic_id: str) -> List[Fact]:
        return [self.facts[fid] for fid in self.topics[topic_id].overview]

    def lexicon_entry(self, entity: str, value: str) -> Optional[LexiconEntry]:
        return self._lexicon_by_key.get((entity, value))

    def article(self, source: Source) -> ArticleRef:
        return self.articles[(source.document, source.article)]

    def all_sources(self) -> Iterable[Tuple[Fact, Source]]:
        for fact in self.facts.values():
            for source in fact.sources:
                yield fact, source


def article_texts(documents: Iterable[Document], sources_dir: Path) -> Dict[Tuple[str, int], str]:
    """The text of every article, keyed by (file, number).

    Article n starts at the first line equal to its `first_line` after the
    start of article n-1 (several articles share a heading) and ends where
    article n+1 starts.
    """
    texts: Dict[Tuple[str, int], str] = {}
    for doc in documents:
        try:
            lines = (sources_dir / doc.file).read_text(encoding="utf-8").split("\n")
        except OSError as exc:
            raise FactsFileError(f"{sources_dir / doc.file}: cannot read the source article ({exc})") from exc
        starts: List[int] = []
        for article in doc.articles:
            after = starts[-1] + 1 if starts else 0
            found = next((i for i in range(after, len(lines)) if lines[i].strip() == article.first_line), None)
            if found is None:
                raise FactsFileError(
                    f"{doc.file}: article {article.number}: first_line {article.first_line!r} not found"
                )
            starts.append(found)
        bounds = starts + [len(lines)]
        for k, article in enumerate(doc.articles):
            texts[(doc.file, article.number)] = "\n".join(lines[bounds[k] : bounds[k + 1]])
    return texts


def _check_quotes(data: FactsFile, path: Path, sources_dir: Path) -> None:
    """Every quote must stand verbatim in the article it cites."""
    texts = article_texts(data.documents, sources_dir)
    problems = [
        f"{path}: facts[{i}] (id {fact.id!r}) field sources.{j}.quote: not found verbatim in "
        f"{src.document} article {src.article}"
        for i, fact in enumerate(data.facts)
        for j, src in enumerate(fact.sources)
        if src.quote not in texts[(src.document, src.article)]
    ]
    if problems:
        raise FactsFileError("invalid facts file\n" + "\n".join(problems))


def load_facts(path: Optional[os.PathLike] = None, sources_dir: Optional[os.PathLike] = None) -> FactsStore:
    """Load and validate the facts file; raise `FactsFileError` naming what is wrong.

    The source articles are read from `sources_dir` (default: the `sources`
    folder beside the facts file) to check every quote.
    """
    facts_path = Path(path or os.environ.get(FACTS_PATH_ENV) or DEFAULT_FACTS_PATH)
    data = load_yaml_model(facts_path, FactsFile, FactsFileError, "facts file")
    _check_quotes(data, facts_path, Path(sources_dir) if sources_dir else facts_path.parent / "sources")
    return FactsStore(data, facts_path)
