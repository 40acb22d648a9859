"""What the Telegram and Messenger webhooks share: check, answer at once, handle in the background.

Telegram and Meta resend an update when the webhook is slow or fails, so the
webhook answers 200 as soon as the update is authentic and new, and Rasa
handles it afterwards. Updates already seen are answered but not handled
again. They are remembered in Redis for ``SEEN_SECONDS`` when ``CLINIC_REDIS_URL``
is set (production mode sets it), so neither a restart nor a resend reaching
another server process answers an update twice; otherwise in memory (the last
``SEEN_UPDATES`` of this process).
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import redis.asyncio as redis
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.delivery import ApiCall, Background, QueuedOutput
from bot.channels.inbound import Gate
from bot.channels.settings import NotConfigured

logger = logging.getLogger(__name__)

SEEN_UPDATES = 10_000
REDIS_URL_VARIABLE = "CLINIC_REDIS_URL"
# Telegram gives up resending after a day, Meta sooner: a week is ample.
SEEN_SECONDS = 7 * 24 * 3600

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

        async def finish(*_: Any) -> None:
            # A stopped server first handles the updates it acknowledged, then sends what they queued.
            await self.background.drain()
            await self.output.outbox.drain()

        async def close(*_: Any) -> None:
            await self.output.outbox.api.close()

        blueprint.add_route(health, "/", methods=["GET"])
        blueprint.add_route(receive, "/webhook", methods=["POST"])
        self.add_routes(blueprint)
        blueprint.listener("before_server_stop")(finish)
        blueprint.listener("after_server_stop")(close)
        return blueprint

    def _accept(self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        self.output.outbox.post(incoming.sender, incoming.receipts)
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
