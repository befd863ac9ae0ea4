"""The web widget's channel: Rasa's socket.io channel, made safe and correct.

Configured in credentials.yml as `server.socketio_channel.ClinicSocketIOInput`.
Same events and payloads as Rasa's `socketio` channel (user_uttered,
bot_uttered, session_request, session_confirm), so the rasa-webchat widget
works unchanged. What differs from Rasa 3.6.21's SocketIOInput:
- Origins: only the configured `cors_allowed_origins` may connect (Rasa
  passes an empty list to python-socketio, which then accepts any Origin).
- Sessions: the conversation id is issued and signed by the server
  (server/sessions.py). A client that names an id the server did not issue
  gets a new one; messages are always filed under the id bound to the socket,
  never under one the client names, so no one can join another patient's
  conversation.
- `enter_room` is awaited when python-socketio makes it a coroutine (5.10+);
  Rasa calls it without awaiting, so replies never reach the room.
- The answer contract is sent as `{"custom": {...}}`, as over REST. Rasa's
  `send_custom_json` passes the dict's keys to `emit()` as keyword arguments,
  which fails for this contract.
- Urgent answers carry a CSS class (rasa-webchat's `metadata.customCss`),
  so the page shows them distinctly.
- Oversized, empty or non-text messages get a polite reply instead of reaching
  NLU, and so do messages over the rate limits (server/guards.py).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncServer

from actions import contract
from server.guards import EMPTY_MESSAGE_TEXT, MAX_MESSAGE_CHARS, TOO_LONG_TEXT, TOO_MANY_TEXT, shared_rate_limiter
from server.sessions import SessionSigner, load_secret

logger = logging.getLogger(__name__)


class ClinicSocketIOOutput(SocketIOOutput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        kind = (message.get("custom") or {}).get("kind")
        # rasa-webchat drops the buttons of a bubble that has metadata, so only
        # urgent answers (never with buttons) carry their class.
        css = {"style": "class", "css": "rw-kind-urgent"} if kind == "urgent" else None
        text = message.get("text")
        if text:
            # One bubble per turn (its paragraphs, the source line among them,
            # render as markdown), not one per paragraph as in Rasa's channel.
            bubble: Dict[Text, Any] = {"text": text.strip()}
            if message.get("buttons"):
                bubble["quick_replies"] = [
                    {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in message["buttons"]
                ]
            if css:
                bubble["metadata"] = {"customCss": css}
            await self._send_message(recipient_id, bubble)
        if message.get("custom"):
            await self.send_custom_json(recipient_id, message["custom"])

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class ClinicSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,  # conversations always outlive a page reload
            credentials.get("socketio_path", "/socket.io"),
        )
        channel.allowed_origins = list(credentials.get("cors_allowed_origins") or [])
        return channel

    allowed_origins: List[str] = []

    def get_output_channel(self) -> Optional[ClinicSocketIOOutput]:
        return ClinicSocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        signer = SessionSigner(load_secret())
        limiter = shared_rate_limiter()
        # A list: python-socketio refuses any other Origin (an empty list would
        # switch the check off, which is what Rasa does).
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.allowed_origins or ["http://localhost"])
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> Any:
            return response.json({"status": "ok"})

        async def bind(sid: Text, requested: Optional[Text]) -> Text:
            conversation_id = requested if signer.is_issued(requested) else signer.new_id()
            entered = sio.enter_room(sid, conversation_id, namespace=namespace)
            if inspect.isawaitable(entered):  # python-socketio >= 5.10
                await entered
            await sio.save_session(sid, {"conversation_id": conversation_id}, namespace=namespace)
            await sio.emit("session_confirm", conversation_id, room=sid, namespace=namespace)
            return conversation_id

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            await bind(sid, requested)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            conversation_id = session.get("conversation_id") or await bind(sid, None)
            output = ClinicSocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message") if isinstance(data, dict) else None

            async def decline(reply: str) -> None:
                # a bot turn like any other: text plus the contract message
                await output.send_response(conversation_id, {"text": reply, "custom": contract.payload("fallback")})

            if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
                await decline(TOO_LONG_TEXT)
                return
            if not text.strip():
                await decline(EMPTY_MESSAGE_TEXT)
                return
            # python-engineio's Sanic driver puts a fixed 127.0.0.1 in REMOTE_ADDR;
            # the Sanic request it keeps knows the real peer.
            request = (sio.get_environ(sid, namespace=namespace) or {}).get("sanic.request")
            client = limiter.client_address(
                getattr(request, "ip", None), request.headers.get("X-Forwarded-For") if request else None
            )
            if not limiter.allow(client, conversation_id):
                await decline(TOO_MANY_TEXT)
                return
            await on_new_message(UserMessage(text, output, conversation_id, input_channel=self.name(), metadata={}))

        return blueprint
