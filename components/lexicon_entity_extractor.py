"""Entity extractor built from the facts file's lexicon (side effects, skin
conditions, care items), matched on lemmas with typo tolerance.

Trained (compiled) from `knowledge/facts.yml` and stored in the model, so a
model is self-contained; `make run` retrains when the facts file changes.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

from actions.facts_store import load_facts
from components.lexicon_matcher import LexiconMatcher

_FILE = "lexicon.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class LexiconEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "facts_file": None,  # None: knowledge/facts.yml (or $FACTS_FILE)
            # both on in the product; off only to measure what they add
            "use_lemmas": True,
            "fix_typos": True,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        matcher: Optional[LexiconMatcher] = None,
    ) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._matcher = matcher

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LexiconEntityExtractor":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        store = load_facts(self._config.get("facts_file"))
        self._matcher = LexiconMatcher.build(
            (entry.entity, entry.value, entry.terms) for entry in store.lexicon
        )
        with self._model_storage.write_to(self._resource) as directory:
            rasa.shared.utils.io.dump_obj_as_json_to_file(
                directory / _FILE, self._matcher.to_json()
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LexiconEntityExtractor":
        with model_storage.read_from(resource) as directory:
            data = rasa.shared.utils.io.read_json_file(directory / _FILE)
        matcher = LexiconMatcher.from_json(data, config.get("use_lemmas", True), config.get("fix_typos", True))
        return cls(config, model_storage, resource, matcher)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._matcher is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            found = [
                {
                    "entity": m.entity,
                    "value": m.value,
                    "start": m.start,
                    "end": m.end,
                    "confidence_entity": 1.0,
                }
                for m in self._matcher.match(text)
            ]
            if found:
                message.set(
                    ENTITIES,
                    message.get(ENTITIES, []) + self.add_extractor_name(found),
                    add_to_output=True,
                )
        return messages
