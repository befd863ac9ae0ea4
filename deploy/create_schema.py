"""Create the conversation table and its index once, before the Rasa processes start.

    .venv/bin/python deploy/create_schema.py ENDPOINTS_FILE

Every Rasa process creates the table and index when it opens the store
(server/tracker_store.py: `create_all`, `CREATE INDEX IF NOT EXISTS`). Two
processes starting together on an empty PostgreSQL database race there, and
the loser stops with "duplicate key value violates unique constraint
pg_class_relname_nsp_index" (observed with 2 processes). deploy/scale-out.sh
runs this first, so the processes find the schema in place.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def main() -> None:
    from rasa.core.utils import AvailableEndpoints

    from server.__main__ import open_tracker_store

    endpoints = AvailableEndpoints.read_endpoints(sys.argv[1])
    store = open_tracker_store(endpoints)  # exits 2 with a clear message when unusable
    store.engine.dispose()


if __name__ == "__main__":
    main()
