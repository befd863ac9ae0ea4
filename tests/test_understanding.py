"""Understanding on phrasings that are not in the training data.

The trained model parses each question as the first message of a
conversation, and the action server's resolver and composer answer it; the
verdicts follow ../shared/eval/grade.py (see scripts/evaluate.py). Thresholds
fail the build when accuracy drops. The question files are evaluation data
only: test_training_data_is_independent keeps them out of data/.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Dict, List

import pytest
import yaml

from scripts.evaluate import InProcessBot, read_rows, score
from tests.conftest import DATA, MODEL, ROOT

# file -> (minimum share right, maximum share wrong)
THRESHOLDS = {
    "dev_real_questions.jsonl": (0.90, 0.05),
    "holdout_questions.jsonl": (0.90, 0.05),
    "fresh_questions.jsonl": (0.90, 0.05),
    "probe_questions.jsonl": (0.90, 0.05),
    "probe2_questions.jsonl": (0.90, 0.05),
    "probe3_questions.jsonl": (0.90, 0.05),
    "probe4_questions.jsonl": (0.90, 0.05),
    "probe5_questions.jsonl": (0.90, 0.05),
    "probe6_questions.jsonl": (0.90, 0.05),
    "probe7_questions.jsonl": (0.90, 0.05),
    "probe8_questions.jsonl": (0.90, 0.05),
    "probe9_questions.jsonl": (0.90, 0.05),
    "probe10_questions.jsonl": (0.90, 0.05),
    "probe11_questions.jsonl": (0.90, 0.05),
    "probe12_questions.jsonl": (0.90, 0.05),
    "probe13_questions.jsonl": (0.90, 0.05),
    "probe14_questions.jsonl": (0.90, 0.05),
    "probe15_questions.jsonl": (0.90, 0.05),
    "probe16_questions.jsonl": (0.90, 0.05),
    # real web questions with no context (headings, titles, odd phrasings),
    # the least fitted of the sets: a looser floor
    "probe17_questions.jsonl": (0.85, 0.10),
    "probe18_questions.jsonl": (0.90, 0.05),
    "probe19_questions.jsonl": (0.85, 0.10),
    "probe20_questions.jsonl": (0.85, 0.10),
    # messaging-style messages with their context first (texting abbreviations,
    # non-native phrasing), fixed only where a fix generalises: a looser floor
    "probe21_questions.jsonl": (0.85, 0.10),
    # real web questions that mostly make sense only on their page ("Who
    # should go for it?", "What are the pros and cons?") or ask what it treats
    # beyond the articles (vitiligo, menopause): arrived at 70.9% right, 23.3%
    # wrong, and are fixed only where a fix generalises
    "probe22_questions.jsonl": (0.75, 0.15),
    "probe23_questions.jsonl": (0.85, 0.10),
    # written to avoid every angle already taken: arrived at 77.0% right,
    # 19.0% wrong
    "probe24_questions.jsonl": (0.85, 0.12),
    # web-style (25) and messaging-style (26) questions on angles no earlier
    # set took (jobs, events, sports, fertility treatment, eyes, blisters):
    # arrived at 77.2% right / 17.8% wrong and 74.2% / 22.7% (their urgent
    # reports moved to the safety set); fixed only where a fix generalises
    "probe25_questions.jsonl": (0.78, 0.15),
    "probe26_questions.jsonl": (0.84, 0.14),
    # the dev set's styles and topic mix, after rounds 25-26: arrived at
    # 82.3% right / 12.5% wrong
    "probe27_questions.jsonl": (0.83, 0.11),
    # written blind against the code after rounds 25-27: arrived at 75.2%
    # right / 21.4% wrong, then its general causes fixed
    "probe28_questions.jsonl": (0.77, 0.20),
    # written blind against the code after round 28: arrived at 83.5% right /
    # 12.8% wrong
    "probe29_questions.jsonl": (0.82, 0.15),
    # written blind against the code after round 29 (30: clinic-page
    # headings, 31: clinic and health-site FAQ edges, 32: search-box and forum
    # lower case): arrived at 85% / 13%, 82% / 14% and 79% / 16%
    "probe30_questions.jsonl": (0.92, 0.07),
    "probe31_questions.jsonl": (0.85, 0.10),
    "probe32_questions.jsonl": (0.88, 0.09),
    # written blind against the code after round 30 (33: clinic-page headings
    # over all topics, 34: patients' chat messages, 35: "people also ask" and
    # forum titles on risks): arrived at 84% / 13%, 84% / 9% and 84% / 11%
    "probe33_questions.jsonl": (0.86, 0.10),
    "probe34_questions.jsonl": (0.86, 0.08),
    "probe35_questions.jsonl": (0.85, 0.10),
    # written blind against the code after round 31 (36: clinic blog headings,
    # 37: "people also ask" per side effect, 38: suitability and aftercare FAQ):
    # arrived at 81% / 8%, 83% / 10% and 85% / 7%
    "probe36_questions.jsonl": (0.84, 0.06),
    "probe37_questions.jsonl": (0.84, 0.10),
    "probe38_questions.jsonl": (0.87, 0.07),
    # written blind against the code after round 32 (39: web FAQ headings as
    # the dev set was built, 40: short chat-bubble messages, 41: side effects
    # with a time, a place or a lay description): arrived at 91% / 9%, 83% / 7%
    # and 73% / 17%
    "probe39_questions.jsonl": (0.91, 0.08),
    "probe40_questions.jsonl": (0.86, 0.05),
    "probe41_questions.jsonl": (0.80, 0.11),
}


@pytest.fixture(scope="module")
def results() -> Dict[str, Dict]:
    bot = InProcessBot(MODEL)
    out = {}
    for name in [*THRESHOLDS, "safety_questions.jsonl"]:
        rows = read_rows(DATA / name)
        answers = [asyncio.run(bot.answer(r["question"])) for r in rows]
        out[name] = {"rows": rows, "answers": answers, **score(rows, answers)}
    (ROOT / "tests" / "artifacts").mkdir(exist_ok=True)
    (ROOT / "tests" / "artifacts" / "understanding.json").write_text(
        json.dumps(
            {k: {kk: vv for kk, vv in v.items() if kk not in ("rows", "answers")} for k, v in out.items()}, indent=2
        )
    )
    return out


def misses(result: Dict) -> str:
    return "\n".join(
        f"{m['verdict']}: {m['question']!r} -> {m['kind']} {m['topics']} (accept {m['accept']})"
        for m in result["misses"]
    )


@pytest.mark.parametrize("name", THRESHOLDS)
def test_real_and_held_out_questions(results, name) -> None:
    minimum_right, maximum_wrong = THRESHOLDS[name]
    r = results[name]
    assert r["right"] >= minimum_right and r["wrong"] <= maximum_wrong, (
        f"{name}: right {r['right']:.3f} (min {minimum_right}), wrong {r['wrong']:.3f} (max {maximum_wrong})\n"
        + misses(r)
    )


def test_every_red_flag_is_urgent(results) -> None:
    r = results["safety_questions.jsonl"]
    missed = [
        row["question"]
        for row, got in zip(r["rows"], r["answers"], strict=False)
        if row["expect"] == "urgent" and got["custom"]["kind"] != "urgent"
    ]
    assert not missed, "red flags not escalated:\n" + "\n".join(missed)


def test_no_false_alarms(results) -> None:
    r = results["safety_questions.jsonl"]
    alarms = [
        row["question"]
        for row, got in zip(r["rows"], r["answers"], strict=False)
        if row["expect"] != "urgent" and got["custom"]["kind"] == "urgent"
    ]
    assert not alarms, "expected effects escalated:\n" + "\n".join(alarms)


def test_safety_rows_overall(results) -> None:
    r = results["safety_questions.jsonl"]
    assert r["right"] >= 0.95, misses(r)


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", text.lower()).strip()


def test_training_data_is_independent() -> None:
    """No evaluation question may be copied into the training data."""
    training: List[str] = []
    for path in (ROOT / "data").rglob("*.yml"):
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
            examples = block.get("examples") or ""
            training += [_normalise(line[2:]) for line in examples.splitlines() if line.startswith("- ")]
    questions = {_normalise(row["question"]) for f in DATA.glob("*.jsonl") for row in read_rows(f)}
    copied = sorted(questions.intersection(training))
    assert not copied, f"evaluation questions found in data/ (scripts/drop_eval_overlap.py removes them): {copied}"
