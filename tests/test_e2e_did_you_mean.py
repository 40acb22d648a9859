""" "Did you mean…", end to end: the real Rasa server, action server and model, unsure between two topics.

The phrasings below were written for this test, as a visitor might type them; the offer is checked against
the model's own ranking for the first one it is unsure of.
"""

from __future__ import annotations

import uuid

from bot.answers import sentence
from bot.decisions import FALLBACK, likely_topics
from bot.topics import sentences
from tests.conftest import ask, reply_text, tracker_events

# Written for this test, as visitors might type them (in neither data/ nor the held-out questions). Which of
# them leaves the model unsure between topics moves with each retrain: the test uses the first that does.
UNSURE = [
    "how soon do I see the difference",
    "what happens to the spots after",
    "is it bad for my skin afterwards",
    "anything i should know before and after",
    "will the marks go after a while",
    "how long until it's all done",
    "what should i expect once it's over",
    "tell me about the after part",
    "when can i see it working",
    "is the first week bad",
    "is the after bit rough",
    "when does it all settle",
    "is it ok after",
    "what about afterwards",
    "is the after part bad",
]


def topic_of(button: dict) -> str:
    return button["payload"].removeprefix("/").split("{")[0]


def first_unsure(stack, shipped) -> tuple[str, list[dict], tuple[str, ...]]:
    """The first phrasing the model falls back on, unsure between topics: its sender, replies and likely topics."""
    procedure = next(iter(shipped.procedures.values()))
    for text in UNSURE:
        sender = f"did-you-mean-{uuid.uuid4().hex[:8]}"
        replies = ask(stack, text, sender)
        parsed = next(event["parse_data"] for event in tracker_events(stack, sender) if event["event"] == "user")
        likely = likely_topics(parsed["intent_ranking"], procedure.passages)
        if parsed["intent"]["name"] == FALLBACK and likely:
            return sender, replies, likely
    raise AssertionError(f"the model is sure of every phrasing in UNSURE: add one it hesitates on ({UNSURE})")


def test_unsure_between_topics_offers_the_likely_ones_and_a_press_answers_it(stack, shipped):
    sender, replies, likely = first_unsure(stack, shipped)
    text = reply_text(replies)
    assert text.startswith("I'm not sure I understood. Did you mean:")
    assert "page may not cover it" in text  # still honest that the page may not answer it
    buttons = [button for reply in replies for button in reply.get("buttons", [])]
    assert [topic_of(button) for button in buttons[: len(likely)]] == list(likely)
    assert len({topic_of(button) for button in buttons}) == len(buttons)  # no topic offered twice

    procedure = next(iter(shipped.procedures.values()))
    for button in buttons[: len(likely)]:
        # A press sends the payload as typed text: the input gate lets it through only as an offered button.
        answered = reply_text(ask(stack, button["payload"], sender))
        opening = sentence(sentences(procedure.passages[topic_of(button)].units[0])[0])
        assert answered.startswith(opening), (button, answered)
        last = [event for event in tracker_events(stack, sender) if event["event"] == "bot"][-1]
        assert last["metadata"]["topic"] == topic_of(button)


def test_a_clearly_out_of_scope_question_gets_no_did_you_mean(stack):
    text = reply_text(ask(stack, "do you sell gift vouchers?"))
    assert "page doesn't cover that" in text
    assert "Did you mean" not in text
