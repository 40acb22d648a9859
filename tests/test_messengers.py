"""Telegram and Messenger end to end: real Rasa and action servers, fake Telegram and Graph APIs on loopback.

Updates are posted to the Rasa server's webhooks in the apps' own formats;
the fakes record what the connectors send back.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.channels.registration import add_telegram_webhook_parser, run_telegram_webhook
from bot.logs import hashed
from bot.servers import API_TOKEN_VARIABLE, Stack, free_port
from tests.conftest import API_TOKEN, CONTENT_DIR, ask, reply_text, tracker_events
from tests.messenger_fakes import FAIL, HANG, Call, FakeApi

TOKEN = "123456:TEST-token-for-the-fake-api"
SECRET = "webhook-Secret_1"
PAGE_TOKEN = "EAAG-test-page-token"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "clinic-verify-token"
SITE = "https://clinic.example"
PAGE_LINK = f"{SITE}/procedures/laser-pigment-removal#what-does-the-skin-look-like-after-the-procedure"
LONG_NOTE = "Plan note {}: the specialist adjusts the interval between sessions to how your skin responds."
CHANNEL_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "FACEBOOK_PAGE_ACCESS_TOKEN",
    "FACEBOOK_APP_SECRET",
    "FACEBOOK_VERIFY_TOKEN",
)
PROMPT_SECONDS = 2

ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


@pytest.fixture(scope="module")
def telegram_api() -> Iterator[FakeApi]:
    with FakeApi(result={"message_id": 1, "username": "clinic_test_bot"}) as api:
        yield api


@pytest.fixture(scope="module")
def graph_api() -> Iterator[FakeApi]:
    with FakeApi() as api:
        yield api


@pytest.fixture(autouse=True)
def answering_apis(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts (and leaves) the fakes answering normally, even when it failed midway."""
    yield
    for name in ("telegram_api", "graph_api"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()


@pytest.fixture(scope="module")
def messenger_content(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped content with the clinic's site set and a sessions answer longer than a message."""
    target = tmp_path_factory.mktemp("messenger") / "content"
    shutil.copytree(CONTENT_DIR, target)
    clinic = target / "clinic.yml"
    clinic.write_text(clinic.read_text(encoding="utf-8").replace("site_url:", f"site_url: {SITE}"), encoding="utf-8")
    page = target / "procedures" / "laser-pigment-removal.md"
    required = "on average about three to five sessions are required"
    notes = " ".join(LONG_NOTE.format(number) for number in range(1, 61))
    page.write_text(
        page.read_text(encoding="utf-8").replace(required, f"{required}. {notes[:-1]}", 1), encoding="utf-8"
    )
    return target


@pytest.fixture(scope="module")
def messenger_stack(
    telegram_api: FakeApi, graph_api: FakeApi, messenger_content: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The shipped credentials.yml, with both channels configured and pointed at the fakes."""
    work = tmp_path_factory.mktemp("messenger-stack")
    servers = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        log_dir=work / "logs",
        env={
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_URL": telegram_api.url,
            "FACEBOOK_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
            "FACEBOOK_APP_SECRET": APP_SECRET,
            "FACEBOOK_VERIFY_TOKEN": VERIFY_TOKEN,
            "FACEBOOK_GRAPH_URL": f"{graph_api.url}/v23.0",
            "CLINIC_CONTENT_DIR": str(messenger_content),
            "TRACKER_DB": str(work / "tracker.db"),
            API_TOKEN_VARIABLE: API_TOKEN,
        },
    )
    with servers:
        yield servers


@pytest.fixture(scope="module")
def unconfigured_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A server with neither channel's variables set: the suite's shared one, unless this shell sets them."""
    if not any(os.environ.get(name) for name in CHANNEL_VARIABLES):
        yield request.getfixturevalue("stack")
        return
    servers = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        env=dict.fromkeys(CHANNEL_VARIABLES, "")
        | {"TRACKER_DB": str(tmp_path_factory.mktemp("unconfigured") / "tracker.db")},
    )
    with servers:
        yield servers


# --- Telegram -----------------------------------------------------------------------------------------------------


def to_telegram(stack: Stack, update: dict[str, Any], secret: str | None = SECRET) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(f"{stack.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=10)


def typed(chat: int, text: str) -> dict[str, Any]:
    return {
        "update_id": next(ids),
        "message": {
            "message_id": next(ids),
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ann"},
        },
    }


def pressed(chat: int, data: str, keyboard: list[list[dict]] | None = None) -> dict[str, Any]:
    message = {
        "message_id": next(ids),
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private"},
        "text": "…",
        "reply_markup": {"inline_keyboard": keyboard or []},
    }
    return {
        "update_id": next(ids),
        "callback_query": {
            "id": f"cb{next(ids)}",
            "data": data,
            "message": message,
            "from": {"id": chat, "is_bot": False, "first_name": "Ann"},
        },
    }


def telegram_replies(api: FakeApi, chat: int, count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The first ``count`` messages sent to ``chat``, once they have all come."""

    def sent(calls: list[Call]) -> list[dict[str, Any]]:
        return [call.body for call in calls if call.method == "sendMessage" and call.body["chat_id"] == str(chat)]

    return sent(api.wait_for(lambda calls: len(sent(calls)) >= count, timeout))[:count]


def test_telegram_answers_a_typed_question_in_html_with_a_working_link(messenger_stack, telegram_api):
    chat = next(ids)
    assert to_telegram(messenger_stack, typed(chat, "is the procedure safe?")).status_code == 200
    [reply] = telegram_replies(telegram_api, chat)
    assert "does not pose any risk to your health" in reply["text"]
    assert f'<a href="{PAGE_LINK}">What does the skin look like after the procedure?</a>' in reply["text"]
    assert "](" not in reply["text"] and reply["parse_mode"] == "HTML"
    assert all(call.path.startswith(f"/bot{TOKEN}/") for call in telegram_api.recorded())
    assert "getMe" not in {call.method for call in telegram_api.recorded()}  # upstream asked on every update


def test_telegram_suggestions_are_an_inline_keyboard_that_answers_when_pressed(messenger_stack, telegram_api):
    chat = next(ids)
    to_telegram(messenger_stack, typed(chat, "/start"))
    [greeting] = telegram_replies(telegram_api, chat)
    assert greeting["text"].startswith("Hello!")
    keyboard = greeting["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [
        "How many sessions will I need?",
        "Is the procedure safe?",
        "Does it hurt?",
        "How long is the recovery?",
    ]
    assert all(len(row) == 1 and len(row[0]["callback_data"].encode()) <= 64 for row in keyboard)

    update = pressed(chat, keyboard[2][0]["callback_data"], keyboard)
    to_telegram(messenger_stack, update)
    _, answer = telegram_replies(telegram_api, chat, count=2)
    assert "does not require the use of painkillers" in answer["text"]
    acks = [call.body for call in telegram_api.recorded() if call.method == "answerCallbackQuery"]
    assert {"callback_query_id": update["callback_query"]["id"]} in acks  # stops the button's spinner


def test_telegram_splits_a_long_answer_at_sentence_ends(messenger_stack, telegram_api):
    chat = next(ids)
    to_telegram(messenger_stack, typed(chat, "how many sessions do I need?"))
    parts = [reply["text"] for reply in telegram_replies(telegram_api, chat, count=2)]
    assert all(len(part) <= 4096 for part in parts)
    assert parts[0].endswith("responds.") and parts[1].startswith("Plan note")
    assert f"{LONG_NOTE.format(60)}\n\nRead more: <a href" in parts[1]
    for number in range(1, 61):
        assert sum(LONG_NOTE.format(number) in part for part in parts) == 1


def test_telegram_refuses_updates_without_the_secret_token(messenger_stack, telegram_api):
    chat = next(ids)
    assert to_telegram(messenger_stack, typed(chat, "does it hurt?"), secret=None).status_code == 403
    assert to_telegram(messenger_stack, typed(chat, "does it hurt?"), secret="guessed").status_code == 403
    assert to_telegram(messenger_stack, typed(chat, "does it hurt?"), secret=SECRET[:-1]).status_code == 403
    assert not user_messages(messenger_stack, chat)


def test_telegram_answers_a_resent_update_once(messenger_stack, telegram_api):
    chat = next(ids)
    update = typed(chat, "does it hurt?")
    assert to_telegram(messenger_stack, update).status_code == 200
    assert to_telegram(messenger_stack, update).status_code == 200  # Telegram's retry: acknowledged, not answered
    to_telegram(messenger_stack, typed(chat, "how many sessions do I need?"))
    replies = telegram_replies(telegram_api, chat, count=2)  # Rasa handles a chat's messages in order
    assert "painkillers" in replies[0]["text"] and "Plan note" in replies[1]["text"]
    assert wait_until(lambda: user_messages(messenger_stack, chat) == ["does it hurt?", "how many sessions do I need?"])


def test_telegram_webhook_answers_at_once_while_the_api_hangs(messenger_stack, telegram_api):
    telegram_api.mode = HANG
    chat = next(ids)
    started = time.monotonic()
    assert to_telegram(messenger_stack, typed(chat, "does it hurt?")).status_code == 200
    assert time.monotonic() - started < PROMPT_SECONDS
    assert wait_until(lambda: user_messages(messenger_stack, chat)) == ["does it hurt?"]


# --- Messenger ----------------------------------------------------------------------------------------------------


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }


def to_messenger(stack: Stack, *events: dict[str, Any], headers: dict[str, str] | None = None) -> requests.Response:
    body = json.dumps(
        {"object": "page", "entry": [{"id": "page-1", "time": int(time.time() * 1000), "messaging": list(events)}]}
    ).encode()
    return requests.post(
        f"{stack.url}/webhooks/facebook/webhook",
        data=body,
        headers=signed(body) if headers is None else headers,
        timeout=10,
    )


def said(psid: str, text: str, quick_reply: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": f"m_{next(ids)}", "text": text}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    return {
        "sender": {"id": psid},
        "recipient": {"id": "page-1"},
        "timestamp": int(time.time() * 1000),
        "message": message,
    }


def messenger_replies(api: FakeApi, psid: str, count: int = 1) -> list[dict[str, Any]]:
    def sent(calls: list[Call]) -> list[dict[str, Any]]:
        return [
            call.body["message"]
            for call in calls
            if call.body.get("recipient") == {"id": psid} and "message" in call.body
        ]

    return sent(api.wait_for(lambda calls: len(sent(calls)) >= count))[:count]


def test_messenger_verification_handshake_needs_the_verify_token(messenger_stack):
    url = f"{messenger_stack.url}/webhooks/facebook/webhook"
    handshake = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    answer = requests.get(url, params={**handshake, "hub.verify_token": VERIFY_TOKEN}, timeout=10)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    assert requests.get(url, params={**handshake, "hub.verify_token": "guess"}, timeout=10).status_code == 403
    assert requests.get(url, params=handshake, timeout=10).status_code == 403


def test_messenger_answers_in_plain_text_with_the_link_spelled_out(messenger_stack, graph_api):
    psid = f"psid{next(ids)}"
    assert to_messenger(messenger_stack, said(psid, "is the procedure safe?")).status_code == 200
    [reply] = messenger_replies(graph_api, psid)
    assert "does not pose any risk to your health" in reply["text"]
    assert reply["text"].endswith(f"Read more: What does the skin look like after the procedure? ({PAGE_LINK})")
    sends = [call for call in graph_api.recorded() if call.body.get("recipient") == {"id": psid}]
    assert all(call.path == "/v23.0/me/messages" and call.query["access_token"] == PAGE_TOKEN for call in sends)
    assert sends[0].body["sender_action"] == "mark_seen"


def test_messenger_suggestions_are_quick_replies_within_limits(messenger_stack, graph_api):
    psid = f"psid{next(ids)}"
    to_messenger(messenger_stack, said(psid, "hi", quick_reply="/greet"))
    [greeting] = messenger_replies(graph_api, psid)
    page = '{"procedure": "laser-pigment-removal"}'
    assert [(reply["title"], reply["payload"]) for reply in greeting["quick_replies"]] == [
        ("How many sessions…", f"/sessions{page}"),
        ("Is the procedure…", f"/safety{page}"),
        ("Does it hurt?", f"/pain{page}"),
        ("How long is the…", f"/recovery{page}"),
    ]
    to_messenger(messenger_stack, said(psid, "How many sessions…", quick_reply=f"/sessions{page}"))
    assert "Plan note" in messenger_replies(graph_api, psid, count=2)[1]["text"]


def test_messenger_splits_a_long_answer_at_sentence_ends(messenger_stack, graph_api):
    psid = f"psid{next(ids)}"
    to_messenger(messenger_stack, said(psid, "how many sessions do I need?"))
    parts = [reply["text"] for reply in messenger_replies(graph_api, psid, count=3)]
    assert all(len(part) <= 2000 and re.search(r"[.)]$", part) for part in parts)
    assert parts[-1].endswith(f"({PAGE_LINK})")


def test_messenger_answers_every_event_of_a_batch_once(messenger_stack, graph_api):
    psid = f"psid{next(ids)}"
    pain, sessions = said(psid, "does it hurt?"), said(psid, "how many sessions do I need?")
    assert to_messenger(messenger_stack, pain, sessions).status_code == 200
    assert to_messenger(messenger_stack, pain).status_code == 200  # Meta's retry of one of them
    texts = [reply["text"] for reply in messenger_replies(graph_api, psid, count=3)]
    assert "painkillers" in texts[0] and "Plan note 1:" in texts[1] and "Plan note" in texts[2]
    assert wait_until(lambda: user_messages(messenger_stack, psid) == ["does it hurt?", "how many sessions do I need?"])


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        signed(b"another body"),
        signed(b"", secret="wrong-secret"),
        {"X-Hub-Signature": "sha1=0000000000000000000000000000000000000000"},  # all upstream checked
    ],
    ids=["missing", "for-another-body", "wrong-secret", "sha1-only"],
)
def test_messenger_refuses_unsigned_or_forged_deliveries(messenger_stack, headers):
    psid = f"psid{next(ids)}"
    assert to_messenger(messenger_stack, said(psid, "does it hurt?"), headers=headers).status_code == 403
    assert not user_messages(messenger_stack, psid)


def test_messenger_failure_is_logged_and_the_conversation_kept(messenger_stack, graph_api):
    graph_api.mode = FAIL
    psid = f"psid{next(ids)}"
    started = time.monotonic()
    assert to_messenger(messenger_stack, said(psid, "does it hurt?")).status_code == 200
    assert time.monotonic() - started < PROMPT_SECONDS
    assert wait_until(lambda: user_messages(messenger_stack, psid)) == ["does it hurt?"]
    log = messenger_stack.log_dir / "rasa.log"
    # The visitor's Messenger id is logged hashed: lines of one chat can be followed, the id is not revealed.
    assert wait_until(lambda: f"could not deliver to {hashed(psid)}" in log.read_text(errors="replace"))
    assert psid not in log.read_text(errors="replace")
    assert PAGE_TOKEN not in log.read_text(errors="replace")


# --- Hostile input ------------------------------------------------------------------------------------------------

PREGNANCY_COMMAND = '/indications{"condition":"pregnancy"}'


def test_button_payloads_not_offered_in_the_chat_are_read_as_words(messenger_stack, telegram_api, graph_api):
    chat, psid = next(ids), f"psid{next(ids)}"
    to_telegram(messenger_stack, pressed(chat, '/choose_procedure{"procedure":{"a":1}}'))
    to_messenger(messenger_stack, {**said(psid, "x"), "message": None, "postback": {"payload": PREGNANCY_COMMAND}})
    assert wait_until(lambda: user_messages(messenger_stack, chat)) == ['choose_procedure{"procedure":{"a":1}}']
    assert wait_until(lambda: user_messages(messenger_stack, psid)) == ['indications{"condition":"pregnancy"}']
    assert telegram_replies(telegram_api, chat) and messenger_replies(graph_api, psid)


@pytest.mark.parametrize(
    "update",
    [
        [],
        "hi",
        {"update_id": "1"},
        {"update_id": 1, "message": {"text": "hi", "chat": "42"}},
        {"update_id": 2, "message": {"text": "hi", "chat": {"id": [42]}}},
        {"update_id": 3, "message": {"text": ["hi"], "chat": {"id": 42}}},
        {"update_id": 4, "callback_query": {"data": 5, "message": {"chat": {"id": 42}, "reply_markup": [1]}}},
        {"update_id": 5, "callback_query": {"message": {"chat": {"id": 42}, "reply_markup": {"inline_keyboard": 1}}}},
    ],
)
def test_telegram_ignores_updates_of_the_wrong_shape(messenger_stack, update):
    assert to_telegram(messenger_stack, update).status_code == 200


@pytest.mark.parametrize(
    "event",
    [
        {"sender": "psid", "message": {"text": "hi"}},
        {"sender": {"id": 7}, "message": {"text": "hi"}},
        {"sender": {"id": "psid-x"}, "message": {"text": 5, "quick_reply": "x"}},
        {"sender": {"id": "psid-x"}, "message": {"quick_reply": {"payload": ["x"]}}},
        {"sender": {"id": "psid-x"}, "postback": {"payload": {"a": 1}}},
        {"sender": {"id": "psid-x"}, "postback": "x"},
    ],
)
def test_messenger_ignores_events_of_the_wrong_shape(messenger_stack, event):
    assert to_messenger(messenger_stack, event).status_code == 200


def test_webhooks_refuse_nesting_deeper_than_json_can_be_read(messenger_stack):
    body = b"[" * 50_000
    secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    telegram = requests.post(f"{messenger_stack.url}/webhooks/telegram/webhook", data=body, headers=secret, timeout=10)
    facebook = f"{messenger_stack.url}/webhooks/facebook/webhook"
    messenger = requests.post(facebook, data=body, headers=signed(body), timeout=10)
    assert (telegram.status_code, messenger.status_code) == (400, 400)


# --- Neither channel configured -----------------------------------------------------------------------------------


def test_server_starts_without_messenger_variables_and_says_what_is_missing(unconfigured_stack):
    assert reply_text(ask(unconfigured_stack, "how many sessions do I need?"))
    telegram = requests.post(f"{unconfigured_stack.url}/webhooks/telegram/webhook", json={"update_id": 1}, timeout=10)
    assert telegram.status_code == 503 and "TELEGRAM_BOT_TOKEN" in telegram.json()["error"]
    facebook = requests.get(f"{unconfigured_stack.url}/webhooks/facebook/webhook", timeout=10)
    assert facebook.status_code == 503 and "FACEBOOK_APP_SECRET" in facebook.json()["error"]


# --- Registering the Telegram webhook ----------------------------------------------------------------------------


def register(*argv: str) -> int:
    commands = argparse.ArgumentParser().add_subparsers(dest="command")
    add_telegram_webhook_parser(commands)
    return run_telegram_webhook(commands.choices["telegram-webhook"].parse_args(argv))


def test_webhook_command_registers_the_secret_token(telegram_api, monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TELEGRAM_API_URL", telegram_api.url)
    url = "https://assistant.clinic.example/webhooks/telegram/webhook"
    assert register("--url", url) == 0
    [registration] = [call.body for call in telegram_api.recorded() if call.method == "setWebhook"]
    assert registration == {"url": url, "secret_token": SECRET, "allowed_updates": ["message", "callback_query"]}
    assert "@clinic_test_bot" in capsys.readouterr().out
    assert register("--url", "http://plain.example/hook") == 2


def test_webhook_command_explains_missing_variables(monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    assert register() == 2
    assert "set TELEGRAM_BOT_TOKEN" in capsys.readouterr().out


# --- Helpers ------------------------------------------------------------------------------------------------------


def user_messages(stack: Stack, sender: int | str) -> list[str]:
    return [event["text"] for event in tracker_events(stack, sender) if event["event"] == "user"]


def wait_until(condition: Callable[[], Any], timeout: float = 30) -> Any:
    """The first true value of ``condition()``: Rasa saves a conversation just after queueing its replies."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout:.0f} s")
        time.sleep(0.2)
    return value


# --- A consultation request from each app --------------------------------------------------------------------------

BOOKING_ANSWERS = ("Ann Telegram-Messenger", "+44 20 7946 0123", "Friday morning")


def stored_requests(stack: Stack) -> list[tuple[str, str, str]]:
    with sqlite3.connect(stack.env["TRACKER_DB"]) as db:
        return list(db.execute("SELECT name, contact, channel FROM consultation_requests"))


def test_telegram_books_a_consultation_with_the_consent_button(messenger_stack, telegram_api):
    chat = next(ids)
    name = f"Ann Tele {chr(ord('a') + chat % 26)}"
    for count, text in enumerate(("I'd like to book a consultation", name, *BOOKING_ANSWERS[1:]), start=1):
        to_telegram(messenger_stack, typed(chat, text))
        telegram_replies(telegram_api, chat, count=count)
    consent = telegram_replies(telegram_api, chat, count=4)[-1]
    keyboard = consent["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Yes, I agree", "Cancel"]
    to_telegram(messenger_stack, pressed(chat, keyboard[0][0]["callback_data"], keyboard))
    thanks = telegram_replies(telegram_api, chat, count=5)[-1]
    assert re.search(r"\bC-\d{5}\b", thanks["text"])
    assert (name, "+442079460123", "telegram") in stored_requests(messenger_stack)


def test_messenger_books_a_consultation_with_the_consent_quick_reply(messenger_stack, graph_api):
    psid = f"psid{next(ids)}"
    name = f"Ann Messenger {chr(ord('a') + int(psid[-2:]) % 26)}"
    for count, text in enumerate(("book a consultation please", name, *BOOKING_ANSWERS[1:]), start=1):
        to_messenger(messenger_stack, said(psid, text))
        messenger_replies(graph_api, psid, count=count)
    consent = messenger_replies(graph_api, psid, count=4)[-1]
    assert [(reply["title"], reply["payload"]) for reply in consent["quick_replies"]] == [
        ("Yes, I agree", "yes"),
        ("Cancel", "cancel"),
    ]
    to_messenger(messenger_stack, said(psid, "Yes, I agree", quick_reply="yes"))
    thanks = messenger_replies(graph_api, psid, count=5)[-1]
    assert re.search(r"\bC-\d{5}\b", thanks["text"])
    assert (name, "+442079460123", "facebook") in stored_requests(messenger_stack)


def test_a_person_is_offered_as_a_button_in_each_app(messenger_stack, telegram_api, graph_api):
    chat, psid = next(ids), f"psid{next(ids)}"
    to_telegram(messenger_stack, typed(chat, "what is the capital of peru?"))
    [fallback] = telegram_replies(telegram_api, chat)
    person = fallback["reply_markup"]["inline_keyboard"][-1][0]
    assert person["text"] == "Talk to a person"
    to_telegram(messenger_stack, pressed(chat, person["callback_data"]))
    assert "I don't have" in telegram_replies(telegram_api, chat, count=2)[1]["text"]  # no contacts in this content
    to_messenger(messenger_stack, said(psid, "what is the capital of peru?"))
    [fallback] = messenger_replies(graph_api, psid)
    assert fallback["quick_replies"][-1] == {
        "content_type": "text",
        "title": "Talk to a person",
        "payload": "/talk_to_person",
    }
