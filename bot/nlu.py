"""A Rasa NLU component that applies the fixed safety rules of :mod:`bot.safety`.

It is the last component of the pipeline in ``config.yml``: when a rule fires,
its intent wins with full confidence over both the learned classifier and the
FallbackClassifier, so no model score can turn a complication into an FAQ
answer or into "the page doesn't cover that".
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.safety import triage


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyRules(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyRules:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = triage(message.get(TEXT) or "")
            if intent:
                decided = {"name": intent, "confidence": 1.0}
                ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get("name") != intent]
                message.set(INTENT, decided, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [decided, *ranking], add_to_output=True)
        return messages
