"""Token representations: word vectors, optional character CNN and casing features."""

from __future__ import annotations

import torch
from torch import nn

from ner_rnn.config import CharConfig, EmbeddingsConfig
from ner_rnn.data.batching import Batch
from ner_rnn.data.vocab import CASINGS

NEG_INF = float("-inf")


class CharCNN(nn.Module):
    """Characters -> convolution -> max over the word (Ma & Hovy, 2016)."""

    def __init__(self, config: CharConfig, num_chars: int):
        super().__init__()
        self.embedding = nn.Embedding(num_chars, config.dim, padding_idx=0)
        # zero padding of width // 2 keeps one output per character
        self.conv = nn.Conv1d(config.dim, config.filters, config.width, padding=config.width // 2)
        self.output_size = config.filters

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: long (words, chars), 0-padded -> float (words, filters)."""
        x = self.embedding(chars).transpose(1, 2)  # (words, dim, chars)
        h = self.conv(x)[:, :, : chars.size(1)]  # (words, filters, chars)
        h = h.masked_fill((chars == 0).unsqueeze(1), NEG_INF)  # padding never wins the max
        return h.max(dim=2).values  # (words, filters)


class Embedder(nn.Module):
    """Concatenates word, character and casing features of every token, then dropout."""

    def __init__(self, config: EmbeddingsConfig, num_words: int, num_chars: int):
        super().__init__()
        self.words = nn.Embedding(num_words, config.word.dim, padding_idx=0)
        self.chars = CharCNN(config.char, num_chars) if config.char.type == "cnn" else None
        self.casing = (nn.Embedding(len(CASINGS), config.casing_dim, padding_idx=0)
                       if config.casing_dim else None)
        self.dropout = nn.Dropout(config.dropout)
        self.output_size = (config.word.dim + (self.chars.output_size if self.chars else 0)
                            + (config.casing_dim or 0))

    def forward(self, batch: Batch) -> torch.Tensor:
        """float (batch, time, output_size); padding rows are whatever dropout leaves of 0."""
        parts = [self.words(batch.words)]  # (batch, time, word dim)
        if self.chars is not None:
            per_word = self.chars(batch.chars[batch.mask])  # (tokens, filters): real tokens only
            chars = per_word.new_zeros(batch.mask.shape + (per_word.size(1),))
            chars[batch.mask] = per_word  # (batch, time, filters)
            parts.append(chars)
        if self.casing is not None:
            parts.append(self.casing(batch.casing))  # (batch, time, casing dim)
        return self.dropout(torch.cat(parts, dim=-1))
