"""Rasa's SQL tracker store, fast on SQLite and riding out a database restart.

Both endpoints files name it: ``tracker_store: type: bot.tracker_store.ClinicTrackerStore``
(SQLite for ``make run``, PostgreSQL for ``make prod``). What it changes:

* **SQLite writes through a write-ahead log over kept connections.** Rasa
  commits every turn. With SQLite's defaults (rollback journal,
  ``synchronous=FULL``) each commit waits for the disk several times: about
  20 ms a turn on the shared 2-core machine, far more while others write. In
  WAL mode with ``synchronous=NORMAL`` a commit appends to the log, 0.3 ms,
  and the database is never corrupted: a power cut (not a crash of the server)
  may lose the last turns. WAL needs connections that stay open: SQLAlchemy 1.4
  opens and closes one per query for a SQLite file (NullPool), and the last
  close copies the log back with a full sync, so the engine here keeps a pool,
  as SQLAlchemy 2.0 does by default.
* **Other databases check a pooled connection before using it**
  (``pool_pre_ping``): after a PostgreSQL restart upstream's pool hands out
  connections the restart closed, so the first turns after the database is
  back would fail too.
* **Reads and saves are retried while the database comes back.** Rasa wraps
  every tracker store in ``FailSafeTrackerStore`` (rasa/core/tracker_store.py),
  which swallows any ``Exception``: a failed read becomes an empty
  conversation, a failed save goes to memory, so the visitor is answered
  without their history and the turn never reaches the database (introduced by
  RasaHQ/rasa#3243; its last comment reports the lost messages). When the
  database does not come back in time, :class:`DatabaseUnavailable`
  (deliberately not an ``Exception``) passes the fail-safe wrapper untouched,
  and the channels tell the visitor to try again in a moment
  (bot/channels/never_silent.py).
* **A conversation's tracker is kept between its turns.** Upstream reads
  every event of the session back and replays it into a new tracker on each
  turn: at turn 60 more than half of what a turn costs beyond the first. A
  tracker this store handed out and saved is handed out again as long as the
  database still holds what it held then: how many rows the conversation
  has, the last one's id and timestamp, read from the index in one small
  query; a save then writes the events after those the tracker was read
  with. Any other writer (the other Rasa server in production, ``bot
  forget``, ``bot purge``, a turn that failed before it was saved) changes
  that mark or the tracker, and the conversation is read from the database
  again. A save reads its mark in its own transaction, and a turn of one
  conversation is never handled twice at once (Rasa's lock store). An event
  broker, if one is configured, is sent the events each save wrote; upstream
  reads the conversation back to find them.
* **A turn's statements are SQL text.** Upstream's ORM queries rebuild their
  cache key on every run (SQLAlchemy 1.4), an eighth of the Rasa server's time
  under load, and load each row as an object with every column to read one.
  The same statements as SQL text read the events' JSON only, and the events
  are turned back into Rasa's classes through a table built once
  (bot/event_classes.py), not by a walk of Rasa's class tree for each event.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot import event_classes
from bot.tracker import AppendOnlyTracker

logger = logging.getLogger(__name__)

# What the endpoints files' ``type`` says for this store (Rasa's own SQL store is ``SQL``).
TYPE = f"{__name__}.ClinicTrackerStore"
RETRY_VARIABLE = "TRACKER_STORE_RETRY_SECONDS"
# A restart (`pg_ctl restart -m fast`) takes 1-2 s; a visitor waiting longer than this prefers "try again".
DEFAULT_RETRY_SECONDS = 8.0
PAUSE_SECONDS = 0.25
KEPT_VARIABLE = "TRACKER_STORE_KEPT_CONVERSATIONS"
# The conversations of the last hour on a clinic's site, at well under 1 MB each; 0 keeps none.
DEFAULT_KEPT_CONVERSATIONS = 256

Result = TypeVar("Result")


class DatabaseUnavailable(BaseException):
    """The tracker store could not be reached in time; the turn was neither read nor saved."""


class Mark(NamedTuple):
    """What the database holds of a conversation, read from the index without reading the events."""

    rows: int
    last_id: int | None
    last_timestamp: float | None


@dataclass(frozen=True)
class _Kept:
    tracker: DialogueStateTracker
    mark: Mark  # of the database when the tracker held the same events as its latest session
    events: int  # how many the tracker held then


# What a turn runs, as SQL text. SQLAlchemy 1.4 rebuilds an ORM query's cache key on every run: upstream's
# queries were an eighth of the Rasa server's time under load. Standard SQL: SQLite and PostgreSQL alike.
_TABLE = SQLTrackerStore.SQLEvent.__tablename__
_SESSION_START = f"(SELECT max(timestamp) FROM {_TABLE} WHERE sender_id = :sender_id AND type_name = :session_started)"
# Upstream's ``_event_query``: the events since the latest session start, or all of them before the first.
_IN_LATEST_SESSION = f"sender_id = :sender_id AND (timestamp >= {_SESSION_START} OR {_SESSION_START} IS NULL)"
LATEST_SESSION_SIZE = sa.text(f"SELECT count(*) FROM {_TABLE} WHERE {_IN_LATEST_SESSION}")
_LAST_ID = f"(SELECT max(id) FROM {_TABLE} WHERE sender_id = :sender_id)"
MARK = sa.text(
    f"SELECT count(*), max(id), (SELECT timestamp FROM {_TABLE} WHERE id = {_LAST_ID}) "
    f"FROM {_TABLE} WHERE sender_id = :sender_id"
)
LATEST_SESSION_EVENTS = sa.text(f"SELECT data FROM {_TABLE} WHERE {_IN_LATEST_SESSION} ORDER BY id")
EVERY_SESSION_EVENTS = sa.text(f"SELECT data FROM {_TABLE} WHERE sender_id = :sender_id ORDER BY id")
INSERT_EVENT = sa.text(
    f"INSERT INTO {_TABLE} (sender_id, type_name, timestamp, intent_name, action_name, data) "
    "VALUES (:sender_id, :type_name, :timestamp, :intent_name, :action_name, :data)"
)


def _ids(sender_id: str) -> dict[str, str]:
    return {"sender_id": sender_id, "session_started": SessionStarted.type_name}


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The columns upstream's ``save`` writes for an event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _write_ahead(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class ClinicTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        event_classes.install()
        url = self.engine.url
        self.engine.dispose()
        if self.engine.dialect.name == "sqlite":
            # Sanic serves every request on one thread; the pool hands its connections to whichever asks.
            self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _write_ahead)
        else:
            self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.retry_seconds = float(os.environ.get(RETRY_VARIABLE) or DEFAULT_RETRY_SECONDS)
        self.kept_conversations = int(os.environ.get(KEPT_VARIABLE) or DEFAULT_KEPT_CONVERSATIONS)
        # sender id → the tracker handed out last, with what the database and the tracker held then
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._retrying("read", lambda: self._latest_session(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._retrying("read", lambda: self._every_session(conversation_id))

    async def _latest_session(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            mark = self._mark(session, sender_id)
            kept = self._still_kept(sender_id, mark)
            if kept is not None:
                return kept
            # Read after the mark: an event written in between makes the mark stale, never the tracker.
            tracker = self._tracker(sender_id, session.execute(LATEST_SESSION_EVENTS, _ids(sender_id)))
        if tracker is None:
            self._kept.pop(sender_id, None)
        else:
            self._keep(_Kept(tracker, mark, len(tracker.events)))
        return tracker

    async def _every_session(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            return self._tracker(sender_id, session.execute(EVERY_SESSION_EVENTS, _ids(sender_id)))

    def _tracker(self, sender_id: str, rows: Iterable[Any]) -> DialogueStateTracker | None:
        events = [json.loads(data) for (data,) in rows]
        if self.domain is None or not events:
            return None
        return AppendOnlyTracker.from_dict(sender_id, events, self.domain.slots)

    @staticmethod
    def _mark(session: Any, sender_id: str) -> Mark:
        return Mark(*session.execute(MARK, _ids(sender_id)).one())

    def _still_kept(self, sender_id: str, mark: Mark) -> DialogueStateTracker | None:
        """The kept tracker, if the database holds what it held then and the tracker still holds its events.

        The tracker holds more after a turn that failed before it was saved.
        """
        kept = self._kept.get(sender_id)
        if kept is None or kept.mark != mark or len(kept.tracker.events) != kept.events:
            return None
        self._kept.move_to_end(sender_id)
        return kept.tracker

    def _keep(self, kept: _Kept) -> None:
        self._kept[kept.tracker.sender_id] = kept
        self._kept.move_to_end(kept.tracker.sender_id)
        while len(self._kept) > self.kept_conversations:
            self._kept.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        written = await self._retrying("save", lambda: self._save_and_mark(tracker))
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, written, tracker.sender_id)

    async def _save_and_mark(self, tracker: DialogueStateTracker) -> list[Event]:
        """Writes the events the database does not hold yet, in one transaction (so safe to repeat); returns them."""
        sender_id = tracker.sender_id
        kept = self._kept.get(sender_id)
        read_here = kept is not None and kept.tracker is tracker
        with self.session_scope() as session:
            if read_here and kept.mark == self._mark(session, sender_id):
                stored = kept.events  # nothing was written since this store read the conversation
            else:
                # As upstream counts: the database holds the latest session's first events, the tracker all of them.
                stored = session.execute(LATEST_SESSION_SIZE, _ids(sender_id)).scalar_one()
            new = list(itertools.islice(tracker.events, stored, None))
            if new:
                session.execute(INSERT_EVENT, [_row(sender_id, event) for event in new])
            mark = self._mark(session, sender_id)
            session.commit()
        # Only a tracker this store read holds the database's events and the turn's, nothing else. A new
        # session is kept from its next read on: that read gives the new session alone.
        if read_here and not any(isinstance(event, SessionStarted) for event in new):
            self._keep(_Kept(tracker, mark, len(tracker.events)))
        else:
            self._kept.pop(sender_id, None)
        return new

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[Result]]) -> Result:
        deadline = time.monotonic() + self.retry_seconds
        while True:
            try:
                return await attempt()
            except sa.exc.OperationalError as error:
                if time.monotonic() >= deadline:
                    # The error names the database and host only; never a conversation's content.
                    logger.error("tracker store: could not %s a conversation: %s", what, error.orig)
                    raise DatabaseUnavailable(what) from None
                await asyncio.sleep(PAUSE_SECONDS)
