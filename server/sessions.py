"""Server-issued, signed conversation ids.

A conversation id is `<128 random bits>.<HMAC-SHA256 signature>`: no one can
guess another patient's id, and a client cannot choose one the server did not
issue. The secret comes from the SESSION_SECRET environment variable; without
it, one is generated once and kept in var/session_secret (every server process
of one installation must share it: set SESSION_SECRET when running several).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Optional, TypeGuard

SECRET_ENV = "SESSION_SECRET"
DEFAULT_SECRET_FILE = Path(__file__).resolve().parent.parent / "var" / "session_secret"


def load_secret(path: Path = DEFAULT_SECRET_FILE) -> bytes:
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env.encode()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32).encode()
    path.write_bytes(secret)
    path.chmod(0o600)
    return secret


class SessionSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _signature(self, value: str) -> str:
        return hmac.new(self._secret, value.encode(), hashlib.sha256).hexdigest()[:32]

    def new_id(self) -> str:
        value = secrets.token_hex(16)
        return f"{value}.{self._signature(value)}"

    def token_for(self, conversation_id: str) -> str:
        """A token proving the holder was issued `conversation_id` (REST)."""
        return self._signature("rest:" + conversation_id)

    def is_issued(self, conversation_id: Optional[str]) -> TypeGuard[str]:
        if not isinstance(conversation_id, str) or conversation_id.count(".") != 1:
            return False
        value, signature = conversation_id.split(".")
        return len(value) == 32 and hmac.compare_digest(signature, self._signature(value))

    def token_matches(self, conversation_id: str, token: Optional[str]) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token, self.token_for(conversation_id))
