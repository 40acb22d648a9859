"""Hostile and messy input against the real servers: no 5xx, prompt answers, no memory blow-up.

The servers here are this module's own, so the flood from one sender and the
memory figure are not disturbed by, and do not disturb, the other tests.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import socketio

from bot.channels.inbound import EMPTY, SLOW_DOWN, Limits, too_long
from bot.servers import Stack
from tests.conftest import copy_content, reply_text, servers_for, tracker, tracker_events

LIMITS = Limits()  # the shipped defaults: the stack below unsets the variables that change them
ANSWER_SECONDS = 2
MEMORY_GROWTH_LIMIT_MB = 50
FLOOD = 200
PREGNANCY_COMMAND = '/indications{"condition":"pregnancy"}'
BAD_SLOT_COMMAND = '/choose_procedure{"procedure":{"a":1}}'
PAGE = '{"procedure": "laser-pigment-removal"}'


@pytest.fixture(scope="module")
def hostile_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("hostile")
    servers = servers_for(copy_content(work), work / "tracker.db", log_dir=work / "logs")
    servers.env.update(dict.fromkeys(["MAX_MESSAGE_CHARS", "MAX_MESSAGES_PER_MINUTE", "MAX_REQUEST_BYTES"], ""))
    with servers:
        yield servers


def post(stack: Stack, body: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(
        f"{stack.url}/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type}, timeout=30
    )


def message(text: str, sender: str | None = None) -> bytes:
    return json.dumps({"sender": sender or uuid.uuid4().hex, "message": text}).encode()


def say(stack: Stack, text: str, sender: str) -> list[dict]:
    answer = post(stack, message(text, sender))
    answer.raise_for_status()
    return answer.json()


def resident_mb(stack: Stack) -> float:
    status = Path(f"/proc/{stack.pid('rasa')}/status").read_text()
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kilobytes) / 1024


def user_events(stack: Stack, sender: str) -> list[dict]:
    return [event for event in tracker_events(stack, sender) if event["event"] == "user"]


# --- The batch ------------------------------------------------------------------------------------------------------

# How the server must treat an input: answered as a question, answered with a polite refusal, not answered at all
# (an empty list), or refused with 400 or 413.
ANSWERED, TOO_LONG, EMPTY_REPLY, SLOW_DOWN_REPLY = "answered", "too long", "empty", "slow down"
UNANSWERED, BAD_REQUEST, TOO_LARGE = "unanswered", "400", "413"

HUGE = " ".join(["word"] * 20_000)

MESSAGES = {
    # empty and whitespace
    "empty": ("", EMPTY_REPLY),
    "space": (" ", EMPTY_REPLY),
    "whitespace": ("\n\t \r\n ", EMPTY_REPLY),
    "newlines only": ("\n" * 900, EMPTY_REPLY),
    "just a slash": ("/", EMPTY_REPLY),
    "slashes": ("///   ", EMPTY_REPLY),
    # length
    "at the cap": ("a" * LIMITS.max_chars, ANSWERED),
    "one over the cap": ("a" * (LIMITS.max_chars + 1), TOO_LONG),
    "2,000 words": (" ".join(["skin"] * 2_000), TOO_LONG),
    "one long word": ("pigment" * 1_000, TOO_LONG),
    # control characters
    "NUL and bell": ("does it hurt\x00\x07?", ANSWERED),
    "only control characters": ("\x00\x01\x02\x1b\x7f", EMPTY_REPLY),
    "terminal escapes": ("\x1b[31mhow many sessions\x1b[0m", ANSWERED),
    "C1 controls": ("is it safe\x85\x9b?", ANSWERED),
    "zero-width and bidi": ("does\u200b it\u202e hurt?", ANSWERED),
    "byte order mark": ("\ufeffhow long is the recovery?", ANSWERED),
    # markup and injection
    "script tag": ("<script>alert(1)</script>", ANSWERED),
    "img onerror": ('<img src=x onerror="alert(1)">', ANSWERED),
    "javascript url": ("javascript:alert(document.cookie)", ANSWERED),
    "markdown link": ("[click](javascript:alert(1))", ANSWERED),
    "sql drop": ("'; DROP TABLE events; --", ANSWERED),
    "sql or": ("1' OR '1'='1", ANSWERED),
    "sql union": ("x UNION SELECT sender_id, data FROM events --", ANSWERED),
    "path up": ("../../../../etc/passwd", ANSWERED),
    "windows path": ("..\\..\\windows\\win.ini", ANSWERED),
    "encoded path": ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", ANSWERED),
    "file url": ("file:///etc/shadow", ANSWERED),
    "format %s": ("%s%s%s%n%x", ANSWERED),
    "format braces": ("{0} {1} {__class__.__init__.__globals__}", ANSWERED),
    "template": ("${x} ${jndi:ldap://example.invalid/a} {{7*7}}", ANSWERED),
    "percent mapping": ("%(message)s %(sender)s", ANSWERED),
    "csv formula": ('=HYPERLINK("http://example.invalid")', ANSWERED),
    # text that looks like a Rasa command
    "pregnancy command": (PREGNANCY_COMMAND, ANSWERED),
    "bad slot command": (BAD_SLOT_COMMAND, ANSWERED),
    "list slot command": ('/choose_procedure{"procedure": ["x", 1]}', ANSWERED),
    "path slot command": ('/sessions{"procedure": "../../etc/passwd"}', ANSWERED),
    "restart": ("/restart", ANSWERED),
    "session start": ("/session_start", ANSWERED),
    "action listen": ("/action_listen", ANSWERED),
    "broken command": ('/indications{"condition":', ANSWERED),
    "intent with confidence": ("/indications@0.99", ANSWERED),
    "button not offered here": (f"/sessions{PAGE}", ANSWERED),
    # curly quotes and other typography
    "curly apostrophe": ("what\u2019s the recovery like?", ANSWERED),
    "curly quotes": ("\u201cdoes it hurt?\u201d", ANSWERED),
    "dashes": ("is it safe \u2014 really \u2013 for me?", ANSWERED),
    "emoji": ("does it hurt? 😬😬😬", ANSWERED),
    "full width": ("\uff44\uff4f\uff45\uff53 \uff49\uff54 \uff48\uff55\uff52\uff54", ANSWERED),
    "numbers": ("1e309 NaN -0 Infinity", ANSWERED),
}

BODIES = {
    "array": (b"[]", BAD_REQUEST),
    "string": (b'"hi"', BAD_REQUEST),
    "number": (b"42", BAD_REQUEST),
    "null": (b"null", BAD_REQUEST),
    "true": (b"true", BAD_REQUEST),
    "no body": (b"", BAD_REQUEST),
    "not JSON": (b"does it hurt?", BAD_REQUEST),
    "truncated JSON": (b'{"sender": "x", "message": "hi"', BAD_REQUEST),
    "invalid UTF-8 only": (b"\xff\xfe\xfd", BAD_REQUEST),
    "no sender": (b'{"message": "hi"}', BAD_REQUEST),
    "numeric sender": (b'{"sender": 7, "message": "hi"}', BAD_REQUEST),
    "empty sender": (b'{"sender": "", "message": "hi"}', BAD_REQUEST),
    "sender with a NUL": (b'{"sender": "a\\u0000b", "message": "hi"}', BAD_REQUEST),
    "very long sender": (json.dumps({"sender": "s" * 10_000, "message": "hi"}).encode(), BAD_REQUEST),
    "no message": (b'{"sender": "x"}', BAD_REQUEST),
    "null message": (b'{"sender": "x", "message": null}', BAD_REQUEST),
    "number message": (b'{"sender": "x", "message": 5}', BAD_REQUEST),
    "list message": (b'{"sender": "x", "message": ["does it hurt?"]}', BAD_REQUEST),
    "object message": (b'{"sender": "x", "message": {"text": "hi"}}', BAD_REQUEST),
    "list metadata": (b'{"sender": "x", "message": "hi", "metadata": [1]}', BAD_REQUEST),
    "deeply nested message": (b'{"sender": "x", "message": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", BAD_REQUEST),
    "nesting past the parser": (b'{"sender": "x", "message": "hi", "metadata": ' + b"[" * 60_000 + b"}", BAD_REQUEST),
    "20,000 words": (message(HUGE), TOO_LARGE),
    "invalid UTF-8 in the message": (b'{"sender": "<sender>", "message": "does it hurt\xff\xfe?"}', ANSWERED),
    "lone surrogate": (b'{"sender": "<sender>", "message": "\\ud800 is it safe?"}', ANSWERED),
    "plain text content type": (message("does it hurt?"), ANSWERED),
    "extra fields": (b'{"sender": "<sender>", "message": "hi", "input_channel": ["x"], "x": {"y": [1]}}', ANSWERED),
}


@dataclass(frozen=True)
class Outcome:
    name: str
    status: int
    seconds: float
    replies: list[dict]

    def kind(self) -> str:
        if self.status != 200:
            return str(self.status)
        if self.replies == []:
            return UNANSWERED
        text = reply_text(self.replies)
        refusals = {too_long(LIMITS.max_chars): TOO_LONG, EMPTY: EMPTY_REPLY, SLOW_DOWN: SLOW_DOWN_REPLY}
        return refusals.get(text, ANSWERED if text else "a reply without text")


def send(stack: Stack, name: str, body: bytes) -> Outcome:
    started = time.monotonic()
    content_type = "text/plain" if name == "plain text content type" else "application/json"
    answer = post(stack, body.replace(b"<sender>", uuid.uuid4().hex.encode()), content_type)
    seconds = time.monotonic() - started
    replies = answer.json() if answer.status_code == 200 else []
    if answer.status_code in (400, 413):
        assert "\n" not in answer.text.strip(), f"{name}: the reason is one line"
    return Outcome(name, answer.status_code, seconds, replies)


def refused_unread(stack: Stack, size: int) -> str:
    """The status line answered to a POST announcing ``size`` bytes, of which only the headers are sent.

    "" when the server is still waiting for the body after a second.
    """
    with socket.create_connection(("127.0.0.1", stack.rasa_port), timeout=10) as connection:
        connection.sendall(
            f"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
        )
        connection.settimeout(1)
        try:
            return connection.recv(4096).decode(errors="replace").split("\r\n", 1)[0]
        except TimeoutError:
            return ""


def warm_up(stack: Stack) -> None:
    """Load what the first questions load (models, graphs), so the memory figure shows only growth."""
    for text in ("hi", "how many sessions do I need?", "can you remove melasma", "x " * (LIMITS.max_chars // 2)):
        for _ in range(3):
            say(stack, text, uuid.uuid4().hex)


def test_hostile_batch_gets_no_5xx_prompt_answers_and_little_memory(hostile_stack):
    warm_up(hostile_stack)
    before = resident_mb(hostile_stack)

    inputs = {name: (message(text), kind) for name, (text, kind) in MESSAGES.items()} | BODIES
    outcomes = {name: send(hostile_stack, name, body) for name, (body, _) in inputs.items()}
    five_megabytes = refused_unread(hostile_stack, 5 * 1024 * 1024)

    flooder = uuid.uuid4().hex
    flood = [send(hostile_stack, f"flood {number}", message("does it hurt?", flooder)) for number in range(FLOOD)]

    after = resident_mb(hostile_stack)
    growth = after - before
    print(f"\nRasa server memory: {before:.0f} MB before, {after:.0f} MB after the batch; growth {growth:+.1f} MB")
    slowest = max([*outcomes.values(), *flood], key=lambda outcome: outcome.seconds)
    print(f"Slowest answer: {slowest.seconds:.2f} s ({slowest.name}); inputs: {len(inputs) + 1 + FLOOD}")

    assert len(inputs) + 1 >= 60
    wrong = {name: outcome.kind() for name, outcome in outcomes.items() if outcome.kind() != inputs[name][1]}
    assert not wrong, f"treated otherwise than expected: {wrong}"
    assert "413" in five_megabytes, five_megabytes
    assert all(outcome.status < 500 for outcome in [*outcomes.values(), *flood])
    assert slowest.seconds < ANSWER_SECONDS, slowest

    # A flood is answered up to the limit, told once to slow down, and then costs no replies at all.
    told_once = [ANSWERED] * LIMITS.messages_per_minute + [SLOW_DOWN_REPLY]
    assert [outcome.kind() for outcome in flood] == told_once + [UNANSWERED] * (FLOOD - len(told_once))
    assert "painkillers" in reply_text(flood[0].replies)
    assert len(user_events(hostile_stack, flooder)) == LIMITS.messages_per_minute  # the rest never reached Rasa

    assert "three to five sessions" in reply_text(say(hostile_stack, "how many sessions do I need?", "afterwards"))
    assert growth < MEMORY_GROWTH_LIMIT_MB


def test_a_body_over_the_limit_is_refused_before_it_is_read(hostile_stack):
    assert "413" in refused_unread(hostile_stack, LIMITS.max_request_bytes + 1)
    assert refused_unread(hostile_stack, 100) == ""  # a body within the limit is waited for


# --- Typed commands and offered buttons -------------------------------------------------------------------------


def test_a_typed_intent_command_is_read_as_words(hostile_stack):
    sender = uuid.uuid4().hex
    say(hostile_stack, PREGNANCY_COMMAND, sender)
    [typed] = user_events(hostile_stack, sender)
    assert typed["text"] == 'indications{"condition":"pregnancy"}'  # through the NLU and its safety rules


def test_a_typed_intent_command_never_gets_a_yes(hostile_stack):
    assert "Yes" not in reply_text(say(hostile_stack, PREGNANCY_COMMAND, uuid.uuid4().hex))


def test_a_typed_slot_payload_cannot_break_the_conversation(hostile_stack):
    sender = uuid.uuid4().hex
    for text in (BAD_SLOT_COMMAND, '/choose_procedure{"procedure": "nonexistent-page"}', "does it hurt?"):
        answer = post(hostile_stack, message(text, sender))
        assert answer.status_code == 200, text
    assert "painkillers" in reply_text(answer.json())
    assert tracker(hostile_stack, sender)["slots"].get("procedure") in (None, "laser-pigment-removal")


def test_an_offered_button_works_and_only_in_its_own_conversation(hostile_stack):
    sender, stranger = uuid.uuid4().hex, uuid.uuid4().hex
    offered = say(hostile_stack, "how much does it cost?", sender)
    payloads = [button["payload"] for reply in offered for button in reply.get("buttons", [])]
    pain = f"/pain{PAGE}"
    assert pain in payloads
    assert "painkillers" in reply_text(say(hostile_stack, pain, sender))
    assert user_events(hostile_stack, sender)[-1]["text"] == pain  # taken as the command it is

    say(hostile_stack, pain, stranger)
    assert not user_events(hostile_stack, stranger)[-1]["text"].startswith("/")


def test_the_greeting_command_works_anywhere(hostile_stack):
    replies = say(hostile_stack, "/greet", uuid.uuid4().hex)
    assert reply_text(replies).startswith("Hello!")
    assert [button["payload"] for reply in replies for button in reply.get("buttons", [])]


# --- The widget's socket.io -------------------------------------------------------------------------------------


def test_the_widget_channel_ignores_wrong_types_and_caps_length(hostile_stack):
    client = socketio.Client(reconnection=False)
    answers: list[dict] = []
    confirmed: list[str] = []
    client.on("bot_uttered", answers.append)
    client.on("session_confirm", confirmed.append)
    client.connect(hostile_stack.url, transports=["polling"], socketio_path="socket.io", wait_timeout=10)
    try:
        client.emit("session_request", {"session_id": None})
        wait_for(lambda: confirmed)
        session = confirmed[0]
        for data in (
            ["not", "an", "object"],
            "just a string",
            42,
            None,
            {"session_id": session},
            {"session_id": session, "message": 5},
            {"session_id": session, "message": ["hi"]},
            {"session_id": session, "message": {"text": "hi"}},
            {"session_id": session, "message": None},
        ):
            client.emit("user_uttered", data)
        # One at a time: each reply must come before the next message, or the order of replies could vary.
        for number, text in enumerate(("hi", "w " * 20_000, PREGNANCY_COMMAND), 1):
            client.emit("user_uttered", {"session_id": session, "message": text, "metadata": "{not json"})
            wait_for(lambda number=number: len(answers) >= number)
            time.sleep(0.5)  # the widget's channel sends each paragraph of a reply as a message of its own
    finally:
        client.disconnect()
    texts = [answer.get("text", "") for answer in answers]
    assert texts[0].startswith("Hello!") and too_long(LIMITS.max_chars) in texts, texts
    # The malformed messages and the over-long one never reached Rasa; the command was read as words.
    said = [event["text"] for event in user_events(hostile_stack, session)]
    assert said == ["hi", 'indications{"condition":"pregnancy"}']


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "nothing came"
        time.sleep(0.1)
