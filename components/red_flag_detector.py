"""Red-flag check that overrides intent classification.

Runs after the intent classifier and the FallbackClassifier. When the message
reports a red-flag symptom (`knowledge/red_flags.yml`: signs of infection,
severe or worsening pain, allergic signs, trouble breathing, symptoms lasting
well beyond the usual time) it sets the intent to `report_red_flag` with
confidence 1.0 and adds `red_flag` entities, whatever the classifier thought:
a topic classifier sends "my throat feels tight" to swelling at high
confidence. When nothing matches, a classifier guess of `report_red_flag` is
removed from the ranking: urgency is decided by these rules, never by a guess,
so expected effects ("day 1 and my face is a bit red") raise no alarm.
A question whether a sign is usual ("is pus normal after microneedling?")
gets `red_flag_asked` entities instead: answered, with the advice to seek help.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from actions.red_flags_config import load_red_flags
from components.compiled_file import CompiledFileComponent
from components.red_flag_rules import compile_rules, find_red_flags, tokens_of, with_term_lemmas, without_spans

RED_FLAG_INTENT = "report_red_flag"
RED_FLAG_ENTITY = "red_flag"
# a sign asked about, not reported ("is pus normal after microneedling?")
RED_FLAG_ASKED_ENTITY = "red_flag_asked"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RedFlagDetector(CompiledFileComponent, EntityExtractorMixin):
    file_name = "red_flags.json"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"red_flags_file": None}  # None: knowledge/red_flags.yml

    def compile(self) -> Dict[str, Any]:
        return compile_rules(load_red_flags(self._config.get("red_flags_file")))

    def process(self, messages: List[Message]) -> List[Message]:
        if self.compiled is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            entities = message.get(ENTITIES, [])
            side_effects = [
                (e["start"], e["end"], str(e["value"]).split("_")[0])
                for e in entities
                if e.get("entity") == "side_effect" and "start" in e and "end" in e
            ]
            # Words inside an off-topic term ("hay fever", "lip filler") are
            # about something else, not symptoms of this treatment.
            off_topic = [(e["start"], e["end"]) for e in entities if e.get("entity") == "off_topic" and "start" in e]
            toks, spans = tokens_of(text)
            toks = with_term_lemmas(toks, spans, side_effects)
            toks, spans = without_spans(toks, spans, off_topic)
            # Side effects whose lasting can be a red flag: not dark patches or
            # scars, which last by nature ("3 weeks on, still brown patches").
            lasting = self.compiled.get("lasting_side_effects", [])
            passing = [
                (e["start"], e["end"])
                for e in entities
                if e.get("entity") == "side_effect" and "start" in e and e.get("value") not in lasting
            ]
            hits = find_red_flags(toks, spans, self.compiled, text, bool(passing), passing)
            if any(not hit.asked for hit in hits):
                self._mark_urgent(message, hits, entities)
            else:
                self._drop_red_flag_guess(message)
                if hits:  # "is pus normal after microneedling?"
                    message.set(ENTITIES, entities + self._entities(hits, RED_FLAG_ASKED_ENTITY), add_to_output=True)
        return messages

    def _mark_urgent(self, message: Message, hits: list, entities: list) -> None:
        top = {INTENT_NAME_KEY: RED_FLAG_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != RED_FLAG_INTENT]
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        message.set(ENTITIES, entities + self._entities(hits, RED_FLAG_ENTITY), add_to_output=True)

    def _entities(self, hits: list, entity: str) -> List[Dict[str, Any]]:
        found = [
            {"entity": entity, "value": hit.category, "start": hit.start, "end": hit.end, "confidence_entity": 1.0}
            for hit in hits
        ]
        return self.add_extractor_name(found)

    @staticmethod
    def _drop_red_flag_guess(message: Message) -> None:
        """The classifier thought "red flag" but no rule agrees: treat the
        message as not understood (nlu_fallback), keeping the rest of the
        ranking, so the answer comes from the subject named or a "did you mean"."""
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != RED_FLAG_INTENT:
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != RED_FLAG_INTENT]
        fallback = {
            INTENT_NAME_KEY: "nlu_fallback",
            PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY, 0.0),
        }
        message.set(INTENT, fallback, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
