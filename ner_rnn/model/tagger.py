"""The sequence tagger network: token features -> recurrent encoder -> head."""

from __future__ import annotations

import torch
from torch import nn

from ner_rnn.config import ModelConfig
from ner_rnn.data.batching import Batch
from ner_rnn.model.embeddings import Embedder
from ner_rnn.model.encoder import RecurrentEncoder
from ner_rnn.model.heads import build_head


class TaggerNetwork(nn.Module):
    """Scores every tag for every token of a batch; built from the model config alone."""

    def __init__(self, config: ModelConfig, num_words: int, num_chars: int, num_tags: int):
        super().__init__()
        self.embedder = Embedder(config.embeddings, num_words, num_chars)
        self.encoder = RecurrentEncoder(config.encoder, self.embedder.output_size)
        self.feature_dropout = nn.Dropout(config.dropout)
        self.head = build_head(config.head.type, self.encoder.output_size, num_tags)

    def features(self, batch: Batch) -> torch.Tensor:
        """Encoder features: float (batch, time, encoder output), zero on padding."""
        x = self.embedder(batch)  # (batch, time, embedder output)
        x = self.encoder(x, batch.mask, batch.lengths)  # (batch, time, hidden * directions)
        return self.feature_dropout(x)

    def loss(self, batch: Batch) -> torch.Tensor:
        """Scalar training loss of a tagged batch."""
        return self.head.loss(self.features(batch), batch.tags, batch.mask)

    def decode(self, batch: Batch) -> list[list[int]]:
        """Best tag ids per sentence, each trimmed to its length."""
        best = self.head.decode(self.features(batch), batch.mask).tolist()  # (batch, time)
        return [row[:length] for row, length in zip(best, batch.lengths.tolist())]
