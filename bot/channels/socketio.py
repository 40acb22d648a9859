"""The website widget's channel: Rasa's socket.io channel, with persistent sessions that work.

Rasa 3.6.21's ``SocketIOInput`` calls ``sio.enter_room`` without ``await``; since
python-socketio 5.10 that is a coroutine, so with ``session_persistence: true``
the visitor's socket never joins the room its replies are sent to and no reply
ever arrives (https://github.com/RasaHQ/rasa/issues/13027, still open upstream).
This subclass swaps in a ``session_request`` handler that awaits it and keeps
the rest of upstream's channel.

It also narrows what upstream leaves open, because the widget faces the public web:

* Only pages from the origins listed in ``WIDGET_ALLOWED_ORIGINS`` may connect
  (upstream accepts every origin). Clients that send no Origin header, i.e. not
  browsers, are let through, as engine.io itself does.
* Session ids have the form this channel issues (a uuid4 in hex). The id
  becomes the tracker's sender id, and the tracker store is shared with the
  other channels, so an arbitrary id could write into, say, a Telegram chat's
  conversation.
* A message must carry the session id confirmed on its own socket, and a
  ``message`` that is a string; anything else is ignored. Every message then
  passes the same :mod:`bot.channels.inbound` gate as the other channels, and
  engine.io refuses a packet larger than the request size limit.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput as UpstreamSocketIOInput
from sanic import Blueprint
from socketio import AsyncServer

from bot.channels.inbound import Gate

logger = logging.getLogger(__name__)

ALLOWED_ORIGINS_VARIABLE = "WIDGET_ALLOWED_ORIGINS"
# The demo site that `make run` serves; a clinic's deployment sets its own domain.
LOCAL_DEMO_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")
SESSION_ID = re.compile(r"[0-9a-f]{32}")

# A python-socketio event handler: called with the socket id and the event's arguments.
Handler = Callable[..., Awaitable[Any]]


def allowed_origins(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The origins from ``WIDGET_ALLOWED_ORIGINS`` (comma- or space-separated), else the local demo's."""
    configured = [
        origin.rstrip("/") for origin in re.split(r"[,\s]+", environ.get(ALLOWED_ORIGINS_VARIABLE, "")) if origin
    ]
    if "*" in configured:
        logger.warning("%s allows every origin: any website can embed this assistant.", ALLOWED_ORIGINS_VARIABLE)
    return configured or list(LOCAL_DEMO_ORIGINS)


def is_issued_session_id(value: object) -> bool:
    return isinstance(value, str) and SESSION_ID.fullmatch(value) is not None


class SocketIOInput(UpstreamSocketIOInput):
    """Rasa's socket.io channel with working session persistence and a list of allowed origins."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        gate = Gate()
        blueprint = super().blueprint(gate.guard(on_new_message))
        gate.install(blueprint)
        sio = self.sio
        assert sio is not None, "upstream's blueprint() creates the socket.io server"
        sio.eio.max_http_buffer_size = gate.limits.max_request_bytes
        namespace = self.namespace or "/"
        upstream = sio.handlers[namespace]
        sio.on("connect", self._origin_guard(allowed_origins(), upstream["connect"]), namespace=namespace)
        sio.on("session_request", self._session_request_handler(sio), namespace=namespace)
        sio.on(self.user_message_evt, self._message_guard(sio, upstream[self.user_message_evt]), namespace=namespace)
        return blueprint

    @staticmethod
    def _origin_guard(origins: list[str], connect: Handler) -> Handler:
        # Checked here rather than by engine.io's cors_allowed_origins: engine.io would then also send CORS
        # headers, and Rasa's own `--cors` adds a second Access-Control-Allow-Origin that browsers reject.
        async def connect_from_allowed_origin(sid: str, environ: dict, auth: Any = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if origin and "*" not in origins and origin not in origins:
                logger.info("Refused a widget connection from %s (not in %s).", origin, ALLOWED_ORIGINS_VARIABLE)
                return False
            return await connect(sid, environ, auth)

        return connect_from_allowed_origin

    def _session_request_handler(self, sio: AsyncServer) -> Handler:
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if is_issued_session_id(requested) else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return session_request

    def _message_guard(self, sio: AsyncServer, handle_message: Handler) -> Handler:
        async def guarded_handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                return
            if not isinstance(data.get(self.metadata_key) or {}, dict):
                # Upstream would json.loads a string here, and fail on anything else.
                data = {key: value for key, value in data.items() if key != self.metadata_key}
            if self.session_persistence:
                confirmed = (await sio.get_session(sid, namespace=self.namespace)).get("session_id")
                if confirmed is None or data.get("session_id") != confirmed:
                    logger.warning("Ignored a widget message whose session id was not confirmed on its socket.")
                    return
            await handle_message(sid, data)

        return guarded_handle_message
