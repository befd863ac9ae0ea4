"""Lemma-aware, typo-tolerant matching of the facts file's lexicon terms.

"swollen", "swelling" and "swells" all reach the lemma "swell"; "puffy" is a
term of its own; "sweling" is one edit from "swelling" and is not an English
word, so it is read as "swelling". Longest match wins ("cold sore" over "sore").
Free of Rasa, so it is tested directly; the NLU component wraps it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Sequence, Tuple

from components.lemma_pipeline import TypoIndex, english_words
from components.red_flag_rules import Tok, phrase_of, tokens_of

_END = "\0end"
_NEGATIONS = frozenset({"no", "not", "n't", "without", "never", "none", "nor"})
# entity types a negation removes: symptoms and conditions, not care items
_DENIABLE = frozenset({"side_effect", "skin_condition"})
_CLAUSE_BREAKS = frozenset({",", ".", ";", "!", "?", "but", "just", "only", "except"})


def _negated(toks: Sequence[Tok], index: int) -> bool:
    """'no pus or fever, just red': pus and fever are negated, red is not."""
    for tok in reversed(toks[max(0, index - 3) : index]):
        if tok.word in _CLAUSE_BREAKS:
            return False
        if tok.word in _NEGATIONS or tok.lemma in _NEGATIONS:
            return True
    return False


@dataclass(frozen=True)
class TermMatch:
    entity: str
    value: str
    start: int  # character offsets in the message
    end: int
    text: str


class LexiconMatcher:
    def __init__(
        self,
        patterns: List[Dict[str, Any]],
        typo_terms: List[str],
        blocked: List[str],
        use_lemmas: bool = True,
        fix_typos: bool = True,
    ):
        # use_lemmas / fix_typos off: exact words only (kept to measure what
        # lemmas and typo tolerance add; see docs/evaluation.md)
        self.use_lemmas, self.fix_typos = use_lemmas, fix_typos
        # key: tuple of lemmas -> list of (entity, value)
        self._patterns: Dict[Tuple[str, ...], List[Tuple[str, str]]] = {}
        for p in patterns:
            key = tuple(p["lemmas"] if use_lemmas else p["words"])
            targets = self._patterns.setdefault(key, [])
            target = (p["entity"], p["value"])
            if p["entity"] and target not in targets:  # an idiom (no entity) only claims its words
                targets.append(target)
        # A trie over the patterns' lemma sequences: matching walks it from each
        # token, so the cost grows with the message, not with the lexicon.
        self._trie: Dict[str, Any] = {}
        for key, targets in self._patterns.items():
            node = self._trie
            for part in key:
                node = node.setdefault(part, {})
            node[_END] = targets
        self._typos = TypoIndex(typo_terms, blocked)
        # a corrected word is matched through its lemma
        self._lemma_of_word: Dict[str, str] = {
            w: p["lemmas"][0] for p in patterns if len(p["words"]) == 1 for w in p["words"]
        }
        self.patterns, self.typo_terms, self.blocked = patterns, typo_terms, blocked

    @classmethod
    def build(cls, entries: Iterable[Tuple[str, str, Iterable[str]]], idioms: Iterable[str] = ()) -> "LexiconMatcher":
        """Compile (entity, value, terms) triples; reads the English word list (training time).

        `idioms` are phrases that contain a term but mean something else ("work
        out if" is not exercise): being longer, they win over the term and
        yield no entity.
        """
        patterns: List[Dict[str, Any]] = [{"entity": "", "value": "", **phrase_of(idiom)} for idiom in idioms]
        words: set = set()
        for entity, value, terms in entries:
            for term in terms:
                pattern = {"entity": entity, "value": value, **phrase_of(term)}
                patterns.append(pattern)
                # Off-topic words are never guessed from typos: a wrongly
                # declined question ("laters" read as "lasers") costs an answer.
                if len(pattern["words"]) == 1 and entity != "off_topic":
                    words.add(pattern["words"][0])
        typo_terms = sorted(words)
        blocked = TypoIndex(typo_terms).real_words_near_terms(english_words())
        return cls(patterns, typo_terms, blocked)

    def to_json(self) -> Dict[str, Any]:
        return {"patterns": self.patterns, "typo_terms": self.typo_terms, "blocked": self.blocked}

    @classmethod
    def from_json(cls, data: Dict[str, Any], use_lemmas: bool = True, fix_typos: bool = True) -> "LexiconMatcher":
        return cls(data["patterns"], data["typo_terms"], data["blocked"], use_lemmas, fix_typos)

    def _keys(self, tok: Tok) -> List[str]:
        if not self.use_lemmas:
            return [tok.word]
        keys = [tok.lemma, tok.word]
        if not self.fix_typos:
            return keys
        # A typo one edit from several words is kept when those words all mean
        # the same value ("exzema": "eczema", "excema", "exema").
        lemmas = sorted({self._lemma_of_word.get(w, w) for w in self._typos.candidates(tok.word)})
        meanings = {tuple(self._patterns.get((lemma,), ())) for lemma in lemmas}
        if lemmas and len(meanings) == 1:
            keys.append(lemmas[0])
        return keys

    def match_tokens(self, toks: Sequence[Tok], spans: Sequence[Tuple[int, int]], text: str) -> List[TermMatch]:
        keys = [self._keys(t) for t in toks]
        found: List[TermMatch] = []
        i = 0
        while i < len(toks):
            length, targets = self._longest(keys, i)
            if targets:
                start, end = spans[i][0], spans[i + length - 1][1]
                # "no pus, just red": a symptom denied is not the subject; a
                # care item is, denied or not ("without numbing cream",
                # "no makeup for how long?")
                negated = _negated(toks, i)
                found.extend(
                    TermMatch(entity, value, start, end, text[start:end])
                    for entity, value in targets
                    if not (negated and entity in _DENIABLE)
                )
            i += length or 1
        return found

    def _longest(self, keys: Sequence[List[str]], start: int) -> Tuple[int, List[Tuple[str, str]]]:
        best: Tuple[int, List[Tuple[str, str]]] = (0, [])
        frontier = [self._trie]
        for depth in range(start, len(keys)):
            frontier = [n[k] for n in frontier for k in dict.fromkeys(keys[depth]) if k in n]
            if not frontier:
                break
            for node in frontier:
                if _END in node:
                    best = (depth - start + 1, node[_END])
                    break
        return best

    def match(self, text: str) -> List[TermMatch]:
        toks, spans = tokens_of(text)
        found = self.match_tokens(toks, spans, text)
        suffix = title_suffix_start(text)
        # "Is microneedling safe? | Harbour Skin & Laser Clinic": the clinic's
        # name does not make the question one about lasers
        return [m for m in found if not (m.entity == "off_topic" and m.start >= suffix)]


# A web page title's site-name suffix: after " | ", or after "? - " / "? : ".
_TITLE_SUFFIX = re.compile(r"\s[|\u2502]\s|\?\s*[-\u2013\u2014:]\s")


def title_suffix_start(text: str) -> int:
    """Where a page title's site-name suffix starts, or len(text) when there is none."""
    found = _TITLE_SUFFIX.search(text)
    return found.start() if found else len(text)
