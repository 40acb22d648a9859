"""Custom actions: every factual reply is read from the content when it is asked.

Each class has one job, in the style of Rasa SDK's own actions. The content is
reloaded on edit by :class:`bot.library.ContentLibrary`, so staff changes are
served on the next question without a restart or retraining.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import answers, decisions, vocabulary
from bot.answers import Answer
from bot.decisions import Named
from bot.library import Content, ContentLibrary, Procedure
from bot.terms import bare_term
from bot.topics import TOPICS

LIBRARY = ContentLibrary()
# Load now, so that content which is broken from the start stops the action
# server at start-up with file:line, instead of failing a visitor's question.
LIBRARY.current()

Domain = dict[str, Any]


def say(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    # Topic, location and decision travel as bot-event metadata: the tracker keeps them
    # for staff tools (`bot ask`, `bot report`) while visitors see only text and buttons.
    dispatcher.utter_message(
        text=answer.text,
        buttons=answer.buttons,
        topic=answer.topic,
        location=answer.location,
        decision=answer.decision,
    )


def named_in(message: dict) -> list[Named]:
    """Conditions, areas and situations the NLU found, with the words the visitor typed."""
    text = message.get("text") or ""
    found = []
    for entity in message.get("entities") or []:
        value = bare_term(str(entity.get("value", "")))
        # DIET now and then tags a stray short word ("can they go"); no real name is that short.
        if entity.get("entity") in vocabulary.ENTITY_PASSAGES and len(value) > 2:
            found.append(Named(entity["entity"], value, text[entity.get("start", 0) : entity.get("end", 0)]))
    return found


def procedure_for(content: Content, tracker: Tracker) -> Procedure | None:
    """The page a question is about: named in it, chosen before, or the only one there is."""
    message = tracker.latest_message.get("text") or ""
    chosen = tracker.get_slot("procedure")  # a payload could once set it to any JSON value
    return (
        content.procedure_named(message)
        or content.procedures.get(chosen if isinstance(chosen, str) else "")
        or (next(iter(content.procedures.values())) if len(content.procedures) == 1 else None)
    )


class ActionAnswerTopic(Action):
    """Answers any topic intent from the passage mapped to it."""

    def name(self) -> str:
        return "action_answer_topic"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        content = LIBRARY.current()
        message = tracker.latest_message
        topic = message.get("intent", {}).get("name", "")
        text, named = message.get("text") or "", named_in(message)
        if topic == "choose_procedure":
            topic = tracker.get_slot("pending_topic") or ""
            text = tracker.get_slot("pending_message") or ""
            named = [Named(**item) for item in tracker.get_slot("pending_entities") or []]
        procedure = procedure_for(content, tracker)
        if topic not in TOPICS or (procedure and topic not in procedure.passages):
            return ActionHonestFallback().answer(dispatcher, tracker)
        if procedure is None:
            say(dispatcher, answers.which_procedure(list(content.procedures.values())))
            pending = [asdict(item) for item in named]
            return [
                SlotSet("pending_topic", topic),
                SlotSet("pending_message", text),
                SlotSet("pending_entities", pending),
            ]
        # The synonyms are read per question, like the content, so the running server and the file agree.
        decision = decisions.decide(topic, named, text, procedure, vocabulary.synonyms())
        say(dispatcher, answers.word(decision, procedure, content.clinic))
        return [
            SlotSet("procedure", procedure.slug),
            SlotSet("pending_topic", None),
            SlotSet("pending_message", None),
            SlotSet("pending_entities", None),
        ]


def contraindication_named(tracker: Tracker, content: Content) -> Answer | None:
    """ "Not recommended" when the message names a contraindication of the page, whatever else it asks."""
    procedure = procedure_for(content, tracker) or next(iter(content.procedures.values()))
    message = tracker.latest_message
    decision = decisions.decide_without_topic(
        named_in(message), message.get("text") or "", procedure, vocabulary.synonyms()
    )
    return None if decision is None else answers.word(decision, procedure, content.clinic)


class ActionHonestFallback(Action):
    """A question no topic answers: a contraindication it names first, then "did you mean" when the model was
    unsure between topics, else says plainly that the page doesn't cover it, and offers what it does."""

    def name(self) -> str:
        return "action_honest_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        return self.answer(dispatcher, tracker)

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        content = LIBRARY.current()
        procedure = procedure_for(content, tracker) or next(iter(content.procedures.values()))
        message = tracker.latest_message
        contraindication = contraindication_named(tracker, content)
        if contraindication is not None:
            say(dispatcher, contraindication)
            return []
        likely = decisions.likely_topics(message.get("intent_ranking") or [], procedure.passages)
        if likely:
            say(dispatcher, answers.did_you_mean(likely, procedure, content.clinic))
        else:
            say(dispatcher, answers.not_covered(procedure, content.clinic))
        return []


class ActionEscalate(Action):
    """A possible complication or a personal medical question: to the clinic, not to the FAQ."""

    def name(self) -> str:
        return "action_escalate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        content = LIBRARY.current()
        intent = tracker.latest_message.get("intent", {}).get("name")
        if intent == "report_complication":
            say(dispatcher, answers.urgent(content.clinic))
            return []
        # A contraindication the page names beats "ask a dermatologist": the visitor reads the page's "no"
        # (which still sends them to a dermatologist), whether the model heard a personal question or none.
        say(dispatcher, contraindication_named(tracker, content) or answers.see_dermatologist(content.clinic))
        return []


class ActionGreet(Action):
    """Hello, what the assistant is, and a few questions it can answer."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        content = LIBRARY.current()
        procedures = list(content.procedures.values())
        about = " and ".join(p.title.lower() for p in procedures)
        clinic = content.clinic
        # Said plainly, first thing: visitors must know they are not writing to a person, nor to their doctor.
        text = (
            f"Hello! I'm {clinic.name}'s automated assistant, a computer program, not a person. I answer "
            f"questions about {about} from the clinic's own page. What would you like to know?"
        )
        if clinic.privacy_url:
            text += f"\nHow we keep and delete this conversation: {clinic.privacy_url}"
        buttons = answers.suggestion_buttons(procedures[0]) if len(procedures) == 1 else []
        say(dispatcher, Answer(text, "greet", buttons))
        return []
