"""Cutting a message into the questions it asks, and which of them the actions answer: tables."""

from __future__ import annotations

import pytest

from bot.topics import TOPICS
from bot.two_questions import METADATA_KEY, from_metadata, split, topics_asked


@pytest.mark.parametrize(
    ("message", "questions"),
    [
        ("does it hurt and how many times do I come?", 2),
        ("Is it safe? Does it hurt?", 2),
        ("is it safe\u2026 does it hurt", 0),  # no break a question can be read from
        ("is it safe\nhow many sessions", 2),
        ("is it safe\r\n\r\nhow many sessions", 2),
        ("how long is recovery, and can I go to work the next day", 2),
        ("how many sessions; what does the skin look like after", 2),
        ("does it hurt and also how long does it take to heal", 2),
        ("what areas do you do, can you do my hands", 0),  # a comma alone may only go on talking
        ("DOES IT HURT AND WHAT ARE THE RISKS", 2),
        ("does it hurt? how many sessions? is it safe?", 3),
        # one question, whatever its "and"s and commas
        ("can you treat freckles and age spots?", 0),
        ("does it hurt and sting?", 0),
        ("my face and my hands, can it treat them", 0),
        ("how many sessions?", 0),
        ("how many sessions??", 0),
        ("and?", 0),
        ("", 0),
        # more than three is a story: read as one message
        ("what is it; how does it work; is it safe; does it hurt", 0),
    ],
)
def test_a_message_is_cut_into_the_questions_it_asks(message, questions):
    assert len(split(message)) == questions


def test_each_question_keeps_its_words_in_the_form_the_model_reads():
    assert split("Does it hurt\u2019 and how many times do I come?") == ("does it hurt'", "how many times do i come")


@pytest.mark.parametrize(
    ("intents", "answered"),
    [
        (["pain", "sessions"], ("pain", "sessions")),
        (["sessions", "pain", "safety"], ("sessions", "pain", "safety")),
        (["pain", "pain"], ()),  # one topic asked twice is one question
        (["pain", "out_of_scope"], ()),
        (["pain", "nlu_fallback"], ()),
        (["report_complication", "recovery"], ()),  # a complication in any part: read as one message
        (["personal_medical", "indications"], ()),
        (["greet", "pain"], ()),
        (["pain"], ()),
        ([], ()),
    ],
)
def test_only_questions_that_are_all_topics_are_answered_one_by_one(intents, answered):
    assert topics_asked(intents, TOPICS) == answered


@pytest.mark.parametrize(
    "metadata",
    [None, {}, {METADATA_KEY: "pain"}, {METADATA_KEY: [1, 2]}, {METADATA_KEY: ["pain", {"a": 1}]}, {"x": 1}],
)
def test_metadata_of_any_other_shape_asks_nothing(metadata):
    assert from_metadata(metadata, TOPICS) == ()


def test_metadata_topics_are_checked_like_the_models():
    assert from_metadata({METADATA_KEY: ["pain", "sessions"]}, TOPICS) == ("pain", "sessions")
    assert from_metadata({METADATA_KEY: ["pain", "restart"]}, TOPICS) == ()
