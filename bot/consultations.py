"""Consultation requests, kept in the tracker store's own SQL database until staff have them.

A request is stored before anything else happens, so nothing a visitor gave is
lost when the staff's webhook or mail server is down or a server restarts;
``bot requests deliver`` (bot/staff_delivery.py) sends it on. The database is
the one ``endpoints.yml`` configures for conversations, opened as ``bot report``
and ``bot purge`` open it; the table ``consultation_requests`` is created there
on first use, with SQLAlchemy, which Rasa ships.

A request holds only what the form asks: a name, a phone number or e-mail
address, a preferred time and when consent was given. Never a health detail.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, or_, select, update

from bot.privacy import sql_store
from bot.report import tracker_store

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

REFERENCE_PREFIX = "C-"
METADATA = MetaData()
TABLE = Table(
    "consultation_requests",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Float, nullable=False),
    Column("name", Text, nullable=False),
    Column("contact", Text, nullable=False),
    Column("preferred_time", Text, nullable=False),
    Column("consent_at", Float, nullable=False),
    Column("channel", String(40), nullable=False, default=""),
    # Delivery, per route: when it reached the webhook and the mailbox (None: not yet).
    Column("webhook_sent_at", Float),
    Column("email_sent_at", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False, default=0.0),
    Column("last_error", Text, nullable=False, default=""),  # why the last attempt failed; never personal data
    Column("delivered_at", Float),  # every configured route has it
    # Staff mark a request done once they have arranged the consultation.
    Column("done_at", Float),
)


@dataclass(frozen=True)
class ConsultationRequest:
    id: int
    created_at: float
    name: str
    contact: str
    preferred_time: str
    consent_at: float
    channel: str
    webhook_sent_at: float | None
    email_sent_at: float | None
    attempts: int
    next_attempt_at: float
    last_error: str
    delivered_at: float | None
    done_at: float | None

    @property
    def reference(self) -> str:
        return reference(self.id)


def reference(request_id: int) -> str:
    """The number a visitor quotes and staff look up: ``C-00042``."""
    return f"{REFERENCE_PREFIX}{request_id:05d}"


def request_id(text: str) -> int | None:
    """The id in a reference (``C-00042``, ``c42``) or a plain number; None when it is neither."""
    letter = re.escape(REFERENCE_PREFIX.rstrip("-"))
    match = re.fullmatch(rf"\s*(?:{letter}-?)?0*(\d+)\s*", text, re.IGNORECASE)
    return int(match[1]) if match else None


@cache
def engine() -> Engine:
    """The tracker store's database engine, with the requests table in it (one per process)."""
    with tracker_store() as store:
        database = sql_store(store).engine
    METADATA.create_all(database)
    return database


def store(name: str, contact: str, preferred_time: str, channel: str = "", now: float | None = None) -> int:
    """Keeps a new request and returns its id; it is due for delivery at once."""
    moment = time.time() if now is None else now
    row = {
        "created_at": moment,
        "name": name,
        "contact": contact,
        "preferred_time": preferred_time,
        "consent_at": moment,
        "channel": channel,
        "attempts": 0,
        "next_attempt_at": moment,
        "last_error": "",
    }
    with engine().begin() as connection:
        return int(connection.execute(TABLE.insert().values(**row)).inserted_primary_key[0])


def _rows(query) -> list[ConsultationRequest]:
    with engine().connect() as connection:
        return [ConsultationRequest(**row._mapping) for row in connection.execute(query)]


def all_requests(include_done: bool = False) -> list[ConsultationRequest]:
    query = select(TABLE).order_by(TABLE.c.id)
    return _rows(query if include_done else query.where(TABLE.c.done_at.is_(None)))


def find(request_id: int) -> ConsultationRequest | None:
    found = _rows(select(TABLE).where(TABLE.c.id == request_id))
    return found[0] if found else None


def due(now: float) -> list[ConsultationRequest]:
    """Requests not yet delivered whose next delivery attempt is due."""
    undelivered = TABLE.c.delivered_at.is_(None)
    return _rows(select(TABLE).where(undelivered, TABLE.c.next_attempt_at <= now).order_by(TABLE.c.id))


def record_attempt(request_id: int, **changes: object) -> None:
    """What one delivery attempt changed: routes sent, attempts, the next attempt, the error."""
    with engine().begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == request_id).values(**changes))


def mark_done(request_id: int, now: float | None = None) -> bool:
    """Marks a request done; whether there was one."""
    with engine().begin() as connection:
        result = connection.execute(
            update(TABLE).where(TABLE.c.id == request_id).values(done_at=time.time() if now is None else now)
        )
    return result.rowcount > 0


def remove(request_id: int) -> bool:
    """Deletes one request, when the visitor asks; whether there was one."""
    with engine().begin() as connection:
        return connection.execute(delete(TABLE).where(TABLE.c.id == request_id)).rowcount > 0


def purge_handled(older_than_seconds: float, now: float | None = None) -> int:
    """Deletes the requests staff have (delivered or marked done) received longer ago than that; how many.

    A request not yet delivered is kept, however old: deleting it would lose it.
    """
    cutoff = (time.time() if now is None else now) - older_than_seconds
    handled = or_(TABLE.c.delivered_at.is_not(None), TABLE.c.done_at.is_not(None))
    with engine().begin() as connection:
        return connection.execute(delete(TABLE).where(TABLE.c.created_at < cutoff, handled)).rowcount
