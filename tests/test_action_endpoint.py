"""What the Rasa server sends the action server (the current turn only, through kept-alive connections)
and how it checks the answers."""

import asyncio

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, DefinePrevUserUtteredFeaturization, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic import Blueprint

from bot import PROJECT_DIR, action_endpoint
from bot.action_endpoint import KeptAliveEndpoint, _validate_answer_once_built, current_turn

UPSTREAM_CALL_FORMAT = RemoteAction._action_call_format

HISTORY = [
    ActionExecuted("action_session_start"),
    UserUttered("hello"),
    BotUttered("Hi!"),
    UserUttered("does it hurt?"),
    DefinePrevUserUtteredFeaturization(False),
]


def test_only_the_events_from_the_latest_message_on_are_sent():
    assert current_turn(HISTORY) == HISTORY[3:]


def test_a_conversation_without_a_message_yet_is_sent_whole():
    assert current_turn(HISTORY[:1]) == HISTORY[:1]
    assert current_turn([]) == []


def test_the_action_server_gets_upstream_s_body_with_the_current_turn_s_events():
    domain = Domain.load(str(PROJECT_DIR / "domain.yml"))
    tracker = DialogueStateTracker.from_events("visitor", HISTORY, domain.slots)
    action = RemoteAction("action_answer", EndpointConfig("http://127.0.0.1:5055/webhook"))
    upstream = RemoteAction._action_call_format(action, tracker, domain)
    action_endpoint.install(Blueprint("calls"))
    try:
        ours = RemoteAction._action_call_format(action, tracker, domain)
    finally:
        RemoteAction._action_call_format = UPSTREAM_CALL_FORMAT
    assert ours["tracker"]["events"] == upstream["tracker"]["events"][3:]
    assert {**ours, "tracker": {**ours["tracker"], "events": None}} == {
        **upstream,
        "tracker": {**upstream["tracker"], "events": None},
    }


def test_the_endpoint_keeps_what_endpoints_yml_configured():
    configured = EndpointConfig("http://127.0.0.1:5055/webhook", token="secret", enable_selective_domain=True)
    endpoint = KeptAliveEndpoint.of(configured)
    assert (endpoint.url, endpoint.token, endpoint.kwargs) == (configured.url, "secret", configured.kwargs)


def test_calls_share_one_session_until_it_is_closed():
    async def sessions() -> tuple[bool, bool]:
        endpoint = KeptAliveEndpoint("http://127.0.0.1:9/webhook")
        async with endpoint.session() as first, endpoint.session() as second:
            shared = first is second
        await endpoint.close()
        async with endpoint.session() as third:
            renewed = third is not first and not third.closed
        await endpoint.close()
        return shared, renewed

    assert asyncio.run(sessions()) == (True, True)


ANSWERS = [
    {"events": [{"event": "slot", "name": "previous_topic", "value": "pain"}], "responses": [{"text": "It stings."}]},
    {"events": [], "responses": []},
    {},
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot", "name": 7}], "responses": []},
    {"events": [{"no": "event key"}], "responses": []},
    {"events": [], "responses": "hello"},
    {"events": [], "responses": ["a bare string"]},
]


def _upstream_accepts(answer: dict) -> bool:
    try:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError:
        return False
    return True


@pytest.mark.parametrize("answer", ANSWERS)
def test_answers_are_checked_as_rasa_checks_them(answer):
    try:
        accepted = _validate_answer_once_built(RemoteAction("action_answer_topic", None), answer)
    except jsonschema.ValidationError as error:
        assert "Failed to validate Action server response" in error.message
        accepted = False
    assert accepted == _upstream_accepts(answer)


def test_some_answers_are_refused():
    assert [_upstream_accepts(answer) for answer in ANSWERS].count(False) >= 4
