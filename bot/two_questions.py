"""A message that asks two things at once: "does it hurt and how many times do I come?".

The model gives one message one intent, so the second question would go
unanswered. The channels (:mod:`bot.channels.inbound`) cut such a message into
its questions with :func:`split`, let the model read each one, and pass the
topics that :func:`topics_asked` finds (:func:`questions_of` does all three)
to the actions in the message's metadata, under :data:`METADATA_KEY`. The whole message still goes through the
NLU and the safety rules as one: a complication or a personal question in any
part is answered as such, and a contraindication anywhere in it stops every
"yes".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from bot.text import normalize

METADATA_KEY = "questions"
# More parts than this is a story, not a list of questions: the whole message is read as one.
MOST_QUESTIONS = 3
_FEWEST_WORDS = 2  # "it hurts?" is a question; "and?" is not

# How a question starts. A part after "and" that starts otherwise ("freckles and age spots") is a list, not a
# second question.
_QUESTION_START = (
    r"(?:how|what|whats|what's|when|where|which|who|why|is|are|am|do|does|did|can|could|will|would|should|shall"
    r"|may|might|must|any|has|have|isn't|aren't|don't|doesn't|won't|can't)\b"
)
_LINE_BREAK = re.compile(r"[\r\n]+")
_BREAKS = re.compile(rf"\?+\s*|;+\s*|,?\s+(?:and|also|plus|&)\s+(?:also\s+)?(?={_QUESTION_START})")


def split(text: str) -> tuple[str, ...]:
    """The questions ``text`` asks, when it asks two or three; otherwise nothing."""
    # Line breaks first: normalising makes every run of white space one space.
    parts = [part.strip(" ,.!") for part in _BREAKS.split(normalize(_LINE_BREAK.sub(";", text)))]
    parts = [part for part in parts if len(part.split()) >= _FEWEST_WORDS]
    return tuple(parts) if 2 <= len(parts) <= MOST_QUESTIONS else ()


def topics_asked(intents: Sequence[str], topics: Collection[str]) -> tuple[str, ...]:
    """The topics to answer, in the order asked, when every question is a topic and they are not all one.

    Anything else in a part (a fallback, small talk, out of scope, a complication) leaves the message to be
    read as a whole, as if it asked one thing.
    """
    if len(intents) < 2 or any(intent not in topics for intent in intents):
        return ()
    distinct = tuple(dict.fromkeys(intents))
    return distinct if len(distinct) >= 2 else ()


async def questions_of(
    text: str, parse: Callable[[str], Awaitable[dict[str, Any]]], topics: Collection[str]
) -> tuple[str, ...]:
    """The topics of a message that asks two or three questions, each part read by ``parse`` (the NLU) alone."""
    intents = [(await parse(question))["intent"]["name"] for question in split(text)]
    return topics_asked(intents, topics)


def from_metadata(metadata: Mapping | None, topics: Collection[str]) -> tuple[str, ...]:
    """The topics a channel found in the message; anything a client could have put there instead is ignored."""
    found = (metadata or {}).get(METADATA_KEY)
    if not isinstance(found, list) or not all(isinstance(topic, str) for topic in found):
        return ()
    return topics_asked(found, topics)
