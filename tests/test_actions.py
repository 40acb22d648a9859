"""The custom actions, run as the action server runs them: against a real tracker."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from bot.asked import named_in
from bot.library import ContentLibrary
from tests.conftest import CONTENT_DIR


def tracker(
    text: str,
    intent: str,
    entities: list[dict] | None = None,
    slots: dict | None = None,
    ranking: list[dict] | None = None,
) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": 0.93}, "entities": entities or []}
    if ranking is not None:
        message["intent_ranking"] = ranking
    events = [{"event": "user", "text": text, "parse_data": message}]
    return Tracker("visitor", slots or {}, message, events, False, None, {}, "action_listen")


def run(action, tracker_: Tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))
    return dispatcher.messages, events


@pytest.fixture
def library(content_copy, monkeypatch):
    library = ContentLibrary(content_copy)
    monkeypatch.setattr(actions, "LIBRARY", library)
    return library


def test_topic_is_answered_from_the_page_with_its_metadata(library):
    messages, events = run(actions.ActionAnswerTopic(), tracker("how many sessions?", "sessions"))
    assert "three to five sessions" in messages[0]["text"]
    assert messages[0]["topic"] == "sessions"
    assert messages[0]["location"].endswith("laser-pigment-removal.md:55")
    assert SlotSet("procedure", "laser-pigment-removal") in events


def test_entities_give_a_direct_verdict(library):
    entity = {"entity": "situation", "value": "pregnancy", "start": 4, "end": 12}
    messages, _ = run(actions.ActionAnswerTopic(), tracker("I'm pregnant, can I do it?", "contraindications", [entity]))
    assert messages[0]["text"].startswith("No: the page lists pregnant (pregnancy) among the contraindications")


def test_an_edit_is_served_on_the_next_question(library):
    page = library.content_dir / "procedures" / "laser-pigment-removal.md"
    page.write_text(page.read_text().replace("about three to five sessions", "about four to six sessions"))
    messages, _ = run(actions.ActionAnswerTopic(), tracker("sessions?", "sessions"))
    assert "four to six sessions" in messages[0]["text"]


def test_a_broken_edit_keeps_the_last_good_content(library, caplog):
    run(actions.ActionAnswerTopic(), tracker("sessions?", "sessions"))
    page = library.content_dir / "procedures" / "laser-pigment-removal.md"
    page.write_text(page.read_text().replace("## Contraindications", "## Limits"))
    messages, _ = run(actions.ActionAnswerTopic(), tracker("who can't have it", "contraindications"))
    assert "not recommended during lactation or pregnancy" in messages[0]["text"]
    assert "laser-pigment-removal.topics.yml" in str(library.last_error)
    assert "keeping the last good content" in caplog.text


def test_a_topic_the_page_does_not_map_gets_the_honest_fallback(library):
    mapping = library.content_dir / "procedures" / "laser-pigment-removal.topics.yml"
    text = mapping.read_text()
    mapping.write_text(text[: text.index("\npain:")] + text[text.index("\nrecovery:") :])
    messages, _ = run(actions.ActionAnswerTopic(), tracker("does it hurt", "pain"))
    assert "page doesn't cover that" in messages[0]["text"]


def test_fallback_offers_buttons_and_escalation_is_urgent(library):
    messages, _ = run(actions.ActionHonestFallback(), tracker("how much is it", "out_of_scope"))
    assert "doesn't cover that" in messages[0]["text"] and len(messages[0]["buttons"]) == 5  # four and a person
    messages, _ = run(actions.ActionEscalate(), tracker("blisters after laser", "report_complication"))
    assert messages[0]["text"].startswith("This could be a complication")
    messages, _ = run(actions.ActionEscalate(), tracker("is my mole cancer", "personal_medical"))
    assert "dermatologist" in messages[0]["text"]


@pytest.mark.parametrize("intent", ["out_of_scope", "nlu_fallback"])
def test_the_fallback_decides_a_named_contraindication_first(library, intent):
    entity = {"entity": "body_area", "value": "arms", "start": 36, "end": 40}
    message = "my psoriasis is flaring, is laser safe for my arms?"
    messages, _ = run(actions.ActionHonestFallback(), tracker(message, intent, [entity]))
    assert messages[0]["decision"] == "not_recommended"
    assert messages[0]["topic"] == "contraindications"
    assert "acute stage" in messages[0]["text"] and "doesn't cover" not in messages[0]["text"]


def test_unsure_between_topics_the_fallback_asks_which_one(library):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.7},
        {"name": "recovery", "confidence": 0.42},
        {"name": "skin_after", "confidence": 0.38},
        {"name": "out_of_scope", "confidence": 0.1},
    ]
    messages, _ = run(actions.ActionHonestFallback(), tracker("the days after?", "nlu_fallback", ranking=ranking))
    assert messages[0]["text"].startswith("I'm not sure I understood. Did you mean:")
    assert [b["payload"].split("{")[0] for b in messages[0]["buttons"][:2]] == ["/recovery", "/skin_after"]
    assert messages[0]["decision"] == ""


def test_several_pages_ask_which_one_then_answer_the_question(library):
    second = library.content_dir / "procedures" / "laser-pigment-removal-copy.md"
    shutil.copy(library.content_dir / "procedures" / "laser-pigment-removal.md", second)
    text = second.read_text().replace("title: Laser removal of pigment spots", "title: Test tattoo fading")
    second.write_text(text)
    shutil.copy(
        library.content_dir / "procedures" / "laser-pigment-removal.topics.yml",
        second.with_name("laser-pigment-removal-copy.topics.yml"),
    )
    messages, events = run(actions.ActionAnswerTopic(), tracker("how many sessions?", "sessions"))
    assert messages[0]["text"] == "Which procedure are you asking about?"
    assert len(messages[0]["buttons"]) == 2
    slots = {event["name"]: event["value"] for event in events}
    chosen = tracker("/choose_procedure", "choose_procedure", slots={**slots, "procedure": "laser-pigment-removal"})
    messages, _ = run(actions.ActionAnswerTopic(), chosen)
    assert "three to five sessions" in messages[0]["text"]


def test_shipped_content_dir_is_the_default():
    assert ContentLibrary().content_dir == CONTENT_DIR


def test_stray_and_possessive_entity_words_are_cleaned(library):
    entities = [
        {"entity": "body_area", "value": "my hands", "start": 11, "end": 19},
        {"entity": "condition", "value": "go", "start": 0, "end": 2},
    ]
    named = named_in({"text": "can you do my hands", "entities": entities})
    assert [(n.kind, n.value) for n in named] == [("body_area", "hands")]


def test_an_answer_sets_only_the_slots_whose_value_changes(library):
    messages, first = run(actions.ActionAnswerTopic(), tracker("how many sessions?", "sessions"))
    slots = {event["name"]: event["value"] for event in first}
    assert slots["previous_topic"] == "sessions"
    messages_again, again = run(actions.ActionAnswerTopic(), tracker("how many sessions?", "sessions", slots=slots))
    assert messages_again == messages
    assert again == []
    _, next_topic = run(actions.ActionAnswerTopic(), tracker("does it hurt?", "pain", slots=slots))
    assert next_topic == [SlotSet("previous_topic", "pain")]
