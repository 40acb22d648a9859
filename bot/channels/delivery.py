"""Sending replies to a messenger's API without ever making Rasa wait for it.

Rasa saves a conversation only after every reply has been handed to the output
channel, and a failing send would lose the whole turn. So the output channel
only shapes each reply into API calls and queues them; an outbox sends them in
the background, in order for each chat, and logs what fails. A server that is
stopped (SIGTERM, a deploy) first finishes the turns it accepted and sends
their replies, for up to ``DRAIN_SECONDS``. Each reply is also kept in a
:class:`Journal` until it is sent: in memory by default, where a crash drops
the replies not yet sent; in Redis in production mode
(:class:`bot.channels.webhooks.JournalInRedis`), where the replies of a
process that died are sent by another one. A call the API refuses for now
(429, 5xx, no connection) is tried again with growing pauses, up to
``SEND_ATTEMPTS`` times, before the failure is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from rasa.core.channels.channel import OutputChannel

from bot.logs import hashed

logger = logging.getLogger(__name__)

# Long enough for a slow but working API; short enough that a dead one does not queue replies for minutes.
API_TIMEOUT_SECONDS = 10
# 4 attempts, 0.5 + 1 + 2 s apart: rides out a rate limit or a restart of the API's front end.
SEND_ATTEMPTS = 4
# Within the 20 s a service manager (and bot.servers.Stack) gives a server between SIGTERM and SIGKILL.
DRAIN_SECONDS = 15.0
FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 30.0
# How often a server looks for the replies of a server that died, when the journal is shared.
SWEEP_SECONDS = 5.0


@dataclass(frozen=True)
class ApiCall:
    method: str  # the path under the API's base URL: "sendMessage", "me/messages"
    payload: dict[str, Any]


class ApiError(Exception):
    def __init__(self, message: str, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable  # worth trying again: rate limited, the API's fault, or no connection
        self.retry_after = retry_after  # seconds, when the API said how long to wait


def pause_before(attempt: int, error: ApiError) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the API's Retry-After, else doubling from the first pause."""
    wanted = error.retry_after if error.retry_after is not None else FIRST_PAUSE_SECONDS * 2 ** (attempt - 1)
    return min(max(wanted, 0.0), MAX_PAUSE_SECONDS)


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: rare from these APIs, and the doubling pause is as good


class Background:
    """Runs work after a webhook has answered; keeps each task referenced until it ends and logs its failure."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._tasks: set[asyncio.Task] = set()

    def run(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait for the work under way (and the work it starts meanwhile) to end, for up to ``timeout``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._tasks and (left := deadline - asyncio.get_running_loop().time()) > 0:
            await asyncio.wait(set(self._tasks), timeout=left)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception():
            logger.error("%s: a background task failed", self.channel, exc_info=task.exception())


class JsonApi:
    """POSTs JSON to a messenger's API with a time limit; its errors never contain the secret."""

    def __init__(
        self, base_url: str, secret: str, params: Mapping[str, str] | None = None, timeout: float = API_TIMEOUT_SECONDS
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._params = dict(params or {})
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        # Created on first use, inside the server's event loop (upstream's Telegram session outlived its loop).
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(f"{self.base_url}/{method}", json=payload, params=self._params) as reply:
                status, body = reply.status, await reply.text()
                retry_after = _retry_after(reply.headers.get("Retry-After"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise ApiError(self._redact(f"{method}: {type(error).__name__} {error}"), retryable=True) from None
        if status >= 300:
            retryable = status == 429 or status >= 500
            raise ApiError(self._redact(f"{method}: HTTP {status} {body[:300]}"), retryable, retry_after)
        try:
            return json.loads(body)
        except ValueError:
            return {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "<secret>") if self._secret else text


Orphan = tuple[str, str, list[ApiCall]]  # a journal entry, its recipient, its calls


class Journal(Protocol):
    """Where replies wait until they are sent."""

    async def keep(self, recipient: str, calls: Sequence[ApiCall]) -> str: ...  # the entry, for ``sent``

    async def sent(self, entry: str) -> None: ...

    async def orphans(self) -> list[Orphan]: ...  # replies a process that died left unsent, now this one's


class NoJournal:
    """Replies wait in this process only."""

    async def keep(self, recipient: str, calls: Sequence[ApiCall]) -> str:
        return ""

    async def sent(self, entry: str) -> None:
        return None

    async def orphans(self) -> list[Orphan]:
        return []


class Outbox:
    """Sends each chat's API calls in order, in the background; a failure is logged, never raised."""

    def __init__(self, api: JsonApi, channel: str, journal: Journal | None = None) -> None:
        self.api = api
        self.channel = channel
        self.journal = journal or NoJournal()
        self._background = Background(channel)
        self._last: dict[str, asyncio.Task] = {}

    async def drain(self) -> None:
        await self._background.drain()

    async def post(self, recipient: str, calls: Sequence[ApiCall]) -> None:
        """Queue a reply, kept in the journal until it is sent."""
        if calls:
            self.queue(recipient, calls, await self.journal.keep(recipient, calls))

    def queue(self, recipient: str, calls: Sequence[ApiCall], entry: str = "") -> None:
        """Queue calls; only those with a journal ``entry`` outlive this process."""
        if not calls:
            return
        task = self._background.run(self._deliver(self._last.get(recipient), recipient, calls, entry))
        self._last[recipient] = task
        task.add_done_callback(lambda done: self._forget(recipient, done))

    async def sweep(self, every: float = SWEEP_SECONDS) -> None:
        """Until cancelled: send the replies a process that died left in the shared journal."""
        while True:
            await asyncio.sleep(every)
            try:
                for entry, recipient, calls in await self.journal.orphans():
                    self.queue(recipient, calls, entry)
            except Exception:  # the journal's store being down must not end the sweeping
                logger.warning("%s: could not look for unsent replies", self.channel, exc_info=True)

    async def _deliver(
        self, previous: asyncio.Task | None, recipient: str, calls: Sequence[ApiCall], entry: str
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            for number, call in enumerate(calls, 1):
                try:
                    await self._send(call)
                except ApiError as error:
                    # The rest of this reply would read out of context without its start, so it is dropped too.
                    logger.warning(
                        "%s: could not deliver to %s (part %d of %d): %s",
                        self.channel,
                        hashed(recipient),
                        number,
                        len(calls),
                        error,
                    )
                    return
        finally:
            if entry:
                await self.journal.sent(entry)

    async def _send(self, call: ApiCall) -> None:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await self.api.post(call.method, call.payload)
                return
            except ApiError as error:
                if not error.retryable or attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(pause_before(attempt, error))

    def _forget(self, recipient: str, task: asyncio.Task) -> None:
        if self._last.get(recipient) is task:
            del self._last[recipient]


class QueuedOutput(OutputChannel):
    """An output channel that shapes each reply into API calls and queues them in an outbox."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__()
        self.outbox = outbox

    def calls_for(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> list[ApiCall]:
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.outbox.post(recipient_id, self.calls_for(recipient_id, text, []))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.outbox.post(recipient_id, self.calls_for(recipient_id, text, buttons))

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.outbox.post(recipient_id, self.calls_for(recipient_id, text, quick_replies))
