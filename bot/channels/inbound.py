"""What every channel does with a visitor's message before Rasa reads it.

REST, the widget's socket.io, Telegram and Messenger all hand their messages
to a :class:`Gate`, which

* refuses a flood from one sender, telling them once a minute to slow down and
  dropping the rest unanswered, so a flood costs no replies (in memory, per
  server process);
* cleans the text: control characters go (newline and tab stay), invalid
  UTF-8 and lone surrogates become U+FFFD;
* answers an empty or over-long message itself, so it never reaches the NLU
  (a 20,000-word message once made the model allocate a 12.8 GB tensor);
* reads a leading "/" as typed text, not as Rasa's ``/intent{"entity": …}``
  syntax, which would skip the NLU and the safety rules. Only the payload of a
  button the assistant offered in the same conversation, or a standing
  command (greet, talk to a person, book a consultation: intents alone), passes
  as a command, so no slot can be set from outside;
* finds the questions of a message that asks two or three things
  (:mod:`bot.two_questions`), so that the actions answer each.

The same gate caps the size of every request body (Sanic's REQUEST_MAX_SIZE),
so a huge body is refused with 413 before it is read whole. Limits come from
the environment variables in :class:`Limits`.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, Sanic

from bot import two_questions
from bot.answers import BOOK_CONSULTATION, TALK_TO_PERSON
from bot.channels.never_silent import OnNewMessage, never_silent
from bot.topics import TOPICS
from bot.tracker_store import DatabaseUnavailable

logger = logging.getLogger(__name__)

COMMAND_PREFIX = "/"
# Telegram's /start and /help, and Messenger's "Get Started" button, send this: it only greets.
GREETING = "/greet"
# Always offered: the widget's "Talk to a person" button, and a booking from any answer that suggests one.
STANDING_COMMANDS = frozenset({GREETING, TALK_TO_PERSON, BOOK_CONSULTATION})
RATE_WINDOW_SECONDS = 60.0
REMEMBERED_SENDERS = 10_000

_LINE_BREAKS = re.compile(r"\r\n?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LEADING_COMMAND_PREFIXES = re.compile(r"^[/\s]+")  # "/ /restart" must not become "/restart"


class LimitError(ValueError):
    pass


LIMIT_VARIABLES = {
    "max_chars": "MAX_MESSAGE_CHARS",
    "messages_per_minute": "MAX_MESSAGES_PER_MINUTE",
    "max_request_bytes": "MAX_REQUEST_BYTES",
}


@dataclass(frozen=True)
class Limits:
    max_chars: int = 1_000  # a question; the page's longest answer is shorter than this
    messages_per_minute: int = 20  # per sender: more than anyone types or taps
    max_request_bytes: int = 64 * 1024  # a 1,000-character message is at most 4 KB of UTF-8 in JSON

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        values = {}
        for field_name, variable in LIMIT_VARIABLES.items():
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            if not raw.isdigit() or int(raw) < 1:
                raise LimitError(f"{variable}={raw!r}: set it to a whole number above 0, or unset it")
            values[field_name] = int(raw)
        return cls(**values)


@dataclass(frozen=True)
class Screened:
    """What to do with a message: pass ``text`` to Rasa, answer ``reply`` without reading it, or neither."""

    text: str = ""
    reply: str = ""


UNANSWERED = Screened()


def clean(text: str | bytes) -> str:
    """``text`` without control characters (newlines and tabs stay); undecodable bytes become U+FFFD."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", text)).strip()


def as_typed_text(text: str) -> str:
    """Words a visitor typed; Rasa would take a leading "/" for an intent and skip understanding them."""
    return _LEADING_COMMAND_PREFIXES.sub("", text).strip()


def too_long(limit: int) -> str:
    return f"That message is too long for me. Please send a shorter question, up to {limit:,} characters."


EMPTY = "Please type your question, and I'll answer it from the clinic's page."
SLOW_DOWN = "You're sending messages faster than I can answer them. Please wait a minute, then ask again."


def screen(text: str, max_chars: int, offered: frozenset[str] = frozenset()) -> Screened:
    """The decision for one message, given the button payloads offered in its conversation."""
    text = clean(text)
    if len(text) > max_chars:
        return Screened(reply=too_long(max_chars))
    if text.startswith(COMMAND_PREFIX) and text not in offered and text not in STANDING_COMMANDS:
        text = as_typed_text(text)
    return Screened(text=text) if text else Screened(reply=EMPTY)


def offered_payloads(events: Iterable[Any]) -> frozenset[str]:
    """The payloads of the buttons the assistant sent in these tracker events."""
    return frozenset(
        button["payload"]
        for event in events
        if isinstance(event, BotUttered)
        for button in (event.data or {}).get("buttons") or []
        if isinstance(button, dict) and isinstance(button.get("payload"), str)
    )


class Pace(Enum):
    WITHIN_LIMIT = "within the limit"
    TELL = "too fast: say so"
    STILL_TOO_FAST = "too fast, already told: say nothing"


@dataclass
class _Sender:
    times: deque[float] = field(default_factory=deque)  # of the messages let through in the last window
    told: float = float("-inf")  # when the sender was last told to slow down


class RateLimiter:
    """At most ``per_minute`` messages from a sender in any minute; the least recent senders are forgotten.

    A sender over the limit is told so at most once a minute. Every reply to a flood would be an API call
    on the messengers, so the other refused messages get none.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._recent: OrderedDict[str, _Sender] = OrderedDict()

    def pace(self, sender: str) -> Pace:
        now = self._clock()
        recent = self._recent.pop(sender, None) or _Sender()
        self._recent[sender] = recent
        if len(self._recent) > REMEMBERED_SENDERS:
            self._recent.popitem(last=False)
        while recent.times and now - recent.times[0] >= RATE_WINDOW_SECONDS:
            recent.times.popleft()
        if len(recent.times) < self.per_minute:
            recent.times.append(now)
            return Pace.WITHIN_LIMIT
        if now - recent.told >= RATE_WINDOW_SECONDS:
            recent.told = now
            return Pace.TELL
        return Pace.STILL_TOO_FAST


class Gate:
    """One channel's checks; side effects (the clock, the tracker store, replies) live here."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits.from_environment()
        self.flood = RateLimiter(self.limits.messages_per_minute)
        self._app: Sanic | None = None

    def install(self, blueprint: Blueprint) -> None:
        """Cap request bodies and find the tracker store once the server starts."""

        async def on_start(app: Sanic, _loop: Any) -> None:
            self._app = app
            # Read by each new connection, so it applies to every request the server takes.
            app.config.REQUEST_MAX_SIZE = self.limits.max_request_bytes

        blueprint.listener("before_server_start")(on_start)

    def guard(self, on_new_message: OnNewMessage) -> OnNewMessage:
        """``on_new_message`` for checked messages only; the others get their polite reply here, if any.

        A checked message always gets a reply, if only "please try again in a moment" (never_silent).
        """
        on_new_message = never_silent(on_new_message)

        async def checked(message: UserMessage) -> Any:
            verdict = await self.check(message.text or "", message.sender_id)
            if not verdict.text:
                if verdict.reply:
                    await message.output_channel.send_text_message(message.sender_id, verdict.reply)
                return None
            message.text = verdict.text
            # Set here, over anything a client sent under the same key: only the model's reading counts.
            asked = await self.topics_asked(verdict.text)
            message.metadata = {**(message.metadata or {}), two_questions.METADATA_KEY: list(asked)}
            return await on_new_message(message)

        return checked

    async def check(self, text: str, sender: str) -> Screened:
        pace = self.flood.pace(sender)
        if pace is Pace.TELL:
            return Screened(reply=SLOW_DOWN)
        if pace is Pace.STILL_TOO_FAST:
            return UNANSWERED
        text = clean(text)
        could_be_offered = text.startswith(COMMAND_PREFIX) and len(text) <= self.limits.max_chars
        offered = await self.offered_to(sender) if could_be_offered else frozenset()
        return screen(text, self.limits.max_chars, offered)

    async def offered_to(self, sender: str) -> frozenset[str]:
        agent = self._agent()
        if agent is None or agent.tracker_store is None:
            return frozenset()
        try:
            tracker = await agent.tracker_store.retrieve(sender)
        except DatabaseUnavailable:
            return frozenset()  # read as typed text; the turn itself then waits for the database or says so
        return offered_payloads(tracker.events) if tracker is not None else frozenset()

    async def topics_asked(self, text: str) -> tuple[str, ...]:
        """The topics of a message that asks two or three questions, each read by the model on its own."""
        agent = self._agent()
        if agent is None or text.startswith(COMMAND_PREFIX):
            return ()
        return await two_questions.questions_of(text, agent.parse_message, TOPICS)

    def _agent(self) -> Any:
        return getattr(self._app.ctx, "agent", None) if self._app is not None else None
