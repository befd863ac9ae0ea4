"""The fixes to Rasa 3.6 in server/patches.py, each on a real Rasa object."""

from __future__ import annotations

import asyncio
import json
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


@pytest.mark.parametrize("module", ["rasa.core.processor", "rasa.core.policies.rule_policy"])
def test_debug_log_copies_only_when_debugging(module) -> None:
    import importlib

    value = {"a": [1]}
    logger = logging.getLogger(module)
    level = logger.level
    try:
        logger.setLevel(logging.INFO)
        assert importlib.import_module(module).copy.deepcopy(value) is value
        logger.setLevel(logging.DEBUG)
        copied = importlib.import_module(module).copy.deepcopy(value)
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


def test_the_domain_is_empty_only_when_it_is(domain) -> None:
    assert not domain.is_empty() and not domain.is_empty()  # the second answer is the remembered one
    assert Domain.empty().is_empty()


def test_rule_matching_stops_after_the_longest_rule_with_the_same_result(domain) -> None:
    import json

    from rasa.core.policies.rule_policy import RulePolicy

    policy = RulePolicy.__new__(RulePolicy)  # rule matching needs no trained state
    rasa_walk = RulePolicy._get_possible_keys.__wrapped__
    histories = [domain.states_for_tracker_history(tracker_with(domain, turns)) for turns in range(1, 5)]
    # rules as RulePolicy stores them: the last 1-4 states of real conversations,
    # from the conversation's start ("{}", no previous action) or not
    lookup = {json.dumps(states[-length:]): "action" for states in histories for length in range(1, 5)}
    lookup[json.dumps([{}, {"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}])] = "x"
    assert max(len(json.loads(key)) for key in lookup) == 4
    for states in histories:
        for end in range(1, len(states) + 1):
            expected = rasa_walk(policy, lookup, states[:end])
            assert policy._get_possible_keys(lookup, states[:end]) == expected
    assert any(rasa_walk(policy, lookup, states) for states in histories)  # some rules do match


def conversation_prefixes(domain: Domain):
    """Every prefix of real-shaped conversations: answers, small talk, a red
    flag, a new session, slots; each prefix as a tracker."""
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for i, (intent, action) in enumerate(
        [("ask_duration", "action_answer"), ("greet", "utter_greet"), ("report_red_flag", "action_answer")] * 2
    ):
        events += [
            UserUttered(f"message {i}", {"name": intent, "confidence": 1.0}),
            ActionExecuted(action),
            SlotSet("focus_topic", "redness"),
            ActionExecuted("action_listen"),
        ]
        if i == 3:
            events += [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for end in range(1, len(events) + 1):
        yield DialogueStateTracker.from_events("patient", events[:end], slots=domain.slots)


@pytest.mark.parametrize("longest", [1, 2, 3])
def test_rules_see_the_same_latest_states_from_the_latest_turns(domain, longest) -> None:
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
    from rasa.core.policies.rule_policy import RULES, RulePolicy

    policy = RulePolicy.__new__(RulePolicy)  # featurising needs no trained state
    policy._Policy__featurizer = MaxHistoryTrackerFeaturizer(None, max_history=None)  # RulePolicy's own
    rule = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}] * longest
    policy.lookup = {RULES: {json.dumps(rule): "utter_greet"}}
    all_states = RulePolicy._prediction_states.__wrapped__
    shortened = 0
    for tracker in conversation_prefixes(domain):
        expected = all_states(policy, tracker, domain)
        got = policy._prediction_states(tracker, domain)
        assert got[-longest:] == expected[-longest:] and len(got) >= min(longest, len(expected))
        shortened += len(got) < len(expected)
    assert shortened > 10  # the shortcut was taken
