"""Finding a visitor's words (a condition, an area, a situation) in the page's text.

Matching is forgiving the way people write: case, accents and a plural "s"
do not matter. It is decided only by the words on the page, so a condition
that staff add to the page's list is found on the next question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.topics import Passage, sentences

_WORD = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-case, accent-free words with a plural 's' taken off."""
    plain = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return [_singular(word) for word in _WORD.findall(plain)]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "sis", "us")):
        return word[:-1]
    return word


def contains(text: str, term: str) -> bool:
    """True when every word of ``term`` stands in ``text`` in the same order, side by side."""
    haystack, needle = words(text), words(term)
    if not needle:
        return False
    return any(haystack[i : i + len(needle)] == needle for i in range(len(haystack) - len(needle) + 1))


def find_unit(passage: Passage, term: str) -> str | None:
    """The list item or sentence of the passage that names ``term``, if any."""
    for unit in passage.units:
        for sentence in sentences(unit):
            if contains(sentence, term):
                return sentence
    return None


def item_names(item: str) -> list[str]:
    """The names a list item can be asked by: "Stretch marks (striae) and scars." → three names."""
    item = item.strip().rstrip(".")
    inside = re.findall(r"\(([^)]*)\)", item)
    main = re.sub(r"\([^)]*\)", " ", item)
    names = [part.strip() for part in re.split(r"\band\b|,", main) if part.strip()]
    for name in list(names):
        head = re.split(r"\b(?:of the|of|due to)\b", name)[0].strip()
        if head and head != name:
            names.append(head)
    names += [text.strip() for text in inside if len(text.split()) == 1]
    return names


@dataclass(frozen=True)
class Mention:
    """Words of a message that name a term: the visitor's words, as typed, and the page's word they stand for."""

    said: str
    term: str


def mentions(text: str, terms: Mapping[str, str]) -> list[Mention]:
    """The terms ``text`` names, each visitor phrase in ``terms`` standing for its page word.

    Read left to right, the longest phrase wins where phrases overlap, so "keloid scars" is one mention and
    never also "scars", and "pregnancy mask" (melasma) is never "pregnancy".
    """
    phrases = {tuple(words(phrase)): term for phrase, term in terms.items() if words(phrase)}
    longest = max(map(len, phrases), default=0)
    # Each word with where it stands in ``text``, so a mention keeps the visitor's own spelling.
    said = [(word, token) for token in _TOKEN.finditer(text) for word in words(token.group())]
    found, start = [], 0
    while start < len(said):
        for size in range(min(longest, len(said) - start), 0, -1):
            term = phrases.get(tuple(word for word, _ in said[start : start + size]))
            if term is not None:
                typed = text[said[start][1].start() : said[start + size - 1][1].end()]
                found.append(Mention(typed, term))
                start += size
                break
        else:
            start += 1
    return found


def misspelled(text: str, terms: Mapping[str, str], shortest: int) -> list[Mention]:
    """The one-word terms of at least ``shortest`` letters that a word of ``text`` misses by one typo.

    A word that is itself one of ``terms`` is no typo ("pregnant" is not a misspelt "pregnent"). Short words are
    left alone: one letter turns "cancer" into "dancer", and no word of eight letters or more that ``terms``
    holds is one typo from another English word.
    """
    single = {}
    for phrase, term in terms.items():
        phrase_words = words(phrase)
        if len(phrase_words) == 1:
            single[phrase_words[0]] = term
    longer = {word: term for word, term in single.items() if len(word) >= shortest}
    found = []
    for token in _TOKEN.finditer(text):
        for word in words(token.group()):
            if word in single:
                continue
            term = next((term for known, term in longer.items() if _one_typo_apart(word, known)), None)
            if term is not None:
                found.append(Mention(token.group(), term))
    return found


def _one_typo_apart(typed: str, known: str) -> bool:
    """Whether ``typed`` is ``known`` with one letter changed, left out or added, or two side by side swapped."""
    if typed == known or abs(len(typed) - len(known)) > 1:
        return False
    # Where they first differ; a word that is the other's start differs where the shorter one ends.
    start = next((i for i, (a, b) in enumerate(zip(typed, known, strict=False)) if a != b), min(len(typed), len(known)))
    typed_rest, known_rest = typed[start:], known[start:]
    return (
        typed_rest[1:] == known_rest[1:]  # changed
        or typed_rest == known_rest[1:]  # left out
        or typed_rest[1:] == known_rest  # added
        or (typed_rest[:2] == known_rest[1::-1] and typed_rest[2:] == known_rest[2:])  # swapped
    )


def bare_term(term: str) -> str:
    """A name without the words people put before it: "my hands" → "hands"."""
    return re.sub(
        r"^(?:(?:my|your|the|a|an|our|his|her|their|these|those|this|that|some)\s+)+",
        "",
        term.strip(),
        flags=re.IGNORECASE,
    )


def is_plural(term: str) -> bool:
    """Whether to say "are" about ``term``: "freckles" yes, "back of the hands" no."""
    head = term.split(" of ")[0].strip().split()[-1] if term.strip() else term
    return _singular(head.casefold()) != head.casefold()
