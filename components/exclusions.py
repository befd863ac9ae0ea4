"""Words a message sets aside: "besides redness, what else can happen?" asks
about the other side effects, not about redness. Pure, no Rasa imports."""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple

_CUE = re.compile(r"\b(?:besides|beside|apart from|aside from|other than|except(?: for)?|excluding|beyond)\s+", re.I)
# "nothing other than redness", "fine except for the dryness": there the
# item is all the patient has, so it is the subject
_ONLY_THIS = re.compile(
    r"\b(?:no|nothing|none|not|fine|ok|okay|healed|everything|everything's|everythings|all good)\b",
    re.I,
)
_CLAUSE_START = re.compile(r"[,.;:?!][^,.;:?!]*$")
# what is set aside ends at punctuation or where the message goes on
_END = re.compile(
    r"[,.;:?!]|\b(?:what|which|who|how|why|when|where|are|is|was|can|could|do|does|did|will|would|should"
    r"|have|has|any|anything|else|other|others|more|i|i'm|im|got|also|for|there|theres|there's|we|you|but)\b",
    re.I,
)
# "... what else?", "any other side effects?": the message asks about the rest
_ASKS_FOR_OTHERS = re.compile(
    r"\b(?:else|other|others|another|additional|more|too|as well|anything)\b"
    r"|\b(?:what|any) (?:side effects|risks|complications)\b",
    re.I,
)
_MAX_CHARS = 60


def excluded_spans(text: str) -> List[Tuple[int, int]]:
    """Character spans of what follows "besides", "apart from", "other than"..."""
    spans = []
    for cue in _CUE.finditer(text):
        before = text[: cue.start()]
        clause = before[m.start() :] if (m := _CLAUSE_START.search(before)) else before
        if _ONLY_THIS.search(clause):
            continue
        start = cue.end()
        first_word = re.match(r"[^\s,.;:?!]+", text[start:])
        end = _END.search(text, start + (first_word.end() if first_word else 0))
        stop = min(end.start() if end else len(text), start + _MAX_CHARS)
        if stop > start:
            spans.append((start, stop))
    return spans


def set_aside(text: str, starts: Sequence[int]) -> List[bool]:
    """For each match (by start offset), whether the message sets it aside: it
    is in an excluded span, and the message asks about the rest or names
    something else ("besides the redness I got dryness, how do I treat it?")."""
    spans = excluded_spans(text)
    inside = [any(a <= start < b for a, b in spans) for start in starts]
    # "other than" itself does not ask about the others
    if any(inside) and (all(inside) and not _ASKS_FOR_OTHERS.search(_CUE.sub(" ", text))):
        return [False] * len(starts)
    return inside
