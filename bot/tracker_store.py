"""The production tracker store: Rasa's SQL store that rides out a database restart.

Named in endpoints.prod.yml as ``bot.tracker_store.RetryingSQLTrackerStore``.
Upstream's store has two faults when PostgreSQL restarts under it:

* its connection pool hands out connections the restart closed, so the first
  turns after the database is back fail too (fixed with SQLAlchemy's
  ``pool_pre_ping``);
* Rasa wraps every tracker store in ``FailSafeTrackerStore``
  (rasa/core/tracker_store.py), which swallows any ``Exception``: a failed read
  becomes an empty conversation, a failed save goes to memory. The visitor is
  answered without their history and the turn never reaches the database
  (introduced by RasaHQ/rasa#3243; its last comment reports the lost messages).

So reads and saves are retried while the database comes back, and when it
does not come back in time :class:`DatabaseUnavailable` (deliberately not an
``Exception``) passes the fail-safe wrapper untouched; the channels then tell
the visitor to try again in a moment (bot/channels/replies.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

RETRY_VARIABLE = "TRACKER_STORE_RETRY_SECONDS"
# A restart (`pg_ctl restart -m fast`) takes 1-2 s; a visitor waiting longer than this prefers "try again".
DEFAULT_RETRY_SECONDS = 8.0
PAUSE_SECONDS = 0.25

Result = TypeVar("Result")


class DatabaseUnavailable(BaseException):
    """The tracker store could not be reached in time; the turn was neither read nor saved."""


class RetryingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self.retry_seconds = float(os.environ.get(RETRY_VARIABLE) or DEFAULT_RETRY_SECONDS)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        parent = super()
        return await self._retrying("read", lambda: parent.retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        parent = super()
        return await self._retrying("read", lambda: parent.retrieve_full_tracker(conversation_id))

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
