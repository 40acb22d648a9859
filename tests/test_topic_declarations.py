"""One topic, one declaration: the Rasa files follow bot.topics.TOPICS, and drift is caught where it is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from bot import PROJECT_DIR
from bot.cli import main
from bot.topic_declarations import BEGIN, BLOCKS, END, TOPIC_EXAMPLES, declaration_errors, generated, write
from bot.topics import TOPICS

WITH_PRICES = (*TOPICS, "prices")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the files that declare topics, for a test to edit."""
    for relative in (*(block.path for block in BLOCKS), TOPIC_EXAMPLES):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / relative, tmp_path / relative)
    return tmp_path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.strip() == text)


def story_steps(rule) -> list[str]:
    return [event.as_story_string() for event in rule.events]


def test_the_committed_rasa_files_are_what_the_generator_writes():
    for block in BLOCKS:
        assert (PROJECT_DIR / block.path).read_text() == generated(block), f"run `python -m bot topics` ({block.path})"
    assert declaration_errors() == []


def test_the_domain_and_rules_rasa_loads_have_one_intent_and_one_rule_per_topic():
    domain = Domain.from_path(PROJECT_DIR / "domain.yml")
    assert set(TOPICS) < set(domain.intents)
    rules = YAMLStoryReader(domain).read_from_file(PROJECT_DIR / "data" / "rules.yml")
    # A rule reads "..." (any history), then the intent, then the action.
    answered = {steps[1] for steps in map(story_steps, rules) if steps[2:] == ["action_answer_topic"]}
    assert answered == {*TOPICS, "choose_procedure"}


def test_a_topic_added_only_to_topics_is_reported_in_every_file_with_the_fix(project: Path):
    errors = [str(error) for error in declaration_errors(project, WITH_PRICES)]

    domain, rules, examples = project / "domain.yml", project / "data" / "rules.yml", project / TOPIC_EXAMPLES
    assert errors[0].startswith(f"{domain}:{line_of(domain, END)}: ") and "missing prices" in errors[0]
    assert errors[1].startswith(f"{rules}:{line_of(rules, END)}: ") and "missing prices" in errors[1]
    assert all("run `python -m bot topics`" in error for error in errors[:2])
    assert errors[2].startswith(f"{examples}:") and "topic 'prices' has no training examples" in errors[2]
    assert len(errors) == 3


def test_the_generator_declares_a_new_topic_the_way_rasa_reads_it(project: Path):
    assert write(project, WITH_PRICES) == [project / "domain.yml", project / "data" / "rules.yml"]
    assert write(project, WITH_PRICES) == []  # a second run changes nothing

    domain = Domain.from_path(project / "domain.yml")
    assert "prices" in domain.intents and "report_complication" in domain.intents  # hand-written intents stay
    rules = YAMLStoryReader(domain).read_from_file(project / "data" / "rules.yml")
    prices = next(rule for rule in rules if rule.block_name == "answer prices from the page")
    assert story_steps(prices) == ["...", "prices", "action_answer_topic"]
    assert any(rule.block_name == "say hello" for rule in rules)
    # Only what cannot be generated is left: the examples a person writes.
    assert [error.problem for error in declaration_errors(project, WITH_PRICES)] == [
        "topic 'prices' has no training examples, so the model can never recognise it"
    ]


def test_a_topic_removed_from_topics_is_reported_where_it_is_still_declared(project: Path):
    errors = [str(error) for error in declaration_errors(project, TOPICS[:-1])]

    examples = project / TOPIC_EXAMPLES
    assert sum("not in TOPICS: consultation" in error for error in errors) == 2
    assert (
        f"{examples}:{line_of(examples, '- intent: consultation')}: 'consultation' is trained as a topic" in errors[2]
    )


def test_a_hand_edit_inside_the_generated_block_is_reported_at_its_line(project: Path):
    domain = project / "domain.yml"
    domain.write_text(domain.read_text().replace("  - pain\n", "  - pain\n  - prices\n"))

    (error,) = declaration_errors(project)
    assert error.path == domain and error.line == line_of(domain, "- prices")
    assert "not in TOPICS: prices" in error.problem


def test_lost_markers_are_reported_with_the_lines_to_put_back(project: Path):
    rules = project / "data" / "rules.yml"
    rules.write_text(rules.read_text().replace(BEGIN + "\n", ""))

    (error,) = declaration_errors(project)
    assert error.path == rules and "markers" in error.problem and BEGIN in error.fix


def test_bot_check_fails_when_a_topic_is_declared_only_in_topics(content_copy, capsys, monkeypatch):
    monkeypatch.setattr("bot.checks.TOPICS", WITH_PRICES)

    assert main(["check", str(content_copy)]) == 1
    said = capsys.readouterr().out
    assert f"{PROJECT_DIR / 'domain.yml'}:" in said and "missing prices" in said


def test_a_topic_no_page_maps_is_a_warning(content_copy, capsys):
    mapping = content_copy / "procedures" / "laser-pigment-removal.topics.yml"
    text = mapping.read_text()
    mapping.write_text(text[: text.index("consultation:")])

    assert main(["check", str(content_copy)]) == 0
    assert "no page maps the topic 'consultation'" in capsys.readouterr().out
