"""The production lock store: Rasa's Redis lock store, made safe across several Rasa processes.

Named in endpoints.prod.yml as ``bot.lock_store.AtomicRedisLockStore``.
Upstream's ``LockStore.issue_ticket`` reads the conversation's lock from Redis,
adds a ticket and writes it back, with nothing in between to stop another
process doing the same: two messages of one conversation arriving at two
processes at once both get the first ticket, and are handled at the same time
(RasaHQ/rasa#9213; the fix upstream, #11256, was reverted in #11428). Seen
here as a second conversation session started by the second message, with the
history of the first missing. Each read-modify-write of a lock is therefore
done under a short Redis mutex of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# Held only while a lock's tickets are read and written back (a millisecond on loopback).
MUTEX_SECONDS = 5


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        # Rasa builds a lock store given by module path with the endpoint config alone.
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    @contextmanager
    def _exclusive(self, conversation_id: str) -> Iterator[None]:
        mutex = self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex", timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS
        )
        with mutex:
            yield

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._exclusive(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._exclusive(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._exclusive(conversation_id):
            super().cleanup(conversation_id, ticket_number)
