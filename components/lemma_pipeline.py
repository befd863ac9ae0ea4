"""A blank English spaCy pipeline with the lookup lemmatizer, built in code.

spaCy's pretrained pipelines are downloaded from GitHub, which this project
cannot do at run time; the lookup tables ship in the `spacy-lookups-data`
package from PyPI, so this pipeline needs no download. It gives what the NLU
components need: tokens and lemmas ("swollen" -> "swell", "bruises" -> "bruise").

Built once per process, on first use (not at import).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

import spacy
from spacy.language import Language
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc

# Apostrophes patients type, normalised so "can’t" tokenises like "can't".
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


# Lookup-table lemmas that read a common word as a rarer one: "number" as the
# comparative of "numb" made "what number should I call?" a question about
# numbing cream.
_LEMMA_FIXES = {"number": "number", "numbers": "number"}


@functools.lru_cache(maxsize=1)
def lemma_pipeline() -> Language:
    nlp = spacy.blank("en")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    assert isinstance(lemmatizer, Lemmatizer)
    table = lemmatizer.lookups.get_table("lemma_lookup")
    for word, lemma in _LEMMA_FIXES.items():
        table[word] = lemma
    return nlp


def english_words(min_log_prob: float = -16.0) -> FrozenSet[str]:
    """English word forms from spacy-lookups-data (about 100k at the default cut-off).

    Used at training time only, to keep typo correction to typos: a token that
    is a real word ("feeling") must never be "corrected" into a lexicon term
    ("peeling"). The cut-off leaves out the rare forms in the frequency table,
    which are mostly misspellings themselves ("swolen").
    """
    import spacy_lookups_data  # the package holding the tables; no download

    data = Path(spacy_lookups_data.__file__).parent / "data"
    with gzip.open(data / "en_lexeme_prob.json.gz", "rt", encoding="utf-8") as fh:
        probs: Dict[str, float] = json.load(fh)
    with gzip.open(data / "en_lemma_lookup.json.gz", "rt", encoding="utf-8") as fh:
        inflections: Dict[str, str] = json.load(fh)
    words = {w.lower() for w, p in probs.items() if p >= min_log_prob}
    words.update(k.lower() for k in inflections)
    words.update(v.lower() for v in inflections.values())
    return frozenset(words)


def normalise(text: str) -> str:
    """Lower-case and unify apostrophes, keeping every character offset."""
    lowered = text.translate(_APOSTROPHES).lower()
    # str.lower() can change the length of a few non-ASCII characters; offsets
    # must stay valid for Rasa's tokens, so keep the original text then.
    return lowered if len(lowered) == len(text) else text.translate(_APOSTROPHES)


@functools.lru_cache(maxsize=256)
def analyse(text: str) -> Doc:
    """The lemmatised doc of a message. Cached: the tokenizer, the lexicon
    matcher and the red-flag detector all read the same message; callers
    only read the doc."""
    return lemma_pipeline()(normalise(text))


def lemmas(text: str) -> List[str]:
    return [t.lemma_ for t in analyse(text) if not t.is_space]


# --- typo tolerance -------------------------------------------------------------

_WORD = re.compile(r"^[a-z]+$")


def _deletes(word: str) -> Iterable[str]:
    return (word[:i] + word[i + 1 :] for i in range(len(word)))


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


class TypoIndex:
    """Finds the lexicon word a misspelt token was meant to be (one edit away).

    A symmetric-delete index (as in SymSpell): every term and every term with
    one letter deleted point back to the term, so a lookup costs a handful of
    dictionary probes instead of a scan of the lexicon. `blocked` holds the real
    English words that are one edit from a term ("feeling" near "peeling",
    "spelling" near "swelling"); they are never corrected.
    """

    def __init__(self, terms: Iterable[str], blocked: Iterable[str] = (), min_length: int = 5):
        self.min_length = min_length
        self.terms = sorted({t for t in terms if len(t) >= min_length and _WORD.match(t)})
        self.blocked = frozenset(blocked)
        self._index: Dict[str, Set[str]] = {}
        for word in self.terms:
            for key in (word, *_deletes(word)):
                self._index.setdefault(key, set()).add(word)

    def _candidates(self, token: str) -> List[str]:
        found: Set[str] = set()
        for key in (token, *_deletes(token)):
            found |= self._index.get(key, set())
        return sorted(w for w in found if w != token and within_one_edit(token, w))

    def candidates(self, token: str) -> List[str]:
        """Lexicon words the token may be a misspelling of (none for real words)."""
        if len(token) < self.min_length or not _WORD.match(token) or token in self.blocked:
            return []
        return self._candidates(token)

    def correct(self, token: str) -> Optional[str]:
        matches = self.candidates(token)
        return matches[0] if len(matches) == 1 else None

    def real_words_near_terms(self, dictionary: FrozenSet[str]) -> List[str]:
        """Dictionary words one edit from some term: what `blocked` should hold."""
        near: Set[str] = set()
        for word in dictionary:
            if len(word) >= self.min_length - 1 and _WORD.match(word) and word not in self.terms:
                if self._candidates(word):
                    near.add(word)
        return sorted(near)


def token_spans(doc: Doc) -> List[Tuple[int, int]]:
    return [(t.idx, t.idx + len(t.text)) for t in doc]
