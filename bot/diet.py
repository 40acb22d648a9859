"""Rasa's DIETClassifier, loaded for answering only: no training step when the Rasa server starts.

To load a trained DIET model, Rasa 3.6 first trains a new one on one example
("need to train on 1 example to build weights of the correct size",
``RasaModel.load`` in rasa/utils/tensorflow/models.py). That traces the whole
training graph, the entity CRF's loss and every gradient included, and creates
the optimizer's state: 24 s of the Rasa server's 29 s start on a quiet 2-core
machine, and 530 MB it then holds for nothing.

Answering needs only the prediction graph. One eager prediction builds every
weight it reads; the trained values are then read into them from the
checkpoint (the optimizer's state there is left unread), and a load fails
unless every weight was found. Only then is the prediction graph traced. The
answers are Rasa's own, to the last digit (tests/test_diet.py). Training and
fine-tuning are upstream's, unchanged.

The prediction graph is traced without AutoGraph. ``tf.function``'s AutoGraph
first rewrites the source of every Python function the prediction calls (68 for
DIET) into graph code: 2 s of the 4.5 s load. DIET's prediction branches only on
Python values, never on a tensor's value, so plain tracing builds the same graph
(a branch on a tensor would fail the load, not change an answer).

Several messages handed over at once (:mod:`bot.nlu_batches` hands over the
messages that arrive together) are read in one prediction. Upstream predicts
them one by one, and most of a prediction is the same for one message or four:
10.0 ms for one, 11.5 ms for four, 17.2 ms for eight. Each message gets
upstream's intents and entities, the scores within 1e-5 (tests/test_nlu_batches.py).

``config.yml`` names ``bot.diet.QuickLoadDIETClassifier`` with DIET's usual settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers import diet_classifier
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


class _DIETForAnswering(diet_classifier.DIET):
    @classmethod
    def load(
        cls,
        model_file_name: str,
        model_data_example: RasaModelData,
        predict_data_example: RasaModelData | None = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        if finetune_mode or predict_data_example is None:
            upstream = super().load
            return upstream(model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)
        model = cls(*args, **kwargs)
        # One eager prediction (Rasa's `_rasa_predict` reads keras' `_run_eagerly`) builds the weights untraced.
        run_eagerly = model._run_eagerly
        model.run_eagerly = True
        model.run_inference(predict_data_example)
        model.run_eagerly = run_eagerly
        restored = model.load_weights(model_file_name)
        restored.assert_existing_objects_matched()
        restored.expect_partial()
        # That prediction computed the labels' embeddings from the untrained weights; the next one traces the graph.
        model.prepared_for_prediction = False
        model.run_inference(predict_data_example)
        return model

    def _rasa_predict(self, batch_in: tuple[Any, ...]) -> dict[str, Any]:
        # Upstream's own tf.function, as `RasaModel._rasa_predict` makes it, without AutoGraph (see above).
        if self._tf_predict_step is None and not self._run_eagerly:
            self._tf_predict_step = tf.function(
                self.predict_step, input_signature=self._dynamic_signature(batch_in), autograph=False
            )
        return super()._rasa_predict(batch_in)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class QuickLoadDIETClassifier(diet_classifier.DIETClassifier):
    # The outputs of the prediction `process` made for all its messages, by message, while it hands them out.
    _predicted_together: Mapping[int, dict[str, Any]] = MappingProxyType({})

    @staticmethod
    def model_class() -> type[RasaModel]:
        return _DIETForAnswering

    def process(self, messages: list[Message]) -> list[Message]:
        self._predicted_together = self._predict_together(messages)
        try:
            return super().process(messages)
        finally:
            self._predicted_together = MappingProxyType({})

    def _predict(self, message: Message) -> dict[str, Any] | None:
        if id(message) in self._predicted_together:
            return self._predicted_together[id(message)]
        return super()._predict(message)

    def _predict_together(self, messages: list[Message]) -> dict[int, dict[str, Any]]:
        """One prediction for all ``messages``, cut into each one's output; none when upstream's way is needed."""
        # Diagnostic data (rasa test, rasa interactive) has a layout per output: read those one by one.
        if len(messages) < 2 or self.model is None or self._execution_context.should_add_diagnostic_data:
            return {}
        model_data = self._create_model_data(messages, training=False)
        if model_data.is_empty() or model_data.number_of_examples() != len(messages):
            return {}
        outputs = self.model.run_inference(model_data, batch_size=len(messages))
        return {id(message): _row(outputs, index) for index, message in enumerate(messages)}


def _row(outputs: dict[str, Any], index: int) -> dict[str, Any]:
    """One message's output of a prediction made for several, shaped as upstream's prediction for it alone.

    Diagnostic data, laid out otherwise, is left out: the batches are never made when it is asked for.
    """
    return {key: value[index : index + 1] for key, value in outputs.items() if key != DIAGNOSTIC_DATA}
