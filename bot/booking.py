"""The consultation request's answers, checked: what is kept, or why the question is asked again.

Pure functions, one per question of ``consultation_form`` (domain.yml), so the
decisions are tested as a table apart from the wording. Only what the clinic
needs to call back is accepted; the questions ask for no health details, and a
long story in the "when" answer is turned away rather than stored. A question
of the page asked instead of an answer is answered, and the form's question
asked again (``page_question``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.logs import EMAIL
from bot.text import normalize
from bot.topics import TOPICS

NAME_CHARACTERS = 60
WHEN_CHARACTERS = 80
# A failed answer not put as a question is a page question only above this confidence (page_question).
UNASKED_TOPIC_CONFIDENCE = 0.5
_NAME = re.compile(r"[^\W\d_]+(?:[ '.-][^\W\d_]*)*\.?")
_PHONE_CHARACTERS = re.compile(r"[\d\s().+-]+")
_WHEN_WORDS = re.compile(
    r"\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*|\b(?:today|tonight|tomorrow|morning|afternoon|evening|noon|midday"
    r"|night|week|weekday|weekdays|weekend|month|asap|soon|any ?time|anytime|whenever|any day|any|after|before"
    r"|lunch|january|february|march|april|may|june|july|august|september|october|november|december)\b|\d"
)
# Consent is a plain yes: every word from these, at least one of them saying yes, and no negation.
_AGREEING = frozenset(
    {"yes", "y", "yeah", "yep", "ok", "okay", "sure", "agree", "agreed", "consent", "fine", "absolutely", "course"}
)
_AGREEING_TOO = frozenset({"i", "of", "go", "ahead", "please", "that's", "thats", "by", "me", "do", "is"})
_REFUSING = frozenset({"no", "n", "nope", "nah", "not", "don't", "dont", "disagree", "never", "refuse"})
# Put as a question: a question mark, or the first word of one. No name, contact, day or "yes" opens so.
_PUT_AS_A_QUESTION = re.compile(
    r"\?$|^(?:how|what|whats|what's|why|which|who|does|do|did|is|are|am|can|could|will|would|should|shall|has|have)\b"
)


@dataclass(frozen=True)
class Checked:
    """An answer kept (``value``), or turned away with the ``reason`` shown before asking again."""

    value: str | None = None
    reason: str = ""


def check_name(text: str) -> Checked:
    name = " ".join(text.split())
    if not name or len(name) > NAME_CHARACTERS:
        return Checked(reason=f"Please give just a name, up to {NAME_CHARACTERS} characters.")
    if not _NAME.fullmatch(normalize(name)) or len(name.split()) > 5:
        return Checked(reason='That doesn\'t look like a name: please use letters only, e.g. "Anna Smith".')
    return Checked(name)


def check_contact(text: str) -> Checked:
    contact = text.strip()
    if EMAIL.fullmatch(contact) and len(contact) <= 254:
        return Checked(contact)
    digits = re.sub(r"\D", "", contact)
    if _PHONE_CHARACTERS.fullmatch(contact) and 7 <= len(digits) <= 15:
        return Checked(("+" if contact.startswith(("+", "00")) else "") + digits.removeprefix("00"))
    if "@" in contact:
        return Checked(reason="That e-mail address looks incomplete: it should be like name@example.com.")
    if digits and _PHONE_CHARACTERS.fullmatch(contact):
        return Checked(reason="A phone number has 7 to 15 digits; please check it, with the country code if abroad.")
    return Checked(reason="I need a phone number (digits only) or an e-mail address, so the clinic can reach you.")


def check_when(text: str) -> Checked:
    when = " ".join(text.split())
    if len(when) > WHEN_CHARACTERS:
        return Checked(
            reason=f"Please keep it to a day or time, up to {WHEN_CHARACTERS} characters, and no health details."
        )
    if not _WHEN_WORDS.search(normalize(when)):
        return Checked(reason='Please name a day or a time, e.g. "Tuesday morning" or "any weekday after 5pm".')
    return Checked(when)


def check_consent(text: str) -> Checked:
    """``"yes"`` once the visitor agrees; a "no" or anything else is asked again, with why it is needed."""
    words = set(re.findall(r"[^\s,.!]+", normalize(text)))
    if words & _REFUSING:
        return Checked(
            reason='I can only pass your request on with your consent. Say "yes" to agree, or "cancel" to stop: '
            "nothing is sent then."
        )
    if words & _AGREEING and words <= _AGREEING | _AGREEING_TOO:
        return Checked("yes")
    return Checked(reason='Please answer "yes" to agree, or "cancel" to stop.')


def page_question(intent: str, confidence: float, text: str, checked: Checked) -> bool:
    """Whether an answer to one of the form's questions is a question of the page instead ("does it hurt").

    The model may read a name or a day as a topic ("Mary Pain", "after work"): only an answer that
    fails its check, or that is put as a question, is taken for a question, and only when it is read
    as one of the page's topics. An answer that fails its check without being put as a question is
    more often a muddled answer ("I'm not sure") than a question, so the model must find the topic
    more likely than all else together. Stopping, a person or a worry have their own rules
    (data/rules.yml).
    """
    if intent not in TOPICS:
        return False
    if _PUT_AS_A_QUESTION.search(normalize(text)):
        return True
    return checked.value is None and confidence > UNASKED_TOPIC_CONFIDENCE
