"""What the Telegram and Messenger webhooks share: check, answer at once, handle in the background.

Telegram and Meta resend an update when the webhook is slow or fails, so the
webhook answers 200 as soon as the update is authentic and new, and Rasa
handles it afterwards. Updates already seen are answered but not handled
again. They are remembered in Redis for ``SEEN_SECONDS`` when ``CLINIC_REDIS_URL``
is set (production mode sets it), so neither a restart nor a resend reaching
another server process answers an update twice; otherwise in memory (the last
``SEEN_UPDATES`` of this process). With the same setting, replies wait in a
journal in Redis until they are sent, and a server sends those of one that
died (:class:`JournalInRedis`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

import redis.asyncio as redis
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.delivery import ApiCall, Background, Journal, NoJournal, Orphan, QueuedOutput
from bot.channels.inbound import Gate
from bot.channels.settings import NotConfigured

logger = logging.getLogger(__name__)

SEEN_UPDATES = 10_000
REDIS_URL_VARIABLE = "CLINIC_REDIS_URL"
# Telegram gives up resending after a day, Meta sooner: a week is ample.
SEEN_SECONDS = 7 * 24 * 3600
# A server that has not looked at the journal for this long is taken for dead, and its replies for orphans:
# three sweeps (bot.channels.delivery.SWEEP_SECONDS), so a busy server is never taken for a dead one.
ALIVE_SECONDS = 15

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class BoundedMemory(Generic[Key, Value]):
    """The last ``size`` keys remembered, each with a value; the oldest is forgotten first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Key, Value] = OrderedDict()

    def remember(self, key: Key, value: Value) -> bool:
        """Keep ``key``; False when it was already kept."""
        if key in self._items:
            self._items.move_to_end(key)
            return False
        self._items[key] = value
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return True

    def recall(self, key: Key) -> Value | None:
        return self._items.get(key)


class SeenInMemory:
    """The updates this process has seen (the last ``SEEN_UPDATES``)."""

    def __init__(self) -> None:
        self._memory: BoundedMemory[str, bool] = BoundedMemory(SEEN_UPDATES)

    async def first_time(self, key: str) -> bool:
        return self._memory.remember(key, True)


class SeenInRedis:
    """The updates any process has seen in the last ``SEEN_SECONDS``, in Redis: they outlive a restart."""

    def __init__(self, url: str, channel: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._prefix = f"clinic:seen:{channel}:"

    async def first_time(self, key: str) -> bool:
        # One atomic command: of two servers given the same update at once, exactly one handles it.
        return bool(await self._redis.set(self._prefix + key, 1, nx=True, ex=SEEN_SECONDS))


def seen_updates(channel: str, environ: Mapping[str, str] = os.environ) -> SeenInMemory | SeenInRedis:
    url = environ.get(REDIS_URL_VARIABLE, "").strip()
    return SeenInRedis(url, channel) if url else SeenInMemory()


class JournalInRedis:
    """Replies in Redis until sent, each with the server that queued it; a dead server's are taken by another.

    A reply is sent at least once: one whose server died while sending it may arrive twice, never not at all.
    """

    def __init__(self, url: str, channel: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._entries = f"clinic:outbox:{channel}"
        self._owner = uuid.uuid4().hex

    async def keep(self, recipient: str, calls: Sequence[ApiCall]) -> str:
        entry = uuid.uuid4().hex
        record = {"owner": self._owner, "recipient": recipient, "calls": [asdict(call) for call in calls]}
        try:
            await self._alive()
            await self._redis.hset(self._entries, entry, json.dumps(record))
        except redis.RedisError:
            # Redis down: the reply is still sent from this process, as without a journal.
            logger.warning("outbox journal unavailable: a reply is kept in this process only")
            return ""
        return entry

    async def sent(self, entry: str) -> None:
        try:
            await self._redis.hdel(self._entries, entry)
        except redis.RedisError:
            logger.warning("outbox journal unavailable: a sent reply stays in it and may be sent again")

    async def orphans(self) -> list[Orphan]:
        await self._alive()
        found = []
        for entry, raw in (await self._redis.hgetall(self._entries)).items():
            record = json.loads(raw)
            if await self._redis.exists(self._alive_key(record["owner"])):
                continue
            # Of the servers finding it at once, the one that claims it first sends it.
            if not await self._redis.set(f"{self._entries}:claimed:{entry.decode()}", self._owner, nx=True, ex=60):
                continue
            await self._redis.hset(self._entries, entry, json.dumps({**record, "owner": self._owner}))
            found.append((entry.decode(), record["recipient"], [ApiCall(**call) for call in record["calls"]]))
        return found

    async def _alive(self) -> None:
        await self._redis.set(self._alive_key(self._owner), 1, ex=ALIVE_SECONDS)

    def _alive_key(self, owner: str) -> str:
        return f"{self._entries}:alive:{owner}"


def outbox_journal(channel: str, environ: Mapping[str, str] = os.environ) -> Journal:
    url = environ.get(REDIS_URL_VARIABLE, "").strip()
    return JournalInRedis(url, channel) if url else NoJournal()


@dataclass(frozen=True)
class Incoming:
    """One update from a messenger, as the assistant handles it."""

    key: str  # the same for every delivery of the update
    sender: str  # the chat to answer in; also the conversation's id in the tracker store
    text: str = ""  # what Rasa reads; empty when there is nothing to answer
    receipts: tuple[ApiCall, ...] = ()  # sent at once: "seen", or the ack Telegram expects for a button


class WebhookInput(InputChannel):
    """A messenger's webhook. Subclasses say how an update is authenticated and read."""

    def __init__(self, settings: Any | None, off_reason: str = "") -> None:
        self.settings = settings
        self.off_reason = off_reason
        self.seen = seen_updates(self.name())
        self.background = Background(self.name())
        self.output = self.make_output(settings) if settings is not None else None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebhookInput:
        if credentials:
            # Someone used upstream's layout: say so, rather than let them believe a committed secret is in use.
            logger.warning(
                "%s: settings in credentials.yml are ignored; set the environment variables in "
                "docs/messengers.md instead",
                cls.name(),
            )
        try:
            return cls(cls.read_settings(os.environ))
        except NotConfigured as off:
            logger.log(logging.WARNING if off.partly else logging.INFO, "%s", off)
            return cls(None, str(off))

    @classmethod
    def read_settings(cls, environ: Mapping[str, str]) -> Any:
        raise NotImplementedError

    def make_output(self, settings: Any) -> QueuedOutput:
        raise NotImplementedError

    def is_authentic(self, request: Request) -> bool:
        raise NotImplementedError

    def read(self, update: Any) -> list[Incoming]:
        raise NotImplementedError

    def add_routes(self, blueprint: Blueprint) -> None:
        """Routes besides the webhook's POST (Messenger's verification handshake)."""

    def get_output_channel(self) -> QueuedOutput | None:
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"clinic_{self.name()}_webhook", __name__)
        if self.output is None:
            return self._off(blueprint)
        gate = Gate()
        gate.install(blueprint)
        on_new_message = gate.guard(on_new_message)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.warning("%s: refused a webhook call that did not prove it came from the app", self.name())
                return response.text("forbidden", status=403)
            try:
                update = json.loads(request.body)
            except (ValueError, RecursionError):
                return response.text("not JSON", status=400)
            for incoming in self.read(update):
                if await self.seen.first_time(incoming.key):
                    self._accept(incoming, on_new_message)
            return response.text("ok")

        sweeping: list[asyncio.Task] = []

        async def start(*_: Any) -> None:
            sweeping.append(asyncio.get_running_loop().create_task(self.output.outbox.sweep()))

        async def finish(*_: Any) -> None:
            for task in sweeping:
                task.cancel()
            # A stopped server first handles the updates it acknowledged, then sends what they queued.
            await self.background.drain()
            await self.output.outbox.drain()

        async def close(*_: Any) -> None:
            await self.output.outbox.api.close()

        blueprint.add_route(health, "/", methods=["GET"])
        blueprint.add_route(receive, "/webhook", methods=["POST"])
        self.add_routes(blueprint)
        blueprint.listener("after_server_start")(start)
        blueprint.listener("before_server_stop")(finish)
        blueprint.listener("after_server_stop")(close)
        return blueprint

    def _accept(self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self.output.outbox.queue(incoming.sender, incoming.receipts)  # receipts are not worth a journal
        if incoming.text:
            message = UserMessage(incoming.text, self.output, incoming.sender, input_channel=self.name())
            self.background.run(on_new_message(message))

    def _off(self, blueprint: Blueprint) -> Blueprint:
        # 503 rather than 404: whoever points the app at this URL learns what is missing.
        async def off(_: Request) -> HTTPResponse:
            return response.json({"error": self.off_reason}, status=503)

        blueprint.add_route(off, "/", methods=["GET"])
        blueprint.add_route(off, "/webhook", methods=["GET", "POST"])
        return blueprint
