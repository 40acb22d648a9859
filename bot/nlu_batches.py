"""The messages that reach the Rasa server together are read by the NLU together.

Rasa 3.6 runs its NLU graph for one message at a time, although every NLU
component takes a list of messages (batch prediction was asked for upstream,
https://github.com/RasaHQ/rasa/issues/6654, and left out). Under load several visitors' messages are
waiting at once, and a component's fixed cost per run (the graph's own, each
featurizer's and classifier's call) is paid once for all of them. So a message
waits in :class:`BatchingMessageProcessor` until the event loop has handed over
every message that is ready, and then all of them go through the graph in one run; each visitor gets their own message's
reading, the one a run for it alone gives (tests/test_nlu_batches.py). A message
alone is read at once: waiting only lasts while other visitors' messages are
already on their way, or while the messages before them are being read.

The runs happen on one thread of their own, one at a time. Most of a run is the
sentence encoder's matrix products (bot/sentence_encoder.py), which let go of
Python's lock: meanwhile the event loop goes on with the other visitors' turns
(the tracker store, the policies, the action server), and their next messages
gather for the next run, which reads the encoder's weights once for all of them.

``rasa.core.agent`` builds its processor from the name ``MessageProcessor``;
:func:`install` puts :class:`BatchingMessageProcessor` under that name before
the Rasa server loads a model (Rasa 3.6 has no setting for the processor class).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import rasa.core.agent
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.graph import GraphSchema
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT


def reads_tracker(schema: GraphSchema, target: str) -> bool:
    """Whether any node the target depends on reads the conversation: then messages must be read one by one."""
    seen, waiting = {target}, [target]
    while waiting:
        for needed in schema.nodes[waiting.pop()].needs.values():
            if needed == PLACEHOLDER_TRACKER:
                return True
            if needed in schema.nodes and needed not in seen:
                seen.add(needed)
                waiting.append(needed)
    return False


# The NLU never reads the conversation (else there are no batches): the graph's tracker input is left empty.
_NO_CONVERSATION = DialogueStateTracker.from_events("", [])


@dataclass
class _Waiting:
    message: UserMessage
    only_output_properties: bool
    reading: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class BatchingMessageProcessor(MessageProcessor):
    """Rasa's processor, with its NLU run once for all the messages that are waiting together."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting: list[_Waiting] = []
        self._read: dict[int, dict[str, Any]] = {}
        self._batches = not reads_tracker(self.model_metadata.predict_schema, self.model_metadata.nlu_target)
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
        # Kept, or the event loop, which holds its tasks weakly, could drop it in the middle of a run.
        self._reading: asyncio.Task | None = None

    async def parse_message(
        self,
        message: UserMessage,
        tracker: DialogueStateTracker | None = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if self._batches and not self.http_interpreter:
            waiting = _Waiting(message, only_output_properties)
            self._waiting.append(waiting)
            if self._reading is None or self._reading.done():
                # Starts once every message that is ready now has been handed over and is waiting here too.
                self._reading = asyncio.get_running_loop().create_task(self._read_while_waiting())
            self._read[id(message)] = await waiting.reading
        return await super().parse_message(message, tracker, only_output_properties)

    def _parse_message_with_graph(
        self, message: UserMessage, tracker: DialogueStateTracker, only_output_properties: bool = True
    ) -> dict[str, Any]:
        read = self._read.pop(id(message), None)
        if read is not None:
            return read
        return self._parse_messages([message], tracker, only_output_properties)[0]

    async def _read_while_waiting(self) -> None:
        while self._waiting:
            waiting, self._waiting = self._waiting, []
            try:
                outcomes = await asyncio.get_running_loop().run_in_executor(self._reader, self._outcomes, waiting)
            except Exception as error:  # the thread itself failed: these turns fail, the next ones are read
                outcomes = [error] * len(waiting)
            # Futures are the event loop's: their results are set here, not on the reading thread.
            for item, outcome in zip(waiting, outcomes, strict=True):
                if item.reading.done():  # a visitor who left (a cancelled turn) waits no more
                    continue
                if isinstance(outcome, Exception):
                    item.reading.set_exception(outcome)
                else:
                    item.reading.set_result(outcome)

    def _outcomes(self, waiting: list[_Waiting]) -> list[dict[str, Any] | Exception]:
        """Each waiting message's reading, or the error its turn fails with; on the reading thread."""
        outcomes: dict[int, dict[str, Any] | Exception] = {}
        for only_output_properties in {item.only_output_properties for item in waiting}:
            group = [item for item in waiting if item.only_output_properties == only_output_properties]
            try:
                readings = self._parse_messages(
                    [item.message for item in group], _NO_CONVERSATION, only_output_properties
                )
            except Exception:  # read alone, a message that breaks the NLU fails its own turn only
                readings = [self._read_alone(item) for item in group]
            outcomes.update(zip(map(id, group), readings, strict=True))
        return [outcomes[id(item)] for item in waiting]

    def _read_alone(self, item: _Waiting) -> dict[str, Any] | Exception:
        try:
            return self._parse_messages([item.message], _NO_CONVERSATION, item.only_output_properties)[0]
        except Exception as error:  # the visitor's turn fails as it would without batches
            return error

    def _parse_messages(
        self, messages: list[UserMessage], tracker: DialogueStateTracker, only_output_properties: bool
    ) -> list[dict[str, Any]]:
        """Upstream's ``_parse_message_with_graph``, for several messages in one run of the graph."""
        results = self.graph_runner.run(
            inputs={PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker},
            targets=[self.model_metadata.nlu_target],
        )
        empty = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
        return [
            {**empty, **parsed.as_dict(only_output_properties=only_output_properties)}
            for parsed in results[self.model_metadata.nlu_target]
        ]


def install() -> None:
    """Every model the Rasa server loads from now on gets a batching processor."""
    rasa.core.agent.MessageProcessor = BatchingMessageProcessor  # type: ignore[misc]
