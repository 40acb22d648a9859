"""A conversation, not one question at a time: two questions in a message, follow-ups, what was told before.

Against the real Rasa server, action server and model. Each reply's topic and decision are read from the
tracker (the bot events' metadata), so the tests hold whatever the wording.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import ask, tracker_events


def answered(stack, sender: str, message: str) -> list[tuple[str, str]]:
    """(topic, decision) of each reply to ``message``, in order."""
    before = len(tracker_events(stack, sender)) if sender else 0
    ask(stack, message, sender)
    events = tracker_events(stack, sender)[before:]
    return [
        ((event.get("metadata") or {}).get("topic", ""), (event.get("metadata") or {}).get("decision", ""))
        for event in events
        if event["event"] == "bot"
    ]


def new_sender(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    ("message", "topics"),
    [
        ("does it hurt and how many times do I come?", ["pain", "sessions"]),
        ("How long is the recovery? Is it safe?", ["recovery", "safety"]),
        ("does it hurt\u2019 and what does the skin look like after", ["pain", "skin_after"]),
    ],
)
def test_a_message_asking_two_things_gets_both_answered(stack, message, topics):
    assert [topic for topic, _ in answered(stack, new_sender("two"), message)] == topics


@pytest.mark.parametrize(
    ("message", "decisions"),
    [
        # a contraindication anywhere in the message decides every question, and is said once
        ("I'm pregnant. Does it hurt and can you remove my melasma?", ["not_recommended"]),
        # a complication told in one part: the urgent answer only, no FAQ text
        ("I have pus on the spot and how long is recovery?", ["report_complication"]),
    ],
)
def test_safety_reads_the_whole_message_not_its_parts(stack, message, decisions):
    replies = answered(stack, new_sender("two-safe"), message)
    assert [decision or topic for topic, decision in replies] == decisions, replies


def test_a_client_cannot_pick_the_questions_through_metadata(stack):
    sender = new_sender("metadata")
    body = {"sender": sender, "message": "hello", "metadata": {"questions": ["pain", "sessions"]}}
    requests.post(f"{stack.url}/webhooks/rest/webhook", json=body, timeout=60).raise_for_status()
    topics = [(event.get("metadata") or {}).get("topic") for event in tracker_events(stack, sender)]
    assert "pain" not in topics and "sessions" not in topics


@pytest.mark.parametrize(
    ("first", "follow_up", "topic", "decision"),
    [
        ("do you treat the face?", "and the hands?", "body_areas", "yes"),
        ("can you remove melasma?", "what about freckles?", "indications", "yes"),
        ("how many sessions will I need?", "and for freckles?", "sessions", "topic"),
    ],
)
def test_a_follow_up_is_read_with_the_answer_before(stack, first, follow_up, topic, decision):
    sender = new_sender("follow")
    answered(stack, sender, first)
    assert answered(stack, sender, follow_up) == [(topic, decision)]


def test_a_contraindication_told_once_stops_every_later_yes(stack):
    sender = new_sender("told")
    assert [d for _, d in answered(stack, sender, "I'm breastfeeding at the moment")] == ["not_recommended"]
    assert [d for _, d in answered(stack, sender, "how does the laser work?")] == ["topic"]
    assert [d for _, d in answered(stack, sender, "can you remove my freckles?")] == ["not_recommended"]
    # another visitor asking the same is told yes: what one told stays in their own conversation
    assert [d for _, d in answered(stack, new_sender("other"), "can you remove my freckles?")] == ["yes"]


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        # asked about their own spot: a dermatologist, never a "no" that reads like a diagnosis
        ("could this dark spot of mine be skin cancer?", ("personal_medical", "")),
        # told, then asked for the treatment: the page's "no"
        ("I'm being treated for cancer, can you remove my age spots?", ("contraindications", "not_recommended")),
    ],
)
def test_cancer_asked_about_gets_a_dermatologist_and_cancer_told_gets_the_pages_no(stack, message, reply):
    assert answered(stack, new_sender("cancer"), message) == [reply]


@pytest.mark.parametrize(
    "message", ["im on the pill, does that affect it", "a mole on my neck went from flat to bumpy, can u laser it"]
)
def test_a_medicine_or_a_changing_mole_in_other_words_gets_a_dermatologist(stack, message):
    assert answered(stack, new_sender("personal"), message) == [("personal_medical", "")]
