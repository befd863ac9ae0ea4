"""Throughput of the scale-out set-up with 1 and 2 Rasa server processes behind nginx.

    .venv/bin/python deploy/throughput.py [--quick]

Starts its own instance of deploy/scale-out.sh (var/scaleout-bench, its own
ports), first with 1 Rasa process, then with 2, and at each setting sends
REST messages through nginx from 10 and from 50 concurrent clients. Each
client talks in conversations of 5 messages, then starts a new one (new
sender), keeping the conversation token as a real client does. Each level
runs twice after a warm-up; the figure is the median run. For reference it
also measures 1 process directly, without nginx. Writes
deploy/throughput.json; stops the instance at the end.

The load generator runs on the same 2-core machine as nginx, PostgreSQL,
Redis, the action server and the Rasa processes, and takes part of the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "deploy" / "throughput.json"
TOKEN_HEADER = "X-Conversation-Token"
MESSAGES_PER_CONVERSATION = 5
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

BENCH_ENV = {
    "SCALEOUT_DIR": "var/scaleout-bench",
    "SCALEOUT_NGINX_PORT": "5280",
    "SCALEOUT_RASA_BASE_PORT": "5210",
    "SCALEOUT_ACTION_PORT": "5157",
    "SCALEOUT_PG_PORT": "5441",
    "SCALEOUT_REDIS_PORT": "6391",
}


def scale_out(command: str, processes: int) -> None:
    env = {**os.environ, **BENCH_ENV, "SCALEOUT_RASA_PROCESSES": str(processes)}
    result = subprocess.run(
        [str(ROOT / "deploy" / "scale-out.sh"), command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        sys.exit(f"throughput: deploy/scale-out.sh {command} failed:\n{result.stdout}{result.stderr}")


def load_state() -> Dict[str, Any]:
    state = json.loads((ROOT / BENCH_ENV["SCALEOUT_DIR"] / "state.json").read_text())
    secrets = dict(line.split("=", 1) for line in Path(state["secrets_file"]).read_text().splitlines() if "=" in line)
    state["pg_password"] = secrets["SCALEOUT_PG_PASSWORD"]
    return state


class ConnectionSampler:
    """The most PostgreSQL connections the Rasa processes held at once (pg_stat_activity)."""

    def __init__(self, state: Dict[str, Any]) -> None:
        self.state, self.peak, self.peak_active = state, 0, 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def __enter__(self) -> "ConnectionSampler":
        import psycopg2

        pg = self.state["postgres"]
        self._connection = psycopg2.connect(
            host=pg["host"], port=pg["port"], dbname=pg["db"], user=pg["user"], password=self.state["pg_password"]
        )
        self._connection.autocommit = True
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with self._connection.cursor() as cursor:
            while not self._stop.is_set():
                cursor.execute(
                    "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
                    "WHERE usename = %s AND pid <> pg_backend_pid()",
                    (self.state["postgres"]["user"],),
                )
                total, active = cursor.fetchone()
                self.peak, self.peak_active = max(self.peak, total), max(self.peak_active, active)
                self._stop.wait(0.05)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._connection.close()


async def load(url: str, concurrency: int, messages: int) -> Dict[str, Any]:
    """`concurrency` clients send `messages` messages in all, as fast as answered."""
    latencies: List[float] = []
    errors: Dict[str, int] = {}
    fallbacks = 0
    remaining = messages

    async def client(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal remaining, fallbacks
        while remaining > 0:
            sender, token = f"bench-{uuid.uuid4().hex[:12]}", None
            for turn in range(MESSAGES_PER_CONVERSATION):
                if remaining <= 0:
                    return
                remaining -= 1
                headers = {TOKEN_HEADER: token} if token else {}
                body = {"sender": sender, "message": QUESTIONS[(index + turn) % len(QUESTIONS)]}
                started = time.perf_counter()
                try:
                    async with session.post(url, json=body, headers=headers) as reply:
                        data = await reply.read()
                        status = reply.status
                        token = reply.headers.get(TOKEN_HEADER, token)
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
                    continue
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
                    continue
                kinds = [m["custom"]["kind"] for m in json.loads(data) if "custom" in m]
                if not kinds:
                    errors["empty 200"] = errors.get("empty 200", 0) + 1
                elif kinds == ["fallback"]:
                    fallbacks += 1

    connector = aiohttp.TCPConnector(limit=concurrency + 10)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session, i) for i in range(concurrency)))
        wall = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else 0.0

    return {
        "messages": messages,
        "seconds": round(wall, 2),
        "messages_per_second": round(messages / wall, 1),
        "p50_ms": percentile(0.50),
        "p95_ms": percentile(0.95),
        "p99_ms": percentile(0.99),
        "errors": errors,
        "fallback_replies": fallbacks,
    }


def measure(
    state: Dict[str, Any], url: str, processes: int, via: str, levels: Dict[int, int], repeats: int
) -> List[Dict[str, Any]]:
    rows = []
    asyncio.run(load(url, 10, 100))  # warm-up: first calls of every code path, connections
    for concurrency, messages in levels.items():
        runs = []
        with ConnectionSampler(state) as sampler:
            for _ in range(repeats):
                runs.append(asyncio.run(load(url, concurrency, messages)))
                time.sleep(1)
        median = sorted(runs, key=lambda r: r["messages_per_second"])[len(runs) // 2]
        row = {
            "rasa_processes": processes,
            "via": via,
            "concurrency": concurrency,
            "messages_per_second": median["messages_per_second"],
            "p50_ms": median["p50_ms"],
            "p95_ms": median["p95_ms"],
            "errors": sum(sum(r["errors"].values()) for r in runs),
            "peak_postgres_connections": sampler.peak,
            "peak_active_postgres_connections": sampler.peak_active,
            "runs": runs,
        }
        print(
            f"throughput: {processes} process(es) via {via}, concurrency {concurrency}: "
            f"{row['messages_per_second']} messages/s (runs: {[r['messages_per_second'] for r in runs]}), "
            f"p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, errors {row['errors']}, "
            f"peak PostgreSQL connections {sampler.peak}",
            flush=True,
        )
        rows.append(row)
    return rows


def machine() -> Dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "git": git,
        "loadavg_start": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer messages, one run per level (not written)")
    args = parser.parse_args()
    levels = {10: 100, 50: 200} if args.quick else {10: 600, 50: 1200}
    repeats = 1 if args.quick else 3
    info = machine()
    rows: List[Dict[str, Any]] = []
    try:
        for processes in (1, 2):
            scale_out("start", processes)
            state = load_state()
            rows += measure(state, state["rest_url"], processes, "nginx", levels, repeats)
            if processes == 1:
                direct = f"http://127.0.0.1:{state['rasa'][0]['port']}/webhooks/rest/webhook"
                rows += measure(state, direct, 1, "direct (no nginx)", levels, repeats)
    finally:
        scale_out("stop", 2)
    info["loadavg_end"] = os.getloadavg()
    summary = {
        f"{r['rasa_processes']} process(es) via {r['via']}, concurrency {r['concurrency']}": r["messages_per_second"]
        for r in rows
    }
    by = {(r["rasa_processes"], r["via"], r["concurrency"]): r["messages_per_second"] for r in rows}
    speedup = {str(c): round(by[(2, "nginx", c)] / by[(1, "nginx", c)], 2) for c in levels}
    result = {
        "what": "REST messages per second through nginx with 1 and 2 Rasa server processes (deploy/README.md); "
        "each client sends conversations of 5 messages, then starts a new conversation; "
        "median of the runs at each level",
        "command": ".venv/bin/python deploy/throughput.py",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "settings": {
            "SQL_POOL_SIZE": os.environ.get("SQL_POOL_SIZE", "2"),
            "SQL_MAX_OVERFLOW": os.environ.get("SQL_MAX_OVERFLOW", "3"),
            "messages_per_level": levels,
            "runs_per_level": repeats,
            "messages_per_conversation": MESSAGES_PER_CONVERSATION,
        },
        "summary_messages_per_second": summary,
        "speedup_2_vs_1_process": speedup,
        "results": rows,
    }
    print(f"throughput: 2 processes vs 1 through nginx: {speedup}")
    if args.quick:
        print("throughput: --quick: not written")
        return
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"throughput: wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
