"""Rasa's client for the action server: kept-alive connections, only the current turn sent,
and the action server's answers checked by a JSON schema validator built once.

Rasa 3.6's ``EndpointConfig.request`` opens a new aiohttp session, so a new TCP
connection, for every action call, and sends the action server the whole
conversation (``EventVerbosity.ALL``), which grows with every turn. Our actions
read only the latest message and the slots (both sent apart from the events), so
the events before the visitor's latest message are left out, and never turned
into JSON (upstream: the whole history is sent,
https://github.com/RasaHQ/rasa/issues/6334; a session per request:
``rasa/utils/endpoints.py`` in Rasa 3.6.21).

Rasa 3.6 checks every answer of the action server with ``jsonschema.validate``
(``RemoteAction._validate_action_result``), which first checks Rasa's events
schema itself against the JSON Schema meta-schema and then throws its validator
away: 18 ms a turn, half of the Rasa server's time under load. jsonschema's
advice (https://github.com/python-jsonschema/jsonschema/issues/277) is to build
the validator once; the same check then takes 0.5 ms.

Installed on the Rasa server by the REST channel (always on) once the agent is
loaded; the agent hands this endpoint to every model it loads after that.
"""

from __future__ import annotations

import functools
from collections.abc import Reversible
from typing import Any

import aiohttp
from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from sanic import Blueprint, Sanic

# Sanic's KEEP_ALIVE_TIMEOUT, which the action server (rasa_sdk 3.6) keeps, is 5 s.
CLIENT_KEEP_ALIVE_SECONDS = 4


@functools.cache
def _answer_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_answer_once_built(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """Upstream's ``_validate_action_result``, with the validator built once: the same errors, the same message."""
    try:
        _answer_validator().validate(result)
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


class _Shared:
    """An open session for upstream's ``async with self.session() as session:``, left open at its end."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: object) -> None:
        return None


def current_turn(events: Reversible[Event]) -> list[Event]:
    """The events from the visitor's latest message on (all of them when there is none yet)."""
    turn = []
    for event in reversed(events):
        turn.append(event)
        if isinstance(event, UserUttered):
            break
    return turn[::-1]


class _CurrentTurnOnly:
    """A tracker as upstream's ``_action_call_format`` reads it, its events from the visitor's latest message on.

    Upstream turns every event of the conversation into a dict for the body first: at turn 300, a seventh of a turn.
    """

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self._tracker = tracker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)

    def current_state(self, event_verbosity: EventVerbosity = EventVerbosity.NONE) -> dict[str, Any]:
        state = self._tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in current_turn(self._tracker.events)]
        return state


_upstream_call_format = RemoteAction._action_call_format


def _call_with_the_current_turn(action: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    return _upstream_call_format(action, _CurrentTurnOnly(tracker), domain)  # type: ignore[arg-type]


class KeptAliveEndpoint(EndpointConfig):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shared: aiohttp.ClientSession | None = None

    @classmethod
    def of(cls, endpoint: EndpointConfig) -> KeptAliveEndpoint:
        return cls(
            endpoint.url,
            endpoint.params,
            endpoint.headers,
            endpoint.basic_auth,
            endpoint.token,
            endpoint.token_name,
            endpoint.cafile,
            **endpoint.kwargs,
        )

    def session(self) -> _Shared:  # type: ignore[override]
        if self._shared is None or self._shared.closed:
            auth = (
                aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            )
            self._shared = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                # Idle connections are dropped before the action server closes them: none is reused half-closed.
                connector=aiohttp.TCPConnector(keepalive_timeout=CLIENT_KEEP_ALIVE_SECONDS),
            )
        return _Shared(self._shared)

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()


def install(blueprint: Blueprint) -> None:
    """Give the Rasa server's agent this client for the action server once it is loaded, and close it at the end."""
    endpoints: list[KeptAliveEndpoint] = []
    RemoteAction._validate_action_result = _validate_answer_once_built  # type: ignore[method-assign]
    RemoteAction._action_call_format = _call_with_the_current_turn  # type: ignore[method-assign]

    async def on_start(app: Sanic, _loop: Any) -> None:
        agent = getattr(app.ctx, "agent", None)
        if agent is None or agent.action_endpoint is None:
            return
        endpoint = KeptAliveEndpoint.of(agent.action_endpoint)
        endpoints.append(endpoint)
        agent.action_endpoint = endpoint
        if agent.processor is not None:
            agent.processor.action_endpoint = endpoint

    async def on_stop(_app: Sanic, _loop: Any) -> None:
        for endpoint in endpoints:
            await endpoint.close()

    blueprint.listener("after_server_start")(on_start)
    blueprint.listener("after_server_stop")(on_stop)
