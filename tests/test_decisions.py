"""The decision table: what the assistant decides, apart from how it is worded.

A contraindication always wins: for every topic the model might pick, a message
naming pregnancy, lactation, keloids, cancer or an acute skin disease is "not
recommended", resting on the page's contraindications sentence, alone or with
a listed condition or area, whether or not the model found the entities.
"""

from __future__ import annotations

import pytest

from bot.answers import sentence, word
from bot.clinic import Clinic
from bot.decisions import (
    FALLBACK,
    Decision,
    Kind,
    Named,
    contraindications_named,
    decide,
    decide_without_topic,
    likely_topics,
)
from bot.library import load_content
from bot.terms import find_unit
from bot.topics import TOPICS, sentences
from bot.vocabulary import synonyms

SYNONYMS = synonyms()

# (how a visitor says it, the page's word, the words the model tags)
SITUATIONS = [
    ("I'm pregnant", "pregnancy", "pregnant"),
    ("we're expecting a baby in May and", "pregnancy", "expecting a baby"),
    ("I'm breastfeeding", "lactation", "breastfeeding"),
    ("still Breast-Feeding my son", "lactation", "Breast-Feeding"),
    ("I'm nursing", "lactation", "nursing"),
    ("I'm prone to keloids", "keloid scars", "keloids"),
    ("I had melanoma two years ago", "cancer", "melanoma"),
    ("I'm on chemotherapy", "cancer", "chemotherapy"),
    ("I have cancer", "cancer", "cancer"),
    ("my eczema is flaring", "skin diseases", "eczema"),
    ("I have psoriasis", "skin diseases", "psoriasis"),
    ("I've got inflamed acne", "skin diseases", "inflamed acne"),
    ("my active acne is bad", "skin diseases", "active acne"),
    ("we have a baby on the way", "pregnancy", "baby on the way"),
    ("I still give my baby breast milk", "lactation", "breast milk"),
    ("I get raised scars after any cut", "keloid scars", "raised scars"),
    ("I'm being treated for lymphoma", "cancer", "lymphoma"),
    ("my little one is still breastfed", "lactation", "breastfed"),
    ("I breast-feed at night", "lactation", "breast-feed"),
    ("I'm preggers", "pregnancy", "preggers"),
    ("I'm pregant", "pregnancy", "pregant"),
    ("I'm in my second trimester", "pregnancy", "second trimester"),
    ("I'm keloid-prone", "keloid scars", "keloid-prone"),
    ("my oncologist sees me monthly", "cancer", "oncologist"),
    ("my excema is bad this week", "skin diseases", "excema"),
    # One typo in a long word: a letter changed, left out, added, two swapped.
    ("I'm pregnamt", "pregnancy", "pregnamt"),
    ("still breastfeding", "lactation", "breastfeding"),
    ("I finished chemotherappy in May", "cancer", "chemotherappy"),
    ("my psoraisis is back", "skin diseases", "psoraisis"),
    ("I had a melanomma removed", "cancer", "melanomma"),
    # Slang, short forms, typos of short words and illnesses the page's words cover.
    ("im prego lol", "pregnancy", "prego"),
    ("exclusively bfing my twins", "lactation", "bfing"),
    ("I'm keyloid prone", "keloid scars", "keyloid"),
    ("I scar really badly", "keloid scars", "scar"),
    ("my eczma flared up", "skin diseases", "eczma"),
    ("I have impetigo on my chin", "skin diseases", "impetigo"),
    ("I'm on tamoxifen", "cancer", "tamoxifen"),
    ("I was told it's lentigo maligna", "cancer", "lentigo maligna"),
    ("expecting baby number two", "pregnancy", "expecting baby"),
    ("expectant mum here", "pregnancy", "expectant"),
]
# (the rest of the question, the entity the model might find in it)
ASKS = [
    ("can I have it?", None),
    ("can you remove my melasma?", Named("condition", "melasma", "melasma")),
    ("can you remove my scars?", Named("condition", "scars", "scars")),
    ("can you fade my freckles?", Named("condition", "freckles", "freckles")),
    ("can you do my décolleté?", Named("body_area", "décolleté", "décolleté")),
    ("can you treat my hands?", Named("body_area", "back of the hands", "hands")),
]


@pytest.fixture(scope="module")
def procedure(shipped):
    return next(iter(shipped.procedures.values()))


def rests_on(decision: Decision, procedure, page_word: str) -> bool:
    """The decision quotes the contraindications sentence that names ``page_word``."""
    sentence = find_unit(procedure.passages["contraindications"], page_word)
    return sentence is not None and any(finding.quote == sentence for finding in decision.findings)


@pytest.mark.parametrize("model_found", [True, False], ids=["entities", "words-only"])
@pytest.mark.parametrize(("ask", "asked"), ASKS, ids=[ask for ask, _ in ASKS])
@pytest.mark.parametrize(("situation", "page_word", "typed"), SITUATIONS, ids=[s for s, _, _ in SITUATIONS])
@pytest.mark.parametrize("topic", TOPICS)
def test_a_contraindication_always_wins(procedure, topic, situation, page_word, typed, ask, asked, model_found):
    named = [Named("situation", page_word, typed), *([asked] if asked else [])] if model_found else []
    decision = decide(topic, named, f"{situation}, {ask}", procedure, SYNONYMS)
    assert decision.kind is Kind.NOT_RECOMMENDED
    assert decision.passage.topic == "contraindications"
    assert rests_on(decision, procedure, page_word)
    if "keloid" in situation and "scars" not in ask:  # the keloid's "scars" is never the listed condition
        assert all(finding.named.value != "scars" for finding in decision.findings)


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize(
    ("message", "named"),
    [
        # What the model got wrong: the keloid tagged as the listed condition "scars".
        ("can you remove my keloid scars?", [Named("condition", "scars", "scars")]),
        ("i have a keloid scar on my chest, can you remove it", [Named("body_area", "décolleté", "chest")]),
        ("do you treat eczema?", [Named("condition", "eczema", "eczema")]),
        ("psoriasis on my arms, can you help?", [Named("body_area", "arms", "arms")]),
        ("I\u2019m PREGNANT \u2013 can you do my décolleté?", []),  # curly apostrophe, capitals, a dash
        ("I'm pregnant and have hyperpigmentation due to pregnancy", []),
        ("/indications pregnant", []),
    ],
)
def test_what_the_model_picked_or_missed_cannot_turn_a_contraindication_into_a_yes(procedure, topic, message, named):
    decision = decide(topic, named, message, procedure, SYNONYMS)
    assert decision.kind is Kind.NOT_RECOMMENDED
    assert all(finding.kind is not Kind.YES or finding.named.value != "scars" for finding in decision.findings)


CONTRA = "contraindications"
PREGNANCY_SENTENCE = "Laser treatment is not recommended during lactation or pregnancy."


@pytest.mark.parametrize(
    ("topic", "message", "named", "kind", "rests_on", "quotes"),
    [
        # Listed conditions and areas: yes, with the list item or sentence that says so.
        ("indications", "can you remove melasma", [Named("condition", "melasma")], Kind.YES, "indications",
         {"Melasma (benign pigmentation disorder)."}),
        ("indications", "can you remove my scars?", [Named("condition", "scars", "scars")], Kind.YES, "indications",
         {"Stretch marks (striae) and scars."}),
        ("indications", "do you fade freckles", [], Kind.YES, "indications", {"Freckles."}),
        ("indications", "can you get rid of acne marks", [], Kind.YES, "indications", {"Acne spots."}),
        ("indications", "pregnancy mask, can you remove it?", [Named("condition", "melasma", "pregnancy mask")],
         Kind.YES, "indications", {"Melasma (benign pigmentation disorder)."}),
        ("indications", "the mask of pregnancy on my cheeks", [Named("condition", "melasma", "mask of pregnancy")],
         Kind.YES, "indications", {"Melasma (benign pigmentation disorder)."}),
        ("indications", "red blotches all over, treatable?", [], Kind.YES, "indications", {"Diffuse redness."}),
        ("body_areas", "spots on my forehead", [Named("body_area", "face", "forehead")], Kind.YES, "body_areas", None),
        ("body_areas", "do you do hands?", [Named("body_area", "back of the hands", "hands")], Kind.YES, "body_areas",
         None),
        ("body_areas", "what about the décolleté", [Named("body_area", "décolleté")], Kind.YES, "body_areas", None),
        # Not on the page: said plainly, nothing quoted as if it were.
        ("indications", "can you remove a tattoo?", [Named("condition", "tattoo", "tattoo")], Kind.NOT_ON_PAGE,
         "indications", set()),
        ("body_areas", "can you do my legs", [Named("body_area", "legs")], Kind.NOT_ON_PAGE, "body_areas", set()),
        # Acne itself is not on the list (acne spots, the marks, are; active acne is a skin disease).
        ("indications", "can you treat my acne?", [Named("condition", "acne", "acne")], Kind.NOT_ON_PAGE,
         "indications", set()),
        # A situation the page doesn't name: a dermatologist decides.
        ("contraindications", "I have diabetes, can I have it?", [Named("situation", "diabetes")],
         Kind.SEE_DERMATOLOGIST, CONTRA, set()),
        # Asked about contraindications in general, or any other topic with nothing named: the passage.
        ("contraindications", "who can't have it?", [], Kind.TOPIC, CONTRA, set()),
        ("contraindications", "are there any contraindications?", [], Kind.TOPIC, CONTRA, set()),
        ("sessions", "how many sessions will I need?", [], Kind.TOPIC, "sessions", set()),
        ("results", "what results can I expect?", [], Kind.TOPIC, "results", set()),
        ("safety", "is it safe?", [], Kind.TOPIC, "safety", set()),
        # Named both ways on the page: treatable, and the contraindication sentence says when.
        ("indications", "can you treat hyperpigmentation due to pregnancy?", [], Kind.YES, "indications",
         {"Hyperpigmentation due to pregnancy.", PREGNANCY_SENTENCE}),
        ("indications", "can you treat hyperpigmentation due to pregnancy?",
         [Named("condition", "hyperpigmentation due to pregnancy"), Named("situation", "pregnancy", "pregnancy")],
         Kind.YES, "indications", {"Hyperpigmentation due to pregnancy.", PREGNANCY_SENTENCE}),
        ("sessions", "how many sessions for hyperpigmentation due to pregnancy?", [], Kind.TOPIC, "sessions",
         {PREGNANCY_SENTENCE}),
        # The model's slip: "scar" tagged as a situation; the page lists scars as an indication.
        ("indications", "I have a burn scar, can you treat it?",
         [Named("situation", "scars", "scar"), Named("condition", "scars", "scar")], Kind.YES, "indications", None),
        ("contraindications", "can I have it with an old scar?", [Named("situation", "scars", "scar")],
         Kind.TOPIC, CONTRA, set()),
        # Contraindications, in the topic that asks about them.
        ("contraindications", "i get keloids easily", [Named("situation", "keloid scars", "keloids")],
         Kind.NOT_RECOMMENDED, CONTRA, None),
        ("contraindications", "can I come during an eczema flare?", [], Kind.NOT_RECOMMENDED, CONTRA, None),
    ],
)  # fmt: skip
def test_decision_table(procedure, topic, message, named, kind, rests_on, quotes):
    decision = decide(topic, named, message, procedure, SYNONYMS)
    assert decision.kind is kind
    assert decision.passage.topic == rests_on
    if quotes is not None:
        assert {f.quote for f in (*decision.findings, *decision.caveats) if f.quote} == quotes


def test_a_condition_named_both_ways_carries_every_contraindication_of_its_sentence(procedure):
    decision = decide("indications", [], "hyperpigmentation due to pregnancy?", procedure, SYNONYMS)
    assert [caveat.named.value for caveat in decision.caveats] == ["pregnancy", "lactation"]
    assert all(caveat.kind is Kind.NOT_RECOMMENDED for caveat in decision.caveats)


@pytest.mark.parametrize(
    "message",
    [
        "I'm a dancer, can you remove my freckles?",  # "cancer" is too short to read through a typo
        "can I cancel if my freckles fade?",
        "my mum nursed me through chickenpox, can you treat the scars?",  # "nursed" is no "nursing"
    ],
)
def test_a_word_one_letter_from_a_short_contraindication_is_no_contraindication(procedure, message):
    assert decide("indications", [], message, procedure, SYNONYMS).kind is Kind.YES


def test_contraindications_follow_the_page_not_a_list_in_code(content_copy):
    page = content_copy / "procedures" / "laser-pigment-removal.md"
    page.write_text(page.read_text().replace(" or skin diseases that are in an acute stage", ""))
    edited = next(iter(load_content(content_copy).procedures.values()))
    assert decide("indications", [], "I have eczema, can you do freckles?", edited, SYNONYMS).kind is Kind.YES
    assert decide("indications", [], "I have cancer, can you do freckles?", edited, SYNONYMS).kind is (
        Kind.NOT_RECOMMENDED
    )


def test_a_synonym_added_to_the_vocabulary_is_a_contraindication_at_once(procedure):
    message = "I'm eating for two these days, can you do my freckles?"
    assert decide("indications", [], message, procedure, SYNONYMS).kind is Kind.YES
    with_idiom = {**SYNONYMS, "eating for two": "pregnancy"}
    assert decide("indications", [], message, procedure, with_idiom).kind is Kind.NOT_RECOMMENDED


# Wording: each kind's first sentence says the decision unambiguously.
FIRST_WORDS = {
    Kind.YES: ("Yes",),
    Kind.NOT_RECOMMENDED: ("No:",),
    Kind.NOT_ON_PAGE: ("The page doesn't list", "The page doesn't name"),
    Kind.SEE_DERMATOLOGIST: ("The page doesn't mention",),
}
WORDED = [
    ("indications", "can you remove melasma", [Named("condition", "melasma")]),
    ("body_areas", "hands?", [Named("body_area", "back of the hands", "hands")]),
    ("indications", "hyperpigmentation due to pregnancy?", []),
    ("indications", "tattoo?", [Named("condition", "tattoo")]),
    ("body_areas", "legs?", [Named("body_area", "legs")]),
    ("contraindications", "diabetes?", [Named("situation", "diabetes")]),
    ("indications", "I'm pregnant, can you remove my melasma?", [Named("condition", "melasma")]),
    ("body_areas", "I'm pregnant - can you do my décolleté?", [Named("body_area", "décolleté")]),
    ("indications", "can you remove my keloid scars?", [Named("condition", "scars", "scars")]),
    (
        "indications",
        "can you remove melasma and a tattoo",
        [Named("condition", "melasma"), Named("condition", "tattoo")],
    ),
    ("contraindications", "who can't have it", []),
    ("sessions", "how many sessions", []),
]


@pytest.mark.parametrize(("topic", "message", "named"), WORDED, ids=[m for _, m, _ in WORDED])
def test_the_first_sentence_says_the_decision(procedure, topic, message, named):
    decision = decide(topic, named, message, procedure, SYNONYMS)
    answer = word(decision, procedure, Clinic())
    first = sentences(answer.text.split("\n")[0])[0]
    assert answer.decision == decision.kind.value
    if decision.kind is Kind.TOPIC:
        assert first == sentence(sentences(procedure.passages[topic].units[0])[0])
    else:
        assert first.startswith(FIRST_WORDS[decision.kind]), first
    if decision.kind is not Kind.YES:
        assert not answer.text.startswith("Yes")
    if decision.kind is Kind.NOT_RECOMMENDED:
        assert "not recommended" in first
    if decision.caveats:
        assert "after pregnancy and lactation" in first


def test_the_wording_table_covers_every_kind(procedure):
    assert {decide(topic, named, message, procedure, SYNONYMS).kind for topic, message, named in WORDED} == set(Kind)


# "Expecting" is a pregnancy only with the words that make it one: a question about what to expect is not.
@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("I'm expecting, can you do my freckles?", Kind.NOT_RECOMMENDED),
        ("I\u2019m expecting \u2013 is laser ok?", Kind.NOT_RECOMMENDED),
        ("we're expecting in May, can I still come for my age spots", Kind.NOT_RECOMMENDED),
        ("expecting a baby, can you treat melasma?", Kind.NOT_RECOMMENDED),
        ("what should I be expecting after the session?", None),
        ("what can I expect?", None),
        ("what to expect on the day", None),
        ("how many sessions should I be expecting to need?", None),
    ],
)
def test_expecting_is_a_pregnancy_only_when_it_says_so(procedure, topic, message, kind):
    decision = decide(topic, [], message, procedure, SYNONYMS)
    if kind is None:
        assert decision.kind is not Kind.NOT_RECOMMENDED
        assert all(finding.named.value != "pregnancy" for finding in (*decision.findings, *decision.caveats))
    else:
        assert decision.kind is kind
        assert rests_on(decision, procedure, "pregnancy")


# A message no topic answers (out of scope, or the model unsure): a contraindication is still decided.
@pytest.mark.parametrize(
    ("message", "named", "page_word"),
    [
        ("i had melanoma a few years back, can you take off my age spots?", [], "cancer"),
        ("my psoriasis is flaring, is laser safe for my arms?", [Named("body_area", "arms", "arms")], "skin diseases"),
        ("on chemotherapy at the moment, would laser fade my sun spots", [], "cancer"),
        ("pregnant, do you sell gift vouchers", [], "pregnancy"),
        ("do you do gift vouchers", [Named("situation", "keloid scars", "keloids")], "keloid scars"),
        ("what should I be expecting after the session?", [], None),
        ("do you sell gift vouchers", [], None),
        ("can you remove melasma and a tattoo", [Named("condition", "melasma")], None),
        ("I have diabetes", [Named("situation", "diabetes")], None),
    ],
)
def test_without_a_topic_only_a_contraindication_is_decided(procedure, message, named, page_word):
    decision = decide_without_topic(named, message, procedure, SYNONYMS)
    if page_word is None:
        assert decision is None
    else:
        assert decision.kind is Kind.NOT_RECOMMENDED
        assert decision.passage.topic == "contraindications"
        assert rests_on(decision, procedure, page_word)


def ranked(*guesses: tuple[str, float], unsure: bool = True) -> list[dict]:
    """Rasa's intent ranking: the FallbackClassifier's intent first when it stepped in, then the model's."""
    model = [{"name": name, "confidence": confidence} for name, confidence in guesses]
    return [{"name": FALLBACK, "confidence": 0.7}, *model] if unsure else model


@pytest.mark.parametrize(
    ("ranking", "offered"),
    [
        # Unsure between two or three topics of the page: those, best first.
        (ranked(("sessions", 0.45), ("results", 0.4), ("greet", 0.05)), ("sessions", "results")),
        (ranked(("pain", 0.35), ("recovery", 0.3), ("skin_after", 0.25)), ("pain", "recovery", "skin_after")),
        # Never more than three, and a guess below LIKELY is not offered.
        (ranked(("pain", 0.3), ("recovery", 0.25), ("safety", 0.2), ("skin_after", 0.2)),
         ("pain", "recovery", "safety")),
        (ranked(("pain", 0.5), ("recovery", 0.3), ("safety", 0.1)), ("pain", "recovery")),
        # One likely topic is no choice between topics.
        (ranked(("pain", 0.65), ("recovery", 0.12), ("safety", 0.1)), ()),
        # Out of scope or small talk among the best guesses: not unsure between topics.
        (ranked(("out_of_scope", 0.5), ("pain", 0.4)), ()),
        (ranked(("pain", 0.45), ("out_of_scope", 0.4), ("recovery", 0.1)), ()),
        (ranked(("pain", 0.45), ("greet", 0.3), ("recovery", 0.25)), ()),
        # A topic this page has no passage for is not offered.
        (ranked(("sessions", 0.45), ("unmapped", 0.4)), ()),
        # The model was sure: no "did you mean".
        (ranked(("out_of_scope", 0.85), ("pain", 0.1), unsure=False), ()),
        (ranked(("pain", 0.55), ("recovery", 0.4), unsure=False), ()),
        ([], ()),
    ],
)  # fmt: skip
def test_did_you_mean_offers_the_likely_topics_of_the_page(procedure, ranking, offered):
    assert likely_topics(ranking, procedure.passages) == offered


PREGNANT = Named("situation", "pregnancy", "I'm pregnant")
KELOIDS = Named("situation", "keloid scars", "keloids")


@pytest.mark.parametrize(
    ("topic", "message", "named", "told", "kind"),
    [
        # told earlier in the conversation: no later "yes"
        (
            "indications",
            "can you remove my freckles?",
            [Named("condition", "freckles")],
            [PREGNANT],
            Kind.NOT_RECOMMENDED,
        ),
        (
            "body_areas",
            "do you do hands?",
            [Named("body_area", "back of the hands", "hands")],
            [KELOIDS],
            Kind.NOT_RECOMMENDED,
        ),
        ("indications", "and melasma?", [], [PREGNANT], Kind.NOT_RECOMMENDED),
        # a question that says no "yes" is answered as asked: the page's passage
        ("how_it_works", "how does the laser work?", [], [PREGNANT], Kind.TOPIC),
        ("recovery", "how long to heal", [], [PREGNANT], Kind.TOPIC),
        ("indications", "can you remove a tattoo?", [Named("condition", "tattoo")], [PREGNANT], Kind.NOT_ON_PAGE),
        # nothing told
        ("indications", "can you remove my freckles?", [Named("condition", "freckles")], [], Kind.YES),
    ],
)
def test_a_contraindication_told_earlier_stops_every_later_yes(procedure, topic, message, named, told, kind):
    decision = decide(topic, named, message, procedure, SYNONYMS, told)
    assert decision.kind is kind
    assert (decision.topic == CONTRA) is (kind is Kind.NOT_RECOMMENDED)


def test_what_a_decision_found_is_remembered_as_told(procedure):
    decision = decide("indications", [], "I'm pregnant, can you remove melasma?", procedure, SYNONYMS)
    assert [named.value for named in contraindications_named(decision)] == ["pregnancy"]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        # a keloid tendency described without the word
        ("my scars tend to get thick and raised, can you do my sun spots?", Kind.NOT_RECOMMENDED),
        ("i always get lumpy scars. could the laser remove my freckles", Kind.NOT_RECOMMENDED),
        ("scars on me keep growing after a cut, is laser for melasma ok?", Kind.NOT_RECOMMENDED),
        ("hypertrophic scars run in my family, can I have it", Kind.NOT_RECOMMENDED),
        # scars the page lists as treatable stay a yes
        ("can you fade my acne scars?", Kind.YES),
        ("will the laser remove a burn scar?", Kind.YES),
    ],
)
def test_a_keloid_tendency_described_in_other_words_is_a_contraindication(procedure, message, kind):
    assert decide("indications", [], message, procedure, SYNONYMS).kind is kind
