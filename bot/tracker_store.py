"""Rasa's SQL tracker store, with SQLite writing through a write-ahead log.

Rasa commits every turn; SQLite's default (rollback journal, ``synchronous=FULL``)
waits for the disk several times per commit, 5-10 ms each on the shared machine
and far more while others write. In WAL mode with ``synchronous=NORMAL`` a
commit is one append to the log, and the database is still never corrupted: a
power cut (not a crash of the server) may lose the last turns. Other databases
are left exactly as Rasa configures them.

endpoints.yml names it: ``tracker_store: type: bot.tracker_store.SQLiteTrackerStore``.
"""

from __future__ import annotations

import os
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event


def _write_ahead(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SQLiteTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and not os.environ.get("BENCH_PLAIN_SQLITE"):  # TEMP A/B toggle
            event.listen(self.engine, "connect", _write_ahead)
