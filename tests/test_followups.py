"""A short message after an answer, read with that answer in mind: which topic it asks, as a table."""

from __future__ import annotations

import pytest

from bot.decisions import Named
from bot.followups import Previous, leans_on_previous, resolve

FACE = Named("body_area", "face", "face")
HANDS = Named("body_area", "back of the hands", "hands")
MELASMA = Named("condition", "melasma", "melasma")
FRECKLES = Named("condition", "freckles", "freckles")
NURSING = Named("situation", "lactation", "nursing")


@pytest.mark.parametrize(
    ("text", "leans"),
    [
        ("and for the hands?", True),
        ("And the hands\u2026?", True),
        ("what about freckles", True),
        ("how long for that one?", True),
        ("and after I stop nursing?", True),
        ("same for melasma?", True),
        ("ok and does it hurt", True),
        ("does it hurt?", False),
        ("how many sessions will I need?", False),
        ("can you treat freckles and age spots on my hands", False),
        ("and how many sessions would I need for the freckles on my back and shoulders", False),  # too long
    ],
)
def test_a_short_message_starting_with_and_or_pointing_back_leans_on_the_previous_answer(text, leans):
    assert leans_on_previous(text) is leans


@pytest.mark.parametrize(
    ("previous", "text", "model", "named", "topic", "about"),
    [
        # the same question about something else
        (Previous("body_areas", (FACE,)), "and for the hands?", None, [HANDS], "body_areas", [HANDS]),
        (Previous("body_areas", (FACE,)), "and for the hands?", "indications", [HANDS], "body_areas", [HANDS]),
        (Previous("sessions", (MELASMA,)), "and freckles?", "indications", [FRECKLES], "sessions", [FRECKLES]),
        (Previous("indications", (MELASMA,)), "what about freckles", None, [FRECKLES], "indications", [FRECKLES]),
        # ...about a thing another topic settles: "do you treat the face?" then "what about freckles?"
        (Previous("body_areas", (FACE,)), "what about freckles", None, [FRECKLES], "indications", [FRECKLES]),
        (Previous("contraindications"), "and after I stop nursing?", None, [NURSING], "contraindications", [NURSING]),
        # a new question about the same thing
        (Previous("indications", (MELASMA,)), "how long for that one?", "recovery", [], "recovery", [MELASMA]),
        (Previous("indications", (MELASMA,)), "and does it hurt", "pain", [], "pain", [MELASMA]),
        # the model found no topic: the previous question, again
        (Previous("recovery"), "and for that one?", None, [], "recovery", []),
        # not a follow-up: the message alone decides
        (Previous("body_areas", (FACE,)), "does it hurt?", "pain", [], "pain", []),
        (Previous("body_areas", (FACE,)), "how much does it cost", None, [], None, []),
        (None, "and for the hands?", None, [HANDS], None, [HANDS]),
        (None, "and does it hurt", "pain", [], "pain", []),
    ],
)
def test_the_topic_and_the_things_asked_about(previous, text, model, named, topic, about):
    assert resolve(previous, model, named, text) == (topic, tuple(about))


@pytest.mark.parametrize(
    ("previous", "text", "model", "out_of_scope", "named", "topic"),
    [
        # read as out of scope: a new question the page may not answer, not the previous one again
        (Previous("consultation"), "and how much does that cost", None, True, [], None),
        (Previous("sessions"), "and what about the price?", None, True, [], None),
        # ...unless it only names something, or asks the same question
        (Previous("body_areas", (FACE,)), "and the hands?", None, True, [HANDS], "body_areas"),
        (Previous("body_areas", (FACE,)), "same for the back?", "recovery", False, [], "body_areas"),
        (Previous("sessions"), "same question for melasma", None, True, [MELASMA], "sessions"),
        # unsure: the previous question again
        (Previous("consultation"), "and how much does that cost", None, False, [], "consultation"),
    ],
)
def test_a_follow_up_the_model_reads_as_out_of_scope_is_a_new_question(
    previous, text, model, out_of_scope, named, topic
):
    assert resolve(previous, model, named, text, out_of_scope)[0] == topic
