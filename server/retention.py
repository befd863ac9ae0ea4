"""Delete stored conversations older than a number of days.

    python -m server.retention [--days N] [--endpoints endpoints.yml]
    make prune-conversations DAYS=N

N defaults to RETENTION_DAYS (90). A conversation is deleted, all its
sessions and events, when its latest event is older than N days.
"""

from __future__ import annotations

import argparse
import os
import sys

from rasa.core.utils import AvailableEndpoints

from server.__main__ import open_tracker_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=float(os.environ.get("RETENTION_DAYS", "90")))
    parser.add_argument("--endpoints", default="endpoints.yml")
    args = parser.parse_args()
    if args.days <= 0:
        sys.exit("--days must be positive")
    store = open_tracker_store(AvailableEndpoints.read_endpoints(args.endpoints))
    delete = getattr(store, "delete_older_than", None)
    if delete is None:
        sys.exit(f"{type(store).__name__} does not support retention (use server.tracker_store.ClinicTrackerStore)")
    print(f"deleted {delete(args.days)} conversation(s) older than {args.days:g} days")


if __name__ == "__main__":
    main()
