"""Both servers, started as `make run` starts them; questions over REST."""

from __future__ import annotations

import json
import uuid
from typing import Dict, List

import jsonschema
import pytest

from actions import contract
from tests.servers import Bot, running_bot

DATA_DIR = __import__("pathlib").Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def bot():
    with running_bot("e2e") as running:
        yield running


def new_sender() -> str:
    return "e2e-" + uuid.uuid4().hex[:10]


def custom_of(messages: List[Dict]) -> Dict:
    customs = [m["custom"] for m in messages if "custom" in m]
    assert len(customs) == 1, f"exactly one custom message per turn, got {messages}"
    jsonschema.validate(customs[0], contract.SCHEMA)
    return customs[0]


def text_of(messages: List[Dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


TABLE = [
    # question, kind, main topic, words the text must contain
    ("how long does redness last?", "answer", "redness", ["a few hours to a couple of days", "Source"]),
    ("can microneedling go wrong?", "answer", "can_it_go_wrong", ["Source"]),
    ("what are the side effects", "answer", "side_effects_overview", ["Source"]),
    ("is it safe for dark skin?", "answer", "hyperpigmentation", ["darker skin"]),
    ("I have eczema, can I still do it?", "answer", "contraindications", ["eczema"]),
    ("how do I care for my skin after?", "answer", "aftercare", ["Source"]),
    ("when should I see a doctor", "answer", "when_to_seek_help", ["medical attention"]),
    ("my face is so puffy", "answer", "swelling", ["Source"]),
    ("is peeling normal?", "answer", "dryness", ["Source"]),
    ("my throat feels tight", "urgent", "when_to_seek_help", ["999"]),
    ("there's pus on my cheek", "urgent", "when_to_seek_help", ["medical attention"]),
    ("day 1 and my face is a bit red", "answer", "redness", ["Source"]),
    ("how long does swelling last after a vampire facial?", "answer", "swelling", ["not RF microneedling", "Source"]),
    ("is RF microneedling better than regular microneedling?", "out_of_scope", None, ["don't have information"]),
    ("how much does microneedling cost?", "out_of_scope", None, ["don't have information"]),
    ("what dose of ibuprofen for a headache", "out_of_scope", None, ["don't have information"]),
    # NLU sets redness aside (entity role "excluded"), the action asks about the rest
    ("besides redness, what other side effects are there?", "answer", "side_effects_overview", ["Source"]),
    ("hello", "smalltalk", None, ["microneedling"]),
    ("are you a bot?", "smalltalk", None, ["chatbot"]),
]


@pytest.mark.parametrize("question,kind,topic,words", TABLE)
def test_rest_answers(bot: Bot, question, kind, topic, words) -> None:
    messages = bot.say(new_sender(), question)
    custom = custom_of(messages)
    assert custom["kind"] == kind, (question, custom)
    if topic:
        assert custom["topics"][0] == topic
    for word in words:
        assert word in text_of(messages)


def test_conversation_follow_ups_over_rest(bot: Bot) -> None:
    sender = new_sender()
    assert custom_of(bot.say(sender, "how long does swelling last?"))["topics"][0] == "swelling"
    assert custom_of(bot.say(sender, "and bruising?"))["topics"][0] == "bruising"
    last = bot.say(sender, "what should I do about it?")
    assert custom_of(last)["topics"][0] == "bruising"


def test_buttons_work_as_messages(bot: Bot) -> None:
    sender = new_sender()
    messages = bot.say(sender, "what are the side effects?")
    buttons = [b for m in messages for b in m.get("buttons", [])]
    assert buttons
    follow = bot.say(sender, buttons[0]["payload"])
    assert custom_of(follow)["kind"] == "answer"


def test_disclaimer_once(bot: Bot) -> None:
    sender = new_sender()
    assert "not medical advice" in text_of(bot.say(sender, "what is microneedling?"))
    assert "not medical advice" not in text_of(bot.say(sender, "does it hurt?"))


def test_dev_real_questions_over_rest(bot: Bot) -> None:
    """The issue's bar, measured as ../shared/eval/grade.py does: >= 90% right, <= 5% wrong."""
    from scripts.evaluate import judge

    rows = [json.loads(line) for line in (DATA_DIR / "dev_real_questions.jsonl").read_text().splitlines() if line]
    verdicts = []
    for row in rows:
        custom = custom_of(bot.say(new_sender(), row["question"]))
        verdicts.append(judge(row, custom["kind"], custom["topics"]))
    right = verdicts.count("right") / len(rows)
    wrong = verdicts.count("wrong") / len(rows)
    assert right >= 0.90 and wrong <= 0.05, f"right {right:.3f}, wrong {wrong:.3f}"
