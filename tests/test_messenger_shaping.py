"""How replies are shaped for Telegram and Messenger, and how their updates are read: fast, no server."""

from __future__ import annotations

import re

import pytest

from bot.channels.delivery import JsonApi, Outbox
from bot.channels.facebook import FacebookOutput, read_events
from bot.channels.formatting import (
    MESSENGER_LIMIT,
    PLAIN_TEXT,
    TELEGRAM_HTML,
    TELEGRAM_LIMIT,
    cut_title,
    length,
    render,
    split_message,
)
from bot.channels.settings import NotConfigured, TelegramSettings
from bot.channels.telegram import CallbackData, TelegramInput, TelegramOutput, read_update
from bot.channels.webhooks import BoundedMemory

ANSWER = (
    "Indications for laser removal of age spots are:\n- Diffuse redness.\n- Acne spots & <scars>.\n\n"
    "Read more: [Indications for the procedure](https://clinic.example/procedures/p#indications)"
)
SUGGESTIONS = [
    {"title": "How many sessions will I need?", "payload": "/sessions"},
    {"title": "Which areas of the body do you treat?", "payload": "/body_areas"},
]


def sentences(count: int, words: str = "the laser light breaks the pigment into tiny particles") -> str:
    return " ".join(f"Sentence {number} says {words}." for number in range(count))


# --- Rendering ----------------------------------------------------------------------------------------------------


def test_telegram_html_escapes_text_and_renders_lists_and_links():
    assert render(ANSWER, TELEGRAM_HTML) == (
        "Indications for laser removal of age spots are:\n• Diffuse redness.\n• Acne spots &amp; &lt;scars&gt;.\n\n"
        'Read more: <a href="https://clinic.example/procedures/p#indications">Indications for the procedure</a>'
    )


def test_plain_text_spells_out_links_and_drops_markup():
    shown = render(
        "**Safe**, _quick_ and `cheap`.\n\n1. First\n2. Second\n\n[Prices](https://clinic.example/p)", PLAIN_TEXT
    )
    assert shown == "Safe, quick and cheap.\n\n1. First\n2. Second\n\nPrices (https://clinic.example/p)"


def test_a_link_that_only_works_on_the_website_shows_as_its_title():
    relative = "Read more: [What does the skin look like?](/procedures/laser-pigment-removal#skin)"
    assert render(relative, TELEGRAM_HTML) == render(relative, PLAIN_TEXT) == "Read more: What does the skin look like?"


def test_no_markdown_syntax_is_left_raw():
    markdown = "# Aftercare\n\n**Avoid sun** for *two* weeks; see [the page](https://x.example/a_b).\n\n> Quoted."
    for markup in (TELEGRAM_HTML, PLAIN_TEXT):
        shown = re.sub(r"<[^>]+>|https?://\S+", "", render(markdown, markup))
        assert not re.search(r"[*#>\[\]]|\]\(", shown), shown
    assert "<b>Aftercare</b>" in render(markdown, TELEGRAM_HTML)


# --- Splitting ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("markup", "limit"), [(TELEGRAM_HTML, TELEGRAM_LIMIT), (PLAIN_TEXT, MESSENGER_LIMIT)])
def test_long_answers_are_split_at_sentence_ends_under_the_limit(markup, limit):
    text = sentences(120) + "\n\nRead more: [The page](https://clinic.example/p)"
    parts = split_message(text, limit, markup)
    assert len(parts) > 1
    assert all(length(part) <= limit for part in parts)
    assert all(part.endswith(".") for part in parts[:-1])
    assert " ".join(parts).replace("\n\n", " ").count("Sentence ") == 120


def test_a_short_answer_stays_one_message():
    assert split_message(ANSWER, MESSENGER_LIMIT, PLAIN_TEXT) == [render(ANSWER, PLAIN_TEXT)]


def test_a_link_is_never_cut_in_two():
    text = "Intro. " + " ".join(f"[Part {number}. See it](https://clinic.example/{number})" for number in range(40))
    for part in split_message(text, 200, PLAIN_TEXT):
        assert "[" not in part and "](" not in part and length(part) <= 200


def test_numbered_lists_are_not_cut_after_their_numbers():
    text = "\n".join(f"{number}. Spot kind {number} with a longer description." for number in range(1, 60))
    parts = split_message(text, 300, PLAIN_TEXT)
    assert all(re.fullmatch(r"(\d+\. Spot kind \d+ with a longer description\.\n?)+", part) for part in parts)
    assert sum(part.count("Spot kind") for part in parts) == 59


def test_a_sentence_longer_than_a_message_is_cut_between_words():
    parts = split_message("word " * 1000, 2000, PLAIN_TEXT)
    assert all(length(part) <= 2000 and not part.endswith("wor") for part in parts)
    assert sum(part.count("word") for part in parts) == 1000


def test_emoji_count_double_as_the_apps_count_them():
    parts = split_message("😀" * 3000, MESSENGER_LIMIT, PLAIN_TEXT)
    assert [len(part) for part in parts] == [1000, 1000, 1000]


# --- Button titles ------------------------------------------------------------------------------------------------


def test_long_button_titles_are_cut_at_a_word_with_an_ellipsis():
    assert cut_title("How many sessions will I need?", 20) == "How many sessions…"
    assert cut_title("Which areas of the body do you treat?", 20) == "Which areas of the…"
    assert cut_title("Does it hurt?", 20) == "Does it hurt?"
    assert cut_title("Photorejuvenation-and-pigment", 20) == "Photorejuvenation-a…"
    assert all(len(cut_title(title, 20)) <= 20 for title in ("a" * 40, "ab " * 12, "word, then more words"))


# --- Telegram -----------------------------------------------------------------------------------------------------


def telegram_output() -> TelegramOutput:
    return TelegramOutput(Outbox(JsonApi("http://127.0.0.1:9", secret="token"), "telegram"), CallbackData())


def test_telegram_buttons_become_an_inline_keyboard_under_the_last_part():
    calls = telegram_output().calls_for("42", sentences(200), SUGGESTIONS)
    assert len(calls) > 1 and "reply_markup" not in calls[0].payload
    assert calls[-1].payload["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "How many sessions will I need?", "callback_data": "/sessions"}],
            [{"text": "Which areas of the body do you treat?", "callback_data": "/body_areas"}],
        ]
    }


def test_a_payload_too_long_for_telegram_travels_as_a_reference():
    callbacks = CallbackData()
    payload = '/choose_procedure{"procedure": "laser-removal-of-pigment-spots-on-the-face"}'
    data = callbacks.encode(payload)
    assert len(data.encode()) <= 64 and callbacks.decode(data) == payload


def test_a_forgotten_reference_reads_the_buttons_title_instead():
    data = CallbackData().encode("/" + "x" * 80)
    keyboard = [[{"text": "Laser removal of tattoos", "callback_data": data}]]
    update = {
        "update_id": 7,
        "callback_query": {
            "id": "q1",
            "data": data,
            "message": {"chat": {"id": 42}, "reply_markup": {"inline_keyboard": keyboard}},
        },
    }
    [incoming] = read_update(update, CallbackData())  # a new process: nothing remembered
    assert incoming.text == "Laser removal of tattoos"
    assert incoming.receipts[0].payload == {"callback_query_id": "q1"}


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("/start", "/greet"),
        ("/start@clinic_bot", "/greet"),
        ("/help", "/greet"),
        ('/sessions{"x": 1}', 'sessions{"x": 1}'),
        ("does it hurt?", "does it hurt?"),
    ],
)
def test_typed_text_is_never_taken_for_an_intent_except_telegrams_commands(typed, read):
    update = {"update_id": 1, "message": {"chat": {"id": 42}, "text": typed}}
    assert read_update(update, CallbackData())[0].text == read


def test_telegram_updates_without_text_are_not_answered():
    assert read_update({"update_id": 2, "edited_message": {"chat": {"id": 42}, "text": "hi"}}, CallbackData()) == []
    assert read_update({"update_id": 3, "message": {"chat": {"id": 42}, "photo": []}}, CallbackData()) == []
    assert read_update({"message": {"chat": {"id": 42}, "text": "hi"}}, CallbackData()) == []


def test_the_telegram_secret_must_be_one_telegram_accepts():
    with pytest.raises(NotConfigured, match="may only use"):
        TelegramSettings.from_environment({"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_SECRET": "has space"})
    with pytest.raises(NotConfigured) as off:
        TelegramSettings.from_environment({"TELEGRAM_BOT_TOKEN": "1:a"})
    assert off.value.partly and "TELEGRAM_WEBHOOK_SECRET" in str(off.value)


# --- Messenger ----------------------------------------------------------------------------------------------------


def test_messenger_quick_replies_respect_count_and_title_limits():
    buttons = [
        {"title": f"Question number {number} about the laser", "payload": f"/topic{number}"} for number in range(20)
    ]
    output = FacebookOutput(Outbox(JsonApi("http://127.0.0.1:9", secret="token"), "facebook"))
    [call] = output.calls_for("psid", "Here is what I can tell you about:", buttons)
    quick_replies = call.payload["message"]["quick_replies"]
    assert len(quick_replies) == 13 and all(len(reply["title"]) <= 20 for reply in quick_replies)
    assert quick_replies[0] == {"content_type": "text", "title": "Question number 0…", "payload": "/topic0"}


def test_messenger_events_are_read_for_text_quick_replies_and_postbacks_only():
    def event(**body: object) -> dict:
        return {"sender": {"id": "u1"}, "recipient": {"id": "page"}, "timestamp": 1, **body}

    update = {
        "object": "page",
        "entry": [
            {
                "messaging": [
                    event(message={"mid": "m1", "text": "/greet"}),
                    event(message={"mid": "m2", "text": "How many…", "quick_reply": {"payload": "/sessions"}}),
                    event(postback={"mid": "m3", "payload": "/greet", "title": "Get Started"}),
                    event(message={"mid": "m4", "text": "our own reply", "is_echo": True}),
                    event(message={"mid": "m5", "attachments": [{"type": "image"}]}),
                    event(read={"watermark": 1}),
                ]
            }
        ],
    }
    assert [(incoming.key, incoming.text) for incoming in read_events(update)] == [
        ("m1", "greet"),
        ("m2", "/sessions"),
        ("m3", "/greet"),
    ]
    assert read_events({"object": "instagram", "entry": []}) == []


def test_bounded_memory_forgets_the_oldest_first():
    memory: BoundedMemory[str, bool] = BoundedMemory(2)
    assert memory.remember("a", True) and memory.remember("b", True) and not memory.remember("a", True)
    assert memory.remember("c", True)  # "b" was the oldest, "a" had just come again
    assert memory.recall("a") and memory.recall("b") is None


def test_secrets_written_into_credentials_yml_are_not_used(monkeypatch, caplog):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    channel = TelegramInput.from_credentials({"access_token": "123:abc", "verify": "clinic_bot"})
    assert channel.get_output_channel() is None
    assert "settings in credentials.yml are ignored" in caplog.text
