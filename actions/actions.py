"""Custom actions: every factual reply is read from the content when it is asked.

Each class has one job, in the style of Rasa SDK's own actions. The content is
reloaded on edit by :class:`bot.library.ContentLibrary`, so staff changes are
served on the next question without a restart or retraining.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import answers, decisions, two_questions, vocabulary
from bot.answers import Answer
from bot.asked import asked, named_in
from bot.decisions import Named
from bot.followups import Previous
from bot.library import Content, ContentLibrary, Procedure
from bot.safety import Triage, triage
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


def stored_named(value: Any) -> tuple[Named, ...]:
    """Named things our actions kept in a slot, read back; a value of any other shape is ignored."""
    items = value if isinstance(value, list) else []
    return tuple(
        Named(str(item["kind"]), str(item["value"]), str(item.get("typed", "")))
        for item in items
        if isinstance(item, dict) and item.get("kind") in vocabulary.ENTITY_PASSAGES and item.get("value")
    )


def procedure_for(content: Content, tracker: Tracker) -> Procedure | None:
    """The page a question is about: named in it, chosen before, or the only one there is."""
    message = tracker.latest_message.get("text") or ""
    chosen = tracker.get_slot("procedure")  # a payload could once set it to any JSON value
    return (
        content.procedure_named(message)
        or content.procedures.get(chosen if isinstance(chosen, str) else "")
        or (next(iter(content.procedures.values())) if len(content.procedures) == 1 else None)
    )


def any_procedure_for(content: Content, tracker: Tracker) -> Procedure:
    """The page a question is about, or the first page when the question does not say."""
    return procedure_for(content, tracker) or next(iter(content.procedures.values()))


def previous_of(tracker: Tracker) -> Previous | None:
    """The topic answered last in this conversation, and what its question named."""
    topic = tracker.get_slot("previous_topic")
    if not isinstance(topic, str) or topic not in TOPICS:
        return None
    return Previous(topic, stored_named(tracker.get_slot("previous_named")))


def answer_or_decline(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    procedure: Procedure,
    intent: str,
    named: Sequence[Named],
    text: str,
) -> list[EventType]:
    """The topics the message asks, read in its conversation, answered; or the honest fallback."""
    questions = two_questions.from_metadata(tracker.latest_message.get("metadata"), procedure.passages)
    reading = asked(intent, questions, previous_of(tracker), named, text, procedure.passages)
    if not reading.topics:
        return ActionHonestFallback().answer(dispatcher, tracker)
    return answer_topics(dispatcher, tracker, procedure, reading.topics, reading.named, text)


def answer_topics(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    procedure: Procedure,
    topics: Sequence[str],
    named: Sequence[Named],
    text: str,
) -> list[EventType]:
    """Decide and word each topic asked, remembering what a follow-up may lean on."""
    content = LIBRARY.current()
    told = stored_named(tracker.get_slot("contraindications_told"))
    # The synonyms are read per question, like the content, so the running server and the file agree.
    synonyms = vocabulary.synonyms()
    made = [decisions.decide(topic, named, text, procedure, synonyms, told) for topic in topics]
    # A contraindication decides every question of the message alike: it is said once.
    for decision in {decision.topic: decision for decision in made}.values():
        say(dispatcher, answers.word(decision, procedure, content.clinic))
    found = [item for decision in made for item in decisions.contraindications_named(decision)]
    return slot_changes(
        tracker,
        {
            "procedure": procedure.slug,
            "previous_topic": topics[-1],
            "previous_named": [asdict(item) for item in named],
            "contraindications_told": remembered(told, found),
            "pending_topic": None,
            "pending_message": None,
            "pending_entities": None,
        },
    )


def slot_changes(tracker: Tracker, values: dict[str, Any]) -> list[EventType]:
    """The slots whose value changes. Rasa stores, sends and replays every event of a conversation on each
    turn, so a slot set again to the value it holds would only make every later turn slower."""
    return [SlotSet(slot, value) for slot, value in values.items() if tracker.get_slot(slot) != value]


def remembered(told: Sequence[Named], found: Sequence[Named]) -> list[dict]:
    """The contraindications the visitor has told, each once, in the shape a slot keeps."""
    return [asdict(item) for item in {item.value.casefold(): item for item in (*told, *found)}.values()]


class ActionAnswerTopic(Action):
    """Answers any topic intent from the passage mapped to it; each topic of a two-question message."""

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
            named = list(stored_named(tracker.get_slot("pending_entities")))
        procedure = procedure_for(content, tracker)
        if procedure is None:
            say(dispatcher, answers.which_procedure(list(content.procedures.values())))
            pending = [asdict(item) for item in named]
            return [
                SlotSet("pending_topic", topic),
                SlotSet("pending_message", text),
                SlotSet("pending_entities", pending),
            ]
        return answer_or_decline(dispatcher, tracker, procedure, topic, named, text)


def contraindication_named(tracker: Tracker, procedure: Procedure) -> decisions.Decision | None:
    """ "Not recommended" when the message names a contraindication of the page, whatever else it asks."""
    message = tracker.latest_message
    text = message.get("text") or ""
    return decisions.decide_without_topic(named_in(message), text, procedure, vocabulary.synonyms())


def not_recommended(
    dispatcher: CollectingDispatcher, tracker: Tracker, decision: decisions.Decision, procedure: Procedure
) -> list[EventType]:
    """Say the page's "no", and remember what was told for the rest of the conversation."""
    say(dispatcher, answers.word(decision, procedure, LIBRARY.current().clinic))
    told = stored_named(tracker.get_slot("contraindications_told"))
    now_told = remembered(told, decisions.contraindications_named(decision))
    return slot_changes(tracker, {"contraindications_told": now_told})


class ActionHonestFallback(Action):
    """A question no topic answers: each topic of a two-question message, or a follow-up of the previous answer,
    if it is one; else a contraindication it names; else "did you mean" when the model was unsure between
    topics; else says plainly that the page doesn't cover it, and offers what it does."""

    def name(self) -> str:
        return "action_honest_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        content = LIBRARY.current()
        procedure = any_procedure_for(content, tracker)
        message = tracker.latest_message
        intent = message.get("intent", {}).get("name", "")
        return answer_or_decline(dispatcher, tracker, procedure, intent, named_in(message), message.get("text") or "")

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        content = LIBRARY.current()
        procedure = any_procedure_for(content, tracker)
        message = tracker.latest_message
        contraindication = contraindication_named(tracker, procedure)
        if contraindication is not None:
            return not_recommended(dispatcher, tracker, contraindication, procedure)
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
        # When only the model heard a personal question, a contraindication the page names comes first: the
        # visitor reads the page's "no" (which still sends them to a dermatologist). A question the fixed triage
        # calls personal ("is my spot cancer?") gets the dermatologist alone: the "no" would read as a diagnosis.
        procedure = any_procedure_for(content, tracker)
        asked_personally = triage(tracker.latest_message.get("text") or "") is Triage.PERSONAL
        contraindication = None if asked_personally else contraindication_named(tracker, procedure)
        if contraindication is not None:
            return not_recommended(dispatcher, tracker, contraindication, procedure)
        say(dispatcher, answers.see_dermatologist(content.clinic))
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
