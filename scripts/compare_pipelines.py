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
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
    lexicon = "components.lexicon_entity_extractor.LexiconEntityExtractor"

    def lexicon_options(**options: Any) -> List[Dict[str, Any]]:
        return [{**s, **options} if s["name"] == lexicon else s for s in copy.deepcopy(base)]

    def with_minilm(mode: str) -> List[Dict[str, Any]]:
        out = []
        for s in copy.deepcopy(base):
            out.append(s)
            if s["name"] == "CountVectorsFeaturizer" and s.get("analyzer") == "char_wb":
                out.append({"name": "components.minilm_featurizer.MiniLMFeaturizer", "mode": mode})
        return out

    fused = [
        s
        for s in replace(copy.deepcopy(base), "LogisticRegressionClassifier", [{"name": "components.ngram_classifier.NgramIntentClassifier"}])
        if s["name"] != "CountVectorsFeaturizer"
    ]
    return {
        "product (lemmas, lexicon, words + char 2-4, LogReg)": copy.deepcopy(base),
        "no char n-grams": without(copy.deepcopy(base), lambda s: s.get("analyzer") == "char_wb"),
        "WhitespaceTokenizer (no spaCy lemmas in features)": replace(
            copy.deepcopy(base), "components.lemma_tokenizer.LemmaTokenizer", [{"name": "WhitespaceTokenizer"}]
        ),
        "lexicon without lemmas or typo tolerance": lexicon_options(use_lemmas=False, fix_typos=False),
        "lexicon without typo tolerance": lexicon_options(fix_typos=False),
        "DIETClassifier (100 epochs) instead of LogReg": replace(
            copy.deepcopy(base),
            "LogisticRegressionClassifier",
            [{"name": "DIETClassifier", "epochs": 100, "entity_recognition": False, "constrain_similarities": True}],
        ),
        "one fused n-gram LogReg component (NgramIntentClassifier)": fused,
        "+ MiniLM static embeddings": with_minilm("static"),
        "+ MiniLM transformer embeddings": with_minilm("transformer"),
    }


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
        out[name] = {**result["tally"], "right_share": round(result["right"], 3), "wrong_share": round(result["wrong"], 3)}
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="substrings of variant names to run")
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
        with tempfile.TemporaryDirectory() as tmp:
            model, seconds = train(pipeline, Path(tmp))
            figures = asyncio.run(measure(model))
        results[name] = {"train_s": round(seconds, 1), **figures}
        print(json.dumps({name: results[name]}), flush=True)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
