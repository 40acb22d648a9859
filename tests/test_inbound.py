"""The checks every channel runs on a message before Rasa reads it (bot/channels/inbound.py, bot/channels/rest.py)."""

from __future__ import annotations

import asyncio
import json

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from bot.channels.inbound import (
    EMPTY,
    GREETING,
    SLOW_DOWN,
    Gate,
    LimitError,
    Limits,
    Pace,
    RateLimiter,
    as_typed_text,
    clean,
    offered_payloads,
    screen,
    too_long,
)
from bot.channels.never_silent import TRY_AGAIN
from bot.channels.rest import MAX_SENDER_CHARS, BadBody, read_body
from bot.tracker_store import DatabaseUnavailable

BUTTON = '/pain{"procedure": "laser-pigment-removal"}'


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("does it hurt?", "does it hurt?"),
        ("does\x00 it\x07 hurt\x1b[0m?", "does it hurt[0m?"),
        ("line one\r\nline two\rthree\tfour", "line one\nline two\nthree\tfour"),
        ("C1\x85\x9b controls and DEL\x7f", "C1 controls and DEL"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        (b"bytes \xff\xfe here", "bytes \ufffd\ufffd here"),
        ("  \n\t padded \n ", "padded"),
        ("what\u2019s \u201cnew\u201d \U0001f62c", "what\u2019s \u201cnew\u201d \U0001f62c"),
        ("\x00\x01\x02", ""),
    ],
)
def test_clean_removes_control_characters_and_replaces_invalid_text(raw, cleaned):
    assert clean(raw) == cleaned
    assert clean(cleaned) == cleaned


# What happens to a message: (kind, what Rasa reads) with kind "rasa" or the polite reply's name.
@pytest.mark.parametrize(
    ("text", "offered", "decision"),
    [
        ("does it hurt?", set(), ("rasa", "does it hurt?")),
        ('/indications{"condition":"pregnancy"}', set(), ("rasa", 'indications{"condition":"pregnancy"}')),
        ('/choose_procedure{"procedure":{"a":1}}', set(), ("rasa", 'choose_procedure{"procedure":{"a":1}}')),
        ("/restart", set(), ("rasa", "restart")),
        ("//  /session_start", set(), ("rasa", "session_start")),
        (BUTTON, {BUTTON}, ("rasa", BUTTON)),
        (BUTTON + " ", {BUTTON}, ("rasa", BUTTON)),  # cleaned first, so a trailing space does not matter
        (BUTTON, {"/sessions"}, ("rasa", BUTTON[1:])),
        ("/pain", {BUTTON}, ("rasa", "pain")),  # only the exact payload offered
        (GREETING, set(), ("rasa", GREETING)),
        ("", set(), ("empty", "")),
        (" \n\t", set(), ("empty", "")),
        ("/", set(), ("empty", "")),
        ("\x00\x00", set(), ("empty", "")),
        ("a" * 1000, set(), ("rasa", "a" * 1000)),
        ("a" * 1001, set(), ("too long", "")),
        ("/" + "a" * 1000, {"/" + "a" * 1000}, ("too long", "")),
        ("a" * 1000 + "\x00" * 50, set(), ("rasa", "a" * 1000)),  # the cap counts what is left after cleaning
    ],
)
def test_screen_decides_what_reaches_rasa(text, offered, decision):
    verdict = screen(text, 1000, frozenset(offered))
    replies = {"": "rasa", EMPTY: "empty", too_long(1000): "too long"}
    assert (replies[verdict.reply], verdict.text) == decision


def test_as_typed_text_drops_every_leading_slash():
    assert as_typed_text("//sessions ") == "sessions"


def test_offered_payloads_are_those_of_the_assistants_buttons():
    events = [
        ActionExecuted("action_listen"),
        UserUttered("how much?", intent={"name": "out_of_scope"}),
        BotUttered("Sorry…", data={"buttons": [{"title": "Does it hurt?", "payload": BUTTON}, {"title": "odd"}]}),
        BotUttered("Hello!", data={"buttons": [{"title": "Sessions", "payload": "/sessions"}, "not a button"]}),
        BotUttered("plain", data={}),
        UserUttered(BUTTON, intent={"name": "pain"}),
    ]
    assert offered_payloads(events) == {BUTTON, "/sessions"}
    assert offered_payloads([]) == frozenset()


WITHIN, TELL, SILENT = Pace.WITHIN_LIMIT, Pace.TELL, Pace.STILL_TOO_FAST

# A flood with two messages a minute allowed: (second, sender, pace), in the order they arrive.
FLOOD = [
    (0.0, "ann", WITHIN),
    (0.0, "ann", WITHIN),
    (1.0, "ann", TELL),  # the first message over the limit is told to slow down …
    (1.0, "ann", SILENT),  # … the rest get no reply at all
    (2.0, "bob", WITHIN),  # another sender is not held back
    (30.0, "ann", SILENT),
    (59.9, "ann", SILENT),
    (60.0, "ann", WITHIN),  # a minute after the first two, two more get through
    (60.0, "ann", WITHIN),
    (60.5, "ann", SILENT),  # over the limit again, but told less than a minute ago
    (61.0, "ann", TELL),  # a minute after the last notice, told again
    (61.0, "ann", SILENT),
    (62.0, "bob", WITHIN),  # bob's message at 2 s has left the window
    (62.0, "bob", WITHIN),
    (62.0, "bob", TELL),  # each sender is told for their own flood
    (200.0, "ann", WITHIN),  # after a quiet minute, a sender starts afresh
    (200.0, "ann", WITHIN),
    (200.0, "ann", TELL),
]


def test_rate_limiter_lets_a_minute_of_messages_through_and_tells_a_flood_once_a_minute():
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])

    def pace(second: float, sender: str) -> Pace:
        now[0] = second
        return limiter.pace(sender)

    assert [(second, sender, pace(second, sender)) for second, sender, _ in FLOOD] == FLOOD


def test_limits_come_from_the_environment():
    assert Limits.from_environment({}) == Limits()
    assert Limits.from_environment({"MAX_MESSAGE_CHARS": ""}) == Limits()
    limits = Limits.from_environment(
        {"MAX_MESSAGE_CHARS": "500", "MAX_MESSAGES_PER_MINUTE": "5", "MAX_REQUEST_BYTES": "1024"}
    )
    assert limits == Limits(max_chars=500, messages_per_minute=5, max_request_bytes=1024)
    for bad in ("0", "-1", "1.5", "lots"):
        with pytest.raises(LimitError, match="MAX_MESSAGE_CHARS"):
            Limits.from_environment({"MAX_MESSAGE_CHARS": bad})


def test_the_gate_answers_refusals_itself_and_passes_the_rest_on():
    gate = Gate(Limits(max_chars=20, messages_per_minute=2))
    received: list[str] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "the answer"})

    async def send(text: str) -> list[str]:
        output = CollectingOutputChannel()
        await gate.guard(on_new_message)(UserMessage(text, output, "ann"))
        return [message["text"] for message in output.messages]

    async def conversation() -> list[list[str]]:
        return [await send(text) for text in ("/sessions{}", "x" * 21, "again", "and again")]

    assert asyncio.run(conversation()) == [["the answer"], [too_long(20)], [SLOW_DOWN], []]
    assert received == ["sessions{}"]


async def _silent(message: UserMessage) -> None:
    pass


async def _failing(message: UserMessage) -> None:
    raise RuntimeError("the action server is down")


async def _database_down(message: UserMessage) -> None:
    raise DatabaseUnavailable("read")


async def _answering(message: UserMessage) -> None:
    await message.output_channel.send_response(message.sender_id, {"text": "the answer"})


@pytest.mark.parametrize(
    ("turn", "replies"),
    [
        (_answering, ["the answer"]),
        (_silent, [TRY_AGAIN]),
        (_failing, [TRY_AGAIN]),
        (_database_down, [TRY_AGAIN]),
    ],
)
def test_a_turn_that_ends_without_a_reply_or_fails_asks_the_visitor_to_try_again(turn, replies):
    output = CollectingOutputChannel()
    asyncio.run(Gate().guard(turn)(UserMessage("does it hurt?", output, "ann")))
    assert [message["text"] for message in output.messages] == replies


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[]", "JSON object"),
        (b'"hi"', "JSON object"),
        (b"42", "JSON object"),
        (b"null", "JSON object"),
        (b"", "must be JSON"),
        (b"{", "must be JSON"),
        (b"[" * 100_000, "must be JSON"),
        (b'{"message": "hi"}', "sender"),
        (b'{"sender": 1, "message": "hi"}', "sender"),
        (b'{"sender": "", "message": "hi"}', "sender"),
        (b'{"sender": "a\\nb", "message": "hi"}', "sender"),
        (json.dumps({"sender": "s" * (MAX_SENDER_CHARS + 1), "message": "hi"}).encode(), "sender"),
        (b'{"sender": "ann"}', "message"),
        (b'{"sender": "ann", "message": null}', "message"),
        (b'{"sender": "ann", "message": ["hi"]}', "message"),
        (b'{"sender": "ann", "message": "hi", "metadata": "x"}', "metadata"),
    ],
)
def test_a_rest_body_of_the_wrong_shape_is_refused_with_its_reason(body, reason):
    with pytest.raises(BadBody, match=reason) as refused:
        read_body(body)
    assert "\n" not in str(refused.value)


def test_a_rest_body_with_invalid_utf8_is_read_with_replacements():
    assert read_body(b'{"sender": "ann", "message": "hi \xff"}')["message"] == "hi \ufffd"
    assert read_body(b'{"sender": "ann", "message": "", "metadata": null}')["message"] == ""
