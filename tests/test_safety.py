"""The fixed safety triage, decided on the triage table (tests/safety/triage_table.yml).

A missed report leaves someone with a complication reading an FAQ; a false
alarm sends someone who only asked about risk to emergency services. The table
must have neither, and typing it the way a phone does (curly apostrophes,
dashes, capitals) must not change a single decision.
"""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from bot import PROJECT_DIR
from bot.nlu import safe_intent
from bot.safety import DERMATOLOGIST, NOT_ESCALATED, RULED_INTENTS, URGENT, Triage, route, triage
from bot.text import normalize
from tests.test_evaluation_set import normalise, training_examples

TABLE = yaml.safe_load((PROJECT_DIR / "tests" / "safety" / "triage_table.yml").read_text(encoding="utf-8"))
DECISIONS = {"report": Triage.REPORT, "question": Triage.QUESTION, "personal": Triage.PERSONAL, "none": None}


def _route(decision: Triage | None) -> str:
    return route(RULED_INTENTS.get(decision))


def _row_id(row: dict) -> str:
    return f"{row['decision']}:{row['text'][:50]}"


@pytest.mark.parametrize("row", TABLE, ids=_row_id)
def test_triage_table(row):
    assert triage(row["text"]) == DECISIONS[row["decision"]]


GAPS = yaml.safe_load((PROJECT_DIR / "tests" / "safety" / "known_gaps.yml").read_text(encoding="utf-8"))


# What the rules should decide and are known not to: once one is decided right it passes, which fails the run
# (strict), so that it moves to the triage table and stays right there.
@pytest.mark.parametrize("row", GAPS, ids=_row_id)
@pytest.mark.xfail(strict=True, reason="a known gap of the rules (tests/safety/known_gaps.yml)")
def test_known_gap(row):
    assert triage(row["text"]) == DECISIONS[row["decision"]]


def test_a_known_gap_is_not_also_a_row_of_the_triage_table():
    assert not {row["text"] for row in GAPS} & {row["text"] for row in TABLE}


def _phone_typed(text: str) -> str:
    return text.replace("'", "\u2019").replace(" - ", " \u2013 ")


@pytest.mark.parametrize("row", TABLE, ids=_row_id)
def test_curly_quotes_dashes_and_capitals_change_no_decision(row):
    expected = DECISIONS[row["decision"]]
    assert triage(_phone_typed(row["text"])) == expected
    assert triage(row["text"].upper()) == expected


def test_no_missed_report_and_no_false_alarm():
    routes = Counter((_route(DECISIONS[row["decision"]]), _route(triage(row["text"]))) for row in TABLE)
    missed = sum(count for (expected, decided), count in routes.items() if expected == URGENT != decided)
    false_alarms = sum(count for (expected, decided), count in routes.items() if decided == URGENT != expected)
    assert (missed, false_alarms) == (0, 0)


def test_the_table_covers_reports_and_questions_and_is_written_by_hand():
    decisions = Counter(row["decision"] for row in TABLE)
    assert len(TABLE) >= 150
    assert decisions["report"] >= 60 and decisions["question"] >= 60
    assert len({row["text"] for row in TABLE}) == len(TABLE), "a phrasing is in the table twice"
    training = training_examples()
    assert [row["text"] for row in TABLE if normalise(row["text"]) in training] == []


def test_a_report_buried_in_a_huge_message_is_found_and_a_huge_word_is_no_trouble():
    chatter = "the receptionist was lovely and the parking was easy. " * 2000
    assert triage(f"{chatter}since the session my cheek is oozing. {chatter}") is Triage.REPORT
    assert triage(f"{chatter}will it blister? {chatter}") is Triage.QUESTION
    assert triage("a" * 100_000) is None


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("redness won\u2019t go away", "redness won't go away"),
        ("\u201cswollen\u201d \u2013 since Monday", '"swollen" - since monday'),
        ("\uff4d\uff59 \uff46\uff41\uff43\uff45", "my face"),  # full-width letters
        ("  pus\u200b\n\tcoming   OUT ", "pus coming out"),
        ("2\u20143 days", "2-3 days"),
    ],
)
def test_normalize(typed, read):
    assert normalize(typed) == read


MODEL_SAID_COMPLICATION = {"name": "report_complication", "confidence": 0.95}
FELL_BACK = {"name": "nlu_fallback", "confidence": 0.7}
RANKING = [
    MODEL_SAID_COMPLICATION,
    {"name": "contraindications", "confidence": 0.03},
    {"name": "recovery", "confidence": 0.01},
    {"name": "safety", "confidence": 0.01},
]


@pytest.mark.parametrize(
    ("decision", "model", "acted_on"),
    [
        (Triage.REPORT, {"name": "recovery", "confidence": 0.99}, "report_complication"),
        (Triage.PERSONAL, {"name": "indications", "confidence": 0.99}, "personal_medical"),
        # A question about risk: the model may not raise the alarm, nor give up on it; the page's
        # answer on risk (safety or recovery, as the model ranks them) answers instead.
        (Triage.QUESTION, MODEL_SAID_COMPLICATION, "recovery"),
        (Triage.QUESTION, FELL_BACK, "recovery"),
        (Triage.QUESTION, {"name": "indications", "confidence": 0.9}, "indications"),
        # The rules know nothing: the model's escalation stands (the safe side), and so does its fallback.
        (None, MODEL_SAID_COMPLICATION, "report_complication"),
        (None, FELL_BACK, "nlu_fallback"),
        (None, {"name": "sessions", "confidence": 0.9}, "sessions"),
    ],
)
def test_what_the_assistant_acts_on(decision, model, acted_on):
    assert safe_intent(decision, model, RANKING)["name"] == acted_on


def test_a_risk_question_gets_the_safety_answer_when_the_model_ranks_no_risk_answer():
    assert safe_intent(Triage.QUESTION, MODEL_SAID_COMPLICATION, [MODEL_SAID_COMPLICATION])["name"] == "safety"


def test_routes():
    assert [_route(d) for d in (Triage.REPORT, Triage.PERSONAL, Triage.QUESTION, None)] == [
        URGENT,
        DERMATOLOGIST,
        NOT_ESCALATED,
        NOT_ESCALATED,
    ]
