"""Rasa's SQL tracker store, with SQLite writing through a write-ahead log over kept connections.

Rasa commits every turn. With SQLite's defaults (rollback journal,
``synchronous=FULL``) each commit waits for the disk several times: about 20 ms
a turn on the shared 2-core machine, far more while others write. In WAL mode
with ``synchronous=NORMAL`` a commit appends to the log, 0.3 ms, and the
database is never corrupted: a power cut (not a crash of the server) may lose
the last turns. WAL needs connections that stay open: SQLAlchemy 1.4 opens and
closes one per query for a SQLite file (NullPool), and the last close copies
the log back with a full sync, so the engine here keeps a pool, as SQLAlchemy
2.0 does by default. Other databases are left exactly as Rasa configures them.

endpoints.yml names it: ``tracker_store: type: bot.tracker_store.SQLiteTrackerStore``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

# What endpoints.yml's ``type`` says for this store (Rasa's own SQL store is ``SQL``).
TYPE = f"{__name__}.SQLiteTrackerStore"


def _write_ahead(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SQLiteTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite":
            return
        url = self.engine.url
        self.engine.dispose()
        # Sanic serves every request on one thread; the pool hands its connections to whichever asks.
        self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _write_ahead)
        self.sessionmaker = sessionmaker(bind=self.engine)
