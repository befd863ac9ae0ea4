"""Start the Rasa server: `python -m server --model models/current.tar.gz`.

What `rasa run --endpoints endpoints.yml --credentials credentials.yml` does
(rasa.core.run.serve_application), with this project's changes:
- the patches in server/patches.py, applied first;
- the conversation store is opened before the server listens: an unusable
  database stops the server with a clear error (exit code 2), and the agent
  uses the store directly, without Rasa's FailSafeTrackerStore, which would
  quietly fall back to memory or restart conversations when the database fails;
- request bodies are capped (MAX_REQUEST_BYTES, default 64 KB: enough for a
  2,000-character message in a socket.io polling request or a platform's
  webhook, whatever its characters; REST has its own 8 KB cap) and errors are JSON;
- CORS is a literal allowlist (the origins listed for the web widget in
  credentials.yml): sanic-cors treats origins as regular expressions matched
  at the start only, so a pattern for the clinic also admits
  `https://clinic.example.com.attacker.test`;
- Rasa's HTTP API is off; with RASA_ENABLE_API=true it needs RASA_API_TOKEN,
  and no endpoint that loads, trains or replaces a model is reachable;
- messaging channels without their environment variables are left out;
- emails and phone numbers are masked in the logs (REDACT_PERSONAL_DATA).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Dict, FrozenSet, List, Tuple

import yaml

from actions import contract
from actions.clinic import load_clinic

logger = logging.getLogger("server")

# Routes of Rasa's HTTP API that change which model runs (CVE-2024-49375 was
# in this area): never served, whatever the token.
MODEL_ROUTES = ("/model",)


def parse_args(argv: list | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Microneedling assistant: Rasa server")
    parser.add_argument("--model", default="models/current.tar.gz")
    parser.add_argument("--interface", default=os.environ.get("RASA_INTERFACE", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--credentials", default="credentials.yml")
    parser.add_argument("--response-timeout", type=int, default=60)
    parser.add_argument(
        "--max-turns-per-session",
        type=int,
        default=int(os.environ.get("MAX_TURNS_PER_SESSION", "5")),
        help="start a new session (slots carried over) after this many patient messages",
    )
    return parser.parse_args(argv)


def unavailable_reply() -> Tuple[str, Dict[str, Any]]:
    clinic = load_clinic()
    text = (
        "Sorry, I can't look that up right now. Please try again in a moment, "
        f"or call {clinic.name} on {clinic.phone}."
    )
    return text, contract.payload("fallback")


def allowed_origins(credentials_file: str) -> FrozenSet[str]:
    credentials = yaml.safe_load(open(credentials_file, encoding="utf-8")) or {}
    origins: List[str] = []
    for settings in credentials.values():
        if isinstance(settings, dict):
            origins += settings.get("cors_allowed_origins") or []
    return frozenset(origins)


def open_tracker_store(endpoints: Any) -> Any:
    """The configured conversation store, or exit with a clear error."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.shared.utils.common import class_from_module_path

    config = endpoints.tracker_store
    try:
        if config is not None and config.type and "." in config.type:
            store_class = class_from_module_path(config.type)
            return store_class(host=config.url, domain=None, event_broker=None, **config.kwargs)
        return TrackerStore.create(config)
    except Exception as error:  # noqa: BLE001 - any failure here means: do not start
        print(f"server: not starting: the conversation store is unusable: {error}", file=sys.stderr)
        sys.exit(2)


def add_http_guards(app: Any, origins: FrozenSet[str], api_enabled: bool) -> None:
    from sanic import response

    app.config.REQUEST_MAX_SIZE = int(os.environ.get("MAX_REQUEST_BYTES", "65536"))
    app.config.FALLBACK_ERROR_FORMAT = "json"

    @app.on_request
    async def guard(request: Any) -> Any:
        if any(request.path == r or request.path.startswith(r + "/") for r in MODEL_ROUTES):
            return response.json({"error": "model management is disabled on this server"}, status=403)
        return None

    @app.on_response
    async def retry_hint_and_cors(request: Any, reply: Any) -> None:
        if reply.status == 503 and "Retry-After" not in reply.headers:
            reply.headers["Retry-After"] = "2"  # e.g. Sanic's own response timeout
        # Rasa's sanic-cors is configured with no origins, so it adds nothing;
        # an exactly listed origin gets the headers here, any other none.
        origin = request.headers.get("Origin")
        if origin and origin in origins and request.path.startswith("/webhooks/"):
            reply.headers["Access-Control-Allow-Origin"] = origin
            reply.headers["Access-Control-Expose-Headers"] = "X-Conversation-Token"
            reply.headers["Vary"] = "Origin"
            if request.method == "OPTIONS":
                reply.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
                reply.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Conversation-Token"
                reply.headers["Access-Control-Max-Age"] = "600"


def main(argv: list | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    from rasa.core.agent import Agent
    from rasa.core.lock_store import LockStore
    from rasa.core.run import configure_app, create_http_input_channels
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.log_utils import configure_structlog

    from server import patches
    from server.guards import install_log_redaction

    level = os.environ.get("LOG_LEVEL", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    configure_structlog(logging.getLevelName(level))
    install_log_redaction()

    api_enabled = os.environ.get("RASA_ENABLE_API", "false").lower() == "true"
    api_token = os.environ.get("RASA_API_TOKEN")
    if api_enabled and not api_token:
        print("server: not starting: RASA_ENABLE_API=true needs RASA_API_TOKEN", file=sys.stderr)
        sys.exit(2)

    patches.apply(*unavailable_reply(), max_turns=args.max_turns_per_session)
    endpoints = AvailableEndpoints.read_endpoints(args.endpoints)
    tracker_store = open_tracker_store(endpoints)

    channels = []
    for channel in create_http_input_channels(None, args.credentials):
        if getattr(channel, "enabled", True):
            channels.append(channel)
        else:
            logger.info("%s channel off: set %s to turn it on", channel.name(), ", ".join(channel.missing_env()))
    app = configure_app(
        channels,
        cors=None,
        enable_api=api_enabled,
        auth_token=api_token,
        response_timeout=args.response_timeout,
        port=args.port,
        endpoints=endpoints,
    )
    add_http_guards(app, allowed_origins(args.credentials), api_enabled)

    async def load_agent(app: Any, _loop: Any) -> None:
        agent = Agent(
            generator=endpoints.nlg,
            tracker_store=tracker_store,
            lock_store=LockStore.create(endpoints.lock_store),
            action_endpoint=endpoints.action,
        )
        agent.tracker_store = tracker_store  # no FailSafeTrackerStore: failures must surface
        agent.load_model(args.model)
        app.ctx.agent = agent
        logger.info("Rasa server is up and running on http://%s:%s", args.interface, args.port)

    app.register_listener(load_agent, "before_server_start")
    app.register_listener(patches.close_sessions, "after_server_stop")
    # One worker: the socket.io channel and the in-process lock store need it;
    # more processes go behind nginx (deploy/README.md).
    app.run(host=args.interface, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
