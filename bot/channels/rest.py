"""The REST channel (/webhooks/rest/webhook): Rasa's, with its request body checked first.

Registered in credentials.yml as ``bot.channels.rest.RestInput`` in place of
``rest``. Upstream reads ``request.json.get(...)`` unchecked, so a body that is
JSON but not an object (``[]``, ``"hi"``, ``42``) or a ``message`` that is not
a string ends in a 500. Here such a request gets 400 with a one-line reason,
and every message then passes the same :mod:`bot.channels.inbound` gate as the
other channels: its polite replies come back as ordinary bot messages.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.channels.rest import RestInput as UpstreamRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import action_endpoint, library_pages, nlu_batches
from bot.channels.inbound import Gate, OnNewMessage

MAX_SENDER_CHARS = 128


class BadBody(ValueError):
    """Why a request body is refused, in one line for the client."""


def read_body(body: bytes) -> dict[str, Any]:
    """The request's JSON object, checked field by field; invalid UTF-8 in it is replaced, not fatal."""
    try:
        value = json.loads(body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        raise BadBody("the body must be JSON") from None
    if not isinstance(value, dict):
        raise BadBody('the body must be a JSON object: {"sender": "…", "message": "…"}')
    sender = value.get("sender")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS or not sender.isprintable():
        raise BadBody(f"sender must be a string of 1 to {MAX_SENDER_CHARS} printable characters")
    if not isinstance(value.get("message"), str):
        raise BadBody("message must be a string")
    if not isinstance(value.get("metadata") or {}, dict):
        raise BadBody("metadata, if given, must be a JSON object")
    return value


class RestInput(UpstreamRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        gate = Gate()
        blueprint = super().blueprint(gate.guard(on_new_message))
        gate.install(blueprint)
        # Here because REST is always on; the client and the batches serve every channel's turns.
        action_endpoint.install(blueprint)
        nlu_batches.install()
        library_pages.install(blueprint)

        async def checked_body(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            try:
                # Upstream's handler reads request.json: hand it the checked object.
                request.parsed_json = read_body(request.body)
            except BadBody as reason:
                return response.text(f"{reason}\n", status=400)
            return None

        blueprint.middleware("request")(checked_body)
        return blueprint

    def _extract_input_channel(self, request: Request) -> str:
        # Upstream lets the client name any channel, which then shapes the replies: this one is REST.
        return self.name()
