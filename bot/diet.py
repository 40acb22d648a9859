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

``config.yml`` names ``bot.diet.QuickLoadDIETClassifier`` with DIET's usual settings.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers import diet_classifier
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


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class QuickLoadDIETClassifier(diet_classifier.DIETClassifier):
    @staticmethod
    def model_class() -> type[RasaModel]:
        return _DIETForAnswering
