"""The REST channel, hardened: `POST /webhooks/rest/webhook`.

Configured in credentials.yml as `rest` is in Rasa (`server.rest_channel.ClinicRestInput`).
Request and reply bodies are Rasa's (`{"sender", "message"}` in, a list of
messages out), so REST clients keep working. What differs from Rasa 3.6.21:
- Bad input gets a clear 4xx: a body that is not a JSON object (Rasa answers
  a JSON array with a 500), a wrong content type, a missing or oversized
  sender or message, invalid UTF-8. An empty or whitespace-only message gets
  a polite reply. Bodies over REST_MAX_BODY_BYTES (8 KB) get 413 here, and
  bodies over MAX_REQUEST_BYTES (64 KB) are refused by the server before they
  are read: a 1 MB message took Rasa about 9 s and stalled everyone else.
- Conversations belong to whoever started them. A message under a sender id
  never seen before starts a new conversation with no token; the reply's
  `X-Conversation-Token` header carries a token that every later message of
  that conversation must present (same header, or `"token"` in the body).
  Without it: 403. The token is an HMAC of the sender id (server/sessions.py).
- Rate limits per conversation and per client address (server/guards.py): 429.
- Failures are visible and retryable, never an empty 200: conversation
  storage down or the conversation busy (lock) gives 503 with Retry-After,
  and the conversation is left as it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy.exc import SQLAlchemyError

from actions import contract
from server.guards import EMPTY_MESSAGE_TEXT, MAX_MESSAGE_CHARS, shared_rate_limiter
from server.sessions import SessionSigner, load_secret

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Conversation-Token"
SENDER = re.compile(r"^[A-Za-z0-9._:@+\-]{1,128}$")


class StorageUnavailable(Exception):
    """The conversation store failed; the message was not processed."""


def _error(status: int, message: Text, **headers: Text) -> Any:
    return response.json({"error": message}, status=status, headers=headers or None)


async def conversation_exists(agent: Any, sender_id: Text) -> bool:
    store = agent.tracker_store
    exists = getattr(store, "exists", None)
    if exists is not None:
        return await exists(sender_id)
    return await store.retrieve(sender_id) is not None


class ClinicRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("custom_webhook_ClinicRestInput", __name__)
        signer = SessionSigner(load_secret())
        limiter = shared_rate_limiter()
        max_body_bytes = int(os.environ.get("REST_MAX_BODY_BYTES", "8192"))

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> Any:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            if len(request.body or b"") > max_body_bytes:
                return _error(413, f"request body over {max_body_bytes // 1024} KB")
            if (request.content_type or "").split(";")[0].strip() != "application/json":
                return _error(415, "send JSON with Content-Type: application/json")
            try:
                body = json.loads(request.body.decode("utf-8"))
            except UnicodeDecodeError:
                return _error(400, "the body is not valid UTF-8")
            except ValueError:
                return _error(400, "the body is not valid JSON")
            if not isinstance(body, dict):
                return _error(400, 'the body must be a JSON object: {"sender": "...", "message": "..."}')
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not SENDER.match(sender):
                return _error(400, "sender must be 1-128 letters, digits or ._:@+-")
            if not isinstance(text, str):
                return _error(400, "message must be a string")
            if len(text) > MAX_MESSAGE_CHARS:
                return _error(413, f"message longer than {MAX_MESSAGE_CHARS} characters")

            client = limiter.client_address(request.ip, request.headers.get("X-Forwarded-For"))
            if not limiter.allow(client, sender):
                return _error(429, "too many messages; please wait a minute", **{"Retry-After": "60"})

            token = request.headers.get(TOKEN_HEADER) or body.get("token")
            if not signer.token_matches(sender, token):
                # no valid token: only a conversation that does not exist yet may start
                try:
                    known = await conversation_exists(request.app.ctx.agent, sender)
                except SQLAlchemyError:
                    logger.exception("conversation storage unavailable (checking %s)", sender)
                    return _error(503, "conversation storage unavailable; please retry", **{"Retry-After": "5"})
                if known:
                    return _error(
                        403, f"this conversation needs its {TOKEN_HEADER}; start a new one with a new sender id"
                    )
            headers = {TOKEN_HEADER: signer.token_for(sender)}

            if not text.strip():
                return response.json(
                    [
                        {"recipient_id": sender, "text": EMPTY_MESSAGE_TEXT},
                        {"recipient_id": sender, "custom": contract.payload("fallback")},
                    ],
                    headers=headers,
                )

            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=None))
            except LockError:
                logger.warning("conversation %s busy (lock not acquired)", sender)
                return _error(503, "this conversation is busy; please retry", **{"Retry-After": "1"})
            except (SQLAlchemyError, StorageUnavailable):
                logger.exception("conversation storage unavailable for %s", sender)
                return _error(503, "conversation storage unavailable; please retry", **{"Retry-After": "5"})
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a bug must not look like an answer
                logger.exception("message from %s failed", sender)
                return _error(503, "the assistant could not answer just now; please retry", **{"Retry-After": "5"})
            return response.json(collector.messages, headers=headers)

        return webhook
