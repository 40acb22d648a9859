"""A Rasa NLU component that applies the fixed safety triage of :mod:`bot.safety`.

It is the last component of the pipeline in ``config.yml``, so its decision
stands over both the learned classifier and the FallbackClassifier:

- a complication report is ``report_complication`` with full confidence, so no
  model score can turn it into an FAQ answer or "the page doesn't cover that";
- a personal medical question is ``personal_medical`` likewise;
- a question about risk may not be escalated by the model: when the model said
  ``report_complication`` (or could not decide), the page's answer on risk
  answers instead: safety or recovery, whichever the model ranks higher;
- otherwise the model decides, and its ``report_complication`` stands: when
  the rules know nothing, erring on the safe side is right.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.decisions import FALLBACK
from bot.safety import REPORT_COMPLICATION, RULED_INTENTS, Triage, triage

# The page's answers to a question about risk: what can go wrong, and how long redness and swelling last.
RISK_ANSWERS = ("safety", "recovery")


def safe_intent(decision: Triage | None, intent: dict, ranking: list[dict]) -> dict:
    """The intent the assistant acts on, given the triage and what the model (and fallback) decided."""
    if decision in RULED_INTENTS:
        return {"name": RULED_INTENTS[decision], "confidence": 1.0}
    if decision is Triage.QUESTION and intent.get("name") in (REPORT_COMPLICATION, FALLBACK):
        risk_answer = next((entry["name"] for entry in ranking if entry.get("name") in RISK_ANSWERS), RISK_ANSWERS[0])
        return {"name": risk_answer, "confidence": 1.0}
    return intent


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
            intent = message.get(INTENT) or {}
            ranking = message.get(INTENT_RANKING_KEY) or []
            decided = safe_intent(triage(message.get(TEXT) or ""), intent, ranking)
            if decided != intent:
                others = [entry for entry in ranking if entry.get("name") != decided["name"]]
                message.set(INTENT, decided, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [decided, *others], add_to_output=True)
        return messages
