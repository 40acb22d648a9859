"""Conversations kept in SQLite write through a write-ahead log (bot/tracker_store.py)."""

import asyncio
import sqlite3

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted, SlotSet, UserUttered
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


def test_a_conversation_reads_back_as_rasa_s_own_store_reads_it(tmp_path):
    database = tmp_path / "tracker.db"
    domain = Domain.load(str(PROJECT_DIR / "domain.yml"))
    ours = ClinicTrackerStore(domain=domain, dialect="sqlite", db=str(database))
    upstream = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(database))
    events = [
        SessionStarted(timestamp=1),
        UserUttered("does it hurt?", timestamp=2),
        SlotSet("previous_topic", "pain", timestamp=3),
        BotUttered("A little.", timestamp=4),
        SessionStarted(timestamp=10),
        UserUttered("and after?", timestamp=11),
    ]
    asyncio.run(ours.save(DialogueStateTracker.from_events("visitor", events, domain.slots)))
    latest, everything = asyncio.run(ours.retrieve("visitor")), asyncio.run(ours.retrieve_full_tracker("visitor"))
    assert [event.as_dict() for event in latest.events] == [
        event.as_dict() for event in asyncio.run(upstream.retrieve("visitor")).events
    ]
    assert len(latest.events) == 2
    assert list(everything.events) == list(asyncio.run(upstream.retrieve_full_tracker("visitor")).events)
    assert len(everything.events) == len(events)
    assert asyncio.run(ours.retrieve("nobody")) is None
