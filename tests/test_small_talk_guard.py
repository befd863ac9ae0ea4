"""SmallTalkGuard: a message that names a subject is not small talk."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.small_talk_guard import SmallTalkGuard


def guarded(intent: str, entities: List[Dict[str, Any]]) -> str:
    ranking = [{"name": intent, "confidence": 0.4}, {"name": "out_of_scope", "confidence": 0.2}]
    message = Message(data={TEXT: "x", INTENT: ranking[0], INTENT_RANKING_KEY: ranking, ENTITIES: entities})
    SmallTalkGuard(SmallTalkGuard.get_default_config()).process([message])
    return message.get(INTENT)["name"]


@pytest.mark.parametrize(
    "entities,expected",
    [
        ([], "goodbye"),  # plain small talk stays small talk
        # "do you take Afterpay?" read as a goodbye: an off-topic subject is declined
        ([{"entity": "off_topic", "value": "cost_and_cover"}], "out_of_scope"),
        ([{"entity": "side_effect", "value": "rash"}], "out_of_scope"),  # the best other guess
    ],
)
def test_a_named_subject_is_not_small_talk(entities, expected) -> None:
    assert guarded("goodbye", entities) == expected
