"""Rasa's logistic regression intent classifier, on TF-IDF weighted features.

Rasa's ``LogisticRegressionClassifier`` fits the featurizers' raw counts, all
in one row: a character n-gram that half the examples share ("the", "ow ")
counts as much as the one that tells "pain" from "price", and the thousands of
character n-grams outweigh the few words. Here each featurizer's counts are
weighted the way a search engine weighs words, apart from the others': the
logarithm of how often a feature occurs in the message, times how rare it is
across the training examples, scaled to unit length (scikit-learn's
``TfidfTransformer``, fitted on the training examples), times the weight
``featurizer_weights`` gives that featurizer (1 unless named). A dense sentence
feature (the message's meaning, bot/sentence_embedding_featurizer.py) joins the
row as it comes, at unit length, times its weight. ``C`` is the inverse
strength of the regularisation (upstream: scikit-learn's 1.0). Every intent
weighs as its examples do: upstream's balanced class weights raise the many
small intents over ``out_of_scope``, the largest, and let more out-of-scope
questions through.

Training takes seconds where DIET took minutes, and the held-out questions come
out as well or better (README, "Performance" and "Evaluation"). Entities come
from the lookup tables and ``CRFEntityExtractor``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.feature_extraction.text import TfidfTransformer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfLogisticRegressionClassifier(LogisticRegressionClassifier):
    """``LogisticRegressionClassifier`` on each featurizer's TF-IDF weighted counts, ``C`` in the config."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # featurizer_weights: a featurizer's alias (or node name) → how much its part weighs (1 if not named).
        defaults = LogisticRegressionClassifier.get_default_config()
        return {**defaults, "C": 10.0, "max_iter": 2000, "featurizer_weights": {}}

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=self.config["C"], class_weight=None)
        self._featurizers: list[str] = []
        self._tfidf: list[TfidfTransformer] = []
        self._dense_featurizers: list[str] = []

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        self._featurizers = _sentence_featurizers(examples, sparse=True)
        self._dense_featurizers = _sentence_featurizers(examples, sparse=False)
        counts = [_sentence_counts(examples, featurizer) for featurizer in self._featurizers]
        self._tfidf = [TfidfTransformer(sublinear_tf=True).fit(block) for block in counts]
        self.clf.fit(self._weighted(counts, examples), [e.get(INTENT) for e in examples])
        self.persist()
        return self._resource

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """Called by upstream's ``process``: the messages' features as the classifier was trained on them."""
        counts = [
            _sentence_counts(messages, featurizer, width=tfidf.n_features_in_)
            for featurizer, tfidf in zip(self._featurizers, self._tfidf, strict=True)
        ]
        return self._weighted(counts, messages)

    def _weighted(self, counts: list[csr_matrix], messages: list[Message]) -> csr_matrix:
        weight = self.config["featurizer_weights"]
        parts = zip(self._featurizers, self._tfidf, counts, strict=True)
        sparse = [weight.get(name, 1.0) * tfidf.transform(block) for name, tfidf, block in parts]
        dense = [weight.get(name, 1.0) * _sentence_vectors(messages, name) for name in self._dense_featurizers]
        return hstack(sparse + dense).tocsr()

    def persist(self) -> None:
        """The fitted numbers as plain arrays. Upstream saves with skops, whose import alone walks every
        scikit-learn estimator (6.6 s of the Rasa server's start on this machine); arrays need no trust list."""
        arrays = {f"idf_{index}": tfidf.idf_ for index, tfidf in enumerate(self._tfidf)}
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(
                model_dir / f"{self._resource.name}.npz",
                featurizers=np.array(self._featurizers, dtype=str),
                dense_featurizers=np.array(self._dense_featurizers, dtype=str),
                classes=self.clf.classes_.astype(str),
                coef=self.clf.coef_,
                intercept=self.clf.intercept_,
                **arrays,
            )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogisticRegressionClassifier:
        # Upstream's load answers a file it cannot read with an untrained classifier, which fails at the
        # first message; here the Rasa server does not start instead. No pickles: a model file runs no code.
        component = cls(config, execution_context.node_name, model_storage, resource)
        with (
            model_storage.read_from(resource) as model_dir,
            np.load(model_dir / f"{resource.name}.npz", allow_pickle=False) as saved,
        ):
            featurizers = [str(name) for name in saved["featurizers"]]
            component._tfidf = [_fitted_tfidf(saved[f"idf_{index}"]) for index in range(len(featurizers))]
            component._featurizers = featurizers
            component._dense_featurizers = [str(name) for name in saved["dense_featurizers"]]
            component.clf.classes_, component.clf.coef_ = saved["classes"], saved["coef"]
            component.clf.intercept_ = saved["intercept"]
        component.clf.n_features_in_ = component.clf.coef_.shape[1]
        return component


def _fitted_tfidf(idf: np.ndarray) -> TfidfTransformer:
    tfidf = TfidfTransformer(sublinear_tf=True)
    tfidf.idf_ = idf
    tfidf.n_features_in_ = idf.shape[0]
    return tfidf


def _sentence_featurizers(examples: list[Message], sparse: bool) -> list[str]:
    return sorted(
        {
            feature.origin
            for example in examples
            for feature in example.features
            if feature.attribute == TEXT and feature.is_sparse() == sparse and feature.type == FEATURE_TYPE_SENTENCE
        }
    )


def _sentence_vectors(messages: list[Message], featurizer: str) -> csr_matrix:
    """One dense featurizer's sentence vector of each message, a row each."""
    return csr_matrix(np.vstack([message.get_dense_features(TEXT, [featurizer])[1].features for message in messages]))


def _sentence_counts(messages: list[Message], featurizer: str, width: int | None = None) -> csr_matrix:
    """One featurizer's sentence features of each message, a row each (zeros where it gave none)."""
    rows = []
    for message in messages:
        sentence = message.get_sparse_features(TEXT, [featurizer])[1]
        rows.append(csr_matrix(sentence.features) if sentence else csr_matrix((1, width)))
    return vstack(rows).tocsr()
