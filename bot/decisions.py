"""What to answer, decided before any wording: yes, not recommended, not on the page, a dermatologist, or the passage.

A contraindication always wins. Before any "yes" the whole message is read
against the page's contraindications passage: the entities the model found and
the visitor's own words, through ``data/nlu/synonyms.yml`` (what visitors write
→ the page's word). A word is a contraindication because that passage names its
page word, so an edit of the page or of the synonyms changes the decision, and
no topic the model picks can turn "I'm pregnant" into a "yes". Nor can a typo:
a contraindication's word of eight letters or more is still read with one
letter wrong, left out, added or swapped ("pregnat", "breastfeding").
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from bot.library import Procedure
from bot.terms import Mention, bare_term, contains, find_unit, mentions, misspelled
from bot.text import normalize
from bot.topics import Passage
from bot.vocabulary import ENTITY_PASSAGES, conditions_of

# The intent Rasa's FallbackClassifier gives a message the model is unsure of; the model's own guesses follow it
# in the ranking.
FALLBACK = "nlu_fallback"
# The intent of a question the page does not answer (prices, addresses, other treatments).
OUT_OF_SCOPE = "out_of_scope"
# How likely a topic must be to be offered as "did you mean": three times what a guess among the model's 21
# intents gets by chance, so an offer is a real guess, not noise. The sweep `scripts/evaluate.py` prints on the
# held-out questions that fall back (README, Evaluation) backs it: 0.15 offers the right topic as often as 0.1,
# and never offers without it; 0.2 already makes such an offer, and 0.25 offers a third fewer.
LIKELY = 0.15
MOST_LIKELY_OFFERED = 3
# A contraindication's word this long is read through one typo (bot.terms.misspelled): a shorter one is one typo
# from other words ("cancer", "dancer"). Only contraindications: a typo read wrongly costs a "yes", never a "no".
TYPO_TOLERANT_LENGTH = 8
# A keloid tendency told without the word ("my scars always grow big and lumpy"), in a free word order no synonym
# can list. It is read as the visitor's word "keloid", then through the synonyms like any word, so the page still
# decides whether it is a contraindication.
_DESCRIBED = {
    "keloid": re.compile(
        r"\bscars?\b[^.?!;]{0,40}?\b(?:grow|grows|grew|growing|raised|lumpy|bumpy|thick|thicken\w*|spread\w*"
        r"|overgrow\w*|get(?:s|ting)? (?:bigger|bumpy|lumpy|raised|thick))\b"
        r"|\b(?:raised|lumpy|bumpy|thick|overgrown|hypertrophic)\s+scars?\b"
        r"|\bi scar (?:really |very |so |quite )?(?:badly|easily|bad|a lot)\b"
    ),
}


class Kind(str, Enum):
    """What a visitor is told, most cautious first: a decision is as cautious as the most cautious finding."""

    NOT_RECOMMENDED = "not_recommended"
    SEE_DERMATOLOGIST = "see_dermatologist"
    NOT_ON_PAGE = "not_on_page"
    YES = "yes"
    TOPIC = "topic"  # nothing named to decide on: the topic's passage answers


@dataclass(frozen=True)
class Named:
    """Something a visitor named: the page's word for it and the words they typed."""

    kind: str
    value: str
    typed: str = ""

    @property
    def label(self) -> str:
        typed = bare_term(self.typed).casefold()
        return f"{typed} ({self.value})" if typed and not contains(self.value, typed) else self.value


@dataclass(frozen=True)
class Finding:
    """One thing named, what the page says about it, and the page's sentence or list item that says so."""

    named: Named
    kind: Kind
    quote: str | None = None


@dataclass(frozen=True)
class Decision:
    """The answer to give, with the passage and the page's words it rests on."""

    topic: str
    passage: Passage | None  # the passage the answer rests on (and links to)
    findings: tuple[Finding, ...] = ()
    # Contraindications the visitor named only inside a listed condition ("hyperpigmentation due to
    # pregnancy"): the condition is treatable, once these are over.
    caveats: tuple[Finding, ...] = ()

    @property
    def kind(self) -> Kind:
        return min((finding.kind for finding in self.findings), key=list(Kind).index, default=Kind.TOPIC)


def decide(
    topic: str,
    named: Sequence[Named],
    message: str,
    procedure: Procedure,
    synonyms: Mapping[str, str],
    told: Sequence[Named] = (),
) -> Decision:
    """The decision for a question on ``topic`` that names ``named`` (from the model) in ``message``.

    ``synonyms`` maps what visitors write to the page's words (see :func:`bot.vocabulary.synonyms`).
    ``told`` are the contraindications the visitor named earlier in the conversation ("I'm pregnant", then
    "can you remove my freckles?"): they turn any later "yes" into "not recommended".
    """
    decision = _decide(topic, named, message, procedure, synonyms)
    if told and decision.kind is Kind.YES:
        return _decide(topic, [*named, *told], message, procedure, synonyms)
    return decision


def contraindications_named(decision: Decision) -> tuple[Named, ...]:
    """What a decision found to be a contraindication: the visitor has told us, and it holds for later answers."""
    return tuple(finding.named for finding in decision.findings if finding.kind is Kind.NOT_RECOMMENDED)


def _decide(
    topic: str, named: Sequence[Named], message: str, procedure: Procedure, synonyms: Mapping[str, str]
) -> Decision:
    passage = procedure.passages.get(topic)
    contraindications = procedure.passages.get("contraindications")
    avoided = _contraindicated(contraindications, synonyms)
    said = mentions(message, {**{name: name for name in conditions_of(procedure)}, **synonyms})
    said += _described(message, synonyms)
    said += _misspelled(message, synonyms, avoided)
    hits = [mention for mention in said if mention.term.casefold() in avoided]
    # The model's entities count unless they stand inside a longer phrase: "scars" in "keloid scars" is
    # the keloid, "pregnancy" in "hyperpigmentation due to pregnancy" is the listed condition.
    listed = set(conditions_of(procedure))
    spoken = [_as_listed(item, listed) for item in _unique(named) if not _inside(item, said)]
    stopped = [Named("situation", hit.term, hit.said) for hit in hits] + [
        item
        for item in spoken
        if item.value.casefold() in avoided
        or (item.kind == "situation" and contraindications and find_unit(contraindications, item.value))
    ]
    stopped = _unique(stopped)
    findings = [Finding(item, Kind.NOT_RECOMMENDED, find_unit(contraindications, item.value)) for item in stopped]
    settled = {item.value.casefold() for item in stopped}
    others = [item for item in spoken if item.value.casefold() not in settled]
    findings += _verdicts(topic, passage, others, said, procedure)
    if stopped:
        return Decision("contraindications", contraindications, tuple(findings))
    return Decision(topic, passage, tuple(findings), _caveats(said, contraindications, avoided, synonyms))


def decide_without_topic(
    named: Sequence[Named], message: str, procedure: Procedure, synonyms: Mapping[str, str]
) -> Decision | None:
    """For a message no topic answers (out of scope, or the model unsure): "not recommended" if it names a
    contraindication, whatever else it asks; otherwise None, and the honest fallback answers."""
    decision = _decide("", named, message, procedure, synonyms)
    return decision if decision.kind is Kind.NOT_RECOMMENDED else None


def likely_topics(ranking: Sequence[Mapping], topics: Collection[str], likely: float = LIKELY) -> tuple[str, ...]:
    """The two or three topics to offer when the model was unsure between topics of the page, best first.

    ``ranking`` is Rasa's intent ranking: when the FallbackClassifier stepped in, its intent comes first and
    the model's guesses follow. The guesses are read from the best down while each is one of ``topics`` and at
    least ``likely``; a single one is no choice between topics, and an out-of-scope or small-talk guess among
    the best means the model was not unsure *between topics*.
    """
    if not ranking or ranking[0].get("name") != FALLBACK:
        return ()
    chosen: list[str] = []
    for guess in ranking[1 : 1 + MOST_LIKELY_OFFERED]:
        if guess.get("name") not in topics or float(guess.get("confidence") or 0.0) < likely:
            break
        chosen.append(str(guess["name"]))
    return tuple(chosen) if len(chosen) >= 2 else ()


def _contraindicated(passage: Passage | None, synonyms: Mapping[str, str]) -> set[str]:
    """The page words the contraindications passage names (read like a visitor's message: longest first)."""
    return {mention.term.casefold() for mention in mentions(passage.text, synonyms)} if passage else set()


def _described(message: str, synonyms: Mapping[str, str]) -> list[Mention]:
    """What the visitor described without naming it, as the page's word for it."""
    plain = normalize(message)
    found = ((pattern.search(plain), synonyms.get(word)) for word, pattern in _DESCRIBED.items())
    return [Mention(match.group(), term) for match, term in found if match and term]


def _misspelled(message: str, synonyms: Mapping[str, str], avoided: set[str]) -> list[Mention]:
    """The contraindications the visitor named with a typo, as the page's words."""
    ruling_out = {term: term for term in avoided} | {
        word: term for word, term in synonyms.items() if term.casefold() in avoided
    }
    return misspelled(message, ruling_out, TYPO_TOLERANT_LENGTH)


def _as_listed(item: Named, listed: set[str]) -> Named:
    """A word the page lists as an indication is a condition, whatever the model tagged it.

    The model now and then tags "scar" in "a burn scar" as a situation; as a situation it would be read
    against the contraindications, where "scars" stands inside "keloid scars". A keloid is still caught
    by the visitor's own words.
    """
    if item.kind == "situation" and item.value.casefold() in listed:
        return Named("condition", item.value, item.typed)
    return item


def _inside(item: Named, said: list[Mention]) -> bool:
    words = item.typed or item.value
    return any(contains(mention.said, words) and not contains(words, mention.said) for mention in said)


def _same(name: str, value: str) -> bool:
    return contains(name, value) and contains(value, name)


def _unique(items: Sequence[Named]) -> list[Named]:
    return list({item.value.casefold(): item for item in items}.values())


def _verdicts(
    topic: str, passage: Passage | None, named: list[Named], said: list[Mention], procedure: Procedure
) -> list[Finding]:
    """Yes / not on the page for each condition, area or situation that the topic settles."""
    kind = next((kind for kind, settled_by in ENTITY_PASSAGES.items() if settled_by == topic), None)
    if passage is None or kind is None:
        return []
    relevant = [item for item in named if item.kind == kind]
    listed = conditions_of(procedure)
    if not relevant and kind == "condition":
        # A condition staff just added to the page's list is answerable before any retraining.
        relevant = _unique([Named(kind, mention.term, mention.said) for mention in said if mention.term in listed])
    findings = []
    for item in relevant:
        unit = find_unit(passage, item.value)
        if kind == "condition" and not any(_same(name, item.value) for name in listed):
            unit = None  # only a whole name on the list: "acne" is not "acne spots", "spots" not "age spots"
        if kind == "situation":  # a situation the page names is a contraindication, never a yes
            findings.append(Finding(item, Kind.NOT_RECOMMENDED if unit else Kind.SEE_DERMATOLOGIST, unit))
        else:
            findings.append(Finding(item, Kind.YES if unit else Kind.NOT_ON_PAGE, unit))
    return findings


def _caveats(
    said: list[Mention], passage: Passage | None, avoided: set[str], synonyms: Mapping[str, str]
) -> tuple[Finding, ...]:
    """Where a named condition itself names a contraindication, every contraindication of that sentence."""
    if passage is None:
        return ()
    caveats: list[Finding] = []
    for mention in said:
        for inner in mentions(mention.term, synonyms):
            if inner.term.casefold() not in avoided or contains(inner.term, mention.term):
                continue
            sentence = find_unit(passage, inner.term)
            together = [inner.term] + [
                m.term for m in mentions(sentence or "", synonyms) if m.term.casefold() in avoided
            ]
            caveats += [Finding(Named("situation", term), Kind.NOT_RECOMMENDED, sentence) for term in together]
    return tuple({finding.named.value: finding for finding in caveats}.values())
