"""The rule policy that makes only the recent dialogue states (bot/rule_policy.py) predicts as RulePolicy does."""

import pytest
from rasa.core.agent import Agent
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from bot import PROJECT_DIR
from bot.rule_policy import RecentTurnsRulePolicy

MODEL = PROJECT_DIR / "models" / "faq.tar.gz"
# Every conversation the project writes down, the consultation form's happy and unhappy paths among them.
CONVERSATIONS = [PROJECT_DIR / path for path in ("data/stories.yml", "data/rules.yml", "tests/test_stories.yml")]


@pytest.fixture(scope="module")
def policies() -> tuple[RecentTurnsRulePolicy, RulePolicy, Domain]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make train` first")
    agent = Agent.load(str(MODEL))
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    [ours] = [node._component for node in nodes if isinstance(node._component, RecentTurnsRulePolicy)]
    context = ExecutionContext(GraphSchema({}))
    upstream = RulePolicy(ours.config, ours._model_storage, ours._resource, context, ours.featurizer, ours.lookup)
    return ours, upstream, agent.domain


def long_conversation(domain: Domain) -> list:
    """All the written conversations one after another, three times over: one visitor's long chat."""
    reader = YAMLStoryReader(domain)
    steps = [step for path in CONVERSATIONS for step in reader.read_from_file(str(path))]
    events = [event for step in steps for event in step.explicit_events(domain)]
    return [ActionExecuted("action_session_start"), SessionStarted(), *events * 3]


def trackers_before_each_action(domain: Domain):
    events = long_conversation(domain)
    for end, event in enumerate(events):
        if isinstance(event, ActionExecuted) and end > 1:
            yield DialogueStateTracker.from_events("long", events[:end], domain.slots)


def test_every_turn_of_a_long_conversation_gets_rasas_prediction(policies):
    ours, upstream, domain = policies
    compared = 0
    for tracker in trackers_before_each_action(domain):
        mine = ours.predict_action_probabilities(tracker, domain)
        theirs = upstream.predict_action_probabilities(tracker, domain)
        assert (mine.probabilities, mine.events, mine.hide_rule_turn, mine.is_end_to_end_prediction) == (
            theirs.probabilities,
            theirs.events,
            theirs.hide_rule_turn,
            theirs.is_end_to_end_prediction,
        ), [event.as_story_string() for event in tracker.events][-6:]
        compared += 1
    assert compared > 1000


def test_only_the_states_the_rules_reach_are_made_and_they_are_rasas_own(policies):
    ours, upstream, domain = policies
    events = long_conversation(domain)
    tracker = DialogueStateTracker.from_events("long", events, domain.slots)
    recent = ours._prediction_states(tracker, domain)
    every = upstream._prediction_states(tracker, domain)
    assert len(recent) == ours._longest_rule() < len(every) / 10
    assert recent == every[-len(recent) :]
