"""The wording: a decision (bot.decisions) or a passage, phrased with the page's own words.

Everything factual in a reply is quoted from the content as it is when the
question is asked; this module only adds the framing a good receptionist
would: a direct first sentence, where to read more, whom to call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.clinic import Clinic
from bot.decisions import Decision, Finding, Kind
from bot.library import Procedure
from bot.terms import is_plural
from bot.topics import Passage

SUGGESTED_COUNT = 4
# Standing commands: any channel may send these whether or not they were offered (bot/channels/inbound.py),
# as they set nothing but the intent. The widget shows the person button all the time.
TALK_TO_PERSON = "/talk_to_person"
BOOK_CONSULTATION = "/book_consultation"
PERSON_BUTTON = {"title": "Talk to a person", "payload": TALK_TO_PERSON}
BOOK_BUTTON = {"title": "Book a consultation", "payload": BOOK_CONSULTATION}
CANCEL_BUTTON = {"title": "Cancel", "payload": "cancel"}  # typed words: "cancel" is understood everywhere


@dataclass(frozen=True)
class Answer:
    text: str
    topic: str = ""
    buttons: list[dict] = field(default_factory=list)
    location: str = ""  # file:line of the passage quoted, for staff previews
    decision: str = ""  # the decision's kind (bot.decisions.Kind), for staff tools and tests


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
    buttons = [BOOK_BUTTON] if topic == "consultation" else []
    return Answer(f"{body}\n\n{read_more(passage, clinic)}", topic, buttons, location=passage.location)


def _as_line(unit: str, passage: Passage) -> str:
    is_item = any(unit in block.items for block in passage.section.all_blocks() if block.kind == "list")
    return f"- {sentence(unit)}" if is_item else sentence(unit)


def word(decision: Decision, procedure: Procedure, clinic: Clinic) -> Answer:
    """A decision in words: the verdict first, then the page's words it rests on, then where to read more."""
    passage = decision.passage
    if passage is None:
        return not_covered(procedure, clinic)
    after = " and ".join(caveat.named.value for caveat in decision.caveats)
    if not decision.findings:
        answer = answer_for(decision.topic, procedure, clinic)
        if after:  # the passage, after what the page says about the contraindication the question named
            note = f"Not during {after}: the page says “{sentence(decision.caveats[0].quote or '')}”"
            answer = replace(answer, text=f"{note}\n\n{answer.text}")
        return replace(answer, decision=decision.kind.value)
    findings = sorted(decision.findings, key=lambda finding: list(Kind).index(finding.kind))
    lines = [_verdict_line(finding, decision.kind, after) for finding in findings]
    if decision.kind is Kind.NOT_RECOMMENDED:
        lines.append("A dermatologist can tell you at a consultation when treatment becomes possible for you.")
    quotes = list(dict.fromkeys(f.quote for f in (*findings, *decision.caveats) if f.quote))
    quoted = "\n".join(f"“{sentence(unit)}”" for unit in quotes)
    parts = [" ".join(lines)]
    if quoted:
        parts.append(f"From the page: {quoted}" if len(quotes) == 1 else f"From the page:\n{quoted}")
    else:
        parts.append(clinic.how_to_contact())
    parts.append(read_more(passage, clinic))
    # Every verdict short of a plain yes ends in "book a consultation"; the button does it.
    buttons = [] if decision.kind is Kind.YES else [BOOK_BUTTON, PERSON_BUTTON]
    return Answer("\n\n".join(parts), decision.topic, buttons, location=passage.location, decision=decision.kind.value)


def _verdict_line(finding: Finding, overall: Kind, after: str) -> str:
    term, kind = finding.named.label, finding.named.kind
    verb = "are" if is_plural(finding.named.value) else "is"
    if finding.kind is Kind.NOT_RECOMMENDED:
        return f"No: the page lists {term} among the contraindications, so laser treatment is not recommended."
    if finding.kind is Kind.SEE_DERMATOLOGIST:
        return (
            f"The page doesn't mention {term}; whether the treatment suits you is for a dermatologist "
            "to decide, so please book a consultation."
        )
    if finding.kind is Kind.NOT_ON_PAGE and kind == "body_area":
        return f"The page doesn't name the {term} among the areas treated; ask the clinic or book a consultation."
    if finding.kind is Kind.NOT_ON_PAGE:
        return f"The page doesn't list {term}; ask the clinic or book a consultation with a dermatologist."
    what = f"the {term} {verb} one of the areas we treat" if kind == "body_area" else _listed(term, verb)
    if overall is Kind.NOT_RECOMMENDED:  # listed, but a contraindication named with it comes first
        return sentence(f"{what}, but not while a contraindication applies")
    if after:
        return f"Yes, after {after}: {what}."
    return f"Yes: {what}." if kind != "body_area" else f"Yes, {what}."


def _listed(term: str, verb: str) -> str:
    place = "among" if verb == "are" else "one of"
    return f"{term} {verb} {place} the conditions this laser treatment is for"


def suggestion_buttons(procedure: Procedure, count: int = SUGGESTED_COUNT, first: Sequence[str] = ()) -> list[dict]:
    """Quick replies for questions the page does answer: each sends its topic, and its page, straight to the bot.

    The topics ``first`` come first, then the page's suggestions in their order.
    """
    chosen = f'{{"procedure": "{procedure.slug}"}}'  # so that with several pages the button needs no follow-up
    titles = procedure.suggestions
    topics = list(dict.fromkeys([*(topic for topic in first if topic in titles), *titles]))
    return [{"title": titles[topic], "payload": f"/{topic}{chosen}"} for topic in topics[:count]]


def not_covered(procedure: Procedure, clinic: Clinic) -> Answer:
    """The honest fallback: say so plainly, say whom to ask, offer what the page does answer."""
    text = (
        "Sorry, the clinic's page doesn't cover that, so I can't answer it reliably. "
        f"{clinic.how_to_contact()}\n\nHere is what I can tell you about:"
    )
    return Answer(text, buttons=[*suggestion_buttons(procedure), PERSON_BUTTON])


def did_you_mean(likely: Sequence[str], procedure: Procedure, clinic: Clinic) -> Answer:
    """The model was unsure between topics (bot.decisions.likely_topics): offer them first, and still say
    plainly that the page may not cover the question."""
    choices = "\n".join(f"- {procedure.suggestions[topic]}" for topic in likely)
    text = (
        f"I'm not sure I understood. Did you mean:\n{choices}\n\n"
        "If it's something else, the clinic's page may not cover it, so I can't answer it reliably. "
        f"{clinic.how_to_contact()}"
    )
    buttons = suggestion_buttons(procedure, len(likely) + SUGGESTED_COUNT, first=likely)
    return Answer(text, buttons=[*buttons, PERSON_BUTTON])


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
    return Answer(text + ("\n" + "\n".join(lines) if lines else ""), "personal_medical", [BOOK_BUTTON])


def which_procedure(procedures: list[Procedure]) -> Answer:
    """Several pages could answer: ask which one, with a button each."""
    buttons = [{"title": p.title, "payload": f'/choose_procedure{{"procedure": "{p.slug}"}}'} for p in procedures]
    return Answer("Which procedure are you asking about?", "choose_procedure", buttons)


def talk_to_person(clinic: Clinic, now: datetime | None = None, nothing_to_cancel: bool = False) -> Answer:
    """How to reach a person at the clinic and, when the opening hours are set, whether someone is there now."""
    lead = "There is no request in progress to cancel. " if nothing_to_cancel else ""
    lines = clinic.contact_lines()
    if lines:
        text = f"{lead}You can reach a person at {clinic.name}:\n" + "\n".join(lines)
    else:
        text = f"{lead}I don't have {clinic.name}'s contact details here, but I can pass your request on."
    open_now = clinic.open_now(now)
    if open_now is not None:
        text += "\n\n" + ("Someone is there now." if open_now else "The clinic is closed right now.")
    text += "\nOr leave your details with a consultation request, and the clinic will contact you."
    return Answer(text, "talk_to_person", [BOOK_BUTTON], decision="open" if open_now else "")


def ask_consent(clinic: Clinic) -> Answer:
    """The last question of the consultation request: explicit consent, with the privacy notice."""
    notice = f" How the clinic handles personal data: {clinic.privacy_url}" if clinic.privacy_url else ""
    text = (
        f"May {clinic.name} use your name, contact details and preferred time to arrange this consultation, "
        f"and for nothing else?{notice}\nPlease answer yes or no."
    )
    return Answer(text, "consultation_consent", [{"title": "Yes, I agree", "payload": "yes"}, CANCEL_BUTTON])


def consultation_requested(clinic: Clinic, reference: str) -> Answer:
    text = (
        f"Thank you. Your consultation request is with {clinic.name}; your reference is {reference}. "
        "The clinic will contact you to arrange a time. Is there anything else you'd like to know?"
    )
    return Answer(text, "consultation_requested", decision="stored")


def consultation_not_stored(clinic: Clinic) -> Answer:
    """The request could not be kept: say so, rather than promise a call that will not come."""
    text = f"Sorry, I could not pass on your request just now. {clinic.how_to_contact()}"
    return Answer(text, "consultation_requested", [PERSON_BUTTON], decision="not_stored")


def consultation_cancelled() -> Answer:
    text = "Cancelled: nothing was sent to the clinic. Ask me anything else about the procedure."
    return Answer(text, "consultation_cancelled", decision="cancelled")
