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


# A conversation's tracker is kept between its turns; these are the ways the database can change under it.


def _store(database):
    return ClinicTrackerStore(domain=Domain.load(str(PROJECT_DIR / "domain.yml")), dialect="sqlite", db=str(database))


def _turn(store, sender, text, at):
    """One turn as Rasa's processor takes it: read, add the turn's events, save; the tracker read."""
    tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker.from_events(sender, [], store.domain.slots)
    turn = [UserUttered(text, timestamp=at), BotUttered(f"answer to {text}", timestamp=at + 0.5)]
    tracker.update_with_events(turn, store.domain)
    asyncio.run(store.save(tracker))
    return tracker


def _texts(tracker):
    return [event.text for event in tracker.events if isinstance(event, (UserUttered, BotUttered))] if tracker else None


def _as_upstream_reads_it(database, sender):
    upstream = SQLTrackerStore(domain=Domain.load(str(PROJECT_DIR / "domain.yml")), dialect="sqlite", db=str(database))
    return _texts(asyncio.run(upstream.retrieve(sender)))


def test_a_long_conversation_reads_as_the_database_holds_it_at_every_turn(tmp_path):
    store = _store(tmp_path / "tracker.db")
    for turn in range(40):
        _turn(store, "visitor", f"question {turn}", at=turn)
        assert _texts(asyncio.run(store.retrieve("visitor"))) == _as_upstream_reads_it(
            tmp_path / "tracker.db", "visitor"
        )
    assert len(asyncio.run(store.retrieve("visitor")).events) == 80


def test_a_conversation_s_tracker_is_kept_between_its_turns(tmp_path):
    store = _store(tmp_path / "tracker.db")
    _turn(store, "visitor", "does it hurt?", at=1)
    kept = _turn(store, "visitor", "how long?", at=2)
    assert asyncio.run(store.retrieve("visitor")) is kept


def test_a_turn_another_server_wrote_is_read_back(tmp_path):
    this_server, other_server = _store(tmp_path / "tracker.db"), _store(tmp_path / "tracker.db")
    _turn(this_server, "visitor", "does it hurt?", at=1)
    _turn(this_server, "visitor", "how long?", at=2)
    _turn(other_server, "visitor", "and the price?", at=3)
    assert _texts(asyncio.run(this_server.retrieve("visitor")))[-2] == "and the price?"


def test_a_forgotten_conversation_is_never_handed_out_again(tmp_path):
    database = tmp_path / "tracker.db"
    store = _store(database)
    for turn in range(3):
        _turn(store, "visitor", f"I am pregnant, question {turn}", at=turn)
    with sqlite3.connect(database) as connection:  # what `bot forget` does, from another process
        connection.execute("DELETE FROM events WHERE sender_id = 'visitor'")
    assert asyncio.run(store.retrieve("visitor")) is None
    _turn(_store(database), "visitor", "hello", at=10)  # the visitor writes again, through the other server
    assert _texts(asyncio.run(store.retrieve("visitor"))) == ["hello", "answer to hello"]


def test_a_conversation_forgotten_and_rewritten_to_the_same_length_is_read_again(tmp_path):
    database = tmp_path / "tracker.db"
    store = _store(database)
    _turn(store, "visitor", "I am pregnant", at=1)
    _turn(store, "visitor", "can I still come?", at=2)
    with sqlite3.connect(database) as connection:  # SQLite gives the deleted rows' ids to the next ones
        connection.execute("DELETE FROM events WHERE sender_id = 'visitor'")
    other_server = _store(database)
    _turn(other_server, "visitor", "hello", at=10)
    _turn(other_server, "visitor", "does it hurt?", at=11)
    assert "I am pregnant" not in _texts(asyncio.run(store.retrieve("visitor")))


def test_a_turn_that_failed_before_its_save_is_not_handed_out(tmp_path):
    store = _store(tmp_path / "tracker.db")
    _turn(store, "visitor", "does it hurt?", at=1)
    failed = asyncio.run(store.retrieve("visitor"))
    failed.update(UserUttered("a turn the server never finished", timestamp=2))
    assert _texts(asyncio.run(store.retrieve("visitor"))) == ["does it hurt?", "answer to does it hurt?"]


def test_a_new_session_reads_back_alone_as_upstream_reads_it(tmp_path):
    database = tmp_path / "tracker.db"
    store = _store(database)
    _turn(store, "visitor", "does it hurt?", at=1)
    tracker = asyncio.run(store.retrieve("visitor"))
    tracker.update_with_events([SessionStarted(timestamp=100), UserUttered("back again", timestamp=101)], store.domain)
    asyncio.run(store.save(tracker))
    assert _texts(asyncio.run(store.retrieve("visitor"))) == _as_upstream_reads_it(database, "visitor")
    assert _texts(asyncio.run(store.retrieve("visitor")))[-1] == "back again"
    assert "does it hurt?" not in _texts(asyncio.run(store.retrieve("visitor")))


def test_no_more_conversations_are_kept_than_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_STORE_KEPT_CONVERSATIONS", "2")
    store = _store(tmp_path / "tracker.db")
    for visitor in ("a", "b", "c"):
        _turn(store, visitor, "hi", at=1)
        _turn(store, visitor, "does it hurt?", at=2)
    assert len(store._kept) == 2


class _Broker:
    """An event broker (Kafka, RabbitMQ, …) that only collects what it is sent."""

    def __init__(self):
        self.published = []

    def publish(self, event):
        self.published.append(event)


def test_an_event_broker_is_sent_each_turn_s_events_once(tmp_path):
    store = _store(tmp_path / "tracker.db")
    store.event_broker = _Broker()
    for turn in range(3):
        _turn(store, "visitor", f"question {turn}", at=turn)
    texts = [event.get("text") for event in store.event_broker.published]
    assert texts == [text for turn in range(3) for text in (f"question {turn}", f"answer to question {turn}")]
