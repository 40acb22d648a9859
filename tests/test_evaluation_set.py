"""Our evaluation questions stay apart from the training data, or the figures mean nothing."""

from __future__ import annotations

import re
from collections import Counter

import yaml

from bot import PROJECT_DIR
from bot.topics import TOPICS

# How a topic or verdict question is put; scripts/evaluate.py prints a table by style.
STYLES = {"question", "worry", "statement", "other_words", "timing"}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", _ANNOTATION.sub(r"\1", text).casefold()).split())


def training_examples() -> dict[str, str]:
    examples = {}
    for path in (PROJECT_DIR / "data" / "nlu").glob("*.yml"):
        for entry in yaml.safe_load(path.read_text())["nlu"]:
            if "intent" in entry:
                for line in entry["examples"].splitlines():
                    if line.strip().startswith("- "):
                        examples[normalise(line.strip()[2:])] = entry["intent"]
    return examples


def evaluation() -> list[dict]:
    return yaml.safe_load((PROJECT_DIR / "tests" / "evaluation" / "questions.yml").read_text())


def test_no_evaluation_question_is_in_the_training_data():
    training = training_examples()
    overlap = [q["text"] for q in evaluation() if normalise(q["text"]) in training]
    assert overlap == []


def test_no_training_example_is_copied_between_intents():
    seen: Counter = Counter()
    for path in (PROJECT_DIR / "data" / "nlu").glob("*.yml"):
        for entry in yaml.safe_load(path.read_text())["nlu"]:
            for line in entry.get("examples", "").splitlines() if "intent" in entry else ():
                seen[normalise(line.strip()[2:])] += 1
    assert [text for text, count in seen.items() if count > 1] == []


def test_evaluation_set_covers_every_topic_and_kind():
    questions = evaluation()
    assert len(questions) >= 150
    intents = Counter(q["intent"] for q in questions)
    assert all(intents[topic] >= 9 for topic in TOPICS)
    assert {q["kind"] for q in questions} >= {"topic", "verdict", "out_of_scope", "red_flag", "personal_medical"}


def test_only_topic_and_verdict_questions_have_a_known_style():
    styled = [q for q in evaluation() if "style" in q]
    assert {q["style"] for q in styled} <= STYLES
    assert {q["kind"] for q in styled} <= {"topic", "verdict"}
    assert {q["style"] for q in styled} >= STYLES - {"question"}  # every kind of miss has questions of its own


def test_each_topic_intent_has_at_least_25_examples():
    counts = Counter()
    for path in (PROJECT_DIR / "data" / "nlu").glob("*.yml"):
        for entry in yaml.safe_load(path.read_text())["nlu"]:
            if "intent" in entry:
                counts[entry["intent"]] += sum(line.strip().startswith("- ") for line in entry["examples"].splitlines())
    assert all(counts[topic] >= 25 for topic in TOPICS), counts


def conversations() -> list[dict]:
    return yaml.safe_load((PROJECT_DIR / "tests" / "evaluation" / "conversations.yml").read_text())


def test_no_turn_of_the_held_out_conversations_is_in_the_training_data():
    training = training_examples()
    assert [turn for item in conversations() for turn in item["turns"] if normalise(turn) in training] == []


def test_held_out_conversations_expect_topics_of_the_page_for_both_kinds():
    items = conversations()
    assert {item["kind"] for item in items} == {"followup", "two_questions"}
    assert all(set(item["topics"]) <= set(TOPICS) for item in items)
    assert all(len(item["turns"]) >= 2 for item in items if item["kind"] == "followup")
    assert sum(item["kind"] == "two_questions" for item in items) >= 15
    assert sum(item["kind"] == "followup" for item in items) >= 20
