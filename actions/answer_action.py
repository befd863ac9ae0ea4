"""action_answer: the one custom action. Every question, follow-up, button,
red flag, out-of-scope or unclear message comes here; small talk is plain
responses in domain.yml.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import contract, runtime
from actions.composer import Reply
from actions.resolver import EXCLUDED_ROLE, Entity, Understanding

logger = logging.getLogger(__name__)


def understanding_from_parse(
    latest: Dict[str, Any],
    focus_topic: Optional[str] = None,
    focus_aspect: Optional[str] = None,
    offered: Optional[List[str]] = None,
) -> Understanding:
    """What the resolver needs from a parsed message (Rasa's parse format)."""
    intent = latest.get("intent") or {}
    named = [e for e in latest.get("entities") or [] if e.get("entity") and e.get("value") is not None]
    return Understanding(
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        ranking=[
            (r.get("name"), float(r.get("confidence") or 0.0))
            for r in latest.get("intent_ranking") or []
            if r.get("name")
        ],
        entities=[Entity(str(e["entity"]), str(e["value"])) for e in named if e.get("role") != EXCLUDED_ROLE],
        excluded=[Entity(str(e["entity"]), str(e["value"])) for e in named if e.get("role") == EXCLUDED_ROLE],
        text=str(latest.get("text") or ""),
        focus_topic=focus_topic,
        focus_aspect=focus_aspect,
        offered=[str(p) for p in offered or []],
    )


def understanding_from(tracker: Tracker) -> Understanding:
    return understanding_from_parse(
        tracker.latest_message or {},
        tracker.get_slot("focus_topic"),
        tracker.get_slot("focus_aspect"),
        tracker.get_slot("offered_options"),
    )


class ActionAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        rt = runtime.get()
        first = not tracker.get_slot("disclaimer_shown")
        try:
            decision = rt.resolver.decide(understanding_from(tracker))
            reply = rt.composer.compose(decision, with_disclaimer=first)
        except Exception:  # never leave the patient without an answer
            logger.exception("action_answer failed for sender %s", tracker.sender_id)
            reply = Reply(
                text=(
                    "Sorry, something went wrong on my side. Please try again, or call "
                    f"{rt.clinic.name} on {rt.clinic.phone}."
                ),
                custom=contract.payload("fallback"),
            )
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons, json_message=reply.custom)
        events: List[EventType] = [SlotSet("offered_options", [b["payload"] for b in reply.buttons])]
        if first:
            events.append(SlotSet("disclaimer_shown", True))
        if reply.focus_topic:
            events += [SlotSet("focus_topic", reply.focus_topic), SlotSet("focus_aspect", reply.focus_aspect)]
        return events
