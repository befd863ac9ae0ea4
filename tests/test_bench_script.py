"""The benchmark's pure helpers (scripts/bench_lib.py, scripts/bench.py):
percentiles and summaries, the baseline config, targets, and the markdown /
JSON / chart writers. No servers and no timing assertions: `make bench`
measures, this only checks the arithmetic and the reports."""

from __future__ import annotations

import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from scripts import bench_lib as lib

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------
# statistics


def test_percentile_interpolates_between_closest_ranks():
    values = list(range(1, 11))  # 1..10
    assert lib.percentile(values, 0) == 1
    assert lib.percentile(values, 100) == 10
    assert lib.percentile(values, 50) == pytest.approx(5.5)
    assert lib.percentile(values, 90) == pytest.approx(9.1)
    assert lib.percentile([7.0], 99) == 7.0
    assert lib.percentile([3, 1, 2], 50) == 2  # order of input does not matter


def test_percentile_matches_the_inclusive_quantiles_of_the_standard_library():
    rng = random.Random(11)
    for size in (2, 3, 17, 500):
        values = [rng.expovariate(1 / 8) for _ in range(size)]
        cuts = statistics.quantiles(values, n=100, method="inclusive")  # cuts[k-1] is the k-th percentile
        for q in (1, 50, 95, 99):
            assert lib.percentile(values, q) == pytest.approx(cuts[q - 1])


def test_percentile_refuses_nothing_and_out_of_range():
    with pytest.raises(ValueError):
        lib.percentile([], 50)
    with pytest.raises(ValueError):
        lib.percentile([1, 2], 101)


def test_summarize_orders_the_percentiles_and_handles_no_values():
    rng = random.Random(3)
    values = [rng.uniform(1, 100) for _ in range(1000)]
    s = lib.summarize(values)
    assert s["n"] == 1000
    assert s["min"] <= s["p50"] <= s["p95"] <= s["p99"] <= s["max"]
    assert s["mean"] == pytest.approx(statistics.fmean(values), abs=1e-3)
    assert lib.summarize([])["p50"] is None


def test_throughput_and_ratio():
    assert lib.throughput(1000, 4.0) == 250
    assert lib.throughput(0, 4.0) is None
    assert lib.throughput(10, 0) is None
    assert lib.ratio(10, 4) == 2.5
    assert lib.ratio(None, 4) is None
    assert lib.ratio(3, 0) is None


def test_long_conversation_compares_the_first_and_last_ten_turns():
    latencies = [2.0] * 10 + [5.0] * 380 + [3.0] * 9 + [100.0]
    s = lib.long_conversation_summary(latencies)
    assert s["turns"] == 400
    assert s["first_window"] == [1, 10] and s["last_window"] == [391, 400]
    assert s["first_median_ms"] == 2.0
    assert s["last_median_ms"] == 3.0  # a median: one slow turn does not move it
    assert s["ratio"] == pytest.approx(1.5)
    short = lib.long_conversation_summary([1.0] * 60)
    assert short["last_window"] == [51, 60] and short["ratio"] == 1.0


def test_shares_and_cross_validation_f1():
    shares = lib.shares({"right": 6, "wrong": 2, "declined": 1, "clarify": 1})
    assert shares["right"] == 0.6 and shares["silent"] == 0.0
    assert sum(shares.values()) == pytest.approx(1.0)
    report = {"ask_duration": {"f1-score": 0.9}, "macro avg": {"precision": 0.8, "f1-score": 0.812}}
    assert lib.cv_macro_f1(report) == 0.812


# --------------------------------------------------------------------------
# the baseline


def rasa_default_config() -> Path:
    spec = importlib.util.find_spec("rasa")
    assert spec and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0]) / "engine" / "recipes" / "config_files" / "default_config.yml"


def test_baseline_config_is_rasas_default_with_the_projects_assistant_id():
    source = rasa_default_config().read_text(encoding="utf-8")
    text = lib.baseline_config_text(source, "microneedling-side-effects-assistant", "en")
    config = yaml.safe_load(text)
    assert config["assistant_id"] == "microneedling-side-effects-assistant"
    assert config["language"] == "en"
    assert config["recipe"] == "default.v1"
    assert config["pipeline"] == [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer"},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": 100, "constrain_similarities": True},
        {"name": "EntitySynonymMapper"},
        {"name": "ResponseSelector", "epochs": 100, "constrain_similarities": True},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
    ]
    assert config["policies"] == [
        {"name": "MemoizationPolicy"},
        {"name": "RulePolicy"},
        {"name": "UnexpecTEDIntentPolicy", "max_history": 5, "epochs": 100},
        {"name": "TEDPolicy", "max_history": 5, "epochs": 100, "constrain_similarities": True},
    ]
    # verbatim otherwise: only the assistant_id line differs
    changed = [(a, b) for a, b in zip(source.splitlines(), text.splitlines(), strict=False) if a != b]
    assert len(source.splitlines()) == len(text.splitlines())
    assert changed == [("assistant_id: placeholder_default", "assistant_id: microneedling-side-effects-assistant")]


def test_baseline_config_needs_the_keys_it_replaces():
    with pytest.raises(ValueError):
        lib.baseline_config_text("language: en\npipeline: []\n", "x", "en")
    with pytest.raises(ValueError):
        lib.baseline_config_text("assistant_id: a\nassistant_id: b\nlanguage: en\n", "x", "en")


def test_inputs_hash_follows_content_not_listing_order(tmp_path):
    a, b = tmp_path / "a.yml", tmp_path / "sub" / "b.yml"
    b.parent.mkdir()
    a.write_text("one")
    b.write_text("two")
    first = lib.inputs_hash([a, b], tmp_path, ["config"])
    assert lib.inputs_hash([b, a], tmp_path, ["config"]) == first
    assert lib.inputs_hash([a, b], tmp_path, ["other config"]) != first
    b.write_text("two!")
    assert lib.inputs_hash([a, b], tmp_path, ["config"]) != first


# --------------------------------------------------------------------------
# figures, targets and the written reports


def fake_results(product_c10=250.0, baseline_c10=40.0, with_baseline=True):
    def system(p50, c10, right, rss, cold, ratio):
        return {
            "understanding": {
                name: {
                    "n": 100,
                    "tally": {"right": int(100 * right), "wrong": 100 - int(100 * right)},
                    "shares": lib.shares({"right": int(100 * right), "wrong": 100 - int(100 * right)}),
                }
                for name, _ in lib.QUESTION_SETS
            },
            "cv_intent_f1": 0.8,
            "latency": {
                "1": {
                    "n": 500,
                    "p50": p50,
                    "p95": 2 * p50,
                    "p99": 3 * p50,
                    "max": 9 * p50,
                    "throughput": 1000 / p50,
                    "errors": 0,
                    "unanswered": 0,
                },
                "10": {
                    "n": 1500,
                    "p50": 10 * p50,
                    "p95": 20 * p50,
                    "p99": 30 * p50,
                    "max": 40 * p50,
                    "throughput": c10,
                    "errors": 0,
                    "unanswered": 0,
                },
                "50": {
                    "n": 2500,
                    "p50": 50 * p50,
                    "p95": 60 * p50,
                    "p99": 70 * p50,
                    "max": 80 * p50,
                    "throughput": c10,
                    "errors": 0,
                    "unanswered": 0,
                },
            },
            "long_conversation": {
                "turns": 400,
                "first_window": [1, 10],
                "last_window": [391, 400],
                "first_median_ms": p50,
                "last_median_ms": p50 * ratio,
                "ratio": ratio,
                "latencies_ms": [p50] * 200 + [p50 * ratio] * 200,
            },
            "training": {"cold_s": cold, "nothing_changed_s": 0.1},
            "cold_start_s": cold / 3,
            "memory": {"rasa_mb": rss * 0.8, "actions_mb": rss * 0.2, "total_mb": rss},
        }

    systems = {"product": system(4.0, product_c10, 0.9, 500.0, 20.0, 1.1)}
    if with_baseline:
        systems["baseline"] = system(40.0, baseline_c10, 0.7, 1500.0, 300.0, 8.0)
    return {
        "schema": 1,
        "mode": "full",
        "machine": {
            "cpu_model": "Test CPU 9000",
            "cpu_count": 2,
            "cpus_usable": 2,
            "python": "3.10.13",
            "rasa": "3.6.21",
            "date": "2025-01-01T00:00:00+00:00",
            "git": "abc1234",
            "loadavg_start": "0.1 0.1 0.1",
            "loadavg_end": "0.2 0.2 0.2",
            "mem_total_mb": 4096,
            "platform": "Linux",
        },
        "settings": {
            "levels": [1, 10, 50],
            "messages": {"1": 500, "10": 1500, "50": 2500},
            "conversation_length": 10,
            "warmup": 3,
            "long_turns": 400,
            "cold_start_runs": 3,
        },
        "systems": systems,
        "scale_out": {
            "status": "not measured yet",
            "text": "Throughput with 2 Rasa server processes: " "**not measured yet**.",
        },
        "problems": [],
        "duration_s": 1234.5,
    }


def rows_by_label(results):
    return {r["label"]: r for r in lib.figure_rows(results)}


def test_targets_are_checked_against_the_figures_and_the_baseline():
    rows = rows_by_label(fake_results())
    p50 = rows["p50 at 1 concurrent conversation"]
    assert (p50["product"], p50["baseline"], p50["met"]) == (4.0, 40.0, True)
    assert p50["ratio"] == pytest.approx(0.1)
    assert rows["p99 at 1 concurrent conversation"]["met"] is True  # 12 ms <= 20 ms
    assert rows["p95 at 1 concurrent conversation"]["met"] is None  # no target
    c10 = rows["messages per second at 10 concurrent conversations"]
    assert c10["met"] is True and c10["ratio"] == pytest.approx(6.25)
    assert rows["turns 391-400 ÷ turns 1-10"]["met"] is True
    assert rows["training, cold (rasa train --force, empty cache)"]["met"] is True
    assert rows["resident memory, both servers"]["met"] is True
    right = rows["right answers, held-out questions (n=100)"]
    assert right["product"] == pytest.approx(90.0) and right["met"] is True
    assert rows["wrong answers, held-out questions (n=100)"]["met"] is True


def test_throughput_target_needs_five_times_the_baseline_too():
    rows = rows_by_label(fake_results(product_c10=250.0, baseline_c10=60.0))
    assert rows["messages per second at 10 concurrent conversations"]["met"] is False  # 4.2x
    rows = rows_by_label(fake_results(product_c10=150.0, baseline_c10=10.0))
    assert rows["messages per second at 10 concurrent conversations"]["met"] is False  # < 200/s


def test_without_a_baseline_ratios_and_relative_targets_are_unknown():
    rows = rows_by_label(fake_results(with_baseline=False))
    c10 = rows["messages per second at 10 concurrent conversations"]
    assert c10["ratio"] is None and c10["met"] is None
    assert rows["p50 at 1 concurrent conversation"]["met"] is True  # absolute target still checked
    assert "—" in lib.render_markdown(fake_results(with_baseline=False))


def test_markdown_shows_each_figure_baseline_ratio_target_and_machine():
    results = fake_results()
    results["problems"] = ["baseline: 3 replies without a contract message at 50 conversations"]
    md = lib.render_markdown(results)
    for r in lib.figure_rows(results):
        assert r["label"] in md
    assert "| Figure | Product | Baseline | Product ÷ baseline | Target | Met |" in md
    assert "| p50 at 1 concurrent conversation | 4.00 ms | 40.00 ms | 0.10× | ≤ 5 ms | yes |" in md
    assert "6.25×" in md and "≥ 200/s and ≥ 5× baseline" in md
    assert "Test CPU 9000" in md and "Python 3.10.13" in md and "2025-01-01" in md
    assert "make bench" in md and "scripts/bench.py --quick" in md
    assert "not measured yet" in md
    assert "Problems in this run" in md and "without a contract message" in md
    assert "![Benchmark chart](benchmarks.png)" in md


def test_markdown_marks_a_missed_target_and_a_quick_run():
    results = fake_results()
    results["mode"] = "quick"
    results["systems"]["product"]["memory"]["total_mb"] = 900.0
    md = lib.render_markdown(results)
    assert "| resident memory, both servers | 900 MB | 1,500 MB | 0.60× | ≤ 700 MB | **no** |" in md
    assert "--quick` run" in md


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # matplotlib 3.5 and newer pyparsing
def test_outputs_are_written_as_json_markdown_and_png(tmp_path):
    results = fake_results()
    written = lib.write_outputs(results, tmp_path)
    assert [p.name for p in written] == ["benchmarks.json", "benchmarks.md", "benchmarks.png"]
    assert json.loads((tmp_path / "benchmarks.json").read_text()) == results
    assert (tmp_path / "benchmarks.md").read_text() == lib.render_markdown(results)
    assert (tmp_path / "benchmarks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_formatting():
    assert lib.fmt_ratio(None) == "—"
    assert lib.fmt_ratio(12.4) == "12×"
    assert lib.fmt_ratio(0.5) == "0.50×"
    assert lib.fmt_ratio(0.0123) == "0.012×"
    assert lib.fmt_value(1234.5, 1) == "1,234.5"
    assert lib.fmt_met(False) == "**no**"
    assert lib.rolling_median([1, 3, 2, 10], 2) == [1, 2, 2.5, 6]


# --------------------------------------------------------------------------
# helpers of scripts/bench.py and the client (no servers)


def test_contract_message_is_the_reply_item_with_a_custom_key():
    from scripts.bench import contract_message
    from scripts.bench_client import answered

    reply = [
        {"recipient_id": "me", "text": "Redness..."},
        {"recipient_id": "me", "custom": {"kind": "answer", "topics": ["redness"]}},
    ]
    assert contract_message(reply) == {"kind": "answer", "topics": ["redness"]}
    assert contract_message([{"text": "hi"}]) == {} and contract_message(None) == {}
    assert answered(reply) and not answered([{"text": "hi"}]) and not answered([]) and not answered(None)


def test_understanding_is_scored_by_evaluate_from_contract_messages():
    from scripts.bench import contract_message
    from scripts.evaluate import score

    rows = [
        {"id": "a", "question": "q", "accept": ["redness"], "oos_ok": False},
        {"id": "b", "question": "q", "accept": ["redness"], "oos_ok": False},
        {"id": "c", "question": "q", "accept": ["redness"], "oos_ok": False},
    ]
    replies = [
        [{"custom": {"kind": "answer", "topics": ["redness"]}}],
        [{"custom": {"kind": "out_of_scope", "topics": []}}],
        [{"text": "no contract"}],
    ]
    scored = score(rows, [{"custom": contract_message(r), "parse": {}} for r in replies])
    assert scored["tally"] == {"right": 1, "declined": 1, "silent": 1}
    assert lib.shares(scored["tally"])["declined"] == pytest.approx(1 / 3)


def test_memory_is_read_from_proc_for_a_process_and_its_children():
    from scripts.bench import memory_mb, process_tree

    rss, peak = memory_mb(sys.modules["os"].getpid())
    assert 0 < rss <= peak
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in process_tree(sys.modules["os"].getpid())
    finally:
        child.kill()
        child.wait()


def test_processes_are_stopped_with_their_children(tmp_path):
    from scripts.bench import Processes, base_env, process_tree

    processes = Processes()
    code = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    )
    parent = processes.start([sys.executable, "-c", code], tmp_path / "p.log", base_env())
    try:
        deadline = time.monotonic() + 10
        while len(process_tree(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = process_tree(parent.pid)
        assert len(tree) == 2
    finally:
        processes.stop_all()
    assert parent.poll() is not None and processes.live == []

    def gone(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
        except OSError:
            return True

    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in tree)


def test_client_questions_are_the_holdout_questions_shuffled_reproducibly():
    from scripts.bench_client import read_questions

    path = ROOT / "tests" / "data" / "holdout_questions.jsonl"
    first, again = read_questions(path, 5), read_questions(path, 5)
    assert first == again and len(first) == len(path.read_text().splitlines())
    assert sorted(first) == sorted(json.loads(line)["question"] for line in path.read_text().splitlines())


def test_cached_baseline_figures_are_flagged_with_their_date():
    results = fake_results()
    results["systems"]["baseline"]["training"].update(
        cold_measured_at="2024-12-31T00:00:00+00:00", cold_machine="2 x Test CPU 9000"
    )
    results["systems"]["baseline"]["cv_measured_at"] = "2024-12-30T00:00:00+00:00"
    md = lib.render_markdown(results)
    assert "measured when its cached model was trained (2024-12-31T00:00:00+00:00, on 2 x Test CPU 9000)" in md
    assert "cross-validation F1 is cached from 2024-12-30" in md
    results["systems"]["baseline"]["training"]["cold_measured_at"] = "2025-01-01T00:00:01+00:00"  # this run
    del results["systems"]["baseline"]["cv_measured_at"]
    assert "cached" not in lib.cached_notes(results) and lib.cached_notes(results) == []


def test_scale_out_is_reported_from_what_deploy_measured(tmp_path):
    note = lib.scale_out_note(tmp_path)
    assert note["status"] == "not measured yet" and "**not measured yet**" in note["text"]
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "scale-out.sh").write_text("#!/bin/sh\n")
    assert lib.scale_out_note(tmp_path)["status"] == "not measured yet"  # set-up, but no figures
    (tmp_path / "deploy" / "throughput.json").write_text(
        json.dumps({"date": "2026-11-24", "summary_messages_per_second": {"1 process": 100.0, "2 processes": 170.0}})
    )
    note = lib.scale_out_note(tmp_path)
    assert note["files"] == ["deploy/throughput.json"]
    assert "| 2 processes | 170.0 |" in note["text"] and "not measured yet" not in note["text"]
