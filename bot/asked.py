"""What a message asks, read in its conversation: the topics to answer, and what they are about.

The one place where the parts meet, for the actions and for ``make evaluate``
alike: the questions a channel found in a two-question message
(:mod:`bot.two_questions`), else the model's topic, read as a follow-up of the
previous answer when it leans on it (:mod:`bot.followups`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.decisions import OUT_OF_SCOPE, Named
from bot.followups import Previous, resolve
from bot.terms import bare_term
from bot.vocabulary import ENTITY_PASSAGES


@dataclass(frozen=True)
class Asked:
    topics: tuple[str, ...]  # none: no topic of the page answers the message
    named: tuple[Named, ...]


def asked(
    intent: str,
    questions: Sequence[str],
    previous: Previous | None,
    named: Sequence[Named],
    text: str,
    topics: Collection[str],
) -> Asked:
    """``intent`` is the model's reading of the whole message; ``questions`` the topics of its parts, if several."""
    if questions:
        return Asked(tuple(questions), tuple(named))
    topic, about = resolve(previous, intent if intent in topics else None, named, text, intent == OUT_OF_SCOPE)
    return Asked((topic,) if topic in topics else (), about)


def named_in(message: dict) -> list[Named]:
    """Conditions, areas and situations the NLU found, with the words the visitor typed."""
    text = message.get("text") or ""
    found = []
    for entity in message.get("entities") or []:
        value = bare_term(str(entity.get("value", "")))
        # The entity extractor now and then tags a stray short word ("can they go"); no real name is that short.
        if entity.get("entity") in ENTITY_PASSAGES and len(value) > 2:
            found.append(Named(entity["entity"], value, text[entity.get("start", 0) : entity.get("end", 0)]))
    return found
