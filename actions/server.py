"""Entry point of the action server: `python -m actions.server`.

Loads and validates the facts file, clinic settings and red flags before
listening (a broken file stops it with an error naming file, entry and field,
exit code 2), then serves rasa_sdk's app on loopback by default.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from actions import runtime
from actions.clinic import ClinicFileError
from actions.facts_store import FactsFileError
from actions.red_flags_config import RedFlagsFileError


def main(argv: list | None = None) -> None:
    parser = argparse.ArgumentParser(description="Microneedling assistant action server")
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT", "5055")))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )

    try:
        rt = runtime.init()
    except (FactsFileError, ClinicFileError, RedFlagsFileError) as exc:
        print(f"action server: not starting: {exc}", file=sys.stderr)
        sys.exit(2)
    logging.getLogger(__name__).info(
        "loaded %d facts on %d topics from %s", len(rt.store.facts), len(rt.store.topics), rt.store.path
    )

    from rasa_sdk.endpoint import create_app

    app = create_app("actions", cors_origins=None)
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
