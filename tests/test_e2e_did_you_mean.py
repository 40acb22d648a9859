""" "Did you mean…", end to end: the real Rasa server, action server and model, unsure between two topics.

The question below was written for this test, as a visitor might type it (it is in neither data/ nor the
held-out questions); the trained model falls back on it, unsure between the two topics named with it.
"""

from __future__ import annotations

import uuid

from bot.answers import PERSON_BUTTON, sentence
from bot.decisions import FALLBACK
from bot.topics import sentences
from tests.conftest import ask, reply_text, tracker_events

UNSURE = "how soon do I see the difference"
LIKELY = {"results", "how_it_works"}  # the model's two best guesses (their order moves with each retrain)


def topic_of(button: dict) -> str:
    return button["payload"].removeprefix("/").split("{")[0]


def test_unsure_between_topics_offers_the_likely_ones_and_a_press_answers_it(stack, shipped):
    sender = f"did-you-mean-{uuid.uuid4().hex[:8]}"
    replies = ask(stack, UNSURE, sender)
    parsed = next(event["parse_data"] for event in tracker_events(stack, sender) if event["event"] == "user")
    assert parsed["intent"]["name"] == FALLBACK, parsed["intent_ranking"]

    text = reply_text(replies)
    assert text.startswith("I'm not sure I understood. Did you mean:")
    assert "page may not cover it" in text  # still honest that the page may not answer it
    buttons = [button for reply in replies for button in reply.get("buttons", [])]
    assert buttons.pop() == PERSON_BUTTON  # a person, always offered last
    assert {topic_of(button) for button in buttons[: len(LIKELY)]} == LIKELY
    assert len({topic_of(button) for button in buttons}) == len(buttons)  # no topic offered twice

    procedure = next(iter(shipped.procedures.values()))
    for button in buttons[: len(LIKELY)]:
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
