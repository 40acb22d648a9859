"""``bot report unanswered`` on conversations built from Rasa's own events, and its error messages."""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from rasa.shared.core.events import ActionExecuted, Event, UserUttered

from bot import PROJECT_DIR
from bot.report import Asked, format_text, group, parse_since, similar, spreadsheet_cell, unanswered, write_csv


def turn(text: str, intent: str, confidence: float, action: str, at: float) -> list[Event]:
    return [
        UserUttered(text, {"name": intent, "confidence": confidence}, timestamp=at),
        ActionExecuted(action, timestamp=at + 0.1),
        ActionExecuted("action_listen", timestamp=at + 0.2),
    ]


def test_fallbacks_and_unsure_answers_are_reported_newest_first():
    conversation = [
        *turn("how much is it", "out_of_scope", 0.98, "action_honest_fallback", 100),
        *turn("how many sessions?", "sessions", 0.99, "action_answer_topic", 200),
        *turn("what about my tan", "nlu_fallback", 0.6, "action_honest_fallback", 300),
        *turn("is the laser sore", "pain", 0.65, "action_answer_topic", 400),
        *turn("too old to count", "out_of_scope", 0.9, "action_honest_fallback", 10),
    ]
    found = unanswered([conversation], since=50, below=0.7)
    assert [(asked.text, asked.why) for asked in found] == [
        ("is the laser sore", "low confidence (pain 0.65)"),
        ("what about my tan", "fell back"),
        ("how much is it", "fell back"),
    ]


def test_every_action_of_a_turn_counts():
    # Rasa may log more than one action before listening again; a fallback among them counts.
    conversation = [
        UserUttered("does it hurt on this page?", {"name": "pain", "confidence": 0.97}, timestamp=100),
        ActionExecuted("action_extract_slots", timestamp=100.1),
        ActionExecuted("action_answer_topic", timestamp=100.2),
        ActionExecuted("action_honest_fallback", timestamp=100.3),
        ActionExecuted("action_listen", timestamp=100.4),
    ]
    found = unanswered([conversation], since=50, below=0.7)
    assert [(asked.text, asked.why) for asked in found] == [("does it hurt on this page?", "fell back")]


def test_near_duplicates_are_merged_and_counted():
    conversation = [
        *turn("How much does it cost??", "out_of_scope", 0.9, "action_honest_fallback", 100),
        *turn("the clinic, where is it?", "out_of_scope", 0.9, "action_honest_fallback", 200),
        *turn("how much does it cost", "out_of_scope", 0.9, "action_honest_fallback", 300),
        *turn("where is the clinic", "out_of_scope", 0.9, "action_honest_fallback", 400),
    ]
    groups = group(unanswered([conversation], since=0, below=0.7))
    assert [(item.newest.text, len(item.messages), item.other_wordings()) for item in groups] == [
        ("where is the clinic", 2, ["the clinic, where is it?"]),
        ("how much does it cost", 2, []),
    ]


def test_different_questions_stay_apart():
    assert not similar("how much does it cost", "how much does it hurt")


@pytest.mark.parametrize(
    ("text", "span"), [("12h", timedelta(hours=12)), ("7d", timedelta(days=7)), ("2w", timedelta(weeks=2))]
)
def test_since_takes_hours_days_and_weeks(text: str, span: timedelta):
    assert parse_since(text) == span


def test_since_rejects_other_periods():
    with pytest.raises(argparse.ArgumentTypeError, match="12h, 7d or 2w"):
        parse_since("3 months")


def report(tracker_db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "report", "unanswered"],
        cwd=PROJECT_DIR,
        timeout=120,
        capture_output=True,
        text=True,
        env={**os.environ, "TRACKER_DB": str(tracker_db)},
    )


def test_a_missing_database_is_explained_without_a_traceback(tmp_path: Path):
    result = report(tmp_path / "tracker.db")
    assert result.returncode == 2
    assert f"No conversations database at {tmp_path / 'tracker.db'}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "tracker.db").exists()


def test_a_file_that_is_not_a_database_is_explained_without_a_traceback(tmp_path: Path):
    (tmp_path / "tracker.db").write_text("these are notes, not conversations")
    result = report(tmp_path / "tracker.db")
    assert result.returncode == 2
    assert "Cannot read the conversations in" in result.stderr and "file is not a database" in result.stderr
    assert "Traceback" not in result.stderr


def asked(text: str, at: float) -> Asked:
    return Asked(text, at, "nlu_fallback", 0.7, True)


HUGE = "why " * 1_250_000  # 5 MB, pasted by a visitor
FORMULAS = ['=HYPERLINK("http://x.example","click")', "+1 555 0100", "-2+3", "@SUM(A1)", "\t=1+1", "\r\n@A1"]


@pytest.mark.parametrize("output", ["text", "csv"])
def test_a_huge_message_is_shortened_in_the_report(output: str):
    groups = group([asked(HUGE, 1_000)])
    if output == "csv":
        stream = io.StringIO()
        write_csv(groups, stream)
        printed = stream.getvalue()
    else:
        printed = format_text(groups, 0, 1)
    assert len(printed) < 1_000
    assert ("why " * 40).strip() + "…" in printed


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted():
    groups = group([asked(text, 1_000 + number * 86_400) for number, text in enumerate(FORMULAS)])
    stream = io.StringIO()
    write_csv(groups, stream)
    questions = [row["question"] for row in csv.DictReader(io.StringIO(stream.getvalue()))]
    assert len(questions) == len(FORMULAS)
    assert all(question.startswith("'") for question in questions), questions
    assert '\'=HYPERLINK("http://x.example","click")' in questions


@pytest.mark.parametrize("cell", ["=1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_a_cell_starting_with_a_formula_character_is_quoted(cell: str):
    assert spreadsheet_cell(cell) == "'" + cell


def test_ordinary_questions_are_not_quoted_in_the_csv():
    stream = io.StringIO()
    write_csv(group([asked("how much does it cost?", 1_000)]), stream)
    assert [row["question"] for row in csv.DictReader(io.StringIO(stream.getvalue()))] == ["how much does it cost?"]
