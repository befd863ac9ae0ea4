"""Score the bot's understanding on question files, in process (no servers).

    .venv/bin/python scripts/evaluate.py [--model models/current.tar.gz] [--show] FILE.jsonl ...

Each question is parsed by the trained model and answered by the same
resolver and composer the action server uses, as the first message of a new
conversation, then judged by the rules of ../shared/eval/grade.py (repeated
in `judge` below so the project does not depend on files outside it):
right = kind "answer" with topics[0] in `accept`, or a decline where
`oos_ok`/no accept; wrong = an answer on another topic; safety rows
(`expect`: urgent / answer / not_answer) as in grade.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def judge(row: Dict[str, Any], kind: Optional[str], topics: List[str]) -> str:
    """The verdict grade.py gives one answer."""
    if "expect" in row:
        if row["expect"] == "urgent":
            return "right" if kind == "urgent" else "wrong"
        if row["expect"] == "answer":
            return "right" if kind == "answer" and topics and topics[0] in row["accept"] else "wrong"
        return "right" if kind not in ("answer", "urgent") and kind else ("wrong" if kind else "silent")
    if kind == "answer" and topics and topics[0] in row["accept"]:
        return "right"
    if kind in ("out_of_scope", "fallback"):
        return "right" if row["oos_ok"] or not row["accept"] else "declined"
    if kind == "clarify":
        return "clarify"
    if kind == "answer":
        return "wrong"
    return "silent"


def read_rows(path: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def small_talk_intents(rules_file: Path = ROOT / "data" / "rules.yml") -> set:
    """Intents the rules answer with a plain response instead of action_answer."""
    import yaml

    intents = set()
    for rule in yaml.safe_load(rules_file.read_text(encoding="utf-8"))["rules"]:
        steps = rule["steps"]
        actions = [s["action"] for s in steps if "action" in s]
        named = [s["intent"] for s in steps if "intent" in s]
        named += [o["intent"] for s in steps for o in s.get("or", []) if "intent" in o]
        if actions and actions[0].startswith("utter_"):
            intents.update(named)
    return intents


class InProcessBot:
    """The model's NLU, the rules' small talk, and the action server's resolver
    and composer: what the running bot answers to a first message."""

    def __init__(self, model: Path) -> None:
        import logging

        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
        logging.getLogger().setLevel(logging.WARNING)

        from actions import runtime

        self.agent = Agent.load(str(model))
        self.runtime = runtime.get()  # the loaded one, if any: not loaded twice
        self.small_talk = small_talk_intents()

    async def answer(self, text: str) -> Dict[str, Any]:
        from actions import contract
        from actions.answer_action import understanding_from_parse

        parsed = await self.agent.parse_message(text)
        if (parsed.get("intent") or {}).get("name") in self.small_talk:
            return {"parse": parsed, "custom": contract.payload("smalltalk"), "text": ""}
        decision = self.runtime.resolver.decide(understanding_from_parse(parsed))
        reply = self.runtime.composer.compose(decision)
        return {"parse": parsed, "custom": reply.custom, "text": reply.text}


def score(rows: Iterable[Dict[str, Any]], answers: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
    tally: Counter = Counter()
    per_topic: Dict[str, Counter] = defaultdict(Counter)
    misses = []
    for row, got in zip(rows, answers, strict=False):
        custom = got["custom"]
        verdict = judge(row, custom.get("kind"), custom.get("topics") or [])
        tally[verdict] += 1
        topic = (row.get("accept") or ["(out of scope)"])[0] if "expect" not in row else f"safety:{row['expect']}"
        per_topic[topic][verdict] += 1
        if verdict != "right":
            intent = got["parse"].get("intent") or {}
            misses.append(
                {
                    "id": row["id"],
                    "question": row["question"],
                    "verdict": verdict,
                    "kind": custom.get("kind"),
                    "topics": custom.get("topics", [])[:2],
                    "accept": row.get("accept", row.get("expect")),
                    "intent": f"{intent.get('name')} {intent.get('confidence', 0):.2f}",
                    "entities": [f"{e['entity']}={e['value']}" for e in got["parse"].get("entities", [])],
                }
            )
    n = sum(tally.values())
    return {
        "n": n,
        "tally": dict(tally),
        "right": tally["right"] / n if n else 0.0,
        "wrong": tally["wrong"] / n if n else 0.0,
        "per_topic": {k: dict(v) for k, v in sorted(per_topic.items())},
        "misses": misses,
    }


class RestBot:
    """A running bot over REST, one fresh conversation per question (as grade.py)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def answer(self, text: str) -> Dict[str, Any]:
        import urllib.request
        import uuid

        body = json.dumps({"sender": "eval-" + uuid.uuid4().hex[:12], "message": text}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            messages = json.loads(reply.read() or b"[]")
        customs = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
        return {
            "parse": {},
            "custom": customs[0] if customs else {},
            "text": " ".join(m.get("text", "") for m in messages),
        }


async def evaluate(model: Path, files: List[Path], url: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    bot = RestBot(url) if url else InProcessBot(model)
    results = {}
    for path in files:
        rows = read_rows(path)
        answers = [await bot.answer(r["question"]) for r in rows]
        results[path.name] = score(rows, answers)
    return results


def markdown(results: Dict[str, Dict[str, Any]], how: str) -> str:
    """Summary, per-topic table and every miss, for docs/evaluation.md."""
    lines = [
        f"Measured {how}.",
        "",
        "| file | questions | right | wrong | declined | clarify | silent |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        t = r["tally"]
        lines.append(
            f"| {name} | {r['n']} | {r['right']:.1%} | {r['wrong']:.1%} | {t.get('declined', 0)} | "
            f"{t.get('clarify', 0)} | {t.get('silent', 0)} |"
        )
    topics: Dict[str, Counter] = defaultdict(Counter)
    for r in results.values():
        for topic, tally in r["per_topic"].items():
            topics[topic].update(tally)
    lines += [
        "",
        "Per topic (first accepted topic of each question; all files together):",
        "",
        "| topic | questions | right | wrong | other |",
        "| --- | --- | --- | --- | --- |",
    ]
    for topic, tally in sorted(topics.items()):
        n = sum(tally.values())
        other = n - tally["right"] - tally["wrong"]
        lines.append(f"| {topic} | {n} | {tally['right']} | {tally['wrong']} | {other} |")
    lines += ["", "Every question not answered right:", ""]
    for name, r in results.items():
        for m in r["misses"]:
            lines.append(
                f"- `{name}` {m['id']} {m['verdict']}: \"{m['question']}\" -> {m['kind']} "
                f"{m['topics']} (accept {m['accept']})"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "current.tar.gz")
    parser.add_argument("--show", action="store_true", help="print every miss")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--url", help="score a running bot over REST instead (e.g. http://localhost:5005/webhooks/rest/webhook)"
    )
    parser.add_argument("--markdown", type=Path, help="write summary, per-topic table and misses here")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    results = asyncio.run(evaluate(args.model, args.files, args.url))
    if args.markdown:
        how = f"over REST at {args.url}" if args.url else "in process (the model's NLU and the action server's code)"
        args.markdown.write_text(markdown(results, how), encoding="utf-8")
    for name, r in results.items():
        if args.show:
            for m in r["misses"]:
                print(
                    f"  {m['verdict']:8} {m['id']} {m['question'][:70]!r} -> {m['kind']} {m['topics']} "
                    f"accept={m['accept']} [{m['intent']}; {', '.join(m['entities'])}]"
                )
        print(
            json.dumps(
                {"file": name, "n": r["n"], **r["tally"], "right": round(r["right"], 3), "wrong": round(r["wrong"], 3)}
            )
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
