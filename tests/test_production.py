"""Production mode under faults: the real PostgreSQL, Redis, two Rasa servers, the action server and nginx.

One stack for the module (bot/production.py, as `make prod` starts it, on free ports), its run directory
(logs, nginx's access log, PostgreSQL's cluster) kept in tests/artifacts/production for a failed run's reader.
Each fault is played for real: a server stopped with SIGTERM, PostgreSQL stopped with `pg_ctl`, a messenger
API that refuses or hangs (tests/messenger_fakes.py, the only stand-in).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests
import socketio

from bot.channels.never_silent import TRY_AGAIN
from bot.production import ProductionStack, missing_packages, secrets_from
from bot.servers import API_TOKEN_VARIABLE
from tests.conftest import API_TOKEN, ARTIFACTS, reply_text
from tests.messenger_fakes import HANG, FakeApi
from tests.test_messengers import SECRET, TOKEN, ids, telegram_replies, typed, wait_until

# Questions on distinct topics, written for these tests; each must get its own answer, never another's.
QUESTIONS = (
    "how many sessions will I need",
    "is the procedure painful",
    "how long does healing take afterwards",
    "what causes these brown spots",
    "can you treat the backs of my hands",
    "is the laser safe for the skin",
)


@pytest.fixture(scope="module")
def telegram_api() -> Iterator[FakeApi]:
    with FakeApi(result={"message_id": 1, "username": "clinic_test_bot"}) as api:
        yield api


@pytest.fixture(scope="module")
def prod(telegram_api: FakeApi) -> Iterator[ProductionStack]:
    if missing_packages():
        pytest.skip(f"production mode needs {', '.join(missing_packages())} (.ci/run installs them)")
    run_dir = ARTIFACTS / "production"
    shutil.rmtree(run_dir, ignore_errors=True)
    stack = ProductionStack.on_free_ports(
        run_dir,
        secrets=secrets_from({API_TOKEN_VARIABLE: API_TOKEN}),
        env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_URL": telegram_api.url},
    )
    with stack:
        yield stack


def rest(url: str, sender: str, message: str) -> list[dict]:
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=90)
    response.raise_for_status()
    return response.json()


def server_url(prod: ProductionStack, name: str) -> str:
    return f"http://{prod.host}:{prod.rasa_ports()[name]}"


def events(prod: ProductionStack, sender: str) -> list[dict]:
    response = requests.get(
        f"{prod.public_url}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=30
    )
    response.raise_for_status()
    return response.json()["events"]


def turns(prod: ProductionStack, sender: str) -> list[tuple[str, str]]:
    """Each visitor message with the text the assistant answered it with, as the database holds them.

    A message answered after another message arrived would show as two user events in a row.
    """
    pairs: list[tuple[str, str]] = []
    for event in events(prod, sender):
        if event["event"] == "user":
            pairs.append((event["text"], ""))
        elif event["event"] == "bot" and pairs:
            pairs[-1] = (pairs[-1][0], flat(f"{pairs[-1][1]} {event['text']}"))
    return pairs


def flat(text: str) -> str:
    """The words of a reply: a channel may send its paragraphs as one message or several."""
    return " ".join(text.split())


def said(replies: list[dict]) -> str:
    return flat(reply_text(replies))


def fresh() -> str:
    return f"prod-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def answers(prod: ProductionStack) -> dict[str, str]:
    """What each question gets when asked alone, in a conversation of its own."""
    alone = {question: said(rest(prod.public_url, fresh(), question)) for question in QUESTIONS}
    assert len(set(alone.values())) == len(QUESTIONS), "the questions must get different answers to tell them apart"
    return alone


def test_nginx_serves_the_site_and_spreads_rest_over_both_servers(prod, answers):
    assert "<script" in requests.get(f"{prod.public_url}/", timeout=30).text
    log = prod.run_dir / "nginx-access.log"
    before = len(log.read_text().splitlines())
    for question in QUESTIONS[:4]:
        assert said(rest(prod.public_url, fresh(), question)) == answers[question]
    since = "\n".join(log.read_text().splitlines()[before:])
    used = set(re.findall(r"POST /webhooks/rest/webhook 200 upstream=(\S+)", since))
    assert used == {f"{prod.host}:{port}" for port in prod.rasa_ports().values()}


def test_a_conversation_alternating_between_the_servers_keeps_its_history(prod, answers):
    sender = fresh()
    servers = ["rasa", "rasa-2"]
    for number, question in enumerate(QUESTIONS[:4]):
        assert said(rest(server_url(prod, servers[number % 2]), sender, question)) == answers[question]
    assert turns(prod, sender) == [(question, answers[question]) for question in QUESTIONS[:4]]
    # Both servers read the same conversation: the same events and the same slots.
    seen = [
        requests.get(f"{server_url(prod, name)}/conversations/{sender}/tracker", params={"token": API_TOKEN}, timeout=9)
        for name in servers
    ]
    first, second = (response.json() for response in seen)
    assert first["slots"] == second["slots"] and first["slots"]["procedure"]
    assert first["events"] == second["events"]


def test_turns_sent_to_both_servers_at_once_never_interleave(prod, answers):
    sender = fresh()
    replies: dict[str, str] = {}

    def send(number: int, question: str) -> None:
        replies[question] = said(rest(server_url(prod, ["rasa", "rasa-2"][number % 2]), sender, question))

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(QUESTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == {question: answers[question] for question in QUESTIONS}
    stored = turns(prod, sender)
    assert sorted(stored) == sorted(replies.items())  # each turn whole, with its own answer, in some order


def test_a_postgres_restart_mid_conversation_loses_no_turn(prod, answers):
    sender = fresh()
    first, during, after = QUESTIONS[:3]
    assert said(rest(prod.public_url, sender, first)) == answers[first]
    prod.postgres.stop()
    reply: list[str] = []
    asking = threading.Thread(target=lambda: reply.append(said(rest(prod.public_url, sender, during))))
    asking.start()
    time.sleep(1)  # the question arrives while the database is down
    prod.postgres.start()
    asking.join()
    assert reply[0] in (answers[during], TRY_AGAIN)  # an answer or a polite retry, never silence
    assert said(rest(prod.public_url, sender, after)) == answers[after]
    answered = [first, during, after] if reply[0] != TRY_AGAIN else [first, after]
    assert [(question, text) for question, text in turns(prod, sender) if text] == [
        (question, answers[question]) for question in answered
    ]


def test_a_dead_action_server_gets_a_polite_retry_within_2_s_and_answers_resume(prod, answers):
    sender = fresh()
    question = QUESTIONS[0]
    prod.stop_process("actions")
    try:
        started = time.monotonic()
        replies = rest(prod.public_url, sender, question)
        elapsed = time.monotonic() - started
        assert reply_text(replies) == TRY_AGAIN
        assert elapsed < 2, f"the visitor waited {elapsed:.1f} s"
    finally:
        prod.start_actions(prod.environment())
    assert said(rest(prod.public_url, sender, question)) == answers[question]


def to_telegram(prod: ProductionStack, server: str, update: dict) -> None:
    requests.post(
        f"{server_url(prod, server)}/webhooks/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        timeout=10,
    ).raise_for_status()


def user_texts(prod: ProductionStack, chat: int) -> list[str]:
    return [event["text"] for event in events(prod, str(chat)) if event["event"] == "user"]


def test_a_resent_telegram_update_is_handled_once_whichever_server_gets_it(prod, telegram_api):
    chat = next(ids)
    update = typed(chat, QUESTIONS[0])
    to_telegram(prod, "rasa", update)
    wait_until(lambda: user_texts(prod, chat) == [QUESTIONS[0]])
    to_telegram(prod, "rasa-2", update)  # Telegram resends it, and this time nginx picks the other server
    to_telegram(prod, "rasa-2", typed(chat, QUESTIONS[1]))
    wait_until(lambda: len(user_texts(prod, chat)) >= 2)
    assert user_texts(prod, chat) == [QUESTIONS[0], QUESTIONS[1]]


def test_a_send_the_api_refuses_for_now_is_retried_until_delivered(prod, telegram_api):
    chat = next(ids)
    telegram_api.failures_left = 2  # two 503s, then the API works again
    to_telegram(prod, "rasa", typed(chat, QUESTIONS[0]))
    telegram_replies(telegram_api, chat, count=3)  # the first sendMessage, refused twice, then accepted
    sent = [call.body for call in telegram_api.recorded() if call.body.get("chat_id") == str(chat)]
    assert len(sent) == 3 and sent[0] == sent[1] == sent[2]
    assert telegram_api.failures_left == 0


class Widget:
    """A widget visitor over socket.io (long polling, so every request passes nginx's sticky routing)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = uuid.uuid4().hex
        self.received: list[str] = []
        self.confirmed = threading.Event()
        self.client = socketio.Client(reconnection_delay=0.2, reconnection_delay_max=1)
        self.client.on("connect", self._on_connect)
        self.client.on("session_confirm", lambda _: self.confirmed.set())
        self.client.on("bot_uttered", lambda data: self.received.append(data.get("text", "")))

    def _on_connect(self) -> None:
        # As the widget does on every (re)connection: the same session, so the same conversation.
        self.confirmed.clear()
        self.client.emit("session_request", {"session_id": self.session})

    def connect(self) -> None:
        self.client.connect(self.url, transports=["polling"], headers={"Origin": self.url}, wait_timeout=30)

    def ask(self, question: str, timeout: float = 90) -> str:
        """The answer's text; every paragraph of it comes as a message of its own."""
        deadline = time.monotonic() + timeout
        while not (self.client.connected and self.confirmed.wait(1)):
            assert time.monotonic() < deadline, "the widget did not reconnect"
        start = len(self.received)
        self.client.emit("user_uttered", {"message": question, "session_id": self.session})
        while len(self.received) == start:
            assert time.monotonic() < deadline, f"no answer to {question!r}"
            time.sleep(0.1)
        time.sleep(1)  # the rest of the paragraphs
        return flat(" ".join(self.received[start:]))


def serving(prod: ProductionStack) -> str:
    """The Rasa server nginx routed the last socket.io request to."""
    log = (prod.run_dir / "nginx-access.log").read_text()
    tried = re.findall(r"/socket\.io/ \d+ upstream=(.+)$", log, re.MULTILINE)[-1]
    upstream = re.findall(r":(\d+)", tried)[-1]  # after a failover nginx lists every server it tried
    return next(name for name, port in prod.rasa_ports().items() if str(port) == upstream)


def test_a_widget_visitor_keeps_the_conversation_across_a_restart_of_its_server(prod, answers):
    widget = Widget(prod.public_url)
    widget.connect()
    try:
        before, during, after = QUESTIONS[:3]
        assert widget.ask(before) == answers[before]
        server = serving(prod)
        prod.stop_process(server)
        try:
            assert widget.ask(during) == answers[during]  # the other server, same conversation
        finally:
            prod.start_rasa(server)
        assert widget.ask(after) == answers[after]
    finally:
        widget.client.disconnect()
    assert turns(prod, widget.session) == [(question, answers[question]) for question in (before, during, after)]


def answers_sent(calls: list, chat: int) -> set[str]:
    """The distinct replies the fake Telegram API was asked to send to ``chat``."""
    sent = [call.body for call in calls if call.method == "sendMessage"]
    return {flat(body["text"]) for body in sent if body["chat_id"] == str(chat)}


def two_replies_queued(prod: ProductionStack, telegram_api: FakeApi, server: str) -> int:
    """A chat whose two replies wait in ``server``: the first held by the API, the second queued behind it."""
    chat = next(ids)
    telegram_api.mode = HANG
    for question in QUESTIONS[:2]:
        to_telegram(prod, server, typed(chat, question))
    wait_until(lambda: len(user_texts(prod, chat)) == 2)
    return chat


def both_replies_arrive(telegram_api: FakeApi, chat: int) -> bool:
    return len(answers_sent(telegram_api.wait_for(lambda calls: len(answers_sent(calls, chat)) >= 2), chat)) == 2


def test_the_replies_of_a_server_that_crashed_are_sent_by_the_other(prod, telegram_api):
    chat = two_replies_queued(prod, telegram_api, "rasa-2")
    os.kill(prod.pid("rasa-2"), signal.SIGKILL)  # a crash: nothing is drained
    telegram_api.reset()
    # The journal in Redis outlives the server; the other server takes its replies once it is seen dead.
    assert both_replies_arrive(telegram_api, chat)


def test_a_stopped_server_sends_the_replies_it_had_queued_first(prod, telegram_api):
    # Last in the module: it leaves the first Rasa server stopped.
    chat = two_replies_queued(prod, telegram_api, "rasa")
    stopping = threading.Thread(target=prod.stop_process, args=("rasa",))
    stopping.start()  # SIGTERM, as a deploy or a service manager sends it
    time.sleep(1)
    telegram_api.reset()  # the API answers again while the server is stopping
    stopping.join()

    assert both_replies_arrive(telegram_api, chat)
