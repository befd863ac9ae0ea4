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
                headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=timeout)
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
    """Stands in for the `copy` module inside rasa.core.processor, where
    deepcopy is only used to build debug log arguments."""

    def __init__(self) -> None:
        import copy

        self._copy = copy
        self._logger = logging.getLogger("rasa.core.processor")

    def deepcopy(self, value: Any) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return self._copy.deepcopy(value)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._copy, name)


def _copy_for_debug_logs_only_when_debugging() -> None:
    import rasa.core.processor

    rasa.core.processor.copy = _DebugLogCopy()  # type: ignore[assignment]


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
