"""action_answer with real rasa_sdk Tracker and CollectingDispatcher objects."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Sequence, Tuple

import jsonschema
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import contract
from actions.answer_action import ActionAnswer


def tracker(
    text: str,
    intent: str,
    entities: Sequence[Tuple[str, str]] = (),
    slots: Optional[Dict[str, Any]] = None,
    confidence: float = 0.95,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": [{"entity": e, "value": v} for e, v in entities],
    }
    return Tracker("patient-1", dict(slots or {}), latest, [], False, None, {}, "action_listen")


def run(t: Tracker) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswer().run(dispatcher, t, {}))
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def the_contract(messages: List[Dict[str, Any]]) -> Dict[str, Any]:
    customs = [m["custom"] for m in messages if m.get("custom")]
    assert len(customs) == 1, "exactly one machine-readable message per turn"
    jsonschema.validate(customs[0], contract.SCHEMA)
    return customs[0]


@pytest.mark.parametrize(
    "text,intent,entities,kind,topic",
    [
        ("how long does redness last?", "ask_duration", [("side_effect", "redness")], "answer", "redness"),
        ("can I do it with eczema?", "ask_suitability", [("skin_condition", "eczema")], "answer", "contraindications"),
        ("is it safe for dark skin", "ask_safety", [("skin_condition", "darker_skin")], "answer", "hyperpigmentation"),
        ("can microneedling go wrong", "ask_go_wrong", [], "answer", "can_it_go_wrong"),
        (
            "my throat feels tight",
            "report_red_flag",
            [("red_flag", "breathing_difficulty")],
            "urgent",
            "when_to_seek_help",
        ),
        ("how much does it cost", "out_of_scope", [], "out_of_scope", None),
        ("blorp", "nlu_fallback", [], "fallback", None),
    ],
)
def test_one_turn(runtime, text, intent, entities, kind, topic) -> None:
    messages, slots = run(tracker(text, intent, entities))
    custom = the_contract(messages)
    assert custom["kind"] == kind
    if topic:
        assert custom["topics"][0] == topic
    assert any(m.get("text") for m in messages), "a text the patient can read"
    assert slots["disclaimer_shown"] is True


def test_an_entity_set_aside_by_nlu_is_not_the_subject(runtime) -> None:
    t = tracker("besides redness, what other side effects are there?", "ask_side_effects")
    t.latest_message["entities"] = [{"entity": "side_effect", "value": "redness", "role": "excluded"}]
    custom = the_contract(run(t)[0])
    assert custom["topics"][0] == "side_effects_overview"


def test_disclaimer_once_per_conversation(runtime) -> None:
    first, slots = run(tracker("what is microneedling", "ask_what_is"))
    again, _ = run(tracker("what is microneedling", "ask_what_is", slots=slots))
    assert "not medical advice" in first[0]["text"]
    assert "not medical advice" not in again[0]["text"]


def test_follow_ups_resolve_against_the_topic_in_focus(runtime) -> None:
    """'how long does swelling last?' -> 'and bruising?' -> 'what should I do about it?'"""
    messages, slots = run(tracker("how long does swelling last?", "ask_duration", [("side_effect", "swelling")]))
    assert the_contract(messages)["topics"] == ["swelling"]
    assert (slots["focus_topic"], slots["focus_aspect"]) == ("swelling", "duration")

    messages, more = run(tracker("and bruising?", "follow_up", [("side_effect", "bruising")], slots))
    slots.update(more)
    assert the_contract(messages)["topics"] == ["bruising"]
    assert (slots["focus_topic"], slots["focus_aspect"]) == ("bruising", "duration")

    messages, more = run(tracker("what should I do about it?", "ask_manage", [], slots))
    assert the_contract(messages)["topics"] == ["bruising"]
    assert more["focus_aspect"] == "management"


def test_numbered_options_pick_the_offered_buttons(runtime) -> None:
    messages, slots = run(tracker("what are the side effects", "ask_side_effects"))
    offered = slots["offered_options"]
    assert offered and offered == [b["payload"] for b in messages[0]["buttons"]]
    chosen, _ = run(tracker("2", "choose_option", [], slots))
    expected_topic = offered[1].split('"topic": "')[1].split('"')[0]
    assert the_contract(chosen)["topics"][0] == expected_topic


def test_a_failure_inside_still_answers_politely(runtime, monkeypatch) -> None:
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime.resolver, "decide", broken)
    messages, _ = run(tracker("how long does redness last?", "ask_duration", [("side_effect", "redness")]))
    assert the_contract(messages)["kind"] == "fallback"
    assert runtime.clinic.phone in messages[0]["text"]
