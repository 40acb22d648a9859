"""Answer shaping: the page's words, no markup, a direct verdict first, and honest fallbacks."""

from __future__ import annotations

import pytest

from bot.answers import (
    PERSON_BUTTON,
    TALK_TO_PERSON,
    Answer,
    answer_for,
    did_you_mean,
    not_covered,
    see_dermatologist,
    suggestion_buttons,
    urgent,
    word,
)
from bot.clinic import Clinic
from bot.decisions import Named, decide
from bot.library import Procedure, load_content
from bot.terms import item_names
from bot.vocabulary import synonyms


@pytest.fixture(scope="module")
def procedure(shipped):
    return next(iter(shipped.procedures.values()))


CLINIC = Clinic()


def verdict_for(topic: str, named: list[Named], message: str, procedure: Procedure) -> Answer:
    return word(decide(topic, named, message, procedure, synonyms()), procedure, CLINIC)


def test_topic_answer_is_the_passage_and_a_link_to_its_section(procedure):
    answer = answer_for("sessions", procedure, CLINIC)
    assert answer.text.startswith("The number of sessions depends on the degree of pigmentation")
    assert "three to five sessions are required." in answer.text  # the page's words, now with a full stop
    assert answer.text.endswith(
        "Read more: [What does the skin look like after the procedure?]"
        "(/procedures/laser-pigment-removal#what-does-the-skin-look-like-after-the-procedure)"
    )
    assert "***" not in answer.text and "*" not in answer.text.split("Read more")[0]


def test_list_answers_are_bulleted_items(procedure):
    text = answer_for("indications", procedure, CLINIC).text
    assert "- Melasma (benign pigmentation disorder)." in text
    assert text.count("\n- ") == 13


def test_links_use_the_clinics_site_when_set(procedure):
    clinic = Clinic(site_url="https://clinic.example/")
    assert (
        "(https://clinic.example/procedures/laser-pigment-removal#contraindications)"
        in answer_for("contraindications", procedure, clinic).text
    )


@pytest.mark.parametrize(
    ("topic", "named", "first"),
    [
        (
            "indications",
            [Named("condition", "melasma")],
            "Yes: melasma is one of the conditions this laser treatment is for.",
        ),
        ("indications", [Named("condition", "freckles")], "Yes: freckles are among the conditions"),
        ("indications", [Named("condition", "melasma", "pregnancy mask")], "Yes: pregnancy mask (melasma) is one of"),
        (
            "indications",
            [Named("condition", "tattoo", "tattoo")],
            "The page doesn't list tattoo; ask the clinic or book a consultation",
        ),
        (
            "body_areas",
            [Named("body_area", "back of the hands", "hands")],
            "Yes, the back of the hands is one of the areas we treat.",
        ),
        ("body_areas", [Named("body_area", "neck")], "Yes, the neck is one of the areas we treat."),
        ("body_areas", [Named("body_area", "legs")], "The page doesn't name the legs among the areas treated"),
        (
            "contraindications",
            [Named("situation", "lactation", "breastfeeding")],
            "No: the page lists breastfeeding (lactation) among the contraindications, "
            "so laser treatment is not recommended.",
        ),
        (
            "contraindications",
            [Named("situation", "diabetes")],
            "The page doesn't mention diabetes; whether the treatment suits you is for a dermatologist",
        ),
    ],
)
def test_verdict_comes_first_and_is_grounded_in_the_page(procedure, topic, named, first):
    text = verdict_for(topic, named, "", procedure).text
    assert text.startswith(first), text


def test_verdict_quotes_the_exact_words_it_rests_on(procedure):
    text = verdict_for("contraindications", [Named("situation", "pregnancy")], "", procedure).text
    assert "“Laser treatment is not recommended during lactation or pregnancy.”" in text
    assert "keloid" not in text  # only the sentence that settles it
    text = verdict_for("indications", [Named("condition", "moles")], "", procedure).text
    assert "“Moles.”" in text


def test_question_without_a_named_thing_gets_the_plain_answer(procedure):
    assert (
        verdict_for("indications", [], "what do you treat?", procedure).text
        == answer_for("indications", procedure, CLINIC).text
    )


def test_verdicts_follow_the_page_not_the_code(content_copy):
    page = content_copy / "procedures" / "laser-pigment-removal.md"
    page.write_text(
        page.read_text().replace(
            "13. Stretch marks (striae) and scars.", "13. Stretch marks (striae) and scars.\n14. Vascular lesions."
        )
    )
    procedure = next(iter(load_content(content_copy).procedures.values()))
    # Named by the visitor but never seen in training: found in the page's list all the same.
    text = verdict_for("indications", [], "do you remove vascular lesions?", procedure).text
    assert text.startswith("Yes: vascular lesions are among the conditions")
    page.write_text(page.read_text().replace("11. Melasma (benign pigmentation disorder).\n", ""))
    procedure = next(iter(load_content(content_copy).procedures.values()))
    text = verdict_for("indications", [Named("condition", "melasma")], "", procedure).text
    assert text.startswith("The page doesn't list melasma")


def test_list_item_names():
    assert item_names("Stretch marks (striae) and scars.") == ["Stretch marks", "scars", "striae"]
    assert item_names("Rosacea of the papulopustular subtype.") == ["Rosacea of the papulopustular subtype", "Rosacea"]


def test_honest_fallback_says_so_and_offers_four_questions_and_a_person(procedure):
    answer = not_covered(procedure, Clinic(phone="+1 555 0100"))
    assert "page doesn't cover that" in answer.text
    assert "Phone: +1 555 0100" in answer.text
    assert [b["payload"] for b in answer.buttons] == [
        *(f'/{topic}{{"procedure": "laser-pigment-removal"}}' for topic in ("sessions", "safety", "pain", "recovery")),
        TALK_TO_PERSON,
    ]


def test_did_you_mean_offers_the_likely_topics_first_and_still_says_the_page_may_not_cover_it(procedure):
    answer = did_you_mean(("results", "sessions"), procedure, Clinic(phone="+1 555 0100"))
    assert answer.text.startswith("I'm not sure I understood. Did you mean:")
    assert "What results can I expect?" in answer.text and "How many sessions will I need?" in answer.text
    assert "page may not cover it" in answer.text and "Phone: +1 555 0100" in answer.text
    topics = [b["payload"].split("{")[0] for b in answer.buttons]
    # The likely ones, then four more of what the page answers, then a person.
    assert topics == ["/results", "/sessions", "/safety", "/pain", "/recovery", "/skin_after", TALK_TO_PERSON]
    # The same buttons as everywhere else, so the input gate knows them as offered.
    suggested = suggestion_buttons(procedure, len(procedure.passages))
    assert all(button in suggested for button in answer.buttons[:-1]) and answer.buttons[-1] == PERSON_BUTTON


def test_contact_fields_that_are_not_set_are_never_shown(procedure):
    for answer in (not_covered(procedure, CLINIC), urgent(CLINIC), see_dermatologist(CLINIC)):
        assert "Phone" not in answer.text and "Address" not in answer.text


def test_urgent_and_dermatologist_messages(procedure):
    clinic = Clinic(name="Skin Clinic", phone="+1 555 0100", address="1 Main St")
    assert urgent(clinic).text.startswith("This could be a complication and needs a doctor's attention now.")
    assert "Phone: +1 555 0100\nAddress: 1 Main St" in urgent(clinic).text
    text = see_dermatologist(clinic).text
    assert "dermatologist" in text and "not a diagnosis" in text
