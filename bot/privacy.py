"""``bot purge`` and ``bot forget``: conversations are kept no longer than needed, and deleted on request.

Visitors write about their skin, pregnancies and illnesses, so a conversation
is personal health data. ``purge`` enforces the retention period (run it daily);
``forget`` deletes one conversation when a visitor asks. Both change the tracker
store the servers write to, opened as ``bot report`` opens it. Rasa 3.6's
tracker stores cannot delete, so the rows are deleted through the SQL store's
own session and table; other store types are refused with what to do instead.

A running Rasa server reads the store on every message (at the least whether the
conversation changed, bot/tracker_store.py), so a forgotten visitor who writes
again starts a new, empty conversation.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.report import ReportError, tracker_store

if TYPE_CHECKING:
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy.orm import Query, Session

_DAYS = re.compile(r"\s*(\d+)\s*d\s*")


def retention(value: str) -> timedelta:
    """``30d`` as a time span of at least a day (an argparse type)."""
    match = _DAYS.fullmatch(value.lower())
    if not match or int(match[1]) < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a retention period: write a number of days, e.g. 30d")
    return timedelta(days=int(match[1]))


def _delete(select_senders: Callable[[Session, type], Query]) -> list[str]:
    """Deletes every event of the conversations ``select_senders`` picks; returns their sender ids."""
    with tracker_store() as store:
        sql = sql_store(store)
        with sql.session_scope() as session:
            senders = [sender for (sender,) in select_senders(session, sql.SQLEvent).all()]
            if senders:
                events = session.query(sql.SQLEvent).filter(sql.SQLEvent.sender_id.in_(senders))
                events.delete(synchronize_session=False)
                session.commit()
    return senders


def sql_store(store: object) -> SQLTrackerStore:
    from rasa.core.tracker_store import SQLTrackerStore

    inner = getattr(store, "_tracker_store", store)  # TrackerStore.create wraps the configured store
    if not isinstance(inner, SQLTrackerStore):
        raise ReportError(
            f"deleting conversations is built for the SQL tracker store, and endpoints.yml configures "
            f"{type(inner).__name__}: delete them with that store's own tools"
        )
    return inner


def purge(older_than: timedelta, now: float | None = None) -> list[str]:
    """Deletes the conversations whose last event is older than ``older_than``; returns their sender ids."""
    from sqlalchemy import func

    cutoff = (time.time() if now is None else now) - older_than.total_seconds()

    def stale(session: Session, event: type) -> Query:
        return session.query(event.sender_id).group_by(event.sender_id).having(func.max(event.timestamp) < cutoff)

    return _delete(stale)


def forget(sender_id: str) -> bool:
    """Deletes one conversation; whether there was one."""

    def this_one(session: Session, event: type) -> Query:
        return session.query(event.sender_id).filter(event.sender_id == sender_id).distinct()

    return bool(_delete(this_one))


def run_purge(older_than: timedelta) -> int:
    # Imported here: consultations reads the database through this module's sql_store.
    from bot.consultations import purge_handled

    try:
        deleted = purge(older_than)
        requests = purge_handled(older_than.total_seconds())
    except ReportError as error:
        return _cannot("purge", error)
    print(f"Deleted {len(deleted)} conversation(s) whose last message is older than {older_than.days} day(s).")
    print(f"Deleted {requests} consultation request(s) staff received more than {older_than.days} day(s) ago.")
    return 0


def run_forget(sender_id: str) -> int:
    try:
        found = forget(sender_id)
    except ReportError as error:
        return _cannot(f"forget {sender_id}", error)
    if found:
        print(f"Deleted the conversation {sender_id!r} from the tracker store.")
    else:
        print(f"No conversation with the id {sender_id!r} is kept; nothing to delete.")
    return 0


def _cannot(what: str, error: ReportError) -> int:
    print(f"Cannot {what}: {error}", file=sys.stderr)
    return 2
