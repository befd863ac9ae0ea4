"""Changes to Rasa 3.6.21's behaviour, applied by `python -m server` at start.

Each one fixes a measured problem (docs/benchmarks.md, docs/reliability.md)
and keeps Rasa's interfaces: the same classes, called the same way.

1. The prediction graph runs without dask (graph_runner.py).
2. Action-server replies are validated against Rasa's schema with validators
   built once. Rasa calls `jsonschema.validate(result, schema)` for every
   action call, which re-checks the schema itself against the JSON-Schema
   meta-schema each time (RasaHQ/rasa#11717), then tries every event against
   all ~20 event types; here each event is checked against its own type.
3. Calls to the action server reuse one HTTP session per endpoint instead of
   opening a new aiohttp session (and connection) for every call, and time
   out after the endpoint's `timeout` (seconds, in endpoints.yml) instead of
   Rasa's 5 minutes.
4. A conversation session also ends after `max_turns` patient messages
   (besides Rasa's inactivity expiry), carrying its slots over. Rasa loads,
   featurises and sends to the action server every event of the current
   session for every message, so without this a long chat (WhatsApp threads
   never end) got slower with every turn: 9 ms at turn 1, 245 ms at turn 400,
   measured. Nothing is lost: every session stays in the tracker store.
5. A new session carries over each slot's current value once. Rasa copies
   every SlotSet event of the old session, so each session started longer
   than the last (12,000 events after 400 turns, measured).
6. With `send_events: false` on the action endpoint (endpoints.yml), calls
   to the action server carry the tracker's slots and latest message but not
   its event history, which Rasa serialises on every call (and the action
   server parses) although action_answer never reads it.
7. Turning a stored event back into an object looks its class up by walking
   every Event subclass (with `inspect.isabstract` on each) for every event
   of the tracker, on every message: 17% of the server's time under load
   (py-spy). The lookup is cached per event type.
8. Rasa's message processor deep-copies events and parse data to pass them
   to debug log calls, even when debug logging is off (0.2-0.4 ms per
   message, profiled); they are copied only when debug logging is on.
9. When the action server is down, slow or failing, the patient gets a polite
   "I can't look that up right now" with the clinic's phone number and a
   `fallback` contract message, instead of silence (Rasa logs the error and
   drops the action's events).
10. Before every parse Rasa checks whether the domain is empty by building
    the whole domain's dict and a new empty Domain to compare it with (2% of
    the server's time, py-spy). A loaded domain does not change: the answer
    is kept per domain object.
11. RulePolicy matches its rules against a conversation's states from the
    last back to the first, filtering every rule at every state, twice per
    message (5% of the server's time), although a rule is settled once the
    walk is past its length (`_is_rule_applicable` returns True from there
    on). So the rules that match depend on the last states only (as many as
    the longest rule has), and the answer for each such tail is kept: the
    same rules match. RulePolicy also builds the debug log's deep copy of the
    states only when debug logging is on.
12. So RulePolicy needs only that many of the latest states, but it turns
    the whole session into states, replaying its events once per state, for
    both predictions of every message (8% of the server's time). Where no
    slot influences the conversation and no form is defined (this project:
    nothing before those turns can change their states), the states are
    built from the last turns' events only.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Dict, List, Optional, Text

import aiohttp

logger = logging.getLogger(__name__)

_sessions: "weakref.WeakSet[aiohttp.ClientSession]" = weakref.WeakSet()


def apply(unavailable_text: Text, unavailable_custom: Dict[Text, Any], max_turns: int) -> None:
    """Apply every patch. `unavailable_*` is the reply when actions fail."""
    _run_graph_without_dask()
    _validate_action_replies_with_a_cached_validator()
    _reuse_action_server_sessions()
    _bound_session_length(max_turns)
    _carry_over_current_slot_values_only()
    _send_actions_no_event_history_when_configured()
    _cache_event_class_lookup()
    _copy_for_debug_logs_only_when_debugging()
    _answer_politely_when_actions_fail(unavailable_text, unavailable_custom)
    _remember_whether_the_domain_is_empty()
    _stop_rule_matching_after_the_longest_rule()
    _featurise_only_the_states_rules_can_see()


def _run_graph_without_dask() -> None:
    import rasa.core.processor

    from server.graph_runner import SequentialGraphRunner

    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]


def _validate_action_replies_with_a_cached_validator() -> None:
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    spec = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(spec)
    validator_class.check_schema(spec)  # once, not per call
    # Rasa's event schema is a oneOf over ~20 event types, tried for every
    # event; each branch fixes `event` to one name. Validating an event
    # against the one branch its name selects accepts and rejects exactly
    # what the oneOf does, at a twentieth of the work.
    envelope = validator_class({**spec, "properties": {**spec["properties"], "events": {"type": "array"}}})
    base = {k: v for k, v in EVENT_SCHEMA.items() if k != "oneOf"}
    by_name = {
        branch["properties"]["event"]["const"]: validator_class({**base, "allOf": [branch]})
        for branch in EVENT_SCHEMA["oneOf"]
    }
    any_event = validator_class(EVENT_SCHEMA)

    def validate(result: Dict[Text, Any]) -> None:
        envelope.validate(result)
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            own_type = by_name.get(name) if isinstance(name, str) else None
            (own_type or any_event).validate(event)  # unknown types: Rasa's full check

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validate(result)
            return True
        except ValidationError as e:  # same message as Rasa's own
            e.message += (
                ". Failed to validate Action server response from API, make sure your "
                "response from the Action endpoint is valid. For more information about "
                f"the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


class _BorrowedSession:
    """`async with` support that leaves the shared session open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def _reuse_action_server_sessions() -> None:
    from rasa.utils.endpoints import EndpointConfig

    def session(self: EndpointConfig) -> _BorrowedSession:
        shared: Optional[aiohttp.ClientSession] = getattr(self, "_shared_session", None)
        loop = asyncio.get_event_loop()
        if shared is None or shared.closed or getattr(shared, "_loop", loop) is not loop:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            timeout = float(self.kwargs.get("timeout", 300))
            shared = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=timeout),
                # the action server sets no cookies; aiohttp's jar would parse
                # every reply's headers for them (1% of the server's time)
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._shared_session = shared  # type: ignore[attr-defined]
            _sessions.add(shared)
        return _BorrowedSession(shared)

    EndpointConfig.session = session  # type: ignore[assignment]

    original_request = EndpointConfig.request

    async def request(self: EndpointConfig, *args: Any, **kwargs: Any) -> Any:
        # RemoteAction passes its own 5-minute timeout with every call; the
        # endpoint's configured timeout wins.
        if "timeout" in self.kwargs and "timeout" in kwargs:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=float(self.kwargs["timeout"]))
        return await original_request(self, *args, **kwargs)

    EndpointConfig.request = request  # type: ignore[assignment]


async def close_sessions(*_args: Any) -> None:
    """Close the shared sessions (a Sanic `after_server_stop` listener)."""
    for session in list(_sessions):
        if not session.closed:
            await session.close()


def _bound_session_length(max_turns: int) -> None:
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import SessionStarted, UserUttered

    expired_by_time = MessageProcessor._has_session_expired

    def _has_session_expired(self: MessageProcessor, tracker: Any) -> bool:
        if expired_by_time(self, tracker):
            return True
        if not self.domain.session_config.are_sessions_enabled():
            return False
        turns = 0
        for event in reversed(tracker.events):
            if isinstance(event, SessionStarted):
                break
            if isinstance(event, UserUttered):
                turns += 1
        return turns >= max_turns

    MessageProcessor._has_session_expired = _has_session_expired  # type: ignore[assignment]


def _carry_over_current_slot_values_only() -> None:
    from rasa.core.actions.action import ActionSessionStart
    from rasa.shared.core.events import SlotSet

    def _slot_set_events_from_tracker(tracker: Any) -> List[SlotSet]:
        latest: Dict[Text, SlotSet] = {}
        for event in tracker.applied_events():
            if isinstance(event, SlotSet):
                latest.pop(event.key, None)  # keep the order of the last setting
                latest[event.key] = event
        return [SlotSet(key=e.key, value=e.value, metadata=e.metadata) for e in latest.values()]

    ActionSessionStart._slot_set_events_from_tracker = staticmethod(_slot_set_events_from_tracker)  # type: ignore[assignment]


class _TrackerWithoutHistory:
    """A tracker whose serialised state leaves out the event history."""

    def __init__(self, tracker: Any) -> None:
        self._tracker = tracker

    def current_state(self, *_args: Any, **_kwargs: Any) -> Dict[Text, Any]:
        from rasa.shared.core.trackers import EventVerbosity

        return {**self._tracker.current_state(EventVerbosity.NONE), "events": []}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)


def _send_actions_no_event_history_when_configured() -> None:
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._action_call_format

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
        endpoint = self.action_endpoint
        if endpoint is not None and endpoint.kwargs.get("send_events", True) is False:
            tracker = _TrackerWithoutHistory(tracker)
        return original(self, tracker, domain)

    RemoteAction._action_call_format = _action_call_format  # type: ignore[assignment]


def _cache_event_class_lookup() -> None:
    from rasa.shared.core.events import Event

    walk_subclasses = Event.resolve_by_type  # a staticmethod: the plain function
    found: Dict[Text, Any] = {}

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        cls = found.get(type_name)
        if cls is None:
            cls = walk_subclasses(type_name, default)  # raises for unknown types, as before
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


class _DebugLogCopy:
    """Stands in for the `copy` module inside a Rasa module whose deepcopy
    calls only build debug log arguments."""

    def __init__(self, module: str) -> None:
        import copy

        self._copy = copy
        self._logger = logging.getLogger(module)

    def deepcopy(self, value: Any) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return self._copy.deepcopy(value)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._copy, name)


def _copy_for_debug_logs_only_when_debugging() -> None:
    import rasa.core.processor

    rasa.core.processor.copy = _DebugLogCopy("rasa.core.processor")  # type: ignore[assignment]


def _answer_politely_when_actions_fail(text: Text, custom: Dict[Text, Any]) -> None:
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered, Event

    original_run = RemoteAction.run

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        try:
            return await original_run(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise  # a form's normal control flow, not a failure
        except Exception as error:  # noqa: BLE001 - every failure gets the same polite answer
            logger.error(
                "action %s failed for conversation %s: %r; answered with the unavailable message",
                self.name(),
                tracker.sender_id,
                error,
            )
            return [BotUttered(text, data={"custom": custom}, metadata={"utter_action": "action_unavailable"})]

    RemoteAction.run = run  # type: ignore[assignment]


def _remember_whether_the_domain_is_empty() -> None:
    from rasa.shared.core.domain import Domain

    compare_with_an_empty_domain = Domain.is_empty

    def is_empty(self: Domain) -> bool:
        known = self.__dict__.get("_known_to_be_empty")
        if known is None:
            known = self.__dict__["_known_to_be_empty"] = compare_with_an_empty_domain(self)
        return known

    Domain.is_empty = is_empty  # type: ignore[method-assign]


def _longest_rule(policy: Any, lookup: Dict[Text, Text]) -> int:
    """How many states the longest rule in `lookup` has (kept per lookup)."""
    known = policy.__dict__.setdefault("_longest_rule", {})
    if id(lookup) not in known:
        known[id(lookup)] = max((len(policy._rule_key_to_state(key)) for key in lookup), default=0)
    return known[id(lookup)]


def _stop_rule_matching_after_the_longest_rule() -> None:
    import json

    import rasa.core.policies.rule_policy
    from rasa.core.policies.rule_policy import RulePolicy

    original = RulePolicy._get_possible_keys

    def _get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[Dict]) -> set:
        cache = self.__dict__.setdefault("_possible_keys_cache", {})
        longest = _longest_rule(self, lookup)
        recent = states[-longest:] if longest else []
        # the matching rules depend on the last `longest` states only, and few
        # of those combinations occur: each is worked out once
        seen = (id(lookup), json.dumps(recent, sort_keys=True, default=list))
        found = cache.get(seen)
        if found is None:
            possible_keys = set(lookup.keys())
            for i, state in enumerate(reversed(recent)):
                possible_keys = {key for key in possible_keys if self._is_rule_applicable(key, i, state)}
            found = frozenset(possible_keys)
            if len(cache) < 10_000:
                cache[seen] = found
        return set(found)

    _get_possible_keys.__wrapped__ = original  # type: ignore[attr-defined]  # for the tests
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]
    rasa.core.policies.rule_policy.copy = _DebugLogCopy("rasa.core.policies.rule_policy")  # type: ignore[assignment]


def _recent_events(events: List[Any], states_needed: int) -> Optional[List[Any]]:
    """The tail of `events` (a tracker's applied events) from which a tracker's
    last `states_needed` states come out the same, after the tail's first
    state, which is dropped; None when the tail would be the whole.

    A state (Rasa's `Domain.get_active_state`, without featurised slots or
    loops) is the latest user message and the latest action before an
    action, or at the end. The earliest state needed is the one before the
    (states_needed - 1)-th last action: the tail starts at the action before
    that one, or earlier at the user message that state shows."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    actions = [i for i, event in enumerate(events) if isinstance(event, ActionExecuted)]
    first_needed = len(actions) - (states_needed - 1)  # index into `actions`
    if states_needed < 1 or first_needed < 2:
        return None
    before = actions[first_needed] if first_needed < len(actions) else len(events)
    start = actions[first_needed - 1]
    users = [i for i in range(before - 1, -1, -1) if isinstance(events[i], UserUttered)][:1]
    if users:
        start = min(start, users[0])
    return events[start:] if start > 0 else None


def _featurise_only_the_states_rules_can_see() -> None:
    from rasa.core.policies.rule_policy import RULES, RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    original = RulePolicy._prediction_states

    def _prediction_states(
        self: RulePolicy,
        tracker: DialogueStateTracker,
        domain: Any,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[Text, Any]] = None,
    ) -> List[Dict]:
        cache = self.__dict__.setdefault("_states_needed", {})
        needed = cache.get(id(domain))
        if needed is None:
            # with forms (loops) or featurised slots, earlier turns shape later states
            history_matters = bool(domain.form_names) or any(slot.influence_conversation for slot in domain.slots)
            needed = cache[id(domain)] = 0 if history_matters else _longest_rule(self, self.lookup.get(RULES, {}))
        recent = _recent_events(list(tracker.applied_events()), needed) if needed else None
        if recent is None:
            return original(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
        short = DialogueStateTracker.from_events(tracker.sender_id, recent, slots=list(tracker.slots.values()))
        return original(self, short, domain, use_text_for_last_user_input, rule_only_data)[1:]

    _prediction_states.__wrapped__ = original  # type: ignore[attr-defined]  # for the tests
    RulePolicy._prediction_states = _prediction_states  # type: ignore[method-assign]
