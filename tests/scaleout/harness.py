"""What the scale-out tests use: the running set-up's state, a REST client
that keeps conversation tokens and retries what may be retried, and readers
for PostgreSQL, Redis and nginx's access log."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Union

import aiohttp

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN_HEADER = "X-Conversation-Token"
REPLY_KINDS = {"answer", "clarify", "urgent", "out_of_scope", "fallback", "smalltalk"}
RETRYABLE = {502, 503, 504}

QUESTIONS = [
    "how long does redness last?",
    "how long does swelling last?",
    "is bruising normal after microneedling?",
    "is peeling normal?",
    "I have eczema, can I still have it?",
    "do I need sunscreen afterwards?",
    "how do I choose a good clinic?",
    "what is microneedling?",
    "how do I care for my skin after?",
    "is it safe for dark skin?",
]


def scaleout_dir() -> Path:
    return (ROOT / os.environ.get("SCALEOUT_DIR", "var/scaleout")).resolve()


def load_state() -> Dict[str, Any]:
    path = scaleout_dir() / "state.json"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: start the set-up with deploy/scale-out.sh start")
    state = json.loads(path.read_text())
    secrets = {}
    for line in Path(state["secrets_file"]).read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            secrets[key] = value
    state["secrets"] = secrets
    return state


def numbered(conversation: int, turn: int) -> str:
    """A distinct, numbered patient message."""
    return f"{QUESTIONS[(conversation + turn) % len(QUESTIONS)]} (conversation {conversation}, message {turn})"


# --- the client -------------------------------------------------------------------------


@dataclass
class Turn:
    text: str
    attempts: List[Union[int, str]] = field(default_factory=list)  # HTTP statuses or exception names
    retry_after_missing: int = 0  # 503s without Retry-After
    empty_200: int = 0
    ok: bool = False
    messages: Optional[List[Dict[str, Any]]] = None
    answered_at: Optional[float] = None  # time.monotonic() of the 200

    @property
    def failed_attempts(self) -> int:
        return sum(1 for a in self.attempts if a != 200)


@dataclass
class Conversation:
    sender: str
    token: Optional[str] = None
    turns: List[Turn] = field(default_factory=list)


def real_reply(messages: Any, sender: str) -> bool:
    """A real answer: text, a contract message of a known kind, all for this sender."""
    if not isinstance(messages, list) or not messages:
        return False
    if any(not isinstance(m, dict) or m.get("recipient_id") != sender for m in messages):
        return False
    kinds = [m["custom"].get("kind") for m in messages if isinstance(m.get("custom"), dict)]
    return len(kinds) == 1 and kinds[0] in REPLY_KINDS and any(m.get("text") for m in messages)


async def post_once(
    session: aiohttp.ClientSession, url: str, conversation: Conversation, text: str, turn: Turn
) -> Optional[float]:
    """One attempt; returns the seconds to wait before retrying, or None when done."""
    headers = {TOKEN_HEADER: conversation.token} if conversation.token else {}
    try:
        async with session.post(url, json={"sender": conversation.sender, "message": text}, headers=headers) as reply:
            body = await reply.read()
            turn.attempts.append(reply.status)
            if reply.status == 200:
                conversation.token = reply.headers.get(TOKEN_HEADER, conversation.token)
                messages = json.loads(body or b"null")
                if real_reply(messages, conversation.sender):
                    turn.ok, turn.messages, turn.answered_at = True, messages, time.monotonic()
                else:
                    turn.empty_200 += 1
                    turn.messages = messages
                return None
            if reply.status in RETRYABLE:
                retry_after = reply.headers.get("Retry-After")
                if reply.status == 503 and not retry_after:
                    turn.retry_after_missing += 1
                return min(float(retry_after or 1), 5.0)
            return None
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        turn.attempts.append(type(error).__name__)
        return 1.0


async def say(
    session: aiohttp.ClientSession,
    url: str,
    conversation: Conversation,
    text: str,
    retry: bool = True,
    give_up_after: float = 120.0,
) -> Turn:
    turn = Turn(text)
    conversation.turns.append(turn)
    started = time.monotonic()
    while True:
        wait = await post_once(session, url, conversation, text, turn)
        if wait is None or not retry or time.monotonic() - started > give_up_after:
            return turn
        await asyncio.sleep(wait)


def client_session(timeout: float = 120) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), connector=aiohttp.TCPConnector(limit=200)
    )


# --- what was stored ------------------------------------------------------------------------


def stored_user_texts(state: Dict[str, Any], senders: Sequence[str]) -> Dict[str, List[str]]:
    """Each conversation's patient messages in PostgreSQL, in the order stored."""
    import psycopg2

    pg = state["postgres"]
    connection = psycopg2.connect(
        host=pg["host"],
        port=pg["port"],
        dbname=pg["db"],
        user=pg["user"],
        password=state["secrets"]["SCALEOUT_PG_PASSWORD"],
        connect_timeout=10,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id = ANY(%s) ORDER BY id",
                (list(senders),),
            )
            texts: Dict[str, List[str]] = {sender: [] for sender in senders}
            for sender, data in cursor.fetchall():
                texts[sender].append(json.loads(data).get("text"))
            return texts
    finally:
        connection.close()


def collapse_repeats(texts: List[str]) -> List[str]:
    out: List[str] = []
    for text in texts:
        if not out or out[-1] != text:
            out.append(text)
    return out


@dataclass
class Check:
    lost: int = 0  # turns answered 200 but not stored
    reordered: int = 0  # conversations whose stored order differs from the order sent
    unexpected_duplicates: int = 0  # repeats of a turn that was never retried
    tolerated_duplicates: int = 0  # repeats of a turn in flight during a failure (retried)
    problems: List[str] = field(default_factory=list)


def check_stored(conversations: Sequence[Conversation], stored: Dict[str, List[str]]) -> Check:
    """Every answered turn stored, in the order sent; a turn may be stored
    twice only if it was retried after a failed attempt."""
    check = Check()
    for conversation in conversations:
        texts = stored[conversation.sender]
        answered = [t.text for t in conversation.turns if t.ok]
        retried = {t.text for t in conversation.turns if t.failed_attempts}
        missing = [t for t in answered if t not in texts]
        check.lost += len(missing)
        if missing:
            check.problems.append(f"{conversation.sender}: answered but not stored: {missing}")
        collapsed = collapse_repeats(texts)
        for text in set(texts):
            extra = texts.count(text) - 1
            if extra > 0:
                if text in retried and collapsed.count(text) == 1:
                    check.tolerated_duplicates += extra
                else:
                    check.unexpected_duplicates += extra
                    check.problems.append(f"{conversation.sender}: {text!r} stored {extra + 1} times")
        # the stored order must be the order sent (turns never sent are a bug too)
        sent = [t.text for t in conversation.turns]
        expected = [t for t in sent if t in collapsed]
        if collapsed != expected:
            check.reordered += 1
            check.problems.append(f"{conversation.sender}: stored {collapsed}, sent {sent}")
    return check


# --- Redis locks --------------------------------------------------------------------------------


def redis_client(state: Dict[str, Any]) -> Any:
    import redis

    r = state["redis"]
    return redis.StrictRedis(
        host=r["host"],
        port=r["port"],
        db=r["db"],
        password=state["secrets"]["SCALEOUT_REDIS_PASSWORD"],
        socket_timeout=5,
    )


def plant_lock(state: Dict[str, Any], sender: str, seconds: float) -> str:
    """Store a lock for `sender` held by a ticket nobody will serve, the way
    Rasa's RedisLockStore stores it; return its key."""
    key = state["redis"]["key_prefix"] + sender
    lock = {"conversation_id": sender, "tickets": [{"number": 0, "expires": time.time() + seconds}]}
    redis_client(state).set(key, json.dumps(lock))
    return key


# --- nginx's access log ------------------------------------------------------------------------

_LOG = re.compile(
    r'^(\S+) \S+ "POST /webhooks/rest/webhook [^"]*" (\d+) \S+ conversation=(\S*) '
    r"upstream=(.*?) upstream_status=(.*)$"
)


@dataclass
class Routed:
    status: int
    upstreams: List[str]  # every process nginx tried, in order
    upstream_statuses: List[str]


def routing(state: Dict[str, Any], senders: Set[str], from_offset: int = 0) -> Dict[str, List[Routed]]:
    """Which Rasa process served each request of these conversations."""
    by_sender: Dict[str, List[Routed]] = defaultdict(list)
    with open(state["nginx_access_log"], "rb") as log:
        log.seek(from_offset)
        for raw in log:
            match = _LOG.match(raw.decode("utf-8", "replace").rstrip("\n"))
            if match and match.group(3) in senders:
                upstreams = [u.strip() for u in re.split(r"[,:]\s+", match.group(4)) if u.strip() and u.strip() != "-"]
                statuses = [s.strip() for s in re.split(r"[,:]\s+", match.group(5)) if s.strip()]
                by_sender[match.group(3)].append(Routed(int(match.group(2)), upstreams, statuses))
    return by_sender


def access_log_size(state: Dict[str, Any]) -> int:
    try:
        return os.path.getsize(state["nginx_access_log"])
    except OSError:
        return 0


def process_address(process: Dict[str, Any]) -> str:
    return f"127.0.0.1:{process['port']}"


def kill_9(process: Dict[str, Any]) -> int:
    """kill -9 a Rasa process that deploy/scale-out.sh started (checked by its command line)."""
    pid = int(Path(process["pid_file"]).read_text().split()[0])
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    if "-m server" not in cmdline or f"--port {process['port']}" not in cmdline:
        raise RuntimeError(f"pid {pid} is not {process['name']}: {cmdline}")
    os.kill(pid, signal.SIGKILL)
    return pid


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


# --- figures for deploy/run-tests.sh's summary -----------------------------------------------


def record(name: str, figures: Dict[str, Any]) -> None:
    path = scaleout_dir() / "test-results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[name] = figures
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n[scale-out] {name}: {json.dumps(figures)}")
