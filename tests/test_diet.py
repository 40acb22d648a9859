"""The trained model, loaded without Rasa's training step (bot/diet.py), reads messages as Rasa's own loading does."""

import asyncio
from pathlib import Path

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.nlu.classifiers import diet_classifier

from bot import PROJECT_DIR
from bot.diet import QuickLoadDIETClassifier

MODEL = PROJECT_DIR / "models" / "faq.tar.gz"
# Varied real phrasings: the held-out questions are only read here, never trained on.
QUESTIONS = [item["text"] for item in yaml.safe_load(Path(PROJECT_DIR / "tests/evaluation/questions.yml").read_text())]


def readings(agent: Agent) -> list[tuple]:
    async def parse_all() -> list[dict]:
        return [await agent.parse_message(text) for text in QUESTIONS[::4]]

    return [
        (
            parsed["intent"]["name"],
            [(ranked["name"], round(ranked["confidence"], 6)) for ranked in parsed["intent_ranking"]],
            sorted(
                (entity["entity"], entity["start"], entity["end"], entity["value"]) for entity in parsed["entities"]
            ),
        )
        for parsed in asyncio.run(parse_all())
    ]


@pytest.fixture(scope="module")
def quick_and_upstream() -> tuple[list[tuple], list[tuple]]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make train` first")
    quick = readings(Agent.load(str(MODEL)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QuickLoadDIETClassifier, "model_class", staticmethod(lambda: diet_classifier.DIET))
        upstream = readings(Agent.load(str(MODEL)))
    return quick, upstream


def test_every_message_gets_the_same_intents_scores_and_entities(quick_and_upstream):
    quick, upstream = quick_and_upstream
    assert len(quick) > 50
    assert quick == upstream


def test_the_model_reads_real_questions_not_a_constant(quick_and_upstream):
    quick, _ = quick_and_upstream
    assert len({intent for intent, _, _ in quick}) > 10
    assert any(entities for _, _, entities in quick)
