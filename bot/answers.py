"""The answer logic: pick the words of the page that answer, and phrase them.

Everything factual in a reply is quoted from the content as it is when the
question is asked; this module only adds the framing a good receptionist
would: a direct first sentence, where to read more, whom to call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clinic import Clinic
from bot.library import Procedure
from bot.terms import bare_term, contains, find_unit, is_plural, named_items
from bot.topics import Passage

# Which topic settles a question that names a condition, a body area or a situation.
ENTITY_TOPICS = {"condition": "indications", "body_area": "body_areas", "situation": "contraindications"}
SUGGESTED_COUNT = 4


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
class Answer:
    text: str
    topic: str = ""
    buttons: list[dict] = field(default_factory=list)
    location: str = ""  # file:line of the passage quoted, for staff previews


def sentence(text: str) -> str:
    """The page's words as a sentence: capitalised and with a full stop."""
    text = text.strip()
    if text and text[-1] not in ".!?:":
        text += "."
    return text[:1].upper() + text[1:]


def read_more(passage: Passage, clinic: Clinic) -> str:
    """A markdown link to the section, so the website and the widget can open it."""
    title = passage.section.title or passage.page.title
    return f"Read more: [{title}]({clinic.page_url(passage.page.slug, passage.section.anchor)})"


def answer_for(topic: str, procedure: Procedure, clinic: Clinic) -> Answer:
    """The page's own words on ``topic``, and where to read more."""
    passage = procedure.passages.get(topic)
    if passage is None:
        return not_covered(procedure, clinic)
    body = "\n".join(_as_line(unit, passage) for unit in passage.units)
    return Answer(f"{body}\n\n{read_more(passage, clinic)}", topic, location=passage.location)


def _as_line(unit: str, passage: Passage) -> str:
    is_item = any(unit in block.items for block in passage.section.all_blocks() if block.kind == "list")
    return f"- {sentence(unit)}" if is_item else sentence(unit)


def verdict_for(topic: str, named: list[Named], message: str, procedure: Procedure, clinic: Clinic) -> Answer:
    """A direct yes / no / "ask a dermatologist" for each thing named, then the passage it rests on.

    Falls back to the plain topic answer when the question names nothing.
    """
    passage = procedure.passages.get(topic)
    kind = next((kind for kind, settled_by in ENTITY_TOPICS.items() if settled_by == topic), None)
    if passage is None or kind is None:
        return answer_for(topic, procedure, clinic)
    relevant = [item for item in named if item.kind == kind]
    if not relevant and kind == "condition":
        # A condition staff just added to the page's list is answerable before any retraining.
        relevant = [Named(kind, name) for name in named_items(passage, message)]
    if not relevant:
        return answer_for(topic, procedure, clinic)
    lines, quotes = [], []
    for item in _unique(relevant):
        unit = find_unit(passage, item.value)
        lines.append(_verdict_line(kind, item, found=unit is not None))
        if unit and unit not in quotes:
            quotes.append(unit)
    quoted = "\n".join(f"“{sentence(unit)}”" for unit in quotes)
    parts = [" ".join(lines)]
    if quoted:
        parts.append(f"From the page: {quoted}" if len(quotes) == 1 else f"From the page:\n{quoted}")
    else:
        parts.append(clinic.how_to_contact())
    parts.append(read_more(passage, clinic))
    return Answer("\n\n".join(parts), topic, location=passage.location)


def _unique(items: list[Named]) -> list[Named]:
    return list({item.value.casefold(): item for item in items}.values())


def _verdict_line(kind: str, item: Named, found: bool) -> str:
    term = item.label
    verb = "are" if is_plural(item.value) else "is"
    if kind == "condition":
        if found:
            place = "among" if verb == "are" else "one of"
            return f"Yes: {term} {verb} {place} the conditions this laser treatment is for."
        return f"The page doesn't list {term}; ask the clinic or book a consultation with a dermatologist."
    if kind == "body_area":
        if found:
            return f"Yes, the {term} {verb} one of the areas we treat."
        return f"The page doesn't name the {term} among the areas treated; ask the clinic or book a consultation."
    if found:
        return f"No: the page lists {term} among the contraindications, so laser treatment is not recommended."
    return (
        f"The page doesn't mention {term}; whether the treatment suits you is for a dermatologist "
        "to decide, so please book a consultation."
    )


def suggestion_buttons(procedure: Procedure, count: int = SUGGESTED_COUNT) -> list[dict]:
    """Quick replies for questions the page does answer: each sends its topic, and its page, straight to the bot."""
    chosen = f'{{"procedure": "{procedure.slug}"}}'  # so that with several pages the button needs no follow-up
    return [
        {"title": title, "payload": f"/{topic}{chosen}"} for topic, title in list(procedure.suggestions.items())[:count]
    ]


def not_covered(procedure: Procedure, clinic: Clinic) -> Answer:
    """The honest fallback: say so plainly, say whom to ask, offer what the page does answer."""
    text = (
        "Sorry, the clinic's page doesn't cover that, so I can't answer it reliably. "
        f"{clinic.how_to_contact()}\n\nHere is what I can tell you about:"
    )
    return Answer(text, buttons=suggestion_buttons(procedure))


def urgent(clinic: Clinic) -> Answer:
    """A possible complication: straight to the clinic or a doctor, before anything else."""
    text = (
        "This could be a complication and needs a doctor's attention now. "
        f"Please contact {clinic.name} straight away, or see a doctor or call emergency services "
        "if you cannot reach us or you feel unwell. Don't wait for your next session."
    )
    lines = clinic.contact_lines()
    return Answer(text + ("\n" + "\n".join(lines) if lines else ""), "report_complication")


def see_dermatologist(clinic: Clinic) -> Answer:
    """A personal medical question the page cannot settle."""
    text = (
        "That is a question for a dermatologist who can examine you, so please book a consultation. "
        "I give general information from the clinic's page, not a diagnosis."
    )
    lines = clinic.contact_lines()
    return Answer(text + ("\n" + "\n".join(lines) if lines else ""), "personal_medical")


def which_procedure(procedures: list[Procedure]) -> Answer:
    """Several pages could answer: ask which one, with a button each."""
    buttons = [{"title": p.title, "payload": f'/choose_procedure{{"procedure": "{p.slug}"}}'} for p in procedures]
    return Answer("Which procedure are you asking about?", "choose_procedure", buttons)
