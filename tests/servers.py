"""Start the real action server and Rasa server for end-to-end tests.

Each server gets a free port on loopback, so tests never collide with a
`make run` on the default ports. Logs go to tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TOKEN_HEADER = "X-Conversation-Token"


@dataclass
class Bot:
    rasa_url: str
    action_url: str
    processes: List[subprocess.Popen]
    web_url: Optional[str] = None
    tokens: Dict[str, str] = field(default_factory=dict)

    @property
    def rest_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def say(self, sender: str, text: str, timeout: float = 30) -> List[Dict]:
        """Send as the patient of conversation `sender` (presenting its token)."""
        headers = {TOKEN_HEADER: self.tokens[sender]} if sender in self.tokens else {}
        messages, reply_headers = post_json(self.rest_url, {"sender": sender, "message": text}, timeout, headers)
        if reply_headers.get(TOKEN_HEADER):
            self.tokens[sender] = reply_headers[TOKEN_HEADER]
        return messages


def post_json(
    url: str, body: object, timeout: float = 30, headers: Optional[Dict[str, str]] = None
) -> Tuple[List[Dict], Dict[str, str]]:
    """POST JSON; return the decoded reply and its headers."""
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"[]"), dict(response.headers)


def wait_until(check, timeout: float, what: str, processes: List[subprocess.Popen]) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in processes:
            if p.poll() is not None:
                raise RuntimeError(f"{what}: a server exited with code {p.returncode}; see {ARTIFACTS}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} did not come up within {timeout}s; see {ARTIFACTS}")


def server_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="3",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
    )
    env.update(extra)
    return env


@contextmanager
def running_bot(
    name: str = "e2e",
    model: Path = ROOT / "models" / "current.tar.gz",
    env: Optional[Dict[str, str]] = None,
    twilio_webhook_path: Optional[str] = None,
    with_web: bool = False,
    fresh_database: bool = True,
    action_endpoint: Optional[str] = None,
) -> Iterator[Bot]:
    """The servers, as `make run` starts them, on free ports (the web page too
    when `with_web`)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    action_port, rasa_port, web_port = free_port(), free_port(), free_port()
    env = dict(env or {})
    if twilio_webhook_path:
        env["TWILIO_WEBHOOK_URL"] = f"http://127.0.0.1:{rasa_port}{twilio_webhook_path}"
    endpoints = ARTIFACTS / f"{name}-endpoints.yml"
    database = ARTIFACTS / f"{name}.db"
    if fresh_database:
        for leftover in ARTIFACTS.glob(f"{name}.db*"):
            leftover.unlink()
    endpoints.write_text(
        "action_endpoint:\n"
        f'  url: "{action_endpoint or f"http://127.0.0.1:{action_port}/webhook"}"\n'
        "  enable_selective_domain: true\n"
        "  timeout: 2\n"
        "  send_events: false\n"
        "tracker_store:\n"
        "  type: server.tracker_store.ClinicTrackerStore\n"
        "  dialect: sqlite\n"
        f"  db: {database}\n",
        encoding="utf-8",
    )
    credentials = ARTIFACTS / f"{name}-credentials.yml"
    credentials_data = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    credentials_data["server.socketio_channel.ClinicSocketIOInput"]["cors_allowed_origins"] = [
        f"http://localhost:{web_port}",
        f"http://127.0.0.1:{web_port}",
    ]
    credentials.write_text(yaml.safe_dump(credentials_data), encoding="utf-8")
    environment = server_env(**env)
    for name_ in ("TELEGRAM_ACCESS_TOKEN", "TWILIO_ACCOUNT_SID"):
        if name_ not in env:
            environment.pop(name_, None)  # channels off unless a test turns them on
    processes: List[subprocess.Popen] = []
    try:
        if action_endpoint is None:
            with open(ARTIFACTS / f"{name}-actions.log", "wb") as action_log:
                processes.append(
                    subprocess.Popen(
                        [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(action_port)],
                        cwd=ROOT,
                        env=environment,
                        stdout=action_log,
                        stderr=subprocess.STDOUT,
                    )
                )
        with open(ARTIFACTS / f"{name}-rasa.log", "wb") as rasa_log:
            processes.append(
                subprocess.Popen(
                    [
                        str(VENV_BIN / "python"),
                        "-m",
                        "server",
                        "--model",
                        str(model),
                        "--port",
                        str(rasa_port),
                        "--endpoints",
                        str(endpoints),
                        "--credentials",
                        str(credentials),
                    ],
                    cwd=ROOT,
                    env=environment,
                    stdout=rasa_log,
                    stderr=subprocess.STDOUT,
                )
            )
        if with_web:
            with open(ARTIFACTS / f"{name}-web.log", "wb") as web_log:
                processes.append(
                    subprocess.Popen(
                        [
                            str(VENV_BIN / "python"),
                            "-m",
                            "server.web",
                            "--port",
                            str(web_port),
                            "--rasa-url",
                            f"http://localhost:{rasa_port}",
                        ],
                        cwd=ROOT,
                        env=environment,
                        stdout=web_log,
                        stderr=subprocess.STDOUT,
                    )
                )
        bot = Bot(
            f"http://127.0.0.1:{rasa_port}",
            f"http://127.0.0.1:{action_port}",
            processes,
            f"http://localhost:{web_port}" if with_web else None,
        )
        if action_endpoint is None:
            wait_until(
                lambda: urllib.request.urlopen(bot.action_url + "/health", timeout=2).status == 200,
                60,
                "action server",
                processes,
            )
        warm_up = f"warm-up-{os.getpid()}-{time.time_ns()}"
        wait_until(lambda: bool(bot.say(warm_up, "hello", timeout=10)), 120, "Rasa server", processes)
        if bot.web_url:
            wait_until(lambda: urllib.request.urlopen(bot.web_url, timeout=2).status == 200, 30, "web page", processes)
        yield bot
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
