"""The answer contract: one machine-readable message per bot turn.

    {"kind": "answer", "topics": ["redness"], "facts": ["redness.duration"],
     "sources": [{"document": "000_cd3ae78a834cc04f.txt", "article": 4, "quote": "..."}]}

The widget, the analytics and the evaluation read it. `kind` is one of KINDS;
for `answer`, topics[0] is the main topic; for `clarify`, `topics` lists the
topics offered as buttons.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List

from actions.facts_schema import TOPIC_IDS, Fact

KINDS = ("answer", "clarify", "urgent", "out_of_scope", "fallback", "smalltalk")

SCHEMA: Dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "topics", "facts", "sources"],
    "properties": {
        "kind": {"enum": list(KINDS)},
        "topics": {"type": "array", "items": {"enum": list(TOPIC_IDS)}, "uniqueItems": True},
        "facts": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "sources": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["document", "article", "quote"],
                "properties": {
                    "document": {"type": "string"},
                    "article": {"type": "integer", "minimum": 1},
                    "quote": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}


def payload(kind: str, topics: Iterable[str] = (), facts: Iterable[Fact] = ()) -> Dict[str, Any]:
    """Build the contract message; sources are the facts' quotes, deduplicated."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    fact_list = list(facts)
    sources: List[Dict[str, Any]] = []
    seen = set()
    for fact in fact_list:
        for src in fact.sources:
            key = (src.document, src.article, src.quote)
            if key not in seen:
                seen.add(key)
                sources.append({"document": src.document, "article": src.article, "quote": src.quote})
    return {
        "kind": kind,
        "topics": list(dict.fromkeys(topics)),
        "facts": list(dict.fromkeys(f.id for f in fact_list)),
        "sources": sources,
    }
