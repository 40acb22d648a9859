"""Telegram: the clinic's bot answers in chats, with an inline keyboard for suggested questions.

Registered in credentials.yml as ``bot.channels.telegram.TelegramInput`` in
place of Rasa 3.6's ``telegram`` channel, which this replaces rather than
subclasses because each of its parts has a fault:

* It registers the webhook with ``asyncio.run`` while the channel is built, so
  the server cannot start without internet access, and its aiogram session is
  then bound to a loop that is closed ("Event loop is closed" on every update;
  RasaHQ/rasa#11818 added the call, RasaHQ/rasa#13040 is open about it). Here
  ``python -m bot telegram-webhook`` registers the webhook, once.
* It never checks X-Telegram-Bot-Api-Secret-Token, and it calls getMe on every update.
* It answers inside the webhook request, so a slow reply makes Telegram send the update again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from sanic.request import Request

from bot.channels.delivery import ApiCall, JsonApi, Outbox, QueuedOutput
from bot.channels.formatting import TELEGRAM_HTML, TELEGRAM_LIMIT, cut_title, split_message
from bot.channels.inbound import GREETING, as_typed_text
from bot.channels.settings import TelegramSettings
from bot.channels.webhooks import SEEN_UPDATES, BoundedMemory, Incoming, WebhookInput, outbox_journal

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALLBACK_DATA_BYTES = 64
BUTTON_TITLE_LIMIT = 64  # Telegram sets none, but a phone shows little more than this on one row
MAX_BUTTONS = 100
# Telegram sends /start when someone opens the bot, and /help is the other command every bot should know.
GREETING_COMMANDS = ("/start", "/help")


class CallbackData:
    """Button payloads as Telegram callback data, which holds at most 64 bytes.

    A short payload travels as it is. A longer one travels as a reference to it,
    remembered in memory; a button pressed after that is forgotten (a restart)
    reads its title as if the visitor had typed it.
    """

    PREFIX = "ref:"

    def __init__(self, size: int = SEEN_UPDATES) -> None:
        self._payloads: BoundedMemory[str, str] = BoundedMemory(size)

    def encode(self, payload: str) -> str:
        if len(payload.encode()) <= CALLBACK_DATA_BYTES and not payload.startswith(self.PREFIX):
            return payload
        reference = self.PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:32]
        self._payloads.remember(reference, payload)
        return reference

    def decode(self, data: str) -> str | None:
        """The payload behind ``data``; None for a reference no longer remembered."""
        return self._payloads.recall(data) if data.startswith(self.PREFIX) else data


class TelegramOutput(QueuedOutput):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, outbox: Outbox, callbacks: CallbackData) -> None:
        super().__init__(outbox)
        self.callbacks = callbacks

    def calls_for(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> list[ApiCall]:
        messages = [
            {
                "chat_id": recipient_id,
                "text": part,
                "parse_mode": "HTML",
                # A preview card of the clinic's page under every answer would bury the answer.
                "link_preview_options": {"is_disabled": True},
            }
            for part in split_message(text, TELEGRAM_LIMIT, TELEGRAM_HTML)
        ]
        if messages and buttons:
            messages[-1]["reply_markup"] = {
                "inline_keyboard": [[self._button(button)] for button in buttons[:MAX_BUTTONS]]
            }
        return [ApiCall("sendMessage", message) for message in messages]

    def _button(self, button: dict[str, Any]) -> dict[str, str]:
        title = str(button.get("title") or button.get("payload"))
        return {
            "text": cut_title(title, BUTTON_TITLE_LIMIT),
            "callback_data": self.callbacks.encode(str(button.get("payload") or title)),
        }


class TelegramInput(WebhookInput):
    """Telegram's webhook at /webhooks/telegram/webhook."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def read_settings(cls, environ: Mapping[str, str]) -> TelegramSettings:
        return TelegramSettings.from_environment(environ)

    def make_output(self, settings: TelegramSettings) -> TelegramOutput:
        api = JsonApi(f"{settings.api_url}/bot{settings.token}", secret=settings.token)
        return TelegramOutput(Outbox(api, self.name(), outbox_journal(self.name())), CallbackData())

    def is_authentic(self, request: Request) -> bool:
        sent = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(sent.encode(), self.settings.secret.encode())

    def read(self, update: Any) -> list[Incoming]:
        return read_update(update, self.output.callbacks)


def read_update(update: Any, callbacks: CallbackData) -> list[Incoming]:
    """The text to answer in an update; nothing for what the assistant does not answer (photos, edits, …)."""
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return []
    key = str(update["update_id"])
    message, query = update.get("message"), update.get("callback_query")
    if isinstance(message, dict) and isinstance(message.get("text"), str) and _chat(message):
        return [Incoming(key, _chat(message), _typed(message["text"]))]
    if isinstance(query, dict) and isinstance(query.get("message"), dict) and _chat(query["message"]):
        ack = ApiCall("answerCallbackQuery", {"callback_query_id": query.get("id")})
        text = _pressed(query, callbacks)
        return [Incoming(key, _chat(query["message"]), text, receipts=(ack,))]
    return []


def _chat(message: dict[str, Any]) -> str:
    """The chat's id, or "" when the update has none that Telegram would send."""
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    return str(chat_id) if isinstance(chat_id, int) and not isinstance(chat_id, bool) else ""


def _typed(text: str) -> str:
    command = text.split(maxsplit=1)[0].split("@")[0] if text.strip() else ""
    return GREETING if command in GREETING_COMMANDS else as_typed_text(text)


def _pressed(query: dict[str, Any], callbacks: CallbackData) -> str:
    data = str(query.get("data") or "")
    payload = callbacks.decode(data)
    if payload is not None:
        return payload
    markup = query["message"].get("reply_markup")
    keyboard = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    titles = [
        button["text"]
        for row in (keyboard if isinstance(keyboard, list) else [])
        if isinstance(row, list)
        for button in row
        if isinstance(button, dict) and button.get("callback_data") == data and isinstance(button.get("text"), str)
    ]
    return as_typed_text(titles[0]) if titles else ""
