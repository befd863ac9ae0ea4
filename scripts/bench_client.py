"""The benchmark's load client, run by scripts/bench.py as its own process.

    python scripts/bench_client.py load --url URL --concurrency 10 --messages 1500 \
        --questions tests/data/holdout_questions.jsonl --out result.json
    python scripts/bench_client.py long --url URL --turns 400 --questions ... --out result.json
    python scripts/bench_client.py ask  --url URL --requests requests.json --out result.json

Sends messages to a Rasa REST webhook (`POST {"sender", "message"}`) over
keep-alive connections (aiohttp) and writes what it measured as JSON:
- load: `concurrency` workers; each runs conversations of
  `conversation_length` messages (a distinct sender each), questions from the
  file, until the workers have sent `messages` timed messages between them,
  after `warmup` untimed messages per worker. Writes every timed latency (ms),
  the wall time of the timed phase, errors and replies without a contract
  message.
- long: one sender, `turns` messages in sequence on one connection; the
  latency of each turn.
- ask: the given (sender, message) pairs, `concurrency` at a time; the reply
  to each.

When a reply carries an `X-Conversation-Token` header, the client sends it
back with that sender's next messages (the project's hardened REST channel
wants it; Rasa's plain one ignores it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import aiohttp

TOKEN_HEADER = "X-Conversation-Token"


class Client:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session
        self.tokens: Dict[str, str] = {}
        self.errors: List[str] = []

    async def send(self, sender: str, text: str) -> Tuple[float, Optional[List[Dict[str, Any]]]]:
        """(milliseconds, reply messages or None on error)."""
        headers = {}
        token = self.tokens.get(sender)
        if token:
            headers[TOKEN_HEADER] = token
        start = time.perf_counter()
        try:
            async with self.session.post(self.url, json={"sender": sender, "message": text}, headers=headers) as r:
                body = await r.read()
                status = r.status
                new_token = r.headers.get(TOKEN_HEADER)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            elapsed = (time.perf_counter() - start) * 1000
            self.errors.append(f"{type(error).__name__}: {error}"[:200])
            return elapsed, None
        elapsed = (time.perf_counter() - start) * 1000
        if new_token:
            self.tokens[sender] = new_token
        if status != 200:
            self.errors.append(f"HTTP {status}: {body[:200]!r}")
            return elapsed, None
        try:
            messages = json.loads(body or b"[]")
        except ValueError:
            self.errors.append(f"not JSON: {body[:200]!r}")
            return elapsed, None
        return elapsed, messages if isinstance(messages, list) else None


def answered(messages: Optional[List[Dict[str, Any]]]) -> bool:
    return bool(messages) and any(isinstance(m, dict) and "custom" in m for m in messages)


def read_questions(path: Path, seed: int) -> List[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [r["question"] for r in rows]
    random.Random(seed).shuffle(questions)
    return questions


def session_for(connections: int, timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, force_close=False, enable_cleanup_closed=True)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def run_load(args: argparse.Namespace) -> Dict[str, Any]:
    questions = read_questions(args.questions, args.seed)
    c = args.concurrency
    quotas = [args.messages // c + (1 if w < args.messages % c else 0) for w in range(c)]
    latencies: List[List[float]] = [[] for _ in range(c)]
    unanswered = 0
    async with session_for(c, args.timeout) as session:
        client = Client(args.url, session)

        async def warm(worker: int) -> None:
            for i in range(args.warmup):
                await client.send(f"{args.run_id}-c{c}-w{worker}-warmup", questions[(worker * 31 + i) % len(questions)])

        async def work(worker: int) -> None:
            nonlocal unanswered
            offset = worker * 97
            for i in range(quotas[worker]):
                conversation = i // args.conversation_length
                sender = f"{args.run_id}-c{c}-w{worker}-k{conversation}"
                ms, reply = await client.send(sender, questions[(offset + i) % len(questions)])
                latencies[worker].append(ms)
                if reply is not None and not answered(reply):
                    unanswered += 1

        await asyncio.gather(*(warm(w) for w in range(c)))
        warmup_errors = len(client.errors)
        start = time.perf_counter()
        await asyncio.gather(*(work(w) for w in range(c)))
        wall = time.perf_counter() - start
    flat = [ms for worker in latencies for ms in worker]
    return {
        "concurrency": c,
        "messages": len(flat),
        "wall_s": wall,
        "latencies_ms": flat,
        "errors": len(client.errors) - warmup_errors,
        "warmup_errors": warmup_errors,
        "error_examples": client.errors[:5],
        "unanswered": unanswered,
    }


async def run_long(args: argparse.Namespace) -> Dict[str, Any]:
    questions = read_questions(args.questions, args.seed)
    latencies: List[float] = []
    unanswered = 0
    async with session_for(1, args.timeout) as session:
        client = Client(args.url, session)
        sender = f"{args.run_id}-long"
        for turn in range(args.turns):
            ms, reply = await client.send(sender, questions[turn % len(questions)])
            latencies.append(ms)
            if reply is not None and not answered(reply):
                unanswered += 1
    return {
        "turns": len(latencies),
        "latencies_ms": latencies,
        "errors": len(client.errors),
        "error_examples": client.errors[:5],
        "unanswered": unanswered,
    }


async def run_ask(args: argparse.Namespace) -> Dict[str, Any]:
    requests = json.loads(args.requests.read_text(encoding="utf-8"))
    replies: List[Optional[List[Dict[str, Any]]]] = [None] * len(requests)
    latencies: List[float] = [0.0] * len(requests)
    semaphore = asyncio.Semaphore(args.concurrency)
    async with session_for(args.concurrency, args.timeout) as session:
        client = Client(args.url, session)

        async def one(i: int, request: Dict[str, str]) -> None:
            async with semaphore:
                latencies[i], replies[i] = await client.send(request["sender"], request["message"])

        await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    return {
        "replies": replies,
        "latencies_ms": latencies,
        "errors": len(client.errors),
        "error_examples": client.errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("load", "long", "ask"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--questions", type=Path)
    parser.add_argument("--requests", type=Path)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--conversation-length", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--turns", type=int, default=400)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--run-id", default="bench")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    args = parser.parse_args()
    runner = {"load": run_load, "long": run_long, "ask": run_ask}[args.mode]
    result = asyncio.run(runner(args))
    args.out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
