"""Benchmark the trained bot against Rasa's default set-up: `make bench`.

    .venv/bin/python scripts/bench.py [--quick] [--retrain-baseline] [--out-dir docs]
    .venv/bin/python scripts/bench.py --rerender   # rewrite the .md/.png from the .json, measure nothing

Measures, for the product (models/current.tar.gz served by `python -m server`)
and for a baseline (the same data/ and domain.yml trained with Rasa's default
config, served by plain `rasa run` with Rasa's SQL tracker store), one after
the other on this machine, each with its own fresh action server:
- understanding over REST on tests/data/{holdout,fresh,dev_real}_questions.jsonl,
  judged by scripts/evaluate.py's `judge`/`score`, and the intent macro F1 of
  `rasa test nlu --cross-validation --folds 3`;
- latency (p50/p95/p99) and throughput of one message through the REST
  channel, custom action included, at 1, 10 and 50 concurrent conversations,
  sent by a separate client process (scripts/bench_client.py);
- latency at the start and at the end of one 400-message conversation;
- training time (cold, and when nothing changed), cold start, and the
  resident memory of both servers after the load runs.

Writes docs/benchmarks.md (figures, baseline, ratio, target, met), docs/benchmarks.json
and docs/benchmarks.png. Targets are reported, never asserted. The baseline
model is cached in models/baseline/<hash>/ (with its measured cold training
time) and retrained only when data/, domain.yml, its config or Rasa change,
or with --retrain-baseline. Logs and temporary files: var/bench/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import bench_lib as lib  # noqa: E402
from scripts.evaluate import read_rows, score  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
RASA = str(VENV_BIN / "rasa")
CLIENT = ROOT / "scripts" / "bench_client.py"
DATA = ROOT / "tests" / "data"
HOLDOUT = DATA / "holdout_questions.jsonl"
PRODUCT_MODEL = ROOT / "models" / "current.tar.gz"
BASELINE_DIR = ROOT / "models" / "baseline"
WORK = ROOT / "var" / "bench"
RASA_DEFAULT_CONFIG = Path("rasa") / "engine" / "recipes" / "config_files" / "default_config.yml"
COLD_START_QUESTION = "how long does redness last?"

FULL = {"messages": {1: 500, 10: 1500, 50: 2500}, "long_turns": 400, "cold_start_runs": 3, "cv": True}
QUICK = {"messages": {1: 60, 10: 60, 50: 60}, "long_turns": 60, "cold_start_runs": 1, "cv": False}
CONVERSATION_LENGTH = 10
WARMUP = 3
ASK_CONCURRENCY = 4

_t0 = time.monotonic()


def say(message: str) -> None:
    elapsed = int(time.monotonic() - _t0)
    print(f"[bench {elapsed // 60:2d}:{elapsed % 60:02d}] {message}", flush=True)


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# processes


class Processes:
    """Every process this run starts, each in its own session (so Ctrl-C
    reaches only this script), stopped by id: on success, error or Ctrl-C."""

    def __init__(self) -> None:
        self.live: List[subprocess.Popen] = []

    def start(self, cmd: Sequence[str], log: Path, env: Dict[str, str]) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [str(c) for c in cmd],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.live.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 20) -> None:
        if process.poll() is None:
            self._signal(process, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(process, signal.SIGKILL)
                process.wait(timeout=10)
        if process in self.live:
            self.live.remove(process)

    @staticmethod
    def _signal(process: subprocess.Popen, sig: int) -> None:
        try:  # the process group this script created for it (its pid)
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                process.send_signal(sig)
            except ProcessLookupError:
                pass

    def stop_all(self) -> None:
        for process in list(reversed(self.live)):
            try:
                self.stop(process, timeout=10)
            except Exception as error:  # noqa: BLE001 - keep stopping the others
                print(f"bench: could not stop process {process.pid}: {error}", file=sys.stderr)

    def run(self, cmd: Sequence[str], log: Path, env: Dict[str, str], timeout: float, what: str) -> float:
        """Run to completion; return the wall time in seconds. Raise on failure."""
        start = time.perf_counter()
        process = self.start(cmd, log, env)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            self.stop(process)
            raise BenchError(f"{what} took longer than {timeout:.0f} s; log: {log}") from error
        elapsed = time.perf_counter() - start
        self.live.remove(process)
        if code != 0:
            raise BenchError(f"{what} failed (exit code {code}); log: {log}\n{tail(log)}")
        return elapsed


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def base_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    for name in list(env):  # messaging channels off; no API; default rate limits (loopback exempt)
        if name.startswith(("TELEGRAM_", "TWILIO_", "RATE_LIMIT_")) or name in ("RASA_ENABLE_API", "RASA_API_TOKEN"):
            env.pop(name)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="3",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url: str, body: object, timeout: float) -> Any:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def rasa_train_command(config: Path, out: Path, *extra: str) -> List[str]:
    """`rasa train` of this project's data with `config`, on 2 threads as the machine has."""
    data = ["--domain", "domain.yml", "--data", "data"]
    return [RASA, "train", *extra, "--config", str(config), *data, "--out", str(out), "--num-threads", "2"]


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    processes: Sequence[subprocess.Popen],
    logs: Sequence[Path],
    interval: float = 0.05,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process, log in zip(processes, logs, strict=False):
            if process.poll() is not None:
                raise BenchError(f"{what}: a server exited with code {process.returncode}; log: {log}\n{tail(log)}")
        try:
            if check():
                return
        except (OSError, ValueError, urllib.error.URLError):
            pass
        time.sleep(interval)
    raise BenchError(f"{what} did not come up within {timeout:.0f} s; logs: {', '.join(map(str, logs))}")


# --------------------------------------------------------------------------
# memory


def _children(pid: int) -> List[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def process_tree(pid: int) -> List[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory_mb(pid: int) -> Tuple[float, float]:
    """(VmRSS, VmHWM) of the process and its children, in MB."""
    tree = process_tree(pid)
    return (sum(status_kb(p, "VmRSS") for p in tree) / 1024, sum(status_kb(p, "VmHWM") for p in tree) / 1024)


# --------------------------------------------------------------------------
# the two systems


def project_config() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))


def rasa_default_config_path() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("rasa")  # its location only, without importing it
    if spec is None or not spec.submodule_search_locations:
        raise BenchError("rasa is not installed in this Python")
    return Path(list(spec.submodule_search_locations)[0]).resolve().parent / RASA_DEFAULT_CONFIG


def baseline_inputs() -> List[Path]:
    files = [p for p in (ROOT / "data").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return files + [ROOT / "domain.yml"]


class System:
    def __init__(self, name: str, model: Path) -> None:
        self.name = name
        self.model = model

    def endpoints(self, work: Path, action_port: int) -> Path:
        """The product: the project's own endpoints.yml, on this run's ports and
        database. The baseline: Rasa's SQL store, the same action server."""
        path = work / f"{self.name}-endpoints.yml"
        url = f"http://127.0.0.1:{action_port}/webhook"
        if self.name == "product":
            config = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
            config["action_endpoint"]["url"] = url
            config["tracker_store"]["db"] = str(work / "product.db")
        else:
            config = {
                "action_endpoint": {"url": url, "enable_selective_domain": True},
                "tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(work / "baseline.db")},
            }
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    def credentials(self, work: Path) -> Path:
        """The REST channel each serves: the product's hardened one, Rasa's own."""
        path = work / f"{self.name}-credentials.yml"
        path.write_text(
            "server.rest_channel.ClinicRestInput:\n" if self.name == "product" else "rest:\n", encoding="utf-8"
        )
        return path

    def rasa_command(self, port: int, endpoints: Path, credentials: Path) -> List[str]:
        if self.name == "product":
            return [
                PYTHON,
                "-m",
                "server",
                "--model",
                str(self.model),
                "--port",
                str(port),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials),
            ]
        return [
            RASA,
            "run",
            "--model",
            str(self.model),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(credentials),
        ]


def ensure_baseline(work: Path, processes: Processes, retrain: bool) -> Tuple[Path, Dict[str, Any], Path]:
    """The cached baseline model (trained cold here if missing), its meta, its config."""
    source = rasa_default_config_path()
    ours = project_config()
    config_text = lib.baseline_config_text(
        source.read_text(encoding="utf-8"), ours["assistant_id"], ours.get("language", "en")
    )
    rasa_version = importlib.metadata.version("rasa")
    key = lib.inputs_hash(baseline_inputs(), ROOT, [config_text, rasa_version])
    folder = BASELINE_DIR / key
    model, meta_path, config_path = folder / "model.tar.gz", folder / "meta.json", folder / "config.yml"
    if not retrain and model.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        say(
            f"baseline: using the cached model {model.relative_to(ROOT)} "
            f"(trained {meta.get('trained_at', '?')}, cold training {meta.get('cold_train_s', 0):.0f} s)"
        )
        return model, meta, config_path
    say("baseline: training with Rasa's default config, cold cache (several minutes) ...")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config_path.write_text(config_text, encoding="utf-8")
    cache = folder / "rasa-cache"
    seconds = processes.run(
        rasa_train_command(config_path, folder, "--force", "--fixed-model-name", "model"),
        work / "baseline-train.log",
        base_env(RASA_CACHE_DIRECTORY=str(cache)),
        timeout=3 * 3600,
        what="baseline training",
    )
    meta = {
        "hash": key,
        "trained_at": now_iso(),
        "cold_train_s": round(seconds, 2),
        "rasa": rasa_version,
        "config_source": str(source.relative_to(source.parents[4])),
        "machine": machine_brief(),
    }
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    for other in BASELINE_DIR.iterdir():  # older baselines
        if other.is_dir() and other != folder:
            shutil.rmtree(other, ignore_errors=True)
    say(f"baseline: trained in {seconds:.1f} s")
    return model, meta, config_path


# --------------------------------------------------------------------------
# measurements over REST


class Bench:
    def __init__(self, args: argparse.Namespace, processes: Processes, work: Path) -> None:
        self.args = args
        self.processes = processes
        self.work = work
        self.plan = QUICK if args.quick else FULL
        self.run_id = f"b{int(time.time())}"
        self.problems: List[str] = []

    # -- the client process

    def client(self, mode: str, url: str, timeout: float, **options: Any) -> Dict[str, Any]:
        out = self.work / f"client-{mode}-{time.monotonic_ns()}.json"
        cmd = [PYTHON, str(CLIENT), mode, "--url", url, "--out", str(out), "--run-id", self.run_id]
        for name, value in options.items():
            cmd += [f"--{name.replace('_', '-')}", str(value)]
        self.processes.run(cmd, self.work / "client.log", base_env(), timeout, f"client ({mode})")
        result = json.loads(out.read_text(encoding="utf-8"))
        out.unlink()
        return result

    # -- one system, start to finish

    def measure(self, system: System) -> Dict[str, Any]:
        result: Dict[str, Any] = {"model": str(system.model.relative_to(ROOT))}
        action_port = free_port()
        action_log = self.work / f"{system.name}-actions.log"
        action = self.processes.start(
            [PYTHON, "-m", "actions.server", "--port", str(action_port)], action_log, base_env()
        )
        action_url = f"http://127.0.0.1:{action_port}"
        wait_until(
            lambda: urllib.request.urlopen(action_url + "/health", timeout=2).status == 200,
            90,
            f"{system.name}: action server",
            [action],
            [action_log],
            interval=0.2,
        )
        endpoints = system.endpoints(self.work, action_port)
        credentials = system.credentials(self.work)

        runs: List[float] = []
        rasa: Optional[subprocess.Popen] = None
        url = ""
        for i in range(self.plan["cold_start_runs"]):
            if rasa is not None:
                self.processes.stop(rasa)
            port = free_port()
            url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
            log = self.work / f"{system.name}-rasa-{i + 1}.log"
            sender = f"{self.run_id}-coldstart-{i}"
            start = time.perf_counter()
            rasa = self.processes.start(system.rasa_command(port, endpoints, credentials), log, base_env())
            first_message = {"sender": sender, "message": COLD_START_QUESTION}
            wait_until(
                functools.partial(post_json, url, first_message, 10),
                300,
                f"{system.name}: Rasa server",
                [rasa, action],
                [log, action_log],
            )
            runs.append(time.perf_counter() - start)
            say(f"{system.name}: cold start {i + 1}/{self.plan['cold_start_runs']}: {runs[-1]:.2f} s")
        assert rasa is not None
        result["cold_start_runs_s"] = [round(r, 3) for r in runs]
        result["cold_start_s"] = round(statistics.median(runs), 3)

        result["understanding"] = self.understanding(system, url)
        result["latency"] = {}
        for level in lib.LEVELS:
            result["latency"][str(level)] = self.load(system, url, level)
        result["long_conversation"] = self.long_conversation(system, url)

        rasa_rss, rasa_peak = memory_mb(rasa.pid)
        action_rss, action_peak = memory_mb(action.pid)
        result["memory"] = {
            "rasa_mb": round(rasa_rss, 1),
            "actions_mb": round(action_rss, 1),
            "total_mb": round(rasa_rss + action_rss, 1),
            "peak_rasa_mb": round(rasa_peak, 1),
            "peak_actions_mb": round(action_peak, 1),
            "peak_total_mb": round(rasa_peak + action_peak, 1),
        }
        say(
            f"{system.name}: resident memory {rasa_rss:.0f} MB (Rasa) + {action_rss:.0f} MB (actions) "
            f"= {rasa_rss + action_rss:.0f} MB"
        )
        for process, log in ((rasa, self.work / f"{system.name}-rasa-{len(runs)}.log"), (action, action_log)):
            if process.poll() is not None:
                self.problems.append(f"{system.name}: a server exited during the measurements (see {log})")
        self.processes.stop(rasa)
        self.processes.stop(action)
        return result

    def understanding(self, system: System, url: str) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for file_name, label in lib.QUESTION_SETS:
            rows = read_rows(DATA / file_name)
            requests = [
                {"sender": f"{self.run_id}-u-{system.name}-{file_name.split('_')[0]}-{i}", "message": row["question"]}
                for i, row in enumerate(rows)
            ]
            request_file = self.work / f"requests-{system.name}-{file_name}.json"
            request_file.write_text(json.dumps(requests), encoding="utf-8")
            got = self.client("ask", url, 1800, requests=request_file, concurrency=ASK_CONCURRENCY)
            answers = [{"custom": contract_message(reply), "parse": {}} for reply in got["replies"]]
            scored = score(rows, answers)
            out[file_name] = {
                "n": scored["n"],
                "tally": scored["tally"],
                "shares": lib.shares(scored["tally"]),
                "errors": got["errors"],
                "misses": [
                    {k: m[k] for k in ("id", "question", "verdict", "kind", "topics", "accept")}
                    for m in scored["misses"]
                ],
            }
            if got["errors"]:
                self.problems.append(
                    f"{system.name}: {got['errors']} request errors on {file_name}: " f"{got['error_examples'][:2]}"
                )
            s = out[file_name]["shares"]
            say(
                f"{system.name}: {label} questions (n={scored['n']}): right {100 * s['right']:.1f}%, "
                f"wrong {100 * s['wrong']:.1f}%, declined {100 * s['declined']:.1f}%, "
                f"clarify {100 * s['clarify']:.1f}%"
            )
        return out

    def load(self, system: System, url: str, level: int) -> Dict[str, Any]:
        messages = self.plan["messages"][level]
        got = self.client(
            "load",
            url,
            3600,
            concurrency=level,
            messages=messages,
            conversation_length=CONVERSATION_LENGTH,
            warmup=WARMUP,
            questions=HOLDOUT,
        )
        summary = lib.summarize(got["latencies_ms"])
        tp = lib.throughput(got["messages"], got["wall_s"])
        summary.update(
            throughput=round(tp, 2) if tp else None,
            wall_s=round(got["wall_s"], 3),
            errors=got["errors"],
            warmup_errors=got["warmup_errors"],
            unanswered=got["unanswered"],
            error_examples=got["error_examples"],
        )
        if got["errors"] or got["warmup_errors"]:
            self.problems.append(
                f"{system.name}: {got['errors']} errors at {level} conversations: " f"{got['error_examples'][:2]}"
            )
        if got["unanswered"]:
            self.problems.append(
                f"{system.name}: {got['unanswered']} replies without a contract message " f"at {level} conversations"
            )
        say(
            f"{system.name}: {level:2d} conversations, {got['messages']} messages: p50 {summary['p50']:.2f} ms, "
            f"p95 {summary['p95']:.2f} ms, p99 {summary['p99']:.2f} ms, {tp or 0:.1f} msg/s"
        )
        return summary

    def long_conversation(self, system: System, url: str) -> Dict[str, Any]:
        turns = self.plan["long_turns"]
        got = self.client("long", url, 3600, turns=turns, questions=HOLDOUT)
        summary = lib.long_conversation_summary(got["latencies_ms"])
        summary.update(
            errors=got["errors"], unanswered=got["unanswered"], latencies_ms=[round(x, 3) for x in got["latencies_ms"]]
        )
        if got["errors"]:
            self.problems.append(
                f"{system.name}: {got['errors']} errors in the long conversation: " f"{got['error_examples'][:2]}"
            )
        say(
            f"{system.name}: long conversation: turns {summary['first_window'][0]}-{summary['first_window'][1]} "
            f"{summary['first_median_ms']:.2f} ms, turns {summary['last_window'][0]}-{summary['last_window'][1]} "
            f"{summary['last_median_ms']:.2f} ms ({summary['ratio']:.2f}x)"
        )
        return summary

    # -- training and cross-validation

    def product_training(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        say("product: cold training (rasa train --force, empty cache) ...")
        cache, model_dir = self.work / "product-cold-cache", self.work / "product-cold-model"
        for d in (cache, model_dir):
            shutil.rmtree(d, ignore_errors=True)
        try:
            seconds = self.processes.run(
                [
                    RASA,
                    "train",
                    "--force",
                    "--config",
                    "config.yml",
                    "--domain",
                    "domain.yml",
                    "--data",
                    "data",
                    "--out",
                    model_dir,
                    "--fixed-model-name",
                    "cold",
                    "--num-threads",
                    "2",
                ],
                self.work / "product-train.log",
                base_env(RASA_CACHE_DIRECTORY=str(cache)),
                3600,
                "product cold training",
            )
            out["cold_s"] = round(seconds, 2)
            out["cold_measured_at"] = now_iso()
            say(f"product: cold training {seconds:.1f} s")
        except BenchError as error:
            self.problems.append(str(error).splitlines()[0])
            say(f"product: cold training failed: {error}")
        finally:
            for d in (cache, model_dir):
                shutil.rmtree(d, ignore_errors=True)
        log = self.work / "product-train-if-stale.log"
        try:
            seconds = self.processes.run(
                ["scripts/train-if-stale.sh"], log, base_env(), 3600, "scripts/train-if-stale.sh"
            )
            skipped = "up to date" in tail(log, 50)
            out["nothing_changed_s"] = round(seconds, 3)
            out["nothing_changed_how"] = "scripts/train-if-stale.sh" + ("" if skipped else " (it RETRAINED)")
            if not skipped:
                self.problems.append(
                    "scripts/train-if-stale.sh retrained the model: it was not up to date, so "
                    "'nothing changed' measured a training"
                )
            say(f"product: nothing changed: {seconds:.2f} s ({'skipped' if skipped else 'retrained!'})")
        except BenchError as error:
            self.problems.append(str(error).splitlines()[0])
        return out

    def baseline_nothing_changed(self, config_path: Path) -> Optional[float]:
        say("baseline: rasa train on unchanged inputs, warm cache ...")
        out = self.work / "baseline-nothing-changed"
        shutil.rmtree(out, ignore_errors=True)
        try:
            seconds = self.processes.run(
                rasa_train_command(config_path, out),
                self.work / "baseline-train-nothing-changed.log",
                base_env(RASA_CACHE_DIRECTORY=str(config_path.parent / "rasa-cache")),
                3600,
                "baseline training, nothing changed",
            )
            say(f"baseline: nothing changed: {seconds:.1f} s")
            return round(seconds, 2)
        except BenchError as error:
            self.problems.append(str(error).splitlines()[0])
            return None
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def cross_validation(self, name: str, config: Path) -> Optional[float]:
        say(f"{name}: 3-fold intent cross-validation ...")
        out = self.work / f"cv-{name}"
        shutil.rmtree(out, ignore_errors=True)
        try:
            seconds = self.processes.run(
                [
                    RASA,
                    "test",
                    "nlu",
                    "--cross-validation",
                    "--folds",
                    "3",
                    "--config",
                    config,
                    "--nlu",
                    "data/nlu",
                    "--out",
                    out,
                ],
                self.work / f"cv-{name}.log",
                base_env(RASA_CACHE_DIRECTORY=str(self.work / f"cv-cache-{name}"), RASA_MAX_CACHE_SIZE="0"),
                4 * 3600,
                f"{name} cross-validation",
            )
            reports = sorted(out.rglob("intent_report.json"))
            if not reports:
                raise BenchError(f"{name} cross-validation wrote no intent_report.json under {out}")
            f1 = lib.cv_macro_f1(json.loads(reports[0].read_text(encoding="utf-8")))
            say(f"{name}: intent macro F1 {f1:.3f} ({seconds:.0f} s)")
            return round(f1, 4)
        except BenchError as error:
            self.problems.append(str(error).splitlines()[0])
            say(f"{name}: cross-validation failed: {error}")
            return None
        finally:
            shutil.rmtree(self.work / f"cv-cache-{name}", ignore_errors=True)


def contract_message(reply: Optional[List[Dict[str, Any]]]) -> Dict[str, Any]:
    for message in reply or []:
        if isinstance(message, dict) and isinstance(message.get("custom"), dict):
            return message["custom"]
    return {}


# --------------------------------------------------------------------------
# the machine, the scale-out note


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_brief() -> str:
    return f"{os.cpu_count()} x {cpu_model()}"


def machine() -> Dict[str, Any]:
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        git = commit + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        git = "unknown"
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "mem_total_mb": mem,
        "python": platform.python_version(),
        "rasa": importlib.metadata.version("rasa"),
        "platform": platform.platform(),
        "date": now_iso(),
        "git": git,
        "loadavg_start": "%.2f %.2f %.2f" % os.getloadavg(),
    }


# --------------------------------------------------------------------------


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="development run: 60 messages per level, a 60-turn conversation, one cold start, " "no cross-validation",
    )
    parser.add_argument("--retrain-baseline", action="store_true", help="retrain the cached baseline model")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs", help="where to write benchmarks.*")
    parser.add_argument("--skip-training", action="store_true", help="do not measure training times (development)")
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="measure nothing: rewrite benchmarks.md and .png from the out dir's benchmarks.json "
        "(after a change to the report's format or to deploy/)",
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.rerender:
        results = json.loads((args.out_dir / "benchmarks.json").read_text(encoding="utf-8"))
        results["scale_out"] = lib.scale_out_note(ROOT)
        results["figures"] = [{k: v for k, v in r.items() if k != "digits"} for r in lib.figure_rows(results)]
        written = lib.write_outputs(results, args.out_dir)
        say("rewrote " + ", ".join(str(p) for p in written) + " from benchmarks.json (nothing measured)")
        return 0
    if not PRODUCT_MODEL.exists():
        print(
            f"bench: {PRODUCT_MODEL.relative_to(ROOT)} is missing: run `make train` (or `make bench`) first",
            file=sys.stderr,
        )
        return 2
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    processes = Processes()

    def on_sigterm(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    # Ctrl-C stops the run even when started where SIGINT is inherited as ignored
    # (a background job of a script); every process is then stopped in `finally`.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    plan = QUICK if args.quick else FULL
    results: Dict[str, Any] = {"schema": 1, "mode": "quick" if args.quick else "full", "machine": machine()}
    bench = Bench(args, processes, WORK)
    try:
        say(f"{'quick' if args.quick else 'full'} run; logs in {WORK.relative_to(ROOT)}/")
        baseline_model, baseline_meta, baseline_config = ensure_baseline(WORK, processes, args.retrain_baseline)
        results["settings"] = {
            "levels": list(lib.LEVELS),
            "messages": {str(k): v for k, v in plan["messages"].items()},
            "conversation_length": CONVERSATION_LENGTH,
            "warmup": WARMUP,
            "long_turns": plan["long_turns"],
            "cold_start_runs": plan["cold_start_runs"],
            "understanding_concurrency": ASK_CONCURRENCY,
            "baseline_dir": str(BASELINE_DIR.relative_to(ROOT)) + "/",
            "baseline_config": str(baseline_config.relative_to(ROOT)),
            "baseline_config_source": baseline_meta.get("config_source", str(RASA_DEFAULT_CONFIG)),
            "baseline_trained_at": baseline_meta.get("trained_at"),
        }
        systems = {"product": System("product", PRODUCT_MODEL), "baseline": System("baseline", baseline_model)}
        results["systems"] = {}
        for name, system in systems.items():
            say(f"{name}: starting the servers ({system.model.relative_to(ROOT)})")
            results["systems"][name] = bench.measure(system)

        product, baseline = results["systems"]["product"], results["systems"]["baseline"]
        baseline["training"] = {
            "cold_s": baseline_meta.get("cold_train_s"),
            "cold_measured_at": baseline_meta.get("trained_at"),
            "cold_machine": baseline_meta.get("machine"),
        }
        if not args.skip_training:
            product["training"] = bench.product_training()
            baseline["training"]["nothing_changed_s"] = bench.baseline_nothing_changed(baseline_config)
            baseline["training"]["nothing_changed_how"] = "rasa train (no --force), unchanged inputs, warm cache"
        if plan["cv"]:
            product["cv_intent_f1"] = bench.cross_validation("product", ROOT / "config.yml")
            if baseline_meta.get("cv_intent_f1") is not None and not args.retrain_baseline:
                baseline["cv_intent_f1"] = baseline_meta["cv_intent_f1"]
                baseline["cv_measured_at"] = baseline_meta.get("cv_measured_at")
                say(
                    f"baseline: intent macro F1 {baseline['cv_intent_f1']:.3f} (cached, measured "
                    f"{baseline['cv_measured_at']})"
                )
            else:
                f1 = bench.cross_validation("baseline", baseline_config)
                baseline["cv_intent_f1"] = f1
                if f1 is not None:
                    baseline["cv_measured_at"] = baseline_meta["cv_measured_at"] = now_iso()
                    baseline_meta["cv_intent_f1"] = f1
                    (baseline_config.parent / "meta.json").write_text(
                        json.dumps(baseline_meta, indent=2), encoding="utf-8"
                    )
        results["scale_out"] = lib.scale_out_note(ROOT)
        results["machine"]["loadavg_end"] = "%.2f %.2f %.2f" % os.getloadavg()
        results["duration_s"] = round(time.monotonic() - started, 1)
        results["problems"] = bench.problems
        results["figures"] = [{k: v for k, v in r.items() if k != "digits"} for r in lib.figure_rows(results)]
        written = lib.write_outputs(results, args.out_dir)
        for problem in bench.problems:
            say(f"problem: {problem}")
        say("wrote " + ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in written))
        print()
        print(lib.figures_table(results))
        return 0
    except KeyboardInterrupt:
        say("interrupted: stopping every process this run started")
        return 130
    except BenchError as error:
        say(f"failed: {error}")
        return 1
    finally:
        processes.stop_all()


if __name__ == "__main__":
    sys.exit(main())
