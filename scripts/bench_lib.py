"""Pure helpers of the benchmark (scripts/bench.py): statistics, the baseline
config, the targets, and the markdown / JSON / chart writers.

Nothing here starts a process or imports Rasa, so tests/test_bench_script.py
can check it quickly.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import statistics
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

LEVELS = (1, 10, 50)
SYSTEMS = ("product", "baseline")
VERDICTS = ("right", "wrong", "declined", "clarify", "silent")
QUESTION_SETS = (
    ("holdout_questions.jsonl", "held-out"),
    ("fresh_questions.jsonl", "fresh"),
    ("dev_real_questions.jsonl", "dev real"),
    ("probe_questions.jsonl", "probe"),
    ("probe2_questions.jsonl", "probe 2"),
    ("probe3_questions.jsonl", "probe 3"),
    ("probe4_questions.jsonl", "probe 4"),
    ("probe5_questions.jsonl", "probe 5"),
    ("probe6_questions.jsonl", "probe 6"),
    ("probe7_questions.jsonl", "probe 7"),
    ("probe8_questions.jsonl", "probe 8"),
    ("probe9_questions.jsonl", "probe 9"),
    ("probe10_questions.jsonl", "probe 10"),
    ("probe11_questions.jsonl", "probe 11"),
    ("probe12_questions.jsonl", "probe 12"),
    ("probe13_questions.jsonl", "probe 13"),
    ("probe14_questions.jsonl", "probe 14"),
    ("probe15_questions.jsonl", "probe 15"),
    ("probe16_questions.jsonl", "probe 16"),
    ("probe17_questions.jsonl", "probe 17"),
    ("probe18_questions.jsonl", "probe 18"),
    ("probe19_questions.jsonl", "probe 19"),
    ("probe20_questions.jsonl", "probe 20"),
    ("probe21_questions.jsonl", "probe 21"),
    ("probe22_questions.jsonl", "probe 22"),
    ("probe23_questions.jsonl", "probe 23"),
    ("probe24_questions.jsonl", "probe 24"),
    ("probe25_questions.jsonl", "probe 25"),
    ("probe26_questions.jsonl", "probe 26"),
    ("probe27_questions.jsonl", "probe 27"),
    ("probe28_questions.jsonl", "probe 28"),
    ("probe29_questions.jsonl", "probe 29"),
    ("probe30_questions.jsonl", "probe 30"),
    ("probe31_questions.jsonl", "probe 31"),
    ("probe32_questions.jsonl", "probe 32"),
    ("probe33_questions.jsonl", "probe 33"),
    ("probe34_questions.jsonl", "probe 34"),
    ("probe35_questions.jsonl", "probe 35"),
    ("probe36_questions.jsonl", "probe 36"),
    ("probe37_questions.jsonl", "probe 37"),
    ("probe38_questions.jsonl", "probe 38"),
    ("probe39_questions.jsonl", "probe 39"),
    ("probe40_questions.jsonl", "probe 40"),
    ("probe41_questions.jsonl", "probe 41"),
)

# Targets on a 2-core machine (issue 5). Reported against, never asserted.
TARGETS = {
    "p50_c1_ms": 5.0,
    "p99_c1_ms": 20.0,
    "throughput_c10": 200.0,
    "throughput_c10_vs_baseline": 5.0,
    "turn_ratio": 1.5,
    "train_cold_s": 30.0,
    "cold_start_s": 10.0,
    "rss_total_mb": 700.0,
}


# --------------------------------------------------------------------------
# statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation between closest ranks
    (numpy's default method)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0-100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def summarize(latencies_ms: Sequence[float]) -> Dict[str, Any]:
    """n, p50, p95, p99, mean, min and max of latencies in milliseconds."""
    if not latencies_ms:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "min": None, "max": None}
    return {
        "n": len(latencies_ms),
        "p50": round(percentile(latencies_ms, 50), 3),
        "p95": round(percentile(latencies_ms, 95), 3),
        "p99": round(percentile(latencies_ms, 99), 3),
        "mean": round(statistics.fmean(latencies_ms), 3),
        "min": round(min(latencies_ms), 3),
        "max": round(max(latencies_ms), 3),
    }


def throughput(messages: int, wall_s: float) -> Optional[float]:
    """Messages per second, or None when nothing was timed."""
    if wall_s <= 0 or messages <= 0:
        return None
    return messages / wall_s


def turn_window_median(latencies_ms: Sequence[float], first_turn: int, last_turn: int) -> Optional[float]:
    """Median latency of turns first_turn..last_turn (1-based, inclusive)."""
    window = list(latencies_ms[first_turn - 1 : last_turn])
    return statistics.median(window) if window else None


def long_conversation_summary(latencies_ms: Sequence[float], window: int = 10) -> Dict[str, Any]:
    """Median of the first and of the last `window` turns, and their ratio."""
    turns = len(latencies_ms)
    first = turn_window_median(latencies_ms, 1, min(window, turns))
    last_start = max(1, turns - window + 1)
    last = turn_window_median(latencies_ms, last_start, turns)
    return {
        "turns": turns,
        "first_window": [1, min(window, turns)],
        "last_window": [last_start, turns],
        "first_median_ms": round(first, 3) if first is not None else None,
        "last_median_ms": round(last, 3) if last is not None else None,
        "ratio": ratio(last, first),
    }


def ratio(value: Optional[float], reference: Optional[float]) -> Optional[float]:
    """value / reference, or None when either is missing or reference is 0."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def shares(tally: Dict[str, int]) -> Dict[str, float]:
    """The share of each verdict (right, wrong, declined, clarify, silent)."""
    n = sum(tally.values())
    return {v: (tally.get(v, 0) / n if n else 0.0) for v in VERDICTS}


def cv_macro_f1(intent_report: Dict[str, Any]) -> float:
    """The intent macro-average F1 from Rasa's intent_report.json."""
    return float(intent_report["macro avg"]["f1-score"])


# --------------------------------------------------------------------------
# the baseline


def baseline_config_text(default_text: str, assistant_id: str, language: str) -> str:
    """Rasa's default config, verbatim except the project's assistant_id and
    language (top-level keys; each must be there exactly once)."""
    out = default_text
    for key, value in (("assistant_id", assistant_id), ("language", language)):
        pattern = re.compile(rf"^{key}:.*$", re.MULTILINE)
        found = pattern.findall(out)
        if len(found) != 1:
            raise ValueError(f"expected one top-level '{key}:' line in the default config, found {len(found)}")
        out = pattern.sub(f"{key}: {value}", out)
    return out


def inputs_hash(files: Iterable[Path], root: Path, extra: Iterable[str] = ()) -> str:
    """A fingerprint of files (by path relative to root, and content) and
    extra strings (such as the config text and the Rasa version)."""
    digest = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for item in extra:
        digest.update(item.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def scale_out_note(root: Path) -> Dict[str, Any]:
    """What to say about throughput with 2 Rasa server processes: the figures
    of the scale-out set-up (deploy/throughput.json, written by
    deploy/throughput.py) when they exist, else "not measured yet". This
    benchmark itself runs one process."""
    measured = root / "deploy" / "throughput.json"
    if not measured.exists():
        return {
            "status": "not measured yet",
            "files": [],
            "text": "Throughput with 2 Rasa server processes: **not measured yet** (no "
            "`deploy/throughput.json`). This benchmark runs one Rasa server process.",
        }
    data = json.loads(measured.read_text(encoding="utf-8"))
    rows = ["| set-up | messages/s |", "| --- | ---: |"]
    rows += [f"| {name} | {rate} |" for name, rate in data.get("summary_messages_per_second", {}).items()]
    return {
        "status": "measured by the scale-out set-up",
        "files": ["deploy/throughput.json"],
        "text": "Throughput with 1 and 2 Rasa server processes behind nginx (PostgreSQL tracker store, Redis "
        f"lock store), measured by `deploy/throughput.py` on {data.get('date', '?')}, not in this run "
        "(see deploy/README.md):\n\n" + "\n".join(rows),
    }


# --------------------------------------------------------------------------
# figures and targets


def _get(results: Dict[str, Any], system: str, *keys: Any) -> Any:
    value: Any = (results.get("systems") or {}).get(system)
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _at_most(value: Optional[float], limit: float) -> Optional[bool]:
    return None if value is None else value <= limit


def _at_least(value: Optional[float], limit: float) -> Optional[bool]:
    return None if value is None else value >= limit


def _all_met(*checks: Optional[bool]) -> Optional[bool]:
    if any(c is False for c in checks):
        return False
    if any(c is None for c in checks):
        return None
    return True


def figure_rows(results: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One row per reported figure: section, label, unit, product, baseline,
    ratio (product / baseline), target text and whether it is met (None when
    there is no target or a figure is missing)."""
    rows: List[Dict[str, Any]] = []

    def row(
        section: str,
        label: str,
        unit: str,
        product: Any,
        baseline: Any,
        target: str = "",
        met: Optional[bool] = None,
        digits: int = 1,
    ) -> None:
        rows.append(
            {
                "section": section,
                "label": label,
                "unit": unit,
                "product": product,
                "baseline": baseline,
                "ratio": ratio(product, baseline),
                "target": target,
                "met": met,
                "digits": digits,
            }
        )

    # understanding
    for file_name, label in QUESTION_SETS:
        p = _get(results, "product", "understanding", file_name, "shares")
        b = _get(results, "baseline", "understanding", file_name, "shares")
        n = _get(results, "product", "understanding", file_name, "n") or _get(
            results, "baseline", "understanding", file_name, "n"
        )
        if p is None and b is None:
            continue
        pr, br = (p or {}).get("right"), (b or {}).get("right")
        pw, bw = (p or {}).get("wrong"), (b or {}).get("wrong")
        size = f" (n={n})" if n else ""
        row(
            "Understanding",
            f"right answers, {label} questions{size}",
            "%",
            _pct(pr),
            _pct(br),
            "≥ baseline",
            None if pr is None or br is None else pr >= br,
        )
        row(
            "Understanding",
            f"wrong answers, {label} questions{size}",
            "%",
            _pct(pw),
            _pct(bw),
            "≤ baseline",
            None if pw is None or bw is None else pw <= bw,
        )
    pf = _get(results, "product", "cv_intent_f1")
    bf = _get(results, "baseline", "cv_intent_f1")
    row(
        "Understanding",
        "intent macro F1, 3-fold cross-validation",
        "",
        pf,
        bf,
        "≥ baseline",
        None if pf is None or bf is None else pf >= bf,
        digits=3,
    )

    # speed
    for level in LEVELS:
        key = str(level)
        for stat in ("p50", "p95", "p99"):
            p = _get(results, "product", "latency", key, stat)
            b = _get(results, "baseline", "latency", key, stat)
            target, met = "", None
            if level == 1 and stat == "p50":
                target, met = f"≤ {TARGETS['p50_c1_ms']:g} ms", _at_most(p, TARGETS["p50_c1_ms"])
            if level == 1 and stat == "p99":
                target, met = f"≤ {TARGETS['p99_c1_ms']:g} ms", _at_most(p, TARGETS["p99_c1_ms"])
            row(
                "Latency per message (REST, custom action included)",
                f"{stat} at {level} concurrent conversation{'s' if level > 1 else ''}",
                "ms",
                p,
                b,
                target,
                met,
                digits=2 if level == 1 else 1,
            )
    for level in LEVELS:
        p = _get(results, "product", "latency", str(level), "throughput")
        b = _get(results, "baseline", "latency", str(level), "throughput")
        target, met = "", None
        if level == 10:
            target = f"≥ {TARGETS['throughput_c10']:g}/s and ≥ {TARGETS['throughput_c10_vs_baseline']:g}× baseline"
            met = _all_met(
                _at_least(p, TARGETS["throughput_c10"]), _at_least(ratio(p, b), TARGETS["throughput_c10_vs_baseline"])
            )
        row(
            "Throughput",
            f"messages per second at {level} concurrent conversation{'s' if level > 1 else ''}",
            "msg/s",
            p,
            b,
            target,
            met,
        )

    # long conversation
    p_long = _get(results, "product", "long_conversation") or {}
    b_long = _get(results, "baseline", "long_conversation") or {}
    ref = p_long or b_long
    if ref:
        f0, f1 = ref.get("first_window", [1, 10])
        l0, l1 = ref.get("last_window", [391, 400])
        row(
            "Long conversation (one sender)",
            f"median latency, turns {f0}-{f1}",
            "ms",
            p_long.get("first_median_ms"),
            b_long.get("first_median_ms"),
            digits=2,
        )
        row(
            "Long conversation (one sender)",
            f"median latency, turns {l0}-{l1}",
            "ms",
            p_long.get("last_median_ms"),
            b_long.get("last_median_ms"),
            digits=2,
        )
        row(
            "Long conversation (one sender)",
            f"turns {l0}-{l1} ÷ turns {f0}-{f1}",
            "×",
            p_long.get("ratio"),
            b_long.get("ratio"),
            f"≤ {TARGETS['turn_ratio']:g}×",
            _at_most(p_long.get("ratio"), TARGETS["turn_ratio"]),
            digits=2,
        )

    # training, start, memory
    p = _get(results, "product", "training", "cold_s")
    b = _get(results, "baseline", "training", "cold_s")
    row(
        "Training and start",
        "training, cold (rasa train --force, empty cache)",
        "s",
        p,
        b,
        f"≤ {TARGETS['train_cold_s']:g} s",
        _at_most(p, TARGETS["train_cold_s"]),
    )
    row(
        "Training and start",
        "training when nothing changed",
        "s",
        _get(results, "product", "training", "nothing_changed_s"),
        _get(results, "baseline", "training", "nothing_changed_s"),
        digits=2,
    )
    p = _get(results, "product", "cold_start_s")
    row(
        "Training and start",
        "cold start (process start to first answer)",
        "s",
        p,
        _get(results, "baseline", "cold_start_s"),
        f"≤ {TARGETS['cold_start_s']:g} s",
        _at_most(p, TARGETS["cold_start_s"]),
    )
    p = _get(results, "product", "memory", "total_mb")
    row(
        "Memory (after the load runs)",
        "resident memory, both servers",
        "MB",
        p,
        _get(results, "baseline", "memory", "total_mb"),
        f"≤ {TARGETS['rss_total_mb']:g} MB",
        _at_most(p, TARGETS["rss_total_mb"]),
        digits=0,
    )
    row(
        "Memory (after the load runs)",
        "of which the Rasa server",
        "MB",
        _get(results, "product", "memory", "rasa_mb"),
        _get(results, "baseline", "memory", "rasa_mb"),
        digits=0,
    )
    row(
        "Memory (after the load runs)",
        "of which the action server",
        "MB",
        _get(results, "product", "memory", "actions_mb"),
        _get(results, "baseline", "memory", "actions_mb"),
        digits=0,
    )
    return rows


def _pct(share: Optional[float]) -> Optional[float]:
    return None if share is None else 100.0 * share


def headline(results: Dict[str, Any]) -> List[str]:
    """The ratios against the baseline, one sentence each."""
    lines = []
    p50 = ratio(_get(results, "product", "latency", "1", "p50"), _get(results, "baseline", "latency", "1", "p50"))
    if p50:
        lines.append(
            f"one message at 1 conversation: median latency {fmt_ratio(p50)} the baseline's "
            f"({1 / p50:.1f} times faster)"
        )
    tp = ratio(
        _get(results, "product", "latency", "10", "throughput"),
        _get(results, "baseline", "latency", "10", "throughput"),
    )
    if tp:
        lines.append(f"throughput at 10 conversations: {fmt_ratio(tp)} the baseline's")
    tp50 = ratio(
        _get(results, "product", "latency", "50", "throughput"),
        _get(results, "baseline", "latency", "50", "throughput"),
    )
    if tp50:
        lines.append(f"throughput at 50 conversations: {fmt_ratio(tp50)} the baseline's")
    for file_name, label in QUESTION_SETS:
        p = _get(results, "product", "understanding", file_name, "shares", "right")
        b = _get(results, "baseline", "understanding", file_name, "shares", "right")
        if p is not None and b is not None:
            lines.append(
                f"right answers on the {label} questions: {100 * p:.1f}% vs {100 * b:.1f}% "
                f"({100 * (p - b):+.1f} points)"
            )
    pl, bl = (
        _get(results, "product", "long_conversation", "ratio"),
        _get(results, "baseline", "long_conversation", "ratio"),
    )
    if pl is not None and bl is not None:
        lines.append(f"slow-down over a long conversation: {pl:.2f}× vs {bl:.2f}×")
    mem = ratio(_get(results, "product", "memory", "total_mb"), _get(results, "baseline", "memory", "total_mb"))
    if mem:
        lines.append(f"resident memory: {fmt_ratio(mem)} the baseline's")
    train = ratio(_get(results, "product", "training", "cold_s"), _get(results, "baseline", "training", "cold_s"))
    if train:
        lines.append(f"cold training time: {fmt_ratio(train)} the baseline's")
    start = ratio(_get(results, "product", "cold_start_s"), _get(results, "baseline", "cold_start_s"))
    if start:
        lines.append(f"cold start: {fmt_ratio(start)} the baseline's")
    return lines


# --------------------------------------------------------------------------
# formatting


def fmt_value(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def fmt_ratio(value: Optional[float]) -> str:
    if value is None:
        return "—"
    if value >= 10:
        return f"{value:.0f}×"
    if value >= 0.1:
        return f"{value:.2f}×"
    return f"{value:.3f}×"


def fmt_met(met: Optional[bool]) -> str:
    return {True: "yes", False: "**no**", None: "—"}[met]


def _unit(value: Any, unit: str, digits: int) -> str:
    text = fmt_value(value, digits)
    if text == "—" or not unit or unit == "×":
        return text + ("×" if unit == "×" and text != "—" else "")
    return f"{text} {unit}" if unit != "%" else f"{text}%"


def figures_table(results: Dict[str, Any]) -> str:
    lines = []
    section = None
    header = "| Figure | Product | Baseline | Product ÷ baseline | Target | Met |"
    for r in figure_rows(results):
        if r["section"] != section:
            section = r["section"]
            if lines:
                lines.append("")
            lines += [f"**{section}**", "", header, "| --- | ---: | ---: | ---: | --- | --- |"]
        lines.append(
            f"| {r['label']} | {_unit(r['product'], r['unit'], r['digits'])} "
            f"| {_unit(r['baseline'], r['unit'], r['digits'])} | {fmt_ratio(r['ratio'])} "
            f"| {r['target'] or '—'} | {fmt_met(r['met']) if r['target'] else '—'} |"
        )
    return "\n".join(lines)


def understanding_table(results: Dict[str, Any]) -> str:
    lines = [
        "| Question set | System | n | Right | Wrong | Declined | Clarified | No answer |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for file_name, label in QUESTION_SETS:
        for system in SYSTEMS:
            u = _get(results, system, "understanding", file_name)
            if not u:
                continue
            s = u["shares"]
            lines.append(
                f"| {label} (`{file_name}`) | {system} | {u['n']} | {100 * s['right']:.1f}% | {100 * s['wrong']:.1f}% "
                f"| {100 * s['declined']:.1f}% | {100 * s['clarify']:.1f}% | {100 * s['silent']:.1f}% |"
            )
    return "\n".join(lines)


def load_table(results: Dict[str, Any]) -> str:
    lines = [
        "| System | Conversations | Messages | p50 ms | p95 ms | p99 ms | max ms | msg/s | Errors | No answer |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for system in SYSTEMS:
        for level in LEVELS:
            lat = _get(results, system, "latency", str(level))
            if not lat:
                continue
            lines.append(
                f"| {system} | {level} | {lat['n']} | {fmt_value(lat['p50'], 2)} | {fmt_value(lat['p95'], 2)} "
                f"| {fmt_value(lat['p99'], 2)} | {fmt_value(lat['max'], 1)} | {fmt_value(lat['throughput'], 1)} "
                f"| {lat.get('errors', 0)} | {lat.get('unanswered', 0)} |"
            )
    return "\n".join(lines)


def render_markdown(results: Dict[str, Any]) -> str:
    m = results.get("machine", {})
    s = results.get("settings", {})
    mode = results.get("mode", "full")
    parts: List[str] = []
    parts.append("# Benchmarks")
    parts.append("")
    parts.append(
        "Written by `make bench` (`scripts/bench.py`); do not edit by hand. The figures of the "
        "product (this project: `config.yml`, `python -m server` with its patches and its SQLite tracker "
        "store) sit next to a **baseline** measured in the same run: the same training data (`data/`, "
        "`domain.yml`) trained with Rasa's default config (what `rasa init` gives), served by plain "
        "`rasa run` with Rasa's own SQL tracker store on SQLite, and answered by the same action server. "
        "Absolute figures depend on the machine; the ratios against the baseline are the headline, since "
        "they hold from machine to machine."
    )
    if mode != "full":
        parts += [
            "",
            f"> **This is a `--{mode}` run** (fewer messages, a shorter long conversation, "
            "no cross-validation): for development only, not the reference figures.",
        ]
    parts += ["", "## Headline: product against the baseline", ""]
    parts += [f"- {line}" for line in headline(results)] or ["- (no baseline figures in this run)"]
    if results.get("problems"):
        parts += ["", "## Problems in this run", ""]
        parts += [f"- {problem}" for problem in results["problems"]]
    parts += ["", "## Figures", ""]
    parts.append(
        "Ratios are product ÷ baseline (below 1 is better for times and memory, above 1 for throughput "
        "and understanding). Targets are for a 2-core machine and are reported, never asserted: "
        "a noisy or smaller machine can miss them without anything being wrong."
    )
    parts += ["", figures_table(results), ""]
    notes = cached_notes(results)
    if notes:
        parts += [" ".join(notes), ""]
    parts += [
        "### Understanding by verdict",
        "",
        "Scored with `scripts/evaluate.py`'s `judge`/`score`, from the answers the running servers "
        "gave over REST (each question the first message of a new conversation). *Declined*: an "
        "out-of-scope or fallback answer to a question the articles answer; *No answer*: no "
        "contract message in the reply.",
        "",
        understanding_table(results),
        "",
    ]
    parts += ["### Latency and throughput by load", "", load_table(results), ""]
    parts += ["![Benchmark chart](benchmarks.png)", ""]
    parts += ["## More than one process", "", results.get("scale_out", {}).get("text", "not measured yet"), ""]
    parts += ["## How it was measured", ""]
    parts += [f"- {line}" for line in method_lines(results)]
    parts += ["", "## Machine", ""]
    parts += [
        f"- CPU: {m.get('cpu_model', '?')}, {m.get('cpu_count', '?')} logical CPUs "
        f"({m.get('cpus_usable', '?')} usable by this run)",
        f"- memory: {fmt_value(m.get('mem_total_mb'), 0)} MB",
        f"- Python {m.get('python', '?')}, Rasa {m.get('rasa', '?')}, {m.get('platform', '?')}",
        f"- date: {m.get('date', '?')}; git commit {m.get('git', '?')}",
        f"- load average at start {m.get('loadavg_start', '?')}, at end {m.get('loadavg_end', '?')} "
        "(other work on the machine shows up as noise)",
        f"- run time: {fmt_value(results.get('duration_s'), 0)} s",
    ]
    parts += ["", "## How to reproduce", ""]
    parts += [
        "```sh",
        "make bench                       # trains the product model if stale, then runs scripts/bench.py",
        ".venv/bin/python scripts/bench.py --quick             # quicker, for development (not reference figures)",
        ".venv/bin/python scripts/bench.py --retrain-baseline  # retrain the cached baseline model",
        "```",
        "",
        f"The baseline model is cached in `{s.get('baseline_dir', 'models/baseline/')}` keyed by a hash of "
        "`data/`, `domain.yml`, its config and the Rasa version, with its cold training time (and, from "
        "a full run, its cross-validation F1) stored beside it in `meta.json`; a second run reuses them. "
        "Raw figures: `docs/benchmarks.json`. Logs of the last run: `var/bench/`.",
    ]
    return "\n".join(parts) + "\n"


def cached_notes(results: Dict[str, Any]) -> List[str]:
    """Where a baseline figure comes from the cache rather than this run."""
    notes = []
    trained = _get(results, "baseline", "training", "cold_measured_at")
    where = _get(results, "baseline", "training", "cold_machine")
    if trained and trained < results.get("machine", {}).get("date", ""):
        notes.append(
            f"The baseline's cold training time was measured when its cached model was trained "
            f"({trained}{', on ' + where if where else ''}); `--retrain-baseline` measures it again."
        )
    cv = _get(results, "baseline", "cv_measured_at")
    if cv and cv < results.get("machine", {}).get("date", ""):
        notes.append(f"Its cross-validation F1 is cached from {cv}.")
    return notes


def method_lines(results: Dict[str, Any]) -> List[str]:
    s = results.get("settings", {})
    lines = [
        "Product and baseline are measured one after the other, never at the same time, each with a "
        "fresh action server (`python -m actions.server`), on free loopback ports. Each Rasa server has "
        "its own endpoints file (the action server with `enable_selective_domain: true`; product: "
        "`server.tracker_store.ClinicTrackerStore` on a new SQLite file; baseline: Rasa's `SQL` tracker "
        "store on a new SQLite file) and a credentials file with only `rest:`.",
        "Load is sent by a separate client process (`scripts/bench_client.py`, aiohttp, keep-alive) to "
        f"`/webhooks/rest/webhook`. At each level of {', '.join(str(x) for x in s.get('levels', LEVELS))} "
        "concurrent conversations, every conversation is a distinct sender that sends "
        f"{s.get('conversation_length', '?')} questions from `tests/data/holdout_questions.jsonl` in "
        "sequence (a new sender after that), after "
        f"{s.get('warmup', '?')} warm-up messages per worker that are not counted. Messages timed per level: "
        f"{', '.join(f'{k}: {v}' for k, v in (s.get('messages') or {}).items())}. Latency is the time from "
        "sending a message to having read the whole reply, custom action included; throughput is the "
        "timed messages divided by the wall time of the timed phase. The client runs on the same "
        "machine and takes CPU from the servers.",
        f"Long conversation: one sender sends {s.get('long_turns', '?')} messages in sequence over one "
        "keep-alive connection; the medians of the first and last 10 turns are compared.",
        "Understanding: every question of `holdout_questions.jsonl`, `fresh_questions.jsonl`, "
        "`dev_real_questions.jsonl` and the `probe*_questions.jsonl` sets is sent over REST as the first "
        "message of its own conversation and the reply's contract message is judged as `make eval` "
        "judges it. Intent F1: `rasa test nlu "
        "--cross-validation --folds 3 --config <config> --nlu data/nlu`, macro average of "
        "`intent_report.json`.",
        "Training, cold: `rasa train --force --num-threads 2` into a temporary directory with a new, "
        "empty `RASA_CACHE_DIRECTORY` (the baseline's is measured when its cached model is trained). "
        "Nothing changed: the product's `scripts/train-if-stale.sh` (skips training when the inputs "
        "fingerprint is unchanged); the baseline's `rasa train` without `--force` on unchanged inputs "
        "with its warm training cache, which is what Rasa offers.",
        "Cold start: from starting the Rasa server process (the action server already up) to the first "
        f"reply over REST, polled every 50 ms; median of {s.get('cold_start_runs', '?')} start(s).",
        "Memory: resident set size (VmRSS from /proc/<pid>/status, child processes included) of the Rasa "
        "server and the action server, summed, read after the load runs.",
    ]
    if s.get("baseline_config"):
        lines.append(
            f"Baseline config: `{s['baseline_config']}` (Rasa's `{s.get('baseline_config_source', '')}`, "
            "verbatim but for `assistant_id`)."
        )
    return lines


def write_outputs(results: Dict[str, Any], out_dir: Path, chart: bool = True) -> List[Path]:
    """Write benchmarks.json, benchmarks.md and (if chart) benchmarks.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    json_path = out_dir / "benchmarks.json"
    json_path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    written.append(json_path)
    md_path = out_dir / "benchmarks.md"
    md_path.write_text(render_markdown(results), encoding="utf-8")
    written.append(md_path)
    if chart:
        png = out_dir / "benchmarks.png"
        draw_chart(results, png)
        written.append(png)
    return written


# --------------------------------------------------------------------------
# the chart


def rolling_median(values: Sequence[float], window: int) -> List[float]:
    out = []
    for i in range(len(values)):
        lo = max(0, i - window + 1)
        out.append(statistics.median(values[lo : i + 1]))
    return out


def draw_chart(results: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"product": "#2a7ab0", "baseline": "#c0504d"}
    fig, axes = plt.subplots(2, 2, figsize=(12, 9.5))
    width = 0.38

    ax = axes[0][0]
    for i, system in enumerate(SYSTEMS):
        for j, (stat, alpha) in enumerate((("p50", 1.0), ("p99", 0.45))):
            values = [_get(results, system, "latency", str(level), stat) for level in LEVELS]
            xs = [k + (i - 0.5) * width for k in range(len(LEVELS))]
            ax.bar(
                xs,
                [v or 0 for v in values],
                width * 0.9,
                color=colors[system],
                alpha=alpha,
                label=f"{system} {stat}",
                zorder=2 - j,
            )
    ax.set_yscale("log")
    ax.set_xticks(range(len(LEVELS)))
    ax.set_xticklabels([f"{level} conv." for level in LEVELS])
    ax.set_ylabel("ms per message (log)")
    ax.set_title("Latency, p50 (solid) and p99 (light)")
    ax.axhline(TARGETS["p50_c1_ms"], color="gray", ls=":", lw=1)
    ax.legend(fontsize=8)

    ax = axes[0][1]
    for i, system in enumerate(SYSTEMS):
        values = [_get(results, system, "latency", str(level), "throughput") or 0 for level in LEVELS]
        xs = [k + (i - 0.5) * width for k in range(len(LEVELS))]
        bars = ax.bar(xs, values, width * 0.9, color=colors[system], label=system)
        for bar, v in zip(bars, values, strict=False):
            if v:
                ax.annotate(f"{v:.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(LEVELS)))
    ax.set_xticklabels([f"{level} conv." for level in LEVELS])
    ax.set_ylabel("messages per second")
    ax.set_title("Throughput")
    ax.axhline(TARGETS["throughput_c10"], color="gray", ls=":", lw=1)
    ax.legend(fontsize=8)

    ax = axes[1][0]
    for system in SYSTEMS:
        lat = _get(results, system, "long_conversation", "latencies_ms")
        if lat:
            ax.plot(range(1, len(lat) + 1), rolling_median(lat, 10), color=colors[system], label=system)
    ax.set_yscale("log")
    ax.set_xlabel("turn")
    ax.set_ylabel("ms (rolling median of 10, log)")
    ax.set_title("One long conversation")
    ax.legend(fontsize=8)

    ax = axes[1][1]
    labels = []
    bottoms: List[float] = []
    stacks: Dict[str, List[float]] = {v: [] for v in VERDICTS}
    for file_name, label in QUESTION_SETS:
        for system in SYSTEMS:
            u = _get(results, system, "understanding", file_name)
            if not u:
                continue
            labels.append(f"{label}, {system}")
            for v in VERDICTS:
                stacks[v].append(100 * u["shares"][v])
    verdict_colors = {
        "right": "#4c9a2a",
        "wrong": "#c0504d",
        "declined": "#e0a030",
        "clarify": "#7f7fbf",
        "silent": "#999999",
    }
    bottoms = [0.0] * len(labels)
    for v in VERDICTS:
        if labels:
            ax.bar(range(len(labels)), stacks[v], 0.7, bottom=bottoms, color=verdict_colors[v], label=v)
            bottoms = [b + x for b, x in zip(bottoms, stacks[v], strict=False)]
    ax.set_xticks(range(len(labels)))
    # one label per bar, upright so that many question sets stay readable
    ax.set_xticklabels(labels, fontsize=7, rotation=90)
    ax.set_ylabel("% of questions")
    ax.set_ylim(0, 100)
    ax.set_title("Understanding over REST")
    ax.legend(fontsize=7, loc="lower right")

    m = results.get("machine", {})
    fig.suptitle(
        f"Microneedling assistant: product vs Rasa default baseline "
        f"({m.get('cpu_count', '?')} CPUs, {m.get('date', '')[:10]}"
        f"{', ' + results.get('mode') + ' run' if results.get('mode') != 'full' else ''})"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
