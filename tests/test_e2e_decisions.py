"""A contraindication always wins, end to end: the real Rasa server, the real action server, the real model.

Each reply's decision is read from the tracker (the bot event's metadata that
``actions.say`` sends), so a reworded answer cannot hide a wrong decision.
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import ask, tracker_events


def decided(stack, message: str) -> tuple[list[str], list[str]]:
    """The replies' texts and the decisions recorded for them in the tracker."""
    sender = f"decisions-{uuid.uuid4().hex[:8]}"
    replies = ask(stack, message, sender=sender)
    events = tracker_events(stack, sender)
    kinds = [(event.get("metadata") or {}).get("decision") for event in events if event["event"] == "bot"]
    return [reply.get("text", "") for reply in replies], [kind for kind in kinds if kind]


@pytest.mark.parametrize(
    "message",
    [
        "I'm pregnant, can you remove my melasma?",
        "can you remove my keloid scars?",
        "I'm pregnant \u2013 can you do my décolleté?",
        "I\u2019M PREGNANT!! can u get rid of my melasma",
        "still breast-feeding my daughter, could you do the freckles on my hands",
        "how many sessions would I need while pregnant?",
        "i've got eczema on my hands, can you remove the freckles there",
        "my active acne is bad, can you do the acne marks too?",
        # The model finds no topic in these (the honest fallback answers them), and still the page's "no".
        "i had melanoma a few years back, can you take off my age spots?",
        "my psoriasis is flaring, is laser safe for my arms?",
        "on chemotherapy at the moment, would laser fade my sun spots",
        # Words no training example has, found by the lookup tables made from data/nlu/synonyms.yml.
        "im preggers lol, can u zap the sun spots on my face",
        "my son is still breastfed, could you do my freckles",
        "I'm keloid-prone but would love my acne marks gone",
        "pregant atm, is laser ok for my melasma?",
        # A typo no vocabulary lists.
        "still breastfeding my baby, could you do my sun spots",
        "im prego lol can u remove my age spots",
        "my dermatologist said its lentigo maligna, can u laser it",
    ],
)
def test_a_contraindication_is_not_recommended_whatever_else_is_named(stack, message):
    texts, kinds = decided(stack, message)
    assert kinds == ["not_recommended"], (texts, kinds)
    assert "page doesn't cover that" not in "\n".join(texts)
    assert not any(text.lstrip().startswith("Yes") for text in texts)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("can you remove melasma?", "yes"),
        ("do you treat the décolleté?", "yes"),
        ("can you remove a tattoo?", "not_on_page"),
        ("can you treat hyperpigmentation due to pregnancy?", "yes"),
        ("will it fade acne marks?", "yes"),
        ("who can't have this treatment?", "topic"),
    ],
)
def test_without_a_contraindication_the_answer_is_as_before(stack, message, kind):
    texts, kinds = decided(stack, message)
    assert kinds == [kind], (texts, kinds)


def test_both_ways_the_reply_says_when(stack):
    texts, _ = decided(stack, "can you treat hyperpigmentation due to pregnancy?")
    assert texts[0].startswith("Yes, after pregnancy and lactation")
    assert "not recommended during lactation or pregnancy" in "\n".join(texts)


@pytest.mark.parametrize("message", ["what should I be expecting after the session?", "what can I expect?"])
def test_asking_what_to_expect_is_no_pregnancy(stack, message):
    texts, kinds = decided(stack, message)
    assert "not_recommended" not in kinds, (texts, kinds)
    assert not any(text.lstrip().startswith("No:") for text in texts)
