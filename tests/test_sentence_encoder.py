"""all-MiniLM-L6-v2 run in NumPy (bot/sentence_encoder.py): the numbers sentence-transformers publishes for the
model, a file that is not the published one refused by name, and any message, however long, one unit vector."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import sentence_encoder


@pytest.fixture(scope="module")
def encoder() -> sentence_encoder.SentenceEncoder:
    return sentence_encoder.load()


def test_similarities_are_the_ones_sentence_transformers_publishes(encoder):
    # sentence-transformers' README and quickstart, for this model and these three sentences.
    vectors = encoder.encode(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    published = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]
    assert vectors @ vectors.T == pytest.approx(np.array(published), abs=1e-4)


def test_questions_meaning_the_same_in_other_words_come_out_closer_than_another_topic(encoder):
    asked, same, other = encoder.encode(["will the laser sting", "does it hurt", "how many sessions"])
    assert asked @ same > asked @ other + 0.2


@pytest.mark.parametrize(
    "text", ["", "?!", "“curly quotes” — and dashes", "/restart", "laser " * 5000, "ça brûle après le laser"]
)
def test_any_message_is_one_unit_vector(encoder, text):
    (vector,) = encoder.encode([text])
    assert vector.shape == (sentence_encoder.DIMENSIONS,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_a_message_reads_the_same_alone_or_beside_others(encoder):
    # Read together, the texts' tokens share the dense layers but attend only within their own text.
    texts = ["a much longer message about sessions, prices and recovery times", "does it hurt", "hi"]
    alone = np.vstack([encoder.encode([text]) for text in texts])
    assert encoder.encode(texts) == pytest.approx(alone, abs=1e-6)
    assert encoder.encode(texts * 30) == pytest.approx(np.vstack([alone] * 30), abs=1e-6)


def test_a_changed_model_file_is_refused_by_name(tmp_path: Path):
    installed = sentence_encoder.model_dir()
    (tmp_path / "model.safetensors").symlink_to(installed / "model.safetensors")
    shutil.copy(installed / "tokenizer.json", tmp_path / "tokenizer.json")
    with (tmp_path / "tokenizer.json").open("a") as file:
        file.write(" ")
    with pytest.raises(ValueError, match=r"tokenizer\.json: not the published all-MiniLM-L6-v2 file.*make setup"):
        sentence_encoder.load(tmp_path)
