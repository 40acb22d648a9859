"""Every message gets a reply: when Rasa could not answer, the visitor is asked to try again in a moment.

Rasa answers nothing when a custom action fails (the action server is down or
restarting: the processor logs the error and carries on, RasaHQ/rasa#5588 and
#7630), and nothing useful when the tracker store is down (bot/tracker_store.py).
A visitor facing silence waits, or leaves. So each message is handled with its
output channel watched; if the turn ends without a single reply, or fails, the
visitor reads :data:`TRY_AGAIN`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.tracker_store import DatabaseUnavailable

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

TRY_AGAIN = "Sorry, I can't answer just now. Please try again in a moment."

# The replies sent during the turn being handled; one list per turn, as each turn runs in its own task.
_replies: ContextVar[list[str] | None] = ContextVar("replies", default=None)


def _watch(output: OutputChannel) -> None:
    """Count what ``output`` sends, once per output channel (a messenger's is shared by all its turns)."""
    if getattr(output, "_watched_by_never_silent", False):
        return
    send_response = output.send_response

    async def counted(recipient_id: str, message: dict[str, Any]) -> None:
        replies = _replies.get()
        if replies is not None:
            replies.append(recipient_id)
        await send_response(recipient_id, message)

    output.send_response = counted  # type: ignore[method-assign]
    output._watched_by_never_silent = True  # type: ignore[attr-defined]


def never_silent(on_new_message: OnNewMessage) -> OnNewMessage:
    async def answered(message: UserMessage) -> Any:
        _watch(message.output_channel)
        replies: list[str] = []
        token = _replies.set(replies)
        failed = False
        try:
            result = await on_new_message(message)
        except (Exception, DatabaseUnavailable) as error:
            # The type only: the exception's text may quote the visitor's message.
            logger.error("a turn failed (%s); the visitor is asked to try again", type(error).__name__)
            result, failed = None, True
        finally:
            _replies.reset(token)
        # After a failure, even a reply already sent may not have been kept: the visitor is told either way.
        if failed or not replies:
            await message.output_channel.send_text_message(message.sender_id, TRY_AGAIN)
        return result

    return answered
