"""The fixes to Rasa 3.6 in server/patches.py, each on a real Rasa object."""

from __future__ import annotations

import asyncio
import logging

import pytest
from rasa.core.actions.action import ActionSessionStart, RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from server import patches
from tests.conftest import ROOT


@pytest.fixture(scope="module", autouse=True)
def patched() -> None:
    patches.apply("unavailable", {"kind": "fallback", "topics": [], "facts": [], "sources": []}, max_turns=3)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def tracker_with(domain: Domain, turns: int) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for i in range(turns):
        events += [
            UserUttered(f"question {i}", {"name": "ask_symptom", "confidence": 1.0}),
            ActionExecuted("action_answer"),
            SlotSet("focus_topic", "redness" if i % 2 else "swelling"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events("patient", events, slots=domain.slots)


def test_actions_get_no_event_history_when_configured(domain) -> None:
    tracker = tracker_with(domain, 2)
    quiet = RemoteAction("action_answer", EndpointConfig("http://x", send_events=False))
    full = RemoteAction("action_answer", EndpointConfig("http://x"))
    call = quiet._action_call_format(tracker, domain)
    assert call["tracker"]["events"] == [] and call["tracker"]["slots"]["focus_topic"] == "redness"
    assert call["tracker"]["latest_message"]["text"] == "question 1"
    assert len(full._action_call_format(tracker, domain)["tracker"]["events"]) == len(tracker.events)


def test_new_sessions_carry_each_slot_once(domain) -> None:
    carried = ActionSessionStart._slot_set_events_from_tracker(tracker_with(domain, 5))
    assert [(e.key, e.value) for e in carried] == [("focus_topic", "swelling")]


def test_sessions_end_after_max_turns(domain) -> None:
    from rasa.core.processor import MessageProcessor

    processor = MessageProcessor.__new__(MessageProcessor)  # only the domain is needed here
    processor.domain = domain
    assert not processor._has_session_expired(tracker_with(domain, 2))
    assert processor._has_session_expired(tracker_with(domain, 3))


def test_action_failures_become_a_polite_reply(domain) -> None:
    action = RemoteAction("action_answer", EndpointConfig("http://127.0.0.1:9/webhook", timeout=1))
    events = asyncio.run(action.run(None, None, tracker_with(domain, 1), domain))
    assert events[0].text == "unavailable" and events[0].data["custom"]["kind"] == "fallback"


def test_event_types_resolve_as_before() -> None:
    from rasa.shared.core.events import Event, SlotSet, UserUttered

    assert Event.resolve_by_type("slot") is SlotSet and Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no-such-event")
    assert Event.resolve_by_type("topic") is None


def test_debug_log_copies_only_when_debugging() -> None:
    import rasa.core.processor

    value = {"a": [1]}
    logger = logging.getLogger("rasa.core.processor")
    level = logger.level
    try:
        logger.setLevel(logging.INFO)
        assert rasa.core.processor.copy.deepcopy(value) is value
        logger.setLevel(logging.DEBUG)
        copied = rasa.core.processor.copy.deepcopy(value)
        assert copied == value and copied is not value
    finally:
        logger.setLevel(level)


GOOD_REPLY = {
    "events": [
        {"event": "slot", "name": "focus_topic", "value": "redness"},
        {"event": "action", "name": "x", "policy": None, "confidence": 1.0},
    ],
    "responses": [{"text": "hello", "buttons": [{"title": "x", "payload": "/y"}], "custom": {"kind": "answer"}}],
}


@pytest.mark.parametrize(
    "reply",
    [
        GOOD_REPLY,
        {"events": [{"event": "slot"}]},
        {"events": [{"event": "nope"}]},
        {"events": [{"name": "x"}]},
        {"events": "x"},
        {"responses": [1]},
        {"events": [{"event": "user", "text": 5}]},
        {"events": [5]},
        {"events": [{"event": 5}]},
        {"events": [{"event": "slot", "name": "a", "value": 1, "timestamp": "x"}]},
    ],
)
def test_action_replies_are_judged_as_rasa_judges_them(reply) -> None:
    from jsonschema import ValidationError, validate

    try:
        validate(reply, RemoteAction.action_response_format_spec())
        rasa_says = True
    except ValidationError:
        rasa_says = False
    try:
        RemoteAction("action_answer", None)._validate_action_result(reply)
        we_say = True
    except ValidationError:
        we_say = False
    assert we_say == rasa_says
