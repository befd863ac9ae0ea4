"""Words a message sets aside: "besides redness, what else can happen?" asks
about the other side effects, not about redness. Pure, no Rasa imports."""

from __future__ import annotations

import re
from typing import List, Tuple

_CUE = re.compile(r"\b(?:besides|beside|apart from|aside from|other than|except(?: for)?|excluding|beyond)\s+", re.I)
# what is set aside ends at punctuation or where the question starts again
_END = re.compile(
    r"[,.;:?!]|\b(?:what|which|who|how|why|when|where|are|is|was|can|could|do|does|did|will|would|should"
    r"|have|has|any|anything|else|other|others|more)\b",
    re.I,
)
_MAX_CHARS = 60


def excluded_spans(text: str) -> List[Tuple[int, int]]:
    """Character spans of what follows "besides", "apart from", "other than"..."""
    spans = []
    for cue in _CUE.finditer(text):
        start = cue.end()
        end = _END.search(text, start)
        stop = min(end.start() if end else len(text), start + _MAX_CHARS)
        if stop > start:
            spans.append((start, stop))
    return spans
