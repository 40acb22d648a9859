"""Rasa's SQL tracker store, fast on SQLite and riding out a database restart.

Both endpoints files name it: ``tracker_store: type: bot.tracker_store.ClinicTrackerStore``
(SQLite for ``make run``, PostgreSQL for ``make prod``). It changes four things:

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
* **Events are read back as their JSON only.** Upstream loads each row as an
  ORM object with every column, to read one (``_retrieve``): at turn 150 of a
  conversation that was a third of the turn. They are turned back into Rasa's
  classes through a table built once (bot/event_classes.py), not by a walk of
  Rasa's class tree for each event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot import event_classes

logger = logging.getLogger(__name__)

# What the endpoints files' ``type`` says for this store (Rasa's own SQL store is ``SQL``).
TYPE = f"{__name__}.ClinicTrackerStore"
RETRY_VARIABLE = "TRACKER_STORE_RETRY_SECONDS"
# A restart (`pg_ctl restart -m fast`) takes 1-2 s; a visitor waiting longer than this prefers "try again".
DEFAULT_RETRY_SECONDS = 8.0
PAUSE_SECONDS = 0.25

Result = TypeVar("Result")


class DatabaseUnavailable(BaseException):
    """The tracker store could not be reached in time; the turn was neither read nor saved."""


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

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        parent = super()
        return await self._retrying("read", lambda: parent.retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        parent = super()
        return await self._retrying("read", lambda: parent.retrieve_full_tracker(conversation_id))

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if self.domain is None or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        # Safe to repeat: upstream writes only the events the database does not hold yet, in one transaction.
        parent = super()
        await self._retrying("save", lambda: parent.save(tracker))

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
