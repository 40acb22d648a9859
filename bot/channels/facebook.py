"""Facebook Messenger: the clinic's Page answers in Messenger, with quick replies for suggested questions.

Registered in credentials.yml as ``bot.channels.facebook.FacebookInput`` in
place of Rasa 3.6's ``facebook`` channel, which this replaces rather than
subclasses because each of its parts has a fault:

* It checks only the SHA-1 ``X-Hub-Signature``, compares it with ``==`` (which
  leaks timing), and answers a forged request with 200 "not validated".
* It sends through the synchronous ``requests`` library, with no timeout, to
  Graph API v2.12, long retired: a slow Graph API stalls the whole server.
* If the "mark_seen" call fails the message is lost with a 500, and of several
  events delivered in one call only the first is handled.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.delivery import ApiCall, JsonApi, Outbox, QueuedOutput
from bot.channels.formatting import MESSENGER_LIMIT, PLAIN_TEXT, cut_title, split_message
from bot.channels.inbound import as_typed_text
from bot.channels.settings import FacebookSettings
from bot.channels.webhooks import Incoming, WebhookInput, outbox_journal

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LIMIT = 20
SEND = "me/messages"


class FacebookOutput(QueuedOutput):
    @classmethod
    def name(cls) -> str:
        return "facebook"

    def calls_for(self, recipient_id: str, text: str, buttons: list[dict[str, Any]]) -> list[ApiCall]:
        messages: list[dict[str, Any]] = [{"text": part} for part in split_message(text, MESSENGER_LIMIT, PLAIN_TEXT)]
        if messages and buttons:
            messages[-1]["quick_replies"] = [_quick_reply(button) for button in buttons[:MAX_QUICK_REPLIES]]
        return [
            ApiCall(SEND, {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message})
            for message in messages
        ]


def _quick_reply(button: dict[str, Any]) -> dict[str, str]:
    title = str(button.get("title") or button.get("payload"))
    return {
        "content_type": "text",
        "title": cut_title(title, QUICK_REPLY_TITLE_LIMIT),
        "payload": str(button.get("payload") or title),
    }


def sender_actions(recipient_id: str) -> tuple[ApiCall, ...]:
    """Show the message as read and the Page as typing while Rasa works out the answer."""
    return tuple(
        ApiCall(SEND, {"recipient": {"id": recipient_id}, "sender_action": action})
        for action in ("mark_seen", "typing_on")
    )


class FacebookInput(WebhookInput):
    """Messenger's webhook at /webhooks/facebook/webhook."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    @classmethod
    def read_settings(cls, environ: Mapping[str, str]) -> FacebookSettings:
        return FacebookSettings.from_environment(environ)

    def make_output(self, settings: FacebookSettings) -> FacebookOutput:
        # appsecret_proof lets the clinic switch on "Require app secret" in the Meta app's settings.
        proof = hmac.new(settings.app_secret.encode(), settings.page_token.encode(), hashlib.sha256).hexdigest()
        api = JsonApi(
            settings.graph_url,
            secret=settings.page_token,
            params={"access_token": settings.page_token, "appsecret_proof": proof},
        )
        return FacebookOutput(Outbox(api, self.name(), outbox_journal(self.name())))

    def is_authentic(self, request: Request) -> bool:
        expected = hmac.new(self.settings.app_secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, "").encode(), f"sha256={expected}".encode())

    def read(self, update: Any) -> list[Incoming]:
        return read_events(update)

    def add_routes(self, blueprint: Blueprint) -> None:
        async def verify(request: Request) -> HTTPResponse:
            """Meta's handshake when the webhook is set up: repeat the challenge if the token is ours."""
            token = request.args.get("hub.verify_token", "")
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                token.encode(), self.settings.verify_token.encode()
            ):
                return response.text(request.args.get("hub.challenge", ""))
            return response.text("forbidden", status=403)

        blueprint.add_route(verify, "/webhook", methods=["GET"])


def read_events(update: Any) -> list[Incoming]:
    """Every message and button press in a delivery (Meta may batch several); echoes, reads and media are skipped."""
    if not isinstance(update, dict) or update.get("object") != "page":
        return []
    events = [
        event
        for entry in update.get("entry") or []
        if isinstance(entry, dict)
        for event in entry.get("messaging") or []
        if isinstance(event, dict)
    ]
    return [incoming for incoming in map(_read_event, events) if incoming is not None]


def _read_event(event: dict[str, Any]) -> Incoming | None:
    sender = _text_in(event.get("sender"), "id")
    message, postback = event.get("message"), event.get("postback")
    if not sender:
        return None
    if isinstance(message, dict) and not message.get("is_echo"):
        typed = _text_in(message, "text")
        text = _text_in(message.get("quick_reply"), "payload") or (as_typed_text(typed) if typed else "")
        if text:
            return Incoming(_key(event, message), sender, text, sender_actions(sender))
    payload = _text_in(postback, "payload")
    if payload:
        # A button's payload; the inbound gate lets it through as a command only if it was offered.
        return Incoming(_key(event, postback), sender, payload, sender_actions(sender))
    return None


def _text_in(value: Any, key: str) -> str:
    """``value[key]`` when it is text (Meta sends ids as strings); "" for anything else."""
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, str) else ""


def _key(event: dict[str, Any], body: dict[str, Any]) -> str:
    return str(body.get("mid") or f"{event['sender']['id']}@{event.get('timestamp')}")
