"""Messaging platforms: Telegram, and WhatsApp and SMS through Twilio.

Rasa's built-in connectors, subclassed (credentials.yml names these classes).
Each channel is on only when its environment variables are set; otherwise
`python -m server` leaves it out and says which variables turn it on:

    Telegram  TELEGRAM_ACCESS_TOKEN, TELEGRAM_SECRET_TOKEN
              (optional TELEGRAM_API_URL, default https://api.telegram.org)
    Twilio    TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_NUMBER
              ("+441234567890" for SMS, "whatsapp:+14155238886" for WhatsApp),
              TWILIO_WEBHOOK_URL (the public URL Twilio posts to; it is part
              of what Twilio signs); optional TWILIO_API_URL

What changes from Rasa 3.6.21's connectors:
- Webhooks are verified: Telegram's `X-Telegram-Bot-Api-Secret-Token` header
  must equal TELEGRAM_SECRET_TOKEN, Twilio's `X-Twilio-Signature` must be
  valid for TWILIO_AUTH_TOKEN. Anything else gets 403 and is not processed.
  (Rasa checks neither.)
- No network at start: Rasa's Telegram connector calls setWebhook while the
  server starts (a crash without network) and getMe on every message. Here
  the webhook is registered by `python -m server.messaging set-telegram-webhook`
  and the secret token replaces the getMe check.
- The API base URLs are configurable (aiogram's TelegramAPIServer for
  Telegram), which is also how the tests point them at a local fake.
- Twilio replies are sent with aiohttp, not the blocking twilio client.
- SMS and WhatsApp have no buttons: a reply's buttons become numbered options
  and the patient answers with the number (action_answer maps it back).
- The machine-readable contract message stays on the server.
- Messages per patient per minute are limited (RATE_LIMIT_PER_SENDER, as on
  the web): one polite "please wait" per minute, then silence until the
  minute has passed, since every reply sent through a platform is billed.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from twilio.request_validator import RequestValidator

from server.guards import MAX_MESSAGE_CHARS, TOO_LONG_TEXT, TOO_MANY_TEXT, shared_rate_limiter

logger = logging.getLogger(__name__)


def numbered_options(text: Text, buttons: List[Dict[Text, Any]]) -> Text:
    """Buttons as a numbered list, for channels that cannot show buttons."""
    if not buttons:
        return text
    options = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1))
    return f"{text}\n\nReply with a number:\n{options}"


async def pass_on(
    channel: Text,
    sender: Text,
    text: Text,
    output: OutputChannel,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> None:
    """Hand a verified message to the bot, unless it is too long or one too many."""
    limiter, key = shared_rate_limiter(), f"{channel}:{sender}"
    if not limiter.allow_sender(key):
        if limiter.first_refusal(key):
            await output.send_text_message(sender, TOO_MANY_TEXT)
        return
    if len(text) > MAX_MESSAGE_CHARS:
        await output.send_text_message(sender, TOO_LONG_TEXT)
        return
    await on_new_message(UserMessage(text, output, sender, input_channel=channel, metadata={}))


class _MessagingInput(InputChannel):
    """A channel that is on only when its environment variables are set."""

    required_env: List[str] = []

    @classmethod
    def missing_env(cls) -> List[str]:
        return [name for name in cls.required_env if not os.environ.get(name)]

    @property
    def enabled(self) -> bool:
        return not self.missing_env()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()


# --- Telegram -------------------------------------------------------------------


class ClinicTelegramOutput(Bot, OutputChannel):
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, access_token: Text, api_url: Text) -> None:
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_message(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        # Telegram limits callback data to 64 bytes, shorter than some payloads:
        # a button sends its number, as a patient would type it on SMS.
        keyboard = InlineKeyboardMarkup()
        for number, button in enumerate(buttons, start=1):  # one per row: whole questions
            keyboard.row(InlineKeyboardButton(button["title"], callback_data=str(number)))
        await self.send_message(recipient_id, text, reply_markup=keyboard)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        return None  # the answer contract is for the server's own analytics


class ClinicTelegramInput(_MessagingInput):
    required_env = ["TELEGRAM_ACCESS_TOKEN", "TELEGRAM_SECRET_TOKEN"]

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self) -> None:
        self.access_token = os.environ.get("TELEGRAM_ACCESS_TOKEN", "")
        self.secret_token = os.environ.get("TELEGRAM_SECRET_TOKEN", "")
        self.api_url = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
        self._output: Optional[ClinicTelegramOutput] = None

    def get_output_channel(self) -> ClinicTelegramOutput:
        if self._output is None:
            self._output = ClinicTelegramOutput(self.access_token, self.api_url)
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> Any:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> Any:
            header = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(header, self.secret_token):
                return response.json({"error": "invalid or missing secret token"}, status=403)
            try:
                update = Update(**request.json)
            except Exception:  # noqa: BLE001 - anything unparsable is the sender's error
                return response.json({"error": "not a Telegram update"}, status=400)
            output = self.get_output_channel()
            if update.callback_query is not None:
                chat_id, text = update.callback_query.message.chat.id, update.callback_query.data
                await output.answer_callback_query(update.callback_query.id)
            else:
                msg = update.message or update.edited_message
                if msg is None or msg.text is None:
                    return response.text("ok")  # stickers, photos, joins: nothing to answer
                chat_id, text = msg.chat.id, msg.text
            await pass_on(self.name(), str(chat_id), text, output, on_new_message)
            return response.text("ok")

        return webhook


# --- Twilio (WhatsApp and SMS) ------------------------------------------------------


class ClinicTwilioOutput(OutputChannel):
    @classmethod
    def name(cls) -> Text:
        return "twilio"

    def __init__(self, account_sid: Text, auth_token: Text, number: Text, api_url: Text) -> None:
        self.account_sid, self.auth_token, self.number = account_sid, auth_token, number
        self.url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        auth = aiohttp.BasicAuth(self.account_sid, self.auth_token)
        data = {"From": self.number, "To": recipient_id, "Body": text}
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(auth=auth, timeout=timeout) as session:
            async with session.post(self.url, data=data) as reply:
                if reply.status >= 400:
                    logger.error("Twilio refused a message (%s): %s", reply.status, await reply.text())

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, numbered_options(text, buttons))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        return None  # the answer contract is for the server's own analytics


class ClinicTwilioInput(_MessagingInput):
    required_env = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "TWILIO_WEBHOOK_URL"]

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    def __init__(self) -> None:
        self.account_sid = os.environ.get("TWILIO_ACCOUNT_SID", "")
        self.auth_token = os.environ.get("TWILIO_AUTH_TOKEN", "")
        self.number = os.environ.get("TWILIO_NUMBER", "")
        self.webhook_url = os.environ.get("TWILIO_WEBHOOK_URL", "")
        self.api_url = os.environ.get("TWILIO_API_URL", "https://api.twilio.com")
        self.validator = RequestValidator(self.auth_token)

    def get_output_channel(self) -> ClinicTwilioOutput:
        return ClinicTwilioOutput(self.account_sid, self.auth_token, self.number, self.api_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> Any:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> Any:
            params = {key: values[0] for key, values in request.form.items()}
            signature = request.headers.get("X-Twilio-Signature", "")
            if not signature or not self.validator.validate(self.webhook_url, params, signature):
                return response.json({"error": "invalid or missing Twilio signature"}, status=403)
            sender, text = params.get("From"), params.get("Body")
            if not sender or text is None:
                return response.json({"error": "From and Body are required"}, status=400)
            await pass_on(self.name(), sender, text, self.get_output_channel(), on_new_message)
            return response.text("", status=204)

        return webhook


# --- registering the Telegram webhook -------------------------------------------------


async def set_telegram_webhook(url: Text) -> None:
    channel = ClinicTelegramInput()
    if not channel.enabled:
        raise SystemExit(f"set {', '.join(channel.missing_env())} first")
    bot = channel.get_output_channel()
    try:
        await bot.request("setWebhook", {"url": url, "secret_token": channel.secret_token})
    finally:
        await bot.session.close()
    print(f"Telegram will post updates to {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Messaging platform set-up")
    commands = parser.add_subparsers(dest="command", required=True)
    hook = commands.add_parser("set-telegram-webhook", help="tell Telegram where to post updates")
    hook.add_argument("url", help="public https URL of /webhooks/telegram/webhook")
    args = parser.parse_args()
    if args.command == "set-telegram-webhook":
        asyncio.run(set_telegram_webhook(args.url))


if __name__ == "__main__":
    main()
