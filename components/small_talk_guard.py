"""Small talk never names a side effect: send such messages to an answer.

"do I have a rash or is this healing?" can look like "are you a bot?" to a
bag-of-words classifier; a greeting or a thank-you does not mention rashes,
eczema or sunscreen. When the top intent is small talk but the lexicon found a
microneedling subject, this component promotes the best non-small-talk intent
of the ranking (or nlu_fallback), so action_answer answers the subject.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SmallTalkGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "small_talk_intents": ["greet", "goodbye", "thank", "acknowledge", "bot_challenge", "help"],
            # an off-topic subject ("do you take Afterpay?") is declined, not small talk
            "subject_entities": ["side_effect", "skin_condition", "care_item", "off_topic"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._small_talk = set(config["small_talk_intents"])
        self._subjects = set(config["subject_entities"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SmallTalkGuard":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) not in self._small_talk:
                continue
            if not any(e.get("entity") in self._subjects for e in message.get(ENTITIES) or []):
                continue
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) not in self._small_talk
            ]
            best = ranking[0] if ranking else {INTENT_NAME_KEY: "nlu_fallback", PREDICTED_CONFIDENCE_KEY: 0.0}
            message.set(INTENT, best, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
