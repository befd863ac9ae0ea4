"""Conversations in SQL: Rasa's SQLTrackerStore, made fast.

Configured in endpoints.yml as `type: server.tracker_store.ClinicTrackerStore`.
Same table, same columns, same rules (a tracker is the events since the
latest `session_started`, in id order) as Rasa's SQLTrackerStore, so the
database stays readable by Rasa's own store and tools. What changes, each for
a measured reason (docs/benchmarks.md):
- Reads and writes use SQLAlchemy Core statements on one pooled connection,
  not ORM sessions that open a new SQLite connection per call: Rasa's store
  spent about 5 ms of a 10 ms message in ORM bookkeeping, connecting and
  closing (profiled with py-spy).
- SQLite runs in WAL mode with `synchronous=NORMAL`: a commit no longer waits
  for fsyncs, and committed turns still survive a crash of the server process.
- An index on (sender_id, type_name, timestamp), so finding a conversation's
  latest session start reads a few index entries, not its whole history.
- `delete_older_than(days)` for the retention command (server/retention.py).
- It fails loudly: an unreachable database at start raises StorageUnavailable
  (Rasa's store retries forever, and Rasa falls back to an in-memory store
  when a custom store cannot be loaded), and errors while serving reach the
  channel, which answers 503 (server/rest_channel.py) instead of Rasa's
  FailSafeTrackerStore silently starting the conversation afresh.
- Emails and phone numbers in what patients type are masked before they are
  stored (REDACT_PERSONAL_DATA, server/guards.py).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
import ujson
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore, create_engine_kwargs, validate_port
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.exc import SQLAlchemyError

from server.guards import redact, redaction_enabled

logger = logging.getLogger(__name__)

SESSION_INDEX = "ix_events_sender_type_time"


def redact_user_event(data: Dict[str, Any]) -> Dict[str, Any]:
    """A user event with emails and phone numbers masked in its text."""
    data = dict(data)
    if isinstance(data.get("text"), str):
        data["text"] = redact(data["text"])
    parse = data.get("parse_data")
    if isinstance(parse, dict) and isinstance(parse.get("text"), str):
        data["parse_data"] = {**parse, "text": redact(parse["text"])}
    return data


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class StorageUnavailable(Exception):
    """The conversation database cannot be used."""


class ClinicTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Optional[Domain] = None,
        dialect: Text = "sqlite",
        host: Optional[Text] = None,
        port: Optional[int] = None,
        db: Text = "rasa.db",
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        query: Optional[Dict] = None,
        **kwargs: Any,
    ) -> None:
        url = self.get_db_url(dialect, host, validate_port(port), db, username, password, None, query)
        if dialect == "sqlite":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(
                url,
                poolclass=sa.pool.QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"check_same_thread": False},
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:  # PostgreSQL: SQL_POOL_SIZE and SQL_MAX_OVERFLOW size the pool, as in Rasa
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        try:
            with self.engine.begin() as connection:
                if self.engine.dialect.name == "postgresql":
                    # several processes starting together would race to create
                    # the table: one at a time (released at commit)
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(72437301)"))
                self.Base.metadata.create_all(connection)
                connection.execute(
                    sa.text(f"CREATE INDEX IF NOT EXISTS {SESSION_INDEX} ON events (sender_id, type_name, timestamp)")
                )
        except SQLAlchemyError as error:
            where = self.engine.url.render_as_string(hide_password=True)
            raise StorageUnavailable(f"cannot open the conversation database {where}: {error}") from error
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        self.redact = redaction_enabled()
        self.table = t = self.SQLEvent.__table__
        # Statements built once; each call only binds the sender id.
        sender = sa.bindparam("sender_id")
        start = (
            sa.select(sa.func.max(t.c.timestamp))
            .where(t.c.sender_id == sender, t.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_session = sa.and_(t.c.sender_id == sender, sa.or_(start.is_(None), t.c.timestamp >= start))
        self._select_session = sa.select(t.c.data).where(in_session).order_by(t.c.id)
        self._select_all = sa.select(t.c.data).where(t.c.sender_id == sender).order_by(t.c.id)
        self._count_session = sa.select(sa.func.count()).select_from(t).where(in_session)
        self._any_event = sa.select(t.c.id).where(t.c.sender_id == sender).limit(1)

    async def exists(self, sender_id: Text) -> bool:
        """Whether any event was ever stored for this conversation."""
        with self.engine.connect() as connection:
            return connection.execute(self._any_event, {"sender_id": sender_id}).first() is not None

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        statement = self._select_all if fetch_events_from_all_sessions else self._select_session
        with self.engine.connect() as connection:
            rows = connection.execute(statement, {"sender_id": sender_id}).fetchall()
        events = [ujson.loads(row.data) for row in rows]  # Rasa's own dependency; 1.6x json's speed
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            stored = connection.execute(self._count_session, {"sender_id": tracker.sender_id}).scalar()
            rows: List[Dict[str, Any]] = []
            for event in list(tracker.events)[stored:]:
                data = event.as_dict()
                if self.redact and event.type_name == "user":
                    data = redact_user_event(data)
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                connection.execute(self.table.insert(), rows)

    def delete_older_than(self, days: float, now: Optional[float] = None) -> int:
        """Delete conversations whose latest event is older than `days`; return how many."""
        cutoff = (now if now is not None else time.time()) - days * 86400
        t = self.table
        with self.engine.begin() as connection:
            senders = [
                row[0]
                for row in connection.execute(
                    sa.select(t.c.sender_id).group_by(t.c.sender_id).having(sa.func.max(t.c.timestamp) < cutoff)
                )
            ]
            for start in range(0, len(senders), 500):
                connection.execute(t.delete().where(t.c.sender_id.in_(senders[start : start + 500])))
        return len(senders)
