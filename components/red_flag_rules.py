"""Red-flag rules: compiled from `knowledge/red_flags.yml`, matched on lemmas.

Kept free of Rasa so it can be tested directly. `compile_rules` needs the
lemma pipeline (training time); `find_red_flags` needs only token lists, so
the compiled rules are plain JSON that the NLU component stores in the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from actions.red_flags_config import PROLONGED, RedFlagsFile
from components.lemma_pipeline import analyse

Phrase = Dict[str, List[str]]  # {"lemmas": [...], "words": [...]}

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "twenty": 20,
    "thirty": 30,
    "couple": 2,
    "few": 3,
    "several": 3,
}
_DIGITS = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class Tok:
    word: str  # lower-cased text
    lemma: str
    # the lemma of the lexicon term this token was recognised as, so a typo
    # ("rednes spreading") still meets the rules
    alt: str = ""


@dataclass(frozen=True)
class RedFlagHit:
    category: str
    severity: str
    start: int  # character offsets of the evidence in the message
    end: int
    evidence: str
    # the message asks whether the sign is usual ("is pus normal after
    # microneedling?") rather than reporting it: answered, with the advice to
    # seek help, instead of raising an alarm
    asked: bool = False


def tokens_of(text: str) -> Tuple[List[Tok], List[Tuple[int, int]]]:
    doc = analyse(text)
    toks = [Tok(t.text, t.lemma_) for t in doc]
    spans = [(t.idx, t.idx + len(t.text)) for t in doc]
    return toks, spans


def without_spans(
    toks: List[Tok], spans: List[Tuple[int, int]], remove: Sequence[Tuple[int, int]]
) -> Tuple[List[Tok], List[Tuple[int, int]]]:
    """Drop the tokens that lie inside any of the `remove` character spans."""
    keep = [i for i, (s, e) in enumerate(spans) if not any(rs <= s and e <= re_ for rs, re_ in remove)]
    return [toks[i] for i in keep], [spans[i] for i in keep]


def with_term_lemmas(
    toks: List[Tok], spans: Sequence[Tuple[int, int]], terms: Sequence[Tuple[int, int, str]]
) -> List[Tok]:
    """Give tokens inside recognised terms (start, end, term word) the term's lemma."""
    out = []
    for tok, (start, end) in zip(toks, spans, strict=False):
        term = next((w for s, e, w in terms if s <= start and end <= e), None)
        out.append(Tok(tok.word, tok.lemma, analyse(term)[0].lemma_) if term else tok)
    return out


def phrase_of(text: str) -> Phrase:
    """A phrase as the matchers compare it: its words and their lemmas."""
    toks, _ = tokens_of(text)
    return {"lemmas": [t.lemma for t in toks], "words": [t.word for t in toks]}


def compile_rules(config: RedFlagsFile) -> Dict[str, Any]:
    """Turn the YAML into lemma sequences: JSON-serialisable, stored in the model."""
    return {
        "window": config.window,
        "prolonged_after_days": config.prolonged_after_days,
        "ongoing_cues": [phrase_of(p) for p in config.ongoing_cues],
        "negations": sorted(
            {t.lemma for n in config.negations for t in tokens_of(n)[0]} | {n.lower() for n in config.negations}
        ),
        "general_cues": [phrase_of(p) for p in config.general_cues],
        "report_cues": [w.lower() for w in config.report_cues],
        "hypothetical_starts": [phrase_of(p) for p in config.hypothetical_starts],
        "hypothetical_cues": [phrase_of(p) for p in config.hypothetical_cues],
        "usual_course_cues": [phrase_of(p) for p in config.usual_course_cues],
        "pointing_cues": [w.lower() for w in config.pointing_cues],
        "identity_question_starts": [phrase_of(p) for p in config.identity_question_starts],
        "emergency_question_starts": [phrase_of(p) for p in config.emergency_question_starts],
        "emergency_cause_cues": [phrase_of(p) for p in config.emergency_cause_cues],
        "others_cues": [w.lower() for w in config.others_cues],
        "lasting_side_effects": list(config.lasting_side_effects),
        "not_signs": [phrase_of(p) for p in config.not_signs],
        "duration_units": {phrase_of(u)["lemmas"][0]: days for u, days in config.duration_units.items()},
        "categories": [
            {
                "id": c.id,
                "severity": c.severity,
                "any": [phrase_of(p) for p in c.any],
                "reported": [phrase_of(p) for p in c.reported],
                "all": [[[phrase_of(p) for p in group] for group in rule] for rule in c.all],
                "unless": [phrase_of(p) for p in c.unless],
                "course_question_starts": [phrase_of(p) for p in c.course_question_starts],
            }
            for c in config.categories
        ],
    }


def vocabulary(toks: Sequence[Tok]) -> frozenset:
    """Every word, lemma and term lemma of the tokens."""
    return frozenset(x for t in toks for x in (t.word, t.lemma, t.alt) if x)


def _occurrences(
    toks: Sequence[Tok], phrase: Phrase, raw_only: bool = False, present: Optional[frozenset] = None
) -> List[int]:
    """Start positions of `phrase` (by words, or by lemmas unless raw_only).
    `present`, the tokens' vocabulary, lets a phrase whose first word is
    absent be skipped without a scan (a message is checked against hundreds)."""
    lemmas, words = phrase["lemmas"], phrase["words"]
    n = len(words)
    if n == 0 or (present is not None and words[0] not in present and lemmas[0] not in present):
        return []
    first_word, first_lemma = words[0], lemmas[0]
    found = []
    for i in range(len(toks) - n + 1):
        t = toks[i]
        # cheap check on the first token before comparing the whole phrase
        if t.word != first_word and (raw_only or first_lemma not in (t.lemma, t.alt)):
            continue
        window = toks[i : i + n]
        if all(t.word == w for t, w in zip(window, words, strict=False)) or (
            not raw_only and all(lem in (t.lemma, t.alt) for t, lem in zip(window, lemmas, strict=False))
        ):
            found.append(i)
    return found


_CLAUSE_END = frozenset({",", ".", ";", "?", "!", ":"})
_SENTENCE_END = frozenset({".", "?", "!", ";"})
# how far (in tokens) a side effect may be from "still", "been", ... to be the
# one said to be ongoing
_ONGOING_REACH = 4


def _sentence_ids(toks: Sequence[Tok]) -> List[int]:
    """The sentence each token is in (split at . ? ! ;)."""
    ids, current = [], 0
    for tok in toks:
        ids.append(current)
        if tok.word in _SENTENCE_END:
            current += 1
    return ids


def _negated(toks: Sequence[Tok], index: int, negations: Sequence[str]) -> bool:
    before = toks[max(0, index - 3) : index]
    return any(t.lemma in negations or t.word in negations for t in before)


def _clause_start(toks: Sequence[Tok], index: int) -> int:
    start = index
    while start > 0 and toks[start - 1].word not in _CLAUSE_END:
        start -= 1
    return start


def _clause_starts_with(toks: Sequence[Tok], index: int, phrases: Sequence[Phrase]) -> bool:
    """Whether the clause holding toks[index] begins with one of `phrases`."""
    clause = toks[_clause_start(toks, index) : index]
    return any(0 in _occurrences(clause, p, raw_only=True) for p in phrases)


def _hypothetical(toks: Sequence[Tok], index: int, rules: Dict[str, Any]) -> bool:
    """'if I ever got pus', 'can numbing cream cause hives?': not a report."""
    if _clause_starts_with(toks, index, rules["hypothetical_starts"]):
        return True
    clause = toks[_clause_start(toks, index) : index]
    return any(_occurrences(clause, p) for p in rules["hypothetical_cues"])


def _live(
    toks: Sequence[Tok],
    phrase: Phrase,
    rules: Dict[str, Any],
    strict: bool,
    present: frozenset,
    masked: frozenset = frozenset(),
) -> List[int]:
    """Occurrences that are neither negated, inside a `masked` token ("fever"
    in "fever blister") nor, when `strict`, hypothetical."""
    return [
        i
        for i in _occurrences(toks, phrase, present=present)
        if not any(i + k in masked for k in range(len(phrase["words"])))
        and not _negated(toks, i, rules["negations"])
        and not (strict and _hypothetical(toks, i, rules))
    ]


def _not_sign_tokens(toks: Sequence[Tok], rules: Dict[str, Any], present: frozenset) -> frozenset:
    """Positions of tokens inside a phrase that only looks like a sign ("fever blister")."""
    return frozenset(
        start + k
        for p in rules["not_signs"]
        for start in _occurrences(toks, p, present=present)
        for k in range(len(p["words"]))
    )


def _is_report(toks: Sequence[Tok], rules: Dict[str, Any]) -> bool:
    return any(t.word in rules["report_cues"] for t in toks)


def _general_cue_starts(toks: Sequence[Tok], rules: Dict[str, Any], present: frozenset) -> List[int]:
    """Where the message asks about signs ('how can you tell if', 'signs of')."""
    return [i for p in rules["general_cues"] for i in _occurrences(toks, p, raw_only=True, present=present)]


def _describes_nothing(toks: Sequence[Tok], rules: Dict[str, Any], days: Optional[float]) -> bool:
    """No first-person report ("I", "my"), nothing pointed at ("is this pus
    normal?") and no when (`days`: "the pain is getting worse, day 3, normal??")."""
    return days is None and not _is_report(toks, rules) and not any(t.word in rules["pointing_cues"] for t in toks)


def _closest(positions: Sequence[Sequence[int]], toks: Sequence[Tok], sentence: Sequence[int]) -> Optional[List[int]]:
    """One position per group, in one sentence and as close together as
    possible: in "redness was going down but now ... the red part is
    spreading", "red" goes with "spreading", not the first "redness". A
    pronoun ("it") counts only before the other words: "it's spreading", not
    "my lashes grow faster and it looks lovely"."""

    def nearest(group: Sequence[int], anchor: int) -> Optional[int]:
        same = [i for i in group if sentence[i] == sentence[anchor]]
        return min(same, key=lambda i: abs(i - anchor)) if same else None

    best: Optional[List[int]] = None
    for anchor in sorted({i for group in positions for i in group}):
        picked = [nearest(group, anchor) for group in positions]
        if any(i is None for i in picked):
            continue
        chosen = [i for i in picked if i is not None]
        if any(toks[i].word == "it" and i != min(chosen) for i in chosen):
            continue
        if best is None or max(chosen) - min(chosen) < max(best) - min(best):
            best = chosen
    return best


def duration_days(toks: Sequence[Tok], units: Dict[str, float]) -> Optional[float]:
    """The longest duration stated: "3 weeks", "a couple of weeks", "day 12"."""
    longest: Optional[float] = None

    def number(tok: Tok) -> Optional[float]:
        if _DIGITS.match(tok.word):
            return float(tok.word)
        return _NUMBER_WORDS.get(tok.word)

    for i, tok in enumerate(toks):
        unit = units.get(tok.lemma)
        if unit is None:
            continue
        amount: Optional[float] = None
        # "3 weeks", "three weeks", "a week", "a couple of weeks", "few weeks"
        for back in (1, 2, 3):
            if i - back < 0:
                break
            value = number(toks[i - back])
            if value is not None:
                amount = value
                break
            if toks[i - back].word not in ("of", "couple", "few", "more", "than", "over", "full"):
                break
        # "day 12", "week 3"
        if amount is None and i + 1 < len(toks) and _DIGITS.match(toks[i + 1].word):
            amount = float(toks[i + 1].word)
        if amount is not None:
            days = amount * unit
            longest = days if longest is None else max(longest, days)
    return longest


def find_red_flags(
    toks: Sequence[Tok],
    spans: Sequence[Tuple[int, int]],
    rules: Dict[str, Any],
    text: str,
    side_effect_mentioned: bool,
    passing_spans: Optional[Sequence[Tuple[int, int]]] = None,
) -> List[RedFlagHit]:
    """Every red-flag category the message matches, in file order.

    `passing_spans`, when given, are the character spans of the side effects
    that should pass (not `lasting_side_effects`), whose lasting is a red flag:
    one of them must be near the words that say it is ongoing ("still red",
    "the swelling hasn't gone"), not merely named ("3 weeks on, brown patches
    where the redness was")."""
    sentence = _sentence_ids(toks)
    present = vocabulary(toks)
    general_cues = _general_cue_starts(toks, rules, present)
    reports = _is_report(toks, rules)
    # 'What are the signs of infection?': about signs, not reporting them
    general = bool(general_cues) and not reports
    # a general question ("how can you tell if it's infected?") quiets the
    # urgent categories in its own sentence only ("... it's oozing" still counts)
    general_sentences = {sentence[i] for i in general_cues} if general else set()
    quiet = frozenset(i for i in range(len(toks)) if sentence[i] in general_sentences)
    others = any(t.word in rules.get("others_cues", []) for t in toks)
    # 'My skin is infected' counts; 'how do I know if my skin is infected?' does not
    firm_report = reports and not general_cues
    days = duration_days(toks, rules["duration_units"])
    describes_nothing = _describes_nothing(toks, rules, days)
    # "Is pus normal after microneedling?": asks about the sign, describes nothing
    asks_if_usual = describes_nothing and any(
        _occurrences(toks, p, present=present) for p in rules["usual_course_cues"]
    )
    masked = _not_sign_tokens(toks, rules, present)
    hits: List[RedFlagHit] = []

    def hit(category: Dict[str, Any], first: int, last: int, asked: bool = False) -> RedFlagHit:
        start, end = spans[first][0], spans[last][1]
        if category["severity"] == "emergency":
            # only "does microneedling cause swelling of the lips?": a general
            # question about what the treatment can cause, describing no one
            clause = toks[_clause_start(toks, first) : first]
            asked = (
                describes_nothing
                and not others
                and _clause_starts_with(toks, first, rules["emergency_question_starts"])
                and any(_occurrences(clause, p) for p in rules.get("emergency_cause_cues", []))
            )
        else:
            asked = asked or asks_if_usual
        return RedFlagHit(category["id"], category["severity"], start, end, text[start:end], asked)

    for category in rules["categories"]:
        strict = category["severity"] != "emergency"
        masked_here = masked | quiet if strict else masked
        found: Optional[RedFlagHit] = None
        reported = category["reported"] if firm_report else []
        for phrase in category["any"] + reported:
            live = _live(toks, phrase, rules, strict, present, masked_here)
            if live:
                # "my face is itchy, is that an allergic reaction?" asks what it is
                asked = phrase in reported and _clause_starts_with(toks, live[0], rules["identity_question_starts"])
                found = hit(category, live[0], live[0] + len(phrase["words"]) - 1, asked)
                break
        # "does redness get worse before it gets better?" asks about the usual course
        asks_about_course = not firm_report and any(
            _occurrences(toks, p, present=present) for p in category.get("unless", [])
        )
        if found is None and not asks_about_course:
            for rule in category["all"]:
                positions = []
                for group in rule:
                    group_hits = [i for p in group for i in _live(toks, p, rules, strict, present, masked_here)]
                    if not group_hits:
                        break
                    positions.append(group_hits)
                else:
                    anchors = _closest(positions, toks, sentence)
                    if (
                        anchors is not None
                        and max(anchors) - min(anchors) <= rules["window"]
                        and not (
                            # "does redness get worse on day two?" asks whether it usually does
                            not firm_report
                            and _clause_starts_with(toks, min(anchors), category.get("course_question_starts", []))
                        )
                    ):
                        found = hit(category, min(anchors), max(anchors))
                        break
        if found:
            hits.append(found)

    if side_effect_mentioned and not (general and set(sentence) <= general_sentences):
        cues = [i for p in rules["ongoing_cues"] for i in _occurrences(toks, p, raw_only=True, present=present)]
        if passing_spans is not None:
            near = {i for i, (start, end) in enumerate(spans) if any(s <= start and end <= e for s, e in passing_spans)}
            cues = [c for c in cues if any(abs(c - i) <= _ONGOING_REACH for i in near)]
        if days is not None and days > rules["prolonged_after_days"] and cues:
            category = next(c for c in rules["categories"] if c["id"] == PROLONGED)
            hits.append(hit(category, 0, len(toks) - 1))
    return hits
