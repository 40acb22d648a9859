"""Conversations kept in SQLite write through a write-ahead log (bot/tracker_store.py)."""

import asyncio
import sqlite3

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_DIR
from bot.tracker_store import ClinicTrackerStore


def test_conversations_are_stored_and_read_back_in_wal_mode(tmp_path):
    database = tmp_path / "tracker.db"
    domain = Domain.load(str(PROJECT_DIR / "domain.yml"))
    store = ClinicTrackerStore(domain=domain, dialect="sqlite", db=str(database))
    tracker = DialogueStateTracker.from_events("visitor", [UserUttered("does it hurt?")])
    asyncio.run(store.save(tracker))
    stored = asyncio.run(store.retrieve("visitor"))
    assert stored.latest_message.text == "does it hurt?"
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
