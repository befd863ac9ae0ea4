"""Protections shared by the channels: rate limits, client addresses, redaction.

Settings, all from the environment (documented in docs/reliability.md):
    RATE_LIMIT_PER_SENDER   messages per minute per conversation (default 30)
    RATE_LIMIT_PER_CLIENT   messages per minute per client address (default 120)
    RATE_LIMIT_EXEMPT       client addresses never limited, comma-separated
                            (default "127.0.0.1,::1": a benchmark or an
                            evaluation run from the same machine)
    TRUSTED_PROXIES         addresses of reverse proxies whose X-Forwarded-For
                            names the real client (default none; nginx on
                            loopback in the scale-out set-up)
    REDACT_PERSONAL_DATA    "true" (default) or "false": emails and phone
                            numbers are masked in logs and stored conversations
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import defaultdict, deque
from typing import Any, Deque, Dict, FrozenSet, Optional

# What every channel answers when it turns a message away before the bot sees it.
MAX_MESSAGE_CHARS = 2000
EMPTY_MESSAGE_TEXT = "I didn't catch a question there. What would you like to know about microneedling?"
TOO_LONG_TEXT = "Sorry, that message is too long for me. Could you ask in a shorter way?"
TOO_MANY_TEXT = "You're sending messages faster than I can answer. Please wait a minute and try again."

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 9+ digits, allowing spaces, dots, dashes and brackets between them, an
# optional leading +: phone numbers, not doses ("200 mg") or dates.
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[\s().-]*\d){8,}(?!\w)")


def _env_list(name: str, default: str) -> FrozenSet[str]:
    return frozenset(part.strip() for part in os.environ.get(name, default).split(",") if part.strip())


def redaction_enabled() -> bool:
    return os.environ.get("REDACT_PERSONAL_DATA", "true").lower() not in ("0", "false", "no")


def redact(text: str) -> str:
    """Mask email addresses and phone numbers."""
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that masks personal data in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            record.args = (
                tuple(redact(a) if isinstance(a, str) else a for a in record.args)
                if isinstance(record.args, tuple)
                else record.args
            )
        return True


def install_log_redaction() -> None:
    if not redaction_enabled():
        return
    redacting = RedactingFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(redacting)


class RateLimiter:
    """Sliding one-minute windows per sender and per client address."""

    def __init__(self) -> None:
        self.per_sender = int(os.environ.get("RATE_LIMIT_PER_SENDER", "30"))
        self.per_client = int(os.environ.get("RATE_LIMIT_PER_CLIENT", "120"))
        self.exempt = _env_list("RATE_LIMIT_EXEMPT", "127.0.0.1,::1")
        self.trusted_proxies = _env_list("TRUSTED_PROXIES", "")
        self._hits: Dict[str, Deque[float]] = defaultdict(deque)
        self._told: Dict[str, float] = {}

    def client_address(self, peer: Optional[str], forwarded_for: Optional[str]) -> str:
        """The client's address; X-Forwarded-For counts only from a trusted proxy."""
        peer = peer or "unknown"
        if peer in self.trusted_proxies and forwarded_for:
            return forwarded_for.split(",")[-1].strip() or peer
        return peer

    def _allow(self, key: str, limit: int, now: float) -> bool:
        window = self._hits[key]
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True

    def _now(self) -> float:
        now = time.monotonic()
        if len(self._hits) > 100_000:  # forget idle keys; bounded memory
            self._hits = defaultdict(deque, {k: v for k, v in self._hits.items() if v and v[-1] > now - 60})
            self._told = {k: t for k, t in self._told.items() if t > now - 60}
        return now

    def allow(self, client: str, sender: str) -> bool:
        if client in self.exempt:
            return True
        now = self._now()
        return self._allow("client:" + client, self.per_client, now) and self._allow(
            "sender:" + sender, self.per_sender, now
        )

    def allow_sender(self, sender: str) -> bool:
        """The per-conversation limit alone: for messaging platforms, whose
        requests all come from the platform's servers, not the patient's."""
        # its own key space: a web client naming itself "twilio:..." must not
        # use up a patient's allowance
        return self._allow("platform:" + sender, self.per_sender, self._now())

    def first_refusal(self, sender: str) -> bool:
        """True once a minute per sender: a messaging platform bills every
        reply, so a flood is told to slow down once, not once per message."""
        now = self._now()
        if self._told.get(sender, -60.0) > now - 60:
            return False
        self._told[sender] = now
        return True


_shared_limiter: Optional[RateLimiter] = None


def shared_rate_limiter() -> RateLimiter:
    """The process's one limiter, so REST and socket.io count a client's messages together.

    Created on first use (not at import) so that it reads the settings of the
    running server.
    """
    global _shared_limiter
    if _shared_limiter is None:
        _shared_limiter = RateLimiter()
    return _shared_limiter
