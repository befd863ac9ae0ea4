"""Telegram and Twilio (WhatsApp, SMS) webhooks, end to end.

Real-shaped webhook payloads (as in the platforms' documentation) are posted
to the running Rasa server; the bot's replies to the platform are caught by a
local fake of the platform's API (tests/fake_platforms.py).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Dict, Optional, Tuple

import pytest
from twilio.request_validator import RequestValidator

from server.guards import TOO_LONG_TEXT, TOO_MANY_TEXT
from tests.fake_platforms import FakePlatforms
from tests.servers import running_bot

TELEGRAM_TOKEN = "123456789:AAE_fake_token_for_tests_0123456789"
TELEGRAM_SECRET = "test-secret-token-1"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-for-tests"
WHATSAPP_NUMBER = "whatsapp:+14155238886"
PER_SENDER_LIMIT = 4


@pytest.fixture(scope="module")
def platforms():
    fake = FakePlatforms().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def bot(platforms):
    env = {
        "TELEGRAM_ACCESS_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": platforms.url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_NUMBER": WHATSAPP_NUMBER,
        "TWILIO_API_URL": platforms.url,
        # low enough to test the limit; no other test sends more to one chat
        "RATE_LIMIT_PER_SENDER": str(PER_SENDER_LIMIT),
    }
    # the signed URL is the one Twilio calls: the server's own, here
    with running_bot("channels", env=env, twilio_webhook_path="/webhooks/twilio/webhook") as running:
        yield running


def post(url: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, str]:
    request = urllib.request.Request(url, body, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


# --- Telegram ---------------------------------------------------------------------


def telegram_update(chat_id: int, text: str, update_id: int) -> Dict:
    """A message update as in https://core.telegram.org/bots/api#update."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"},
            "chat": {"id": chat_id, "first_name": "Sam", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def telegram(bot, payload: Dict, secret: Optional[str] = TELEGRAM_SECRET) -> Tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return post(f"{bot.rasa_url}/webhooks/telegram/webhook", json.dumps(payload).encode(), headers)


def sent_to_chat(platforms, chat_id: int, after: int):
    return platforms.wait_for(
        lambda r: r["platform"] == "telegram"
        and r["method"] == "sendMessage"
        and str(r["data"].get("chat_id")) == str(chat_id)
        and r is not None
        and platforms.requests.index(r) >= after
    )


def answer_to_option(bot, question: str, number: int) -> str:
    """What the bot answers to option `number` of `question`, asked over REST:
    the payload of that button, sent in a conversation that already had its
    disclaimer."""
    sender = f"reference-{time.time()}"
    buttons = [b for m in bot.say(sender, question) for b in m.get("buttons", [])]
    messages = bot.say(sender, buttons[number - 1]["payload"])
    return "\n\n".join(m["text"] for m in messages if "text" in m)


def test_telegram_message_gets_an_answer_with_buttons(bot, platforms) -> None:
    before = len(platforms.requests)
    status, _ = telegram(bot, telegram_update(5001, "how long does redness last?", 1))
    assert status == 200
    sent = sent_to_chat(platforms, 5001, before)
    assert "a few hours to a couple of days" in sent["data"]["text"]
    keyboard = json.loads(sent["data"]["reply_markup"])["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == [str(i) for i in range(1, len(keyboard) + 1)]


def test_telegram_button_press_answers_that_option(bot, platforms) -> None:
    before = len(platforms.requests)
    telegram(bot, telegram_update(5002, "what are the side effects?", 2))
    first = sent_to_chat(platforms, 5002, before)
    second_title = json.loads(first["data"]["reply_markup"])["inline_keyboard"][1][0]["text"]
    before = len(platforms.requests)
    press = {  # https://core.telegram.org/bots/api#callbackquery
        "update_id": 3,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": 5002, "is_bot": False, "first_name": "Sam"},
            "message": {
                "message_id": 2,
                "date": int(time.time()),
                "chat": {"id": 5002, "type": "private"},
                "text": first["data"]["text"],
            },
            "chat_instance": "-1234",
            "data": "2",
        },
    }
    assert telegram(bot, press)[0] == 200
    reply = sent_to_chat(platforms, 5002, before)
    assert platforms.wait_for(lambda r: r.get("method") == "answerCallbackQuery")
    assert second_title
    assert reply["data"]["text"] == answer_to_option(bot, "what are the side effects?", 2)


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
def test_telegram_rejects_unverified_webhooks(bot, platforms, secret) -> None:
    before = len(platforms.requests)
    status, _ = telegram(bot, telegram_update(5003, "how long does redness last?", 4), secret=secret)
    assert status == 403
    time.sleep(1.0)
    assert not [r for r in platforms.requests[before:] if str(r["data"].get("chat_id")) == "5003"]


# --- Twilio (WhatsApp / SMS) ---------------------------------------------------------


def twilio_form(sender: str, text: str) -> Dict[str, str]:
    """Fields Twilio posts for an incoming WhatsApp message."""
    return {
        "SmsMessageSid": "SM" + "1" * 32,
        "NumMedia": "0",
        "ProfileName": "Sam",
        "SmsSid": "SM" + "1" * 32,
        "WaId": sender.split("+")[-1],
        "SmsStatus": "received",
        "Body": text,
        "To": WHATSAPP_NUMBER,
        "NumSegments": "1",
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def twilio(bot, form: Dict[str, str], sign: bool = True, signature: Optional[str] = None) -> Tuple[int, str]:
    url = f"{bot.rasa_url}/webhooks/twilio/webhook"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = signature or RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    return post(url, urllib.parse.urlencode(form).encode(), headers)


def sent_to(platforms, number: str, after: int):
    return platforms.wait_for(
        lambda r: r["platform"] == "twilio" and r["data"].get("To") == number and platforms.requests.index(r) >= after
    )


def test_whatsapp_message_gets_numbered_options_and_a_number_picks_one(bot, platforms) -> None:
    patient = "whatsapp:+447700900123"
    before = len(platforms.requests)
    assert twilio(bot, twilio_form(patient, "what are the side effects?"))[0] == 204
    sent = sent_to(platforms, patient, before)
    assert sent["data"]["From"] == WHATSAPP_NUMBER
    assert sent["authorization"].startswith("Basic ")
    body = sent["data"]["Body"]
    assert "Reply with a number:" in body
    option_two = [line for line in body.splitlines() if line.startswith("2. ")][0][3:]

    before = len(platforms.requests)
    assert twilio(bot, twilio_form(patient, "2"))[0] == 204
    answer = sent_to(platforms, patient, before)["data"]["Body"]
    assert option_two
    reference = answer_to_option(bot, "what are the side effects?", 2)
    assert answer.split("\n\nReply with a number:")[0] == reference.split("\n\nReply with a number:")[0]


@pytest.mark.parametrize("sign,signature", [(False, None), (True, "bm90IGEgcmVhbCBzaWduYXR1cmU=")])
def test_twilio_rejects_unsigned_or_badly_signed_requests(bot, platforms, sign, signature) -> None:
    patient = "+447700900456"
    before = len(platforms.requests)
    status, _ = twilio(bot, twilio_form(patient, "how long does redness last?"), sign=sign, signature=signature)
    assert status == 403
    time.sleep(1.0)
    assert not [r for r in platforms.requests[before:] if r["data"].get("To") == patient]


def test_telegram_flood_is_told_to_wait_once_then_not_answered(bot, platforms) -> None:
    chat_id = 5004
    before = len(platforms.requests)
    for update_id in range(PER_SENDER_LIMIT + 3):
        assert telegram(bot, telegram_update(chat_id, "hi", 100 + update_id))[0] == 200
    assert telegram(bot, telegram_update(5005, "hi", 200))[0] == 200  # another patient is not held up
    sent_to_chat(platforms, 5005, before)
    replies = [
        r["data"]["text"]
        for r in platforms.requests[before:]
        if r["platform"] == "telegram" and str(r["data"].get("chat_id")) == str(chat_id)
    ]
    assert replies.count(TOO_MANY_TEXT) == 1
    assert replies[-1] == TOO_MANY_TEXT  # nothing answered after it
    assert len(replies) > PER_SENDER_LIMIT  # the messages within the limit were answered


def test_twilio_flood_and_overlong_messages_are_refused_politely(bot, platforms) -> None:
    patient = "whatsapp:+447700900789"
    before = len(platforms.requests)
    assert twilio(bot, twilio_form(patient, "x" * 3000))[0] == 204
    assert sent_to(platforms, patient, before)["data"]["Body"] == TOO_LONG_TEXT
    for _ in range(PER_SENDER_LIMIT + 2):
        assert twilio(bot, twilio_form(patient, "hello"))[0] == 204
    time.sleep(1.0)
    bodies = [r["data"]["Body"] for r in platforms.requests[before:] if r["data"].get("To") == patient]
    assert bodies.count(TOO_MANY_TEXT) == 1
    assert bodies[-1] == TOO_MANY_TEXT


def test_web_clients_cannot_use_up_a_platform_patients_allowance(monkeypatch) -> None:
    from server.guards import RateLimiter

    monkeypatch.setenv("RATE_LIMIT_PER_SENDER", "2")
    monkeypatch.setenv("RATE_LIMIT_EXEMPT", "")
    limiter = RateLimiter()
    patient = "twilio:whatsapp:+447700900123"
    for _ in range(3):  # a REST client naming itself after the patient
        limiter.allow("203.0.113.9", patient)
    assert limiter.allow_sender(patient) and limiter.allow_sender(patient)
    assert not limiter.allow_sender(patient)


def test_channels_are_off_without_their_variables() -> None:
    with running_bot("channels-off") as plain:
        status, _ = post(f"{plain.rasa_url}/webhooks/telegram/webhook", b"{}", {"Content-Type": "application/json"})
        assert status == 404
        status, _ = post(f"{plain.rasa_url}/webhooks/twilio/webhook", b"", {})
        assert status == 404
