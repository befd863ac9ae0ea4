"""Changes to Rasa 3.6.21's behaviour, applied by `python -m server` at start.

Each one fixes a measured problem (docs/benchmarks.md, docs/reliability.md)
and keeps Rasa's interfaces: the same classes, called the same way.

1. The prediction graph runs without dask (graph_runner.py).
2. Action-server replies are validated with a validator built once. Rasa
   calls `jsonschema.validate(result, schema)` for every action call, which
   re-checks the schema itself against the JSON-Schema meta-schema each time:
   most of the ~2.5 ms the validation costs (RasaHQ/rasa#11717).
3. Calls to the action server reuse one HTTP session per endpoint instead of
   opening a new aiohttp session (and connection) for every call, and time
   out after the endpoint's `timeout` (seconds, in endpoints.yml) instead of
   Rasa's 5 minutes.
4. When the action server is down, slow or failing, the patient gets a polite
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


def apply(unavailable_text: Text, unavailable_custom: Dict[Text, Any]) -> None:
    """Apply every patch. `unavailable_*` is the reply when actions fail."""
    _run_graph_without_dask()
    _validate_action_replies_with_a_cached_validator()
    _reuse_action_server_sessions()
    _answer_politely_when_actions_fail(unavailable_text, unavailable_custom)


def _run_graph_without_dask() -> None:
    import rasa.core.processor

    from server.graph_runner import SequentialGraphRunner

    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]


def _validate_action_replies_with_a_cached_validator() -> None:
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, not per call
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            validator.validate(result)
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


async def close_sessions(*_args: Any) -> None:
    """Close the shared sessions (a Sanic `after_server_stop` listener)."""
    for session in list(_sessions):
        if not session.closed:
            await session.close()


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
