"""Entity extractor built from the facts file's lexicon (side effects, skin
conditions, care items), matched on lemmas with typo tolerance.

Trained (compiled) from `knowledge/facts.yml` and stored in the model, so a
model is self-contained; `make run` retrains when the facts file changes.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.facts_store import load_facts
from actions.resolver import EXCLUDED_ROLE
from components.compiled_file import CompiledFileComponent
from components.exclusions import set_aside
from components.lexicon_matcher import LexiconMatcher


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class LexiconEntityExtractor(CompiledFileComponent, EntityExtractorMixin):
    file_name = "lexicon.json"
    _matcher: Optional[LexiconMatcher] = None

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "facts_file": None,  # None: knowledge/facts.yml (or $FACTS_FILE)
            # both on in the product; off only to measure what they add
            "use_lemmas": True,
            "fix_typos": True,
        }

    def compile(self) -> Dict[str, Any]:
        store = load_facts(self._config.get("facts_file"))
        entries = ((e.entity, e.value, e.terms) for e in store.lexicon)
        return LexiconMatcher.build(entries, store.lexicon_idioms).to_json()

    def prepare(self, compiled: Dict[str, Any]) -> None:
        self._matcher = LexiconMatcher.from_json(
            compiled, self._config.get("use_lemmas", True), self._config.get("fix_typos", True)
        )

    def process(self, messages: List[Message]) -> List[Message]:
        if self._matcher is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            matches = self._matcher.match(text)
            aside = set_aside(text, [m.start for m in matches])
            found = [
                {
                    "entity": m.entity,
                    "value": m.value,
                    "start": m.start,
                    "end": m.end,
                    "confidence_entity": 1.0,
                    # "besides redness, what else?": not the subject
                    **({"role": EXCLUDED_ROLE} if excluded else {}),
                }
                for m, excluded in zip(matches, aside, strict=True)
            ]
            if found:
                message.set(
                    ENTITIES,
                    message.get(ENTITIES, []) + self.add_extractor_name(found),
                    add_to_output=True,
                )
        return messages
