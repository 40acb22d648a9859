"""The consultation request (``consultation_form`` in domain.yml) and the route to a person.

Rasa runs the form: it asks each question (``utter_ask_*``, and the consent
question below), fills each slot from the visitor's whole answer, and leaves
it on "cancel" or for a person or a worrying message (data/rules.yml). Here each
answer is checked (bot/booking.py), a question of the page asked instead of an
answer is answered, the finished request is stored before the visitor is told
anything (bot/consultations.py), and the slots are emptied, so
the details live in the database staff read and nowhere else in the bot.

Nothing here logs a slot's value: logs carry the request's reference only.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.actions import LIBRARY, answer_or_decline, procedure_for, say
from bot import answers, consultations
from bot.asked import named_in
from bot.booking import Checked, check_consent, check_contact, check_name, check_when, page_question
from bot.report import ReportError

logger = logging.getLogger(__name__)

Domain = dict[str, Any]
FORM_SLOTS = ("consultation_name", "consultation_contact", "consultation_when", "consultation_consent")


def _keep(slot: str, checked: Checked, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    message = tracker.latest_message
    intent, text = message.get("intent", {}).get("name", ""), message.get("text") or ""
    confidence = message.get("intent", {}).get("confidence") or 0.0
    procedure = procedure_for(LIBRARY.current(), tracker)
    if procedure is not None and page_question(intent, confidence, text, checked):
        # Answered as outside the form (with what a follow-up leans on); then the form asks its question again.
        events = answer_or_decline(dispatcher, tracker, procedure, intent, named_in(message), text)
        return {**{event["name"]: event["value"] for event in events if event["event"] == "slot"}, slot: None}
    if checked.value is None:
        dispatcher.utter_message(text=checked.reason)  # then the form asks the same question again
    return {slot: checked.value}


def _emptied() -> list[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ValidateConsultationForm(FormValidationAction):
    """Each answer kept, or turned away with the reason and asked again."""

    def name(self) -> str:
        return "validate_consultation_form"

    def validate_consultation_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, *_: Any
    ) -> dict:
        return _keep("consultation_name", check_name(str(value or "")), dispatcher, tracker)

    def validate_consultation_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, *_: Any
    ) -> dict:
        return _keep("consultation_contact", check_contact(str(value or "")), dispatcher, tracker)

    def validate_consultation_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, *_: Any
    ) -> dict:
        return _keep("consultation_when", check_when(str(value or "")), dispatcher, tracker)

    def validate_consultation_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, *_: Any
    ) -> dict:
        return _keep("consultation_consent", check_consent(str(value or "")), dispatcher, tracker)


class ActionAskConsultationConsent(Action):
    """The consent question, with the clinic's privacy notice from clinic.yml."""

    def name(self) -> str:
        return "action_ask_consultation_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        say(dispatcher, answers.ask_consent(LIBRARY.current().clinic))
        return []


class ActionSubmitConsultation(Action):
    """Stores the finished request, gives the visitor its reference, forgets the details in the conversation."""

    def name(self) -> str:
        return "action_submit_consultation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        clinic = LIBRARY.current().clinic
        if tracker.get_slot("consultation_consent") != "yes":  # the form ends only with consent; never store without
            say(dispatcher, answers.consultation_cancelled())
            return _emptied()
        try:
            request_id = consultations.store(
                name=tracker.get_slot("consultation_name"),
                contact=tracker.get_slot("consultation_contact"),
                preferred_time=tracker.get_slot("consultation_when"),
                channel=tracker.get_latest_input_channel() or "",
            )
        except (ReportError, SQLAlchemyError) as error:
            logger.error("A consultation request could not be stored: %s", type(error).__name__)
            say(dispatcher, answers.consultation_not_stored(clinic))
            return _emptied()
        reference = consultations.reference(request_id)
        logger.info("Consultation request %s stored", reference)
        say(dispatcher, answers.consultation_requested(clinic, reference))
        return _emptied()


class ActionCancelConsultation(Action):
    """The visitor said "cancel" during the form: nothing is kept."""

    def name(self) -> str:
        return "action_cancel_consultation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        say(dispatcher, answers.consultation_cancelled())
        return _emptied()


class ActionTalkToPerson(Action):
    """The clinic's contacts, and whether someone is there now; also the answer to "cancel" outside the form."""

    def name(self) -> str:
        return "action_talk_to_person"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Domain) -> list[EventType]:
        clinic = LIBRARY.current().clinic
        intent = tracker.latest_message.get("intent", {}).get("name")
        asked_to_cancel = intent == "cancel" and tracker.active_loop_name is None
        say(dispatcher, answers.talk_to_person(clinic, nothing_to_cancel=asked_to_cancel))
        return []
