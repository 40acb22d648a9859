"""End to end: the triage examples of issue 9 against the real Rasa server and action server.

What is checked is the KIND of answer, not its wording: every bot reply carries
its topic as event metadata (actions/actions.py ``say``), read back from the
conversation's tracker. ``report_complication`` is the urgent answer.
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import ask, tracker_events

URGENT = "report_complication"

REPORTS = [
    "my face is still red and swollen a week after the laser",
    "the skin where you lasered is hot and very swollen",
    "redness won't go away after the session",
    "redness won\u2019t go away after the session",
    "My mum had it done on Friday and now her cheek is weeping and crusty",
    "ok so its been 9 days since my session and the swelling under my eye still hasn\u2019t gone down "
    "\u2013 should I worry??",
    # Sign words typed in a hurry: without the rules for them the model sent these to "the page doesn't cover that".
    "the treated spot is weaping, had it done thursday",
    "got a feaver since my laser session",
    "temp of 39 since yesterday, had my session on fri",
    "the skin is all weepy n crusty where the lazer was",
]

# Questions before a procedure: the page's safety or recovery answer, or the indications verdict.
QUESTIONS = {
    "will I have blisters?": {"safety", "recovery"},
    "what is the risk of infection?": {"safety", "recovery"},
    "is there pus afterwards?": {"safety", "recovery"},
    "I have a burn scar, can you treat it?": {"indications"},
    "my red cheeks are getting worse, can laser help with rosacea?": {"indications"},
    "what if my face is still red after a week?": {"safety", "recovery"},
}


def reply_topics(stack, message: str) -> list[str]:
    """The topic of each reply the assistant gave to ``message``, from the tracker's bot events."""
    sender = uuid.uuid4().hex
    ask(stack, message, sender=sender)
    events = tracker_events(stack, sender)
    last_user = max(i for i, event in enumerate(events) if event["event"] == "user")
    return [(event.get("metadata") or {}).get("topic", "") for event in events[last_user:] if event["event"] == "bot"]


@pytest.mark.parametrize("message", REPORTS)
def test_a_complication_report_gets_the_urgent_answer_alone(stack, message):
    assert reply_topics(stack, message) == [URGENT]


@pytest.mark.parametrize(("message", "kinds"), QUESTIONS.items())
def test_a_question_about_risk_gets_the_pages_answer_never_the_alarm(stack, message, kinds):
    topics = reply_topics(stack, message)
    assert URGENT not in topics
    assert topics and topics[0] in kinds, topics
