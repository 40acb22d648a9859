"""Messages that arrive together are read in one run of the NLU, each as it would be read alone (bot/nlu_batches.py)."""

import asyncio
from pathlib import Path

import pytest
import rasa.core.agent
import yaml
from rasa.core.agent import Agent

from bot import PROJECT_DIR
from bot.nlu_batches import BatchingMessageProcessor, install, reads_tracker

MODEL = PROJECT_DIR / "models" / "faq.tar.gz"
# Varied real phrasings, typos and entities among them: the held-out questions are only read here.
QUESTIONS = [item["text"] for item in yaml.safe_load(Path(PROJECT_DIR / "tests/evaluation/questions.yml").read_text())]


def reading(parsed: dict) -> tuple:
    return (
        parsed["intent"]["name"],
        [ranked["name"] for ranked in parsed["intent_ranking"]],
        sorted((entity["entity"], entity["start"], entity["end"], entity["value"]) for entity in parsed["entities"]),
    )


def confidences(parsed: dict) -> list[float]:
    return [ranked["confidence"] for ranked in parsed["intent_ranking"]]


@pytest.fixture(scope="module")
def agent() -> Agent:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make train` first")
    with pytest.MonkeyPatch.context() as patch:
        # Remembered so that the other test modules get Rasa's own processor back.
        patch.setattr(rasa.core.agent, "MessageProcessor", rasa.core.agent.MessageProcessor)
        install()  # as the REST channel installs it on the Rasa server
        loaded = Agent.load(str(MODEL))
    assert isinstance(loaded.processor, BatchingMessageProcessor)
    return loaded


@pytest.fixture
def graph_runs(agent, monkeypatch) -> list[int]:
    """How many messages each run of the graph read."""
    runs: list[int] = []
    run = agent.processor.graph_runner.run

    def counted(inputs, targets=None):
        runs.append(len(inputs["__message__"]))
        return run(inputs, targets)

    monkeypatch.setattr(agent.processor.graph_runner, "run", counted)
    return runs


def one_by_one(agent: Agent, texts: list[str]) -> list[dict]:
    async def each() -> list[dict]:
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(each())


def together(agent: Agent, texts: list[str]) -> list[dict]:
    async def at_once() -> list[dict]:
        return await asyncio.gather(*(agent.parse_message(text) for text in texts))

    return asyncio.run(at_once())


def test_messages_waiting_together_are_read_in_one_run(agent, graph_runs):
    together(agent, QUESTIONS[:8])
    assert graph_runs == [8]


def test_a_message_alone_is_read_at_once_by_itself(agent, graph_runs):
    one_by_one(agent, QUESTIONS[:3])
    assert graph_runs == [1, 1, 1]


def test_each_message_read_together_gets_the_reading_it_gets_alone(agent):
    texts = QUESTIONS[::3]
    alone = one_by_one(agent, texts)
    read_together = [
        parsed for start in range(0, len(texts), 8) for parsed in together(agent, texts[start : start + 8])
    ]
    assert [parsed["text"] for parsed in read_together] == texts
    assert [reading(parsed) for parsed in read_together] == [reading(parsed) for parsed in alone]
    # Several messages in one matrix product round differently in the last digits, never more.
    for batched, single in zip(read_together, alone, strict=True):
        assert confidences(batched) == pytest.approx(confidences(single), abs=1e-5)
    assert len({parsed["intent"]["name"] for parsed in alone}) > 10  # real readings, not a constant


def test_a_message_that_breaks_the_nlu_fails_its_own_turn_only(agent, monkeypatch):
    run = agent.processor.graph_runner.run

    def breaks_on_one(inputs, targets=None):
        if any("BREAKS" in message.text for message in inputs["__message__"]):
            raise ValueError("this message breaks the NLU")
        return run(inputs, targets)

    monkeypatch.setattr(agent.processor.graph_runner, "run", breaks_on_one)

    async def at_once() -> list:
        texts = ["how many sessions will i need", "this one BREAKS it", "does it hurt"]
        return await asyncio.gather(*(agent.parse_message(text) for text in texts), return_exceptions=True)

    first, broken, last = asyncio.run(at_once())
    assert isinstance(broken, ValueError)
    assert (first["intent"]["name"], last["intent"]["name"]) == ("sessions", "pain")


def test_a_turn_cancelled_while_waiting_leaves_the_others_their_readings(agent):
    async def one_leaves() -> tuple:
        leaving = asyncio.ensure_future(agent.parse_message("how many sessions will i need"))
        staying = asyncio.ensure_future(agent.parse_message("does it hurt"))
        await asyncio.sleep(0)  # both are waiting for the batch now, the one that leaves first
        leaving.cancel()
        return await asyncio.wait_for(staying, timeout=60), await asyncio.gather(leaving, return_exceptions=True)

    staying, (left,) = asyncio.run(one_leaves())
    assert staying["intent"]["name"] == "pain"
    assert isinstance(left, asyncio.CancelledError)


def test_the_nlu_never_reads_the_conversation_but_the_policies_do(agent):
    metadata = agent.processor.model_metadata
    assert not reads_tracker(metadata.predict_schema, metadata.nlu_target)
    assert reads_tracker(metadata.predict_schema, metadata.core_target)
