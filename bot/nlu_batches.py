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
already on their way.

``rasa.core.agent`` builds its processor from the name ``MessageProcessor``;
:func:`install` puts :class:`BatchingMessageProcessor` under that name before
the Rasa server loads a model (Rasa 3.6 has no setting for the processor class).
"""

from __future__ import annotations

import asyncio
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

    async def parse_message(
        self,
        message: UserMessage,
        tracker: DialogueStateTracker | None = None,
        only_output_properties: bool = True,
    ) -> dict[str, Any]:
        if self._batches and not self.http_interpreter:
            waiting = _Waiting(message, only_output_properties)
            self._waiting.append(waiting)
            if len(self._waiting) == 1:
                # Runs once every message that is ready now has been handed over and is waiting here too.
                asyncio.get_running_loop().call_soon(self._read_waiting)
            self._read[id(message)] = await waiting.reading
        return await super().parse_message(message, tracker, only_output_properties)

    def _parse_message_with_graph(
        self, message: UserMessage, tracker: DialogueStateTracker, only_output_properties: bool = True
    ) -> dict[str, Any]:
        read = self._read.pop(id(message), None)
        if read is not None:
            return read
        return self._parse_messages([message], tracker, only_output_properties)[0]

    def _read_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for only_output_properties in {item.only_output_properties for item in waiting}:
            group = [item for item in waiting if item.only_output_properties == only_output_properties]
            try:
                readings = self._parse_messages(
                    [item.message for item in group], _NO_CONVERSATION, only_output_properties
                )
            except Exception:  # read alone, a message that breaks the NLU fails its own turn only
                for item in group:
                    self._read_alone(item)
            else:
                for item, reading in zip(group, readings, strict=True):
                    if not item.reading.done():  # a visitor who left (a cancelled turn) waits no more
                        item.reading.set_result(reading)

    def _read_alone(self, item: _Waiting) -> None:
        if item.reading.done():
            return
        try:
            item.reading.set_result(
                self._parse_messages([item.message], _NO_CONVERSATION, item.only_output_properties)[0]
            )
        except Exception as error:  # the visitor's turn fails as it would without batches
            item.reading.set_exception(error)

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
