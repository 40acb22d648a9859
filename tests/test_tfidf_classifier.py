"""The intent classifier (bot/tfidf_classifier.py): each featurizer's counts weighed apart and by its weight,
a message's meaning beside them at its own weight, saved and read back as trained, and a saved file that holds a
type it does not name refuses to load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.sentence_embedding_featurizer import SentenceEmbeddingFeaturizer
from bot.tfidf_classifier import TfidfLogisticRegressionClassifier

EXAMPLES = {
    "pain": ["does it hurt", "is the laser painful", "how much pain is there", "will it sting"],
    "price": ["how much does it cost", "what is the price", "how much do i pay", "is it expensive"],
    "sessions": ["how many sessions do i need", "how many visits", "how many times do i come", "one session enough"],
}


@pytest.fixture
def pipeline(tmp_path: Path):
    storage = LocalModelStorage(tmp_path)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizers = [
        CountVectorsFeaturizer.create(
            {**CountVectorsFeaturizer.get_default_config(), **config},
            storage,
            Resource(name),
            ExecutionContext(GraphSchema({}), node_name=name),  # the node's name tells its features apart
        )
        for name, config in (("words", {}), ("characters", {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4}))
    ]
    meaning = SentenceEmbeddingFeaturizer.create(
        SentenceEmbeddingFeaturizer.get_default_config(),
        storage,
        Resource("meaning"),
        ExecutionContext(GraphSchema({}), node_name="meaning"),
    )

    def featurized(messages: list[Message], training: bool) -> list[Message]:
        data = TrainingData(messages)
        tokenizer.process_training_data(data)
        for featurizer in featurizers:
            if training:
                featurizer.train(data)
            featurizer.process_training_data(data)
        meaning.process_training_data(data)
        return messages

    def classifier(name: str = "intents", **config) -> TfidfLogisticRegressionClassifier:
        return TfidfLogisticRegressionClassifier.create(
            {**TfidfLogisticRegressionClassifier.get_default_config(), **config},
            storage,
            Resource(name),
            ExecutionContext(GraphSchema({}), node_name=name),
        )

    training = featurized(
        [Message.build(text, intent) for intent, texts in EXAMPLES.items() for text in texts], training=True
    )
    return storage, featurized, classifier, TrainingData(training)


def read(classifier: TfidfLogisticRegressionClassifier, featurized, texts: list[str]) -> list[dict]:
    messages = featurized([Message.build(text) for text in texts], training=False)
    return [message.get("intent_ranking") for message in classifier.process(messages)]


QUESTIONS = ["does the laser hurt much", "what does it cost", "how many sessions", "painful?", "price please"]


def test_questions_get_their_intents(pipeline):
    _, featurized, classifier, training = pipeline
    trained = classifier()
    trained.train(training)
    assert [ranking[0]["name"] for ranking in read(trained, featurized, QUESTIONS)] == [
        "pain",
        "price",
        "sessions",
        "pain",
        "price",
    ]


@pytest.mark.parametrize(
    ("featurizer_weights", "lengths"),
    [({}, (1.0, 1.0, 1.0)), ({"characters": 0.3}, (1.0, 0.3, 1.0)), ({"meaning": 0.5}, (1.0, 1.0, 0.5))],
)
def test_each_featurizer_is_weighed_apart(pipeline, featurizer_weights, lengths):
    # Thousands of character n-grams must not drown the words: each featurizer's part of a message is scaled
    # to length one on its own, then to the weight the config gives it; the meaning comes at length one.
    _, featurized, classifier, training = pipeline
    trained = classifier(featurizer_weights=featurizer_weights)
    trained.train(training)
    features = trained._create_X(featurized([Message.build("how much pain is there really")], training=False))
    ends = np.cumsum([tfidf.n_features_in_ for tfidf in trained._tfidf])
    names = [*trained._featurizers, *trained._dense_featurizers]
    parts = dict(zip(names, np.split(features.toarray(), ends, axis=1), strict=True))
    assert set(parts) == {"words", "characters", "meaning"}
    assert parts["meaning"].shape == (1, 384)
    assert [np.linalg.norm(parts[name]) for name in ("words", "characters", "meaning")] == pytest.approx(lengths)


def test_a_saved_classifier_reads_messages_as_it_did_when_trained(pipeline):
    storage, featurized, classifier, training = pipeline
    trained = classifier()
    trained.train(training)
    loaded = TfidfLogisticRegressionClassifier.load(
        trained.config, storage, Resource("intents"), ExecutionContext(GraphSchema({}), node_name="intents")
    )
    assert read(loaded, featurized, QUESTIONS) == read(trained, featurized, QUESTIONS)


class Planted:
    """Any object a pickle could hold: loading one can run its code."""


def test_a_saved_file_holding_an_object_refuses_to_load(pipeline):
    # Upstream would start with an untrained classifier instead, and fail at the first message.
    storage, _, classifier, training = pipeline
    trained = classifier()
    trained.train(training)
    with storage.write_to(Resource("intents")) as model_dir:
        np.savez(model_dir / "intents.npz", featurizers=np.array([Planted()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        TfidfLogisticRegressionClassifier.load(
            trained.config, storage, Resource("intents"), ExecutionContext(GraphSchema({}), node_name="intents")
        )
