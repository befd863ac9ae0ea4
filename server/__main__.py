"""Start the Rasa server: `python -m server --model models/current.tar.gz`.

What `rasa run --endpoints endpoints.yml --credentials credentials.yml` does
(rasa.core.run.serve_application), with this project's patches applied first
(server/patches.py) and Rasa's HTTP API off unless asked for.
"""

from __future__ import annotations

import argparse
import logging
import os

from actions import contract
from actions.clinic import load_clinic

logger = logging.getLogger("server")


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
        default=int(os.environ.get("MAX_TURNS_PER_SESSION", "20")),
        help="start a new session (slots carried over) after this many patient messages",
    )
    return parser.parse_args(argv)


def unavailable_reply() -> tuple:
    clinic = load_clinic()
    text = (
        "Sorry, I can't look that up right now. Please try again in a moment, "
        f"or call {clinic.name} on {clinic.phone}."
    )
    return text, contract.payload("fallback")


def main(argv: list | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    from rasa.core import agent
    from rasa.core.run import configure_app, create_http_input_channels
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.log_utils import configure_structlog

    from server import patches

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    configure_structlog(logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO")))
    patches.apply(*unavailable_reply(), max_turns=args.max_turns_per_session)

    endpoints = AvailableEndpoints.read_endpoints(args.endpoints)
    channels = []
    for channel in create_http_input_channels(None, args.credentials):
        if getattr(channel, "enabled", True):
            channels.append(channel)
        else:
            logger.info("%s channel off: set %s to turn it on", channel.name(), ", ".join(channel.missing_env()))
    app = configure_app(
        channels,
        cors=None,
        enable_api=False,
        response_timeout=args.response_timeout,
        port=args.port,
        endpoints=endpoints,
    )

    async def load_agent(app, loop) -> None:  # type: ignore[no-untyped-def]
        app.ctx.agent = await agent.load_agent(model_path=args.model, endpoints=endpoints, loop=loop)
        logger.info("Rasa server is up and running on http://%s:%s", args.interface, args.port)

    app.register_listener(load_agent, "before_server_start")
    app.register_listener(patches.close_sessions, "after_server_stop")
    # One worker: the socket.io channel and the in-process lock store need it.
    app.run(host=args.interface, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
