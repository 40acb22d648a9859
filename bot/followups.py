"""A short message right after an answer, read with that answer in mind.

"and for the hands?" after "do you treat the face?" asks the same question
about the hands; "how long for that one?" after "can you remove melasma?" asks
a new question about melasma. The actions keep the topic they answered and
what it named in slots (``previous_topic``, ``previous_named``), and
:func:`resolve` reads the next message with them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.decisions import Named
from bot.terms import words
from bot.text import normalize
from bot.vocabulary import ENTITY_PASSAGES

# Longer than this, a message is a question of its own.
MOST_WORDS = 8

_LEANING_START = re.compile(
    r"^(?:and|also|but|so|then|ok(?:ay)?,? (?:and|so|but)|what about|how about|what if"
    r"|same (?:for|with|question for))\b"
)
_SAME_QUESTION = re.compile(r"^(?:and )?(?:the )?same (?:for|with|question|goes for|about)\b")
_POINTING = re.compile(r"\b(?:that one|this one|that|those|them|these|it)\W*$")
# Words that only frame a name: "and for the hands?" is "hands", asked again.
_FRAMING = frozenset(
    words(
        "and also but so then ok okay what how about if same question for with the my a an on of to in too as well "
        "those them these that this one ones please"
    )
)


@dataclass(frozen=True)
class Previous:
    """The topic answered last and what that question named."""

    topic: str
    named: tuple[Named, ...] = ()


def leans_on_previous(text: str) -> bool:
    """Short, and starting with "and…", "what about…" or ending on "that one": it leans on the turn before."""
    plain = normalize(text).rstrip(" ?!.")
    return len(plain.split()) <= MOST_WORDS and bool(_LEANING_START.search(plain) or _POINTING.search(plain))


def resolve(
    previous: Previous | None, topic: str | None, named: Sequence[Named], text: str, out_of_scope: bool = False
) -> tuple[str | None, tuple[Named, ...]]:
    """The topic to answer and what the question names, the turn before taken into account.

    ``topic`` is the model's topic for ``text``, or None when it found none: it was unsure, or it read the
    message as ``out_of_scope``. A follow-up that only names something, or says "same for…", asks the previous
    question about it; one the model was unsure of asks the previous question again, but one it read as out of
    scope ("and how much does that cost?") is a new question the page may not answer. A follow-up that names
    nothing is about what the previous question named.
    """
    if previous is None or not leans_on_previous(text):
        return topic, tuple(named)
    named = tuple(named) or previous.named
    if _only_names(text, named) or _SAME_QUESTION.search(normalize(text)):
        return _same_question(previous.topic, named), named
    if topic is None and not out_of_scope:
        return previous.topic, named
    return topic, named


def _same_question(previous: str, named: Sequence[Named]) -> str:
    """The previous question, asked about ``named``: "do you treat the face?", "what about freckles?" asks
    whether freckles are treated, a question the indications settle, not the body areas."""
    settling = {ENTITY_PASSAGES[item.kind] for item in named if item.kind in ENTITY_PASSAGES}
    if previous in ENTITY_PASSAGES.values() and len(settling) == 1 and previous not in settling:
        return settling.pop()
    return previous


def _only_names(text: str, named: Sequence[Named]) -> bool:
    said = {word for item in named for word in words(item.typed or item.value)}
    return bool(named) and all(word in _FRAMING or word in said for word in words(normalize(text)))
